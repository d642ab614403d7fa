import * as path from 'path';
import { MediaServerClient } from '../../runtime/media-server';
import { eslOptions } from '../support/media-server-fixture';
import type { Clock } from '../../runtime/shared/clock';
import type { Release } from '../../runtime/upgrade/deployers/deployer';
import { createFleetUpgradeSteps } from '../../runtime/upgrade/steps/fleet-upgrade-steps';
import { referenceCallControlCommand, type ProcessCommand } from '../../runtime/upgrade/deployers/local-process-deployer';
import type { StepSettings } from '../../runtime/upgrade/steps/step-settings';
import { runUpgrade } from '../../runtime/upgrade/flow/upgrade-orchestrator';
import type { AuditEntry } from '../../runtime/upgrade/state/upgrade-records';
import { parseUpgradeRequest, type UpgradeRequestInput } from '../../runtime/upgrade/request/upgrade-request';
import type { DynamoUpgradeStateStore } from '../../runtime/upgrade/state/upgrade-state-store';
import type { GroupUpgradeStepName, GroupUpgradeSteps } from '../../runtime/upgrade/flow/upgrade-steps';
import { createUpgradeTaskHandlers } from '../../runtime/upgrade/flow/upgrade-task-handlers';
import { CrashedRun, faultySteps, requestTimeout, type Faults } from '../support/upgrade/faulty-steps';
import { IMAGE, MEDIA_SERVER_ID, startLocalFleet, type LocalFleet } from '../support/upgrade/local-fleet-fixture';
import { runStateMachineLocally } from '../support/upgrade/state-machine-runner';
import { startStateTable } from '../support/upgrade/state-table-fixture';
import { FAST_STEPS, groupHealth } from '../support/upgrade/upgrade-harness';

/**
 * The same fault scenarios through the local runner (`runUpgrade`, what `voiceplane upgrade` runs) and
 * through the generated state machine (aws-local-stepfunctions over the Lambda task handlers), each on
 * a fresh simulated media server with real call-control processes and the same dynalite: both must end
 * the same way and leave the same audit trail, since both follow the one flow of upgrade-flow.ts.
 */

const UNHEALTHY = path.join(__dirname, '../support/upgrade/unhealthy-call-control.ts');

