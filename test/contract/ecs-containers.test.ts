import { spawnSync } from 'child_process';
import { generateKeyPairSync, randomBytes } from 'crypto';
import { readFileSync } from 'fs';
import { CDS_PEER_KEY_VARIABLE } from '../../runtime/commands/secret-variables';
import * as path from 'path';
import { loadTopologyFile } from '../../stacks/load-topology';
import { imageConfig } from '../support/contract/dockerfile';
import { synthesizedContainers, healthCheckRun, type SynthesizedContainer } from '../support/contract/ecs-containers';
import { roleStatements, unallowedDynamoCalls } from '../support/contract/iam-policies';
import { buildImageFilesystem } from '../support/contract/image-filesystem';
import { containerSandboxOrSkip, runInContainerSandbox } from '../support/contract/run-in-container-sandbox';
import { platformTables, synthesizedStacks } from '../support/contract/synthesized-stacks';
import { synthPlatform } from '../support/synth-platform';

/** A value of the shape the secret holds in AWS (the site's Ed25519 private key for the peer key, else a random token). */
function standInSecretValue(variable: string): string {
  if (variable === CDS_PEER_KEY_VARIABLE) return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return `contract-${randomBytes(24).toString('hex')}`;
}

/**
 * Every ECS container the stacks define, started from what synth wrote: the image's entry point (from the
 * Dockerfile target that builds the image it names) plus the definition's command, with its environment and its
 * secrets' names (dummy values), as the image's user, on loopback copies of the private addresses it names, with
 * DynamoDB per region holding exactly the stacks' tables. Its own health check must pass, and SIGTERM (how ECS
 * stops a task) must end it with exit 0 within its stop timeout.
 */

