import axios from 'axios';
import { spawn } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { reservePorts } from '../../runtime/net/free-port';
import { LocalProcessDeployer, referenceCallControlCommand } from '../../runtime/upgrade/deployers/local-process-deployer';
import type { DeploymentCheck } from '../../runtime/upgrade/flow/upgrade-steps';
import { waitFor } from '../support/wait-for';

describe('LocalProcessDeployer (real call-control processes)', () => {
  let runDir: string;
  let deployer: LocalProcessDeployer;
  let ports: number[];

  beforeAll(async () => {
    runDir = mkdtempSync(path.join(tmpdir(), 'voiceplane-deployer-'));
    ports = await reservePorts(4);
    deployer = new LocalProcessDeployer({
      mediaServerId: 'local/ms-1',
      groupId: 'blue',
      deployment: {
        kind: 'local',
        host: '127.0.0.1',
        runDir,
        instances: [
          { eslPort: ports[0], healthPort: ports[1] },
          { eslPort: ports[2], healthPort: ports[3] },
        ],
      },
      env: process.env,
    });
  });
  afterAll(async () => {
    await deployer.stopAll();
    rmSync(runDir, { recursive: true, force: true });
  });

  async function settled(deploymentId: string): Promise<DeploymentCheck> {
    let check: DeploymentCheck = { complete: false, failed: false, detail: '' };
    await waitFor(
      async () => {
        check = await deployer.status(deploymentId);
        return check.complete || check.failed;
      },
      { timeoutMs: 20_000, message: 'deployment settled' },
    );
    return check;
  }

  const versions = async () => Promise.all([ports[1], ports[3]].map(async (port) => (await axios.get(`http://127.0.0.1:${port}/health`)).data.version));

  it('starts every member, restarts them on the same ports with a new release, and skips a release already running', async () => {
    await expect(deployer.current()).rejects.toThrow(`local group blue of local/ms-1: no local deployment recorded in ${runDir}`);
    expect(await settled(await deployer.start({ image: 'cc', version: '1.0.0' }))).toEqual({
      complete: true,
      failed: false,
      detail: 'local group blue of local/ms-1: 2/2 processes listening (1.0.0)',
    });
    expect(await versions()).toEqual(['1.0.0', '1.0.0']);

    const upgrade = await deployer.start({ image: 'cc', version: '1.1.0' });
    expect((await settled(upgrade)).complete).toBe(true);
    expect(await versions()).toEqual(['1.1.0', '1.1.0']);
    expect(await deployer.current()).toEqual({ image: 'cc', version: '1.1.0' });
    expect(await deployer.start({ image: 'cc', version: '1.1.0' })).toBe(upgrade);
    expect((await deployer.instances()).map((instance) => instance.healthUrl)).toEqual([`http://127.0.0.1:${ports[1]}/health`, `http://127.0.0.1:${ports[3]}/health`]);
  });

  it('reports a release whose processes exit as failed, with their last log line', async () => {
    const check = await settled(await deployer.start({ image: 'cc', version: '-not-a-version' }));
    expect(check.failed).toBe(true);
    expect(check.detail).toMatch(/process on port \d+ exited: call-control: invalid environment: CALL_CONTROL_VERSION must be/);
  });

  it('runs the reference service from a working directory outside the sources', async () => {
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'voiceplane-cwd-'));
    const [eslPort, healthPort] = await reservePorts(2);
    const { executable, args, env } = referenceCallControlCommand();
    const child = spawn(executable, [...args], {
      cwd: elsewhere,
      stdio: 'ignore',
      env: {
        ...process.env,
        ...env,
        CALL_CONTROL_GROUP: 'blue',
        CALL_CONTROL_VERSION: '1.0.0',
        CALL_CONTROL_ESL_PORT: String(eslPort),
        CALL_CONTROL_HEALTH_PORT: String(healthPort),
        CALL_CONTROL_LISTEN_HOST: '127.0.0.1',
      },
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`call control exited with code ${child.exitCode}`);
          const reply = await axios.get(`http://127.0.0.1:${healthPort}/health`).catch(() => undefined);
          return reply?.data.version === '1.0.0';
        },
        { timeoutMs: 20_000, message: 'call control answering /health' },
      );
    } finally {
      child.kill('SIGTERM');
      await exited;
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
