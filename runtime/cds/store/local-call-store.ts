import { logIdOf, type CallEntry, type JsonValue } from '../call/call-entries';
import { CallLanes } from './call-lanes';
import { CallRecord } from '../call/call-record';
import type { CallTimestamps } from '../clock/call-timestamps';
import { callEnded, recordFull, unknownCall } from '../call/cds-errors';
import type { CallStore } from './cds-store';
import type { HlcTimestamp } from '../clock/hlc';
import { ownerOf } from '../call/identifiers';
import { entriesToStore } from '../call/last-writer-wins';
import { TrackedCall } from './tracked-call';

export type LocalWrite = { readonly kind: 'property'; readonly name: string; readonly value: JsonValue } | { readonly kind: 'log'; readonly entry: JsonValue };

/** What local clients (SSE streams) and the network proxy hear about. */
export type CallChange =
  | { readonly kind: 'entries'; readonly call: TrackedCall; readonly entries: readonly CallEntry[] }
  | { readonly kind: 'ended'; readonly call: TrackedCall }
  | { readonly kind: 'interest'; readonly call: TrackedCall }
  | { readonly kind: 'expired'; readonly call: TrackedCall };

export interface LocalCallStoreOptions {
  readonly site: string;
  readonly store: CallStore;
  readonly timestamps: CallTimestamps;
  /** Bound on the data of one call (it must fit in one peer message). */
  readonly maxCallBytes: number;
}

interface PendingWrite {
  readonly write: LocalWrite;
  readonly resolve: (entry: CallEntry) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The local CDS store: the calls this node holds, changed one call at a time (writes to a call that queue up
 * are stamped and stored together), persisted before anyone hears of a change. It serves local clients and
 * the end of call; owner and participant replication change calls through its lanes (`inLane`).
 */
export class LocalCallStore {
  private readonly calls = new Map<string, TrackedCall>();
  private readonly lanes = new CallLanes();
  private readonly pendingWrites = new Map<string, PendingWrite[]>();
  private readonly listeners = new Set<(change: CallChange) => void>();

  constructor(private readonly options: LocalCallStoreOptions) {}

  get site(): string {
    return this.options.site;
  }

  /** The table, for the replication modules' changes inside a lane. */
  get store(): CallStore {
    return this.options.store;
  }

  onChange(listener: (change: CallChange) => void): void {
    this.listeners.add(listener);
  }

  isOwnerOf(callId: string): boolean {
    return ownerOf(callId) === this.site;
  }

  cached(callId: string): TrackedCall | undefined {
    return this.calls.get(callId);
  }

  cachedCalls(): TrackedCall[] {
    return [...this.calls.values()];
  }

  /** Loads the open calls after a (re)start. */
  async recover(): Promise<TrackedCall[]> {
    const callIds = await this.options.store.listOpenCalls();
    const loaded = await Promise.all(callIds.map((callId) => this.lanes.run(callId, () => this.load(callId))));
    return loaded.filter((call): call is TrackedCall => call !== undefined);
  }

  /** The call as held here; one not in memory is read from the table without being kept (reads do not grow the cache). */
  async find(callId: string): Promise<TrackedCall | undefined> {
    const cached = this.calls.get(callId);
    if (cached) return cached;
    const stored = await this.options.store.loadCall(callId);
    return stored ? TrackedCall.fromStored(stored) : undefined;
  }

  /** Runs a change of one call after the changes submitted before it, and before those submitted after. */
  inLane<T>(callId: string, change: () => Promise<T>): Promise<T> {
    return this.lanes.run(callId, change);
  }

  /** Resolves once every change submitted so far is stored. */
  idle(): Promise<void> {
    return this.lanes.idle();
  }

  /** Drops a finished call from the open calls and the cache. */
  close(callId: string): Promise<void> {
    return this.lanes.run(callId, async () => {
      await this.options.store.closeCall(callId);
      this.calls.delete(callId);
    });
  }

  registerClient(callId: string, client: string): Promise<TrackedCall> {
    return this.lanes.run(callId, async () => {
      const call = await this.loadOrCreate(callId);
      if (!call.clients.has(client)) {
        await this.options.store.putClient(callId, client);
        call.clients.add(client);
        this.announce({ kind: 'interest', call });
      }
      return call;
    });
  }

  unregisterClient(callId: string, client: string): Promise<void> {
    return this.lanes.run(callId, async () => {
      const call = await this.load(callId);
      if (!call?.clients.has(client)) return;
      await this.options.store.deleteClient(callId, client);
      call.clients.delete(client);
      this.announce({ kind: 'interest', call });
    });
  }

