import { execFile } from 'child_process';
import * as path from 'path';

// What the entry points of the long-running processes (`voiceplane`, call-control) install first.

const GUARD = path.join(__dirname, '../../runtime/handlers/process-guard.ts');

/** A node process that installs the guard, then runs `script`. */
function runGuarded(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const program = `require(${JSON.stringify(GUARD)}).guardProcess();\n${script}`;
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', program], { env: { ...process.env, TS_NODE_SWC: 'true' }, timeout: 30_000 }, (_, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('guardProcess', () => {
  it('turns an uncaught error into one JSON line and exit code 1, even with a multi-line message', async () => {
    const run = await runGuarded(`setTimeout(() => { throw new Error('the table went away\\nsecond line'); }, 0); setInterval(() => undefined, 1000);`);
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    const [line] = jsonLines(run.stderr);
    expect(line).toMatchObject({ level: 'error', msg: 'uncaught exception', error: 'the table went away\nsecond line' });
    expect(line?.stack).toContain('at Timeout');
    expect(run.stdout).toBe('');
  });

  it('turns an unhandled rejection into one JSON line and exit code 1 rather than a hang', async () => {
    const run = await runGuarded(`Promise.reject(new Error('no answer')); setInterval(() => undefined, 1000);`);
    expect(run.code).toBe(1);
    expect(jsonLines(run.stderr)).toEqual([expect.objectContaining({ level: 'error', msg: 'unhandled rejection', error: 'no answer' })]);
  });

  it('writes a multi-line warning as one JSON line and carries on', async () => {
    const run = await runGuarded(`process.emitWarning('first line\\nsecond line'); setTimeout(() => console.log('carried on'), 50);`);
    expect(run.code).toBe(0);
    expect(jsonLines(run.stderr)).toEqual([expect.objectContaining({ level: 'warn', msg: 'process warning', type: 'Warning', warning: 'first line\nsecond line' })]);
    expect(run.stdout).toBe('carried on\n');
  });
});
