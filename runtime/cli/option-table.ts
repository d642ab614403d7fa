import { Option, type Command } from 'commander';

/** One flag of a command: a value (`--table NAME`, repeatable with `multiple`) or a switch (`--json`). */
export type OptionSpec =
  | { readonly type: 'string'; readonly multiple?: boolean; readonly value?: string; readonly description: string }
  | { readonly type: 'boolean'; readonly description: string };

/** A command's flags by long name (`'media-server'` is `--media-server`). */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

type OptionValue<Spec> = Spec extends { readonly type: 'boolean' } ? boolean : Spec extends { readonly multiple: true } ? string[] : string;

/** The values given on a command line for a table's flags, keyed by long name as the commands read them. */
export type OptionValues<Table extends OptionTable> = { -readonly [Name in keyof Table]?: OptionValue<Table[Name]> };

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Declares a table's flags on a commander command (repeatable flags collect every value in order). */
export function addOptionTable(command: Command, table: OptionTable): Command {
  for (const [name, spec] of Object.entries(table)) {
    if (spec.type === 'boolean') {
      command.addOption(new Option(`--${name}`, spec.description));
      continue;
    }
    const option = new Option(`--${name} <${spec.value ?? name.toUpperCase().replace(/-/g, '_')}>`, spec.description);
    command.addOption(spec.multiple ? option.argParser(collect) : option);
  }
  return command;
}

/** The values a parsed command holds for a table's flags, under their long names; flags not given are left out. */
export function optionValues<Table extends OptionTable>(command: Command, table: Table): OptionValues<Table> {
  const parsed = command.opts();
  const values: Record<string, unknown> = {};
  for (const option of command.options) {
    const name = option.long?.slice(2);
    if (name === undefined || !(name in table)) continue;
    const value = parsed[option.attributeName()];
    if (value !== undefined) values[name] = value;
  }
  return values as OptionValues<Table>;
}
