import type { SimulatedCore } from './simulated-core';
import { evaluateCond } from './cond-function';
import { separateString } from './separate-string';

export const SIMULATED_VERSION = '1.10.12-release';

function plural(value: number, unit: string): string {
  return `${value} ${unit}${value === 1 ? '' : 's'}`;
}

function uptimeLine(uptimeUs: number): string {
  const us = Math.floor(uptimeUs);
  const totalSeconds = Math.floor(us / 1_000_000);
  const totalDays = Math.floor(totalSeconds / 86_400);
  const parts = [
    plural(Math.floor(totalDays / 365), 'year'),
    plural(totalDays % 365, 'day'),
    plural(Math.floor(totalSeconds / 3600) % 24, 'hour'),
    plural(Math.floor(totalSeconds / 60) % 60, 'minute'),
    plural(totalSeconds % 60, 'second'),
    plural(Math.floor(us / 1000) % 1000, 'millisecond'),
    plural(us % 1000, 'microsecond'),
  ];
  return `UP ${parts.join(', ')}\n`;
}

/** mod_commands' `status`. */
export function statusApi(_args: string, core: SimulatedCore): string {
  const sessions = core.channels.size;
  return (
    uptimeLine(core.nowUs() - core.startedAtUs) +
    `FreeSWITCH (Version ${SIMULATED_VERSION} 64bit) is ${core.isReady() ? 'ready' : 'not ready'}\n` +
    `${core.sessionsSinceStartup} session(s) since startup\n` +
    `${sessions} session(s) - peak ${core.peakSessions}, last 5min ${core.peakSessions} \n` +
    '0 session(s) per Sec out of max 30, peak 0, last 5min 0 \n' +
    '1000 session(s) max\n' +
    'min idle cpu 0.00/100.00\n' +
    'Current Stack Size/Max 240K/8192K\n'
  );
}

export function versionApi(args: string): string {
  if (args.trim() === 'short') return `${SIMULATED_VERSION.split('-')[0]}\n`;
  return `FreeSWITCH Version ${SIMULATED_VERSION}~64bit (-release 64bit)\n`;
}

export function hostnameApi(_args: string, core: SimulatedCore): string {
  return core.hostname;
}

/** `reloadxml`: `+OK [Success]` or, when the XML does not parse, `+OK [error]` with the old dialplan kept. */
export function reloadxmlApi(_args: string, core: SimulatedCore): string {
  return `+OK [${core.reloadDialplan()}]\n`;
}

const FSCTL_SYNTAX = [
  '[hupall|pause [inbound|outbound]|resume [inbound|outbound]',
  'shutdown [cancel|elegant|asap|now|restart]|pause_check [inbound|outbound]|ready_check|shutdown_check]',
].join('|');

/** The `fsctl` subcommands an orchestrator uses to drain or stop a switch. */
export function fsctlApi(args: string, core: SimulatedCore): string {
  if (args === '') return `-USAGE: ${FSCTL_SYNTAX}\n`;
  const argv = separateString(args, ' ', 5);
  const scope = (argv[1] ?? '').toLowerCase();
  const direction = scope === 'inbound' || scope === 'outbound' ? scope : 'all';
  switch (argv[0].toLowerCase()) {
    case 'pause':
      core.setPaused(direction, true);
      return '+OK\n';
    case 'resume':
      core.setPaused(direction, false);
      return '+OK\n';
    case 'pause_check':
      return core.isPaused(direction) ? 'true' : 'false';
    case 'ready_check':
      return core.isReady() ? 'true' : 'false';
    case 'shutdown_check':
      return core.isShutdownRequested() ? 'true' : 'false';
    case 'hupall':
      core.hangupAll('MANAGER_REQUEST');
      return '+OK\n';
    case 'shutdown':
      core.requestShutdown(argv.slice(1).map((word) => word.toLowerCase()));
      return '+OK\n';
    default:
      return `-ERR INVALID COMMAND\nUSAGE: fsctl ${FSCTL_SYNTAX}`;
  }
}

export function condApi(args: string): string {
  return evaluateCond(args);
}

/** The FreeSWITCH modules whose behaviour the simulator reproduces (see README.md). */
const SIMULATED_MODULES = new Set(['mod_event_socket', 'mod_commands', 'mod_dptools', 'mod_db', 'mod_hash', 'mod_expr', 'mod_dialplan_xml', 'mod_sofia']);

/** mod_commands' `module_exists NAME`: `true` or `false`; nothing without a name. */
export function moduleExistsApi(args: string): string {
  const name = args.trim();
  if (name === '') return '';
  return SIMULATED_MODULES.has(name) ? 'true' : 'false';
}

/** `eval` and `echo` return their (already expanded) arguments. */
export function echoApi(args: string): string {
  return args;
}
