import type { EslEvent } from '../../runtime/esl';
import { planChannelEvent } from '../../runtime/cds/collector/esl-call-events';

const UUID = '6f1c2a9e-0000-4000-8000-000000000001';
const B_LEG = '6f1c2a9e-0000-4000-8000-000000000002';

function event(name: string, headers: Record<string, string>): EslEvent {
  return { name, headers: { 'Event-Name': name, 'Unique-ID': UUID, 'Channel-Call-UUID': UUID, 'Event-Date-Timestamp': '1700000000123456', ...headers } };
}

describe('planChannelEvent', () => {
  it("turns the originating leg's events into the call's properties, registering it at create", () => {
    expect(planChannelEvent(event('CHANNEL_CREATE', { 'Caller-Caller-ID-Number': '+15550100', 'Caller-Destination-Number': '1000', 'FreeSWITCH-Hostname': 'ms-1' }), 'west')).toEqual({
      plan: {
        callId: `west:${UUID}`,
        client: `esl:${UUID}`,
        register: true,
        properties: { caller: '+15550100', callee: '1000', mediaServer: 'ms-1', createdAt: 1700000000123 },
        end: false,
        unregister: false,
      },
    });
    expect(planChannelEvent(event('CHANNEL_ANSWER', { variable_vp_cc_group: 'blue' }), 'west')).toMatchObject({ plan: { properties: { answeredAt: 1700000000123, callControlGroup: 'blue' } } });
    expect(planChannelEvent(event('CHANNEL_BRIDGE', { 'Other-Leg-Unique-ID': B_LEG }), 'west')).toMatchObject({ plan: { properties: { bridgedLeg: B_LEG } } });
  });

  it('ends the call when the originating leg hangs up at the owner', () => {
    const hangup = planChannelEvent(event('CHANNEL_HANGUP_COMPLETE', { 'Hangup-Cause': 'NORMAL_CLEARING', variable_billsec: '42', variable_duration: '45' }), 'west');
    expect(hangup).toMatchObject({ plan: { properties: { hangupCause: 'NORMAL_CLEARING', billsec: 42, duration: 45 }, end: true, unregister: true } });
  });

  it('takes a foreign call id from the channel variable and prefixes this leg facts with the site', () => {
    const create = planChannelEvent(event('CHANNEL_CREATE', { variable_vp_call_id: 'west:abc-123', 'Caller-Caller-ID-Number': '+1', 'FreeSWITCH-Hostname': 'ms-9' }), 'east');
    expect(create).toMatchObject({ plan: { callId: 'west:abc-123', register: true, properties: { 'east.mediaServer': 'ms-9', 'east.createdAt': 1700000000123 } } });
    expect(create && 'plan' in create ? create.plan.properties.caller : 'missing').toBeUndefined();
    const hangup = planChannelEvent(event('CHANNEL_HANGUP_COMPLETE', { variable_vp_call_id: 'west:abc-123', 'Hangup-Cause': 'USER_BUSY' }), 'east');
    expect(hangup).toMatchObject({ plan: { properties: { 'east.hangupCause': 'USER_BUSY' }, end: false, unregister: true } });
  });

  it('prefixes the facts of a second leg at the owner', () => {
    const bLeg = planChannelEvent({ name: 'CHANNEL_ANSWER', headers: { 'Unique-ID': B_LEG, 'Channel-Call-UUID': UUID, 'Event-Date-Timestamp': '2000' } }, 'west');
    expect(bLeg).toMatchObject({ plan: { callId: `west:${UUID}`, client: `esl:${B_LEG}`, properties: { 'west.answeredAt': 2 } } });
  });

  it('reports malformed events and unusable call ids instead of failing', () => {
    expect(planChannelEvent({ name: 'CHANNEL_ANSWER', headers: { 'Unique-ID': 'not a uuid!' } }, 'west')).toEqual({ problem: expect.stringMatching(/^CHANNEL_ANSWER: header Unique-ID /) });
    expect(planChannelEvent(event('CHANNEL_ANSWER', { variable_billsec: 'x' }), 'west')).toMatchObject({ problem: expect.stringContaining('variable_billsec') });
    expect(planChannelEvent(event('CHANNEL_ANSWER', { variable_vp_call_id: 'no colon' }), 'west')).toMatchObject({ plan: { callId: `west:${UUID}`, warning: expect.stringContaining('no colon') } });
    expect(planChannelEvent(event('HEARTBEAT', {}), 'west')).toBeUndefined();
  });
});
