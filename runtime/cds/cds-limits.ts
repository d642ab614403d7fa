/**
 * Bounds on what one CDS node holds, so that junk traffic from a site's own clients cannot exhaust its memory
 * or its restart. A request beyond a bound is refused (nothing changes); what is already open keeps working.
 */
export interface CdsNodeLimits {
  /** Calls open at this node at once (owned or taken part in); a request that would open one more is refused with 503 `too-many-calls`. @default 20_000 */
  readonly maxOpenCalls: number;
  /** Open calls one local client name may be registered for; one more is refused with 429 `too-many-registrations`. @default 1_000 */
  readonly maxCallsPerClient: number;
  /** A call nothing touched for this long leaves memory (its state stays in the table and is read again when needed). @default 60_000 */
  readonly idleCallMs: number;
  /** Data of calls (JSON bytes of their entries) held in memory; beyond it the least recently used calls leave memory at the next sweep. @default 134_217_728 */
  readonly maxCachedBytes: number;
  /**
   * A call open this long (by the node's wall clock, from when it was first opened) is ended by the node through
   * the normal end of call, so it is archived once; at a participant, its local clients are unregistered. @default 86_400_000 (a day)
   */
  readonly maxCallAgeMs: number;
  /** How often idle calls are evicted and calls past the age are ended. @default 1_000 */
  readonly sweepIntervalMs: number;
  /** Open calls read from the table at once while a node (re)starts. @default 8 */
  readonly recoveryConcurrency: number;
  /** Reads of one open call at start, before the start fails. @default 5 */
  readonly recoveryAttempts: number;
  /** Event streams of the node; one more is refused with 503 `too-many-streams`. @default 1_000 */
  readonly maxEventStreams: number;
  /** Event streams of one call; one more is refused with 429 `too-many-streams`. @default 16 */
  readonly maxEventStreamsPerCall: number;
  /**
   * Bytes waiting for one event-stream client that stopped reading: once over it, the node drops the stream (the
   * client reconnects and starts again from a snapshot). The node holds at most this plus one event per stream. @default 262_144
   */
  readonly maxEventStreamBufferedBytes: number;
}

export const DEFAULT_LIMITS: CdsNodeLimits = {
  maxOpenCalls: 20_000,
  maxCallsPerClient: 1_000,
  idleCallMs: 60_000,
  maxCachedBytes: 134_217_728,
  maxCallAgeMs: 86_400_000,
  sweepIntervalMs: 1_000,
  recoveryConcurrency: 8,
  recoveryAttempts: 5,
  maxEventStreams: 1_000,
  maxEventStreamsPerCall: 16,
  maxEventStreamBufferedBytes: 262_144,
};

/** The limits with the defaults filled in; a limit that is not a positive whole number throws, naming it. */
export function resolveLimits(given: Partial<CdsNodeLimits> = {}): CdsNodeLimits {
  const limits = { ...DEFAULT_LIMITS, ...given };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`limits.${name} must be a positive whole number (got ${String(value)})`);
  }
  return limits;
}
