import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { parseTopology } from '../../lib';
import { runCli } from '../support/run-cli';
import { parseFleetInventory } from '../../runtime/upgrade/inventory/fleet-inventory';
import { buildPlatform } from '../../stacks/platform';

const TOPOLOGY_FILE = path.join(__dirname, '../../stacks/topology.example.json');
const topologyJson = JSON.parse(readFileSync(TOPOLOGY_FILE, 'utf8'));
const DC_STACK = 'acme-dc-east';
const ACCOUNT_ARN = 'arn:aws:test:us-east-1:123456789012';

interface StackJson {
  resource: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value: unknown }>;
}

const cli = (args: string[]) => runCli(args);

/** Attributes holding a resource's ARN: `arn`, and the id of an ECS service (which has no `arn` attribute). */
const isArnAttribute = (type: string, attribute: string) => attribute === 'arn' || (type === 'aws_ecs_service' && attribute === 'id');

/**
 * Each output of a synthesized stack as `terraform apply` would fill it in: a reference to a resource's ARN becomes
 * a fake ARN ending in the resource's name, any other reference a placeholder.
 */
function appliedOutputs(stack: StackJson): Record<string, unknown> {
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const reference = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$/.exec(value);
      if (!reference) return value;
      const [, type, address, attribute] = reference;
      const name = stack.resource[type]?.[address]?.name ?? address;
      return isArnAttribute(type, attribute) ? `${ACCOUNT_ARN}:${type}/${name}` : `${type}-${name}-${attribute}`;
    }
    if (Array.isArray(value)) return value.map(fill);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, fill(inner)]));
    return value;
  };
  return Object.fromEntries(Object.entries(stack.output ?? {}).map(([name, output]) => [name, fill(output.value)]));
}

