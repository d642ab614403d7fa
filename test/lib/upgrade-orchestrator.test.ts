import { readFileSync } from 'fs';
import * as path from 'path';
import { App } from 'cdktf';
import { parseTopology } from '../../lib';
import { parseFleetInventory } from '../../runtime/upgrade/inventory/fleet-inventory';
import { TASK_STATE_NAMES } from '../../runtime/upgrade/flow/upgrade-state-machine';
import { buildPlatform } from '../../stacks/platform';
import { readStackJson, synthPlatform } from '../support/synth-platform';

const validateAsl: (definition: unknown) => { isValid: boolean; errors: unknown[] } = require('asl-validator');

const topology = parseTopology(JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8')));
type Resources = Record<string, Record<string, Record<string, unknown>>>;
const dcStack = JSON.parse(readStackJson(synthPlatform(topology, 'aws').stackDirs['acme-dc-east'])) as { resource: Resources; locals?: Record<string, string> };
const resourcesOf = (type: string) => Object.values(dcStack.resource[type] ?? {});

describe('the upgrade orchestrator in a data center', () => {
  it('runs one Lambda function per task, from one synthesized package, inside the data-center VPC', () => {
    const functions = resourcesOf('aws_lambda_function');
    expect(functions.map((fn) => fn.handler).sort()).toEqual(Object.keys(TASK_STATE_NAMES).map((task) => `index.${task}`).sort());
    for (const fn of functions) {
      expect(fn).toMatchObject({ runtime: 'nodejs22.x', filename: expect.stringMatching(/^assets\/.*\.zip$/) });
      expect((fn.vpc_config as { subnet_ids: string[] }).subnet_ids).toHaveLength(2);
      expect(Object.keys((fn.environment as { variables: Record<string, string> }).variables).sort()).toEqual(['FLEET_INVENTORY_FILE', 'NODE_OPTIONS', 'STATE_TABLE']);
    }
    expect(new Set(functions.map((fn) => fn.source_code_hash)).size).toBe(1);
  });

  it('defines a state machine whose definition passes asl-validator and invokes only its own functions', () => {
    const [machine] = resourcesOf('aws_sfn_state_machine');
    const definitionText = String(machine.definition);
    // Terraform substitutes the function ARNs at apply: stand real-looking ARNs in for the references.
    const applied = definitionText.replace(/\$\{aws_lambda_function\.([A-Za-z0-9_-]+)\.arn\}/g, 'arn:aws:lambda:us-east-1:123456789012:function:$1');
    const result = validateAsl(JSON.parse(applied));
    expect(result.errors).toEqual([]);
    const resourcesUsed = definitionText.match(/\$\{aws_lambda_function\.[^}]+\.arn\}/g) ?? [];
    expect(new Set(resourcesUsed).size).toBe(Object.keys(TASK_STATE_NAMES).length);
    const policies = resourcesOf('aws_iam_role_policy').map((policy) => JSON.parse(String(policy.policy)));
    const invoke = policies.flatMap((policy) => policy.Statement).find((statement: { Action: string[] }) => statement.Action.includes('lambda:InvokeFunction'));
    expect(invoke.Resource).toHaveLength(Object.keys(TASK_STATE_NAMES).length);
    expect(invoke.Resource.every((arn: string) => arn.startsWith('${aws_lambda_function.'))).toBe(true);
  });

  it('ships a fleet inventory the step functions accept: every media server it serves, with its ECS services and secret', () => {
    const app = new App({ outdir: path.join(require('os').tmpdir(), `voiceplane-inventory-${process.pid}`) });
    const [dataCenter] = buildPlatform(app, topology, 'aws').dataCenterStacks;
    const inventory = parseFleetInventory(dataCenter.dataCenter.orchestrator.fleetInventory);
    expect(inventory.mediaServers.map((server) => server.id)).toEqual(['west/ms-1', 'west/ms-2', 'frankfurt/ms-1', 'frankfurt/ms-2']);
    expect(inventory.mediaServers[0]).toMatchObject({
      esl: { host: '10.1.128.10', port: 8021 },
      eslPassword: { source: 'secrets-manager', secretId: 'voiceplane/acme/west/esl-password', region: 'us-east-1' },
      groups: [
        { id: 'blue', deployment: { kind: 'ecs', cluster: 'acme-dc-east', service: 'acme-west-ms-1-blue', region: 'us-east-1' } },
        { id: 'green', deployment: { kind: 'ecs', cluster: 'acme-dc-east', service: 'acme-west-ms-1-green', region: 'us-east-1' } },
      ],
    });
  });

  describe('the roles of the step functions and the state machine', () => {
    interface Statement { Action: string[]; Resource: string[]; Condition?: Record<string, Record<string, unknown>> }
    const policyGranting = (action: string) =>
      resourcesOf('aws_iam_role_policy')
        .map((policy) => JSON.parse(String(policy.policy)) as { Statement: Statement[] })
        .find((policy) => policy.Statement.some((statement) => statement.Action.includes(action)))!.Statement;
    const statements = policyGranting('ecs:UpdateService');
    const stateMachineStatements = policyGranting('lambda:InvokeFunction');
    const granting = (action: string) => statements.filter((statement) => statement.Action.includes(action));

    it('may tag only the task-definition revisions it registers', () => {
      const [tagging] = granting('ecs:TagResource');
      expect(tagging.Condition).toEqual({ StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } });
      expect(tagging.Resource).toEqual([expect.stringMatching(/^arn:.*:ecs:us-east-1:.*:task-definition\/\*$/)]);
      expect(granting('ecs:RegisterTaskDefinition')).toHaveLength(1);
    });

    it('reads tasks of its own cluster only', () => {
      const [describe] = granting('ecs:DescribeTasks');
      expect(describe.Resource).toEqual([expect.stringMatching(/^arn:.*:ecs:us-east-1:.*:task\/acme-dc-east\/\*$/)]);
      const [list] = granting('ecs:ListTasks');
      expect(list.Condition).toEqual({ ArnEquals: { 'ecs:cluster': [expect.stringMatching(/^arn:.*:ecs:us-east-1:.*:cluster\/acme-dc-east$/)] } });
    });

    it('grants no DynamoDB action the orchestrator does not perform', () => {
      expect(granting('dynamodb:BatchWriteItem')).toEqual([]);
      expect(statements.flatMap((statement) => statement.Action).filter((action) => action.startsWith('dynamodb:')).sort()).toEqual(
        ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      );
    });

    it('lets the state machine start child executions of itself only (one per media server)', () => {
      const [start] = stateMachineStatements.filter((statement) => statement.Action.includes('states:StartExecution'));
      expect(start.Resource).toEqual([expect.stringMatching(/^\$\{aws_sfn_state_machine\.[^.]+\.arn\}$/)]);
      const [children] = stateMachineStatements.filter((statement) => statement.Action.includes('states:DescribeExecution'));
      expect(children).toMatchObject({ Action: ['states:DescribeExecution', 'states:StopExecution'], Resource: [expect.stringMatching(/^\$\{local\.[^}]+\}$/)] });
      const [local] = Object.values(dcStack.locals ?? {}).filter((value) => value.includes(':execution:'));
      expect(local).toMatch(/^\$\{replace\(aws_sfn_state_machine\.[^.]+\.arn, ":stateMachine:", ":execution:"\)\}\/\*$/);
    });

    it('uses Resource "*" only for actions AWS offers no resource scoping for', () => {
      const unscopable = [
        'ecs:RegisterTaskDefinition',
        'ecs:DescribeTaskDefinition',
        'ecs:ListTasks',
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
        'logs:CreateLogDelivery',
        'logs:GetLogDelivery',
        'logs:UpdateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:DescribeResourcePolicies',
        'logs:DescribeLogGroups',
      ];
      const unscoped = [...statements, ...stateMachineStatements].filter((statement) => statement.Resource.includes('*')).flatMap((statement) => statement.Action);
      expect(unscoped.filter((action) => !unscopable.includes(action))).toEqual([]);
    });
  });
});
