import { z } from 'zod';
import { groupIdSchema } from '../runtime/contracts/call-control-ids';
import { imageReferenceSchema, imageRepositorySchema, imageTagSchema } from '../runtime/contracts/container-image';
import { allowedImageRepositories, allowedImageRepositoriesSchema } from '../runtime/contracts/image-allow-list';
import { kmsKeyArnSchema, kmsKeyRegion } from './customer-managed-key';
import { snsTopicArnSchema, snsTopicRegion } from './alarm-topic';
import { DialplanError, encodeRouteTable } from '../runtime/dialplan';
import { cidrsOverlap, parseCidr } from '../runtime/net/ipv4';
import { formatPath } from '../runtime/validation/zod-issues';
import { peerPublicKeySchema } from '../runtime/cds/network/peer-identity';
import { initialRouteTable } from './initial-route-table';
import { MAX_MEDIA_SERVERS_PER_SITE, MAX_VPC_PREFIX, MIN_VPC_PREFIX } from '../runtime/net/network-plan';
import { MIN_TERMINATION_CIDR_PREFIX, VOICE_CONNECTOR_REGIONS } from './voice-connector-regions';
import { voiceConnectorSignallingCidrs } from './voice-connector-signalling';

/**
 * The platform description a user writes: central data centers that host call control,
 * and MSP sites with media servers, a SIP cluster and an optional PSTN voice connector.
 */

const REGION_PATTERN = /^(us|eu|ap|sa|ca|me|af|il|mx)(-gov)?-(north|south|east|west|central|northeast|southeast|northwest|southwest)-\d$/;
const ID_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;
export const MAX_CALL_CONTROL_GROUPS = 4;

const id = (what: string) => z.string().regex(ID_PATTERN, `${what} must be lowercase letters, digits and dashes, starting with a letter (at most 31 characters)`);

const region = z.string().regex(REGION_PATTERN, 'not an AWS region name (expected e.g. "us-east-1")');

const vpcCidr = z.string().superRefine((value, ctx) => {
  const parsed = parseCidr(value);
  if (!parsed) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not an IPv4 CIDR block` });
  } else if (parsed.prefix < MIN_VPC_PREFIX || parsed.prefix > MAX_VPC_PREFIX) {
    ctx.addIssue({ code: 'custom', message: `prefix /${parsed.prefix} out of range: a VPC CIDR must be /${MIN_VPC_PREFIX} to /${MAX_VPC_PREFIX}` });
  }
});

const availabilityZones = z
  .array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, 'not an availability zone name (expected e.g. "us-east-1a")'))
  .min(1, 'at least one availability zone is required')
  .max(4, 'at most four availability zones are supported');

/** Where a site's or data center's alarms notify. */
const alarmsSchema = z.strictObject({
  /**
   * A standard SNS topic of the site's or data center's region (the operators' paging topic). Default: the stack
   * creates one (encrypted with `kmsKeyArn` when given) and outputs its ARN as `alarm_topic_arn`.
   */
  snsTopicArn: snsTopicArnSchema.optional(),
});

const callControlGroupSchema = z.strictObject({
  /** Group id, e.g. `blue` or `green`: the rule of the route table, the upgrade request and CALL_CONTROL_GROUP. */
  id: groupIdSchema,
  /** Number of call-control tasks in the group. */
  instances: z.number().int().min(1, 'a group needs at least one instance').max(20),
  /** Container image repository (without tag), e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/call-control`; the upgrade request's rule. */
  image: imageRepositorySchema,
  /** Image tag deployed, also the version `/health` reports; the upgrade request's and CALL_CONTROL_VERSION's rule. */
  version: imageTagSchema,
});

const mediaServerSchema = z.strictObject({
  id: id('media server id'),
  /** EC2 instance type. Default c6i.xlarge. */
  instanceType: z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/, 'not an EC2 instance type').default('c6i.xlarge'),
  callControl: z.strictObject({
    /** Id of the central data center that hosts this media server's call-control groups. */
    dataCenter: id('data center id'),
    groups: z.array(callControlGroupSchema).min(1, 'at least one call-control group is required').max(MAX_CALL_CONTROL_GROUPS, `at most ${MAX_CALL_CONTROL_GROUPS} call-control groups`),
    /** Accept a single group: its upgrades cannot avoid dropping calls. Default false. */
    allowSingleGroup: z.boolean().default(false),
  }),
});

