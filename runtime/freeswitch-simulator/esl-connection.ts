import type { Socket } from 'node:net';
import type { CallSession } from './call-session';
import { EslCommand, EslCommandParser } from './esl-command-parser';
import { handleEslCommand } from './esl-commands';
import {
  AUTH_REQUEST_FRAME,
  GOODBYE_MESSAGE,
  disconnectNoticeFrame,
  eventFrame,
  lingerNoticeFrame,
} from './esl-frames';
import type { EventListener } from './event-bus';
import { serializeEvent } from './event-serializer';
import { EventSubscription } from './event-subscription';
import { FsEvent } from './fs-event';
import type { SimulatedCore } from './simulated-core';

/** How the `socket` application that opened an outbound connection was configured. */
export interface OutboundControl {
  readonly session: CallSession;
  readonly async: boolean;
  readonly full: boolean;
}

/**
 * One event-socket listener, inbound (a client connected to the switch) or outbound (the `socket`
 * application connected to call control). Commands are handled strictly one after another and events
 * are held back while a command is being handled, so replies arrive in command order and an `api`
 * response is never interleaved with events. When its channel hangs up an outbound connection says
 * goodbye and closes, or, when lingering, announces it and keeps delivering events.
 */
export class EslConnection implements EventListener {
  authed: boolean;
  /** Cleared by exit or a failed auth: the connection closes once the current reply is written. */
  running = true;
  myEvents = false;
  logging = false;
  /** Seconds to linger after the channel hangs up; -1 for "until the client leaves"; undefined: no linger. */
  lingerSeconds: number | undefined;
  boundSession: CallSession | undefined;
  readonly subscription = new EventSubscription();
  readonly finished: Promise<void>;
  /** Settles when call control has sent `connect`, or the connection is gone. */
  readonly connectedOrFinished: Promise<void>;
  private resolveFinished: () => void = () => undefined;
  private resolveConnected: () => void = () => undefined;
  private readonly parser = new EslCommandParser();
  private readonly queue: EslCommand[] = [];
  private heldFrames: string[] = [];
  private processing = false;
  private closed = false;
  private handledFirstCommand = false;
  private channelDownPending = false;
  private lingering = false;
  private cancelDeadline: (() => void) | undefined;
  private cancelLinger: (() => void) | undefined;

  constructor(private readonly socket: Socket, readonly core: SimulatedCore, readonly outbound?: OutboundControl) {
    this.authed = outbound !== undefined;
    this.boundSession = outbound?.session;
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
    this.connectedOrFinished = new Promise((resolve) => {
      this.resolveConnected = resolve;
    });
  }

  get isFinished(): boolean {
    return this.closed;
  }

  start(): void {
    this.core.connections.add(this);
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', () => this.socketGone());
    this.socket.on('close', () => this.socketGone());
    if (this.outbound === undefined) this.socket.write(AUTH_REQUEST_FRAME);
    this.cancelDeadline = this.core.scheduler.schedule(
      () => this.close(GOODBYE_MESSAGE),
      this.core.settings.commandTimeoutMs
    );
  }

  markConnected(): void {
    this.resolveConnected();
  }

  bindSession(session: CallSession): void {
    this.boundSession = session;
    session.controllers.add(this);
  }

  /** Registers with the event bus according to the current subscription (`myevents` narrows it to one call). */
  refreshEventRegistration(): void {
    if (this.closed) return;
    if (!this.subscription.enabled) {
      this.core.bus.detach(this);
      return;
    }
    const ownCall = this.myEvents && this.boundSession !== undefined ? this.boundSession.uuid : undefined;
    this.core.bus.attach(this, ownCall);
  }

  /** `noevents` also drops the events already queued for this listener. */
  dropHeldEvents(): void {
    this.heldFrames = [];
  }

  wantsEvent(eventName: string): boolean {
    return !this.closed && this.subscription.wants(eventName);
  }

  deliverEvent(event: FsEvent): void {
    if (this.closed) return;
    // `myevents UUID` naming no live call still restricts a listener to events that carry a Unique-ID.
    if (this.myEvents && this.boundSession === undefined && event.get('Unique-ID') === undefined) return;
    if (!this.subscription.passesFilters(event)) return;
    const format = this.subscription.format;
    const frame = eventFrame(format, serializeEvent(event, format));
    if (this.processing) this.heldFrames.push(frame);
    else this.socket.write(frame);
  }

  /** The controlled channel hung up. */
  channelDown(): void {
    if (this.closed || this.lingering) return;
    if (this.processing) {
      this.channelDownPending = true;
      return;
    }
    this.channelDownPending = false;
    const session = this.boundSession;
    if (this.lingerSeconds === undefined || session === undefined) {
      this.close(GOODBYE_MESSAGE);
      return;
    }
    this.lingering = true;
    this.socket.write(lingerNoticeFrame(session.uuid, session.channel.name, this.lingerSeconds));
    if (this.lingerSeconds >= 0) {
      this.cancelLinger = this.core.scheduler.schedule(() => this.close(GOODBYE_MESSAGE), this.lingerSeconds * 1000);
    }
  }

  /** Writes what is pending and a disconnect notice with `message`, then closes the socket. */
  close(message: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const frame of this.heldFrames) this.socket.write(frame);
    this.heldFrames = [];
    this.socket.write(disconnectNoticeFrame(message, this.boundSession?.uuid));
    this.socket.end(() => this.socket.destroy());
    this.cleanUp();
  }

  private socketGone(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.cleanUp();
  }

  private cleanUp(): void {
    this.cancelDeadline?.();
    this.cancelLinger?.();
    this.core.bus.detach(this);
    this.core.connections.delete(this);
    const session = this.boundSession;
    if (session !== undefined) {
      session.controllers.delete(this);
      session.wake();
    }
    this.resolveConnected();
    this.resolveFinished();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    const commands = this.parser.push(chunk);
    if (commands.length === 0) return;
    this.cancelDeadline?.();
    this.queue.push(...commands);
    this.pump();
  }

  private pump(): void {
    if (this.processing) return;
    this.processing = true;
    while (this.queue.length > 0 && !this.closed) {
      const command = this.queue.shift() as EslCommand;
      const result = handleEslCommand(this, command);
      if (result instanceof Promise) {
        result.then(
          (frame) => this.resume(command, frame),
          () => this.resume(command, undefined)
        );
        return;
      }
      this.finishCommand(command, result);
    }
    this.becomeIdle();
  }

  private resume(command: EslCommand, frame: string | undefined): void {
    this.finishCommand(command, frame);
    this.processing = false;
    this.pump();
  }

  private finishCommand(command: EslCommand, frame: string | undefined): void {
    if (this.closed) return;
    const firstCommand = !this.handledFirstCommand;
    this.handledFirstCommand = true;
    // An outbound listener handles the first packet before its main loop and only `connect` answers it.
    const reply = firstCommand && this.outbound !== undefined && !/^connect/i.test(command.line) ? undefined : frame;
    if (reply !== undefined) this.socket.write(reply);
    for (const held of this.heldFrames) this.socket.write(held);
    this.heldFrames = [];
    if (!this.running) this.close(GOODBYE_MESSAGE);
  }

  private becomeIdle(): void {
    this.processing = false;
    if (this.channelDownPending) this.channelDown();
  }
}
