import { randomUUID } from 'crypto';
import { z } from 'zod';
import { EslClient, EslCommandError, EslReplyError, EslTimeoutError, type EslEvent } from '../esl';
import type { ObservedCall } from '../upgrade/progress/call-tally';
import { carrierCallTarget } from './carrier-profile';
import type { LocalFreeSwitch } from './local-freeswitch';

export interface CallLoadRequest {
  readonly count: number;
  readonly ratePerSecond: number;
  /** How long each answered call is held before the caller hangs up, drawn per call. */
  readonly durationMs: () => number;
}

/** A steady load of calls (the simulator's `placeCalls` has the same shape). */
export interface CallLoad {
  /** Stops placing new calls; calls in progress run to their end. */
  cancel(): void;
  /** One outcome per placed call, once placing has stopped and every placed call has ended. */
  outcomes(): Promise<ObservedCall[]>;
}

/**
 * The `hangupCause` of a call the media server side ended with NORMAL_CLEARING before its duration (a far end
 * hanging up, hangup_after_bridge, call control hanging up): the carrier's leg sees NORMAL_CLEARING then, which
 * `tallyCalls` would count as completed; NORMAL_CLEARING is kept for calls the caller itself ended.
 */
export const NORMAL_CLEARING_BEFORE_DURATION = 'NORMAL_CLEARING_BEFORE_DURATION';
/** The `hangupCause` of a call whose originate got no result in time (an overloaded FreeSWITCH): not answered. */
export const ORIGINATE_TIMEOUT = 'ORIGINATE_TIMEOUT';

/** Channel variable naming the load on its carrier legs, so the event socket delivers only their hangups. */
const LOAD_VARIABLE = 'vp_call_load';
const CALLER_ID = '5550100';
const ORIGINATE_TIMEOUT_S = 20;
/** A bit more than FreeSWITCH's own originate timeout, which ends the job with -ERR first. */
const ORIGINATE_JOB_TIMEOUT_MS = (ORIGINATE_TIMEOUT_S + 10) * 1000;
/** A killed leg's CHANNEL_HANGUP_COMPLETE follows within milliseconds; this only bounds a lost event. */
const HANGUP_EVENT_TIMEOUT_MS = 10_000;

const hangupSchema = z.object({ 'Unique-ID': z.string().min(1), 'Hangup-Cause': z.string().min(1) });

type Settled = { readonly ok: true; readonly call: ObservedCall } | { readonly ok: false; readonly error: Error };

/**
 * Places SIP calls from the local FreeSWITCH's carrier profile into the media server's profile at `ratePerSecond`,
 * holds each answered call for its duration, then hangs the carrier's leg up. Hangups are observed on a second event
 * socket (CHANNEL_HANGUP_COMPLETE of this load's carrier legs), so a call that ends before its duration is a drop.
 * `outcomes()` rejects if either ESL connection is lost (FreeSWITCH gone): the calls' fate is then unknown.
 */
export async function startSipCallLoad(freeswitch: Pick<LocalFreeSwitch, 'eslOptions' | 'ports'>, request: CallLoadRequest): Promise<CallLoad> {
  if (!Number.isInteger(request.count) || request.count < 0) throw new RangeError(`count must be a whole number, got ${request.count}`);
  if (!(request.ratePerSecond > 0 && Number.isFinite(request.ratePerSecond))) throw new RangeError(`ratePerSecond must be positive, got ${request.ratePerSecond}`);
  const loadId = randomUUID();
  const clients: EslClient[] = [];
  try {
    clients.push(await EslClient.connect(freeswitch.eslOptions));
    clients.push(await EslClient.connect(freeswitch.eslOptions));
    await clients[1].subscribe(['CHANNEL_HANGUP_COMPLETE']);
    await clients[1].filter(`variable_${LOAD_VARIABLE}`, loadId);
  } catch (error) {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    throw error;
  }
  return new SipCallLoad(clients[0], clients[1], loadId, carrierCallTarget(freeswitch), request);
}

interface Hangup {
  readonly ended: Promise<string>;
  resolve(cause: string): void;
  reject(error: Error): void;
}

class SipCallLoad implements CallLoad {
  private readonly hangups = new Map<string, Hangup>();
  private readonly calls: Promise<Settled>[] = [];
  private readonly placing: Promise<void>;
  private stopPlacing: () => void = () => undefined;
  private lost?: Error;
  private closing = false;
  private result?: Promise<ObservedCall[]>;

  constructor(
    private readonly commands: EslClient,
    private readonly events: EslClient,
    private readonly loadId: string,
    private readonly callTarget: string,
    private readonly request: CallLoadRequest,
  ) {
    events.on('event', (event) => this.onEvent(event));
    for (const client of [commands, events]) client.once('close', (reason) => this.onLost(reason));
    this.placing = this.place();
  }

  cancel(): void {
    this.stopPlacing();
  }

