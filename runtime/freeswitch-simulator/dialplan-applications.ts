import { DialplanApplication } from './dialplan-application';
import { causeFromSipStatus, causeFromString } from './hangup-causes';
import { separateString } from './separate-string';

const LOG_LEVELS = ['CONSOLE', 'ALERT', 'CRIT', 'ERR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG'];

function splitAssignment(data: string): { name: string; value: string } {
  const equals = data.indexOf('=');
  return equals < 0 ? { name: data, value: '' } : { name: data.slice(0, equals), value: data.slice(equals + 1) };
}

/** `set NAME=VALUE`: the value is expanded once more (base_set does); an empty value unsets. */
export const setApplication: DialplanApplication = {
  routingExec: true,
  run({ session, channel, core, data }) {
    if (data === '') {
      core.log('ERR', 'set: no variable name specified');
      return;
    }
    const { name, value } = splitAssignment(data);
    if (value === '') channel.variables.delete(name);
    else channel.variables.set(name, session.expand(value));
  },
};

export const unsetApplication: DialplanApplication = {
  routingExec: true,
  run({ channel, data }) {
    channel.variables.delete(data);
  },
};

/**
 * `export [nolocal:]NAME=VALUE`: sets the variable (under its `nolocal:` name when so prefixed, which
 * keeps it off this leg) and lists it in export_vars so that a bridge copies it to the B leg.
 */
export const exportApplication: DialplanApplication = {
  routingExec: true,
  run({ channel, data }) {
    const { name, value } = splitAssignment(data);
    if (value === '') channel.variables.delete(name);
    else channel.variables.set(name, value);
    const exports = channel.variables.get('export_vars');
    channel.variables.set('export_vars', exports === undefined ? name : `${exports},${name}`);
  },
};

export const setGlobalApplication: DialplanApplication = {
  routingExec: true,
  run({ core, data }) {
    const { name, value } = splitAssignment(data);
    if (value === '') core.globals.delete(name);
    else core.globals.set(name, value);
  },
};

/** `log [LEVEL] message`, kept in the simulator's log. */
export const logApplication: DialplanApplication = {
  routingExec: true,
  run({ core, data }) {
    const space = data.indexOf(' ');
    const first = (space < 0 ? data : data.slice(0, space)).toUpperCase();
    if (LOG_LEVELS.includes(first)) core.log(first, space < 0 ? '' : data.slice(space + 1));
    else core.log('DEBUG', data);
  },
};

export const infoApplication: DialplanApplication = {
  routingExec: true,
  run({ channel, core }) {
    core.log('INFO', `Channel ${channel.name} (${channel.uuid}) state ${channel.state}`);
  },
};

export const answerApplication: DialplanApplication = {
  routingExec: false,
  run({ channel }) {
    channel.answer();
  },
};

export const preAnswerApplication: DialplanApplication = {
  routingExec: false,
  run({ channel }) {
    channel.preAnswer();
  },
};

export const ringReadyApplication: DialplanApplication = {
  routingExec: false,
  run({ channel }) {
    channel.ringReady();
  },
};

/**
 * `respond CODE [reason]`: 180 rings, 183 pre-answers, 2xx answers, and a final failure hangs up with
 * mod_sofia's cause for it (503 -> NORMAL_TEMPORARY_FAILURE).
 */
export const respondApplication: DialplanApplication = {
  routingExec: false,
  run({ channel, data }) {
    const code = parseInt(data, 10);
    if (code === 180) channel.ringReady();
    else if (code === 183) channel.preAnswer();
    else if (code >= 300) channel.hangup(causeFromSipStatus(code));
    else if (code >= 200) channel.answer();
  },
};

export const hangupApplication: DialplanApplication = {
  routingExec: false,
  run({ channel, data }) {
    channel.hangup(data === '' ? 'NORMAL_CLEARING' : causeFromString(data));
  },
};

export const parkApplication: DialplanApplication = {
  routingExec: false,
  run({ session }) {
    return session.park(() => false);
  },
};

export const sleepApplication: DialplanApplication = {
  routingExec: false,
  run({ session, data }) {
    return session.waitMs(parseInt(data, 10) || 0);
  },
};

