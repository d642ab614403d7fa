import { createServer, type AddressInfo } from 'net';
import { killEntryProcesses, spawnEntry } from '../support/cli-process';
import { waitFor } from '../support/wait-for';
import { requestJson } from './http-get';

/** Only what a test sets, so the developer's own CALL_CONTROL_* variables never leak into the entry point. */
const spawnCallControlEntry = (env: Record<string, string>) => spawnEntry('runtime/handlers/call-control.ts', [], env, { PATH: process.env.PATH ?? '' });

function logLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

afterEach(() => killEntryProcesses());

/** A group member on ephemeral loopback ports. */
const LOCAL_ENV = {
  CALL_CONTROL_GROUP: 'green',
  CALL_CONTROL_VERSION: '3.0.0',
  CALL_CONTROL_ESL_PORT: '0',
  CALL_CONTROL_HEALTH_PORT: '0',
  CALL_CONTROL_LISTEN_HOST: '127.0.0.1',
};

describe('call-control entry point', () => {
  it('rejects a bad environment with one line naming each bad variable, and exit code 1', async () => {
    const entry = spawnCallControlEntry({ CALL_CONTROL_VERSION: '2.4.1', CALL_CONTROL_ESL_PORT: '80840' });
    expect(await entry.exitWithin(30_000)).toBe(1);
    expect(entry.stderr()).toBe(
      'call-control: invalid environment: CALL_CONTROL_GROUP is required; CALL_CONTROL_ESL_PORT must be a port number (0-65535)\n',
    );
    expect(entry.stdout()).toBe('');
  });

  it('rejects a malformed group id and grace period', async () => {
    const entry = spawnCallControlEntry({ CALL_CONTROL_GROUP: 'Blue Group', CALL_CONTROL_VERSION: '1', CALL_CONTROL_SHUTDOWN_GRACE_MS: '2m' });
    expect(await entry.exitWithin(30_000)).toBe(1);
    const lines = entry.stderr().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/CALL_CONTROL_GROUP 'Blue Group' must be lowercase letters/);
    expect(lines[0]).toMatch(/CALL_CONTROL_SHUTDOWN_GRACE_MS must be a number of milliseconds/);
  });

  it.each([
    ['CALL_CONTROL_ESL_PORT', 'outbound ESL'],
    ['CALL_CONTROL_HEALTH_PORT', 'health checks'],
  ])('exits 1 with one line naming the address when %s is taken', async (variable, purpose) => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const entry = spawnCallControlEntry({
        ...LOCAL_ENV,
        [variable]: String(port),
      });
      expect(await entry.exitWithin(15_000)).toBe(1);
      expect(entry.stderr()).toBe(`call-control: could not start: cannot listen on 127.0.0.1:${port} (${purpose}): address already in use (EADDRINUSE)\n`);
      expect(entry.stdout()).toBe('');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('serves /health and exits 0 promptly on SIGTERM when idle', async () => {
    const entry = spawnCallControlEntry(LOCAL_ENV);
    await waitFor(() => logLines(entry.stdout()).some((line) => line.msg === 'call control started'), {
      timeoutMs: 30_000,
      message: `the service to start (stderr: ${entry.stderr()})`,
    });
    const started = logLines(entry.stdout()).find((line) => line.msg === 'call control started');
    expect(started).toMatchObject({ level: 'info', group: 'green', version: '3.0.0', shutdownGraceMs: 110_000 });
    const health = await requestJson(started?.httpPort as number, '/health');
    expect(health.body).toEqual({ status: 'ok', version: '3.0.0', group: 'green', acceptingCalls: true });

    const signalledAt = Date.now();
    entry.child.kill('SIGTERM');
    expect(await entry.exitWithin(30_000)).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(5_000);
    expect(logLines(entry.stdout()).map((line) => line.msg)).toEqual(
      expect.arrayContaining(['shutdown signal received', 'shutdown complete']),
    );
    expect(entry.stderr()).toBe('');
  });
});
