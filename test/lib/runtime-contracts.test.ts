import { parseArgs } from 'util';
import { parseTopology, TopologyError, type Topology, type TopologyInput } from '../../lib/topology';
import { parseCallControlEnvironment } from '../../runtime/call-control/call-control-environment';
import { parseCdsServeOptions } from '../../runtime/commands/cds-command';
import { CDS_PEER_PORT, CDS_PORT, CDS_SERVE_OPTIONS } from '../../runtime/commands/cds-serve-flags';
import { cdsServeRawOptions } from '../../runtime/commands/cds-serve-options';
import { upgradeRequestSchema } from '../../runtime/upgrade/request/upgrade-request';
import { synthesizedContainers, type SynthesizedContainer } from '../support/contract/ecs-containers';
import { synthesizedStacks } from '../support/contract/synthesized-stacks';
import { candidateId, candidateRepository, candidateTag, pick, seededRandom, type Random } from '../support/generated-values';
import { testPublicKeyText } from '../support/cds/test-identities';
import { synthPlatform } from '../support/synth-platform';

/**
 * The contracts between the constructs and the runtime: any topology the schema accepts synthesizes containers whose
 * command lines and environment the runtime's own parsers accept, and ids, versions and images follow one rule in
 * the topology, the upgrade request and the call-control container.
 */

function baseTopology(group: { id: string; image: string; version: string }, runtimeImage = 'public.ecr.aws/voiceplane/runtime:0.1.0'): TopologyInput {
  return {
    platform: 'acme',
    runtimeImage,
    dataCenters: [{ id: 'east', region: 'us-east-1', vpcCidr: '10.100.0.0/16', availabilityZones: ['us-east-1a', 'us-east-1b'] }],
    sites: [
      {
        id: 'west',
        region: 'us-west-2',
        vpcCidr: '10.1.0.0/16',
        availabilityZones: ['us-west-2a', 'us-west-2b'],
        sipCluster: { size: 1 },
        cdsPublicKey: testPublicKeyText('west'),
        mediaServers: [{ id: 'ms-1', callControl: { dataCenter: 'east', groups: [{ ...group, instances: 1 }, { id: 'other', instances: 1, image: 'cc', version: '1' }] } }],
      },
    ],
  };
}

/** The topology's problems with the field at `path`, none when it accepts the field (other fields are valid). */
function topologyProblems(input: TopologyInput, path: string): string[] {
  try {
    parseTopology(input);
    return [];
  } catch (error) {
    if (!(error instanceof TopologyError)) throw error;
    return error.issues.filter((issue) => issue.startsWith(`${path}:`));
  }
}

const GROUP_PATH = 'sites[0].mediaServers[0].callControl.groups[0]';
const upgradeAccepts = (request: Record<string, unknown>, field: string) => {
  const parsed = upgradeRequestSchema.safeParse({ image: 'cc', version: '1', groups: ['blue'], mediaServers: 'all', ...request });
  return parsed.success || !parsed.error.issues.some((issue) => issue.path[0] === field);
};
const environmentAccepts = (env: Record<string, string>, variable: string) => {
  const parsed = parseCallControlEnvironment({ CALL_CONTROL_GROUP: 'blue', CALL_CONTROL_VERSION: '1', ...env });
  return parsed.ok || !parsed.problem.includes(variable);
};

