import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { renderCallControlDialplan } from '../../runtime/dialplan';
import { EslClient } from '../../runtime/esl';
import { MEDIA_SERVER_DIALPLAN_CONTEXT } from '../../runtime/freeswitch-config/media-server-settings';
import { CARRIER_CONTEXT, FAR_END_PREFIX, renderCarrierDialplan } from '../../runtime/local-freeswitch/carrier-profile';
import { LocalFreeSwitch } from '../../runtime/local-freeswitch/local-freeswitch';
import { type CallOutcome, FreeSwitchSimulator } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { waitFor } from './wait-for';
import { farEndDialString } from '../../runtime/local-freeswitch/carrier-profile';
import { channelRows, freeSwitchBinaryOrSkip, isFarEndLeg, isMediaServerLeg, placeSipCall } from './real-freeswitch';

/**
 * One media server the shared scenarios run against: the simulator (the fast path and the demo's default) or the
 * real FreeSWITCH on the media server's own rendered configuration. Both run the same call-control dialplan; calls
 * reach it from a caller the media server does not control (the simulator's placed call, or the carrier's SIP leg).
 */
export interface ScenarioMediaServer {
  readonly name: string;
  readonly eslOptions: { host: string; port: number; password: string };
  /** A dial string call control bridges to: a far end that answers and holds the call. */
  readonly farEndTarget: string;
  /** Transfer target (`EXT XML CONTEXT`) that answers and holds the call outside call control. */
  readonly holdTarget: string;
  /** Places a call; resolves once the media server answered it (call control took it) or refused it. */
  placeCall(): Promise<PlacedCall>;
  /** Legs up on the media server: the callers' legs it routes, and the far-end legs it bridged to. */
  legs(): Promise<{ readonly mediaServer: readonly string[]; readonly farEnd: readonly string[] }>;
  hangUp(uuid: string): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** What the server logged last, for failure reports. */
  logTail(): string;
}

export interface PlacedCall {
  /** True once answered by call control; false when the media server refused the call. */
  readonly answered: boolean;
  /** Why a refused call ended, as the caller saw it. */
  readonly refusalCause?: string;
  isUp(): Promise<boolean>;
  hangUp(): Promise<void>;
}

const CALLER_CONTEXT = MEDIA_SERVER_DIALPLAN_CONTEXT;
const SIMULATOR_PASSWORD = 'ClueCon-scenarios';

/** Both media servers, the real one only when FreeSWITCH is installed (a loud skip otherwise, a failure under CI). */
export function scenarioMediaServers(): Array<{ name: string; start: () => Promise<ScenarioMediaServer> }> {
  const servers = [{ name: 'the simulator', start: startSimulatedMediaServer }];
  if (freeSwitchBinaryOrSkip()) servers.push({ name: 'the real FreeSWITCH', start: startRealMediaServer });
  return servers;
}

/** The two rendered `<include>` documents as one dialplan: call control's contexts, and the carrier's hold context. */
function simulatorDialplan(): string {
  const carrier = renderCarrierDialplan().replace(/^<\?xml[^>]*>\n<include>\n/, '');
  return renderCallControlDialplan({ context: CALLER_CONTEXT }).replace(/<\/include>\n$/, carrier);
}

async function startSimulatedMediaServer(): Promise<ScenarioMediaServer> {
  const simulator = new FreeSwitchSimulator({
    password: SIMULATOR_PASSWORD,
    dbFile: path.join(mkdtempSync(path.join(tmpdir(), 'voiceplane-scenario-')), 'core-db.json'),
    dialplanXml: simulatorDialplan(),
  });
  await simulator.start();
  const isUp = (uuid: string) => simulator.channels().some((channel) => channel.uuid === uuid);
  return {
    name: 'the simulator',
    get eslOptions() {
      return { host: '127.0.0.1', port: simulator.eslPort, password: SIMULATOR_PASSWORD };
    },
    farEndTarget: `sofia/external/${FAR_END_PREFIX}@127.0.0.1`,
    holdTarget: `${FAR_END_PREFIX} XML ${CARRIER_CONTEXT}`,
    async placeCall() {
      const call = simulator.placeCall({ destination: '1000', callerIdNumber: '5550100', context: CALLER_CONTEXT });
      let ended: CallOutcome | undefined;
      void call.outcome.then((outcome) => (ended = outcome));
      const answered = () => simulator.channels().some((channel) => channel.uuid === call.uuid && channel.answered);
      await waitFor(() => answered() || ended !== undefined, { timeoutMs: 10_000, message: 'the simulated call answered or refused' });
      if (!answered() && ended !== undefined) {
        return { answered: false, refusalCause: ended.hangupCause, isUp: async () => false, hangUp: async () => undefined };
      }
      return {
        answered: true,
        isUp: async () => isUp(call.uuid),
        hangUp: async () => {
          simulator.killCall(call.uuid);
          await call.outcome;
        },
      };
    },
    async legs() {
      const channels = simulator.channels();
      return {
        mediaServer: channels.filter((channel) => channel.direction === 'inbound').map((channel) => channel.uuid),
        farEnd: channels.filter((channel) => channel.direction === 'outbound').map((channel) => channel.uuid),
      };
    },
    async hangUp(uuid) {
      simulator.killCall(uuid);
    },
    restart: async () => void (await simulator.restart()),
    stop: () => simulator.stop(),
    logTail: () => simulator.logs().slice(-80).join('\n'),
  };
}

async function startRealMediaServer(): Promise<ScenarioMediaServer> {
  const freeswitch = await LocalFreeSwitch.start();
  let esl = await EslClient.connect(freeswitch.eslOptions);
  let callers = 0;
  const exists = async (uuid: string) => (await esl.api(`uuid_exists ${uuid}`)).trim() === 'true';
  return {
    name: 'the real FreeSWITCH',
    eslOptions: freeswitch.eslOptions,
    farEndTarget: farEndDialString(freeswitch),
    holdTarget: `${FAR_END_PREFIX} XML ${CARRIER_CONTEXT}`,
    async placeCall() {
      const caller = `caller-${process.pid}-${++callers}`;
      const reply = await placeSipCall(esl, freeswitch, caller);
      if (!reply.startsWith('+OK')) {
        return { answered: false, refusalCause: reply.replace(/^-ERR /, ''), isUp: async () => false, hangUp: async () => undefined };
      }
      return {
        answered: true,
        isUp: () => exists(caller),
        hangUp: async () => {
          await esl.api(`uuid_kill ${caller}`).catch(() => undefined);
        },
      };
    },
    async legs() {
      const rows = await channelRows(esl);
      return { mediaServer: rows.filter(isMediaServerLeg).map((row) => row.uuid), farEnd: rows.filter(isFarEndLeg).map((row) => row.uuid) };
    },
    async hangUp(uuid) {
      await esl.api(`uuid_kill ${uuid}`).catch(() => undefined);
    },
    async restart() {
      await esl.close();
      await freeswitch.restart();
      esl = await EslClient.connect(freeswitch.eslOptions);
    },
    async stop() {
      await esl.close();
      await freeswitch.stop();
    },
    logTail: () => freeswitch.logTail(80),
  };
}