const pstnSchema = z.strictObject({
  enabled: z.boolean(),
  /** Carrier address ranges allowed to terminate calls through the voice connector. */
  terminationCidrAllowList: z
    .array(
      z.string().superRefine((value, ctx) => {
        const parsed = parseCidr(value);
        if (!parsed) ctx.addIssue({ code: 'custom', message: `"${value}" is not an IPv4 CIDR block` });
        else if (parsed.prefix < MIN_TERMINATION_CIDR_PREFIX) ctx.addIssue({ code: 'custom', message: `${value} is too wide: a voice connector accepts /${MIN_TERMINATION_CIDR_PREFIX} to /32 networks` });
      }),
    )
    .default([]),
  /** ISO country codes the voice connector may call. Default ["US"]. */
  callingRegions: z.array(z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 country code')).min(1).default(['US']),
  /**
   * Require TLS signalling and SRTP media on the voice connector: the SIP cluster then takes SIP over TLS on 5061
   * (certificate from the site's `<platform>-<site>-sip-tls-certificate` secret, put out of band) and the media servers
   * SRTP only. Default false: SIP over TCP/UDP 5060 and plain RTP (see README, *SIP cluster and PSTN edge*).
   */
  requireEncryption: z.boolean().default(false),
});

const siteSchema = z
  .strictObject({
    id: id('site id'),
    region,
    vpcCidr,
    availabilityZones,
    pstn: pstnSchema.default({ enabled: false, terminationCidrAllowList: [], callingRegions: ['US'], requireEncryption: false }),
    sipCluster: z.strictObject({
      /** Kamailio instances behind the site's SIP load balancer. */
      size: z.number().int().min(1, 'a SIP cluster needs at least one node').max(10),
      /**
       * Address ranges allowed to send SIP to the cluster. Default: the signalling networks of the
       * Amazon Chime SDK Voice Connector of the site's region (required in a region without one).
       */
      allowedSourceCidrs: z.array(z.string().refine((value) => parseCidr(value) !== undefined, 'not an IPv4 CIDR block')).min(1).optional(),
    }),
    mediaServers: z.array(mediaServerSchema).min(1, 'a site needs at least one media server').max(MAX_MEDIA_SERVERS_PER_SITE),
    /**
     * The public key of the site's Call Data Server (Ed25519, base64 SPKI DER), as `voiceplane cds keygen` prints
     * it; the private key stays in the site's secret. The other sites' CDS take requests signed by it only.
     */
    cdsPublicKey: peerPublicKeySchema,
    /** Customer-managed KMS key (in the site's region) for what the site keeps at rest. Default: AWS-managed keys. */
    kmsKeyArn: kmsKeyArnSchema.optional(),
    /** Where the site's alarms notify. Default: a topic the site's stack creates. */
    alarms: alarmsSchema.optional(),
  })
  .transform((site) => ({
    ...site,
    sipCluster: { ...site.sipCluster, allowedSourceCidrs: site.sipCluster.allowedSourceCidrs ?? [...voiceConnectorSignallingCidrs(site.region)] },
  }));

const dataCenterSchema = z.strictObject({
  id: id('data center id'),
  region,
  vpcCidr,
  availabilityZones,
  /** Customer-managed KMS key (in the data center's region) for what the data center keeps at rest. Default: AWS-managed keys. */
  kmsKeyArn: kmsKeyArnSchema.optional(),
  /** Where the data center's alarms notify. Default: a topic the data center's stack creates. */
  alarms: alarmsSchema.optional(),
});

/** S3 bucket naming rules; no dots, which break TLS with virtual-hosted addressing. */
const S3_BUCKET_PATTERN = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const STATE_KEY_PREFIX_PATTERN = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

export const s3StateBackendSchema = z.strictObject({
  /** Shared state in S3: one encrypted key per stack, locked with an S3 lock file. */
  kind: z.literal('s3'),
  /** The state bucket, created beforehand (versioned, encrypted, private). */
  bucket: z.string().regex(S3_BUCKET_PATTERN, 'must be an S3 bucket name: 3-63 lowercase letters, digits and dashes, starting and ending with a letter or digit'),
  /** Region of the bucket. */
  region,
  /** Each stack's state is `<keyPrefix>/<stack>.tfstate`. Default "voiceplane". */
  keyPrefix: z
    .string()
    .max(200, 'at most 200 characters')
    .regex(STATE_KEY_PREFIX_PATTERN, 'must be path segments of letters, digits, "_", "." and "-" separated by "/", without a leading or trailing "/"')
    .default('voiceplane'),
});

const localStateBackendSchema = z.strictObject({
  /** State files on this machine, in each stack's output directory: for trying things out only. */
  kind: z.literal('local'),
});

/** Where Terraform keeps the state of every stack of the platform. */
export const stateBackendSchema = z.discriminatedUnion('kind', [s3StateBackendSchema, localStateBackendSchema], {
  error: (issue) => (typeof issue.input === 'object' && issue.input !== null ? 'must be "s3" or "local"' : 'must be an object with "kind": "s3" or "local"'),
});

/** The topology file's model; {@link topologyJsonSchema} is generated from it for editors. */
export const topologySchema = z.strictObject({
  /** The JSON Schema editors check the file against (ignored here). */
  $schema: z.string().optional(),
  /** Platform name: prefixes resource names and tags everything. */
  platform: id('platform name'),
  /** Container image of the voiceplane runtime (CDS node, orchestrator tasks), with tag. */
  runtimeImage: imageReferenceSchema,
  dataCenters: z.array(dataCenterSchema).min(1, 'at least one data center is required'),
  sites: z.array(siteSchema).min(1, 'at least one site is required'),
  /**
   * The only image repositories the upgrade orchestrator may deploy (exact repositories, without tag). Default: the
   * repositories the call-control groups run.
   */
  allowedImageRepositories: allowedImageRepositoriesSchema.optional(),
  /** Terraform state of the stacks. Optional: the VOICEPLANE_STATE_* variables can set it instead. */
  stateBackend: stateBackendSchema.optional(),
});

export type Topology = z.infer<typeof topologySchema>;
export type Site = Topology['sites'][number];
export type DataCenter = Topology['dataCenters'][number];
export type MediaServerSpec = Site['mediaServers'][number];
export type CallControlGroupSpec = MediaServerSpec['callControl']['groups'][number];
export type StateBackend = z.infer<typeof stateBackendSchema>;
export type S3StateBackend = z.infer<typeof s3StateBackendSchema>;
/** The topology as written in a file, before defaults are applied. */
export type TopologyInput = z.input<typeof topologySchema>;

/** A topology that failed validation; `issues` holds one path-qualified line per problem. */
export class TopologyError extends Error {
  constructor(public readonly issues: readonly string[]) {
    super(`invalid topology:\n${issues.map((issue) => `  ${issue}`).join('\n')}`);
    this.name = 'TopologyError';
  }
}

/** Parses and validates a topology; throws a {@link TopologyError} listing every problem found. */
export function parseTopology(input: unknown): Topology {
  const parsed = topologySchema.safeParse(input);
  if (!parsed.success) {
    throw new TopologyError(parsed.error.issues.map((issue) => `${formatTopologyPath(issue.path)}: ${issue.message}`));
  }
  const issues = crossReferenceIssues(parsed.data);
  if (issues.length > 0) {
    throw new TopologyError(issues);
  }
  return parsed.data;
}

/** Parses a topology from JSON text; `source` names the file in messages. */
export function parseTopologyJson(text: string, source: string): Topology {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new TopologyError([`${source}: not valid JSON (${(error as Error).message})`]);
  }
  return parseTopology(input);
}

function formatTopologyPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : formatPath(path);
}

function crossReferenceIssues(topology: Topology): string[] {
  const issues: string[] = [];
  const report = (path: PropertyKey[], message: string) => issues.push(`${formatTopologyPath(path)}: ${message}`);

  duplicates(topology.dataCenters.map((dc) => dc.id)).forEach((index) => report(['dataCenters', index, 'id'], `duplicate id "${topology.dataCenters[index].id}"`));
  duplicates(topology.sites.map((site) => site.id)).forEach((index) => report(['sites', index, 'id'], `duplicate id "${topology.sites[index].id}"`));
  duplicates(topology.sites.map((site) => site.cdsPublicKey)).forEach((index) =>
    report(['sites', index, 'cdsPublicKey'], 'is another site\'s key too: each site needs its own (`voiceplane cds keygen`), or one could sign as the other'),
  );
  const dcIds = new Set(topology.dataCenters.map((dc) => dc.id));
  topology.sites.forEach((site, siteIndex) => {
    if (dcIds.has(site.id)) report(['sites', siteIndex, 'id'], `"${site.id}" is also a data center id (stack names must be unique)`);
  });

  const networks = [
    ...topology.dataCenters.map((dc, index) => ({ path: ['dataCenters', index], network: dc })),
    ...topology.sites.map((site, index) => ({ path: ['sites', index], network: site })),
  ];
  networks.forEach(({ path, network }) => {
    const keyRegion = network.kmsKeyArn === undefined ? undefined : kmsKeyRegion(network.kmsKeyArn);
    if (keyRegion !== undefined && keyRegion !== network.region) {
      report([...path, 'kmsKeyArn'], `the key is in ${keyRegion}, not in ${network.region}: KMS keys are regional`);
    }
    const topicRegion = network.alarms?.snsTopicArn === undefined ? undefined : snsTopicRegion(network.alarms.snsTopicArn);
    if (topicRegion !== undefined && topicRegion !== network.region) {
      report([...path, 'alarms', 'snsTopicArn'], `the topic is in ${topicRegion}, not in ${network.region}: alarms notify topics of their own region only`);
    }
    network.availabilityZones.forEach((zone, zoneIndex) => {
      if (!zone.startsWith(network.region) || zone.length !== network.region.length + 1) {
        report([...path, 'availabilityZones', zoneIndex], `"${zone}" is not in region ${network.region}`);
      }
    });
    duplicates(network.availabilityZones).forEach((zoneIndex) => report([...path, 'availabilityZones', zoneIndex], `duplicate availability zone "${network.availabilityZones[zoneIndex]}"`));
  });
  networks.forEach((first, i) => {
    networks.slice(0, i).forEach((second) => {
      if (cidrsOverlap(first.network.vpcCidr, second.network.vpcCidr)) {
        report([...first.path, 'vpcCidr'], `${first.network.vpcCidr} overlaps ${formatTopologyPath(second.path)} (${second.network.vpcCidr}); peered VPCs need distinct address ranges`);
      }
    });
  });

  const dataCentersById = new Map(topology.dataCenters.map((dc) => [dc.id, dc]));
  topology.sites.forEach((site, siteIndex) => {
    const sitePath = ['sites', siteIndex];
    duplicates(site.mediaServers.map((server) => server.id)).forEach((index) => report([...sitePath, 'mediaServers', index, 'id'], `duplicate id "${site.mediaServers[index].id}"`));
    if (site.pstn.enabled && !VOICE_CONNECTOR_REGIONS.includes(site.region)) {
      report([...sitePath, 'pstn', 'enabled'], `region ${site.region} has no Amazon Chime SDK Voice Connector (available: ${VOICE_CONNECTOR_REGIONS.join(', ')})`);
    }
    if (site.sipCluster.allowedSourceCidrs.length === 0) {
      report([...sitePath, 'sipCluster', 'allowedSourceCidrs'], `required in ${site.region}, which has no Amazon Chime SDK Voice Connector whose networks could be the default`);
    }
    if (site.pstn.requireEncryption && !site.pstn.enabled) {
      report([...sitePath, 'pstn', 'requireEncryption'], 'applies to the voice connector: set pstn.enabled too, or leave it false');
    }
    if (site.pstn.enabled && site.pstn.terminationCidrAllowList.length === 0) {
      report([...sitePath, 'pstn', 'terminationCidrAllowList'], 'at least one carrier CIDR is required when the PSTN voice connector is enabled');
    }
    site.mediaServers.forEach((server, serverIndex) => {
      const callControlPath = [...sitePath, 'mediaServers', serverIndex, 'callControl'];
      const dataCenter = dataCentersById.get(server.callControl.dataCenter);
      if (!dataCenter) {
        report([...callControlPath, 'dataCenter'], `unknown data center "${server.callControl.dataCenter}"`);
      } else if (dataCenter.region === site.region) {
        report([...callControlPath, 'dataCenter'], `data center "${dataCenter.id}" is in ${dataCenter.region}, the same region as site "${site.id}": call control must run in a different region from its media servers`);
      }
      const groups = server.callControl.groups;
      duplicates(groups.map((group) => group.id)).forEach((index) => report([...callControlPath, 'groups', index, 'id'], `duplicate group id "${groups[index].id}"`));
      groups.forEach((group, groupIndex) => {
        if (topology.allowedImageRepositories !== undefined && !topology.allowedImageRepositories.includes(group.image)) {
          report([...callControlPath, 'groups', groupIndex, 'image'], `"${group.image}" is not in allowedImageRepositories`);
        }
      });
      const routeTableProblem = encodingProblem(topology.platform, site.id, server);
      if (routeTableProblem) report([...sitePath, 'mediaServers', serverIndex, 'id'], routeTableProblem);
      if (groups.length < 2 && !server.callControl.allowSingleGroup) {
        report([...callControlPath, 'groups'], 'at least two call-control groups are required so one can carry calls while the other is upgraded (set allowSingleGroup to accept dropped calls during upgrades)');
      }
    });
  });
  return issues;
}

/** The image repositories the upgrade orchestrator may deploy: `allowedImageRepositories`, by default those the groups run. */
export function platformImageRepositories(topology: Topology): string[] {
  const groupImages = topology.sites.flatMap((site) => site.mediaServers.flatMap((server) => server.callControl.groups.map((group) => group.image)));
  return allowedImageRepositories(topology.allowedImageRepositories, groupImages);
}

/** Why the media server's route table cannot be stored in FreeSWITCH (names too long), if it cannot. */
function encodingProblem(platform: string, siteId: string, server: MediaServerSpec): string | undefined {
  try {
    encodeRouteTable(initialRouteTable(platform, siteId, server));
    return undefined;
  } catch (error) {
    if (error instanceof DialplanError) return `${error.message}: shorten the platform, site or media server ids`;
    throw error;
  }
}

/** Indexes of the entries that repeat an earlier one. */
function duplicates(values: readonly string[]): number[] {
  const seen = new Set<string>();
  return values.flatMap((value, index) => {
    if (seen.has(value)) return [index];
    seen.add(value);
    return [];
  });
}
