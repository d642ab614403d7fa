import { runDemoCommand } from '../../runtime/commands/demo-command';

describe('voiceplane demo (command module, shortened calls)', () => {
  it('--json: progress lines, then one summary object on the last line with no call dropped or refused', async () => {
    const lines: string[] = [];
    const code = await runDemoCommand(
      { json: true },
      { stdout: { line: (text) => lines.push(text) }, env: process.env, isTty: false, settings: { minCallMs: 500, maxCallMs: 1_500, warmUpMs: 1_000 } },
    );

    const objects = lines.map((line) => JSON.parse(line));
    const summary = objects[objects.length - 1];
    expect(summary).toMatchObject({ type: 'summary', status: 'succeeded', dropped: 0, refused: 0, passed: true });
    expect(summary.placed).toBeGreaterThan(20);
    expect(summary.completed).toBe(summary.placed);
    expect(summary.mediaServers[0].groups.map((group: { groupId: string; phase: string }) => `${group.groupId} ${group.phase}`)).toEqual(['blue restored', 'green restored']);
    expect(objects.slice(0, -1).every((object) => object.type === 'progress')).toBe(true);
    expect(objects.some((object) => object.step === 'checkDrain' && object.remainingCalls > 0)).toBe(true);
    expect(code).toBe(0);
  });
});
