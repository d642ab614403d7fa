/**
 * Runs as the first process of an instance namespace (see instance-namespace.ts and test/contract/user-data.test.ts):
 * boots a media server's synthesized user data with Debian's cloud-init against the real FreeSWITCH, then reports as
 * one JSON line what a user of that media server would see. Argument: a JSON file of {@link MediaServerBootInput}.
 */
import { spawn, spawnSync } from 'child_process';
import { cpSync, existsSync, readFileSync, statSync } from 'fs';
import { connect } from 'net';
import * as path from 'path';
import { CallControlService } from '../../../runtime/call-control';
import { jsonLinesLogger } from '../../../runtime/shared/logger';
import { EslClient } from '../../../runtime/esl';
import { MediaServerClient } from '../../../runtime/media-server';
import { ESL_INBOUND_PORT, MEDIA_SERVER_SIP_PORT } from '../../../runtime/freeswitch-config/media-server-ports';
import { reportAsJsonLine } from '../probe-report';
import { waitFor } from '../wait-for';
import { appendHosts, type BootReport, bootWithCloudInit, cloudWatchAgentConfig, installStandIns, selfSignedCertificate, sh, systemctlCalls } from './cloud-init-boot';
import { InstanceMetadataStandIn } from './instance-metadata-stand-in';
import { type SecretsManagerCall, SecretsManagerStandIn } from './secrets-manager-stand-in';

export interface MediaServerBootInput {
  readonly userDataFile: string;
  readonly privateIp: string;
  readonly publicIp: string;
  /** The site's region, as the instance metadata tells it. */
  readonly region: string;
  readonly secret: { readonly name: string; readonly region: string };
  /** Boot with Secrets Manager unreachable (nothing listens where its name resolves). */
  readonly secretsManagerUnreachable?: boolean;
  /** The call-control endpoint name of this media server and its group ports, as the data center deploys them. */
  readonly callControl: { readonly host: string; readonly groups: readonly { readonly id: string; readonly port: number }[] };
  /** An address of the SIP cluster's subnets (SIP from there must be admitted) and one the event socket must admit. */
  readonly sipClusterSource: string;
  readonly eslAdmittedSource: string;
  readonly freeswitchBinary: string;
  readonly sipp: string;
  readonly callerScenario: string;
}

export interface MediaServerBootReport extends BootReport {
  readonly tcpSynRetries: number;
  readonly configInstalled: boolean;
  readonly amiConfigMovedAside: boolean;
  readonly secretsFile?: { mode: string; owner: string };
  readonly secretsManagerCalls: readonly SecretsManagerCall[];
  readonly metadataReads: readonly string[];
  readonly passwordGenerated: boolean;
  readonly freeswitchUser: string;
  readonly eslWithStoredPassword: string;
  readonly eslWithWrongPassword: string;
  readonly eslFromOutsideAcl: string;
  readonly eslFromAdmittedSource: string;
  readonly routes: unknown;
  readonly routesInCoreDb: string;
  readonly publicIpVariable: string;
  readonly call?: { sippExit: number | null; callControlSaw: Record<string, number> };
  readonly freeswitchLog: string;
}

const CALL_CONTROL_ADDRESS = '127.100.0.6';
const INSTANCE_ID = 'i-0contract0media0srv';
const ROLE = 'voiceplane-media-server';
const ACCESS_KEY_ID = 'ASIACONTRACTTEST0001';

/** The first line an event socket sends to a client at `source`: its auth request, or its ACL's rejection. */
function eslGreeting(host: string, source: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port: ESL_INBOUND_PORT, localAddress: source });
    let text = '';
    const done = () => {
      socket.destroy();
      resolve(text.split('\n')[0].trim() || '(closed without a word)');
    };
    socket.setTimeout(5_000, done);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) done();
    });
    socket.on('error', (error) => resolve(`error: ${error.message}`));
    socket.on('close', done);
  });
}

async function eslOutcome(host: string, password: string, command: string): Promise<string> {
  try {
    const client = await EslClient.connect({ host, port: ESL_INBOUND_PORT, password, connectTimeoutMs: 5_000 });
    try {
      return (await client.api(command)).split('\n')[0];
    } finally {
      await client.close();
    }
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  }
}

