import { FsEvent } from './fs-event';

export interface EventListener {
  wantsEvent(eventName: string): boolean;
  deliverEvent(event: FsEvent): void;
}

/**
 * Routes fired events to listeners. Listeners restricted to one call (`myevents`) are indexed by that
 * call's uuid, so a busy switch with a thousand call-control sockets does not scan them all per event.
 */
export class EventBus {
  private readonly everywhere = new Set<EventListener>();
  private readonly byCall = new Map<string, Set<EventListener>>();
  private readonly placement = new Map<EventListener, string | undefined>();

  /** Registers `listener` for all calls, or only for `callUuid`. */
  attach(listener: EventListener, callUuid?: string): void {
    this.detach(listener);
    this.placement.set(listener, callUuid);
    if (callUuid === undefined) {
      this.everywhere.add(listener);
      return;
    }
    let listeners = this.byCall.get(callUuid);
    if (listeners === undefined) {
      listeners = new Set();
      this.byCall.set(callUuid, listeners);
    }
    listeners.add(listener);
  }

  detach(listener: EventListener): void {
    if (!this.placement.has(listener)) return;
    const callUuid = this.placement.get(listener);
    this.placement.delete(listener);
    if (callUuid === undefined) {
      this.everywhere.delete(listener);
      return;
    }
    const listeners = this.byCall.get(callUuid);
    listeners?.delete(listener);
    if (listeners?.size === 0) this.byCall.delete(callUuid);
  }

  /** Whether anyone would receive an event of this type about these calls (so building it is worth it). */
  hasInterest(eventName: string, callUuids: readonly string[]): boolean {
    for (const listener of this.everywhere) if (listener.wantsEvent(eventName)) return true;
    for (const callUuid of callUuids) {
      const listeners = this.byCall.get(callUuid);
      if (listeners === undefined) continue;
      for (const listener of listeners) if (listener.wantsEvent(eventName)) return true;
    }
    return false;
  }

  publish(event: FsEvent, callUuids: readonly string[]): void {
    for (const listener of this.everywhere) if (listener.wantsEvent(event.name)) listener.deliverEvent(event);
    for (const callUuid of callUuids) {
      const listeners = this.byCall.get(callUuid);
      if (listeners === undefined) continue;
      for (const listener of listeners) if (listener.wantsEvent(event.name)) listener.deliverEvent(event);
    }
  }
}
