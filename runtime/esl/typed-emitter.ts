import { EventEmitter } from 'events';

/** Maps each event name to the tuple of arguments its listeners receive. */
export type EventMap = Record<string, unknown[]>;

/**
 * A minimal event emitter with typed event names and arguments. It never emits `error`, so a missing
 * listener can never crash the process.
 */
export class TypedEmitter<Events extends EventMap> {
  private readonly emitter = new EventEmitter();

  on<K extends keyof Events & string>(name: K, listener: (...args: Events[K]) => void): this {
    this.emitter.on(name, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof Events & string>(name: K, listener: (...args: Events[K]) => void): this {
    this.emitter.once(name, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof Events & string>(name: K, listener: (...args: Events[K]) => void): this {
    this.emitter.off(name, listener as (...args: unknown[]) => void);
    return this;
  }

  protected emit<K extends keyof Events & string>(name: K, ...args: Events[K]): void {
    this.emitter.emit(name, ...args);
  }
}
