import { closeSync, fchmodSync, openSync, readFileSync, writeSync } from 'fs';
import { z } from 'zod';
import { parseFleetInventory, type FleetInventoryInput } from '../upgrade/inventory/fleet-inventory';
import { fleetInventoryDocument, type FleetInventoryDocumentProps, type FleetMediaServer } from '../upgrade/inventory/fleet-inventory-document';
import { fleetDataCenters, type FleetDataCenter } from '../upgrade/inventory/topology-fleet';
import { UpgradeStepError } from '../upgrade/flow/upgrade-steps';
import { describeIssue } from '../validation/zod-issues';
import { CliError, UsageError } from './cli-error';
import { DEFAULT_TOPOLOGY } from './config-files';
import { parseOptions } from './option-schema';
import type { Output } from './output';
import { readStackOutputs, type StackOutputs } from './stack-outputs';

export interface InventoryOptionValues {
  readonly topology?: string;
  readonly outputs?: readonly string[];
  readonly 'data-center'?: string;
  readonly out?: string;
}

const optionsSchema = z.object({
  topology: z.string().min(1, '--topology: empty file name').default(DEFAULT_TOPOLOGY),
  outputs: z
    .array(z.string().min(1, '--outputs: empty file name'), { error: '--outputs: required (the stacks\' outputs: `cdktf output --outputs-file FILE`, or STACK=FILE from `terraform output -json`)' })
    .min(1),
  'data-center': z.string().min(1, '--data-center: empty id').optional(),
  out: z.string().min(1, '--out: empty file name').optional(),
});

/** What a data-center stack outputs for the inventory (`stacks/data-center-outputs.ts` publishes them). */
const OUTPUT = { clusterArn: 'ecs_cluster_arn', serviceArns: 'call_control_service_arns', eslSecretArns: 'esl_secret_arns' } as const;

const arn = z.string({ error: 'must be an ARN' }).min(1, 'must not be empty');
const dataCenterOutputsSchema = z.looseObject({
  [OUTPUT.clusterArn]: arn,
  /** `{"<site>/<media server>": {"<group>": service ARN}}`. */
  [OUTPUT.serviceArns]: z.record(z.string(), z.record(z.string(), arn, { error: 'must map group ids to service ARNs' }), { error: 'must map media servers to their services' }),
  /** `{"<site>": secret ARN}`. */
  [OUTPUT.eslSecretArns]: z.record(z.string(), arn, { error: 'must map site ids to secret ARNs' }),
});

/**
 * `voiceplane inventory`: the fleet inventory of a deployed platform, from its topology file (media servers, their
 * addresses and groups) and its data-center stacks' outputs (cluster, service and ESL secret ARNs, which pin the
 * upgrade to the account that deployed them). The same document the orchestrator's step functions ship with, but
 * with ARNs where they have names. It holds where the ESL password is, never the password.
 */
export function runInventoryCommand(values: InventoryOptionValues, output: Output): void {
  const options = parseOptions(optionsSchema, values);
  const dataCenters = selectDataCenters(readTopology(options.topology), options['data-center'], options.topology);
  const outputs = readStackOutputs(options.outputs);
  const inventory: FleetInventoryInput = {
    mediaServers: dataCenters.flatMap((dataCenter) => fleetInventoryDocument(deployedFleet(dataCenter, outputs)).mediaServers),
    // The platform's list: the same for every data center.
    allowedImageRepositories: [...dataCenters[0].allowedImageRepositories],
  };
  try {
    parseFleetInventory(inventory);
  } catch (error) {
    throw new UsageError(`${options.topology}: cannot make a valid fleet inventory: ${(error as Error).message}`);
  }
  const text = JSON.stringify(inventory, null, 2);
  if (options.out === undefined) {
    output.line(text);
    return;
  }
  writePrivateFile(options.out, `${text}\n`);
  output.line(options.out);
}

function readTopology(file: string): FleetDataCenter[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--topology: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return fleetDataCenters(JSON.parse(text));
  } catch (error) {
    if (error instanceof SyntaxError) throw new UsageError(`--topology: ${file} is not JSON: ${error.message}`);
    if (error instanceof UpgradeStepError) throw new UsageError(`--topology: ${file}: ${error.message}`);
    throw error;
  }
}

function selectDataCenters(dataCenters: readonly FleetDataCenter[], id: string | undefined, topologyFile: string): FleetDataCenter[] {
  if (id === undefined) return dataCenters.filter((dataCenter) => dataCenter.mediaServers.length > 0);
  const dataCenter = dataCenters.find((candidate) => candidate.id === id);
  if (dataCenter === undefined) {
    throw new UsageError(`--data-center: no data center ${JSON.stringify(id)} in ${topologyFile} (data centers: ${dataCenters.map((candidate) => candidate.id).join(', ')})`);
  }
  if (dataCenter.mediaServers.length === 0) throw new UsageError(`--data-center: data center ${id} serves no media server in ${topologyFile}`);
  return [dataCenter];
}

/** The data center's media servers with the ARNs its stack output; one line naming the stack and output that lack one. */
function deployedFleet(dataCenter: FleetDataCenter, outputs: StackOutputs): FleetInventoryDocumentProps {
  const stack = dataCenter.stackName;
  const stackOutputs = outputs.get(stack);
  if (stackOutputs === undefined) {
    const given = [...outputs.keys()].join(', ') || 'none';
    throw new UsageError(`--outputs: no outputs of stack ${stack} (stacks given: ${given}; a \`terraform output -json\` file is given as STACK=FILE)`);
  }
  const absent = Object.values(OUTPUT).find((name) => stackOutputs[name] === undefined);
  if (absent !== undefined) throw new UsageError(`--outputs: stack ${stack} has no output "${absent}" (apply the stack with this version of voiceplane to publish it)`);
  const parsed = dataCenterOutputsSchema.safeParse(stackOutputs);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const [name, ...inner] = issue.path;
    throw new UsageError(`--outputs: output "${String(name)}" of stack ${stack}: ${describeIssue({ ...issue, path: inner })}`);
  }
  const { [OUTPUT.clusterArn]: cluster, [OUTPUT.serviceArns]: serviceArns, [OUTPUT.eslSecretArns]: eslSecretArns } = parsed.data;
  const missing = (name: string, what: string) =>
    new UsageError(`--outputs: output "${name}" of stack ${stack} has no ${what} (is the topology ahead of the deployed stack?)`);
  const mediaServers = dataCenter.mediaServers.map((server): FleetMediaServer => {
    const id = `${server.siteId}/${server.mediaServerId}`;
    const eslSecretId = eslSecretArns[server.siteId];
    if (eslSecretId === undefined) throw missing(OUTPUT.eslSecretArns, `secret for site ${server.siteId}`);
    const groups = server.groupIds.map((groupId) => {
      const service = serviceArns[id]?.[groupId];
      if (service === undefined) throw missing(OUTPUT.serviceArns, `service for group ${groupId} of ${id}`);
      return { id: groupId, service };
    });
    return { siteId: server.siteId, mediaServerId: server.mediaServerId, privateIp: server.privateIp, eslSecretId, groups };
  });
  return { region: dataCenter.region, cluster, mediaServers, allowedImageRepositories: dataCenter.allowedImageRepositories };
}

/** Writes `text` to `file` readable by its owner only, whether or not the file existed. */
function writePrivateFile(file: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'w', 0o600);
  } catch (error) {
    throw new CliError(`--out: cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
