/** Hangup cause names with their Q.850 codes, as in switch_channel.c's CAUSE_CHART. */
const Q850_CODES: ReadonlyMap<string, number> = new Map([
  ['NONE', 0],
  ['UNALLOCATED_NUMBER', 1],
  ['NO_ROUTE_TRANSIT_NET', 2],
  ['NO_ROUTE_DESTINATION', 3],
  ['CHANNEL_UNACCEPTABLE', 6],
  ['CALL_AWARDED_DELIVERED', 7],
  ['NORMAL_CLEARING', 16],
  ['USER_BUSY', 17],
  ['NO_USER_RESPONSE', 18],
  ['NO_ANSWER', 19],
  ['SUBSCRIBER_ABSENT', 20],
  ['CALL_REJECTED', 21],
  ['NUMBER_CHANGED', 22],
  ['REDIRECTION_TO_NEW_DESTINATION', 23],
  ['EXCHANGE_ROUTING_ERROR', 25],
  ['DESTINATION_OUT_OF_ORDER', 27],
  ['INVALID_NUMBER_FORMAT', 28],
  ['FACILITY_REJECTED', 29],
  ['RESPONSE_TO_STATUS_ENQUIRY', 30],
  ['NORMAL_UNSPECIFIED', 31],
  ['NORMAL_CIRCUIT_CONGESTION', 34],
  ['NETWORK_OUT_OF_ORDER', 38],
  ['NORMAL_TEMPORARY_FAILURE', 41],
  ['SWITCH_CONGESTION', 42],
  ['ACCESS_INFO_DISCARDED', 43],
  ['REQUESTED_CHAN_UNAVAIL', 44],
  ['PRE_EMPTED', 45],
  ['FACILITY_NOT_SUBSCRIBED', 50],
  ['OUTGOING_CALL_BARRED', 52],
  ['INCOMING_CALL_BARRED', 54],
  ['BEARERCAPABILITY_NOTAUTH', 57],
  ['BEARERCAPABILITY_NOTAVAIL', 58],
  ['SERVICE_UNAVAILABLE', 63],
  ['BEARERCAPABILITY_NOTIMPL', 65],
  ['CHAN_NOT_IMPLEMENTED', 66],
  ['FACILITY_NOT_IMPLEMENTED', 69],
  ['SERVICE_NOT_IMPLEMENTED', 79],
  ['INVALID_CALL_REFERENCE', 81],
  ['INCOMPATIBLE_DESTINATION', 88],
  ['INVALID_MSG_UNSPECIFIED', 95],
  ['MANDATORY_IE_MISSING', 96],
  ['MESSAGE_TYPE_NONEXIST', 97],
  ['WRONG_MESSAGE', 98],
  ['IE_NONEXIST', 99],
  ['INVALID_IE_CONTENTS', 100],
  ['WRONG_CALL_STATE', 101],
  ['RECOVERY_ON_TIMER_EXPIRE', 102],
  ['MANDATORY_IE_LENGTH_ERROR', 103],
  ['PROTOCOL_ERROR', 111],
  ['INTERWORKING', 127],
  ['SUCCESS', 142],
  ['ORIGINATOR_CANCEL', 487],
  ['CRASH', 700],
  ['SYSTEM_SHUTDOWN', 701],
  ['LOSE_RACE', 502],
  ['MANAGER_REQUEST', 503],
  ['BLIND_TRANSFER', 600],
  ['ATTENDED_TRANSFER', 601],
  ['ALLOTTED_TIMEOUT', 602],
  ['USER_CHALLENGE', 603],
  ['MEDIA_TIMEOUT', 604],
  ['PICKED_OFF', 605],
  ['USER_NOT_REGISTERED', 606],
  ['PROGRESS_TIMEOUT', 607],
  ['GATEWAY_DOWN', 609],
]);

const NAMES_BY_CODE: ReadonlyMap<number, string> = new Map(Array.from(Q850_CODES, ([name, code]) => [code, name]));

/** Like switch_channel_str2cause: a cause name (any case) or a numeric code; anything else is NONE. */
export function causeFromString(text: string): string {
  const trimmed = text.trim();
  if (/^\d/.test(trimmed)) return NAMES_BY_CODE.get(parseInt(trimmed, 10)) ?? 'NONE';
  const upper = trimmed.toUpperCase();
  return Q850_CODES.has(upper) ? upper : 'NONE';
}

export function q850Code(cause: string): number {
  return Q850_CODES.get(cause) ?? 0;
}

/** The hangup cause mod_sofia derives from a final SIP response code (sofia_glue_sip_cause_to_freeswitch). */
export function causeFromSipStatus(status: number): string {
  switch (status) {
    case 200:
      return 'NORMAL_CLEARING';
    case 401:
    case 402:
    case 403:
    case 407:
    case 603:
    case 608:
      return 'CALL_REJECTED';
    case 404:
      return 'UNALLOCATED_NUMBER';
    case 485:
    case 604:
      return 'NO_ROUTE_DESTINATION';
    case 408:
    case 504:
      return 'RECOVERY_ON_TIMER_EXPIRE';
    case 410:
      return 'NUMBER_CHANGED';
    case 413:
    case 414:
    case 416:
    case 420:
    case 421:
    case 423:
    case 505:
    case 513:
      return 'INTERWORKING';
    case 480:
      return 'NO_USER_RESPONSE';
    case 400:
    case 481:
    case 500:
    case 503:
      return 'NORMAL_TEMPORARY_FAILURE';
    case 486:
    case 600:
      return 'USER_BUSY';
    case 484:
      return 'INVALID_NUMBER_FORMAT';
    case 488:
    case 606:
      return 'INCOMPATIBLE_DESTINATION';
    case 502:
      return 'NETWORK_OUT_OF_ORDER';
    case 405:
      return 'SERVICE_UNAVAILABLE';
    case 406:
    case 415:
    case 501:
      return 'SERVICE_NOT_IMPLEMENTED';
    case 482:
    case 483:
      return 'EXCHANGE_ROUTING_ERROR';
    case 487:
      return 'ORIGINATOR_CANCEL';
    default:
      return 'NORMAL_UNSPECIFIED';
  }
}
