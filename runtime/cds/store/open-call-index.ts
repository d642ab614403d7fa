import { CdsRequestError } from '../call/cds-errors';

interface OpenCall {
  /** Wall-clock ms when the call was first opened here (its age is counted from it). */
  readonly openedAt: number;
  readonly clients: Set<string>;
}

/**
 * The calls open at this node, held in memory whether or not their data is (a few bytes each), with the local
 * clients registered for each: what the node-wide and per-client bounds are checked against, and what the
 * sweeper ages. The table stays the record of both; this index is rebuilt from it at start.
 */
export class OpenCallIndex {
  private readonly calls = new Map<string, OpenCall>();
  private readonly callsPerClient = new Map<string, number>();

  constructor(private readonly limits: { readonly maxOpenCalls: number; readonly maxCallsPerClient: number }) {}

  get size(): number {
    return this.calls.size;
  }

  has(callId: string): boolean {
    return this.calls.has(callId);
  }

  ids(): string[] {
    return [...this.calls.keys()];
  }

  openedAt(callId: string): number | undefined {
    return this.calls.get(callId)?.openedAt;
  }

  clientsOf(callId: string): string[] {
    return [...(this.calls.get(callId)?.clients ?? [])];
  }

  /** Throws (503) unless one more call may open. */
  checkRoomForCall(callId: string): void {
    if (this.calls.size >= this.limits.maxOpenCalls) {
      throw new CdsRequestError(503, `call ${callId} refused: this node holds ${this.limits.maxOpenCalls} open calls, its limit`, 'too-many-calls');
    }
  }

  /** Throws (429) unless `client` may be registered for one more call. */
  checkRoomForClient(client: string): void {
    if ((this.callsPerClient.get(client) ?? 0) >= this.limits.maxCallsPerClient) {
      throw new CdsRequestError(429, `client ${client} is registered for ${this.limits.maxCallsPerClient} open calls, its limit`, 'too-many-registrations');
    }
  }

  /** Records an open call (at start, or once it is stored as open) with the clients registered for it. */
  add(callId: string, openedAt: number, clients: Iterable<string>): void {
    if (this.calls.has(callId)) return;
    this.calls.set(callId, { openedAt, clients: new Set() });
    for (const client of clients) this.addClient(callId, client);
  }

  remove(callId: string): void {
    for (const client of this.clientsOf(callId)) this.removeClient(callId, client);
    this.calls.delete(callId);
  }

  addClient(callId: string, client: string): void {
    const clients = this.calls.get(callId)?.clients;
    if (!clients || clients.has(client)) return;
    clients.add(client);
    this.callsPerClient.set(client, (this.callsPerClient.get(client) ?? 0) + 1);
  }

  removeClient(callId: string, client: string): void {
    const clients = this.calls.get(callId)?.clients;
    if (!clients?.delete(client)) return;
    const left = (this.callsPerClient.get(client) ?? 1) - 1;
    if (left > 0) this.callsPerClient.set(client, left);
    else this.callsPerClient.delete(client);
  }
}
