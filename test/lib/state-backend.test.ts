import { mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { StateBackend, Topology, TopologyError, TopologyInput, parseTopology } from '../../lib';
import { buildPlatform } from '../../stacks/platform';
import { MISSING_STATE_BACKEND, StateBackendError, resolveStateBackend } from '../../stacks/state-backend-settings';
import { readStackJson, synthPlatform } from '../support/synth-platform';

interface StackJson {
  terraform: { backend: Record<string, Record<string, unknown>> };
  data?: { terraform_remote_state?: Record<string, { backend: string; config: Record<string, unknown> }> };
}

const exampleInput = (): TopologyInput => JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8'));
const topology = parseTopology(exampleInput());
const STACKS = ['acme-dc-east', 'acme-site-west', 'acme-site-frankfurt'];

function synthStacks(input: Topology, profile: 'aws' | 'offline', stateBackend?: StateBackend): Record<string, StackJson> {
  const { stackDirs } = synthPlatform(input, profile, undefined, stateBackend);
  return Object.fromEntries(Object.entries(stackDirs).map(([name, dir]) => [name, JSON.parse(readStackJson(dir)) as StackJson]));
}

/** The remote states a stack reads, as backend and config, sorted by the key or path they read. */
function remoteStatesOf(stack: StackJson): Array<{ backend: string; config: Record<string, unknown> }> {
  const states = Object.values(stack.data?.terraform_remote_state ?? {});
  return states.sort((a, b) => String(a.config.key ?? a.config.path).localeCompare(String(b.config.key ?? b.config.path)));
}

function backendError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof StateBackendError) return error.message;
    throw error;
  }
  throw new Error('expected a StateBackendError');
}

describe('shared state in the aws profile (the example topology: S3 bucket acme-voiceplane-tfstate)', () => {
  const stacks = synthStacks(topology, 'aws');

  it('keeps each stack in its own encrypted key of the bucket, locked with an S3 lock file', () => {
    expect(Object.keys(stacks).sort()).toEqual([...STACKS].sort());
    for (const name of STACKS) {
      expect(stacks[name].terraform.backend).toEqual({
        s3: { bucket: 'acme-voiceplane-tfstate', key: `voiceplane/acme/${name}.tfstate`, region: 'us-east-1', encrypt: true, use_lockfile: true },
      });
    }
    expect(new Set(STACKS.map((name) => stacks[name].terraform.backend.s3.key)).size).toBe(STACKS.length);
  });

  it('has site stacks read their data center and the sites before them from the same bucket', () => {
    const s3State = (stackName: string) => ({ backend: 's3', config: { bucket: 'acme-voiceplane-tfstate', key: `voiceplane/acme/${stackName}.tfstate`, region: 'us-east-1' } });
    expect(remoteStatesOf(stacks['acme-dc-east'])).toEqual([]);
    expect(remoteStatesOf(stacks['acme-site-west'])).toEqual([s3State('acme-dc-east')]);
    expect(remoteStatesOf(stacks['acme-site-frankfurt'])).toEqual([s3State('acme-dc-east'), s3State('acme-site-west')]);
  });

  it('uses the default key prefix "voiceplane" when the topology names none', () => {
    const input = exampleInput();
    input.stateBackend = { kind: 's3', bucket: 'ops-state', region: 'eu-west-1' };
    const site = synthStacks(parseTopology(input), 'aws')['acme-site-west'];
    expect(site.terraform.backend.s3).toMatchObject({ bucket: 'ops-state', key: 'voiceplane/acme-site-west.tfstate', region: 'eu-west-1' });
    expect(remoteStatesOf(site)[0].config).toEqual({ bucket: 'ops-state', key: 'voiceplane/acme-dc-east.tfstate', region: 'eu-west-1' });
  });
});

describe('local state, only when asked for', () => {
  it('keeps state beside each stack and reads the other stacks from their sibling directories with kind "local"', () => {
    const stacks = synthStacks(topology, 'aws', { kind: 'local' });
    expect(stacks['acme-dc-east'].terraform.backend).toEqual({ local: { path: 'terraform.acme-dc-east.tfstate' } });
    expect(remoteStatesOf(stacks['acme-site-frankfurt'])).toEqual([
      { backend: 'local', config: { path: '../acme-dc-east/terraform.acme-dc-east.tfstate' } },
      { backend: 'local', config: { path: '../acme-site-west/terraform.acme-site-west.tfstate' } },
    ]);
  });

  it('is what the offline profile uses whatever the topology says, with placeholders instead of remote state', () => {
    const stacks = synthStacks(topology, 'offline');
    for (const name of STACKS) {
      expect(stacks[name].terraform.backend).toEqual({ local: { path: `terraform.${name}.tfstate` } });
      expect(remoteStatesOf(stacks[name])).toEqual([]);
    }
  });

  it('is never a silent default: the aws profile without a backend fails before building a stack', () => {
    const { stateBackend: _configured, ...withoutBackend } = topology;
    const app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'voiceplane-no-backend-')) });
    expect(backendError(() => buildPlatform(app, withoutBackend, 'aws'))).toBe(MISSING_STATE_BACKEND);
    expect(app.node.children).toHaveLength(0);
    expect(MISSING_STATE_BACKEND).not.toContain('\n');
  });
});

