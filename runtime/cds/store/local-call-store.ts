import { logIdOf, type CallEntry, type JsonValue } from '../call/call-entries';
import { CallLanes } from './call-lanes';
import { CallRecord } from '../call/call-record';
import type { CallTimestamps } from '../clock/call-timestamps';
import { callEnded, recordFull, unknownCall } from '../call/cds-errors';
import type { CallStore, StoredCall } from './cds-store';
import type { HlcTimestamp } from '../clock/hlc';
import { ownerOf } from '../call/identifiers';
import { entriesToStore } from '../call/last-writer-wins';
import { TrackedCall } from './tracked-call';
import { backoffDelayMs, type BackoffPolicy } from '../../esl/backoff';
import { errorMessage } from '../../shared/logger';
import type { CdsClock } from '../clock/cds-clock';
import type { CdsNodeLimits } from '../cds-limits';
import { OpenCallIndex } from './open-call-index';
import type { CursorWrites } from './cursor-writes';

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
  /** Cursors not saved yet: a call read back from the table takes them (its cursors there may lag). */
  readonly cursorWrites: Pick<CursorWrites, 'restore'>;
  readonly timestamps: CallTimestamps;
  /** Bound on the data of one call (it must fit in one peer message). */
  readonly maxCallBytes: number;
  readonly clock: CdsClock;
  readonly limits: Pick<CdsNodeLimits, 'maxOpenCalls' | 'maxCallsPerClient' | 'recoveryConcurrency' | 'recoveryAttempts'>;
  /** Delays between the reads of an open call that failed at start. */
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
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
 *
 * Bounded: the open calls (node-wide, and per local client) are counted in an index and refused beyond the
 * limits; the data of a call lives in memory only while it is used (`evictIdle`), and is read again from the
 * table when needed.
 */
export class LocalCallStore {
  private readonly calls = new Map<string, TrackedCall>();
  private readonly open: OpenCallIndex;
  /** Foreign calls evicted while the owner had answered their registration (the table only says `registered`). */
  private readonly confirmedUpstreams = new Set<string>();
  private readonly lanes = new CallLanes();
  private readonly pendingWrites = new Map<string, PendingWrite[]>();
  private readonly listeners = new Set<(change: CallChange) => void>();

