import * as path from 'path';
import { findExecutable, reportMissingTool } from '../missing-tool';

/** kamailio installs to /usr/sbin, which is not on every user's PATH. */
const EXTRA_DIRECTORIES = ['/usr/sbin', '/usr/local/sbin'];

export interface SipTools {
  readonly kamailio: string;
  readonly sipp: string;
}

const onPath = (name: string) => findExecutable(name, [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_DIRECTORIES]);

/**
 * The kamailio and sipp binaries, or undefined after a loud warning when one is missing (the caller then
 * skips its tests). With VOICEPLANE_REQUIRE_SIP_TOOLS=1 a missing binary throws instead.
 */
export function sipToolsOrSkip(): SipTools | undefined {
  const kamailio = onPath('kamailio');
  const sipp = onPath('sipp');
  if (kamailio && sipp) return { kamailio, sipp };
  const missing = [kamailio ? undefined : 'kamailio', sipp ? undefined : 'sipp'].filter(Boolean).join(' and ');
  const message = `${missing.toUpperCase()} NOT FOUND: the SIP tests with the real programs are SKIPPED (apt-get install kamailio sip-tester)`;
  reportMissingTool(message, 'VOICEPLANE_REQUIRE_SIP_TOOLS');
  return undefined;
}
