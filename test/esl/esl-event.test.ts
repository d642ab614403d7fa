import { toEslEvent } from '../../runtime/esl/esl-event';

describe('event conversion', () => {
  it('turns modesl headers into a plain object with string values and an optional body', () => {
    const event = toEslEvent(
      [
        { name: 'Event-Name', value: 'BACKGROUND_JOB' },
        { name: 'Job-UUID', value: 'j-1' },
        { name: 'Content-Length', value: 4 },
      ],
      '+OK\n',
    );
    expect(event).toEqual({
      name: 'BACKGROUND_JOB',
      headers: { 'Event-Name': 'BACKGROUND_JOB', 'Job-UUID': 'j-1', 'Content-Length': '4' },
      body: '+OK\n',
    });
  });

  it('renders JSON array headers the way plain events show them and drops other shapes', () => {
    const event = toEslEvent(
      [
        { name: 'Event-Name', value: 'CUSTOM' },
        { name: 'variable_sip_h_Diversion', value: ['<sip:a@x>', '<sip:b@x>'] },
        { name: 'weird', value: { nested: true } },
      ],
      '',
    );
    expect(event).toEqual({
      name: 'CUSTOM',
      headers: { 'Event-Name': 'CUSTOM', 'variable_sip_h_Diversion': 'ARRAY::<sip:a@x>|:<sip:b@x>' },
    });
  });

  it('ignores messages without Event-Name', () => {
    expect(toEslEvent([{ name: 'Content-Type', value: 'text/event-json' }], '{oops')).toBeUndefined();
  });
});
