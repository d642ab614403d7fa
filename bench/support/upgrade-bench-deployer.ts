import type { GroupDeployer, GroupInstance, Release } from '../../runtime/upgrade/deployers/deployer';
import type { DeploymentCheck } from '../../runtime/upgrade/flow/upgrade-steps';
import type { IpcProcess } from './upgrade-ipc';

/** Deploys a benchmark group by restarting its service in the call-control helper process (the restart completes within `start`). */
export class BenchGroupDeployer implements GroupDeployer {
  private release: Release;

  constructor(
    private readonly callControl: IpcProcess,
    private readonly key: string,
    private readonly groupId: string,
    private readonly ports: { eslPort: number; httpPort: number },
    initial: Release,
  ) {
    this.release = initial;
  }

  async current(): Promise<Release> {
    return this.release;
  }

  async start(release: Release): Promise<string> {
    await this.callControl.request('restart', { key: this.key, group: this.groupId, version: release.version });
    this.release = release;
    return `${this.key}@${release.version}`;
  }

  async status(deploymentId: string): Promise<DeploymentCheck> {
    const complete = deploymentId === `${this.key}@${this.release.version}`;
    return { complete, failed: !complete, detail: complete ? 'restarted' : `superseded by ${this.release.version}` };
  }

  async instances(): Promise<GroupInstance[]> {
    return [{ id: this.key, host: '127.0.0.1', eslPort: this.ports.eslPort, healthUrl: `http://127.0.0.1:${this.ports.httpPort}/health` }];
  }
}
