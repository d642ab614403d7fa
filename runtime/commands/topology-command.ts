import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { parseDiagramTopology, TopologyDiagramError } from '../topology-diagram/diagram-topology';
import { renderTopologyDiagram } from '../topology-diagram/topology-diagram';
import { CliError, UsageError } from './cli-error';
import { DEFAULT_TOPOLOGY, renderFromTopology } from './config-files';
import { parseOptions } from './option-schema';
import type { Output } from './output';

export const TOPOLOGY_USAGE = `  topology diagram [--topology FILE] --out FILE.svg
                 draw the platform: data centers, sites, regions, VPC peerings and which media servers each
                 data center's call-control groups serve`;

export const TOPOLOGY_OPTIONS = { topology: { type: 'string' }, out: { type: 'string' } } as const;

/** Option values of `voiceplane topology ...` as util.parseArgs returns them. */
export interface TopologyCommand {
  readonly action: string | undefined;
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
  if (command.action !== 'diagram') throw new UsageError(`topology: expected diagram, got ${command.action ?? 'nothing'}`);
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
