import { exampleTopology, topologyIssues } from '../support/topology-issues';
import { parseTopology, type TopologyInput } from '../../lib';
import { readStackJson, synthPlatform } from '../support/synth-platform';
import { terraform, terraformOrSkip } from '../support/terraform';

const DC_KEY = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const WEST_KEY = 'arn:aws:kms:us-west-2:123456789012:key/mrk-0123456789abcdef0123456789abcdef';


/** The example with a key for the data center and for site west; frankfurt keeps AWS-managed keys. */
function keyed(): TopologyInput {
  const input = exampleTopology();
  input.dataCenters[0].kmsKeyArn = DC_KEY;
  input.sites[0].kmsKeyArn = WEST_KEY;
  return input;
}

type Resources = Record<string, Record<string, Record<string, unknown>>>;
interface Statement {
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, unknown>>;
}

function synthesized(input: TopologyInput): Record<string, { dir: string; resource: Resources }> {
  const stackDirs = synthPlatform(parseTopology(input), 'offline').stackDirs;
  return Object.fromEntries(Object.entries(stackDirs).map(([name, dir]) => [name, { dir, resource: (JSON.parse(readStackJson(dir)) as { resource: Resources }).resource }]));
}

const all = (resource: Resources, type: string) => Object.values(resource[type] ?? {});

/** Every KMS statement of every role policy of a stack, with the role's name prefix. */
function kmsGrants(resource: Resources): { role: string; statement: Statement }[] {
  const roleOf = (reference: unknown) => String(resource.aws_iam_role[/aws_iam_role\.([^.]+)\./.exec(String(reference))![1]].name_prefix);
  return all(resource, 'aws_iam_role_policy').flatMap((policy) =>
    (JSON.parse(String(policy.policy)) as { Statement: Statement[] }).Statement.filter((statement) => statement.Action.some((action) => action.startsWith('kms:'))).map((statement) => ({
      role: roleOf(policy.role),
      statement,
    })),
  );
}

const grant = (key: string, services: string[], actions = ['kms:Decrypt', 'kms:GenerateDataKey']) => ({
  Effect: 'Allow',
  Action: actions,
  Resource: [key],
  Condition: { StringEquals: { 'kms:ViaService': services } },
});

