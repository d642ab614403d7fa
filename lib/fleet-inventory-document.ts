import { CALL_CONTROL_ESL_PORT, CALL_CONTROL_HEALTH_PORT, ESL_INBOUND_PORT } from './ports';

export interface InventoryMediaServer {
  readonly siteId: string;
  readonly mediaServerId: string;
  readonly privateIp: string;
  readonly eslSecretName: string;
  readonly groups: readonly { readonly id: string }[];
  /** ECS service of each group, in group order. */
  readonly serviceNames: readonly string[];
}

export interface FleetInventoryDocumentProps {
  /** Region of the data center (its ECS cluster and the ESL secrets). */
  readonly region: string;
  readonly clusterName: string;
  readonly mediaServers: readonly InventoryMediaServer[];
}

/**
 * The fleet a data center's upgrade orchestrator manages, as the step functions read it
 * (`runtime/upgrade/fleet-inventory.ts` is the schema; a test keeps the two in step).
 */
export function fleetInventoryDocument(props: FleetInventoryDocumentProps) {
  return {
    mediaServers: props.mediaServers.map((server) => ({
      id: `${server.siteId}/${server.mediaServerId}`,
      esl: { host: server.privateIp, port: ESL_INBOUND_PORT },
      eslPassword: { source: 'secrets-manager', secretId: server.eslSecretName, region: props.region },
      groups: server.groups.map((group, index) => ({
        id: group.id,
        deployment: {
          kind: 'ecs',
          region: props.region,
          cluster: props.clusterName,
          service: server.serviceNames[index],
          containerName: 'call-control',
          eslPort: CALL_CONTROL_ESL_PORT,
          healthPort: CALL_CONTROL_HEALTH_PORT,
        },
      })),
    })),
  };
}
