import { Channel } from './channel';
import { localTimestamp } from './fs-time';

export type ShowRow = Record<string, string>;

/** One row of the core's `channels` table; every value is a string, as FreeSWITCH's JSON has them. */
export function channelRow(channel: Channel, hostname: string): ShowRow {
  const profile = channel.profile;
  const initial = channel.initialProfile;
  const createdMs = channel.times.createdUs / 1000;
  const variable = (name: string): string => channel.variables.get(name) ?? '';
  return {
    uuid: channel.uuid,
    direction: channel.direction,
    created: localTimestamp(createdMs),
    created_epoch: String(Math.floor(createdMs / 1000)),
    name: channel.name,
    state: channel.state,
    cid_name: profile.callerIdName,
    cid_num: profile.callerIdNumber,
    ip_addr: profile.networkAddr,
    dest: profile.destinationNumber,
    application: channel.currentApplication,
    application_data: channel.currentApplicationData,
    dialplan: profile.dialplan,
    context: profile.context,
    read_codec: 'PCMU',
    read_rate: '8000',
    read_bit_rate: '64000',
    write_codec: 'PCMU',
    write_rate: '8000',
    write_bit_rate: '64000',
    secure: '',
    hostname,
    presence_id: variable('presence_id'),
    presence_data: variable('presence_data'),
    accountcode: variable('accountcode'),
    callstate: channel.callState,
    callee_name: channel.peer?.profile.callerIdName ?? '',
    callee_num: channel.peer?.profile.destinationNumber ?? '',
    callee_direction: channel.peer === undefined ? '' : channel.peer.direction.toUpperCase(),
    call_uuid: channel.callUuid,
    sent_callee_name: '',
    sent_callee_num: '',
    initial_cid_name: initial.callerIdName,
    initial_cid_num: initial.callerIdNumber,
    initial_ip_addr: initial.networkAddr,
    initial_dest: initial.destinationNumber,
    initial_dialplan: initial.dialplan,
    initial_context: initial.context,
  };
}

const CALL_COLUMNS = [
  'uuid',
  'direction',
  'created',
  'created_epoch',
  'name',
  'state',
  'cid_name',
  'cid_num',
  'ip_addr',
  'dest',
  'presence_id',
  'presence_data',
  'accountcode',
  'callstate',
  'callee_name',
  'callee_num',
  'callee_direction',
  'call_uuid',
  'hostname',
  'sent_callee_name',
  'sent_callee_num',
];

/** The `calls` view: one row per call (a bridged pair counts once), the B leg's columns prefixed `b_`. */
export function callRows(channels: readonly Channel[], hostname: string): ShowRow[] {
  const rows: ShowRow[] = [];
  for (const channel of channels) {
    if (channel.callUuid !== channel.uuid) continue;
    const own = channelRow(channel, hostname);
    const peer = channel.peer === undefined ? undefined : channelRow(channel.peer, hostname);
    const row: ShowRow = {};
    for (const column of CALL_COLUMNS) row[column] = own[column];
    for (const column of CALL_COLUMNS) {
      if (column !== 'call_uuid' && column !== 'hostname') row[`b_${column}`] = peer?.[column] ?? '';
    }
    row.call_created_epoch = own.created_epoch;
    rows.push(row);
  }
  return rows;
}

const LIKE_COLUMNS = ['uuid', 'name', 'cid_name', 'cid_num', 'presence_data', 'accountcode'];

/** SQL `LIKE '%PATTERN%'` (case-insensitive, `%` and `_` wildcards) over the columns `show ... like` checks. */
export function likeMatcher(pattern: string): (row: ShowRow) => boolean {
  const body = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  const regex = new RegExp(body, 'i');
  return (row) => LIKE_COLUMNS.some((column) => regex.test(row[column] ?? ''));
}

export function rowsAsJson(rows: readonly ShowRow[]): string {
  if (rows.length === 0) return '{"row_count": 0}\n';
  return JSON.stringify({ row_count: rows.length, rows });
}

export function countJson(count: number): string {
  return `{"row_count":${count},"rows":[]}`;
}

export function rowsAsDelimitedText(rows: readonly ShowRow[], delimiter: string): string {
  if (rows.length === 0) return '\n0 total.\n';
  const columns = Object.keys(rows[0]);
  const lines = [columns.join(delimiter), ...rows.map((row) => columns.map((column) => row[column]).join(delimiter))];
  return `${lines.join('\n')}\n\n${rows.length} total.\n`;
}
