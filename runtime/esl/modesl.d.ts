// Types for the part of drachtio-modesl 1.3.1 (installed as `modesl`) that runtime/esl uses; the package ships none.
// Only runtime/esl may import 'modesl'.
declare module 'modesl' {
  import type { Socket } from 'net';

  export interface EventHeader {
    name: string;
    /** Strings, except Content-Length (a number) and, in JSON events, whatever FreeSWITCH put there. */
    value: unknown;
  }

  export class Event {
    headers: EventHeader[];
    getHeader(name: string): unknown;
    getBody(): string;
  }

  /** modesl's frame parser; runtime/esl replaces these methods on each instance (see modesl-hardening.ts). */
  export interface Parser {
    /** Bytes received but not parsed yet. */
    buffer: Buffer;
    /** Length of the body being awaited, 0 while reading headers. */
    bodyLen: number;
    /** Turns a header block into a map; the original throws on a stray `%`. */
    _parseHeaderText: (text: string) => Record<string, string | number>;
    /** Parses frames from `buffer`, emitting each; called from the socket's 'data' handler. */
    _parseHeaders: () => void;
    _parseBody: () => void;
    /** The headers (and `_body`) of an event-plain body; `text` is undefined when the frame has no body. */
    _parsePlainBody: (text: string | undefined) => Record<string, unknown>;
    _parseXmlBody: (text: string | undefined) => Record<string, unknown>;
  }

  type ReplyCallback = (reply: Event) => void;

  export class Connection {
    /** Inbound: connects to FreeSWITCH and authenticates with `password` when greeted. */
    constructor(host: string, port: number, password: string);
    /** Outbound: adopts a socket FreeSWITCH opened to us and sends `connect`. */
    constructor(socket: Socket);

    socket: Socket | null;
    parser?: Parser;
    /** When true, modesl does not start its own reconnect loop after an error or close. */
    closing?: boolean;

    /** Sends `api command`; callbacks are matched to api/response messages by position. */
    api(command: string, callback: ReplyCallback): void;
    /** Sends a command with optional headers; callbacks are matched to command/reply messages by position. */
    sendRecv(command: string, headers: Record<string, string>, callback: ReplyCallback): void;
    /** Writes a command without expecting a reply callback. */
    send(command: string): void;
    /** Outbound only: the CHANNEL_DATA reply to `connect`. */
    getInfo(): Event | null;

    on(name: 'error', listener: (error: Error) => void): this;
    on(name: 'esl::connect', listener: () => void): this;
    /** Every parsed message; `headers` (the outer frame headers) is absent for modesl's own synthetic events. */
    on(name: 'esl::event::**', listener: (event: Event, headers?: Record<string, unknown>) => void): this;
    once(name: 'esl::ready', listener: () => void): this;
    once(name: 'esl::event::auth::fail', listener: (reply: Event) => void): this;
  }
}
