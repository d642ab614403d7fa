import { randomUUID } from 'node:crypto';
import { addChannelData } from './channel-event-data';
import { EslCommand } from './esl-command-parser';
import type { EslConnection } from './esl-connection';
import { apiResponseFrame, commandReplyFrame, commandReplyWithHeadersFrame } from './esl-frames';
import { EventFormat, serializePlain } from './event-serializer';
import { isFsTrue } from './fs-true';

/** The frame to write in reply (undefined: nothing), possibly once an application has finished. */
export type CommandResult = string | undefined | Promise<string | undefined>;

const LOG_LEVELS: ReadonlyMap<string, number> = new Map([
  ['console', 0],
  ['alert', 1],
  ['crit', 2],
  ['err', 3],
  ['error', 3],
  ['warning', 4],
  ['notice', 5],
  ['info', 6],
  ['debug', 7],
]);

function reply(text: string): string {
  // parse_command answers an empty reply with "-ERR command not found" (an unset getvar, for one).
  return commandReplyFrame(text === '' ? '-ERR command not found' : text);
}

function splitFirstWord(text: string): [string, string | undefined] {
  const space = text.indexOf(' ');
  return space < 0 ? [text, undefined] : [text.slice(0, space), text.slice(space + 1)];
}

/**
 * mod_event_socket's parse_command: the same command words (matched as case-insensitive prefixes), in the
 * same order, with the same reply texts. Outbound connections without `full` only get the call-control
 * subset; everything unknown is "-ERR command not found".
 */
export function handleEslCommand(connection: EslConnection, command: EslCommand): CommandResult {
  const line = command.line;
  const lower = line.toLowerCase();
  const is = (prefix: string): boolean => lower.startsWith(prefix);

  if (is('exit') || line.startsWith('...')) {
    connection.running = false;
    return reply('+OK bye');
  }
  if (!connection.authed) return authenticate(connection, line);
  if (is('filter ')) return reply(filter(connection, line.slice('filter '.length)));
  if (connection.boundSession !== undefined && is('resume')) {
    connection.boundSession.channel.variables.set('socket_resume', 'true');
    return reply('+OK');
  }
  if (connection.boundSession !== undefined || is('myevents ')) {
    if (is('connect')) return channelData(connection);
    if (is('getvar')) return reply(getvar(connection, line));
    if (is('myevents')) return reply(myevents(connection, line));
  }
  if (is('divert_events')) return reply(divertEvents(connection, line.slice('divert_events'.length)));
  if (is('sendmsg')) return sendmsg(connection, command, line.slice('sendmsg'.length));
  if (connection.outbound !== undefined && !connection.outbound.full) return reply('');
  if (is('api ')) return api(connection, line.slice('api '.length));
  if (is('bgapi ')) return bgapi(connection, command, line.slice('bgapi '.length));
  if (is('log')) return reply(log(connection, line.slice('log'.length)));
  if (is('linger')) return reply(linger(connection, line));
  if (is('nolinger')) return reply(nolinger(connection));
  if (is('nolog')) return reply(nolog(connection));
  if (is('event')) return reply(event(connection, line));
  if (is('nixevent')) return reply(nixevent(connection, line));
  if (is('noevents')) return reply(noevents(connection));
  return reply('');
}

function authenticate(connection: EslConnection, line: string): string {
  const lower = line.toLowerCase();
  if (lower.startsWith('auth ')) {
    if (line.slice('auth '.length) === connection.core.settings.password) {
      connection.authed = true;
      return reply('+OK accepted');
    }
    connection.running = false;
    return reply('-ERR invalid');
  }
  if (lower.startsWith('userauth ')) {
    connection.running = false;
    return reply('-ERR invalid');
  }
  return reply('');
}

function filter(connection: EslConnection, text: string): string {
  const [name, value] = splitFirstWord(text.replace(/^ +/, ''));
  if (name.toLowerCase() === 'delete' && value !== undefined) {
    const [deletedName, deletedValue] = splitFirstWord(value);
    connection.subscription.deleteFilter(deletedName, deletedValue);
    return `+OK filter deleted. [${deletedName}][${deletedValue ?? ''}]`;
  }
  if (value === undefined) return '-ERR invalid syntax';
  const [header, headerValue] = name.toLowerCase() === 'add' ? splitFirstWord(value) : [name, value];
  connection.subscription.addFilter(header, headerValue ?? '');
  return `+OK filter added. [${header}]=[${headerValue ?? ''}]`;
}

/** The reply to `connect`: a CHANNEL_DATA event serialised as plain headers, with no Content-Length. */
function channelData(connection: EslConnection): string {
  connection.markConnected();
  const core = connection.core;
  const event = core.newEvent('CHANNEL_DATA');
  const session = connection.boundSession;
  if (session !== undefined) addChannelData(event, session.channel);
  const outbound = connection.outbound;
  event
    .add('Content-Type', 'command/reply')
    .add('Reply-Text', '+OK\n')
    .add('Socket-Mode', outbound?.async ? 'async' : 'static')
    .add('Control', outbound?.full ? 'full' : 'single-channel');
  return serializePlain(event);
}

function getvar(connection: EslConnection, line: string): string {
  const [, name] = splitFirstWord(line);
  const session = connection.boundSession;
  if (name === undefined || session === undefined) return '';
  return connection.core.variableOf(session.channel, name) ?? '';
}

function formatNamedIn(text: string): EventFormat | undefined {
  if (text.includes('json') || text.includes('JSON')) return 'json';
  if (text.includes('xml') || text.includes('XML')) return 'xml';
  return undefined;
}

