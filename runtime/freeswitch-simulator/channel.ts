import { q850Code } from './hangup-causes';

export type ChannelStateName =
  | 'CS_NEW'
  | 'CS_INIT'
  | 'CS_ROUTING'
  | 'CS_EXECUTE'
  | 'CS_HANGUP'
  | 'CS_REPORTING'
  | 'CS_DESTROY';
export type CallStateName = 'DOWN' | 'RINGING' | 'EARLY' | 'ACTIVE' | 'HANGUP';
export type AnswerState = 'ringing' | 'early' | 'answered' | 'hangup';

export const CHANNEL_STATE_NUMBERS: Readonly<Record<ChannelStateName, number>> = {
  CS_NEW: 0,
  CS_INIT: 1,
  CS_ROUTING: 2,
  CS_EXECUTE: 4,
  CS_HANGUP: 10,
  CS_REPORTING: 11,
  CS_DESTROY: 12,
};

/** The caller profile fields a dialplan condition can name directly (switch_caller_get_field_by_name). */
export interface CallerProfile {
  username: string;
  dialplan: string;
  callerIdName: string;
  callerIdNumber: string;
  origCallerIdName: string;
  origCallerIdNumber: string;
  networkAddr: string;
  ani: string;
  aniii: string;
  rdnis: string;
  destinationNumber: string;
  source: string;
  context: string;
  channelName: string;
  uuid: string;
}

const PROFILE_FIELDS: Readonly<Record<string, keyof CallerProfile>> = {
  username: 'username',
  dialplan: 'dialplan',
  caller_id_name: 'callerIdName',
  caller_id_number: 'callerIdNumber',
  orig_caller_id_name: 'origCallerIdName',
  orig_caller_id_number: 'origCallerIdNumber',
  network_addr: 'networkAddr',
  ani: 'ani',
  aniii: 'aniii',
  rdnis: 'rdnis',
  destination_number: 'destinationNumber',
  source: 'source',
  context: 'context',
  chan_name: 'channelName',
  uuid: 'uuid',
};

/** Microsecond timestamps of a channel's life; 0 means "has not happened". */
export interface ChannelTimes {
  createdUs: number;
  profileCreatedUs: number;
  progressUs: number;
  progressMediaUs: number;
  answeredUs: number;
  bridgedUs: number;
  transferUs: number;
  hangupUs: number;
}

/** How a channel reports its state changes; the core turns them into events. */
export interface ChannelEvents {
  nowUs(): number;
  fire(channel: Channel, eventName: string, before?: ReadonlyArray<[string, string]>): void;
}

export interface ChannelInit {
  readonly uuid: string;
  readonly direction: 'inbound' | 'outbound';
  readonly name: string;
  readonly profile: CallerProfile;
  readonly variables: ReadonlyMap<string, string>;
  readonly callUuid?: string;
}

/** One simulated call leg: identity, caller profile, variables, state, and its hangup signal. */
export class Channel {
  readonly uuid: string;
  readonly direction: 'inbound' | 'outbound';
  readonly name: string;
  readonly profile: CallerProfile;
  readonly initialProfile: Readonly<CallerProfile>;
  readonly variables: Map<string, string>;
  readonly times: ChannelTimes;
  callUuid: string;
  state: ChannelStateName = 'CS_INIT';
  callState: CallStateName = 'RINGING';
  answerState: AnswerState = 'ringing';
  hangupCause: string | undefined;
  currentApplication = '';
  currentApplicationData = '';
  peer: Channel | undefined;
  private readonly hangupListeners = new Set<() => void>();

  constructor(init: ChannelInit, private readonly events: ChannelEvents) {
    this.uuid = init.uuid;
    this.direction = init.direction;
    this.name = init.name;
    this.profile = init.profile;
    this.initialProfile = { ...init.profile };
    this.variables = new Map(init.variables);
    this.callUuid = init.callUuid ?? init.uuid;
    const now = events.nowUs();
    this.times = {
      createdUs: now,
      profileCreatedUs: now,
      progressUs: 0,
      progressMediaUs: 0,
      answeredUs: 0,
      bridgedUs: 0,
      transferUs: 0,
      hangupUs: 0,
    };
  }

  get isUp(): boolean {
    return this.hangupCause === undefined;
  }

  get isAnswered(): boolean {
    return this.times.answeredUs > 0;
  }

  profileField(name: string): string | undefined {
    const field = PROFILE_FIELDS[name];
    return field === undefined ? undefined : this.profile[field];
  }

  ringReady(): void {
    if (!this.isUp || this.times.progressUs > 0 || this.isAnswered) return;
    this.times.progressUs = this.events.nowUs();
    this.events.fire(this, 'CHANNEL_PROGRESS');
  }

  preAnswer(): void {
    if (!this.isUp || this.times.progressMediaUs > 0 || this.isAnswered) return;
    this.times.progressMediaUs = this.events.nowUs();
    this.answerState = 'early';
    this.callState = 'EARLY';
    this.events.fire(this, 'CHANNEL_PROGRESS_MEDIA');
  }

  answer(): void {
    if (!this.isUp || this.isAnswered) return;
    this.times.answeredUs = this.events.nowUs();
    this.answerState = 'answered';
    this.callState = 'ACTIVE';
    this.events.fire(this, 'CHANNEL_ANSWER');
  }

  /** Returns false when the channel was already down. */
  hangup(cause: string): boolean {
    if (!this.isUp) return false;
    this.hangupCause = cause;
    this.times.hangupUs = this.events.nowUs();
    this.state = 'CS_HANGUP';
    this.callState = 'HANGUP';
    this.answerState = 'hangup';
    this.variables.set('hangup_cause', cause);
    this.variables.set('hangup_cause_q850', String(q850Code(cause)));
    this.events.fire(this, 'CHANNEL_HANGUP', [['Hangup-Cause', cause]]);
    for (const listener of [...this.hangupListeners]) listener();
    this.hangupListeners.clear();
    return true;
  }

  /** Calls `listener` once when the channel hangs up; returns a function that unregisters it. */
  onHangup(listener: () => void): () => void {
    if (!this.isUp) {
      listener();
      return () => undefined;
    }
    this.hangupListeners.add(listener);
    return () => {
      this.hangupListeners.delete(listener);
    };
  }

  /** Resolves when the channel hangs up. */
  whenHungUp(): Promise<void> {
    return new Promise((resolve) => {
      this.onHangup(resolve);
    });
  }
}