  /** A local client's write, stamped here: by the owner's clock, or (foreign call) the owner's simulated clock. */
  write(callId: string, write: LocalWrite): Promise<CallEntry> {
    return new Promise((resolve, reject) => {
      const queued = this.pendingWrites.get(callId);
      if (queued) {
        queued.push({ write, resolve, reject });
        return;
      }
      this.pendingWrites.set(callId, [{ write, resolve, reject }]);
      this.lanes.run(callId, () => this.flushWrites(callId)).catch(() => undefined);
    });
  }

  /** Owner: the end of call; from here on only participants' writes are taken, until the call is sealed. */
  endCall(callId: string): Promise<TrackedCall> {
    return this.lanes.run(callId, async () => {
      const call = await this.load(callId);
      if (!call) throw unknownCall(callId);
      if (call.ended) return call;
      await this.markEnded(call, await this.options.timestamps.next());
      call.finishing = true;
      this.announce({ kind: 'ended', call });
      return call;
    });
  }

  /** Owner: the record of an ended call is final (about to be archived); later writes amend it (see OwnerReplication). */
  seal(callId: string): Promise<void> {
    return this.lanes.run(callId, async () => {
      const call = await this.load(callId);
      if (call) call.finishing = false;
    });
  }

  // --- for the replication modules, inside a lane ---

  /** Stores the end of a call, then records it in memory. */
  async markEnded(call: TrackedCall, endedTs: HlcTimestamp): Promise<void> {
    await this.options.store.markEnded(call.callId, endedTs);
    call.record.state = 'ended';
    call.record.endedTs = endedTs;
  }

  /** Stores entries known to win, applies them, and tells the listeners; a call over its byte budget refuses them. */
  async storeAndApply(call: TrackedCall, entries: readonly CallEntry[], { skipBudget = false } = {}): Promise<void> {
    if (entries.length === 0) return;
    if (!skipBudget) {
      const probe = new CallRecord(call.callId, call.owner);
      probe.apply(entries);
      if (call.record.byteSize + probe.byteSize > this.options.maxCallBytes) throw recordFull(call.callId, this.options.maxCallBytes);
    }
    await this.options.store.storeEntries(call.callId, entries);
    call.record.apply(entries);
    this.announce({ kind: 'entries', call, entries });
  }

  /** The call held here, kept in memory from now on; undefined if the table has none. */
  async load(callId: string): Promise<TrackedCall | undefined> {
    const cached = this.calls.get(callId);
    if (cached) return cached;
    const stored = await this.options.store.loadCall(callId);
    if (!stored) return undefined;
    const call = TrackedCall.fromStored(stored);
    this.calls.set(callId, call);
    return call;
  }

  /** The call for a change: a closed one found in the table is listed as open again, so a restart resumes it. */
  async loadOrCreate(callId: string): Promise<TrackedCall> {
    const wasCached = this.calls.has(callId);
    const existing = await this.load(callId);
    if (existing) {
      if (!wasCached && !existing.ended) await this.options.store.reopenCall(callId);
      return existing;
    }
    const owner = ownerOf(callId);
    await this.options.store.createCall({ callId, owner, state: 'active' });
    const call = new TrackedCall(new CallRecord(callId, owner));
    this.calls.set(callId, call);
    return call;
  }

  announce(change: CallChange): void {
    for (const listener of this.listeners) listener(change);
  }

  private async flushWrites(callId: string): Promise<void> {
    const batch = this.pendingWrites.get(callId) ?? [];
    this.pendingWrites.delete(callId);
    try {
      const call = await this.loadOrCreate(callId);
      if (call.ended) throw callEnded(callId);
      const entries: CallEntry[] = [];
      let floor = call.record.maxTs;
      for (const { write } of batch) {
        const stamp = { ...(await this.options.timestamps.stampLocalWrite(call.owner, floor)), site: this.site };
        floor = stamp.ts;
        entries.push(write.kind === 'property' ? { kind: 'property', name: write.name, value: write.value, ...stamp } : { kind: 'log', id: logIdOf(stamp.ts, this.site), entry: write.entry, ...stamp });
      }
      await this.storeAndApply(call, entriesToStore(call.record, entries));
      batch.forEach((pending, index) => pending.resolve(entries[index]));
    } catch (error) {
      batch.forEach((pending) => pending.reject(error));
    }
  }
}
