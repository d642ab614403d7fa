import * as path from 'path';
import { readStackJson, type SynthesizedPlatform } from '../synth-platform';

/** Reading what `cdktf synth` wrote: the resources of each stack, with Terraform references resolved where synth fixes the value. */

interface StackJson {
  readonly provider?: { readonly aws?: readonly { readonly region: string; readonly alias?: string }[] };
  readonly resource?: Readonly<Record<string, Readonly<Record<string, Record<string, unknown>>>>>;
}

export interface TableConfig {
  readonly name: string;
  readonly billing_mode?: 'PAY_PER_REQUEST' | 'PROVISIONED';
  readonly read_capacity?: number;
  readonly write_capacity?: number;
  readonly hash_key: string;
  readonly range_key?: string;
  readonly attribute: readonly { readonly name: string; readonly type: 'S' | 'N' | 'B' }[];
  readonly global_secondary_index?: readonly { name: string; hash_key: string; range_key?: string; projection_type: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; non_key_attributes?: string[] }[];
}

export interface StackTable {
  readonly stack: string;
  readonly region: string;
  readonly config: TableConfig;
}

export interface SynthesizedStack {
  readonly name: string;
  readonly dir: string;
  /** The region of the stack's default AWS provider. */
  readonly region: string;
  /** Resources of one type (name -> configuration), references resolved (see resolveReferences). */
  resources<T = Record<string, unknown>>(type: string): [string, T][];
}

export function synthesizedStacks(platform: SynthesizedPlatform): SynthesizedStack[] {
  return Object.entries(platform.stackDirs).map(([name, dir]) => {
    const raw = readStackJson(dir);
    const json = JSON.parse(raw) as StackJson;
    const region = json.provider?.aws?.find((provider) => provider.alias === undefined)?.region;
    if (!region) throw new Error(`stack ${name} has no default aws provider`);
    const resolved = JSON.parse(resolveReferences(raw, json)) as StackJson;
    return {
      name,
      dir,
      region,
      resources: <T>(type: string) => Object.entries(resolved.resource?.[type] ?? {}) as [string, T][],
    };
  });
}

/** Every `aws_dynamodb_table` of the platform, in its stack's region. */
export function platformTables(stacks: readonly SynthesizedStack[]): StackTable[] {
  return stacks.flatMap((stack) => stack.resources<TableConfig>('aws_dynamodb_table').map(([, config]) => ({ stack: stack.name, region: stack.region, config })));
}

/** A file a resource names relative to its stack directory (a Lambda's `filename`). */
export function stackFile(stack: SynthesizedStack, relative: string): string {
  return path.join(stack.dir, relative);
}

/**
 * Replaces `${aws_type.name.attribute}` by the attribute's value where the stack sets it literally (a table's
 * name), and by a recognisable stand-in where only AWS knows it (an ARN, an id): `unknown:aws_type.name.attribute`.
 */
function resolveReferences(raw: string, json: StackJson): string {
  return raw.replace(/\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}/g, (_, type: string, name: string, attribute: string) => {
    const value = json.resource?.[type]?.[name]?.[attribute];
    return typeof value === 'string' && !value.includes('${') ? value : `unknown:${type}.${name}.${attribute}`;
  });
}
