/**
 * Runs one container definition the way ECS would start it, inside a network and mount namespace of its own
 * (started by runInContainerSandbox; see test/contract/ecs-containers.test.ts): the task's private addresses exist
 * on loopback, DynamoDB answers per region at AWS_ENDPOINT_URL_DYNAMODB with the stacks' tables, the media servers
 * it names are simulated at their addresses, the root filesystem is read-only when the definition says so, and the
 * image's entry point runs as PID 1 of its own PID namespace as the image's user. Prints one JSON report line.
 */
import { execFileSync, spawn, type ChildProcess } from 'child_process';
import { readFileSync } from 'fs';
import { createInterface } from 'readline';
import { reportAsJsonLine } from '../probe-report';
import { FreeSwitchSimulator } from '../../../runtime/freeswitch-simulator/freeswitch-simulator';
import { startRegionalDynamoDb, type DynamoCall } from './regional-dynamodb';
import type { StackTable } from './synthesized-stacks';

export interface SandboxSpec {
  /** Private IPv4 addresses the task's command names, made local. */
  readonly addresses: readonly string[];
  readonly tables: readonly StackTable[];
  readonly mediaServers: readonly { readonly host: string; readonly port: number; readonly password: string }[];
  readonly readonlyRootFilesystem: boolean;
  readonly uid: number;
  readonly gid: number;
  readonly workdir: string;
  /** Entry point followed by the command. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The health-check command as ECS runs it (CMD-SHELL already turned into `sh -c`). */
  readonly healthCheck?: { readonly argv: readonly string[]; readonly timeoutSeconds: number; readonly deadlineMs: number };
  /** Output the container must print (substrings) before it is stopped. */
  readonly expectOutput: readonly string[];
  readonly stopTimeoutSeconds: number;
}

export interface SandboxReport {
  readonly healthy: boolean;
  readonly healthyAfterMs?: number;
  readonly missingOutput: readonly string[];
  /** How the entry point ended after SIGTERM (or on its own, when `exitedEarly`). */
  readonly exit: { readonly code: number | null; readonly signal: string | null; readonly afterMs: number };
  readonly exitedEarly: boolean;
  readonly output: readonly string[];
  readonly dynamoCalls: readonly DynamoCall[];
}

const POLL_MS = 200;

async function main(specFile: string): Promise<SandboxReport> {
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as SandboxSpec;
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  for (const address of spec.addresses) execFileSync('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo']);
  const dynamo = await startRegionalDynamoDb(spec.tables);
  const simulators = spec.mediaServers.map((server) => new FreeSwitchSimulator({ host: server.host, port: server.port, password: server.password, hostname: `ms-${server.host}` }));
  await Promise.all(simulators.map((simulator) => simulator.start()));
  if (spec.readonlyRootFilesystem) execFileSync('mount', ['-o', 'remount,bind,ro', '/']);

  const output: string[] = [];
  const container = spawn('unshare', ['--pid', '--fork', `--setuid=${spec.uid}`, `--setgid=${spec.gid}`, '--', ...spec.argv], {
    cwd: spec.workdir,
    env: { ...spec.env, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [container.stdout, container.stderr]) createInterface({ input: stream! }).on('line', (line) => output.push(line));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => container.once('exit', (code, signal) => resolve({ code, signal })));
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const started = Date.now();
  let healthyAfterMs: number | undefined;
  if (spec.healthCheck) {
    const { argv, timeoutSeconds, deadlineMs } = spec.healthCheck;
    while (!hasExited && Date.now() - started < deadlineMs) {
      if ((await runCheck(argv, spec, timeoutSeconds * 1000)) === 0) {
        healthyAfterMs = Date.now() - started;
        break;
      }
      await pause(POLL_MS);
    }
  }
  const missing = () => spec.expectOutput.filter((expected) => !output.some((line) => line.includes(expected)));
  while (!hasExited && missing().length > 0 && Date.now() - started < (spec.healthCheck?.deadlineMs ?? 30_000)) await pause(POLL_MS);

  const exitedEarly = hasExited;
  const stopping = Date.now();
  if (!hasExited) signalInit(container, 'SIGTERM');
  const stopDeadline = setTimeout(() => container.kill('SIGKILL'), (spec.stopTimeoutSeconds + 5) * 1000);
  const exit = await exited;
  clearTimeout(stopDeadline);

  await Promise.all(simulators.map((simulator) => simulator.stop()));
  const dynamoCalls = dynamo.calls();
  await dynamo.close();
  return { healthy: healthyAfterMs !== undefined, healthyAfterMs, missingOutput: missing(), exit: { ...exit, afterMs: Date.now() - stopping }, exitedEarly, output, dynamoCalls };
}

/** ECS stops a task by signalling its PID 1: the entry point, the only child of `unshare --fork`. */
function signalInit(container: ChildProcess, signal: NodeJS.Signals): void {
  const children = readFileSync(`/proc/${container.pid}/task/${container.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  if (children.length !== 1) throw new Error(`expected the entry point as the only process under unshare, found ${children.length}`);
  process.kill(Number(children[0]), signal);
}

function runCheck(argv: readonly string[], spec: SandboxSpec, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const check = spawn(argv[0], argv.slice(1), { cwd: spec.workdir, env: spec.env, uid: spec.uid, gid: spec.gid, stdio: 'ignore', timeout: timeoutMs });
    check.once('error', () => resolve(null));
    check.once('exit', (code) => resolve(code));
  });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

reportAsJsonLine(() => main(process.argv[2]));
