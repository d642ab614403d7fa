// Fuzzes runtime/esl with thousands of random and malformed ESL frames, from both sides of the wire, against a
// victim running in a child process: no frame may crash it, and it must still serve a valid connection afterwards.
// A failure names its seed; rerun it with ESL_FUZZ_SEED=<seed>.
import { createServer, type AddressInfo, type Server, type Socket } from 'net';
import { killEntryProcesses, spawnEntry, type EntryProcess } from '../support/cli-process';
import { waitFor } from '../support/wait-for';
import { AUTH_REQUEST, CommandReader, apiResponse, channelDataReply, commandReply } from './esl-wire';
import { FakeFreeSwitchChannel } from './fake-freeswitch-channel';
import { randomChunks, randomEslFrame, seededRandom } from './random-esl-frames';

const INBOUND_VICTIM = 'test/esl/fuzzed-inbound-client.ts';
const CALL_CONTROL = 'runtime/handlers/call-control.ts';
const FUZZED_CONNECTIONS = 250;
const MAX_FRAMES_PER_CONNECTION = 40;
const MIN_FRAMES = 2_000;
const seed = Number(process.env.ESL_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));

// Each test replays the seed from its start, so that either can be rerun alone.
let random: () => number;
let framesSent: number;
beforeEach(() => {
  random = seededRandom(seed);
  framesSent = 0;
});

function writeRandomFrames(peer: { write(chunk: Buffer): void }): void {
  const count = 1 + Math.floor(random() * MAX_FRAMES_PER_CONNECTION);
  for (let i = 0; i < count; i += 1) {
    for (const chunk of randomChunks(random, randomEslFrame(random))) peer.write(chunk);
  }
  framesSent += count;
}

/** Fails with the seed and the victim's output if the victim has exited. */
function requireAlive(victim: EntryProcess): void {
  const { exitCode, signalCode } = victim.child;
  if (exitCode !== null || signalCode !== null) {
    throw new Error(`the victim exited (${exitCode ?? signalCode}) after ${framesSent} frames\n--- stderr ---\n${victim.stderr()}`);
  }
}

/** Runs a fuzzing scenario; a failure names the seed, and the victim's exit if that is the cause. */
async function withSeed(victim: EntryProcess, run: () => Promise<void>): Promise<void> {
  try {
    await run();
    requireAlive(victim);
  } catch (error) {
    let message = (error as Error).message;
    try {
      requireAlive(victim);
    } catch (exit) {
      message = (exit as Error).message;
    }
    throw new Error(`ESL fuzz failed with seed ${seed} (rerun with ESL_FUZZ_SEED=${seed}): ${message}`);
  }
}

function waitForOutput(victim: EntryProcess, line: string, timeoutMs: number): Promise<void> {
  return waitFor(
    () => {
      requireAlive(victim);
      return victim.stdout().split('\n').includes(line);
    },
    { timeoutMs, message: `the victim to print '${line}'` },
  );
}

/**
 * A fake FreeSWITCH inbound listener: the first FUZZED_CONNECTIONS connections get random frames (before or
 * after authentication) and are then closed; later ones behave and answer `api fuzz-probe` with `alive`.
 */
function fuzzingEslServer(): { server: Server; fuzzed: () => number } {
  let fuzzed = 0;
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    if (fuzzed >= FUZZED_CONNECTIONS) return serveHonestly(socket);
    fuzzed += 1;
    if (random() < 0.25) {
      writeRandomFrames(socket);
      socket.end();
      // Read (and drop) the victim's `auth` so that its closing the socket is seen and the socket closes too.
      socket.resume();
      return;
    }
    socket.write(AUTH_REQUEST);
    const reader = new CommandReader();
    socket.on('data', (chunk) => {
      for (const command of reader.push(chunk.toString('utf8'))) {
        if (!command.line.startsWith('auth ')) continue;
        socket.write(commandReply('+OK accepted'));
        writeRandomFrames(socket);
        socket.end();
      }
    });
  });
  return { server, fuzzed: () => fuzzed };
}

