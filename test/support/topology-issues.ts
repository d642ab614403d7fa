import { readFileSync } from 'fs';
import * as path from 'path';
import { parseTopology, TopologyError, type TopologyInput } from '../../lib';

export const EXAMPLE_TOPOLOGY_PATH = path.join(__dirname, '../../stacks/topology.example.json');

/** A fresh copy of the example topology, to change in a test. */
export function exampleTopology(): TopologyInput {
  return JSON.parse(readFileSync(EXAMPLE_TOPOLOGY_PATH, 'utf8'));
}

/** The issues of a topology that must be rejected; fails if it is accepted. */
export function topologyIssues(input: unknown): readonly string[] {
  try {
    parseTopology(input);
  } catch (error) {
    if (error instanceof TopologyError) return error.issues;
    throw error;
  }
  throw new Error('expected the topology to be rejected');
}
