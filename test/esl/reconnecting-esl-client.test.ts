import {
  EslAuthError,
  EslConnectionError,
  ReconnectingEslClient,
  type EslEvent,
  type RetryNotice,
} from '../../runtime/esl';
import { waitFor } from '../support/wait-for';
import { scaledTimers } from './scaled-timers';
import { ScriptedEslPeer, type ScriptedEslPeerOptions } from './scripted-esl-peer';

// Timers run 100x faster: the default backoff (500 ms doubling to 30 s) takes milliseconds; the explicit
// connect/command timeouts below are 2 s of real time.
const FAST = 0.01;
const SCALED_TIMEOUTS = { connectTimeoutMs: 200_000, commandTimeoutMs: 200_000 };

const peers: ScriptedEslPeer[] = [];
const clients: ReconnectingEslClient[] = [];

async function startPeer(options: ScriptedEslPeerOptions, port = 0): Promise<ScriptedEslPeer> {
  const peer = await ScriptedEslPeer.start(options, port);
  peers.push(peer);
  return peer;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(peers.splice(0).map((peer) => peer.stop()));
});

describe('ReconnectingEslClient', () => {
  it('reconnects after FreeSWITCH restarts and re-applies subscriptions and filters', async () => {
    const options: ScriptedEslPeerOptions = { api: (command) => (command === 'status' ? 'UP\n' : undefined) };
    const peer = await startPeer(options);
    const timers = scaledTimers(FAST);
    const client = ReconnectingEslClient.start({
      host: '127.0.0.1',
      port: peer.port,
      password: 'ClueCon',
      ...SCALED_TIMEOUTS,
      timers,
      random: () => 0.5,
    });
    clients.push(client);
    const lifecycle: string[] = [];
    const retries: RetryNotice[] = [];
    const events: EslEvent[] = [];
    client.on('connected', () => lifecycle.push('connected'));
    client.on('disconnected', (reason) => lifecycle.push(`disconnected: ${reason.message}`));
    client.on('retrying', (notice) => retries.push(notice));
    client.on('event', (event) => events.push(event));

    await waitFor(() => client.isConnected, { message: 'the first connection' });
    await client.subscribe(['CHANNEL_HANGUP_COMPLETE']);
    await client.filter('variable_call_control_group', 'blue');

    const port = peer.port;
    await peer.stop();
    await waitFor(() => !client.isConnected, { message: 'the drop to be noticed' });
    const whileDown = client.api('status');
    await expect(whileDown).rejects.toBeInstanceOf(EslConnectionError);
    await expect(whileDown).rejects.toThrow(`ESL connection to 127.0.0.1:${port} is not established (reconnecting)`);
    await waitFor(() => retries.length >= 3, { message: 'a few refused attempts' });

    const restarted = await startPeer(options, port);
    await waitFor(() => client.isConnected, { message: 'the reconnection' });
    expect(restarted.lastConnection?.commandLines).toEqual([
      'auth ClueCon',
      'event plain CHANNEL_HANGUP_COMPLETE',
      'filter variable_call_control_group blue',
    ]);
    expect(lifecycle).toEqual([
      'connected',
      `disconnected: ESL connection to 127.0.0.1:${port} was closed by the peer`,
      'connected',
    ]);
    // exponential backoff with jitter (random 0.5 -> 3/4 of the ceiling): 1 s, 2 s, 4 s ceilings
    expect(retries.slice(0, 3).map((notice) => [notice.attempt, notice.delayMs])).toEqual([
      [1, 750],
      [2, 1500],
      [3, 3000],
    ]);
    expect(retries[0].error).toBeInstanceOf(EslConnectionError);

    restarted.lastConnection?.sendEvent({ 'Event-Name': 'CHANNEL_HANGUP_COMPLETE', 'Hangup-Cause': 'NORMAL_CLEARING' });
    await waitFor(() => events.length === 1, { message: 'an event on the new connection' });
    await expect(client.api('status')).resolves.toBe('UP\n');
  });

  it('keeps retrying a refused password until closed, and close stops every timer', async () => {
    const peer = await startPeer({ password: 'rotated' });
    const timers = scaledTimers(FAST);
    const client = ReconnectingEslClient.start({ host: '127.0.0.1', port: peer.port, password: 'old', ...SCALED_TIMEOUTS, timers });
    const retries: RetryNotice[] = [];
    client.on('retrying', (notice) => retries.push(notice));
    await waitFor(() => retries.length >= 2, { message: 'two failed attempts' });
    expect(retries[0].error).toBeInstanceOf(EslAuthError);
    await client.close();
    expect(timers.pending).toBe(0);
    expect(client.isConnected).toBe(false);
  });

  it('applies a subscription made while disconnected once connected', async () => {
    const peer = await startPeer({});
    const port = peer.port;
    await peer.stop();
    const client = ReconnectingEslClient.start({
      host: '127.0.0.1',
      port,
      password: 'ClueCon',
      ...SCALED_TIMEOUTS,
      timers: scaledTimers(FAST),
    });
    clients.push(client);
    await client.subscribe(['HEARTBEAT'], { format: 'json' });
    const restarted = await startPeer({}, port);
    await waitFor(() => client.isConnected, { message: 'the connection' });
    expect(restarted.lastConnection?.commandLines).toEqual(['auth ClueCon', 'event json HEARTBEAT']);
  });
});
