/** How calls fared during an upgrade, from the switch's own records of each call. */
export interface ObservedCall {
  readonly answered: boolean;
  /** The switch refused the call outright. */
  readonly rejected: boolean;
  readonly hangupCause: string;
}

export interface CallTally {
  readonly placed: number;
  /** Answered and ended by the caller (NORMAL_CLEARING). */
  readonly completed: number;
  /** Answered, then ended by anything but the caller. */
  readonly dropped: number;
  /** Never answered: no call-control group took it, or the switch refused it. */
  readonly refused: number;
}

export function tallyCalls(calls: readonly ObservedCall[]): CallTally {
  const refused = calls.filter((call) => call.rejected || !call.answered).length;
  const completed = calls.filter((call) => !call.rejected && call.answered && call.hangupCause === 'NORMAL_CLEARING').length;
  return { placed: calls.length, completed, dropped: calls.length - refused - completed, refused };
}
