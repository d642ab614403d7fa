import { decodeHeaderValue, parseHeaderBlock } from '../../runtime/esl/header-decoding';

describe('header value decoding', () => {
  it('decodes FreeSWITCH URL encoding', () => {
    expect(decodeHeaderValue('Tue,%2025%20Sep%202012%2018%3A21%3A56%20GMT')).toBe('Tue, 25 Sep 2012 18:21:56 GMT');
    expect(decodeHeaderValue('%2BOK%0A')).toBe('+OK\n');
  });

  it('keeps a stray % instead of throwing', () => {
    expect(decodeHeaderValue('100%')).toBe('100%');
    expect(decodeHeaderValue('50%ZZ off')).toBe('50%ZZ off');
    expect(decodeHeaderValue('%%20')).toBe('% ');
    expect(decodeHeaderValue('%4')).toBe('%4');
  });

  it('keeps + as a plus sign (FreeSWITCH encodes spaces as %20)', () => {
    expect(decodeHeaderValue('+15551234567')).toBe('+15551234567');
    expect(decodeHeaderValue('a+b%20c')).toBe('a+b c');
  });

  it('decodes multi-byte UTF-8 sequences', () => {
    expect(decodeHeaderValue('Andr%C3%A9')).toBe('André');
    expect(decodeHeaderValue('%E2%82%AC5')).toBe('€5');
    expect(decodeHeaderValue('%F0%9F%93%9E%20call')).toBe('📞 call');
  });

  it('replaces escaped bytes that are not UTF-8 instead of throwing', () => {
    expect(decodeHeaderValue('a%FFb')).toBe('a\uFFFDb');
  });
});

describe('header block parsing', () => {
  it('parses lines into a decoded map, ignoring CRs and blank lines', () => {
    expect(parseHeaderBlock('Event-Name: CHANNEL_DATA\r\nCaller-Caller-ID-Name: Jos%C3%A9%20100%\n\n')).toEqual({
      'Event-Name': 'CHANNEL_DATA',
      'Caller-Caller-ID-Name': 'José 100%',
    });
  });

  it('keeps ": " inside values and accepts empty values', () => {
    expect(parseHeaderBlock('Reply-Text: +OK Job-UUID: 1234\nvariable_empty: \nvariable_bare:')).toEqual({
      'Reply-Text': '+OK Job-UUID: 1234',
      variable_empty: '',
      variable_bare: '',
    });
  });

  it('skips lines that are not headers', () => {
    expect(parseHeaderBlock('garbage\n: no name\nA: 1')).toEqual({ A: '1' });
  });
});