describe('one rule for each field shared by the topology, the upgrade request and the call-control container', () => {
  const SAMPLES = 400;
  const cases: [string, (random: Random) => string, (value: string) => [boolean, boolean, boolean]][] = [
    [
      'group ids',
      candidateId,
      (id) => [
        topologyProblems(baseTopology({ id, image: 'cc', version: '1' }), `${GROUP_PATH}.id`).length === 0,
        upgradeAccepts({ groups: [id] }, 'groups'),
        environmentAccepts({ CALL_CONTROL_GROUP: id }, 'CALL_CONTROL_GROUP'),
      ],
    ],
    [
      'versions (image tags)',
      candidateTag,
      (version) => [
        topologyProblems(baseTopology({ id: 'blue', image: 'cc', version }), `${GROUP_PATH}.version`).length === 0,
        upgradeAccepts({ version }, 'version'),
        environmentAccepts({ CALL_CONTROL_VERSION: version }, 'CALL_CONTROL_VERSION'),
      ],
    ],
    [
      'image repositories',
      candidateRepository,
      (image) => [
        topologyProblems(baseTopology({ id: 'blue', image, version: '1' }), `${GROUP_PATH}.image`).length === 0,
        upgradeAccepts({ image }, 'image'),
        // The container's image, `repository:tag`, is a reference by the rule of the topology's runtime image.
        topologyProblems(baseTopology({ id: 'blue', image: 'cc', version: '1' }, `${image}:1`), 'runtimeImage').length === 0,
      ],
    ],
  ];

  it.each(cases)('%s: accepted by all three or by none', (_, candidate, verdicts) => {
    const random = seededRandom(13);
    const seen = { accepted: 0, rejected: 0 };
    for (let sample = 0; sample < SAMPLES; sample++) {
      const value = candidate(random);
      const [topology, ...runtime] = verdicts(value);
      if (value === 'other') continue;
      expect({ value, verdicts: [topology, ...runtime] }).toEqual({ value, verdicts: [topology, topology, topology] });
      seen[topology ? 'accepted' : 'rejected'] += 1;
    }
    // Both sides of the rule were exercised, not only one.
    expect(seen.accepted).toBeGreaterThan(SAMPLES / 10);
    expect(seen.rejected).toBeGreaterThan(SAMPLES / 20);
  });

  it('a runtime image the topology accepts is a repository and tag the upgrade request accepts', () => {
    const random = seededRandom(7);
    let accepted = 0;
    for (let sample = 0; sample < SAMPLES; sample++) {
      const repository = candidateRepository(random);
      const tag = candidateTag(random);
      const topologyAccepts = topologyProblems(baseTopology({ id: 'blue', image: 'cc', version: '1' }, `${repository}:${tag}`), 'runtimeImage').length === 0;
      const partsAccepted = upgradeAccepts({ image: repository }, 'image') && upgradeAccepts({ version: tag }, 'version');
      expect({ reference: `${repository}:${tag}`, topologyAccepts }).toEqual({ reference: `${repository}:${tag}`, topologyAccepts: partsAccepted });
      if (topologyAccepts) accepted += 1;
    }
    expect(accepted).toBeGreaterThan(SAMPLES / 20);
  });
});

const SITE_REGIONS = ['us-west-2', 'eu-central-1'];

/** A valid topology with generated ids, images and versions: candidates the schema refuses are drawn again. */
function generatedTopology(random: Random): Topology {
  const accepted = <T>(draw: () => T, valid: (value: T) => boolean): T => {
    for (;;) {
      const value = draw();
      if (valid(value)) return value;
    }
  };
  const field = (path: string, make: (value: string) => TopologyInput) => (value: string) => topologyProblems(make(value), path).length === 0;
  const groupId = (taken: readonly string[]) =>
    accepted(() => candidateId(random), (id) => !taken.includes(id) && field(`${GROUP_PATH}.id`, (value) => baseTopology({ id: value, image: 'cc', version: '1' }))(id));
  const image = () => accepted(() => candidateRepository(random), field(`${GROUP_PATH}.image`, (value) => baseTopology({ id: 'blue', image: value, version: '1' })));
  const version = () => accepted(() => candidateTag(random), field(`${GROUP_PATH}.version`, (value) => baseTopology({ id: 'blue', image: 'cc', version: value })));
  const shortId = (prefix: string) => `${prefix}${Math.floor(random() * 1000)}`;
  const siteIds = [shortId('s'), shortId('t')].map((id, index) => `${id}-${index}`);
  const input: TopologyInput = {
    platform: shortId('p'),
    runtimeImage: `${image()}:${version()}`,
    dataCenters: [{ id: 'dc', region: 'us-east-1', vpcCidr: '10.100.0.0/16', availabilityZones: ['us-east-1a', 'us-east-1b'] }],
    sites: siteIds.map((id, siteIndex) => ({
      id,
      region: SITE_REGIONS[siteIndex],
      vpcCidr: `10.${siteIndex + 1}.0.0/16`,
      availabilityZones: pick(random, [['a'], ['a', 'b']]).map((zone) => `${SITE_REGIONS[siteIndex]}${zone}`),
      sipCluster: { size: 1 },
      cdsPublicKey: testPublicKeyText(`site-${siteIndex}`),
      mediaServers: Array.from({ length: 1 + Math.floor(random() * 2) }, (_, serverIndex) => {
        const first = groupId([]);
        const second = groupId([first]);
        return {
          id: `${shortId('m')}-${serverIndex}`,
          callControl: { dataCenter: 'dc', groups: [first, second].map((id) => ({ id, instances: 1, image: image(), version: version() })) },
        };
      }),
    })),
  };
  return parseTopology(input);
}

