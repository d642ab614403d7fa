import { bridgeApplication } from './bridge-application';
import { DialplanApplication } from './dialplan-application';
import {
  answerApplication,
  dbApplication,
  evalApplication,
  executeExtensionApplication,
  exportApplication,
  hangupApplication,
  hashApplication,
  infoApplication,
  limitApplication,
  logApplication,
  parkApplication,
  playbackApplication,
  preAnswerApplication,
  respondApplication,
  ringReadyApplication,
  setApplication,
  setGlobalApplication,
  sleepApplication,
  transferApplication,
  unsetApplication,
} from './dialplan-applications';
import { socketApplication } from './socket-application';

export type { DialplanApplication } from './dialplan-application';

/** The applications the simulated switch can execute; any other name is an "Invalid Application". */
export const APPLICATIONS: ReadonlyMap<string, DialplanApplication> = new Map([
  ['set', setApplication],
  ['unset', unsetApplication],
  ['export', exportApplication],
  ['set_global', setGlobalApplication],
  ['log', logApplication],
  ['info', infoApplication],
  ['eval', evalApplication],
  ['answer', answerApplication],
  ['pre_answer', preAnswerApplication],
  ['ring_ready', ringReadyApplication],
  ['respond', respondApplication],
  ['hangup', hangupApplication],
  ['park', parkApplication],
  ['sleep', sleepApplication],
  ['playback', playbackApplication],
  ['limit', limitApplication],
  ['transfer', transferApplication],
  ['execute_extension', executeExtensionApplication],
  ['bridge', bridgeApplication],
  ['socket', socketApplication],
  ['db', dbApplication],
  ['hash', hashApplication],
]);
