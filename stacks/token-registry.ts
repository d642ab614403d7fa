/**
 * CDKTF registers every token it creates (a resource attribute, a reference, a lazy value) in one process-wide map
 * that it never empties, and each token holds what it refers to: its stack and constructs. A synth that writes one
 * stack at a time would still keep every stack it has written reachable through that map (a third of a 100-site
 * synth's heap by its end, and the garbage collector's time with it).
 */

/** The parts of CDKTF's token map (`globalThis.__cdktfTokenMap`, shared by every copy of cdktf loaded) used here. */
interface TokenMapStorage {
  readonly stringTokenMap: Map<unknown, unknown>;
  readonly numberTokenMap: Map<unknown, unknown>;
}

export interface TokenRegistryMark {
  /** Forgets every token registered since the mark; resolving one of them afterwards fails ("Unrecognized token key"). */
  releaseNewer(): void;
}

function tokenMapStorage(): TokenMapStorage | undefined {
  const map = (globalThis as { __cdktfTokenMap?: Partial<TokenMapStorage> }).__cdktfTokenMap;
  return map?.stringTokenMap instanceof Map && map.numberTokenMap instanceof Map ? (map as TokenMapStorage) : undefined;
}

/** Drops the entries of `map` after its first `keep` (a token map only grows, in the order tokens are created). */
function keepFirst(map: Map<unknown, unknown>, keep: number): void {
  let index = 0;
  for (const key of map.keys()) {
    if (index++ >= keep) map.delete(key);
  }
}

/**
 * Marks the tokens registered so far. Were CDKTF's map ever to take another shape, the mark releases nothing and
 * the synth only keeps more memory (test/lib/synthesize-platform.test.ts notices).
 */
export function markTokenRegistry(): TokenRegistryMark {
  const storage = tokenMapStorage();
  if (!storage) return { releaseNewer: () => undefined };
  const strings = storage.stringTokenMap.size;
  const numbers = storage.numberTokenMap.size;
  return {
    releaseNewer: () => {
      keepFirst(storage.stringTokenMap, strings);
      keepFirst(storage.numberTokenMap, numbers);
    },
  };
}

/** How many tokens CDKTF holds (0 if its map is not there or has another shape). */
export function registeredTokenCount(): number {
  const storage = tokenMapStorage();
  return storage ? storage.stringTokenMap.size + storage.numberTokenMap.size : 0;
}
