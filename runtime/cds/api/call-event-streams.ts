import type { ServerResponse } from 'http';
import type { Logger } from '../../shared/logger';
import type { CdsClock } from '../clock/cds-clock';
import { entriesView, type CallView } from '../call/call-record';
import { CdsRequestError } from '../call/cds-errors';
import type { CdsNodeLimits } from '../cds-limits';
import type { CallChange, LocalCallStore } from '../store/local-call-store';

export interface CallEventStreamsOptions {
  readonly clock: CdsClock;
  readonly keepAliveMs: number;
  readonly limits: Pick<CdsNodeLimits, 'maxEventStreams' | 'maxEventStreamsPerCall' | 'maxEventStreamBufferedBytes'>;
  readonly logger: Logger;
}

/**
 * The callback to local clients: server-sent events per call. `snapshot` first (the call as held here, or
 * null), then `update` with the changed entries, `ended` with the final record, `expired` when this site's
 * registration with the owner lapsed. Comments keep idle connections open through proxies.
 *
 * Bounded: streams per call and per node are capped, and a client that stops reading is dropped once the bytes
 * waiting for it pass `maxEventStreamBufferedBytes` (it reconnects and starts again from a snapshot); keep-alives
 * are not queued behind a congested stream.
 */
export class CallEventStreams {
  private readonly streams = new Map<string, Set<ServerResponse>>();
  private cancelKeepAlive?: () => void;
  private dropped = 0;

  constructor(
    calls: LocalCallStore,
    private readonly options: CallEventStreamsOptions,
  ) {
    calls.onChange((change) => this.onChange(change));
    this.scheduleKeepAlive();
  }

  /** Throws (503 for the node, 429 for the call) unless one more stream of the call may open. */
  checkRoom(callId: string): void {
    const { maxEventStreams, maxEventStreamsPerCall } = this.options.limits;
    if (this.openStreams >= maxEventStreams) throw new CdsRequestError(503, `this node serves ${maxEventStreams} event streams, its limit`, 'too-many-streams');
    if ((this.streams.get(callId)?.size ?? 0) >= maxEventStreamsPerCall) {
      throw new CdsRequestError(429, `call ${callId} has ${maxEventStreamsPerCall} event streams, its limit`, 'too-many-streams');
    }
  }

  open(callId: string, response: ServerResponse, snapshot: CallView | undefined): void {
    this.checkRoom(callId);
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    const streams = this.streams.get(callId) ?? new Set<ServerResponse>();
    streams.add(response);
    this.streams.set(callId, streams);
    response.on('close', () => {
      streams.delete(response);
      if (streams.size === 0 && this.streams.get(callId) === streams) this.streams.delete(callId);
    });
    this.send(callId, response, event('snapshot', snapshot ?? null));
  }

  get openStreams(): number {
    return [...this.streams.values()].reduce((sum, streams) => sum + streams.size, 0);
  }

  /** Bytes written to the streams that their clients have not taken yet. */
  get bufferedBytes(): number {
    return [...this.streams.values()].reduce((sum, streams) => [...streams].reduce((bytes, response) => bytes + response.writableLength, sum), 0);
  }

  /** Streams dropped because their client stopped reading. */
  get droppedStreams(): number {
    return this.dropped;
  }

  closeAll(): void {
    this.cancelKeepAlive?.();
    this.cancelKeepAlive = undefined;
    this.streams.forEach((streams) => streams.forEach((response) => response.end()));
    this.streams.clear();
  }

  private onChange(change: CallChange): void {
    const streams = this.streams.get(change.call.callId);
    if (!streams || change.kind === 'interest') return;
    const { callId, owner } = change.call;
    const text =
      change.kind === 'entries'
        ? event('update', { callId, ...entriesView(change.entries) })
        : change.kind === 'ended'
          ? event('ended', change.call.record.view())
          : event('expired', { callId, owner });
    streams.forEach((response) => this.send(callId, response, text));
  }

  /** Writes an event, unless its client has left more than the bound unread: then the stream is dropped. */
  private send(callId: string, response: ServerResponse, text: string): void {
    if (response.destroyed) return;
    if (response.writableLength > this.options.limits.maxEventStreamBufferedBytes) {
      this.dropped++;
      this.options.logger.warn('event-stream client stopped reading; dropping its stream', { callId, bufferedBytes: response.writableLength });
      response.destroy();
      return;
    }
    response.write(text);
  }

  private scheduleKeepAlive(): void {
    this.cancelKeepAlive = this.options.clock.schedule(() => {
      this.streams.forEach((streams) =>
        streams.forEach((response) => {
          if (!response.writableNeedDrain) response.write(': keep-alive\n\n');
        }),
      );
      this.scheduleKeepAlive();
    }, this.options.keepAliveMs);
  }
}

function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
