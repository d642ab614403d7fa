export { MediaServerClient, MissingRouteTableError, RouteVerificationError, SharesUnsupportedError } from './media-server-client';
export type { ActiveCalls, EslCommander } from './media-server-client';
export { MediaServerReplyError, parseLimitUsage, parseRowCount, parseStatus } from './api-replies';
export type { MediaServerStatus } from './api-replies';
