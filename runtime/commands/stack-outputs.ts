import { readFileSync } from 'fs';
import { z } from 'zod';
import { describeIssue } from '../validation/zod-issues';
import { UsageError } from './cli-error';

/** The outputs of deployed stacks by stack name, each output by its name. */
export type StackOutputs = ReadonlyMap<string, Readonly<Record<string, unknown>>>;

/** `cdktf output --outputs-file FILE`: `{"<stack>": {"<output>": value}}`. */
const cdktfOutputsFileSchema = z.record(z.string(), z.record(z.string(), z.unknown(), { error: 'must be an object of outputs' }), { error: 'must be an object of stacks' });
/** `terraform output -json` in one stack's directory: `{"<output>": {"value": value, "type": ..., "sensitive": ...}}`. */
const terraformOutputJsonSchema = z.record(z.string(), z.looseObject({ value: z.unknown() }, { error: 'must be an object with a value' }), { error: 'must be an object of outputs' });

/** `STACK=FILE` names the stack of a `terraform output -json` file; a bare FILE is a `cdktf output --outputs-file`. */
const STACK_FILE = /^([A-Za-z0-9][A-Za-z0-9_-]*)=(.+)$/;

/** Reads every `--outputs` argument; a file that cannot be read or has another shape is one line naming it. */
export function readStackOutputs(specs: readonly string[]): StackOutputs {
  const outputs = new Map<string, Readonly<Record<string, unknown>>>();
  const add = (stack: string, values: Readonly<Record<string, unknown>>, file: string) => {
    if (outputs.has(stack)) throw new UsageError(`--outputs: ${file}: outputs of stack ${stack} were already given by another file`);
    outputs.set(stack, values);
  };
  for (const spec of specs) {
    const stackFile = STACK_FILE.exec(spec);
    if (stackFile) {
      const [, stack, file] = stackFile;
      const parsed = parseFile(file, terraformOutputJsonSchema, 'terraform output -json');
      add(stack, Object.fromEntries(Object.entries(parsed).map(([name, output]) => [name, output.value])), file);
    } else {
      for (const [stack, values] of Object.entries(parseFile(spec, cdktfOutputsFileSchema, 'cdktf output --outputs-file'))) add(stack, values, spec);
    }
  }
  return outputs;
}

function parseFile<Schema extends z.ZodType>(file: string, schema: Schema, writer: string): z.output<Schema> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--outputs: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--outputs: ${file} is not JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new UsageError(`--outputs: ${file} is not what \`${writer}\` writes (${describeIssue(parsed.error.issues[0])})`);
  return parsed.data;
}
