import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { buildTwoRegionPlatform } from '../../examples/two-region-platform/platform';

// examples/two-region-platform: a CDKTF app of the constructs, one MSP site and one central data center in two regions.

type StackJson = {
  provider: { aws: Array<{ region: string; alias?: string }> };
  resource: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, unknown>>;
};

let outdir: string;
let stacks: Record<string, StackJson>;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'voiceplane-example-'));
  const app = new App({ outdir });
  buildTwoRegionPlatform(app);
  app.synth();
  const stacksDir = path.join(outdir, 'stacks');
  stacks = Object.fromEntries(readdirSync(stacksDir).map((name) => [name, JSON.parse(readFileSync(path.join(stacksDir, name, 'cdk.tf.json'), 'utf8')) as StackJson]));
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const resources = (stack: StackJson, type: string): Array<Record<string, unknown>> => Object.values(stack.resource[type] ?? {});

describe('examples/two-region-platform', () => {
  it('writes a data-center stack in us-east-1 and a site stack in eu-central-1', () => {
    expect(Object.keys(stacks).sort()).toEqual(['example-dc-virginia', 'example-site-frankfurt']);
    expect(stacks['example-dc-virginia'].provider.aws).toEqual([expect.objectContaining({ region: 'us-east-1' })]);
    expect(stacks['example-site-frankfurt'].provider.aws.map((provider) => provider.region).sort()).toEqual(['eu-central-1', 'us-east-1']);
  });

  it('the data center runs both call-control groups of the media server and the upgrade orchestrator', () => {
    const dc = stacks['example-dc-virginia'];
    expect(resources(dc, 'aws_ecs_service').map((service) => service.name).sort()).toEqual([expect.stringContaining('blue'), expect.stringContaining('green')]);
    expect(resources(dc, 'aws_sfn_state_machine')).toHaveLength(1);
    expect(resources(dc, 'aws_lambda_function').length).toBeGreaterThan(0);
  });

  it('the site holds the media server, the SIP cluster and the CDS, peered with the data center through its outputs', () => {
    const site = stacks['example-site-frankfurt'];
    expect(resources(site, 'aws_launch_template').some((template) => String(template.name_prefix ?? template.name).includes('ms-1'))).toBe(true);
    expect(resources(site, 'aws_lb').length).toBeGreaterThanOrEqual(2);
    expect(resources(site, 'aws_dynamodb_table')).toHaveLength(1);
    expect(resources(site, 'aws_vpc_peering_connection')).toHaveLength(1);
    expect(resources(site, 'aws_route53_zone_association')).toHaveLength(1);
    // Cross-stack references (the ESL secret, the archive table, the data center's VPC) arrive as remote state.
    expect(Object.keys(site.data?.terraform_remote_state ?? {})).toHaveLength(1);
    expect(JSON.stringify(site.resource)).toContain('data.terraform_remote_state.');
  });
});
