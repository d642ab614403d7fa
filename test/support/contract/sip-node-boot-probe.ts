/**
 * Runs as the first process of an instance namespace (see instance-namespace.ts and test/contract/user-data.test.ts):
 * boots a SIP cluster node's synthesized user data with Debian's cloud-init, then reports as one JSON line whether the
 * Kamailio configuration it left passes `kamailio -c` with the environment its unit gives it, and whether Kamailio runs.
 * Argument: a JSON file of {@link SipNodeBootInput}.
 */
import { reportAsJsonLine } from '../probe-report';
import { spawnSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import { connect } from 'net';
import { type BootReport, bootWithCloudInit, installStandIns, sh, systemctlCalls } from './cloud-init-boot';
import { InstanceMetadataStandIn } from './instance-metadata-stand-in';

export interface SipNodeBootInput {
  readonly userDataFile: string;
  /** An address in the node's subnet (EC2 picks one; the SIP nodes have no fixed address). */
  readonly privateIp: string;
  readonly publicIp: string;
  readonly rpcPort: number;
}

export interface SipNodeBootReport extends BootReport {
  readonly nodeEnvironment: string;
  readonly configCheck: { status: number | null; output: string };
  readonly kamailioUser: string;
  readonly rpcListening: boolean;
}

/** `kamailio -c` on the unit's configuration file, with the unit's environment (defaults, then its environment files). */
function checkAsTheUnitWould(): { status: number | null; output: string } {
  const script = [
    'set -a',
    'CFGFILE=/etc/kamailio/kamailio.cfg SHM_MEMORY=64 PKG_MEMORY=8',
    'for file in /etc/default/kamailio /etc/default/kamailio.d/*; do [ -r "$file" ] && . "$file"; done',
    'exec /usr/sbin/kamailio -c -f "$CFGFILE"',
  ].join('\n');
  const result = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.slice(-3_000) };
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

async function main(): Promise<SipNodeBootReport> {
  const input = JSON.parse(readFileSync(process.argv[2], 'utf8')) as SipNodeBootInput;
  sh('ip', ['addr', 'add', `${input.privateIp}/32`, 'dev', 'lo']);
  installStandIns();
  const metadata = await InstanceMetadataStandIn.start({ localIpv4: input.privateIp, publicIpv4: input.publicIp, roleName: 'voiceplane-sip-node', accessKeyId: 'ASIACONTRACTTEST0002' });
  const stages = await bootWithCloudInit(readFileSync(input.userDataFile), 'i-0contract0sip0node', { metadataEndpoint: metadata.endpoint });
  const environmentFile = '/etc/default/kamailio.d/voiceplane';
  const report: SipNodeBootReport = {
    stages,
    systemctl: systemctlCalls(),
    nodeEnvironment: existsSync(environmentFile) ? readFileSync(environmentFile, 'utf8') : '(none)',
    configCheck: checkAsTheUnitWould(),
    kamailioUser: spawnSync('ps', ['-o', 'user=', '-C', 'kamailio'], { encoding: 'utf8' }).stdout.trim().split('\n')[0] ?? '',
    rpcListening: await listening(input.privateIp, input.rpcPort),
  };

  return report;
}

reportAsJsonLine(main);