function serveHonestly(socket: Socket): void {
  socket.write(AUTH_REQUEST);
  const reader = new CommandReader();
  socket.on('data', (chunk) => {
    for (const command of reader.push(chunk.toString('utf8'))) {
      if (command.line.startsWith('auth ')) socket.write(commandReply('+OK accepted'));
      else if (command.line === 'api fuzz-probe') socket.write(apiResponse('alive\n'));
      else socket.write(commandReply('-ERR command not found'));
    }
  });
}

afterEach(() => killEntryProcesses());

test('the inbound client survives random and malformed frames from the server, then serves a valid connection', async () => {
  const { server, fuzzed } = fuzzingEslServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const victim = spawnEntry(INBOUND_VICTIM, [String((server.address() as AddressInfo).port)], {});
  try {
    await withSeed(victim, async () => {
      await waitForOutput(victim, 'probe: alive', 25_000);
      expect(fuzzed()).toBe(FUZZED_CONNECTIONS);
      expect(framesSent).toBeGreaterThan(MIN_FRAMES);
    });
  } finally {
    victim.kill();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Plays one fuzzing FreeSWITCH channel: garbage at once, or once the call is set up (CHANNEL_DATA, `myevents`, `linger`). */
async function fuzzOneChannel(port: number, uuid: string): Promise<void> {
  const channel = await FakeFreeSwitchChannel.connect(port);
  if (random() < 0.5) {
    await channel.nextCommand();
    channel.write(channelDataReply({ 'Unique-ID': uuid }));
    for (let setupCommands = 2; setupCommands > 0; setupCommands -= 1) {
      await channel.nextCommand();
      channel.write(commandReply('+OK'));
    }
  }
  writeRandomFrames(channel);
  channel.end();
  await channel.closed;
}

/** Plays a well-behaved channel until the call flow sends its first application (`sendmsg`). */
async function setUpHonestCall(port: number): Promise<void> {
  const channel = await FakeFreeSwitchChannel.connect(port);
  try {
    expect((await channel.nextCommand()).line).toBe('connect');
    channel.write(channelDataReply({ 'Unique-ID': 'honest-call' }));
    for (let command = await channel.nextCommand(); !command.line.startsWith('sendmsg'); command = await channel.nextCommand()) {
      channel.write(commandReply('+OK'));
    }
  } finally {
    channel.destroy();
  }
}

function eslPortOf(callControl: EntryProcess): number | undefined {
  for (const line of callControl.stdout().split('\n')) {
    if (!line.includes('call control started')) continue;
    return (JSON.parse(line) as { eslPort?: number }).eslPort;
  }
  return undefined;
}

test('the call-control service survives random and malformed frames from FreeSWITCH, then controls a valid call', async () => {
  const victim = spawnEntry(CALL_CONTROL, [], {
    CALL_CONTROL_GROUP: 'blue',
    CALL_CONTROL_VERSION: '1.0.0',
    CALL_CONTROL_ESL_PORT: '0',
    CALL_CONTROL_HEALTH_PORT: '0',
    CALL_CONTROL_LISTEN_HOST: '127.0.0.1',
  });
  try {
    await withSeed(victim, async () => {
      await waitFor(
        () => {
          requireAlive(victim);
          return eslPortOf(victim) !== undefined;
        },
        { timeoutMs: 20_000, message: 'call control to start' },
      );
      const port = eslPortOf(victim) as number;
      for (let i = 0; i < FUZZED_CONNECTIONS; i += 1) {
        requireAlive(victim);
        await fuzzOneChannel(port, `fuzzed-${i}`);
      }
      await setUpHonestCall(port);
      expect(framesSent).toBeGreaterThan(MIN_FRAMES);
    });
  } finally {
    victim.kill();
  }
});
