import type { Timers } from '../../esl';
import { systemTimers } from '../../esl/timers';
import { systemClock, type Clock } from '../../shared/clock';
import { DEFAULT_SHORT_CALL_SECONDS } from './canary-policy';
import { CANARY_EVENT_FILTERS, CANARY_EVENTS, GroupCallTally, type CanaryObservation, type MemberHealth } from './canary-observation';
import { openEventConnection } from './event-connection';
import { probeGroupHealth } from './group-health-probe';

/** A media server whose calls the canary is judged by. */
export interface CanaryMediaServer {
  readonly id: string;
  /** Its inbound event socket. */
  readonly esl: { readonly host: string; readonly port: number; readonly password: string };
}

export interface CanaryWatchOptions {
  /** Every media server that routes calls to the group. */
  readonly mediaServers: readonly CanaryMediaServer[];
  /** The group on canary. */
  readonly groupId: string;
  /** `/health` URLs of the group's members (a deployer's `instances()`). @default none: health is not checked */
  readonly healthUrls?: readonly string[];
  /** Calls shorter than this count as short (the policy's `thresholds.shortCallSeconds`). @default 2 */
  readonly shortCallSeconds?: number;
  /** Stamps the observation (`startedAt`, `observedAt`). @default the system clock */
  readonly clock?: Clock;
  /** @default 5 000 ms */
  readonly healthIntervalMs?: number;
  /** Bound on one `/health` request. @default 2 000 ms */
  readonly healthTimeoutMs?: number;
  /** How long `startCanaryWatch` waits for each media server's event stream before it resolves anyway. @default 10 000 ms */
  readonly connectTimeoutMs?: number;
  /** Timers of the health checks and of the connect wait. @default the system's */
  readonly timers?: Timers;
}

/** A running canary watch: its connections stay open, reconnecting, until `stop`. */
export interface CanaryWatch {
  /** What has been seen since the watch started. */
  observation(): CanaryObservation;
  /** Closes the event connections and stops the health checks; the last observation stays readable. */
  stop(): Promise<void>;
}

const DEFAULT_HEALTH_INTERVAL_MS = 5_000;
const DEFAULT_HEALTH_TIMEOUT_MS = 2_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Starts watching a canary group: one event connection per media server (its own, so its filters pass only hangups and
 * `socket` completions; reconnecting if lost, with the gap reported as `unobserved`), and periodic `/health` checks of
 * the group's members. Resolves once every media server's events flow, or after `connectTimeoutMs` with the late ones
 * listed as unobserved. Runs in a long-lived process (the CLI orchestrator); a step that connects and returns would
 * see only the calls that ended while it ran.
 */
export async function startCanaryWatch(options: CanaryWatchOptions): Promise<CanaryWatch> {
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const shortCallSeconds = options.shortCallSeconds ?? DEFAULT_SHORT_CALL_SECONDS;
  const startedAt = clock.now();
  const tally = new GroupCallTally(shortCallSeconds * 1_000);
  const unobserved = new Set(options.mediaServers.map((server) => server.id));
  const health = new Map<string, MemberHealth>((options.healthUrls ?? []).map((url) => [url, { url, checks: 0, failures: 0, consecutiveFailures: 0 }]));

  const canaryEvents = { filters: CANARY_EVENT_FILTERS, events: CANARY_EVENTS };
  const clients = options.mediaServers.map((server) => {
    const connection = openEventConnection({ ...server.esl, timers }, canaryEvents, (event) => tally.record(event));
    connection.client.on('connected', () => unobserved.delete(server.id));
    connection.client.on('disconnected', () => unobserved.add(server.id));
    return connection;
  });
  await Promise.all(clients.map(({ registered }) => registered));
  await Promise.all(clients.map(({ connected }) => within(connected, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, timers)));

  let stopped = false;
  let healthTimer: NodeJS.Timeout | undefined;
  let healthRound: Promise<void> = Promise.resolve();
  const checkHealth = async (): Promise<void> => {
    await Promise.all(
      [...health.keys()].map(async (url) => {
        const problem = await probeGroupHealth(url, options.groupId, options.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS);
        const before = health.get(url)!;
        health.set(
          url,
          problem === undefined
            ? { url, checks: before.checks + 1, failures: before.failures, consecutiveFailures: 0 }
            : { url, checks: before.checks + 1, failures: before.failures + 1, consecutiveFailures: before.consecutiveFailures + 1, lastProblem: problem },
        );
      }),
    );
  };
  const scheduleHealth = (): void => {
    if (stopped || health.size === 0) return;
    healthRound = checkHealth();
    void healthRound.then(() => {
      if (!stopped) healthTimer = timers.setTimeout(scheduleHealth, options.healthIntervalMs ?? DEFAULT_HEALTH_INTERVAL_MS);
    });
  };
  scheduleHealth();

  let final: CanaryObservation | undefined;
  const observation = (): CanaryObservation =>
    final ?? {
      groupId: options.groupId,
      startedAt,
      observedAt: clock.now(),
      shortCallSeconds,
      groups: tally.snapshot(),
      health: [...health.values()],
      unobserved: options.mediaServers.map((server) => server.id).filter((id) => unobserved.has(id)),
    };

  return {
    observation,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (healthTimer !== undefined) timers.clearTimeout(healthTimer);
      await healthRound;
      final = observation();
      await Promise.all(clients.map(({ client }) => client.close()));
    },
  };
}

function within(promise: Promise<void>, ms: number, timers: Timers): Promise<void> {
  return new Promise((resolve) => {
    const timer = timers.setTimeout(resolve, ms);
    void promise.then(() => {
      timers.clearTimeout(timer);
      resolve();
    });
  });
}