/** `--flag VALUE` strictly parsed with the CLI's own option table, as `voiceplane cds serve` does. */
function cdsServeArguments(command: readonly string[]) {
  const { values, positionals } = parseArgs({ args: [...command.slice(1)], options: CDS_SERVE_OPTIONS, allowPositionals: true, strict: true });
  expect([command[0], ...positionals]).toEqual(['cds', 'serve']);
  return values;
}

/** The variables ECS fills from the definition's secrets (dummy values, long enough for the peer key). */
const secretEnvironment = (container: SynthesizedContainer) => Object.fromEntries((container.definition.secrets ?? []).map((secret) => [secret.name, 'k'.repeat(40)]));

describe.each([1, 2, 3])('a generated topology (seed %i) synthesizes containers the runtime starts', (seed) => {
  const topology = generatedTopology(seededRandom(seed));
  const containers = synthesizedContainers(synthesizedStacks(synthPlatform(topology, 'offline')));
  const groups = topology.sites.flatMap((site) =>
    site.mediaServers.flatMap((server) => server.callControl.groups.map((group) => ({ ...group, mediaServer: `${site.id}/${server.id}` }))),
  );

  it('call-control containers: the entry point accepts their environment, the upgrade request their image', () => {
    const callControl = containers.filter((container) => container.definition.name === 'call-control');
    expect(callControl).toHaveLength(groups.length);
    const started = callControl.map((container) => {
      const env = Object.fromEntries((container.definition.environment ?? []).map((variable) => [variable.name, variable.value]));
      const parsed = parseCallControlEnvironment({ ...env, ...secretEnvironment(container) });
      if (!parsed.ok) throw new Error(`${container.family}: ${parsed.problem}`);
      const { group, version, mediaServer } = parsed.settings;
      const image = container.definition.image.slice(0, -(version.length + 1));
      expect(container.definition.image).toBe(`${image}:${version}`);
      expect(upgradeRequestSchema.safeParse({ image, version, groups: [group], mediaServers: [mediaServer] }).error).toBeUndefined();
      return { id: group, image, version, mediaServer };
    });
    expect(started.sort(byJson)).toEqual(groups.map(({ id, image, version, mediaServer }) => ({ id, image, version, mediaServer })).sort(byJson));
  });

  it('CDS containers: `cds serve` accepts their command line and the secrets ECS injects', () => {
    const cds = containers.filter((container) => container.definition.name === 'cds');
    expect(cds).toHaveLength(topology.sites.length);
    for (const container of cds) {
      const options = parseCdsServeOptions(cdsServeRawOptions(cdsServeArguments(container.definition.command ?? []), secretEnvironment(container)));
      const site = topology.sites.find((candidate) => candidate.id === options.site);
      expect(site).toBeDefined();
      expect(container.definition.image).toBe(topology.runtimeImage);
      expect(options.listen).toEqual({ host: '0.0.0.0', port: CDS_PORT });
      expect(options['peer-listen']).toEqual({ host: '0.0.0.0', port: CDS_PEER_PORT });
      expect(options.peer.map((peer) => peer.id).sort()).toEqual(topology.sites.filter((other) => other !== site).map((other) => other.id).sort());
      expect(options['media-server']).toHaveLength(site!.mediaServers.length);
    }
  });
});

const byJson = (first: unknown, second: unknown) => JSON.stringify(first).localeCompare(JSON.stringify(second));