  outcomes(): Promise<ObservedCall[]> {
    this.result ??= this.collect();
    return this.result;
  }

  private async collect(): Promise<ObservedCall[]> {
    await this.placing;
    const settled = await Promise.all(this.calls);
    this.closing = true;
    await Promise.all([this.commands.close(), this.events.close()].map((closed) => closed.catch(() => undefined)));
    const failed = settled.find((call) => !call.ok);
    if (failed && !failed.ok) throw new Error(`SIP call load: ${failed.error.message}`);
    return settled.flatMap((call) => (call.ok ? [call.call] : []));
  }

  /** One timer paces the calls; a late tick places every call that is due. */
  private place(): Promise<void> {
    const { count, ratePerSecond } = this.request;
    const intervalMs = 1000 / ratePerSecond;
    const startedAt = Date.now();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.stopPlacing = () => {
        clearTimeout(timer);
        resolve();
      };
      const tick = (): void => {
        const due = Math.min(count, Math.floor((Date.now() - startedAt) / intervalMs) + 1);
        while (this.calls.length < due && this.lost === undefined) this.calls.push(this.settle(this.call()));
        if (this.calls.length >= count || this.lost !== undefined) return this.stopPlacing();
        timer = setTimeout(tick, Math.max(1, startedAt + this.calls.length * intervalMs - Date.now()));
      };
      tick();
    });
  }

  private async settle(call: Promise<ObservedCall>): Promise<Settled> {
    try {
      return { ok: true, call: await call };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  private async call(): Promise<ObservedCall> {
    const uuid = randomUUID();
    const durationMs = this.request.durationMs();
    const hangup = this.expectHangup(uuid);
    try {
      try {
        await this.commands.bgapi(
          `originate {origination_uuid=${uuid},${LOAD_VARIABLE}=${this.loadId},origination_caller_id_number=${CALLER_ID},originate_timeout=${ORIGINATE_TIMEOUT_S}}${this.callTarget} &park()`,
          { timeoutMs: ORIGINATE_JOB_TIMEOUT_MS },
        );
      } catch (error) {
        if (error instanceof EslReplyError) return { answered: false, rejected: true, hangupCause: error.replyText.trim().replace(/^-ERR\s*/, '') || 'UNKNOWN' };
        if (!(error instanceof EslTimeoutError)) throw error;
        // The caller gave up; should the leg still come up, it must not linger.
        await this.commands.api(`uuid_kill ${uuid}`).catch(() => undefined);
        return { answered: false, rejected: false, hangupCause: ORIGINATE_TIMEOUT };
      }
      const early = await within(hangup.ended, durationMs);
      if (early !== undefined) return endedEarly(early);
      const killed = await this.commands.api(`uuid_kill ${uuid}`).then(
        () => true,
        (error: unknown) => {
          // No such channel: it ended on its own just as its duration ran out.
          if (error instanceof EslCommandError) return false;
          throw error;
        },
      );
      const cause = await within(hangup.ended, HANGUP_EVENT_TIMEOUT_MS);
      if (cause === undefined) throw new Error(`no CHANNEL_HANGUP_COMPLETE for carrier leg ${uuid} within ${HANGUP_EVENT_TIMEOUT_MS} ms of uuid_kill`);
      return killed ? { answered: true, rejected: false, hangupCause: cause } : endedEarly(cause);
    } finally {
      this.hangups.delete(uuid);
    }
  }

  /** Registered before the originate: the hangup event, on the other socket, may arrive before the originate's reply. */
  private expectHangup(uuid: string): Hangup {
    let resolve: (cause: string) => void = () => undefined;
    let reject: (error: Error) => void = () => undefined;
    const ended = new Promise<string>((onResolve, onReject) => {
      resolve = onResolve;
      reject = onReject;
    });
    // Awaited only once the call is answered; losing the socket before that must not be an unhandled rejection.
    ended.catch(() => undefined);
    const hangup = { ended, resolve, reject };
    this.hangups.set(uuid, hangup);
    return hangup;
  }

  private onEvent(event: EslEvent): void {
    if (event.name !== 'CHANNEL_HANGUP_COMPLETE') return;
    const parsed = hangupSchema.safeParse(event.headers);
    if (parsed.success) this.hangups.get(parsed.data['Unique-ID'])?.resolve(parsed.data['Hangup-Cause']);
  }

  private onLost(reason: Error): void {
    if (this.closing || this.lost !== undefined) return;
    this.lost = reason;
    this.stopPlacing();
    for (const hangup of this.hangups.values()) hangup.reject(reason);
  }
}

function endedEarly(cause: string): ObservedCall {
  return { answered: true, rejected: false, hangupCause: cause === 'NORMAL_CLEARING' ? NORMAL_CLEARING_BEFORE_DURATION : cause };
}

/** `promise`'s value, or undefined when `ms` pass first. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
