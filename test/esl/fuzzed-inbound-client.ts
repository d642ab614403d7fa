// The inbound side's victim for the ESL fuzzer, run as a child process so that a crash shows as an exit:
// a ReconnectingEslClient to the fake FreeSWITCH on 127.0.0.1:PORT (argument) that runs `api fuzz-probe`
// on each connection and prints `probe: BODY` for each answer.
import { ReconnectingEslClient } from '../../runtime/esl';

const client = ReconnectingEslClient.start({
  host: '127.0.0.1',
  port: Number(process.argv[2]),
  password: 'ClueCon',
  connectTimeoutMs: 2_000,
  commandTimeoutMs: 2_000,
  closeTimeoutMs: 100,
  backoff: { initialDelayMs: 1, maxDelayMs: 5 },
});
client.on('connected', () => {
  client.api('fuzz-probe').then(
    (body) => process.stdout.write(`probe: ${body.trim()}\n`),
    () => undefined,
  );
});
