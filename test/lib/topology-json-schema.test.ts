import { readFileSync } from 'fs';
import * as path from 'path';
import Ajv2020 from 'ajv/dist/2020';
import { generateTopology } from '../../stacks/generate-topology';
import { TOPOLOGY_JSON_SCHEMA_PATH, topologyJsonSchemaText } from '../../stacks/write-topology-schema';

const EXAMPLE_FILE = path.join(__dirname, '../../stacks/topology.example.json');
const example = () => JSON.parse(readFileSync(EXAMPLE_FILE, 'utf8'));
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(topologyJsonSchemaText()));

/** `instancePath: message` of each error, as an editor would underline them. */
function problems(topology: unknown): string[] {
  return validate(topology) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
}

describe('the topology JSON Schema', () => {
  it('is the one the repository ships (regenerate it with npm run topology-schema)', () => {
    expect(readFileSync(TOPOLOGY_JSON_SCHEMA_PATH, 'utf8')).toBe(topologyJsonSchemaText());
  });

  it('is what the example topology refers to, and accepts it', () => {
    expect(example().$schema).toBe('./topology.schema.json');
    expect(problems(example())).toEqual([]);
  });

  it('accepts a generated 20-site platform', () => {
    expect(problems(generateTopology({ sites: 20, mediaServersPerSite: 5 }))).toEqual([]);
  });

  it('flags in the editor what synth would refuse field by field', () => {
    const topology = example();
    topology.sites[0].region = 'mars-1';
    topology.sites[0].mediaServers[0].callControl.groups[0].instances = 0;
    topology.sites[0].sipCluster.color = 'blue';
    delete topology.dataCenters[0].vpcCidr;
    expect(problems(topology)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/sites\/0\/region must match pattern/),
        '/sites/0/mediaServers/0/callControl/groups/0/instances must be >= 1',
        '/sites/0/sipCluster must NOT have additional properties',
        "/dataCenters/0 must have required property 'vpcCidr'",
      ]),
    );
  });
});
