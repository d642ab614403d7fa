/** A request the node refuses; `status` is the HTTP status the APIs answer with. Nothing was changed. */
export class CdsRequestError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 429 | 503,
    message: string,
    /** Machine-readable reason, for peers that react to it. */
    readonly reason: string,
  ) {
    super(message);
    this.name = 'CdsRequestError';
  }
}

export const callEnded = (callId: string): CdsRequestError => new CdsRequestError(409, `call ${callId} has ended`, 'call-ended');

export const unknownCall = (callId: string): CdsRequestError => new CdsRequestError(404, `call ${callId} is not known here`, 'unknown-call');

export const notRegistered = (callId: string): CdsRequestError => new CdsRequestError(409, `this site is not registered for call ${callId}`, 'not-registered');

export const recordFull = (callId: string, limitBytes: number): CdsRequestError =>
  new CdsRequestError(413, `call ${callId} would exceed ${limitBytes} bytes of data`, 'record-full');
