import { readFileSync } from 'fs';
import { Topology, TopologyError, parseTopologyJson } from '../lib';

/** Reads and validates a topology file; a missing or unreadable file is a TopologyError too. */
export function loadTopologyFile(path: string): Topology {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TopologyError([`${path}: cannot read topology file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
  return parseTopologyJson(text, path);
}