const DOCKERFILE = path.join(__dirname, '../../Dockerfile');
/** The images' user `node` (uid and gid 1000 in the node base image). */
const IMAGE_USER = { node: { uid: 1000, gid: 1000 } } as const;
const IMAGE_PATH = `${path.dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
const PRIVATE_ADDRESS = /\b(10\.[0-9]{1,3}|172\.(1[6-9]|2[0-9]|3[01])|192\.168)\.[0-9]{1,3}\.[0-9]{1,3}\b/g;

const topology = loadTopologyFile(path.join(__dirname, '../../stacks/topology.example.json'));
const stacks = synthesizedStacks(synthPlatform(topology, 'offline'));
const containers = synthesizedContainers(stacks);
const callControlImages = new Set(topology.sites.flatMap((site) => site.mediaServers.flatMap((server) => server.callControl.groups.map((group) => group.image))));

/** The Dockerfile target that builds the image a definition names. */
function imageTarget(image: string): string {
  if (image === topology.runtimeImage) return 'runtime';
  if (callControlImages.has(image.slice(0, image.lastIndexOf(':')))) return 'call-control';
  throw new Error(`no Dockerfile target builds ${image}`);
}

/** `--flag VALUE` pairs of a command. */
const flagValues = (argv: readonly string[], flag: string) => argv.flatMap((arg, index) => (arg === flag && index + 1 < argv.length ? [argv[index + 1]] : []));

const sandboxed = containerSandboxOrSkip('the ECS container contract test');
let image: ReturnType<typeof buildImageFilesystem>;

(sandboxed ? describe : describe.skip)('ECS containers as synthesized', () => {
  beforeAll(() => {
    image = buildImageFilesystem();
  }, 240_000);
  afterAll(() => image?.remove());

  it("runs the runtime image's voiceplane: help, version and a refused command line, from production dependencies only", () => {
    const config = imageConfig(DOCKERFILE, 'runtime');
    // tini aside (PID 1 is the sandboxed tests' business), `node` and its script, as the image runs them.
    const script = config.entryPoint.slice(config.entryPoint.indexOf('node') + 1);
    const voiceplane = (args: readonly string[]) => spawnSync(process.execPath, [...script, ...args], { cwd: image.appDir, encoding: 'utf8', env: { PATH: IMAGE_PATH } });
    const { version } = JSON.parse(readFileSync(path.join(image.appDir, 'package.json'), 'utf8')) as { version: string };
    expect(voiceplane(['--version'])).toMatchObject({ status: 0, stdout: `${version}\n`, stderr: '' });
    expect(voiceplane(['cds', 'serve', '--help'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^Usage: voiceplane cds serve \[options\]/) });
    expect(voiceplane(['cds', 'serv'])).toMatchObject({ status: 2, stdout: '', stderr: "voiceplane: unknown command 'serv' (Did you mean serve?)\n" });
  });

  it('are the CDS node of each site and a call-control container per group', () => {
    const cds = containers.filter((container) => container.definition.name === 'cds').map((container) => container.stack.name);
    expect(cds.sort()).toEqual(topology.sites.map((site) => `${topology.platform}-site-${site.id}`).sort());
    const groups = topology.sites.flatMap((site) => site.mediaServers.flatMap((server) => server.callControl.groups));
    expect(containers.filter((container) => container.definition.name === 'call-control')).toHaveLength(groups.length);
  });

  it.each(containers.map((container) => ({ ...container, label: `${container.family}/${container.definition.name}` })))(
    '$label starts from its image and command, passes its own health check, and stops on SIGTERM within its stop timeout',
    async (container: SynthesizedContainer) => {
      const { definition } = container;
      const config = imageConfig(DOCKERFILE, imageTarget(definition.image));
      const argv = [...(definition.entryPoint ?? config.entryPoint), ...(definition.command ?? config.cmd)];
      const secrets = Object.fromEntries((definition.secrets ?? []).map((secret) => [secret.name, standInSecretValue(secret.name)]));
      const env: Record<string, string> = {
        PATH: IMAGE_PATH,
        HOME: '/home/node',
        ...config.env,
        // ECS hands a task its role's credentials; these only sign requests to the local DynamoDB.
        AWS_ACCESS_KEY_ID: 'contract',
        AWS_SECRET_ACCESS_KEY: 'contract',
        ...Object.fromEntries((definition.environment ?? []).map((variable) => [variable.name, variable.value])),
        ...secrets,
      };
      const user = IMAGE_USER[(definition.user ?? config.user) as keyof typeof IMAGE_USER];
      expect(user).toBeDefined();
      expect(definition.healthCheck).toBeDefined();
      const mediaServers = flagValues(argv, '--media-server').map((target) => {
        const [host, port] = target.split(':');
        return { host, port: Number(port), password: env.VOICEPLANE_ESL_PASSWORD ?? '' };
      });

      const report = await runInContainerSandbox({
        addresses: [...new Set(argv.join(' ').match(PRIVATE_ADDRESS) ?? [])],
        tables: platformTables(stacks),
        mediaServers,
        readonlyRootFilesystem: definition.readonlyRootFilesystem === true,
        ...user,
        workdir: config.workdir === '/app' ? image.appDir : config.workdir,
        argv,
        env,
        healthCheck: healthCheckRun(definition.healthCheck!),
        expectOutput: mediaServers.map((server) => `"mediaServer":"${server.host}:${server.port}"`),
        stopTimeoutSeconds: definition.stopTimeout ?? 30,
      });

      const output = `\n--- container output ---\n${report.output.join('\n')}`;
      expect({ healthy: report.healthy, exitedEarly: report.exitedEarly, output }).toEqual({ healthy: true, exitedEarly: false, output });
      // The CDS node collects channel events from every media server of its site, with the password from its secret.
      for (const server of mediaServers) {
        expect(report.output.some((line) => line.includes('collecting events from media server') && line.includes(`${server.host}:${server.port}`))).toBe(true);
      }
      expect({ exit: report.exit.code, output }).toEqual({ exit: 0, output });
      expect(report.exit.afterMs).toBeLessThan((definition.stopTimeout ?? 30) * 1000);
      // What it called in DynamoDB, its task role allows (action, table, region).
      expect(unallowedDynamoCalls(container.stack, roleStatements(container.stack, container.taskRoleArn), report.dynamoCalls)).toEqual([]);
      // Secrets never reach the logs.
      for (const value of Object.values(secrets)) expect(report.output.join('\n')).not.toContain(value);
    },
    240_000,
  );
});
