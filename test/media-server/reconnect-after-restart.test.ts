import { RouteTable } from '../../runtime/dialplan';
import { EslEvent, ReconnectingEslClient } from '../../runtime/esl';
import { MediaServerClient } from '../../runtime/media-server';
import { waitFor } from '../support/wait-for';
import { CALL_CONTEXT, eslOptions, startMediaServer } from '../support/media-server-fixture';

const ROUTES: RouteTable = {
  groups: [
    { id: 'blue', endpoints: [{ host: '127.0.0.1', port: 9001 }], state: 'drained' },
    { id: 'green', endpoints: [{ host: '127.0.0.1', port: 9002 }], state: 'active' },
  ],
};

describe('a long-lived ESL connection across a FreeSWITCH restart', () => {
  it('reconnects with backoff, re-subscribes, and finds the route table as it was last written', async () => {
    const simulator = await startMediaServer();
    const esl = ReconnectingEslClient.start({ ...eslOptions(simulator), backoff: { initialDelayMs: 10, maxDelayMs: 50, multiplier: 2 } });
    const events: EslEvent[] = [];
    esl.on('event', (event) => events.push(event));
    let reconnections = 0;
    esl.on('connected', () => reconnections++);
    try {
      await waitFor(() => esl.isConnected, { message: 'first connection' });
      await esl.subscribe(['CHANNEL_CREATE']);
      const client = new MediaServerClient(esl);
      await client.setRoutes(ROUTES);

      await simulator.restart();
      await waitFor(() => reconnections >= 2 && esl.isConnected, { timeoutMs: 10_000, message: 'reconnected after restart' });
      expect(await client.routes()).toEqual(ROUTES);

      simulator.placeCall({ destination: '15550001111', context: CALL_CONTEXT, durationMs: 10 });
      await waitFor(() => events.some((event) => event.name === 'CHANNEL_CREATE'), { message: 'CHANNEL_CREATE after re-subscription' });
    } finally {
      await esl.close();
      await simulator.stop();
    }
  });
});
