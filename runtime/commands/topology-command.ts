import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { parseDiagramTopology, TopologyDiagramError } from '../topology-diagram/diagram-topology';
import { renderTopologyDiagram } from '../topology-diagram/topology-diagram';
import { CliError } from './cli-error';
import { DEFAULT_TOPOLOGY, renderFromTopology } from './config-files';
import { parseOptions } from './option-schema';
import type { Output } from './output';

/** Option values of `voiceplane topology ...` as util.parseArgs returns them. */
export interface TopologyCommand {
  readonly topology?: string;
  readonly out?: string;
}

const diagramSchema = z.object({
  topology: z.string().min(1, '--topology: empty file name').default(DEFAULT_TOPOLOGY),
  out: z
    .string({ error: '--out: required (the SVG file to write)' })
    .regex(/\.svg$/i, '--out: must name an .svg file'),
});

/** `voiceplane topology diagram`: writes the topology's picture as one SVG file and prints its path. */
export function runTopologyCommand(command: TopologyCommand, output: Output): void {
  const options = parseOptions(diagramSchema, command);
  const { svg } = renderFromTopology(options.topology, (topology) => ({ svg: renderTopologyDiagram(parseDiagramTopology(topology)) }), TopologyDiagramError);
  try {
    mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
    writeFileSync(options.out, svg);
  } catch (error) {
    throw new CliError(`--out: cannot write ${options.out} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  output.line(options.out);
}
