import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { renderCallControlDialplan } from '../../runtime/dialplan';
import { FreeSwitchSimulator, FreeSwitchSimulatorOptions } from '../../runtime/freeswitch-simulator/freeswitch-simulator';

export const SIMULATOR_PASSWORD = 'ClueCon-test';
/** The dialplan context simulated calls arrive in. */
export const CALL_CONTEXT = 'voiceplane';

/** A simulated media server running the same rendered call-control dialplan a real one gets. */
export async function startMediaServer(options: FreeSwitchSimulatorOptions = {}): Promise<FreeSwitchSimulator> {
  const simulator = new FreeSwitchSimulator({
    password: SIMULATOR_PASSWORD,
    dbFile: path.join(mkdtempSync(path.join(tmpdir(), 'voiceplane-fs-')), 'core-db.json'),
    dialplanXml: renderCallControlDialplan({ context: CALL_CONTEXT }),
    ...options,
  });
  await simulator.start();
  return simulator;
}

export function eslOptions(simulator: FreeSwitchSimulator) {
  return { host: '127.0.0.1', port: simulator.eslPort, password: SIMULATOR_PASSWORD };
}
