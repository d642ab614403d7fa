import { parseArgs } from 'util';
import { CliError } from '../commands/cli-error';
import { CDS_SERVE_OPTIONS, runCdsServeCommand } from '../commands/cds-command';

/**
 * Entry point running `cds serve` directly (`node dist/runtime/handlers/cds-serve.js --site ...`): what the
 * CLI does for `voiceplane cds serve`, without its other commands. SIGTERM or SIGINT stops the node
 * gracefully; the event socket password may come from VOICEPLANE_ESL_PASSWORD, the shared peer key from
 * VOICEPLANE_CDS_PEER_KEY.
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const output = { line: (text: string) => process.stdout.write(`${text}\n`) };
  try {
    const { values } = parseArgs({ args: [...argv], options: CDS_SERVE_OPTIONS, strict: true });
    await runCdsServeCommand({ ...values, password: values.password ?? env.VOICEPLANE_ESL_PASSWORD, peerKey: env.VOICEPLANE_CDS_PEER_KEY }, output, stop.signal);
    return 0;
  } catch (error) {
    process.stderr.write(`cds serve: ${error instanceof CliError || error instanceof TypeError ? error.message.split('\n')[0] : String(error)}\n`);
    return error instanceof CliError ? error.exitCode : 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then((code) => process.exit(code));
}