/** A clock a scenario can move forward (the steps and the store read it; runners sleep in real time). */
class ShiftedClock implements Clock {
  private offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

interface World {
  readonly fleet: LocalFleet;
  readonly store: DynamoUpgradeStateStore;
  readonly clock: ShiftedClock;
  /** Kills the run in the middle of the step calling it. */
  crash(): Promise<never>;
}

interface Scenario {
  readonly name: string;
  readonly request?: Partial<UpgradeRequestInput>;
  readonly settings?: Partial<StepSettings>;
  readonly command?: (release: Release) => ProcessCommand;
  readonly faults: (world: World) => Faults;
}

type RunEnd = 'succeeded' | 'failed' | 'crashed';

interface RunContext {
  readonly upgradeId: string;
  readonly fleet: LocalFleet;
  readonly steps: GroupUpgradeSteps;
  readonly store: DynamoUpgradeStateStore;
  readonly clock: Clock;
  /** Settles when the run crashed. */
  readonly crashed: Promise<void>;
  readonly request: UpgradeRequestInput;
  /** Where a runner leaves what a crashed run still has in flight (awaited once the crash is released). */
  readonly leftovers: Promise<unknown>[];
}

type Runner = (context: RunContext) => Promise<RunEnd>;

const runLocally: Runner = async (context) => {
  const run = runUpgrade({
    request: parseUpgradeRequest(context.request),
    inventory: context.fleet.inventory,
    upgradeId: context.upgradeId,
    steps: context.steps,
    store: context.store,
    clock: context.clock,
    pollMs: 100,
    retryIntervalMs: 50,
  }).then((summary) => summary.status);
  return Promise.race([
    run,
    context.crashed.then(() => {
      context.leftovers.push(run);
      return 'crashed' as const;
    }),
  ]);
};

const runOnStateMachine: Runner = async (context) => {
  const handlers = createUpgradeTaskHandlers({ steps: context.steps, store: context.store, inventory: context.fleet.inventory, clock: context.clock });
  const execution = runStateMachineLocally(handlers, { ...context.request, upgradeId: context.upgradeId }, { executionName: `${context.upgradeId}-execution`, retryMs: 50 });
  const run = execution.result.then(
    () => 'succeeded' as const,
    (error: Error) => {
      if (!/one or more media servers failed/.test(error.message)) throw error;
      return 'failed' as const;
    },
  );
  return Promise.race([
    run,
    context.crashed.then(() => {
      // aws-local-stepfunctions goes on with the next item of a map after an abort: the crashed run's steps hang instead of acting.
      execution.abort();
      context.leftovers.push(run);
      return 'crashed' as const;
    }),
  ]);
};

/** What a user sees after the upgrade: how it ended, each group's record, the routes, the versions, the audit trail. */
interface Observed {
  readonly ends: readonly RunEnd[];
  readonly groups: readonly { readonly groupId: string; readonly phase: string; readonly failure?: string }[];
  readonly routes: readonly string[];
  readonly versions: Readonly<Record<string, unknown>>;
  readonly audit: readonly string[];
}

/** Ports and times differ between two fleets and two runs; everything else must not. */
function stable(text: string): string {
  return text.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>').replace(/(127\.0\.0\.1:|port )\d+/g, '$1<port>');
}

function describeEntry({ groupId, event }: AuditEntry): string {
  switch (event.type) {
    case 'phase':
      return `${groupId} phase ${event.from} -> ${event.to}`;
    case 'preflight':
      return `${groupId} preflight ok=${event.ok}`;
    case 'route-change':
      return `${groupId} route ${event.action}`;
    case 'drain-count':
      return `${groupId} drain-count ${event.remaining} timedOut=${event.timedOut}`;
    case 'force-end':
      return `${groupId} force-end ${event.cause}`;
    case 'deploy':
      return `${groupId} deploy ${event.version} ${event.status}`;
    case 'health':
      return `${groupId} health ok=${event.ok}`;
    case 'canary':
      return `${groupId} canary step ${event.step} ${event.share} % ${event.verdict}`;
    case 'rollback':
      return `${groupId} rollback ${event.outcome}: ${stable(event.cause)}`;
  }
}

describe('the local runner and the state machine follow the same flow', () => {
  let runs = 0;

  /** Each run on a media server and a state table of its own: nothing (a lease, a record) carries over. */
  async function observe(scenario: Scenario, runner: Runner): Promise<Observed> {
    const [fleet, table] = await Promise.all([startLocalFleet(), startStateTable()]);
    try {
      const clock = new ShiftedClock();
      const store = table.store(clock);
      const upgradeId = `${scenario.name.replace(/[^a-z]+/g, '-')}-${++runs}`;
      const request: UpgradeRequestInput = { image: IMAGE, version: '1.1.0', groups: ['blue', 'green'], mediaServers: [MEDIA_SERVER_ID], maxDrainSeconds: 60, ...scenario.request };
      const calls = new Map<GroupUpgradeStepName, number>();
      const ends: RunEnd[] = [];
      const crashes: CrashedRun[] = [];
      const leftovers: Promise<unknown>[] = [];
      // A crashed run is followed by another of the same upgrade id, as an operator resumes it.
      for (let attempt = 1; attempt <= 2 && (attempt === 1 || ends[0] === 'crashed'); attempt++) {
        const crashedRun = new CrashedRun();
        crashes.push(crashedRun);
        let crashNoticed!: () => void;
        const crashed = new Promise<void>((resolve) => (crashNoticed = resolve));
        const world: World = {
          fleet,
          store,
          clock,
          crash: () => {
            crashNoticed();
            return crashedRun.crash();
          },
        };
        const fleetSteps = createFleetUpgradeSteps({
          inventory: fleet.inventory,
          store,
          env: fleet.env,
          keepConnectionsOpen: false,
          clock,
          settings: { ...FAST_STEPS, drainSettleMs: 0, ...scenario.settings },
          localCommand: scenario.command,
        });
        const steps = faultySteps(fleetSteps.steps, scenario.faults(world), { calls, crash: crashedRun });
        try {
          ends.push(await runner({ upgradeId, fleet, steps, store, clock, crashed, request, leftovers }));
        } finally {
          await fleetSteps.close();
        }
      }
      for (const crashedRun of crashes) crashedRun.release();
      await Promise.allSettled(leftovers);
      const groups = (await store.listGroups(upgradeId)).map((record) => ({ groupId: record.groupId, phase: record.phase, ...(record.failure === undefined ? {} : { failure: stable(record.failure) }) }));
      return {
        ends,
        groups,
        routes: ((await fleet.routes())?.groups ?? []).map((group) => `${group.id} ${group.state}`),
        versions: Object.fromEntries(await Promise.all(['blue', 'green'].map(async (group) => [group, ((await groupHealth(fleet, group))[0] as { version?: string }).version]))),
        audit: (await store.audit(upgradeId)).map(describeEntry),
      };
    } finally {
      await Promise.all([fleet.stop(), table.close()]);
    }
  }

  async function sameOnBoth(scenario: Scenario): Promise<Observed> {
    const local = await observe(scenario, runLocally);
    const machine = await observe(scenario, runOnStateMachine);
    expect(machine).toEqual(local);
    return local;
  }

  const upgradedTrail = (group: string, version = '1.1.0') => [
    `${group} phase pending -> preflight-passed`,
    `${group} preflight ok=true`,
    `${group} phase preflight-passed -> draining`,
    `${group} route drain`,
    `${group} drain-count 0 timedOut=false`,
    `${group} phase draining -> drained`,
    `${group} phase drained -> deploying`,
    `${group} deploy ${version} started`,
    `${group} phase deploying -> deployed`,
    `${group} deploy ${version} complete`,
    `${group} health ok=true`,
    `${group} phase deployed -> verified`,
    `${group} route restore`,
    `${group} phase verified -> restored`,
  ];

  it('crash mid-drain: a second run of the upgrade waits out the dead run\'s lease and finishes the upgrade', async () => {
    const observed = await sameOnBoth({
      name: 'crash mid drain',
      settings: { leaseTtlMs: 1_500, leaseExpiryMarginMs: 200 },
      faults: (world) => ({ checkDrain: async (call) => (call === 1 ? world.crash() : undefined) }),
    });
    expect(observed.ends).toEqual(['crashed', 'succeeded']);
    expect(observed.groups.map((group) => group.phase)).toEqual(['restored', 'restored']);
    expect(observed.audit).toEqual([...upgradedTrail('blue'), ...upgradedTrail('green')]);
    expect(observed.routes).toEqual(['blue active', 'green active']);
  }, 120_000);

  it('failed health check: the group is rolled back to its old version and routed, the next group left alone', async () => {
    const observed = await sameOnBoth({
      name: 'failed health check',
      request: { version: '1.1.0-broken' },
      command: (release) =>
        release.version === '1.1.0-broken' ? { executable: process.execPath, args: ['-r', require.resolve('ts-node/register/transpile-only'), UNHEALTHY] } : referenceCallControlCommand(),
      faults: () => ({}),
    });
    expect(observed.ends).toEqual(['failed']);
    expect(observed.groups).toEqual([{ groupId: 'blue', phase: 'rolled-back', failure: expect.stringContaining('back on 1.0.0, the route was restored') }]);
    expect(observed.audit.slice(-3)).toEqual(['blue route restore', 'blue phase deployed -> rolled-back', expect.stringMatching(/^blue rollback rolled-back: group blue of local\/ms-1 1\.1\.0-broken: /)]);
    expect(observed.versions).toEqual({ blue: '1.0.0', green: '1.0.0' });
    expect(observed.routes).toEqual(['blue active', 'green active']);
  }, 120_000);

  it('lease conflict mid-upgrade: another upgrade took the media server once this run\'s lease lapsed; the group stops, never rolled back', async () => {
    const observed = await sameOnBoth({
      name: 'lease conflict',
      settings: { leaseTtlMs: 60_000 },
      faults: (world) => ({
        verify: async (call, target) => {
          if (call !== 1) return;
          world.clock.advance(60_001);
          await world.store.acquireLease(target.mediaServerId, 'maintenance-window run 1', 'green', 600_000);
        },
      }),
    });
    expect(observed.ends).toEqual(['failed']);
    expect(observed.groups).toEqual([{ groupId: 'blue', phase: 'deployed' }]);
    expect(observed.audit).toEqual(upgradedTrail('blue').slice(0, 10));
    expect(observed.audit.some((entry) => entry.includes('rollback'))).toBe(false);
    // The group stays drained for the run that holds the media server now: green carries the calls.
    expect(observed.routes).toEqual(['blue drained', 'green active']);
  }, 120_000);

  it('FreeSWITCH restart mid-drain: the route table survives it and the upgrade completes', async () => {
    const observed = await sameOnBoth({
      name: 'freeswitch restart',
      request: { groups: ['blue'] },
      faults: (world) => ({
        checkDrain: async (call) => {
          if (call === 1) await world.fleet.simulator.restart();
        },
      }),
    });
    expect(observed.ends).toEqual(['succeeded']);
    expect(observed.audit).toEqual(upgradedTrail('blue'));
    expect(observed.versions).toEqual({ blue: '1.1.0', green: '1.0.0' });
    expect(observed.routes).toEqual(['blue active', 'green active']);
  }, 120_000);

  it('canary routes changed by someone else: the group is backed out, its calls waited for, rolled back to its old version and routed', async () => {
    const observed = await sameOnBoth({
      name: 'canary routes changed',
      request: { groups: ['blue'], canary: { steps: [5, 25], hold: { seconds: 60 } } },
      settings: { canaryObserveMs: 50 },
      faults: (world) => ({
        checkCanary: async (call, target) => {
          if (call !== 1) return;
          const client = await MediaServerClient.connect(eslOptions(world.fleet.simulator));
          await client.drain(target.groupId).finally(() => client.close());
        },
      }),
    });
    expect(observed.ends).toEqual(['failed']);
    expect(observed.groups).toEqual([{ groupId: 'blue', phase: 'rolled-back', failure: expect.stringMatching(/is drained during its canary step at 5 %: someone else changed the routes \(back on 1\.0\.0, the route was restored\)$/) }]);
    expect(observed.audit).toEqual([
      ...upgradedTrail('blue').slice(0, 11),
      'blue phase deployed -> verified',
      'blue phase verified -> canary',
      'blue route share',
      'blue canary step 0 5 % start',
      'blue deploy 1.0.0 started',
      'blue deploy 1.0.0 complete',
      'blue health ok=true',
      'blue route restore',
      'blue phase canary -> rolled-back',
      'blue rollback rolled-back: group blue of local/ms-1 is drained during its canary step at 5 %: someone else changed the routes',
    ]);
    expect(observed.versions).toEqual({ blue: '1.0.0', green: '1.0.0' });
    expect(observed.routes).toEqual(['blue active', 'green active']);
  }, 120_000);

  it('a request timeout is transient: the step is retried and the upgrade completes as if nothing happened', async () => {
    const observed = await sameOnBoth({
      name: 'timeout',
      request: { groups: ['blue'] },
      faults: () => ({
        deploy: async (call) => {
          if (call === 1) throw requestTimeout();
        },
      }),
    });
    expect(observed.ends).toEqual(['succeeded']);
    expect(observed.audit).toEqual(upgradedTrail('blue'));
    expect(observed.versions).toEqual({ blue: '1.1.0', green: '1.0.0' });
  }, 120_000);
});