async function placeCall(input: MediaServerBootInput, groups: Map<string, { service: CallControlService; httpPort: number }>) {
  const sipp = spawn(
    input.sipp,
    [`${input.privateIp}:${MEDIA_SERVER_SIP_PORT}`, '-sf', input.callerScenario, '-s', '1000', '-i', input.sipClusterSource, '-bind_local', '-p', '5080',
      '-m', '1', '-d', '3000', '-nostdin', '-timeout', '40s'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<number | null>((resolve) => sipp.once('exit', resolve));
  const callControlSaw: Record<string, number> = {};
  // Held for 3 s: the group the route table sends it to reports it in /calls meanwhile.
  await waitFor(
    async () => {
      for (const [id, group] of groups) {
        const reply = (await (await fetch(`http://${CALL_CONTROL_ADDRESS}:${group.httpPort}/calls`)).json()) as { active: number };
        callControlSaw[id] = Math.max(callControlSaw[id] ?? 0, reply.active);
      }
      return Object.values(callControlSaw).some((active) => active > 0) || sipp.exitCode !== null;
    },
    { timeoutMs: 30_000, intervalMs: 100, message: 'the call reaching call control' },
  ).catch(() => undefined);
  return { sippExit: await exited, callControlSaw };
}

async function main(): Promise<MediaServerBootReport> {
  const input = JSON.parse(readFileSync(process.argv[2], 'utf8')) as MediaServerBootInput;
  // The instance's own address (EC2 puts it on its interface; here on loopback, where the namespace's traffic stays).
  sh('ip', ['addr', 'add', `${input.privateIp}/32`, 'dev', 'lo']);
  const secretsHost = `secretsmanager.${input.secret.region}.amazonaws.com`;
  appendHosts({ [secretsHost]: '127.0.0.1', [input.callControl.host]: CALL_CONTROL_ADDRESS });
  // The AMI: FreeSWITCH's user and its stock configuration, which the boot must move aside.
  if (spawnSync('id', ['freeswitch']).status !== 0) {
    sh('useradd', ['--system', '--no-create-home', '--home-dir', '/var/lib/freeswitch', '--shell', '/usr/sbin/nologin', 'freeswitch']);
  }
  const stockConfig = path.join(path.dirname(path.dirname(input.freeswitchBinary)), 'etc/freeswitch');
  if (existsSync(stockConfig)) cpSync(stockConfig, '/etc/freeswitch', { recursive: true });
  installStandIns(input.freeswitchBinary);

  const tls = selfSignedCertificate(secretsHost, '/run/voiceplane-contract/tls');
  const secretsManager = input.secretsManagerUnreachable
    ? undefined
    : await SecretsManagerStandIn.start({ secretName: input.secret.name, host: '127.0.0.1', port: 443, key: tls.key, cert: tls.cert });
  const metadata = await InstanceMetadataStandIn.start({ localIpv4: input.privateIp, publicIpv4: input.publicIp, roleName: ROLE, accessKeyId: ACCESS_KEY_ID, region: input.region });
  const groups = new Map<string, { service: CallControlService; httpPort: number }>();
  for (const group of input.callControl.groups) {
    const service = new CallControlService({
      group: group.id,
      version: '1.0.0',
      eslListen: { host: CALL_CONTROL_ADDRESS, port: group.port },
      httpListen: { host: CALL_CONTROL_ADDRESS, port: 0 },
      logger: jsonLinesLogger({ write: () => undefined }),
    });
    groups.set(group.id, { service, httpPort: (await service.start()).httpPort });
  }

  const stages = await bootWithCloudInit(readFileSync(input.userDataFile), INSTANCE_ID, {
    metadataEndpoint: metadata.endpoint,
    caBundle: tls.caBundle,
    extraPath: [path.dirname(input.freeswitchBinary)],
  });
  const password = secretsManager?.value ?? '';
  const secretsFile = '/etc/freeswitch/voiceplane-secrets.xml';
  const ownerOf = (file: string) => sh('stat', ['-c', '%U', file]).trim();
  const report: MediaServerBootReport = {
    stages,
    systemctl: systemctlCalls(),
    cloudWatchAgentConfig: cloudWatchAgentConfig(),
    tcpSynRetries: Number(readFileSync('/proc/sys/net/ipv4/tcp_syn_retries', 'utf8')),
    configInstalled: existsSync('/etc/freeswitch/.voiceplane') && existsSync('/etc/freeswitch/freeswitch.xml'),
    amiConfigMovedAside: existsSync('/etc/freeswitch.ami/freeswitch.xml') && !existsSync('/etc/freeswitch.ami/.voiceplane'),
    secretsFile: existsSync(secretsFile) ? { mode: (statSync(secretsFile).mode & 0o777).toString(8), owner: ownerOf(secretsFile) } : undefined,
    secretsManagerCalls: secretsManager?.calls ?? [],
    metadataReads: metadata.reads,
    passwordGenerated: /^[0-9a-f]{48}$/.test(password),
    // ps exits 1 when no process matches: none running reads as ''.
    freeswitchUser: spawnSync('ps', ['-o', 'user=', '-C', 'freeswitch'], { encoding: 'utf8' }).stdout.trim(),
    eslWithStoredPassword: await eslOutcome(input.privateIp, password, 'status'),
    eslWithWrongPassword: await eslOutcome(input.privateIp, 'not-the-password', 'status'),
    eslFromOutsideAcl: await eslGreeting(input.privateIp, '127.0.0.1'),
    eslFromAdmittedSource: await eslGreeting(input.privateIp, input.eslAdmittedSource),
    routes: await MediaServerClient.connect({ host: input.privateIp, port: ESL_INBOUND_PORT, password })
      .then(async (client) => {
        try {
          return await client.routes();
        } finally {
          await client.close();
        }
      })
      .catch((error: Error) => `unreadable: ${error.message}`),
    routesInCoreDb: await eslOutcome(input.privateIp, password, 'db select/voiceplane/call_control_routes'),
    publicIpVariable: await eslOutcome(input.privateIp, password, 'global_getvar voiceplane_public_ip'),
    call: password ? await placeCall(input, groups) : undefined,
    freeswitchLog: existsSync('/var/log/freeswitch/freeswitch.log')
      ? readFileSync('/var/log/freeswitch/freeswitch.log', 'utf8').split('\n').filter((line) => /\[(ERR|CRIT|ALERT)\]/.test(line)).slice(-20).join('\n')
      : '(no log)',
  };
  return report;
}

reportAsJsonLine(main);
