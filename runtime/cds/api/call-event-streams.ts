import type { ServerResponse } from 'http';
import type { CdsClock } from '../clock/cds-clock';
import { entriesView, type CallView } from '../call/call-record';
import type { CallChange, LocalCallStore } from '../store/local-call-store';

/**
 * The callback to local clients: server-sent events per call. `snapshot` first (the call as held here, or
 * null), then `update` with the changed entries, `ended` with the final record, `expired` when this site's
 * registration with the owner lapsed. Comments keep idle connections open through proxies.
 */
export class CallEventStreams {
  private readonly streams = new Map<string, Set<ServerResponse>>();
  private cancelKeepAlive?: () => void;

  constructor(
    calls: LocalCallStore,
    private readonly clock: CdsClock,
    private readonly keepAliveMs: number,
  ) {
    calls.onChange((change) => this.onChange(change));
    this.scheduleKeepAlive();
  }

  open(callId: string, response: ServerResponse, snapshot: CallView | undefined): void {
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    write(response, 'snapshot', snapshot ?? null);
    const streams = this.streams.get(callId) ?? new Set<ServerResponse>();
    streams.add(response);
    this.streams.set(callId, streams);
    response.on('close', () => {
      streams.delete(response);
      if (streams.size === 0 && this.streams.get(callId) === streams) this.streams.delete(callId);
    });
  }

  get openStreams(): number {
    return [...this.streams.values()].reduce((sum, streams) => sum + streams.size, 0);
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
    const [event, data] =
      change.kind === 'entries'
        ? (['update', { callId, ...entriesView(change.entries) }] as const)
        : change.kind === 'ended'
          ? (['ended', change.call.record.view()] as const)
          : (['expired', { callId, owner }] as const);
    streams.forEach((response) => write(response, event, data));
  }

  private scheduleKeepAlive(): void {
    this.cancelKeepAlive = this.clock.schedule(() => {
      this.streams.forEach((streams) => streams.forEach((response) => response.write(': keep-alive\n\n')));
      this.scheduleKeepAlive();
    }, this.keepAliveMs);
  }
}

function write(response: ServerResponse, event: string, data: unknown): void {
  response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
