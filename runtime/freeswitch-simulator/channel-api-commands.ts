import type { SimulatedCore } from './simulated-core';
import { causeFromString } from './hangup-causes';
import { separateString } from './separate-string';
import { callRows, channelRow, countJson, likeMatcher, rowsAsDelimitedText, rowsAsJson } from './show-channels';

const NO_SUCH_CHANNEL = '-ERR No such channel!\n';

export function uuidKillApi(args: string, core: SimulatedCore): string {
  if (args === '') return '-USAGE: <uuid> [cause]\n';
  const space = args.indexOf(' ');
  const uuid = space < 0 ? args : args.slice(0, space);
  const causeText = space < 0 ? '' : args.slice(space + 1);
  const channel = core.channels.get(uuid);
  if (channel === undefined || !channel.isUp) return NO_SUCH_CHANNEL;
  channel.hangup(causeText === '' ? 'NORMAL_CLEARING' : causeFromString(causeText));
  return '+OK\n';
}

export function uuidGetvarApi(args: string, core: SimulatedCore): string {
  const argv = args === '' ? [] : separateString(args, ' ', 3);
  if ((argv.length !== 2 && argv.length !== 3) || argv[0] === '') return '-USAGE: <uuid> <var> [index]\n';
  const channel = core.channels.get(argv[0]);
  if (channel === undefined) return NO_SUCH_CHANNEL;
  if (argv[1] === '') return '-ERR No variable name specified!\n';
  return core.variableOf(channel, argv[1]) ?? '_undef_';
}

export function uuidSetvarApi(args: string, core: SimulatedCore): string {
  const argv = args === '' ? [] : separateString(args, ' ', 3);
  if ((argv.length !== 2 && argv.length !== 3) || argv[0] === '') return '-USAGE: <uuid> <var> [value]\n';
  const channel = core.channels.get(argv[0]);
  if (channel === undefined) return NO_SUCH_CHANNEL;
  if (argv[1] === '') return '-ERR No variable specified\n';
  if (argv[2] === undefined || argv[2] === '') channel.variables.delete(argv[1]);
  else channel.variables.set(argv[1], argv[2]);
  return '+OK\n';
}

export function uuidExistsApi(args: string, core: SimulatedCore): string {
  return core.channels.has(args.trim()) ? 'true' : 'false';
}

const SHOW_USAGE = '-USAGE: channels|calls [count|like <match string>] [as json|delim <char>]\n';

/**
 * `show channels|calls [count] [like PATTERN] [as json]`. Zero rows in JSON are `{"row_count": 0}` and a
 * newline, with the space and without `rows`, because FreeSWITCH writes that case by hand; a count is always
 * `{"row_count":N,"rows":[]}` (checked on the real server).
 */
export function showApi(args: string, core: SimulatedCore): string {
  const words = args.split(' ').filter((word) => word !== '');
  const asIndex = words.findIndex((word) => word.toLowerCase() === 'as');
  const format = asIndex >= 0 ? (words[asIndex + 1] ?? '').toLowerCase() : 'delim';
  const delimiter = format === 'delim' ? words[asIndex + 2] ?? ',' : ',';
  const query = asIndex >= 0 ? words.slice(0, asIndex) : words;
  const [what, modifier, pattern] = query.map((word, index) => (index < 2 ? word.toLowerCase() : word));
  if (what !== 'channels' && what !== 'calls') return SHOW_USAGE;

  const channels = [...core.channels.values()];
  const rows =
    what === 'channels'
      ? channels.map((channel) => channelRow(channel, core.hostname))
      : callRows(channels, core.hostname);
  const selected = modifier === 'like' && pattern !== undefined ? rows.filter(likeMatcher(pattern)) : rows;

  if (modifier === 'count') {
    return format === 'json' ? countJson(selected.length) : `${selected.length} total.\n`;
  }
  return format === 'json' ? rowsAsJson(selected) : rowsAsDelimitedText(selected, delimiter);
}
