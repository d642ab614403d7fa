import { z } from 'zod';
import { topologySchema } from './topology';

/** Where the repository keeps the generated schema, next to the example topology that refers to it. */
export const TOPOLOGY_JSON_SCHEMA_FILE = 'topology.schema.json';

/**
 * The topology file's JSON Schema (draft 2020-12), generated from its zod model so editors complete and check
 * topology files as they are written. It holds every field, type, pattern and bound; the checks across fields
 * (unique ids, overlapping VPCs, data-center references) are `npm run synth`'s.
 */
export function topologyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(topologySchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
  return { ...schema, title: 'voiceplane topology', description: 'Data centers hosting call control and MSP sites with media servers, a SIP cluster and a PSTN edge.' };
}
