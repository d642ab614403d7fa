import '../promise-with-resolvers';
import { StateMachine } from 'aws-local-stepfunctions';
import { TASK_STATE_NAMES, buildUpgradeStateMachine, type UpgradeTaskName } from '../../../runtime/upgrade/flow/upgrade-state-machine';
import type { UpgradeTaskHandlers } from '../../../runtime/upgrade/flow/upgrade-task-handlers';

const TASKS = Object.keys(TASK_STATE_NAMES) as UpgradeTaskName[];

/** Made-up Lambda ARNs, one per task (the local run maps each task state to its handler instead). */
export const FUNCTION_ARNS = Object.fromEntries(TASKS.map((task) => [task, `arn:aws:lambda:us-east-1:123456789012:function:acme-upgrade-${task}`])) as Record<UpgradeTaskName, string>;

export interface LocalExecutionOptions {
  /** The execution name (Step Functions puts it in the context object; Plan makes it the upgrade id). */
  readonly executionName: string;
  /** Each drain and deployment poll waits this long instead of `pollSeconds`. @default 100 */
  readonly pollMs?: number;
  /** The first drain check waits this long instead of `firstPollSeconds`. @default pollMs */
  readonly firstPollMs?: number;
  /** Each retry of a transient error waits this long instead of the Retry's backoff. @default the Retry's own */
  readonly retryMs?: number;
}

/**
 * The generated state machine run by aws-local-stepfunctions, every Lambda task mapped to its handler
 * in this process: the path a console "Start execution" takes, minus AWS.
 */
export function runStateMachineLocally(handlers: UpgradeTaskHandlers, input: Record<string, unknown>, options: LocalExecutionOptions) {
  const machine = new StateMachine(buildUpgradeStateMachine({ functionArns: FUNCTION_ARNS, pollSeconds: 10 }) as never);
  const localHandlers = Object.fromEntries(TASKS.map((task) => [TASK_STATE_NAMES[task], handlers[task]]));
  const pollMs = options.pollMs ?? 100;
  return machine.run(input as never, {
    context: { Execution: { Name: options.executionName } },
    noThrowOnAbort: true,
    overrides: {
      taskResourceLocalHandlers: localHandlers as never,
      waitTimeOverrides: { WaitForDrainSettle: options.firstPollMs ?? pollMs, WaitForDrain: pollMs, WaitForDeployment: pollMs, WaitForCanary: pollMs },
      ...(options.retryMs === undefined ? {} : { retryIntervalOverrides: Object.fromEntries(TASKS.map((task) => [TASK_STATE_NAMES[task], options.retryMs!])) }),
    },
  });
}
