import { CALL_CONTROL_ESL_PORT, CALL_CONTROL_HEALTH_PORT } from '../../call-control/call-control-ports';
import { ESL_INBOUND_PORT } from '../../freeswitch-config/media-server-ports';
import type { FleetInventoryInput } from './fleet-inventory';

/** A media server a data center serves, with the AWS resources behind it. */
export interface FleetMediaServer {
  readonly siteId: string;
  readonly mediaServerId: string;
  /** Address of its event socket. */
  readonly privateIp: string;
  /** Name or ARN of the Secrets Manager secret holding its ESL password. */
  readonly eslSecretId: string;
  /** Its call-control groups, each with its ECS service (name or ARN). */
  readonly groups: readonly { readonly id: string; readonly service: string }[];
}

export interface FleetInventoryDocumentProps {
  /** Region of the data center (its ECS cluster and the ESL secrets). */
  readonly region: string;
  /** Name or ARN of the data center's ECS cluster. */
  readonly cluster: string;
  readonly mediaServers: readonly FleetMediaServer[];
  /** The only image repositories its upgrades may deploy (the topology's allow-list). */
  readonly allowedImageRepositories: readonly string[];
}

/**
 * The fleet a data center's upgrade orchestrator manages, as `runtime/upgrade/inventory/fleet-inventory.ts` reads it. Pure: the
 * data-center construct ships it in the step functions' package (with resource names, known at synth) and
 * `voiceplane inventory` writes it for local runs (with the ARNs of the deployed stack).
 */
export function fleetInventoryDocument(props: FleetInventoryDocumentProps): FleetInventoryInput {
  return {
    mediaServers: props.mediaServers.map((server) => ({
      id: `${server.siteId}/${server.mediaServerId}`,
      esl: { host: server.privateIp, port: ESL_INBOUND_PORT },
      eslPassword: { source: 'secrets-manager', secretId: server.eslSecretId, region: props.region },
      groups: server.groups.map((group) => ({
        id: group.id,
        deployment: {
          kind: 'ecs',
          region: props.region,
          cluster: props.cluster,
          service: group.service,
          containerName: 'call-control',
          eslPort: CALL_CONTROL_ESL_PORT,
          healthPort: CALL_CONTROL_HEALTH_PORT,
        },
      })),
    })),
    allowedImageRepositories: [...props.allowedImageRepositories],
  };
}
