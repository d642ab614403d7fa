import { GROUP_UPGRADE_STEP_NAMES, type GroupUpgradeStepName, type GroupUpgradeSteps, type GroupUpgradeTarget } from '../../../runtime/upgrade/flow/upgrade-steps';

/** Runs before the step's `call`-th invocation (1-based, counted per step); may throw, hang or change the world. */
export type Fault = (call: number, target: GroupUpgradeTarget) => Promise<void>;

export type Faults = Partial<Record<GroupUpgradeStepName, Fault>>;

export interface FaultOptions {
  /** Invocations counted so far, by step (share it between the runs of one scenario). */
  readonly calls?: Map<GroupUpgradeStepName, number>;
  /** Once it happened, no call reaches the steps: nothing the crashed run still does touches the world. */
  readonly crash?: CrashedRun;
}

/** The real steps with faults injected in front of them (the steps themselves run unchanged). */
export function faultySteps(steps: GroupUpgradeSteps, faults: Faults, options: FaultOptions = {}): GroupUpgradeSteps {
  const calls = options.calls ?? new Map<GroupUpgradeStepName, number>();
  const wrap =
    <Args extends [GroupUpgradeTarget, ...unknown[]], Result>(step: GroupUpgradeStepName, run: (...args: Args) => Promise<Result>) =>
    async (...args: Args): Promise<Result> => {
      if (options.crash?.happened) return options.crash.hold();
      const call = (calls.get(step) ?? 0) + 1;
      calls.set(step, call);
      await faults[step]?.(call, args[0]);
      return run(...args);
    };
  const wrapped = Object.fromEntries(GROUP_UPGRADE_STEP_NAMES.map((step) => [step, wrap(step, (steps[step] as (...args: never[]) => Promise<unknown>).bind(steps) as never)]));
  return wrapped as unknown as GroupUpgradeSteps;
}

/**
 * A run that stops dead in the middle of a step, as a killed process: its calls never return while the
 * test looks at the world, and fail once the test releases them (so nothing of it lingers after the test).
 */
export class CrashedRun {
  private crashed = false;
  private released = false;
  private readonly held: ((error: Error) => void)[] = [];

  get happened(): boolean {
    return this.crashed;
  }

  crash(): Promise<never> {
    this.crashed = true;
    return this.hold();
  }

  hold(): Promise<never> {
    if (this.released) return Promise.reject(new Error('the run crashed'));
    return new Promise<never>((_, reject) => this.held.push(reject));
  }

  release(): void {
    this.released = true;
    for (const reject of this.held.splice(0)) reject(new Error('the run crashed'));
  }
}

/** The SDK's request timeout (DynamoDB, ECS), as it reaches a step. */
export function requestTimeout(): Error {
  return Object.assign(new Error('a request has exceeded the configured 10000 ms requestTimeout (injected)'), { name: 'TimeoutError' });
}
