import { z } from 'zod';
import { UpgradeStepError } from '../flow/upgrade-steps';
import { parseInput, strictObjectError } from '../request/input-error';

/**
 * How a canary upgrade judges a new call-control version: the shares of new calls it gets, step by step, how long each
 * step holds, and the thresholds the calls it took must stay within.
 *
 * A step PASSES when every hold condition given is met (the duration has elapsed AND the calls have been seen: whichever
 * comes last), at least `minCalls` calls were judged, and no threshold is crossed.
 * A step FAILS at once when a threshold is crossed: the percentages once `minCalls` calls were judged (a handful of calls
 * says little), the failed connections and the health checks at any time. A step still holding at `maxHoldSeconds` FAILS,
 * naming what was missing (too few calls, or a media server whose events could not be observed): a version that took
 * too few calls to judge is not let through on no evidence, and rolling it back touches no call.
 */

export const DEFAULT_MAX_FAILED_CALL_PERCENT = 5;
export const DEFAULT_SHORT_CALL_SECONDS = 2;
export const DEFAULT_MAX_SHORT_CALL_PERCENT = 20;
export const DEFAULT_MAX_FAILED_CONNECTIONS = 0;
export const DEFAULT_MIN_CALLS = 20;
export const DEFAULT_MAX_CONSECUTIVE_HEALTH_FAILURES = 3;
/** The cap on a step's hold when none is given: 30 minutes, or the hold's duration if that is longer. */
export const DEFAULT_MAX_HOLD_SECONDS = 1_800;
/** A day: a longer step is a mistake, not a canary. */
export const MAX_HOLD_SECONDS = 86_400;
export const MAX_CANARY_STEPS = 10;

const percent = (what: string) =>
  z.number({ error: `must be a number (${what})` }).min(0, `must be a percent (0-100)`).max(100, `must be a percent (0-100)`);
const count = (what: string) => z.int({ error: `must be a whole number (${what})` }).min(0, `must be 0 or more (${what})`);
const seconds = z.number({ error: 'must be a number of seconds' }).positive('must be more than 0 seconds').max(MAX_HOLD_SECONDS, `must be at most ${MAX_HOLD_SECONDS} seconds`);

const stepsSchema = z
  .array(z.int({ error: 'must be a whole percent' }).min(1, 'must be a share of 1-99 percent').max(99, 'must be a share of 1-99 percent'), { error: 'must be a list of percents' })
  .min(1, 'must give at least one share')
  .max(MAX_CANARY_STEPS, `must give at most ${MAX_CANARY_STEPS} shares`)
  .refine((steps) => steps.every((share, index) => index === 0 || share > steps[index - 1]), 'must be strictly ascending (e.g. 5, 25)');

const holdSchema = z
  .strictObject(
    {
      /** Hold each step at least this long. */
      seconds: seconds.optional(),
      /** Hold each step until the group has taken at least this many calls (ended, so judged). */
      calls: z.int({ error: 'must be a whole number of calls' }).min(1, 'must be at least 1 call').optional(),
    },
    { error: strictObjectError },
  )
  .refine((hold) => hold.seconds !== undefined || hold.calls !== undefined, 'must give seconds, calls or both');

const thresholdsSchema = z
  .strictObject(
    {
      /** Most calls, in percent of the calls judged, that may end with a failure hangup cause. */
      maxFailedCallPercent: percent('percent of calls').default(DEFAULT_MAX_FAILED_CALL_PERCENT),
      /** A call that lasted less than this (from the media server taking it to its hangup) is short. */
      shortCallSeconds: z.number({ error: 'must be a number of seconds' }).positive('must be more than 0 seconds').max(3_600, 'must be at most 3600 seconds').default(DEFAULT_SHORT_CALL_SECONDS),
      /** Most calls, in percent of the calls judged, that may be short. */
      maxShortCallPercent: percent('percent of calls').default(DEFAULT_MAX_SHORT_CALL_PERCENT),
      /** Most call-control connections to the group that may fail (refused, or a live call left and re-homed). */
      maxFailedConnections: count('connections').default(DEFAULT_MAX_FAILED_CONNECTIONS),
      /** Fewest calls a step judges before it may pass, and before the percentages can fail it. */
      minCalls: count('calls').default(DEFAULT_MIN_CALLS),
      /** The step fails when any one member of the group fails this many `/health` checks in a row. */
      maxConsecutiveHealthFailures: count('checks').min(1, 'must be at least 1 check').default(DEFAULT_MAX_CONSECUTIVE_HEALTH_FAILURES),
    },
    { error: strictObjectError },
  )
  .prefault({});

