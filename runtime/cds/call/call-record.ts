import type { CallEntry, JsonValue, LogEntry, PropertyEntry } from './call-entries';
import type { HlcTimestamp } from '../clock/hlc';
import type { HeldEntries } from './last-writer-wins';

export type CallState = 'active' | 'ended';

/** Entries as local clients see them: properties by name, log entries in write order. */
export interface EntriesView {
  readonly properties: Record<string, { value: JsonValue; ts: HlcTimestamp; site: string }>;
  readonly logs: Array<{ id: string; ts: HlcTimestamp; site: string; entry: JsonValue }>;
}

/** The call as the local API shows it (`GET /v1/calls/{callId}`). */
export interface CallView extends EntriesView {
  readonly callId: string;
  readonly owner: string;
  readonly state: CallState;
}

export function entriesView(entries: readonly CallEntry[]): EntriesView {
  const properties: EntriesView['properties'] = {};
  const byName = entries.filter((entry) => entry.kind === 'property').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of byName) properties[entry.name] = { value: entry.value, ts: entry.ts, site: entry.site };
  const logs = entries.filter((entry) => entry.kind === 'log').sort(compareLogs);
  return { properties, logs: logs.map((log) => ({ id: log.id, ts: log.ts, site: log.site, entry: log.entry })) };
}

/** Sizes of entries already measured: an entry is measured when checked against the budget, applied and replaced. */
const measuredBytes = new WeakMap<CallEntry, number>();

/** An entry's size as peer messages carry it: stamps and names count, so many small entries still fit the body limit. */
function entryBytes(entry: CallEntry): number {
  let bytes = measuredBytes.get(entry);
  if (bytes === undefined) measuredBytes.set(entry, (bytes = Buffer.byteLength(JSON.stringify(entry))));
  return bytes;
}

/** Log entries in write order. */
function compareLogs(a: LogEntry, b: LogEntry): number {
  return a.ts - b.ts || (a.site < b.site ? -1 : a.site > b.site ? 1 : 0);
}

/** The data held for one call on this node: properties (latest write each) and log entries (once each). */
export class CallRecord implements HeldEntries {
  private readonly properties = new Map<string, PropertyEntry>();
  private readonly logs = new Map<string, LogEntry>();
  private highestTs: HlcTimestamp = 0;
  private highestRecordedTs: HlcTimestamp = 0;
  private bytes = 0;
  /** The owner's stamp of the end of call, once ended. */
  endedTs?: HlcTimestamp;

  constructor(
    readonly callId: string,
    readonly owner: string,
    public state: CallState = 'active',
  ) {}

  property(name: string): PropertyEntry | undefined {
    return this.properties.get(name);
  }

  hasLog(id: string): boolean {
    return this.logs.has(id);
  }

  /** Stores entries already known to win (see entriesToStore). */
  apply(entries: readonly CallEntry[]): void {
    for (const entry of entries) {
      if (entry.kind === 'property') {
        const replaced = this.properties.get(entry.name);
        if (replaced) this.bytes -= entryBytes(replaced);
        this.properties.set(entry.name, entry);
      } else {
        if (this.logs.has(entry.id)) continue;
        this.logs.set(entry.id, entry);
      }
      this.bytes += entryBytes(entry);
      this.highestTs = Math.max(this.highestTs, entry.ts);
      this.highestRecordedTs = Math.max(this.highestRecordedTs, entry.recordedTs ?? 0);
    }
  }

  /** Replaces everything held (the owner's final record at end of call). */
  replaceAll(entries: readonly CallEntry[]): void {
    this.properties.clear();
    this.logs.clear();
    this.highestTs = 0;
    this.highestRecordedTs = 0;
    this.bytes = 0;
    this.apply(entries);
  }

  /** The highest write timestamp held: a new local write must be stamped above it. */
  get maxTs(): HlcTimestamp {
    return this.highestTs;
  }

  /** Approximate size of the data held (JSON of its entries). */
  get byteSize(): number {
    return this.bytes;
  }

  /** The latest recording stamp seen: a participant cursor at it has everything. */
  get maxRecordedTs(): HlcTimestamp {
    return this.highestRecordedTs;
  }

  entries(): CallEntry[] {
    return [...this.properties.values(), ...[...this.logs.values()].sort(compareLogs)];
  }

  /**
   * The owner's delta: entries it recorded after `since`, in recording order, less those written by
   * `excludeSite` (which holds them).
   */
  entriesRecordedAfter(since: HlcTimestamp, excludeSite?: string): CallEntry[] {
    return this.entries()
      .filter((entry) => (entry.recordedTs ?? 0) > since && entry.site !== excludeSite)
      .sort((a, b) => (a.recordedTs ?? 0) - (b.recordedTs ?? 0));
  }

  /** A participant's own writes not yet acknowledged by the owner, in write order. */
  entriesWrittenBy(site: string, afterTs: HlcTimestamp): CallEntry[] {
    return this.entries()
      .filter((entry) => entry.site === site && entry.ts > afterTs)
      .sort((a, b) => a.ts - b.ts);
  }

  view(): CallView {
    return { callId: this.callId, owner: this.owner, state: this.state, ...entriesView(this.entries()) };
  }
}
