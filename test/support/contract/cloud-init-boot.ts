/**
 * Inside an instance namespace (see instance-namespace.ts): lets Debian's real cloud-init boot a synthesized user
 * data, as on first boot of an EC2 instance, with stand-ins only where the namespace has no AWS or systemd. cloud-init
 * is restricted to the modules the user data uses (write_files, runcmd via scripts_user): the rest (growpart, mounts,
 * users, ssh keys, hostname) would act on the machine itself.
 */
import { spawn, spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { DEFAULT_FREESWITCH_BINARY } from '../../../runtime/local-freeswitch/local-freeswitch';
import { SYSTEM_PATH } from './cloud-init-tools';
import { CLOUDWATCH_AGENT_CONFIG_FILE } from '../../../lib/cloudwatch-agent';

const STAGES = [['init'], ['modules', '--mode', 'config'], ['modules', '--mode', 'final']];
const STAND_IN_DIRECTORY = '/run/voiceplane-contract/bin';
/** What the stand-in systemctl was asked, one line per call. */
export const SYSTEMCTL_LOG = '/run/voiceplane-contract/systemctl.log';

/** Runs a command, throwing with its output when it fails. */
export function sh(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): string {
  const result = spawnSync(command, args, { encoding: 'utf8', env });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** A self-signed certificate for host name `host` (files under `directory`): its key, certificate and the CA bundle trusting it. */
export function selfSignedCertificate(host: string, directory: string): { key: string; cert: string; caBundle: string } {
  mkdirSync(directory, { recursive: true });
  const key = path.join(directory, 'key.pem');
  const cert = path.join(directory, 'cert.pem');
  sh('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`, '-keyout', key, '-out', cert]);
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8'), caBundle: cert };
}

export function appendHosts(entries: Record<string, string>): void {
  writeFileSync('/etc/hosts', Object.entries(entries).map(([name, address]) => `${address} ${name}\n`).join(''), { flag: 'a' });
}

/**
 * Stand-ins for what the namespace cannot do for real: `systemctl` starts a unit the way its Debian unit file does
 * (same binary, configuration, user and environment files; there is no systemd here), `apt-get` installs nothing
 * (no network here) but fails unless the package is already installed from Debian.
 */
export function installStandIns(freeswitchBinary = DEFAULT_FREESWITCH_BINARY): void {
  mkdirSync(STAND_IN_DIRECTORY, { recursive: true });
  const moduleDirectory = path.join(path.dirname(path.dirname(freeswitchBinary)), 'lib/freeswitch/mod');
  const systemctl = `#!/bin/bash
set -euo pipefail
echo "$*" >> ${SYSTEMCTL_LOG}
start_freeswitch() {
  # freeswitch.service: Type=forking, -u freeswitch -g freeswitch -ncwait -nonat, Debian's directories.
  install -d -o freeswitch -g freeswitch /var/lib/freeswitch /var/lib/freeswitch/db /var/log/freeswitch /run/freeswitch
  ${freeswitchBinary} -u freeswitch -g freeswitch -ncwait -nonat -np -base /var/lib/freeswitch -conf /etc/freeswitch \\
    -log /var/log/freeswitch -db /var/lib/freeswitch/db -run /run/freeswitch -mod ${moduleDirectory} \\
    </dev/null >>/var/log/freeswitch/console.log 2>&1
}
start_kamailio() {
  # kamailio.service: its Environment= defaults, then EnvironmentFile=-/etc/default/kamailio and -/etc/default/kamailio.d/*.
  set -a
  CFGFILE=/etc/kamailio/kamailio.cfg SHM_MEMORY=64 PKG_MEMORY=8
  for file in /etc/default/kamailio /etc/default/kamailio.d/*; do [ -r "$file" ] && . "$file"; done
  set +a
  install -d -o kamailio -g kamailio -m 0770 /run/kamailio
  setpriv --reuid kamailio --regid kamailio --init-groups \\
    /usr/sbin/kamailio -P /run/kamailio/kamailio.pid -f "$CFGFILE" -m "$SHM_MEMORY" -M "$PKG_MEMORY" </dev/null >>/var/log/kamailio-console.log 2>&1
}
case "$*" in
  'enable --now freeswitch') start_freeswitch ;;
  'enable kamailio') ;;
  'restart kamailio') start_kamailio ;;
  *) echo "systemctl stand-in: no such step: $*" >&2; exit 1 ;;
esac
`;
  const aptGet = `#!/bin/bash
set -euo pipefail
case "$*" in
  'update '*) ;;
  *'install '*) for package in "\${@: -1}"; do dpkg-query -W -f '\${Status}\\n' "$package" | grep -q 'install ok installed'; done ;;
  *) echo "apt-get stand-in: no such step: $*" >&2; exit 1 ;;
esac
`;
  for (const [name, content] of Object.entries({ systemctl, 'apt-get': aptGet })) {
    writeFileSync(path.join(STAND_IN_DIRECTORY, name), content);
    chmodSync(path.join(STAND_IN_DIRECTORY, name), 0o755);
  }
}

export interface BootEnvironment {
  /** AWS_EC2_METADATA_SERVICE_ENDPOINT: the instance metadata stand-in (the AWS CLI and the boot scripts honour it). */
  readonly metadataEndpoint: string;
  /** AWS_CA_BUNDLE: trusts the certificate of a stand-in AWS API (e.g. Secrets Manager's). @default none */
  readonly caBundle?: string;
  /** Directories after the system's, as the AMI has them on PATH (e.g. FreeSWITCH's fs_cli). */
  readonly extraPath?: readonly string[];
}

export interface StageResult {
  readonly stage: string;
  readonly status: number | null;
  readonly output: string;
}

/** What every boot probe reports first: how cloud-init's stages went and what the boot asked systemctl. */
export interface BootReport {
  readonly stages: readonly StageResult[];
  readonly systemctl: readonly string[];
  /** The CloudWatch agent's configuration the boot left, parsed (undefined: none). */
  readonly cloudWatchAgentConfig?: unknown;
}

export function cloudWatchAgentConfig(): unknown {
  return existsSync(CLOUDWATCH_AGENT_CONFIG_FILE) ? JSON.parse(readFileSync(CLOUDWATCH_AGENT_CONFIG_FILE, 'utf8')) : undefined;
}

/**
 * Seeds `userData` (the bytes EC2 would pass, gzip included) as a NoCloud data source and runs cloud-init's boot
 * stages. The environment is what systemd gives cloud-init's units (PATH, no HOME) plus the two stand-in endpoints.
 */
export async function bootWithCloudInit(userData: Buffer, instanceId: string, environment: BootEnvironment): Promise<StageResult[]> {
  rmSync('/etc/cloud/cloud.cfg.d', { recursive: true, force: true });
  mkdirSync('/etc/cloud/cloud.cfg.d');
  writeFileSync(
    '/etc/cloud/cloud.cfg',
    [
      'datasource_list: [NoCloud]',
      'preserve_hostname: true',
      'network: {config: disabled}',
      'cloud_init_modules: [write_files]',
      'cloud_config_modules: [runcmd]',
      'cloud_final_modules: [scripts_user]',
      'system_info: {distro: debian, paths: {cloud_dir: /var/lib/cloud/, templates_dir: /etc/cloud/templates/}}',
      '',
    ].join('\n'),
  );
  const seed = '/var/lib/cloud/seed/nocloud';
  mkdirSync(seed, { recursive: true });
  writeFileSync(path.join(seed, 'user-data'), userData);
  writeFileSync(path.join(seed, 'meta-data'), `instance-id: ${instanceId}\n`);
  const env = {
    PATH: [STAND_IN_DIRECTORY, SYSTEM_PATH, ...(environment.extraPath ?? [])].join(':'),
    AWS_EC2_METADATA_SERVICE_ENDPOINT: environment.metadataEndpoint,
    ...(environment.caBundle ? { AWS_CA_BUNDLE: environment.caBundle } : {}),
  };
  const results: StageResult[] = [];
  for (const stage of STAGES) {
    // Asynchronously: the stand-ins the boot calls answer from this process's event loop.
    const result = await runStage(stage, env);
    results.push(result);
    if (result.status !== 0) break;
  }
  return results;
}

function runStage(stage: readonly string[], env: NodeJS.ProcessEnv): Promise<StageResult> {
  const child = spawn('cloud-init', stage, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  const output: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  return new Promise((resolve) =>
    child.once('close', (status) => resolve({ stage: stage.join(' '), status, output: Buffer.concat(output).toString('utf8').slice(-6_000) })),
  );
}

export function systemctlCalls(): string[] {
  try {
    return readFileSync(SYSTEMCTL_LOG, 'utf8').trim().split('\n');
  } catch {
    return [];
  }
}
