/**
 * Runs inside a network namespace of its own (see test/scenarios/unreachable-endpoint.test.ts), where the media
 * server's kernel settings apply to loopback without touching the machine's: places one call whose first group's
 * only endpoint drops SYNs, and prints how long the call waited before the next group took it, as one JSON line.
 */
import { spawn } from 'child_process';
import { connect } from 'net';
import { createInterface } from 'readline';
import { EslClient } from '../../../runtime/esl';
import { LocalFreeSwitch } from '../../../runtime/local-freeswitch/local-freeswitch';
import { MediaServerClient } from '../../../runtime/media-server';
import { startCallControl } from '../call-control-fixture';
import { placeSipCall } from '../real-freeswitch';

/** A listening socket that never accepts (backlog 0), its accept queue filled by one connection: the kernel drops every further SYN. */
async function synDroppingEndpoint(): Promise<{ port: number; close(): void }> {
  const holder = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(600)'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) => createInterface({ input: holder.stdout! }).once('line', (line) => resolve(Number(line))));
  const filler = await new Promise<ReturnType<typeof connect>>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
  });
  return {
    port,
    close: () => {
      filler.destroy();
      holder.kill('SIGKILL');
    },
  };
}

async function main(): Promise<void> {
  const freeswitch = await LocalFreeSwitch.start();
  const endpoint = await synDroppingEndpoint();
  const green = await startCallControl('green');
  const esl = await EslClient.connect(freeswitch.eslOptions);
  try {
    await new MediaServerClient(esl).setRoutes({
      groups: [
        { id: 'blue', endpoints: [{ host: '127.0.0.1', port: endpoint.port }], state: 'active' },
        { id: 'green', endpoints: [{ host: '127.0.0.1', port: green.eslPort }], state: 'active' },
      ],
    });
    const started = Date.now();
    const reply = await placeSipCall(esl, freeswitch, `syn-probe-${process.pid}`);
    process.stdout.write(`${JSON.stringify({ reply, stallMs: Date.now() - started })}\n`);
  } finally {
    await esl.close();
    await green.stop();
    endpoint.close();
    await freeswitch.stop();
  }
}

main().catch((error: Error) => {
  process.stdout.write(`${JSON.stringify({ error: error.message })}\n`);
  process.exit(1);
});