  constructor(private readonly options: LocalCallStoreOptions) {
    this.open = new OpenCallIndex(options.limits);
  }

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
    return this.touch(this.calls.get(callId));
  }

  /** Calls open here (in memory or not). */
  get openCallCount(): number {
    return this.open.size;
  }

  /** Calls whose data is in memory. */
  get cachedCallCount(): number {
    return this.calls.size;
  }

  isOpen(callId: string): boolean {
    return this.open.has(callId);
  }

  openCallIds(): string[] {
    return this.open.ids();
  }

  /** Wall-clock ms when an open call was opened here. */
  openedAt(callId: string): number | undefined {
    return this.open.openedAt(callId);
  }

  /** Local clients registered for an open call. */
  clientsOf(callId: string): string[] {
    return this.open.clientsOf(callId);
  }

  /**
   * Loads the open calls after a (re)start, `recoveryConcurrency` at a time, each read retried up to
   * `recoveryAttempts` times. A call that cannot be read fails the recovery once no read is under way any more.
   */
  async recover(): Promise<TrackedCall[]> {
    const queue = await this.options.store.listOpenCalls();
    const loaded: TrackedCall[] = [];
    let failure: unknown;
    const worker = async (): Promise<void> => {
      for (let callId = queue.shift(); callId !== undefined && failure === undefined; callId = queue.shift()) {
        const id = callId;
        try {
          const call = await this.lanes.run(id, () => this.recoverCall(id));
          if (call) loaded.push(call);
        } catch (error) {
          failure ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: this.options.limits.recoveryConcurrency }, worker));
    if (failure !== undefined) throw failure;
    return loaded;
  }

  /** The call as held here; one not in memory is read from the table without being kept (reads do not grow the cache). */
  async find(callId: string): Promise<TrackedCall | undefined> {
    const cached = this.cached(callId);
    if (cached) return cached;
    const stored = await this.options.store.loadCall(callId);
    return stored ? this.fromTable(stored) : undefined;
  }

  /**
   * Visits the open calls `owner` owns, one at a time: those in memory first, as they are (the first one at
   * once, before anything else can change it), then the evicted ones as read from the table (not kept).
   */
  async forEachOpenCall(owner: string, visit: (call: TrackedCall) => Promise<void>): Promise<void> {
    const evicted: string[] = [];
    for (const callId of this.open.ids()) {
      if (ownerOf(callId) !== owner) continue;
      const cached = this.calls.get(callId);
      if (cached) await visit(cached);
      else evicted.push(callId);
    }
    for (const callId of evicted) {
      const call = await this.find(callId);
      if (call) await visit(call);
    }
  }

  /**
   * Drops from memory the calls untouched since `idleSince` (wall-clock ms), then the least recently used ones
   * while the data held passes `maxBytes`; only calls nothing is changing and whose state in the table is enough
   * to go on (not an ended call still finishing, nor a foreign call whose registration or own writes the owner
   * has not acknowledged). Returns how many left memory.
   */
  evict(idleSince: number, maxBytes: number): number {
    const candidates = [...this.calls.values()].filter((call) => this.evictable(call)).sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    let heldBytes = [...this.calls.values()].reduce((sum, call) => sum + call.record.byteSize, 0);
    let evicted = 0;
    for (const call of candidates) {
      if (call.lastUsedAt > idleSince && heldBytes <= maxBytes) break;
      if (call.upstream?.status === 'confirmed') this.confirmedUpstreams.add(call.callId);
      this.calls.delete(call.callId);
      heldBytes -= call.record.byteSize;
      evicted++;
    }
    return evicted;
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
      this.open.remove(callId);
      this.confirmedUpstreams.delete(callId);
    });
  }

  /** Registers a local client; refused (429) when it is registered for as many calls as it may be. */
  registerClient(callId: string, client: string): Promise<TrackedCall> {
    return this.lanes.run(callId, async () => {
      const known = await this.load(callId);
      if (known?.clients.has(client)) return known;
      this.open.checkRoomForClient(client);
      const call = await this.openOrCreate(callId, known);
      await this.options.store.putClient(callId, client);
      call.clients.add(client);
      this.open.addClient(callId, client);
      this.announce({ kind: 'interest', call });
      return call;
    });
  }

  unregisterClient(callId: string, client: string): Promise<void> {
    return this.lanes.run(callId, async () => {
      const call = await this.load(callId);
      if (!call?.clients.has(client)) return;
      await this.options.store.deleteClient(callId, client);
      call.clients.delete(client);
      this.open.removeClient(callId, client);
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
    const cached = this.cached(callId);
    if (cached) return cached;
    const stored = await this.options.store.loadCall(callId);
    if (!stored) return undefined;
    const call = this.fromTable(stored);
    this.confirmedUpstreams.delete(callId);
    this.calls.set(callId, call);
    return call;
  }

  /**
   * The call for a change: a closed one found in the table is listed as open again, so a restart resumes it.
   * Opening one more call than the node may hold is refused (503).
   */
  async loadOrCreate(callId: string): Promise<TrackedCall> {
    return this.openOrCreate(callId, await this.load(callId));
  }

  /** The call `existing` (as loaded), listed as open; or a new one when the table has none. */
  private async openOrCreate(callId: string, existing: TrackedCall | undefined): Promise<TrackedCall> {
    if (existing) {
      if (!existing.ended && !this.open.has(callId)) {
        this.open.checkRoomForCall(callId);
        await this.options.store.reopenCall(callId);
        // Its age counts from now: a call closed here and wanted again is not ended at once for its past.
        this.open.add(callId, this.options.clock.now(), existing.clients);
      }
      return existing;
    }
    this.open.checkRoomForCall(callId);
    const owner = ownerOf(callId);
    const openedAt = this.options.clock.now();
    await this.options.store.createCall({ callId, owner, state: 'active', openedAt });
    const call = this.touch(new TrackedCall(new CallRecord(callId, owner)));
    call.openedAt = openedAt;
    this.calls.set(callId, call);
    this.open.add(callId, openedAt, []);
    return call;
  }

  announce(change: CallChange): void {
    for (const listener of this.listeners) listener(change);
  }

  /** One open call at start: read (again after a failure), kept, and counted. */
  private async recoverCall(callId: string): Promise<TrackedCall | undefined> {
    const { recoveryAttempts } = this.options.limits;
    for (let attempt = 1; ; attempt++) {
      try {
        const call = await this.load(callId);
        if (call) this.open.add(callId, call.openedAt ?? this.options.clock.now(), call.clients);
        return call;
      } catch (error) {
        if (attempt >= recoveryAttempts) throw new Error(`could not read open call ${callId} (${recoveryAttempts} attempts): ${errorMessage(error)}`);
        const delayMs = backoffDelayMs(attempt - 1, this.options.backoff, this.options.random);
        await new Promise<void>((resolve) => this.options.clock.schedule(resolve, delayMs));
      }
    }
  }

  private fromTable(stored: StoredCall): TrackedCall {
    const call = this.touch(TrackedCall.fromStored(stored));
    this.options.cursorWrites.restore(call);
    if (call.upstream?.status === 'requested' && this.confirmedUpstreams.has(call.callId)) call.upstream = { ...call.upstream, status: 'confirmed' };
    return call;
  }

  /** Nothing is changing the call, and what only memory knows of it may be lost: the table (with the replication cursors) can rebuild it. */
  private evictable(call: TrackedCall): boolean {
    const { callId } = call;
    if (this.lanes.busy(callId) || this.pendingWrites.has(callId)) return false;
    if (!this.open.has(callId)) return true;
    if (call.ended) return false;
    if (this.isOwnerOf(call.callId)) return true;
    return call.upstream?.status !== 'requested' && call.record.entriesWrittenBy(this.site, call.upstream?.ackedTs ?? 0).length === 0;
  }

  private touch<T extends TrackedCall | undefined>(call: T): T {
    if (call) call.lastUsedAt = this.options.clock.now();
    return call;
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
