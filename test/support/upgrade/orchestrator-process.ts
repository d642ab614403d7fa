/**
 * `voiceplane upgrade` in a process of its own, so a test can kill the orchestrator for real (SIGKILL)
 * and start it again. Arguments are the command's options; `--poll-ms` sets the poll interval and
 * `--lease-ttl-ms` the media server lease's lifetime.
 */
import { parseArgs } from 'util';
import { UPGRADE_OPTIONS } from '../../../runtime/cli/command-options';
import type { OptionValues } from '../../../runtime/cli/option-table';
import { runUpgradeCommand } from '../../../runtime/commands/upgrade-command';

const TEST_OPTIONS = { 'poll-ms': { type: 'string' }, 'lease-ttl-ms': { type: 'string' } } as const;
const values = parseArgs({ args: process.argv.slice(2), options: { ...UPGRADE_OPTIONS, ...TEST_OPTIONS }, strict: true }).values as OptionValues<typeof UPGRADE_OPTIONS> & {
  readonly [Name in keyof typeof TEST_OPTIONS]?: string;
};

runUpgradeCommand(values, {
  stdout: { line: (text) => process.stdout.write(`${text}\n`) },
  env: process.env,
  isTty: false,
  pollMs: Number(values['poll-ms'] ?? 200),
  leaseTtlMs: values['lease-ttl-ms'] === undefined ? undefined : Number(values['lease-ttl-ms']),
}).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`orchestrator: ${error.message}\n`);
    process.exit(1);
  },
);
