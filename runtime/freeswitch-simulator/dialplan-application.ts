import type { CallSession } from './call-session';
import type { Channel } from './channel';
import type { SimulatedCore } from './simulated-core';

export interface ApplicationContext {
  readonly session: CallSession;
  readonly channel: Channel;
  readonly core: SimulatedCore;
  /** The application's data, variables already expanded. */
  readonly data: string;
}

/** A dialplan application (mod_dptools and friends). */
export interface DialplanApplication {
  /** SAF_ROUTING_EXEC: may run `inline="true"` during the hunt (such applications never wait). */
  readonly routingExec: boolean;
  run(context: ApplicationContext): void | Promise<void>;
}
