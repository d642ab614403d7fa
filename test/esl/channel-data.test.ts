import { EslProtocolError } from '../../runtime/esl';
import { channelVariable, parseChannelData } from '../../runtime/esl/channel-data';
import { parseHeaderBlock } from '../../runtime/esl/header-decoding';

const CHANNEL_DATA = [
  'Event-Name: CHANNEL_DATA',
  'Core-UUID: 0d6c5e2e-0000-4000-8000-000000000001',
  'Unique-ID: 5f1a6c3e-3c47-4d1e-9f0a-8b0e6a1d2c3b',
  'Caller-Caller-ID-Name: Andr%C3%A9%20Dupont',
  'Caller-Caller-ID-Number: %2B15551234567',
  'Caller-Destination-Number: 1000',
  'variable_call_control_group: blue',
  'variable_sip_h_X-Discount: 100%',
  'Content-Type: command/reply',
  'Reply-Text: %2BOK%0A',
  'Socket-Mode: async',
  'Control: full',
].join('\n');

describe('CHANNEL_DATA parsing', () => {
  it('exposes the decoded headers and typed accessors', () => {
    const data = parseChannelData('127.0.0.1:40000', parseHeaderBlock(CHANNEL_DATA));
    expect(data.uuid).toBe('5f1a6c3e-3c47-4d1e-9f0a-8b0e6a1d2c3b');
    expect(data.callerIdNumber).toBe('+15551234567');
    expect(data.destinationNumber).toBe('1000');
    expect(data.socketMode).toBe('async');
    expect(data.headers['Caller-Caller-ID-Name']).toBe('André Dupont');
    expect(channelVariable(data, 'call_control_group')).toBe('blue');
    expect(channelVariable(data, 'sip_h_X-Discount')).toBe('100%');
    expect(channelVariable(data, 'not_set')).toBeUndefined();
  });

  it('rejects a reply without Unique-ID with a protocol error that says so', () => {
    const headers = parseHeaderBlock(CHANNEL_DATA.replace(/^Unique-ID:.*$/m, ''));
    expect(() => parseChannelData('127.0.0.1:40000', headers)).toThrow(EslProtocolError);
    expect(() => parseChannelData('127.0.0.1:40000', headers)).toThrow(/Unique-ID/);
  });

  it('rejects a connect reply that is not +OK', () => {
    const headers = parseHeaderBlock(CHANNEL_DATA.replace('Reply-Text: %2BOK%0A', 'Reply-Text: -ERR nope'));
    expect(() => parseChannelData('127.0.0.1:40000', headers)).toThrow(/Reply-Text/);
  });
});