/** A canary policy as the Step Functions input and the CLI give it; the defaults are filled in when parsed. */
export const canaryPolicySchema = z
  .strictObject(
    {
      /** Shares of new calls the upgraded group gets, in percent, one step each, strictly ascending, each 1..99; full reference after the last. */
      steps: stepsSchema,
      hold: holdSchema,
      /** The longest a step may hold before it fails. @default 1800, or hold.seconds if longer */
      maxHoldSeconds: seconds.optional(),
      thresholds: thresholdsSchema,
    },
    { error: strictObjectError },
  )
  .transform(({ maxHoldSeconds, ...policy }) => ({ ...policy, maxHoldSeconds: maxHoldSeconds ?? Math.max(DEFAULT_MAX_HOLD_SECONDS, policy.hold.seconds ?? 0) }))
  .refine((policy) => policy.hold.seconds === undefined || policy.maxHoldSeconds >= policy.hold.seconds, {
    path: ['maxHoldSeconds'],
    message: 'must be at least hold.seconds',
  });

export type CanaryPolicyInput = z.input<typeof canaryPolicySchema>;
/** A parsed canary policy, every default filled in. */
export type CanaryPolicy = z.output<typeof canaryPolicySchema>;
export type CanaryThresholds = CanaryPolicy['thresholds'];

/** Parses a canary policy (Step Functions input, a file); throws an `InvalidInput` step error naming every bad field in one line. */
export function parseCanaryPolicy(input: unknown): CanaryPolicy {
  return parseInput(canaryPolicySchema, input, 'canary');
}

/** The CLI's canary flags as text, as given. */
export interface CanaryFlags {
  /** `--canary 5,25`: the shares in percent. */
  readonly canary?: string;
  /** `--canary-hold 120s`, `30m`, `1h`, `200calls`, or a time and a count: `120s,200calls`. */
  readonly canaryHold?: string;
}

/** @default hold of each step when `--canary` is given without `--canary-hold` */
export const DEFAULT_CANARY_HOLD = { seconds: 120 } as const;

/**
 * The policy the CLI flags give (default thresholds), or undefined without `--canary`; throws an `InvalidInput` step
 * error whose one-line message names the flag.
 */
export function canaryPolicyFromFlags(flags: CanaryFlags): CanaryPolicy | undefined {
  if (flags.canary === undefined) {
    if (flags.canaryHold !== undefined) throw flagError('--canary-hold', 'needs --canary');
    return undefined;
  }
  const steps = parseCanarySteps(flags.canary);
  const hold = flags.canaryHold === undefined ? DEFAULT_CANARY_HOLD : parseCanaryHold(flags.canaryHold);
  const parsed = canaryPolicySchema.safeParse({ steps, hold });
  if (!parsed.success) throw flagError('--canary-hold', parsed.error.issues[0].message);
  return parsed.data;
}

/** `5,25` as `[5, 25]`; throws an `InvalidInput` step error naming `--canary`. */
export function parseCanarySteps(text: string): number[] {
  const words = text.split(',').map((word) => word.trim());
  const steps = words.map((word) => {
    if (!/^[0-9]{1,3}$/.test(word)) throw flagError('--canary', `${JSON.stringify(word)} is not a whole percent (expected shares like 5,25)`);
    return Number(word);
  });
  const parsed = stepsSchema.safeParse(steps);
  if (!parsed.success) throw flagError('--canary', parsed.error.issues[0].message);
  return parsed.data;
}

const HOLD_TERM = /^([0-9]+(?:\.[0-9]+)?)(s|m|h|calls)$/;
const SECONDS_PER_UNIT: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600 };

/** `120s`, `30m`, `1h`, `200calls`, or one of each joined by a comma; throws an `InvalidInput` step error naming `--canary-hold`. */
export function parseCanaryHold(text: string): CanaryPolicyInput['hold'] {
  const hold: { seconds?: number; calls?: number } = {};
  for (const word of text.split(',').map((term) => term.trim())) {
    const match = HOLD_TERM.exec(word);
    if (match === null) throw flagError('--canary-hold', `${JSON.stringify(word)} is not a duration or a call count (expected e.g. 120s, 30m, 1h or 200calls)`);
    const [, amount, unit] = match;
    const key = unit === 'calls' ? 'calls' : 'seconds';
    if (hold[key] !== undefined) throw flagError('--canary-hold', `gives ${key === 'calls' ? 'a call count' : 'a duration'} twice`);
    hold[key] = unit === 'calls' ? Number(amount) : Number(amount) * SECONDS_PER_UNIT[unit];
  }
  const parsed = holdSchema.safeParse(hold);
  if (!parsed.success) throw flagError('--canary-hold', `${JSON.stringify(text)}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

function flagError(flag: string, problem: string): UpgradeStepError {
  return new UpgradeStepError('InvalidInput', `${flag}: ${problem}`);
}
