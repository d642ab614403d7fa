import { logIdOf, type CallEntry, type JsonValue } from './call-entries';
import { CallLanes } from './call-lanes';
import { CallRecord } from './call-record';
import { CdsRequestError, callEnded, notRegistered, recordFull, unknownCall } from './cds-errors';
import type { CallStore, StoredUpstream } from './cds-store';
import type { DeferredWrites } from './deferred-writes';
import { hlcAtMs, type HlcTimestamp } from './hlc';
import type { HybridClock } from './hybrid-clock';
import { ownerOf } from './identifiers';
import { entriesToStore } from './last-writer-wins';
import type { OwnerClockOffsets } from './owner-clock-offsets';
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
  readonly hlc: HybridClock;
  readonly offsets: OwnerClockOffsets;
  /** Bound on the data of one call (it must fit in one peer message). */
  readonly maxCallBytes: number;
  /** Where delivery cursors are saved, lagging behind memory. */
  readonly cursorWrites: DeferredWrites;
  /** How far ahead of the owner's clock a participant's stamp may be before the owner refuses it. */
  readonly maxAheadMs: number;
}

/** Raises a cursor of the upstream registration held in memory (its durable copy may lag, see DeferredWrites). */
function raiseUpstream(call: TrackedCall, cursor: 'receivedTs' | 'ackedTs', value: HlcTimestamp): void {
  const current = call.upstream;
  if (current) call.upstream = { ...current, [cursor]: Math.max(current[cursor], value) };
}

interface PendingWrite {
  readonly write: LocalWrite;
  readonly resolve: (entry: CallEntry) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The local CDS store: the calls this node holds, changed one call at a time (writes to a call that queue up
 * are stamped and stored together), persisted before anyone hears of a change.
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

  /** Loads the open calls after a (re)start; owned calls ended but still open are finishing again. */
  async recover(): Promise<TrackedCall[]> {
    const callIds = await this.options.store.listOpenCalls();
    const loaded = await Promise.all(callIds.map((callId) => this.lanes.run(callId, () => this.load(callId))));
    const open = loaded.filter((call): call is TrackedCall => call !== undefined);
    open.filter((call) => call.ended && this.isOwnerOf(call.callId)).forEach((call) => (call.finishing = true));
    return open;
  }

