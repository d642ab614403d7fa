import { TASK_STATE_NAMES, UpgradeTaskName, buildUpgradeStateMachine } from '../../runtime/upgrade/flow/upgrade-state-machine';
import { GROUP_UPGRADE_STEP_NAMES } from '../../runtime/upgrade/flow/upgrade-steps';

const validateAsl: (definition: unknown) => { isValid: boolean; errors: unknown[] } = require('asl-validator');

const functionArns = Object.fromEntries(
  (Object.keys(TASK_STATE_NAMES) as UpgradeTaskName[]).map((task) => [task, `arn:aws:lambda:us-east-1:123456789012:function:acme-upgrade-${task}`]),
) as Record<UpgradeTaskName, string>;

type States = Record<string, Record<string, unknown>>;

function groupFlowOf(definition: Record<string, unknown>): States {
  const top = definition.States as States;
  const perMediaServer = (top.UpgradeMediaServers.ItemProcessor as { States: States }).States;
  return (perMediaServer.UpgradeGroupsInOrder.ItemProcessor as { States: States }).States;
}

describe('the upgrade state machine definition', () => {
  const definition = buildUpgradeStateMachine({ functionArns, pollSeconds: 15 });

  it('passes asl-validator', () => {
    // asl-validator annotates what it is given: validate a copy.
    const result = validateAsl(JSON.parse(JSON.stringify(definition)));
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('is rejected by asl-validator when a transition points nowhere (the check is live)', () => {
    const broken = JSON.parse(JSON.stringify(definition));
    groupFlowOf(broken).Verify.Next = 'Nowhere';
    expect(validateAsl(broken).isValid).toBe(false);
  });

  it('has one Lambda task per group step, each invoking its own function', () => {
    const flow = groupFlowOf(definition);
    for (const step of GROUP_UPGRADE_STEP_NAMES) {
      expect(flow[TASK_STATE_NAMES[step]]).toMatchObject({ Type: 'Task', Resource: functionArns[step] });
    }
    expect((definition.States as States).Plan).toMatchObject({ Type: 'Task', Resource: functionArns.plan });
  });

  it('upgrades the groups of one media server one at a time, media servers in parallel up to the requested concurrency', () => {
    const top = definition.States as States;
    expect(top.UpgradeMediaServers).toMatchObject({ Type: 'Map', MaxConcurrencyPath: '$.concurrency' });
    const perMediaServer = (top.UpgradeMediaServers.ItemProcessor as { States: States }).States;
    expect(perMediaServer.UpgradeGroupsInOrder).toMatchObject({ Type: 'Map', MaxConcurrency: 1 });
  });

  it('runs each media server in a standard child execution, so no execution history grows with the fleet', () => {
    const top = definition.States as States;
    expect(top.UpgradeMediaServers.ItemProcessor).toMatchObject({ ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } });
  });

  it('hands each child its media server item and the shared release, replaces the items with the results, and tolerates no failed child', () => {
    const top = definition.States as States;
    expect(top.UpgradeMediaServers).toMatchObject({
      ItemsPath: '$.mediaServers',
      ItemSelector: { 'release.$': '$.release', 'mediaServer.$': '$$.Map.Item.Value' },
      ResultPath: '$.mediaServers',
      ToleratedFailurePercentage: 0,
    });
    const perMediaServer = (top.UpgradeMediaServers.ItemProcessor as { States: States }).States;
    expect(perMediaServer.UpgradeGroupsInOrder.ItemsPath).toBe('$.mediaServer.groups');
    expect(perMediaServer.MediaServerFailed.Parameters).toEqual({ 'mediaServerId.$': '$.mediaServer.mediaServerId', status: 'failed', 'error.$': '$.error.Error' });
  });

  it('checks the drain first after the settle, then in a Wait/Choice loop, and applies the timeout policy', () => {
    const flow = groupFlowOf(definition);
    expect(flow.Drain.Next).toBe('WaitForDrainSettle');
    expect(flow.WaitForDrainSettle).toEqual({ Type: 'Wait', Seconds: 2, Next: 'CheckDrain' });
    expect(flow.WaitForDrain).toEqual({ Type: 'Wait', Seconds: 15, Next: 'CheckDrain' });
    const choices = flow.DrainProgress.Choices as Array<Record<string, unknown>>;
    expect(choices.map((choice) => choice.Next)).toEqual(['Deploy', 'ForceEndCalls', 'AbortDrain']);
    expect(flow.DrainProgress.Default).toBe('WaitForDrain');
    expect(flow.ForceEndCalls.Next).toBe('WaitForDrain');
    expect(flow.AbortDrain.Next).toBe('DrainAborted');
  });

  it('deploys only after the drain, restores only after verification, and rolls back any failure after the drain but a lost lease or phase', () => {
    const flow = groupFlowOf(definition);
    expect([flow.Deploy.Next, flow.CheckDeployment.Next, flow.Verify.Next, flow.Restore.Next]).toEqual(['CheckDeployment', 'DeploymentProgress', 'Restore', 'GroupUpgraded']);
    expect(flow.DeploymentProgress.Default).toBe('WaitForDeployment');
    expect(flow.WaitForDeployment).toEqual({ Type: 'Wait', Seconds: 15, Next: 'CheckDeployment' });
    for (const name of ['Drain', 'CheckDrain', 'ForceEndCalls', 'AbortDrain', 'Deploy', 'CheckDeployment', 'Verify', 'Restore']) {
      expect(flow[name].Catch).toEqual([
        { ErrorEquals: ['PhaseConflictError', 'LeaseHeld'], ResultPath: '$.error', Next: 'GroupStopped' },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Rollback' },
      ]);
    }
    expect(flow.GroupStopped.Type).toBe('Fail');
    expect(flow.Preflight.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'GroupNotStarted' }]);
    expect(flow.Rollback.Next).toBe('GroupRolledBack');
    expect(flow.GroupRolledBack.Type).toBe('Fail');
  });

  it('retries transient failures with backoff but never a routed step error', () => {
    const flow = groupFlowOf(definition);
    const [retry] = flow.CheckDrain.Retry as Array<{ ErrorEquals: string[]; BackoffRate: number; MaxAttempts: number }>;
    expect(retry.ErrorEquals).toEqual(expect.arrayContaining(['Lambda.ServiceException', 'EslConnectionError', 'TimeoutError']));
    expect(retry.ErrorEquals).not.toEqual(expect.arrayContaining(['States.ALL', 'VerificationFailed', 'PreflightFailed']));
    expect(retry.BackoffRate).toBe(2);
  });

  it('retries every task alike: 6 retries from 2 s with full jitter, about 2 minutes, well inside the 4-minute lease', () => {
    const flow = groupFlowOf(definition);
    const tasks = Object.values(flow).filter((state) => state.Type === 'Task');
    expect(tasks).toHaveLength(GROUP_UPGRADE_STEP_NAMES.length);
    for (const task of [...tasks, (definition.States as States).Plan]) {
      expect(task.Retry).toEqual([expect.objectContaining({ IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 6, JitterStrategy: 'FULL' })]);
    }
  });

  it("waits out the lease an earlier run of the upgrade left behind, then preflights again with the lease it saw", () => {
    const flow = groupFlowOf(definition);
    expect(flow.Preflight).toMatchObject({ Parameters: { 'target.$': '$.target', 'earlierRun.$': '$.earlierRun' }, ResultPath: '$.preflight', Next: 'PreflightProgress' });
    expect(flow.PreflightProgress).toEqual({ Type: 'Choice', Choices: [{ Variable: '$.preflight.ready', BooleanEquals: false, Next: 'WaitForEarlierRun' }], Default: 'Drain' });
    expect(flow.WaitForEarlierRun).toEqual({ Type: 'Wait', TimestampPath: '$.preflight.retryAt', Next: 'RememberEarlierRun' });
    expect(flow.RememberEarlierRun).toEqual({ Type: 'Pass', InputPath: '$.preflight.earlierRun', ResultPath: '$.earlierRun', Next: 'Preflight' });
    const perMediaServer = ((definition.States as States).UpgradeMediaServers.ItemProcessor as { States: States }).States;
    expect(perMediaServer.UpgradeGroupsInOrder.ItemSelector).toMatchObject({ target: { 'groupId.$': '$$.Map.Item.Value' }, earlierRun: null });
  });

  it('rejects a poll interval that is not a positive whole number of seconds', () => {
    expect(() => buildUpgradeStateMachine({ functionArns, pollSeconds: 0 })).toThrow('pollSeconds must be a positive whole number of seconds, got 0');
  });

  it('rejects a first drain check later than the poll interval, and makes it no later than a short poll', () => {
    expect(() => buildUpgradeStateMachine({ functionArns, pollSeconds: 10, firstPollSeconds: 11 })).toThrow(
      'firstPollSeconds must be a whole number of seconds from 1 to pollSeconds (10), got 11',
    );
    expect(groupFlowOf(buildUpgradeStateMachine({ functionArns, pollSeconds: 1 })).WaitForDrainSettle).toEqual({ Type: 'Wait', Seconds: 1, Next: 'CheckDrain' });
  });
});