describe('customer-managed KMS keys', () => {
  it("refuses a key of another region than its site's or data center's, and an alias, naming the field", () => {
    const wrongRegion = exampleTopology();
    wrongRegion.sites[0].kmsKeyArn = DC_KEY;
    expect(topologyIssues(wrongRegion)).toEqual(['sites[0].kmsKeyArn: the key is in us-east-1, not in us-west-2: KMS keys are regional']);
    const alias = exampleTopology();
    alias.dataCenters[0].kmsKeyArn = 'arn:aws:kms:us-east-1:123456789012:alias/voiceplane';
    expect(topologyIssues(alias)).toEqual([
      'dataCenters[0].kmsKeyArn: must be a KMS key ARN, arn:aws:kms:REGION:ACCOUNT:key/KEY-ID (not an alias: IAM policies cannot be scoped to one)',
    ]);
  });

  describe('as synthesized', () => {
    const stacks = synthesized(keyed());
    const dc = stacks['acme-dc-east'].resource;
    const west = stacks['acme-site-west'].resource;
    const frankfurt = stacks['acme-site-frankfurt'].resource;

    it("encrypt every table, log group and secret of a stack with the key of its own site or data center", () => {
      for (const [resource, key] of [
        [dc, DC_KEY],
        [west, WEST_KEY],
      ] as const) {
        expect(all(resource, 'aws_dynamodb_table').map((table) => table.server_side_encryption)).toEqual(all(resource, 'aws_dynamodb_table').map(() => ({ enabled: true, kms_key_arn: key })));
        expect(all(resource, 'aws_cloudwatch_log_group').map((group) => group.kms_key_id)).toEqual(all(resource, 'aws_cloudwatch_log_group').map(() => key));
        expect(all(resource, 'aws_secretsmanager_secret').map((secret) => secret.kms_key_id)).toEqual(all(resource, 'aws_secretsmanager_secret').map(() => key));
      }
      expect(all(dc, 'aws_dynamodb_table')).toHaveLength(2);
      expect(all(dc, 'aws_cloudwatch_log_group').length).toBeGreaterThan(8);
      expect(all(west, 'aws_secretsmanager_secret').length).toBeGreaterThan(0);
    });

    it('leave a site without a key on AWS-managed keys', () => {
      expect(all(frankfurt, 'aws_dynamodb_table').map((table) => table.server_side_encryption)).toEqual([{ enabled: true }]);
      expect(all(frankfurt, 'aws_cloudwatch_log_group').every((group) => group.kms_key_id === undefined)).toBe(true);
      expect(all(frankfurt, 'aws_secretsmanager_secret').every((secret) => secret.kms_key_id === undefined)).toBe(true);
    });

    it('let the orchestrator use the data center key through DynamoDB (its table) and Secrets Manager (reading ESL secrets) only', () => {
      expect(kmsGrants(dc)).toEqual([
        { role: expect.stringContaining('-orchestrator-'), statement: grant(DC_KEY, ['dynamodb.us-east-1.amazonaws.com']) },
        { role: expect.stringContaining('-orchestrator-'), statement: grant(DC_KEY, ['secretsmanager.us-east-1.amazonaws.com'], ['kms:Decrypt']) },
      ]);
    });

    it("let each site's roles use only the keys of what they touch: its own, and the data center's archive and ESL secret", () => {
      const byRole = (resource: Resources) => kmsGrants(resource).map(({ role, statement }) => ({ role: role.replace(/^acme-site-[a-z]+-/, ''), statement }));
      const westGrants = byRole(west);
      expect(westGrants).toEqual(
        expect.arrayContaining([
          { role: 'cds-exec-', statement: grant(WEST_KEY, ['secretsmanager.us-west-2.amazonaws.com'], ['kms:Decrypt']) },
          { role: 'cds-exec-', statement: grant(DC_KEY, ['secretsmanager.us-east-1.amazonaws.com'], ['kms:Decrypt']) },
          { role: 'cds-task-', statement: grant(WEST_KEY, ['dynamodb.us-west-2.amazonaws.com']) },
          { role: 'cds-task-', statement: grant(DC_KEY, ['dynamodb.us-east-1.amazonaws.com']) },
          { role: 'ms-1-', statement: grant(DC_KEY, ['secretsmanager.us-east-1.amazonaws.com']) },
          { role: 'ms-2-', statement: grant(DC_KEY, ['secretsmanager.us-east-1.amazonaws.com']) },
          // The SIP nodes read their RPC token secret, under the site's key.
          { role: 'acme-west-sip-', statement: grant(WEST_KEY, ['secretsmanager.us-west-2.amazonaws.com'], ['kms:Decrypt']) },
        ]),
      );
      expect(westGrants).toHaveLength(7);
      // Frankfurt has no key of its own: only the data center's.
      expect(byRole(frankfurt).map(({ statement }) => statement.Resource)).toEqual(byRole(frankfurt).map(() => [DC_KEY]));
      expect(byRole(frankfurt)).toHaveLength(4);
    });

    const withTerraform = terraformOrSkip('the customer-managed key plan test') ? it : it.skip;
    withTerraform('plan with the real terraform and AWS provider, which take the keys', async () => {
      for (const [stack, key] of [
        ['acme-dc-east', DC_KEY],
        ['acme-site-west', WEST_KEY],
      ] as const) {
        const { dir } = stacks[stack];
        await terraform(dir, ['init', '-input=false', '-no-color']);
        await terraform(dir, ['plan', '-refresh=false', '-input=false', '-lock=false', '-no-color', '-out=keys.tfplan']);
        const plan = JSON.parse((await terraform(dir, ['show', '-json', 'keys.tfplan'])).stdout) as {
          resource_changes: { type: string; change: { after: Record<string, unknown> } }[];
        };
        const planned = (type: string) => plan.resource_changes.filter((change) => change.type === type).map((change) => change.change.after);
        expect(planned('aws_dynamodb_table').map((table) => table.server_side_encryption)).toEqual(planned('aws_dynamodb_table').map(() => [{ enabled: true, kms_key_arn: key }]));
        expect(planned('aws_cloudwatch_log_group').map((group) => group.kms_key_id)).toEqual(planned('aws_cloudwatch_log_group').map(() => key));
        expect(planned('aws_secretsmanager_secret').map((secret) => secret.kms_key_id)).toEqual(planned('aws_secretsmanager_secret').map(() => key));
        expect(planned('aws_flow_log').map((flowLog) => flowLog.traffic_type)).toEqual(['ALL']);
      }
    }, 600_000);
  });

  it('are not used without a key: no table, log group or secret names one, and no role gets a KMS permission', () => {
    for (const { resource } of Object.values(synthesized(exampleTopology()))) {
      expect(all(resource, 'aws_dynamodb_table').every((table) => (table.server_side_encryption as { kms_key_arn?: string }).kms_key_arn === undefined)).toBe(true);
      expect(all(resource, 'aws_cloudwatch_log_group').every((group) => group.kms_key_id === undefined)).toBe(true);
      expect(all(resource, 'aws_secretsmanager_secret').every((secret) => secret.kms_key_id === undefined)).toBe(true);
      expect(kmsGrants(resource)).toEqual([]);
    }
  });
});
