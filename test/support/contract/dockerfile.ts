import { readFileSync } from 'fs';

/** What `docker run` of one build target starts: entry point, default command, environment, working directory, user. */
export interface ImageConfig {
  readonly entryPoint: readonly string[];
  readonly cmd: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly workdir: string;
  readonly user: string;
}

interface Stage extends ImageConfig {
  readonly name: string;
}

const EMPTY: ImageConfig = { entryPoint: [], cmd: [], env: {}, workdir: '/', user: 'root' };

/**
 * The image configuration of `target` in a Dockerfile, following `FROM <earlier stage>` inheritance. Only the
 * instructions that shape how a container starts are read; ENTRYPOINT and CMD must use the exec (JSON) form,
 * because the shell form would put `sh` in front of node and keep signals from reaching it.
 */
export function imageConfig(dockerfile: string, target: string): ImageConfig {
  const stages: Stage[] = [];
  for (const [instruction, argument] of instructions(readFileSync(dockerfile, 'utf8'))) {
    if (instruction === 'FROM') {
      const [base, as, name] = argument.split(/\s+/);
      const inherited = stages.find((stage) => stage.name === base) ?? EMPTY;
      stages.push({ ...inherited, name: as?.toUpperCase() === 'AS' ? name : '' });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${dockerfile}: ${instruction} before FROM`);
    const update = (change: Partial<ImageConfig>) => stages.splice(stages.length - 1, 1, { ...stage, ...change });
    if (instruction === 'ENTRYPOINT') update({ entryPoint: execForm(dockerfile, instruction, argument), cmd: [] });
    else if (instruction === 'CMD') update({ cmd: execForm(dockerfile, instruction, argument) });
    else if (instruction === 'ENV') update({ env: { ...stage.env, ...envPairs(argument) } });
    else if (instruction === 'WORKDIR') update({ workdir: argument.startsWith('/') ? argument : `${stage.workdir}/${argument}` });
    else if (instruction === 'USER') update({ user: argument });
  }
  const found = stages.find((stage) => stage.name === target);
  if (!found) throw new Error(`${dockerfile}: no stage named ${target}`);
  const { entryPoint, cmd, env, workdir, user } = found;
  return { entryPoint, cmd, env, workdir, user };
}

/** [INSTRUCTION, argument] pairs, continuation lines joined, comments dropped. */
function instructions(text: string): [string, string][] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n');
  return logical.flatMap((line) => {
    const match = /^\s*([A-Za-z]+)\s+(.*\S)\s*$/.exec(line);
    return match ? [[match[1].toUpperCase(), match[2]] as [string, string]] : [];
  });
}

function execForm(dockerfile: string, instruction: string, argument: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(argument);
  } catch {
    throw new Error(`${dockerfile}: ${instruction} ${argument} is in shell form; use the exec form ["...", "..."]`);
  }
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) throw new Error(`${dockerfile}: ${instruction} must be a JSON array of strings`);
  return parsed;
}

function envPairs(argument: string): Record<string, string> {
  const pairs = [...argument.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)];
  if (pairs.length === 0) {
    const [name, ...value] = argument.split(/\s+/);
    return { [name]: value.join(' ') };
  }
  return Object.fromEntries(pairs.map(([, name, value]) => [name, value.replace(/^"(.*)"$/, '$1')]));
}
