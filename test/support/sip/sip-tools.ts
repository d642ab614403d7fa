import { accessSync, constants } from 'fs';
import * as path from 'path';

/** CI sets this so a machine without kamailio or sipp fails instead of skipping the SIP tests. */
const SIP_TOOLS_REQUIRED = process.env.VOICEPLANE_REQUIRE_SIP_TOOLS === '1';
/** kamailio installs to /usr/sbin, which is not on every user's PATH. */
const EXTRA_DIRECTORIES = ['/usr/sbin', '/usr/local/sbin'];

export interface SipTools {
  readonly kamailio: string;
  readonly sipp: string;
}

function findExecutable(name: string): string | undefined {
  const directories = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_DIRECTORIES];
  return directories
    .map((directory) => path.join(directory, name))
    .find((candidate) => {
      try {
        accessSync(candidate, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/**
 * The kamailio and sipp binaries, or undefined after a loud warning when one is missing (the caller then
 * skips its tests). With VOICEPLANE_REQUIRE_SIP_TOOLS=1 a missing binary throws instead.
 */
export function sipToolsOrSkip(): SipTools | undefined {
  const kamailio = findExecutable('kamailio');
  const sipp = findExecutable('sipp');
  if (kamailio && sipp) return { kamailio, sipp };
  const missing = [kamailio ? undefined : 'kamailio', sipp ? undefined : 'sipp'].filter(Boolean).join(' and ');
  const message = `${missing.toUpperCase()} NOT FOUND: the SIP tests with the real programs are SKIPPED (apt-get install kamailio sip-tester)`;
  if (SIP_TOOLS_REQUIRED) throw new Error(`${message} (VOICEPLANE_REQUIRE_SIP_TOOLS=1 makes this a failure)`);
  console.warn(`\n${'!'.repeat(78)}\n${message}\n${'!'.repeat(78)}\n`);
  return undefined;
}
