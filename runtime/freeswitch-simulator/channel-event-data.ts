import { CHANNEL_STATE_NUMBERS, CallerProfile, Channel } from './channel';
import { FsEvent } from './fs-event';

function micros(value: number): string {
  return String(Math.floor(value));
}

/** switch_caller_profile_event_set_data: the profile's fields under a prefix ("Caller", "Channel"...). */
export function addCallerProfileHeaders(
  event: FsEvent,
  prefix: string,
  profile: CallerProfile,
  channel: Channel
): void {
  const times = channel.times;
  event
    .add(`${prefix}-Direction`, channel.direction)
    .add(`${prefix}-Logical-Direction`, channel.direction)
    .add(`${prefix}-Username`, profile.username)
    .add(`${prefix}-Dialplan`, profile.dialplan)
    .add(`${prefix}-Caller-ID-Name`, profile.callerIdName)
    .add(`${prefix}-Caller-ID-Number`, profile.callerIdNumber)
    .add(`${prefix}-Orig-Caller-ID-Name`, profile.origCallerIdName)
    .add(`${prefix}-Orig-Caller-ID-Number`, profile.origCallerIdNumber)
    .add(`${prefix}-Network-Addr`, profile.networkAddr)
    .add(`${prefix}-ANI`, profile.ani)
    .add(`${prefix}-Destination-Number`, profile.destinationNumber)
    .add(`${prefix}-Unique-ID`, profile.uuid)
    .add(`${prefix}-Source`, profile.source)
    .add(`${prefix}-Context`, profile.context);
  if (profile.rdnis !== '') event.add(`${prefix}-RDNIS`, profile.rdnis);
  event
    .add(`${prefix}-Channel-Name`, profile.channelName)
    .add(`${prefix}-Profile-Index`, '1')
    .add(`${prefix}-Profile-Created-Time`, micros(times.profileCreatedUs))
    .add(`${prefix}-Channel-Created-Time`, micros(times.createdUs))
    .add(`${prefix}-Channel-Answered-Time`, micros(times.answeredUs))
    .add(`${prefix}-Channel-Progress-Time`, micros(times.progressUs))
    .add(`${prefix}-Channel-Progress-Media-Time`, micros(times.progressMediaUs))
    .add(`${prefix}-Channel-Hangup-Time`, micros(times.hangupUs))
    .add(`${prefix}-Channel-Transfer-Time`, micros(times.transferUs))
    .add(`${prefix}-Channel-Resurrect-Time`, '0')
    .add(`${prefix}-Channel-Bridged-Time`, micros(times.bridgedUs))
    .add(`${prefix}-Channel-Last-Hold`, '0')
    .add(`${prefix}-Channel-Hold-Accum`, '0')
    .add(`${prefix}-Screen-Bit`, 'true')
    .add(`${prefix}-Privacy-Hide-Name`, 'false')
    .add(`${prefix}-Privacy-Hide-Number`, 'false');
}

/**
 * switch_channel_event_set_data: channel state and identity, codecs, the caller profile as `Caller-*`,
 * the bridged peer as `Other-Leg-*`, then every channel variable as `variable_NAME`.
 */
export function addChannelData(event: FsEvent, channel: Channel): void {
  event
    .add('Channel-State', channel.state)
    .add('Channel-Call-State', channel.callState)
    .add('Channel-State-Number', String(CHANNEL_STATE_NUMBERS[channel.state]))
    .add('Channel-Name', channel.name)
    .add('Unique-ID', channel.uuid)
    .add('Call-Direction', channel.direction)
    .add('Presence-Call-Direction', channel.direction)
    .add('Channel-HIT-Dialplan', channel.direction === 'inbound' ? 'true' : 'false');
  const presenceId = channel.variables.get('presence_id');
  if (presenceId !== undefined) event.add('Channel-Presence-ID', presenceId);
  const presenceData = channel.variables.get('presence_data');
  if (presenceData !== undefined) event.add('Channel-Presence-Data', presenceData);
  event
    .add('Channel-Call-UUID', channel.callUuid)
    .add('Answer-State', channel.answerState)
    .add('Channel-Read-Codec-Name', 'PCMU')
    .add('Channel-Read-Codec-Rate', '8000')
    .add('Channel-Read-Codec-Bit-Rate', '64000')
    .add('Channel-Write-Codec-Name', 'PCMU')
    .add('Channel-Write-Codec-Rate', '8000')
    .add('Channel-Write-Codec-Bit-Rate', '64000');
  addCallerProfileHeaders(event, 'Caller', channel.profile, channel);
  const peer = channel.peer;
  if (peer !== undefined) {
    event.add('Other-Type', channel.direction === 'inbound' ? 'originatee' : 'originator');
    addCallerProfileHeaders(event, 'Other-Leg', peer.profile, peer);
  }
  for (const [name, value] of channel.variables) event.add(`variable_${name}`, value);
}
