import { AddressInfo, Socket, createServer } from 'node:net';
import { FreeSwitchSimulator } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { RawEslClient } from '../support/freeswitch/raw-esl-client';
import { waitFor } from '../support/wait-for';

describe('FreeSWITCH simulator under load', () => {
  it('holds a thousand concurrent calls, each controlled over its own outbound socket', async () => {
    const sockets = new Set<Socket>();
    const callControl = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.resume();
      socket.write('connect\n\nmyevents\n\nsendmsg\ncall-command: execute\nexecute-app-name: answer\n\n');
    });
    await new Promise<void>((resolve) => callControl.listen(0, '127.0.0.1', resolve));
    const { port } = callControl.address() as AddressInfo;
    const simulator = new FreeSwitchSimulator({
      dialplanXml: `<include><context name="default"><extension name="cc"><condition>
        <action application="set" data="cc_group=blue"/>
        <action application="limit" data="hash cc blue"/>
        <action application="socket" data="127.0.0.1:${port} async full"/>
        <action application="respond" data="503"/>
      </condition></extension></context></include>`,
    });
    await simulator.start();
    const listener = await RawEslClient.connect(simulator.eslPort);
    try {
      await listener.nextFrame();
      await listener.command('auth ClueCon');
      await listener.command('event plain CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE');

      const batch = simulator.placeCalls({ count: 1000, ratePerSecond: 500, destination: '1000', durationMs: 3000 });
      await batch.placed;
      expect(simulator.api('show calls count as json')).toBe('{"row_count":1000,"rows":[]}');
      await waitFor(() => simulator.api('limit_usage hash cc blue') === '1000', { message: 'every call counted' });

      const outcomes = await batch.outcomes();
      expect(outcomes.every((outcome) => outcome.answered && outcome.hangupCause === 'NORMAL_CLEARING')).toBe(true);
      expect(simulator.api('limit_usage hash cc blue')).toBe('0');
      expect(simulator.stats()).toMatchObject({ callsCompleted: 1000, activeCalls: 0 });
    } finally {
      await listener.close();
      await simulator.stop();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => callControl.close(() => resolve()));
    }
  });
});
