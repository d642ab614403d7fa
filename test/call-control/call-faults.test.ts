import { callControlEnvironment, parseCallControlEnvironment } from '../../runtime/call-control/call-control-environment';
import { CALL_FAULT_HANGUP_CAUSES, drawCallFault } from '../../runtime/call-control/call-faults';
import { isFailedHangupCause } from '../../runtime/upgrade/canary';
import { faultyReleaseCommand } from '../../runtime/upgrade/deployers/faulty-release-command';

const base = { CALL_CONTROL_GROUP: 'blue', CALL_CONTROL_VERSION: '1.1.0' };

describe('call-control fault injection', () => {
  it('is off by default, and reads CALL_CONTROL_FAIL_* back to what was written', () => {
    expect(parseCallControlEnvironment(base)).toEqual({ ok: true, settings: expect.not.objectContaining({ faults: expect.anything() }) });
    for (const faults of [{ percent: 30 }, { percent: 2.5, mode: 'refuse' as const }, { percent: 100, mode: 'hangup' as const, cause: 'SWITCH_CONGESTION' as const }]) {
      const env = callControlEnvironment({ group: 'blue', version: '1.1.0', faults });
      expect(parseCallControlEnvironment(env)).toEqual({ ok: true, settings: expect.objectContaining({ faults }) });
    }
  });

  it.each([
    [{ CALL_CONTROL_FAIL_PERCENT: '101' }, 'CALL_CONTROL_FAIL_PERCENT must be a percent (0-100)'],
    [{ CALL_CONTROL_FAIL_PERCENT: 'ten' }, 'CALL_CONTROL_FAIL_PERCENT must be a percent (0-100)'],
    [{ CALL_CONTROL_FAIL_PERCENT: '10', CALL_CONTROL_FAIL_MODE: 'crash' }, 'CALL_CONTROL_FAIL_MODE must be one of hangup, refuse'],
    [{ CALL_CONTROL_FAIL_PERCENT: '10', CALL_CONTROL_FAIL_CAUSE: 'NORMAL_CLEARING' }, `CALL_CONTROL_FAIL_CAUSE must be one of ${CALL_FAULT_HANGUP_CAUSES.join(', ')}`],
    [{ CALL_CONTROL_FAIL_MODE: 'refuse' }, 'CALL_CONTROL_FAIL_MODE needs CALL_CONTROL_FAIL_PERCENT'],
  ])('rejects %j in one line naming the variable', (faultVariables, problem) => {
    expect(parseCallControlEnvironment({ ...base, ...faultVariables })).toEqual({ ok: false, problem });
  });

  it('fails the drawn share of calls, in the configured way', () => {
    const draws = (values: number[]) => {
      let next = 0;
      return () => values[next++];
    };
    const random = draws([0, 0.099, 0.1, 0.5]);
    const outcomes = [0, 1, 2, 3].map(() => drawCallFault({ percent: 10 }, random));
    expect(outcomes).toEqual([{ mode: 'hangup', cause: 'NORMAL_TEMPORARY_FAILURE' }, { mode: 'hangup', cause: 'NORMAL_TEMPORARY_FAILURE' }, undefined, undefined]);
    expect(drawCallFault({ percent: 100, mode: 'refuse' }, () => 0.999)).toEqual({ mode: 'refuse' });
    expect(drawCallFault({ percent: 0 }, () => 0)).toBeUndefined();
    expect(drawCallFault(undefined, () => 0)).toBeUndefined();
  });

  it('only fails calls with causes a canary counts as failures', () => {
    for (const cause of CALL_FAULT_HANGUP_CAUSES) expect(isFailedHangupCause(cause)).toBe(true);
    expect(isFailedHangupCause('NORMAL_CLEARING')).toBe(false);
    expect(isFailedHangupCause('ORIGINATOR_CANCEL')).toBe(false);
  });

  it('runs one version of a local fleet with faults on, every other release as usual', () => {
    const command = faultyReleaseCommand({ version: '1.1.0-bad', faults: { percent: 20, mode: 'refuse' } });
    const bad = command({ image: 'voiceplane/call-control', version: '1.1.0-bad' });
    const good = command({ image: 'voiceplane/call-control', version: '1.1.0' });
    expect(bad.env).toEqual(expect.objectContaining({ CALL_CONTROL_FAIL_PERCENT: '20', CALL_CONTROL_FAIL_MODE: 'refuse' }));
    expect(good.env ?? {}).not.toHaveProperty('CALL_CONTROL_FAIL_PERCENT');
    expect(bad.args).toEqual(good.args);
  });
});