describe('stateBackend in the topology file', () => {
  it('rejects bad settings with one path-qualified line each', () => {
    const input = exampleInput();
    input.stateBackend = { kind: 's3', bucket: 'Acme.State', region: 'mars-1', keyPrefix: '/state/' };
    const issues = (() => {
      try {
        parseTopology(input);
      } catch (error) {
        if (error instanceof TopologyError) return error.issues;
      }
      return [];
    })();
    expect(issues).toEqual([
      'stateBackend.bucket: must be an S3 bucket name: 3-63 lowercase letters, digits and dashes, starting and ending with a letter or digit',
      'stateBackend.region: not an AWS region name (expected e.g. "us-east-1")',
      'stateBackend.keyPrefix: must be path segments of letters, digits, "_", "." and "-" separated by "/", without a leading or trailing "/"',
    ]);
  });

  it('rejects an unknown kind and fields of another kind', () => {
    const unknownKind = exampleInput();
    unknownKind.stateBackend = { kind: 'gcs' } as unknown as TopologyInput['stateBackend'];
    expect(() => parseTopology(unknownKind)).toThrow('stateBackend.kind: must be "s3" or "local"');
    const localWithBucket = exampleInput();
    localWithBucket.stateBackend = { kind: 'local', bucket: 'x' } as unknown as TopologyInput['stateBackend'];
    expect(() => parseTopology(localWithBucket)).toThrow('stateBackend: Unrecognized key: "bucket"');
  });
});

describe('VOICEPLANE_STATE_* variables over the topology', () => {
  const fromTopology: StateBackend = { kind: 's3', bucket: 'topology-bucket', region: 'us-east-1', keyPrefix: 'from/topology' };

  it('leaves the topology setting alone when none is set', () => {
    expect(resolveStateBackend(fromTopology, {})).toBe(fromTopology);
    expect(resolveStateBackend(undefined, {})).toBeUndefined();
  });

  it('replaces the topology field by field', () => {
    expect(resolveStateBackend(fromTopology, { VOICEPLANE_STATE_BUCKET: 'ci-bucket' })).toEqual({ ...fromTopology, bucket: 'ci-bucket' });
    expect(resolveStateBackend(fromTopology, { VOICEPLANE_STATE_REGION: 'eu-west-1', VOICEPLANE_STATE_PREFIX: 'ci' })).toEqual({ ...fromTopology, region: 'eu-west-1', keyPrefix: 'ci' });
  });

  it('configures S3 alone, with the default prefix, and selects it over a local topology setting', () => {
    const variables = { VOICEPLANE_STATE_BUCKET: 'ci-bucket', VOICEPLANE_STATE_REGION: 'eu-west-1' };
    const expected = { kind: 's3', bucket: 'ci-bucket', region: 'eu-west-1', keyPrefix: 'voiceplane' };
    expect(resolveStateBackend(undefined, variables)).toEqual(expected);
    expect(resolveStateBackend({ kind: 'local' }, variables)).toEqual(expected);
  });

  it('switches to local state with VOICEPLANE_STATE_BACKEND=local', () => {
    expect(resolveStateBackend(fromTopology, { VOICEPLANE_STATE_BACKEND: 'local' })).toEqual({ kind: 'local' });
  });

  it('names the variable in a one-line error', () => {
    expect(backendError(() => resolveStateBackend(undefined, { VOICEPLANE_STATE_BUCKET: 'ci-bucket' }))).toBe(
      'VOICEPLANE_STATE_REGION: required by the s3 state backend (or set stateBackend.region in the topology)',
    );
    expect(backendError(() => resolveStateBackend(fromTopology, { VOICEPLANE_STATE_BUCKET: 'CI_Bucket' }))).toBe(
      'VOICEPLANE_STATE_BUCKET: must be an S3 bucket name: 3-63 lowercase letters, digits and dashes, starting and ending with a letter or digit',
    );
    expect(backendError(() => resolveStateBackend(fromTopology, { VOICEPLANE_STATE_BACKEND: 'consul' }))).toBe('VOICEPLANE_STATE_BACKEND: must be "s3" or "local"');
    expect(backendError(() => resolveStateBackend(undefined, { VOICEPLANE_STATE_BACKEND: 'local', VOICEPLANE_STATE_BUCKET: 'ci-bucket' }))).toBe(
      'VOICEPLANE_STATE_BUCKET: not used by the local state backend',
    );
  });
});
