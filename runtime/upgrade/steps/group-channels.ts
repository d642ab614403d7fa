import { z } from 'zod';
import { CALL_CONTROL_GROUP_VARIABLE } from '../../dialplan';
import { EslCommandError } from '../../esl';
import type { EslCommander } from '../../media-server';
import { describeIssues } from '../request/input-error';

/** The group's channels on a media server, and hanging them up (the `force` drain policy). */

const showChannelsSchema = z.object({
  row_count: z.number().int().nonnegative(),
  rows: z.array(z.looseObject({ uuid: z.string().min(1) })).default([]),
});

export class ChannelListError extends Error {
  constructor(problem: string) {
    super(`unexpected reply to 'show channels as json': ${problem}`);
    this.name = 'ChannelListError';
  }
}

/** UUIDs of the channels whose `vp_cc_group` is `groupId` (the dialplan tags each call with its group). */
export async function groupChannelUuids(esl: EslCommander, groupId: string): Promise<string[]> {
  const uuids = parseChannelList(await esl.api('show channels as json'));
  const tagged: string[] = [];
  for (const uuid of uuids) {
    const group = await channelVariable(esl, uuid, CALL_CONTROL_GROUP_VARIABLE);
    if (group === groupId) tagged.push(uuid);
  }
  return tagged;
}

/** Hangs the channel up with `cause`; false when it had already gone. */
export async function hangUpChannel(esl: EslCommander, uuid: string, cause: string): Promise<boolean> {
  try {
    await esl.api(`uuid_kill ${uuid} ${cause}`);
    return true;
  } catch (error) {
    if (error instanceof EslCommandError) return false;
    throw error;
  }
}

export function parseChannelList(reply: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(reply);
  } catch {
    throw new ChannelListError(`not JSON: ${JSON.stringify(reply.trim().slice(0, 80))}`);
  }
  const parsed = showChannelsSchema.safeParse(json);
  if (!parsed.success) throw new ChannelListError(describeIssues(parsed.error.issues));
  return parsed.data.rows.map((row) => row.uuid);
}

/** The variable's value; undefined when unset or when the channel has gone meanwhile. */
async function channelVariable(esl: EslCommander, uuid: string, name: string): Promise<string | undefined> {
  try {
    const value = (await esl.api(`uuid_getvar ${uuid} ${name}`)).trim();
    return value === '_undef_' ? undefined : value;
  } catch (error) {
    if (error instanceof EslCommandError) return undefined;
    throw error;
  }
}
