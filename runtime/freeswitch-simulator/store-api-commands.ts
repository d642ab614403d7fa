import type { SimulatedCore } from './simulated-core';
import { separateString } from './separate-string';

/** `db` runs select into a 256-byte buffer (mod_db.c), so longer values come back cut to 255 bytes. */
const DB_SELECT_MAX_BYTES = 255;

function truncateBytes(value: string, maxBytes: number): string {
  const bytes = Buffer.from(value, 'utf8');
  return bytes.length <= maxBytes ? value : bytes.subarray(0, maxBytes).toString('utf8');
}

/** mod_db's `db insert|delete|select|exists|count|list/realm/key[/value]`; malformed input gives `!err!`. */
export function dbApi(args: string, core: SimulatedCore): string {
  const argv = args === '' ? [] : separateString(args, '/', 4);
  if (argv.length < 1 || argv[0] === '') return '!err!';
  const [operation, realm, key] = argv;
  switch (operation.toLowerCase()) {
    case 'insert':
      if (argv.length < 4) return '!err!';
      core.db.insert(realm, key, argv[3]);
      return '+OK';
    case 'delete':
      if (argv.length < 2) return '!err!';
      core.db.delete(realm, key ?? '');
      return '+OK';
    case 'select':
      if (argv.length < 3) return '!err!';
      return truncateBytes(core.db.select(realm, key) ?? '', DB_SELECT_MAX_BYTES);
    case 'exists':
      if (argv.length < 3) return '!err!';
      return (core.db.select(realm, key) ?? '') === '' ? 'false' : 'true';
    case 'count':
      if (argv.length < 2) return String(core.db.realmNames().length);
      if (argv.length < 3) return String(core.db.keysOf(realm).length);
      return '!err!';
    case 'list':
      if (argv.length < 2) return core.db.realmNames().join(',');
      if (argv.length < 3) return core.db.keysOf(realm).join(',');
      return '!err!';
    default:
      return '!err!';
  }
}

const HASH_USAGE = '-ERR Usage: hash insert|insert_ifempty|select|delete|delete_ifmatch/realm/key[/value]\n';

/** mod_hash's `hash` API: the in-memory counterpart of `db`, lost on restart. */
export function hashApi(args: string, core: SimulatedCore): string {
  const argv = args === '' ? [] : separateString(args, '/', 4);
  if (argv.length < 3 || argv[0] === '') return HASH_USAGE;
  const [operation, realm, key, value] = argv;
  switch (operation.toLowerCase()) {
    case 'insert':
      if (value === undefined) return HASH_USAGE;
      core.hash.insert(realm, key, value);
      return '+OK\n';
    case 'insert_ifempty':
      if (value === undefined) return HASH_USAGE;
      return core.hash.insertIfEmpty(realm, key, value) ? '+OK\n' : '-ERR key already exists\n';
    case 'delete':
      return core.hash.delete(realm, key) ? '+OK\n' : '-ERR Not found\n';
    case 'delete_ifmatch': {
      if (value === undefined) return HASH_USAGE;
      const current = core.hash.select(realm, key);
      if (current === undefined) return '-ERR Not found\n';
      if (current !== value) return "-ERR Doesn't match\n";
      core.hash.delete(realm, key);
      return '+OK\n';
    }
    case 'select':
      return core.hash.select(realm, key) ?? '';
    default:
      return HASH_USAGE;
  }
}

/** `limit_usage <backend> <realm> <id>` (two arguments mean the old `db` backend form). */
export function limitUsageApi(args: string, core: SimulatedCore): string {
  let argv = args === '' ? [] : separateString(args, ' ', 5);
  if (argv.length === 2) argv = ['db', ...argv];
  if (argv.length < 3) return 'USAGE: limit_usage <backend> <realm> <id>\n';
  return String(core.limitsFor(argv[0]).usageOf(argv[1], argv[2]));
}

/** `global_setvar NAME=VALUE[=EXPECTED]`: the third field makes the set conditional on the current value. */
export function globalSetvarApi(args: string, core: SimulatedCore): string {
  if (args === '') return '-USAGE: <var>=<value> [=<value2>]\n';
  const [name, value, expected] = separateString(args, '=', 3);
  if (value === undefined || value === '') {
    core.globals.delete(name);
  } else if (expected === undefined || expected === '' || core.globals.get(name) === expected) {
    core.globals.set(name, value);
  }
  return '+OK';
}

/** `global_getvar NAME` prints the raw value; without a name it dumps every global as `name=value`. */
export function globalGetvarApi(args: string, core: SimulatedCore): string {
  if (args === '') return [...core.globals].map(([name, value]) => `${name}=${value}\n`).join('');
  return core.globals.get(args) ?? '';
}
