import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'crypto';
import { TopologyInput } from '../lib';

/** PKCS#8 DER of an Ed25519 private key, less its 32-byte seed. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An Ed25519 private key derived from `label`, the same in every run: for generated topologies and tests, never a real site. */
export function deterministicEd25519Key(label: string): KeyObject {
  const seed = createHash('sha256').update(label).digest();
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** A CDS public key for a generated site (its private key is thrown away: a benchmark topology is never deployed as is). */
function generatedCdsPublicKey(siteId: string): string {
  return createPublicKey(deterministicEd25519Key(`voiceplane benchmark site ${siteId}`)).export({ type: 'spki', format: 'der' }).toString('base64');
}

const SITE_REGIONS = [
  { region: 'us-west-2', zones: ['a', 'b', 'c'] },
  { region: 'eu-central-1', zones: ['a', 'b', 'c'] },
  { region: 'eu-west-2', zones: ['a', 'b'] },
  { region: 'ap-southeast-2', zones: ['a', 'b'] },
  { region: 'ca-central-1', zones: ['a', 'b'] },
];

export interface GeneratedTopologyOptions {
  readonly sites: number;
  readonly mediaServersPerSite: number;
  /** Data centers in us-east-1 / us-east-2, serving the sites round-robin. @default 2 */
  readonly dataCenters?: number;
}

/** A large, valid topology for benchmarks: sites spread over regions, two groups per media server. */
export function generateTopology(options: GeneratedTopologyOptions): TopologyInput {
  const dataCenterCount = options.dataCenters ?? 2;
  const dataCenters = Array.from({ length: dataCenterCount }, (_, index) => {
    const region = index % 2 === 0 ? 'us-east-1' : 'us-east-2';
    return { id: `dc-${index}`, region, vpcCidr: `10.${200 + index}.0.0/16`, availabilityZones: [`${region}a`, `${region}b`] };
  });
  const sites = Array.from({ length: options.sites }, (_, siteIndex) => {
    const { region, zones } = SITE_REGIONS[siteIndex % SITE_REGIONS.length];
    return {
      id: `site-${siteIndex}`,
      region,
      vpcCidr: `10.${siteIndex + 1}.0.0/16`,
      availabilityZones: zones.map((zone) => `${region}${zone}`),
      pstn: { enabled: true, terminationCidrAllowList: ['198.51.100.0/28'], callingRegions: ['US'] },
      sipCluster: { size: 2 },
      cdsPublicKey: generatedCdsPublicKey(`site-${siteIndex}`),
      mediaServers: Array.from({ length: options.mediaServersPerSite }, (_, serverIndex) => ({
        id: `ms-${serverIndex}`,
        callControl: {
          dataCenter: dataCenters[(siteIndex + serverIndex) % dataCenterCount].id,
          groups: ['blue', 'green'].map((id) => ({ id, instances: 2, image: 'public.ecr.aws/voiceplane/call-control', version: '1.4.0' })),
        },
      })),
    };
  });
  return {
    platform: 'bench',
    runtimeImage: 'public.ecr.aws/voiceplane/runtime:0.1.0',
    dataCenters,
    sites,
    stateBackend: { kind: 's3', bucket: 'bench-voiceplane-tfstate', region: 'us-east-1' },
  };
}