describe('voiceplane inventory', () => {
  let dir: string;
  /** The inventory the data center's step functions ship with (resource names, known at synth). */
  let shippedInventory: unknown;
  /** `cdktf output --outputs-file` after deploying every stack. */
  let cdktfOutputs: Record<string, Record<string, unknown>>;
  let outputsFile: string;
  const write = (name: string, content: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return file;
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'voiceplane-inventory-'));
    const app = new App({ outdir: path.join(dir, 'cdktf.out') });
    const platform = buildPlatform(app, parseTopology(topologyJson), 'offline');
    app.synth();
    shippedInventory = platform.dataCenterStacks[0].dataCenter.orchestrator.fleetInventory;
    const stacksDir = path.join(dir, 'cdktf.out', 'stacks');
    cdktfOutputs = Object.fromEntries(
      readdirSync(stacksDir).map((stack) => [stack, appliedOutputs(JSON.parse(readFileSync(path.join(stacksDir, stack, 'cdk.tf.json'), 'utf8')) as StackJson)]),
    );
    outputsFile = write('outputs.json', cdktfOutputs);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the inventory the step functions ship with, with the deployed ARNs in place of the names', async () => {
    const result = await cli(['inventory', '--topology', TOPOLOGY_FILE, '--outputs', outputsFile]);
    expect(result).toMatchObject({ code: 0, stderr: [] });
    const inventory = JSON.parse(result.stdout.join('\n'));

    const withArns = JSON.parse(JSON.stringify(shippedInventory), (key, value) => {
      if (key === 'cluster') return `${ACCOUNT_ARN}:aws_ecs_cluster/${value}`;
      if (key === 'service') return `${ACCOUNT_ARN}:aws_ecs_service/${value}`;
      if (key === 'secretId') return `${ACCOUNT_ARN}:aws_secretsmanager_secret/${value}`;
      return value;
    });
    expect(inventory).toEqual(withArns);

    const parsed = parseFleetInventory(inventory);
    const topologyServers = topologyJson.sites.flatMap((site: { id: string; mediaServers: { id: string; callControl: { groups: { id: string }[] } }[] }) =>
      site.mediaServers.map((server) => ({ id: `${site.id}/${server.id}`, groups: server.callControl.groups.map((group) => group.id) })),
    );
    expect(parsed.mediaServers.map((server) => ({ id: server.id, groups: server.groups.map((group) => group.id) }))).toEqual(topologyServers);
    for (const server of parsed.mediaServers) {
      expect(server.eslPassword).toEqual({ source: 'secrets-manager', region: 'us-east-1', secretId: `${ACCOUNT_ARN}:aws_secretsmanager_secret/voiceplane/acme/${server.id.split('/')[0]}/esl-password` });
    }
  });

  it('writes --out readable by its owner only, even over an existing file, and reads `terraform output -json` of the stack', async () => {
    const terraformJson = Object.fromEntries(Object.entries(cdktfOutputs[DC_STACK]).map(([name, value]) => [name, { sensitive: false, type: 'dynamic', value }]));
    const dcOutputs = write('dc-outputs.json', terraformJson);
    const out = write('fleet.json', '{}');
    chmodSync(out, 0o644);

    const result = await cli(['inventory', '--outputs', `${DC_STACK}=${dcOutputs}`, '--data-center', 'east', '--out', out]);
    expect(result).toEqual({ code: 0, stdout: [out], stderr: [] });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const fromStdout = await cli(['inventory', '--outputs', outputsFile]);
    expect(readFileSync(out, 'utf8')).toBe(`${fromStdout.stdout.join('\n')}\n`);
  });

  describe('rejects bad input with one line and exit code 2', () => {
    const withoutOutput = (name: string) => ({ ...cdktfOutputs, [DC_STACK]: Object.fromEntries(Object.entries(cdktfOutputs[DC_STACK]).filter(([output]) => output !== name)) });
    const topologyWithNewMediaServer = () => {
      const topology = JSON.parse(JSON.stringify(topologyJson));
      topology.sites[0].mediaServers.push({ ...topology.sites[0].mediaServers[0], id: 'ms-3' });
      return topology;
    };

    it.each<[string, () => string[], RegExp]>([
      ['a missing topology file', () => ['--topology', path.join(dir, 'nowhere.json'), '--outputs', outputsFile], /^--topology: cannot read .*nowhere\.json \(ENOENT\)$/],
      ['a topology that is not JSON', () => ['--topology', write('bad.json', '{"platform":'), '--outputs', outputsFile], /^--topology: .*bad\.json is not JSON: /],
      ['an unknown data center', () => ['--outputs', outputsFile, '--data-center', 'north'], /^--data-center: no data center "north" in .* \(data centers: east\)$/],
      ['no --outputs', () => [], /^--outputs: required/],
      ['an outputs file that is not JSON', () => ['--outputs', write('bad-outputs.json', 'Outputs:')], /^--outputs: .*bad-outputs\.json is not JSON: /],
      ['a missing outputs file', () => ['--outputs', path.join(dir, 'none.json')], /^--outputs: cannot read .*none\.json \(ENOENT\)$/],
      ['outputs without the data center stack', () => ['--outputs', write('sites-only.json', { 'acme-site-west': cdktfOutputs['acme-site-west'] })], /^--outputs: no outputs of stack acme-dc-east \(stacks given: acme-site-west; /],
      [
        'a stack deployed before it published the cluster',
        () => ['--outputs', write('old-stack.json', withoutOutput('ecs_cluster_arn'))],
        /^--outputs: stack acme-dc-east has no output "ecs_cluster_arn" \(apply the stack/,
      ],
      ['a malformed output', () => ['--outputs', write('odd.json', { ...cdktfOutputs, [DC_STACK]: { ...cdktfOutputs[DC_STACK], esl_secret_arns: ['arn'] } })], /^--outputs: output "esl_secret_arns" of stack acme-dc-east: must map site ids to secret ARNs$/],
      [
        'a topology ahead of the deployed stack',
        () => ['--topology', write('ahead.json', topologyWithNewMediaServer()), '--outputs', outputsFile],
        /^--outputs: output "call_control_service_arns" of stack acme-dc-east has no service for group blue of west\/ms-3 /,
      ],
      ['an unknown option', () => ['--outputs', outputsFile, '--region', 'us-east-1'], /^unknown option '--region'$/],
    ])('%s', async (_, args, expected) => {
      const result = await cli(['inventory', ...args()]);
      expect(result.code).toBe(2);
      expect(result.stdout).toEqual([]);
      expect(result.stderr).toHaveLength(1);
      expect(result.stderr[0]).toMatch(/^voiceplane: /);
      expect(result.stderr[0].slice('voiceplane: '.length)).toMatch(expected);
    });
  });
});
