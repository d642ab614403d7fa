import type { CallEntry, PropertyEntry } from './call-entries';
import type { HlcTimestamp } from '../clock/hlc';

interface Stamp {
  readonly ts: HlcTimestamp;
  readonly site: string;
}

/** Later timestamp wins; the site id breaks a tie so every node picks the same winner. Equal stamps: a duplicate. */
export function supersedes(candidate: Stamp, current: Stamp | undefined): boolean {
  if (!current) return true;
  return candidate.ts > current.ts || (candidate.ts === current.ts && candidate.site > current.site);
}

/** What a merge needs to know of the entries already held. */
export interface HeldEntries {
  property(name: string): PropertyEntry | undefined;
  hasLog(id: string): boolean;
}

/**
 * The incoming entries worth storing: per property only the winner, and only if it beats what is held; log
 * entries not held yet, once each. Everything else is a duplicate or a lost race and is discarded.
 */
export function entriesToStore(held: HeldEntries, incoming: readonly CallEntry[]): CallEntry[] {
  const winners = new Map<string, PropertyEntry>();
  const logs = new Map<string, CallEntry>();
  for (const entry of incoming) {
    if (entry.kind === 'log') {
      if (!held.hasLog(entry.id)) logs.set(entry.id, entry);
      continue;
    }
    const best = winners.get(entry.name) ?? held.property(entry.name);
    if (supersedes(entry, best)) winners.set(entry.name, entry);
  }
  return [...winners.values(), ...logs.values()];
}
