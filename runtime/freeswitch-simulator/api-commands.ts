import type { SimulatedCore } from './simulated-core';
import { showApi, uuidExistsApi, uuidGetvarApi, uuidKillApi, uuidSetvarApi } from './channel-api-commands';
import { dbApi, globalGetvarApi, globalSetvarApi, hashApi, limitUsageApi } from './store-api-commands';
import { condApi, echoApi, fsctlApi, hostnameApi, moduleExistsApi, reloadxmlApi, statusApi, versionApi } from './system-api-commands';

/** An API command: its arguments in, its output (possibly empty) out. */
export type ApiCommand = (args: string, core: SimulatedCore) => string;

/** The API commands the simulated switch knows; anything else is "Command not found". */
export const API_COMMANDS: ReadonlyMap<string, ApiCommand> = new Map<string, ApiCommand>([
  ['db', dbApi],
  ['hash', hashApi],
  ['limit_usage', limitUsageApi],
  ['global_setvar', globalSetvarApi],
  ['global_getvar', globalGetvarApi],
  ['show', showApi],
  ['uuid_kill', uuidKillApi],
  ['uuid_getvar', uuidGetvarApi],
  ['uuid_setvar', uuidSetvarApi],
  ['uuid_exists', uuidExistsApi],
  ['status', statusApi],
  ['version', versionApi],
  ['hostname', hostnameApi],
  ['reloadxml', reloadxmlApi],
  ['fsctl', fsctlApi],
  ['cond', condApi],
  ['module_exists', moduleExistsApi],
  ['expr', (args, core) => core.expressions.evaluate(args)],
  ['eval', echoApi],
  ['echo', echoApi],
]);