function myevents(connection: EslConnection, line: string): string {
  if (connection.myEvents) return '-ERR aready enabled.';
  if (connection.boundSession === undefined) {
    const [uuid, format] = splitFirstWord(line.slice('myevents '.length).trim());
    const session = connection.core.sessions.get(uuid);
    if (session === undefined && format !== undefined) return '-ERR invalid uuid';
    if (session !== undefined) connection.bindSession(session);
  }
  connection.subscription.subscribeToOwnCall(formatNamedIn(line));
  connection.myEvents = true;
  connection.refreshEventRegistration();
  return '+OK Events Enabled';
}

function divertEvents(connection: EslConnection, rest: string): string {
  if (connection.boundSession === undefined) return '-ERR not controlling a session.';
  const value = rest.trim();
  if (value === '') return '-ERR missing value.';
  return value.toLowerCase() === 'on' ? '+OK events diverted' : '+OK events not diverted';
}

/**
 * `sendmsg [UUID]`: to the controlled call when no other uuid is named. An async socket (or an `async:
 * true` message) queues it for the parked channel; a static outbound socket runs it before replying.
 */
function sendmsg(connection: EslConnection, command: EslCommand, rest: string): CommandResult {
  let uuid: string | undefined = rest.trim();
  if (uuid === '') uuid = command.header('session-id');
  const own = connection.boundSession;
  if (uuid !== undefined && own !== undefined && uuid === own.uuid) uuid = undefined;
  if ((uuid === undefined || uuid === '') && own !== undefined) {
    const queued = connection.outbound === undefined || connection.outbound.async || isFsTrue(command.header('async'));
    if (queued) {
      own.queueMessage(command);
      return reply('+OK');
    }
    return own.processMessage(command).then(() => reply('+OK'));
  }
  const target = uuid === undefined ? undefined : connection.core.sessions.get(uuid);
  if (target === undefined) return reply(`-ERR invalid session id [${uuid ?? ''}]`);
  target.queueMessage(command);
  return reply('+OK');
}

/** `api CMD ARGS`: arguments are expanded first (api_expansion); empty output reads "-ERR no reply". */
function api(connection: EslConnection, text: string): string {
  const [name, args] = splitFirstWord(text);
  const core = connection.core;
  const output = core.apiOutput(name, core.expandGlobally(args ?? ''));
  if (output === undefined) return apiResponseFrame(`-ERR ${name} Command not found!\n`);
  return apiResponseFrame(output === '' ? '-ERR no reply\n' : output);
}

/** `bgapi CMD ARGS`: replies with a Job-UUID now; the output comes later in a BACKGROUND_JOB event. */
function bgapi(connection: EslConnection, command: EslCommand, text: string): string {
  const [name, args] = splitFirstWord(text);
  const jobUuid = command.header('job-uuid') ?? randomUUID();
  const core = connection.core;
  const owner = connection.boundSession?.uuid;
  setImmediate(() => {
    if (!core.isRunning) return;
    const output = core.apiOutput(name, core.expandGlobally(args ?? ''));
    core.fireEvent(
      'BACKGROUND_JOB',
      (event) => {
        event.add('Job-UUID', jobUuid);
        if (owner !== undefined) event.add('Job-Owner-UUID', owner);
        event.add('Job-Command', name);
        if (args !== undefined) event.add('Job-Command-Arg', args);
        event.body = output ?? `-ERR ${name} Command not found!\n`;
      },
      owner === undefined ? [] : [owner]
    );
  });
  return commandReplyWithHeadersFrame(`Reply-Text: +OK Job-UUID: ${jobUuid}\nJob-UUID: ${jobUuid}\n`);
}

function log(connection: EslConnection, rest: string): string {
  const level = rest.trim().split(' ')[0];
  const number = level === '' ? 7 : LOG_LEVELS.get(level.toLowerCase());
  if (number === undefined) return '-ERR invalid log level';
  connection.logging = true;
  return `+OK log level ${level} [${number}]`;
}

function nolog(connection: EslConnection): string {
  if (!connection.logging) return '-ERR not loging';
  connection.logging = false;
  return '+OK no longer logging';
}

function linger(connection: EslConnection, line: string): string {
  if (connection.boundSession === undefined) return '-ERR not controlling a session';
  if (line[6] === ' ' && line.length > 7) {
    const seconds = parseInt(line.slice(7), 10) || 0;
    connection.lingerSeconds = seconds;
    return `+OK will linger ${seconds} seconds`;
  }
  connection.lingerSeconds = -1;
  return '+OK will linger';
}

function nolinger(connection: EslConnection): string {
  if (connection.boundSession === undefined) return '-ERR not controlling a session';
  connection.lingerSeconds = undefined;
  return '+OK will not linger';
}

function tokensAfterCommandWord(line: string, commandLength: number): string[] {
  const space = line.indexOf(' ', commandLength);
  return space < 0 ? [] : line.slice(space + 1).split(' ');
}

function event(connection: EslConnection, line: string): string {
  const keywords = connection.subscription.subscribe(tokensAfterCommandWord(line, 'event'.length));
  if (keywords === 0) return '-ERR no keywords supplied';
  connection.refreshEventRegistration();
  return `+OK event listener enabled ${connection.subscription.format}`;
}

function nixevent(connection: EslConnection, line: string): string {
  const keywords = connection.subscription.unsubscribe(tokensAfterCommandWord(line, 'nixevent'.length));
  if (keywords === 0) return '-ERR no keywords supplied';
  connection.refreshEventRegistration();
  return '+OK events nixed';
}

function noevents(connection: EslConnection): string {
  connection.dropHeldEvents();
  if (!connection.subscription.clear()) return '-ERR not listening for events';
  connection.refreshEventRegistration();
  return '+OK no longer listening for events';
}
