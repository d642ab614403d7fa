import { z } from 'zod';
import { parseOrThrowWith } from '../validation/zod-issues';

/** A topology file that cannot be drawn. The message is one line naming the field. */
export class TopologyDiagramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopologyDiagramError';
  }
}

/**
 * Only the fields of a topology file the diagram draws, checked here because runtime code may not import the
 * topology model of the constructs (the full validation is `voiceplane synth`'s).
 */
const placeShape = { id: z.string().min(1, 'must not be empty'), region: z.string().min(1, 'must not be empty'), vpcCidr: z.string().min(1, 'must not be empty') };

const diagramTopologySchema = z.looseObject({
  platform: z.string().min(1, 'must not be empty'),
  dataCenters: z.array(z.looseObject(placeShape)).min(1, 'at least one data center is required'),
  sites: z
    .array(
      z.looseObject({
        ...placeShape,
        pstn: z.looseObject({ enabled: z.boolean() }).optional(),
        sipCluster: z.looseObject({ size: z.number().int().min(1, 'a SIP cluster needs at least one node') }),
        mediaServers: z
          .array(
            z.looseObject({
              id: z.string().min(1, 'must not be empty'),
              callControl: z.looseObject({ dataCenter: z.string(), groups: z.array(z.looseObject({ id: z.string() })).min(1, 'at least one call-control group is required') }),
            }),
          )
          .min(1, 'a site needs at least one media server'),
      }),
    )
    .min(1, 'at least one site is required'),
});

export type DiagramTopology = z.output<typeof diagramTopologySchema>;

/** The drawable view of a parsed topology file; a media server served by an unknown data center is refused. */
export function parseDiagramTopology(input: unknown): DiagramTopology {
  const topology = parseOrThrowWith(diagramTopologySchema, input, 'topology', (message) => new TopologyDiagramError(message));
  const dataCenters = new Set(topology.dataCenters.map((dataCenter) => dataCenter.id));
  topology.sites.forEach((site, siteIndex) =>
    site.mediaServers.forEach((server, serverIndex) => {
      if (!dataCenters.has(server.callControl.dataCenter)) {
        throw new TopologyDiagramError(`topology: sites[${siteIndex}].mediaServers[${serverIndex}].callControl.dataCenter: no data center "${server.callControl.dataCenter}"`);
      }
    }),
  );
  return topology;
}
