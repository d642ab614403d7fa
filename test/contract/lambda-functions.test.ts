import { execFile, execFileSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { loadTopologyFile } from '../../stacks/load-topology';
import { roleStatements, unallowedDynamoCalls } from '../support/contract/iam-policies';
import { startRegionalDynamoDb, type RegionalDynamoDb } from '../support/contract/regional-dynamodb';
import { platformTables, stackFile, synthesizedStacks, type SynthesizedStack } from '../support/contract/synthesized-stacks';
import { synthPlatform } from '../support/synth-platform';

/**
 * Every Lambda function the stacks define, from its synthesized package: the zip holds its handler, and the
 * handler runs in a fresh Node.js process with the function's own environment (and what Lambda adds: region,
 * name, credentials), against DynamoDB per region holding exactly the stacks' tables.
 */

const run = promisify(execFile);
const INVOKE = path.join(__dirname, '../support/contract/lambda-invoke.ts');

interface LambdaConfig {
  readonly function_name: string;
  readonly filename: string;
  readonly handler: string;
  readonly runtime: string;
  /** `unknown:aws_iam_role.X.arn` (see synthesizedStacks). */
  readonly role: string;
  readonly environment?: { readonly variables?: Readonly<Record<string, string>> };
}

const topology = loadTopologyFile(path.join(__dirname, '../../stacks/topology.example.json'));
const stacks = synthesizedStacks(synthPlatform(topology, 'offline'));
const functions = stacks.flatMap((stack) => stack.resources<LambdaConfig>('aws_lambda_function').map(([, config]) => ({ stack, config, label: config.function_name })));
const MEDIA_SERVER = `${topology.sites[0].id}/${topology.sites[0].mediaServers[0].id}`;

let dynamo: RegionalDynamoDb;
const unpacked = new Map<string, string>();

/** The package unpacked once per zip (the step functions share one). */
function unpack(stack: SynthesizedStack, zip: string): string {
  const file = stackFile(stack, zip);
  let dir = unpacked.get(file);
  if (!dir) {
    dir = mkdtempSync(path.join(tmpdir(), 'voiceplane-lambda-package-'));
    execFileSync('unzip', ['-q', file, '-d', dir]);
    unpacked.set(file, dir);
  }
  return dir;
}

async function invoke(stack: SynthesizedStack, config: LambdaConfig, event: unknown): Promise<{ value?: unknown; error?: string }> {
  const env = {
    PATH: process.env.PATH,
    ...config.environment?.variables,
    AWS_REGION: stack.region,
    AWS_LAMBDA_FUNCTION_NAME: config.function_name,
    AWS_ACCESS_KEY_ID: 'contract',
    AWS_SECRET_ACCESS_KEY: 'contract',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  };
  const before = dynamo.calls().length;
  const { stdout } = await run(process.execPath, ['-r', 'ts-node/register/transpile-only', INVOKE, unpack(stack, config.filename), config.handler, JSON.stringify(event)], {
    env,
    cwd: path.join(__dirname, '../..'),
    timeout: 60_000,
  });
  // What the handler called in DynamoDB, its role allows (action, table, region).
  expect(unallowedDynamoCalls(stack, roleStatements(stack, config.role), dynamo.calls().slice(before))).toEqual([]);
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}

beforeAll(async () => {
  dynamo = await startRegionalDynamoDb(platformTables(stacks));
}, 60_000);

afterAll(async () => {
  await dynamo?.close();
  for (const dir of unpacked.values()) rmSync(dir, { recursive: true, force: true });
});

describe('Lambda functions as synthesized', () => {
  it('are the upgrade steps of each data center', () => {
    expect(functions.map(({ config }) => config.handler.replace(/^index\./, '')).sort()).toEqual(
      ['abortDrain', 'checkCanary', 'checkDeployment', 'checkDrain', 'deploy', 'drain', 'forceEndCalls', 'openCanary', 'plan', 'preflight', 'restore', 'rollback', 'verify'].sort(),
    );
  });

  it.each(functions)('$label loads from its package and refuses an empty input with one line naming the field', async ({ stack, config }) => {
    const result = await invoke(stack, config, {});
    expect(result.value).toBeUndefined();
    expect(result.error).toMatch(/^[^\n]*(request|mediaServerId|target)[^\n]*$/);
  }, 60_000);

  it("plans an upgrade with the package's fleet inventory and registers it in the data center's state table", async () => {
    const planStep = functions.find(({ config }) => config.handler === 'index.plan')!;
    const request = { image: 'public.ecr.aws/voiceplane/call-control', version: '1.5.0', groups: ['blue', 'green'], mediaServers: [MEDIA_SERVER] };
    const result = await invoke(planStep.stack, planStep.config, { request, executionName: 'contract-plan' });
    expect(result.error).toBeUndefined();
    expect(result.value).toMatchObject({ upgradeId: 'contract-plan' });
    expect(JSON.stringify(result.value)).toContain(MEDIA_SERVER);

    // Signed for the data center's region: the stand-in serves each region its own tables.
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: dynamo.endpoint, region: planStep.stack.region, credentials: { accessKeyId: 'contract', secretAccessKey: 'contract' } }));
    try {
      const table = planStep.config.environment?.variables?.STATE_TABLE;
      const items = await client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'upgrade#contract-plan' } }));
      expect(items.Items?.length).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
  }, 60_000);

  it("refuses to plan an image from a repository the topology does not allow, storing nothing", async () => {
    const planStep = functions.find(({ config }) => config.handler === 'index.plan')!;
    const request = { image: 'registry.example.net/attacker/call-control', version: '1.5.0', groups: ['blue', 'green'], mediaServers: [MEDIA_SERVER] };
    const before = dynamo.calls().length;
    const result = await invoke(planStep.stack, planStep.config, { request, executionName: 'contract-foreign-image' });
    expect(result.value).toBeUndefined();
    expect(result.error).toBe(
      'upgrade request: image: "registry.example.net/attacker/call-control" is not an allowed image repository (allowedImageRepositories: public.ecr.aws/voiceplane/call-control)',
    );
    expect(dynamo.calls().slice(before)).toEqual([]);
  }, 60_000);
});
