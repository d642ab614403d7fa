/**
 * The structured lines every SIP node logs (Kamailio's syslog identity {@link KAMAILIO_LOG_NAME}) so CloudWatch Logs
 * metric filters can count calls and their server failures: Kamailio publishes no metrics of its own. Each line is
 * `<marker> site=<site id> status=<code> call_id=<Call-ID>` (status on failures only); a marker occurs in no other line.
 */

/** Syslog identity of Kamailio on a node (its `log_name`), what the node's syslog routes to the shipped log file. */
export const KAMAILIO_LOG_NAME = 'kamailio';

/** Logged once per new INVITE transaction the node dispatches to the media servers: one call attempt. */
export const SIP_NEW_CALL_MARKER = 'voiceplane-sip-new-call';

/**
 * Logged once per call whose final reply to the caller is a 5xx: no media server available, or every media server
 * tried answered 5xx (failover exhausted).
 */
export const SIP_SERVER_ERROR_MARKER = 'voiceplane-sip-5xx';

/** The kamailio.cfg statement logging a call attempt. */
export function newCallLogStatement(siteId: string): string {
  return `xlog("L_NOTICE", "${SIP_NEW_CALL_MARKER} site=${siteId} call_id=$ci\\n");`;
}

/** The kamailio.cfg statement logging a 5xx final reply; `status` is a number or a pseudo-variable (`$T_reply_code`). */
export function serverErrorLogStatement(siteId: string, status: string): string {
  return `xlog("L_NOTICE", "${SIP_SERVER_ERROR_MARKER} site=${siteId} status=${status} call_id=$ci\\n");`;
}