/** `playback FILE`: pre-answers if needed and "plays" for `silence_stream://MS` or the configured length. */
export const playbackApplication: DialplanApplication = {
  routingExec: false,
  async run({ session, channel, core, data }) {
    if (!channel.isAnswered) channel.preAnswer();
    const silence = /^silence_stream:\/\/(-?\d+)/.exec(data);
    const lengthMs = silence === null ? core.settings.playbackMs : parseInt(silence[1], 10);
    if (lengthMs < 0) await channel.whenHungUp();
    else await session.waitMs(lengthMs);
    channel.variables.set('current_application_response', 'FILE PLAYED');
  },
};

/**
 * `limit BACKEND REALM RESOURCE [MAX[/INTERVAL]] [TRANSFER_EXT [DIALPLAN [CONTEXT]]]`: counts the call
 * against REALM/RESOURCE until hangup. Without MAX (or with a negative one) it only counts; over MAX the
 * call is transferred to TRANSFER_EXT (default `limit_exceeded`), or hung up when it reads `!CAUSE`.
 */
export const limitApplication: DialplanApplication = {
  routingExec: false,
  run({ session, channel, core, data }) {
    const argv = separateString(data, ' ', 7);
    if (argv.length < 3) {
      core.log('ERR', 'USAGE: limit <backend> <realm> <id> [<max>[/interval]] [number [dialplan [context]]]');
      return;
    }
    const [backend, realm, resource, maxText, transferTo, dialplan, context] = argv;
    const max = maxText === undefined || maxText.startsWith('-') ? -1 : Math.max(0, parseInt(maxText, 10) || 0);
    const known = backend === 'hash' || backend === 'db';
    const result = known ? core.limitsFor(backend).increment(channel.uuid, realm, resource, max) : undefined;
    if (result?.allowed) {
      channel.variables.set('limit_usage', String(result.usage));
      channel.variables.set(`limit_usage_${realm}_${resource}`, String(result.usage));
      return;
    }
    const exceeded = transferTo ?? 'limit_exceeded';
    if (exceeded.startsWith('!')) channel.hangup(causeFromString(exceeded.slice(1)));
    else session.transfer(exceeded, dialplan, context);
  },
};

export const transferApplication: DialplanApplication = {
  routingExec: false,
  run({ session, data }) {
    const [extension, dialplan, context] = separateString(data, ' ', 3);
    if (extension !== undefined) session.transfer(extension, dialplan, context);
  },
};

export const executeExtensionApplication: DialplanApplication = {
  routingExec: false,
  run({ session, data }) {
    const [extension, , context] = separateString(data, ' ', 3);
    if (extension === undefined) return undefined;
    return session.executeExtension(extension, context);
  },
};

/** The `db` application: `insert/REALM/KEY/VALUE` or `delete/REALM/KEY`. */
export const dbApplication: DialplanApplication = {
  routingExec: false,
  run({ core, data }) {
    const [operation, realm, key, value] = separateString(data, '/', 4);
    if (key === undefined) return;
    if (operation.toLowerCase() === 'insert' && value !== undefined) core.db.insert(realm, key, value);
    else if (operation.toLowerCase() === 'delete') core.db.delete(realm, key);
  },
};

/** The `hash` application: insert, insert_ifempty, delete, delete_ifmatch. */
export const hashApplication: DialplanApplication = {
  routingExec: false,
  run({ core, data }) {
    const [operation, realm, key, value] = separateString(data, '/', 4);
    if (key === undefined) return;
    switch (operation.toLowerCase()) {
      case 'insert':
        if (value !== undefined) core.hash.insert(realm, key, value);
        break;
      case 'insert_ifempty':
        if (value !== undefined) core.hash.insertIfEmpty(realm, key, value);
        break;
      case 'delete':
        core.hash.delete(realm, key);
        break;
      case 'delete_ifmatch':
        if (core.hash.select(realm, key) === value) core.hash.delete(realm, key);
        break;
    }
  },
};

export const evalApplication: DialplanApplication = {
  routingExec: true,
  run() {
    return undefined;
  },
};
