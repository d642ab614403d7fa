import { z } from 'zod';
import { parseInput, strictObjectError } from '../request/input-error';
import { groupIdSchema, mediaServerIdSchema, portSchema } from '../request/upgrade-fields';
import { UpgradeStepError } from '../flow/upgrade-steps';
import { allowedImageRepositoriesSchema } from '../../contracts/image-allow-list';

/**
 * The fleet the orchestrator manages: each media server's event socket, where its ESL password comes
 * from, and how each of its call-control groups is deployed. In AWS it is generated from the topology at
 * synth and shipped in the Lambda package; locally it is a JSON file (`voiceplane upgrade --inventory`).
 */

/** An object without unknown fields (a misspelt optional field would otherwise be ignored). */
const strict = <Shape extends z.ZodRawShape>(shape: Shape) => z.strictObject(shape, { error: strictObjectError });

const text = (what: string) => z.string({ error: `must be ${what}` }).min(1, 'must not be empty');

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const regionSchema = z.string({ error: 'must be an AWS region' }).regex(AWS_REGION, { error: (issue) => `${JSON.stringify(issue.input)} is not an AWS region (e.g. us-east-1)` });

const hostSchema = z
  .string({ error: 'must be a host name or IPv4 address' })
  .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/, { error: (issue) => `${JSON.stringify(issue.input)} is not a host name or IPv4 address` });

export const eslPasswordSourceSchema = z.discriminatedUnion(
  'source',
  [
    /** For local runs only: the password itself. */
    strict({ source: z.literal('literal'), value: text('the password') }),
    /** An environment variable of the orchestrator process. */
    strict({ source: z.literal('env'), variable: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name') }),
    /** A Secrets Manager secret: its whole string value, or `jsonKey` of its JSON value. */
    strict({ source: z.literal('secrets-manager'), secretId: text('a secret name or ARN'), region: regionSchema, jsonKey: text('a JSON key').optional() }),
  ],
  { error: 'must have source "literal", "env" or "secrets-manager"' },
);

export const ecsDeploymentSchema = strict({
  kind: z.literal('ecs'),
  region: regionSchema,
  /** Cluster name or ARN. */
  cluster: text('a cluster name or ARN'),
  /** Service name or ARN (one service per group). */
  service: text('a service name or ARN'),
  /** The container running call control in the task definition. */
  containerName: text('a container name').default('call-control'),
  /** Ports of each task, reached on the task's private IP. */
  eslPort: portSchema.default(8084),
  healthPort: portSchema.default(8080),
});

export const localDeploymentSchema = strict({
  kind: z.literal('local'),
  host: hostSchema.default('127.0.0.1'),
  /** Directory where the deployer records the processes it started (pid and version files). */
  runDir: text('a directory'),
  instances: z.array(strict({ eslPort: portSchema, healthPort: portSchema }), { error: 'must be a list of {eslPort, healthPort}' }).min(1, 'must list at least one instance'),
});

export const groupDeploymentSchema = z.discriminatedUnion('kind', [ecsDeploymentSchema, localDeploymentSchema], { error: 'must have kind "ecs" or "local"' });

export const inventoryGroupSchema = strict({ id: groupIdSchema, deployment: groupDeploymentSchema });

export const inventoryMediaServerSchema = strict({
  id: mediaServerIdSchema,
  esl: strict({ host: hostSchema, port: portSchema.default(8021) }),
  eslPassword: eslPasswordSourceSchema,
  groups: z.array(inventoryGroupSchema, { error: 'must be a list of groups' }).min(1, 'must list at least one group'),
}).superRefine((mediaServer, context) =>
  reportDuplicates(
    mediaServer.groups.map((group) => group.id),
    ['groups'],
    'group',
    context,
  ),
);

export const fleetInventorySchema = strict({
  mediaServers: z.array(inventoryMediaServerSchema, { error: 'must be a list of media servers' }).min(1, 'must list at least one media server'),
  /** The only image repositories upgrades may deploy (the topology's); absent: any (hand-written local fleets). */
  allowedImageRepositories: allowedImageRepositoriesSchema.optional(),
}).superRefine((inventory, context) =>
  reportDuplicates(
    inventory.mediaServers.map((mediaServer) => mediaServer.id),
    ['mediaServers'],
    'media server',
    context,
  ),
);

function reportDuplicates(ids: readonly string[], path: readonly (string | number)[], what: string, context: z.RefinementCtx): void {
  const seen = new Set<string>();
  ids.forEach((id, index) => {
    if (seen.has(id)) context.addIssue({ code: 'custom', path: [...path, index, 'id'], message: `duplicate ${what} id ${JSON.stringify(id)}` });
    seen.add(id);
  });
}

export type FleetInventory = z.output<typeof fleetInventorySchema>;
export type FleetInventoryInput = z.input<typeof fleetInventorySchema>;
export type InventoryMediaServer = z.output<typeof inventoryMediaServerSchema>;
export type InventoryGroup = z.output<typeof inventoryGroupSchema>;
export type GroupDeployment = z.output<typeof groupDeploymentSchema>;
export type EcsDeployment = z.output<typeof ecsDeploymentSchema>;
export type LocalDeployment = z.output<typeof localDeploymentSchema>;
export type EslPasswordSourceConfig = z.output<typeof eslPasswordSourceSchema>;

/** Validates an inventory; throws `InvalidInput` naming every bad field in one line. */
export function parseFleetInventory(input: unknown): FleetInventory {
  return parseInput(fleetInventorySchema, input, 'fleet inventory');
}

/** The media server's entry; throws `InvalidInput` when the inventory has none. */
export function inventoryMediaServer(inventory: FleetInventory, mediaServerId: string): InventoryMediaServer {
  const found = inventory.mediaServers.find((mediaServer) => mediaServer.id === mediaServerId);
  if (found === undefined) throw new UpgradeStepError('InvalidInput', `media server ${JSON.stringify(mediaServerId)} is not in the fleet inventory`);
  return found;
}

/** The group's entry; throws `InvalidInput` when the media server has no such group. */
export function inventoryGroup(inventory: FleetInventory, mediaServerId: string, groupId: string): InventoryGroup {
  const mediaServer = inventoryMediaServer(inventory, mediaServerId);
  const found = mediaServer.groups.find((group) => group.id === groupId);
  if (found === undefined) {
    throw new UpgradeStepError(
      'InvalidInput',
      `media server ${mediaServerId} has no group ${JSON.stringify(groupId)} in the fleet inventory (groups: ${mediaServer.groups.map((group) => group.id).join(', ')})`,
    );
  }
  return found;
}
