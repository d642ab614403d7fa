import { EslClient, EslCommandError } from '../../runtime/esl';
import { carrierCallTarget, FAR_END_PREFIX } from '../../runtime/local-freeswitch/carrier-profile';
import { findFreeSwitchBinary, LocalFreeSwitch } from '../../runtime/local-freeswitch/local-freeswitch';
import { SIP_PROFILE_NAME } from '../../runtime/freeswitch-config/sip-profile';
import { reportMissingTool } from './missing-tool';

/**
 * The FreeSWITCH binary, or undefined after a loud warning when there is none (the caller then skips its tests).
 * With VOICEPLANE_REQUIRE_FREESWITCH=1 a missing binary throws instead.
 */
export function freeSwitchBinaryOrSkip(): string | undefined {
  const binary = findFreeSwitchBinary();
  if (binary) return binary;
  const message = 'FREESWITCH NOT FOUND: the tests on the real FreeSWITCH are SKIPPED (install FreeSWITCH under /opt/freeswitch or set VOICEPLANE_FREESWITCH to its binary)';
  reportMissingTool(message, 'VOICEPLANE_REQUIRE_FREESWITCH');
  return undefined;
}

/** `describe` when FreeSWITCH is installed, a loudly skipped `describe` otherwise. */
export function describeWithFreeSwitch(name: string, body: () => void): void {
  (freeSwitchBinaryOrSkip() ? describe : describe.skip)(name, body);
}

/** The dial string of a SIP call from the carrier into the media server's profile, as the SIP cluster hands calls over. */
export function carrierCall(freeswitch: LocalFreeSwitch, callerUuid: string): string {
  return `{origination_uuid=${callerUuid},origination_caller_id_number=5550100,originate_timeout=20}${carrierCallTarget(freeswitch)}`;
}

/** An api or bgapi reply as text, `-ERR ...` included (the client rejects those), so tests can assert on it. */
export async function replyText(reply: Promise<string>): Promise<string> {
  try {
    return (await reply).trim();
  } catch (error) {
    if (error instanceof EslCommandError) return error.replyText.trim();
    throw error;
  }
}

/**
 * Places a carrier call and resolves with FreeSWITCH's originate reply once the media server answered or refused
 * (`+OK <uuid>` or `-ERR <cause>`); the carrier's leg (uuid `callerUuid`) then parks until it is hung up.
 */
export function placeSipCall(esl: EslClient, freeswitch: LocalFreeSwitch, callerUuid: string): Promise<string> {
  // bgapi: calls placed on one connection proceed side by side (an api originate holds the connection until it returns).
  return replyText(esl.bgapi(`originate ${carrierCall(freeswitch, callerUuid)} &park()`, { timeoutMs: 30_000 }));
}

export interface ChannelRow {
  readonly uuid: string;
  readonly name: string;
  readonly application: string;
  readonly callstate: string;
}

/** `show channels as json` rows (FreeSWITCH updates this table asynchronously: poll it). */
export async function channelRows(esl: EslClient): Promise<ChannelRow[]> {
  const reply = JSON.parse(await esl.api('show channels as json')) as { rows?: ChannelRow[] };
  return reply.rows ?? [];
}

/** The media server's inbound leg of the call from the carrier (what call control and the group tag act on). */
export const isMediaServerLeg = (row: ChannelRow) => row.name.startsWith(`sofia/${SIP_PROFILE_NAME}/`) && !row.name.includes(`/${FAR_END_PREFIX}@`);
/** The media server's outbound leg to the far end. */
export const isFarEndLeg = (row: ChannelRow) => row.name.startsWith(`sofia/${SIP_PROFILE_NAME}/${FAR_END_PREFIX}@`);

/** Runs a test body; a failure carries the tail of the server's log (`label` names it), so CI shows what it did. */
export async function withServerLog<T>(label: string, logTail: () => string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof Error) error.message += `\n--- ${label}, last log lines ---\n${logTail()}`;
    throw error;
  }
}
