export { EslClient } from './esl-client';
export type {
  BackgroundJobOptions,
  CommandOptions,
  EslConnectOptions,
  EventFormat,
  SubscribeOptions,
} from './esl-client';
export { ReconnectingEslClient } from './reconnecting-esl-client';
export type { ReconnectingEslClientOptions, RetryNotice } from './reconnecting-esl-client';
export type { BackoffPolicy } from './backoff';
export { OutboundEslServer } from './outbound-esl-server';
export type { OutboundCloseOptions, OutboundEslServerOptions } from './outbound-esl-server';
export type { OutboundCall, CallEnd, ExecuteOptions, ExecuteResult } from './outbound-call';
export type { EslEvent } from './esl-event';
export type { Timers } from './timers';
export {
  EslAuthError,
  EslCommandError,
  EslConnectionError,
  EslError,
  EslNoReplyError,
  EslProtocolError,
  EslReplyError,
  EslSyntaxError,
  EslTimeoutError,
  EslUsageError,
} from './errors';