  /** The call as held here; one not in memory is read from the table without being kept (reads do not grow the cache). */
  async find(callId: string): Promise<TrackedCall | undefined> {
    const cached = this.calls.get(callId);
    if (cached) return cached;
    const stored = await this.options.store.loadCall(callId);
    return stored ? TrackedCall.fromStored(stored) : undefined;
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
        this.emit({ kind: 'interest', call });
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
      this.emit({ kind: 'interest', call });
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

  /**
   * Owner: a remote site registers (again); the reply holds what was recorded after its `since`, and the
   * participant's cursor moves past it (`upTo`) once the reply is sent.
   */
  registerParticipant(callId: string, site: string, since: HlcTimestamp | undefined): Promise<{ call: TrackedCall; entries: CallEntry[]; upTo: HlcTimestamp }> {
    return this.lanes.run(callId, async () => {
      const call = await this.loadOrCreate(callId);
      const ackedTs = call.ended ? 0 : (since ?? 0);
      if (!call.ended) {
        await this.options.store.putParticipant(callId, { site, ackedTs });
        call.participants.set(site, { ackedTs });
        this.emit({ kind: 'interest', call });
      }
      return { call, entries: call.record.entriesRecordedAfter(ackedTs), upTo: call.record.maxRecordedTs };
    });
  }

  /** Owner: a remote site unregistered, was found not registered, or expired. */
  removeParticipant(callId: string, site: string): Promise<void> {
    return this.lanes.run(callId, async () => {
      const call = await this.load(callId);
      if (!call?.participants.has(site)) return;
      await this.options.store.deleteParticipant(callId, site);
      call.participants.delete(site);
      this.emit({ kind: 'interest', call });
    });
  }

  /**
   * Owner: a participant's writes, stamped with their recording time; returns the highest write stamp
   * acknowledged. An ended call takes them until it is sealed: the other leg's hangup data races the end.
   */
  acceptParticipantWrites(callId: string, entries: readonly CallEntry[]): Promise<HlcTimestamp> {
    return this.lanes.run(callId, async () => {
      const limit = hlcAtMs(this.options.hlc.nowMs() + this.options.maxAheadMs);
      if (entries.some((entry) => entry.ts > limit)) {
        throw new CdsRequestError(409, `timestamps more than ${this.options.maxAheadMs} ms ahead of the owner's clock`, 'timestamp-ahead');
      }
      const held = await this.load(callId);
      if (held?.ended && !held.finishing) throw callEnded(callId);
      const call = await this.loadOrCreate(callId);
      const winners = entriesToStore(call.record, entries);
      const recorded: CallEntry[] = [];
      for (const entry of winners) {
        this.options.hlc.observe(entry.ts);
        recorded.push({ ...entry, recordedTs: await this.options.hlc.next() });
      }
      await this.storeAndApply(call, recorded);
      return Math.max(0, ...entries.map((entry) => entry.ts));
    });
  }

  /** Owner: a participant confirmed receipt up to `ackedTs`. */
  advanceParticipant(call: TrackedCall, site: string, ackedTs: HlcTimestamp): void {
    const cursor = call.participants.get(site);
    if (!cursor || cursor.ackedTs >= ackedTs) return;
    cursor.ackedTs = ackedTs;
    this.options.cursorWrites.set(`${call.callId}#S#${site}`, () => this.options.store.advanceParticipant(call.callId, site, ackedTs));
  }

  /** Owner: the end of call; from here on only participants' writes are taken, until the call is sealed. */
  endCall(callId: string): Promise<TrackedCall> {
    return this.lanes.run(callId, async () => {
      const call = await this.load(callId);
      if (!call) throw unknownCall(callId);
      if (call.ended) return call;
      await this.markEnded(call, await this.options.hlc.next());
      call.finishing = true;
      this.emit({ kind: 'ended', call });
      return call;
    });
  }

  /** Owner: the record of an ended call is final (about to be archived); later writes are refused. */
  seal(callId: string): Promise<void> {
    return this.lanes.run(callId, async () => {
      const call = await this.load(callId);
      if (call) call.finishing = false;
    });
  }

  /** Participant: records this node's registration state with the owner. */
  setUpstream(callId: string, status: StoredUpstream['status'], receivedTs?: HlcTimestamp): Promise<TrackedCall> {
    return this.lanes.run(callId, async () => {
      const call = await this.loadOrCreate(callId);
      const upstream: StoredUpstream = {
        status,
        receivedTs: receivedTs ?? call.upstream?.receivedTs ?? 0,
        ackedTs: call.upstream?.ackedTs ?? 0,
      };
      await this.options.store.putUpstream(callId, upstream);
      call.upstream = upstream;
      if (status === 'expired') this.emit({ kind: 'expired', call });
      return call;
    });
  }

  /** Participant: entries from the owner (a delta or a registration reply). */
  acceptOwnerEntries(callId: string, entries: readonly CallEntry[]): Promise<void> {
    return this.lanes.run(callId, async () => {
      const call = await this.load(callId);
      const upstream = call?.upstream;
      if (!call || upstream?.status !== 'registered') throw notRegistered(callId);
      await this.storeAndApply(call, entriesToStore(call.record, entries), { skipBudget: true });
      const receivedTs = Math.max(0, ...entries.map((entry) => entry.recordedTs ?? 0));
      if (receivedTs > upstream.receivedTs) {
        raiseUpstream(call, 'receivedTs', receivedTs);
        this.options.cursorWrites.set(`${callId}#U#receivedTs`, () => this.options.store.advanceUpstream(callId, 'receivedTs', receivedTs));
      }
    });
  }

  /** Participant: the owner acknowledged this node's writes up to `ackedTs`. */
  advanceUpstreamAcked(call: TrackedCall, ackedTs: HlcTimestamp): void {
    if (!call.upstream || call.upstream.ackedTs >= ackedTs) return;
    raiseUpstream(call, 'ackedTs', ackedTs);
    this.options.cursorWrites.set(`${call.callId}#U#ackedTs`, () => this.options.store.advanceUpstream(call.callId, 'ackedTs', ackedTs));
  }

  /**
   * Participant: the owner is ending the call. Local writes are refused from here on; returns this site's writes
   * the owner has not acknowledged, which it takes before sealing the record. Repeating it is harmless.
   */
  beginOwnerEnd(callId: string, endedTs: HlcTimestamp): Promise<CallEntry[]> {
    return this.lanes.run(callId, async () => {
      const call = await this.load(callId);
      if (!call) return [];
      if (!call.ended) await this.markEnded(call, endedTs);
      return call.record.entriesWrittenBy(this.site, call.upstream?.ackedTs ?? 0);
    });
  }

  /** Participant: the owner has sent everything of the sealed record; local clients hear of the end. */
  finishOwnerEnd(callId: string, endedTs: HlcTimestamp): Promise<void> {
    return this.lanes.run(callId, async () => {
      const call = await this.load(callId);
      if (!call) return;
      if (!call.ended) await this.markEnded(call, endedTs);
      this.emit({ kind: 'ended', call });
    });
  }

  /** Participant: the owner's final record replaces what is held here, including own writes it never got. */
  acceptOwnerEnd(callId: string, endedTs: HlcTimestamp, entries: readonly CallEntry[]): Promise<void> {
    return this.lanes.run(callId, async () => {
      const call = await this.load(callId);
      if (!call || call.ended) return;
      await this.options.store.replaceEntries(callId, entries, call.record.entries());
      call.record.replaceAll(entries);
      await this.markEnded(call, endedTs);
      this.emit({ kind: 'ended', call });
    });
  }

  /** Stores the end of a call, then records it in memory. */
  private async markEnded(call: TrackedCall, endedTs: HlcTimestamp): Promise<void> {
    await this.options.store.markEnded(call.callId, endedTs);
    call.record.state = 'ended';
    call.record.endedTs = endedTs;
  }

  /**
   * Participant: the owner refused this node's stamps as too far ahead (our offset to it was unknown or
   * wrong). Own unacknowledged writes get new stamps on the corrected clock; everything else is fetched
   * again, since entries of others may have lost to the bad stamps here.
   */
  restampOwnWrites(callId: string): Promise<void> {
    return this.lanes.run(callId, async () => {
      const call = await this.load(callId);
      const upstream = call?.upstream;
      if (!call || !upstream || call.ended) return;
      const pending = call.record.entriesWrittenBy(this.site, upstream.ackedTs);
      const pendingSet = new Set<CallEntry>(pending);
      let floor = upstream.ackedTs;
      const restamped = pending.map((entry): CallEntry => {
        const ts = Math.max(this.options.offsets.ownerNow(call.owner), floor + 1);
        floor = ts;
        return entry.kind === 'log' ? { ...entry, ts, id: logIdOf(ts, this.site) } : { ...entry, ts };
      });
      const final = [...call.record.entries().filter((entry) => !pendingSet.has(entry)), ...restamped];
      await this.options.store.replaceEntries(callId, final, call.record.entries());
      call.record.replaceAll(final);
      this.options.cursorWrites.discard(`${callId}#U#receivedTs`);
      const resync: StoredUpstream = { ...upstream, receivedTs: 0 };
      await this.options.store.putUpstream(callId, resync);
      call.upstream = resync;
      this.emit({ kind: 'entries', call, entries: restamped });
    });
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
        const entry = await this.stampLocal(call, write, floor);
        floor = entry.ts;
        entries.push(entry);
      }
      await this.storeAndApply(call, entriesToStore(call.record, entries));
      batch.forEach((pending, index) => pending.resolve(entries[index]));
    } catch (error) {
      batch.forEach((pending) => pending.reject(error));
    }
  }

  private async stampLocal(call: TrackedCall, write: LocalWrite, floor: HlcTimestamp): Promise<CallEntry> {
    const owned = call.owner === this.site;
    let ts: HlcTimestamp;
    if (owned) {
      this.options.hlc.observe(floor);
      ts = await this.options.hlc.next();
    } else {
      ts = Math.max(this.options.offsets.ownerNow(call.owner), floor + 1);
    }
    const recordedTs = owned ? ts : undefined;
    const stamp = { ts, site: this.site, ...(recordedTs === undefined ? {} : { recordedTs }) };
    return write.kind === 'property' ? { kind: 'property', name: write.name, value: write.value, ...stamp } : { kind: 'log', id: logIdOf(ts, this.site), entry: write.entry, ...stamp };
  }

  private async storeAndApply(call: TrackedCall, entries: readonly CallEntry[], { skipBudget = false } = {}): Promise<void> {
    if (entries.length === 0) return;
    if (!skipBudget) {
      const probe = new CallRecord(call.callId, call.owner);
      probe.apply(entries);
      if (call.record.byteSize + probe.byteSize > this.options.maxCallBytes) throw recordFull(call.callId, this.options.maxCallBytes);
    }
    await this.options.store.storeEntries(call.callId, entries);
    call.record.apply(entries);
    this.emit({ kind: 'entries', call, entries });
  }

  private async load(callId: string): Promise<TrackedCall | undefined> {
    const cached = this.calls.get(callId);
    if (cached) return cached;
    const stored = await this.options.store.loadCall(callId);
    if (!stored) return undefined;
    const call = TrackedCall.fromStored(stored);
    this.calls.set(callId, call);
    return call;
  }

  /** The call for a change: a closed one found in the table is listed as open again, so a restart resumes it. */
  private async loadOrCreate(callId: string): Promise<TrackedCall> {
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

  private emit(change: CallChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
