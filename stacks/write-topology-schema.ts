/** `npm run topology-schema`: writes the topology's JSON Schema next to the example topology that refers to it. */
import { writeFileSync } from 'fs';
import * as path from 'path';
import { TOPOLOGY_JSON_SCHEMA_FILE, topologyJsonSchema } from '../lib/topology-json-schema';

export const TOPOLOGY_JSON_SCHEMA_PATH = path.join(__dirname, TOPOLOGY_JSON_SCHEMA_FILE);

/** The schema file's exact text. */
export function topologyJsonSchemaText(): string {
  return `${JSON.stringify(topologyJsonSchema(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(TOPOLOGY_JSON_SCHEMA_PATH, topologyJsonSchemaText());
  console.log(TOPOLOGY_JSON_SCHEMA_PATH);
}
