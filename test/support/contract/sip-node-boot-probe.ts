/**
 * Runs as the first process of an instance namespace (see instance-namespace.ts and test/contract/user-data.test.ts):
 * boots a SIP cluster node's synthesized user data with Debian's cloud-init, then reports as one JSON line whether the
 * Kamailio configuration it left passes `kamailio -c` with the environment its unit gives it, and whether Kamailio runs.
 * Argument: a JSON file of {@link SipNodeBootInput}.
 */
import { reportAsJsonLine } from '../probe-report';
import { spawnSync } from 'child_process';
import { existsSync, readFileSync, statSync } from 'fs';
import { request } from 'http';
import { connect } from 'net';
import { connect as tlsConnect } from 'tls';
import { KAMAILIO_RPC_PATH, rpcAuthorization } from '../../../runtime/sip';
import { appendHosts, type BootReport, bootWithCloudInit, cloudWatchAgentConfig, installStandIns, selfSignedCertificate, sh, systemctlCalls } from './cloud-init-boot';
import { InstanceMetadataStandIn } from './instance-metadata-stand-in';
import { type SecretsManagerCall, SecretsManagerStandIn } from './secrets-manager-stand-in';

/** The name the node's test certificate is made for (the voice connector would check the origination host's). */
const NODE_CERTIFICATE_NAME = 'sip-node.voiceplane.test';

export interface SipNodeBootInput {
  readonly userDataFile: string;
  /** An address in the node's subnet (EC2 picks one; the SIP nodes have no fixed address). */
  readonly privateIp: string;
  readonly publicIp: string;
  readonly rpcPort: number;
  /** The secret the RPC token comes from, holding `value` (put out of band) or no value (never put). */
  readonly rpcToken: { readonly secretName: string; readonly region: string; readonly value?: string; readonly path: string };
  /**
   * A node of a site whose voice connector requires encryption: the secret its certificate comes from, holding a
   * fresh self-signed key and certificate when `putValue`, else no value (never put), and the TLS port.
   */
  readonly tls?: { readonly secretName: string; readonly region: string; readonly putValue: boolean; readonly port: number; readonly path: string };
}

export interface SipNodeBootReport extends BootReport {
  readonly nodeEnvironment: string;
  readonly configCheck: { status: number | null; output: string };
  readonly kamailioUser: string;
  readonly rpcListening: boolean;
  readonly secretsManagerCalls: readonly SecretsManagerCall[];
  /** Mode and owner of the RPC token include the boot wrote, if any. */
  readonly rpcTokenFile?: { mode: string; owner: string };
  /** HTTP status of a JSON-RPC request from 127.0.0.1 with the secret's token and without any (undefined: no answer). */
  readonly rpcStatus: { readonly withToken?: number; readonly withoutToken?: number };
  /** Mode and owner of the certificate file the boot wrote, if any. */
  readonly certificateFile?: { mode: string; owner: string };
  /** Whether a TLS handshake with the node's address succeeds, the certificate checked against the secret's. */
  readonly tlsHandshake?: string;
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

/** 'ok' once a TLS handshake with host:port verifies against `ca` for {@link NODE_CERTIFICATE_NAME}, else why not. */
function tlsHandshake(host: string, port: number, ca: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, ca, servername: NODE_CERTIFICATE_NAME }, () => {
      socket.destroy();
      resolve('ok');
    });
    socket.on('error', (error) => resolve(`failed: ${error.message}`));
  });
}

/** Status of a `core.version` JSON-RPC request to host:port from 127.0.0.1, with `authorization` if given. */
function rpcStatus(host: string, port: number, authorization?: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ jsonrpc: '2.0', method: 'core.version', id: 1 });
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(authorization ? { authorization } : {}) };
    const call = request({ host, port, localAddress: '127.0.0.1', method: 'POST', path: KAMAILIO_RPC_PATH, agent: false, timeout: 5_000, headers }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    call.on('timeout', () => call.destroy());
    call.on('error', () => resolve(undefined));
    call.end(body);
  });
}

const fileMode = (file: string) => (existsSync(file) ? { mode: (statSync(file).mode & 0o777).toString(8), owner: sh('stat', ['-c', '%U', file]).trim() } : undefined);

async function main(): Promise<SipNodeBootReport> {
  const input = JSON.parse(readFileSync(process.argv[2], 'utf8')) as SipNodeBootInput;
  sh('ip', ['addr', 'add', `${input.privateIp}/32`, 'dev', 'lo']);
  installStandIns();
  const metadata = await InstanceMetadataStandIn.start({ localIpv4: input.privateIp, publicIpv4: input.publicIp, roleName: 'voiceplane-sip-node', accessKeyId: 'ASIACONTRACTTEST0002', region: input.rpcToken.region });
  const secretsHost = `secretsmanager.${input.rpcToken.region}.amazonaws.com`;
  appendHosts({ [secretsHost]: '127.0.0.1' });
  const endpoint = selfSignedCertificate(secretsHost, '/run/voiceplane-contract/tls');
  const caBundle = endpoint.caBundle;
  let nodeCertificate: ReturnType<typeof selfSignedCertificate> | undefined;
  const furtherSecrets: Record<string, string | undefined> = {};
  if (input.tls) {
    nodeCertificate = selfSignedCertificate(NODE_CERTIFICATE_NAME, '/run/voiceplane-contract/node-tls');
    furtherSecrets[input.tls.secretName] = input.tls.putValue ? `${nodeCertificate.key}${nodeCertificate.cert}` : undefined;
  }
  const secretsManager = await SecretsManagerStandIn.start({
    secretName: input.rpcToken.secretName,
    value: input.rpcToken.value,
    furtherSecrets,
    host: '127.0.0.1',
    port: 443,
    key: endpoint.key,
    cert: endpoint.cert,
  });
  const stages = await bootWithCloudInit(readFileSync(input.userDataFile), 'i-0contract0sip0node', { metadataEndpoint: metadata.endpoint, caBundle });
  const environmentFile = '/etc/default/kamailio.d/voiceplane';
  const report: SipNodeBootReport = {
    stages,
    systemctl: systemctlCalls(),
    cloudWatchAgentConfig: cloudWatchAgentConfig(),
    nodeEnvironment: existsSync(environmentFile) ? readFileSync(environmentFile, 'utf8') : '(none)',
    configCheck: checkAsTheUnitWould(),
    kamailioUser: spawnSync('ps', ['-o', 'user=', '-C', 'kamailio'], { encoding: 'utf8' }).stdout.trim().split('\n')[0] ?? '',
    rpcListening: await listening(input.privateIp, input.rpcPort),
    secretsManagerCalls: secretsManager.calls,
    rpcTokenFile: fileMode(input.rpcToken.path),
    rpcStatus: {
      withToken: input.rpcToken.value === undefined ? undefined : await rpcStatus(input.privateIp, input.rpcPort, rpcAuthorization(input.rpcToken.value)),
      withoutToken: await rpcStatus(input.privateIp, input.rpcPort),
    },
    ...(input.tls
      ? {
          certificateFile: fileMode(input.tls.path),
          tlsHandshake: await tlsHandshake(input.privateIp, input.tls.port, nodeCertificate!.cert),
        }
      : {}),
  };

  return report;
}

reportAsJsonLine(main);
