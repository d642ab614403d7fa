/**
 * The upgrade benchmark's media servers: N FreeSWITCH simulators in this one process, each running the
 * rendered call-control dialplan, with a steady call load. Reports every call's group and timing at the end.
 */
import type { CallBatch, FreeSwitchSimulator } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { CALL_CONTEXT, startMediaServer } from '../../test/support/media-server-fixture';
import { serveIpc } from './upgrade-ipc';

/** One finished call: [group, start ms, end ms, completed normally]. */
export type CallRecord = [group: string, startMs: number, endMs: number, completed: boolean];

export interface SwitchCalls {
  readonly calls: CallRecord[];
  readonly refused: number;
}

const simulators: FreeSwitchSimulator[] = [];
let batches: CallBatch[] = [];

serveIpc({
  start: async (message) => {
    for (let index = 0; index < Number(message.count); index++) simulators.push(await startMediaServer());
    return simulators.map((simulator) => simulator.eslPort);
  },
  load: async (message) => {
    const minMs = Number(message.minMs);
    const spreadMs = Number(message.maxMs) - minMs;
    batches = simulators.map((simulator) =>
      simulator.placeCalls({
        count: 1_000_000,
        ratePerSecond: Number(message.ratePerSecond),
        destination: '15550100000',
        context: CALL_CONTEXT,
        durationMs: () => minMs + Math.floor(Math.random() * spreadMs),
      }),
    );
  },
  activeCalls: async () => simulators.reduce((sum, simulator) => sum + simulator.stats().activeCalls, 0),
  stopLoad: async (): Promise<SwitchCalls[]> => {
    batches.forEach((batch) => batch.cancel());
    return Promise.all(
      batches.map(async (batch) => {
        const outcomes = await batch.outcomes();
        const calls = outcomes
          .filter((outcome) => outcome.answered)
          .map((outcome): CallRecord => {
            const startMs = Number(outcome.variables.start_uepoch) / 1000;
            return [outcome.variables.vp_cc_group ?? '', startMs, startMs + outcome.durationMs, outcome.hangupCause === 'NORMAL_CLEARING'];
          });
        return { calls, refused: outcomes.length - calls.length };
      }),
    );
  },
  stop: async () => {
    await Promise.all(simulators.map((simulator) => simulator.stop()));
    setImmediate(() => process.exit(0));
  },
});
