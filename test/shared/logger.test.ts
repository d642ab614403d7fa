import { errorMessage, jsonLinesLogger, withFields } from '../../runtime/shared/logger';

describe('jsonLinesLogger', () => {
  it('writes one JSON line per entry with level and ts first', () => {
    const lines: string[] = [];
    const logger = jsonLinesLogger({ write: (line) => lines.push(line), now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6) });
    logger.warn('call detached', { uuid: 'u-1', durationMs: 1500, hangupCause: undefined });
    expect(lines).toEqual(['{"level":"warn","ts":"2026-01-02T03:04:05.006Z","uuid":"u-1","durationMs":1500,"msg":"call detached"}\n']);
  });

  it('drops entries below its level', () => {
    const lines: string[] = [];
    const logger = jsonLinesLogger({ write: (line) => lines.push(line), now: () => 0, level: 'warn' });
    logger.debug('noise');
    logger.info('more noise');
    logger.warn('kept');
    logger.error('kept too');
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(['kept', 'kept too']);
  });

  it('never writes a secret field, whatever logs it', () => {
    const lines: string[] = [];
    const logger = withFields(jsonLinesLogger({ write: (line) => lines.push(line), now: () => 0 }), { password: 'ClueCon' });
    logger.info('connecting', { token: 'tok-123', authorization: 'Bearer abc', peerKey: 'k', host: '10.0.0.5' });
    expect(lines[0]).not.toMatch(/ClueCon|tok-123|Bearer abc/);
    expect(JSON.parse(lines[0])).toMatchObject({ password: '[redacted]', token: '[redacted]', authorization: '[redacted]', peerKey: '[redacted]', host: '10.0.0.5' });
  });

  it('keeps its own ts, level and msg when a field has the same name', () => {
    const lines: string[] = [];
    const logger = jsonLinesLogger({ write: (line) => lines.push(line), now: () => 0 });
    logger.error('real message', { msg: 'spoofed', level: 'debug', extra: true });
    expect(JSON.parse(lines[0])).toEqual({ ts: '1970-01-01T00:00:00.000Z', level: 'error', msg: 'real message', extra: true });
  });
});

describe('withFields', () => {
  it('adds its fields to every level, letting an entry override them', () => {
    const lines: string[] = [];
    const base = jsonLinesLogger({ write: (line) => lines.push(line), now: () => 0, level: 'debug' });
    const logger = withFields(withFields(base, { group: 'blue', version: '1' }), { uuid: 'u-1' });
    logger.debug('a');
    logger.info('b', { version: '2' });
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { ts: '1970-01-01T00:00:00.000Z', level: 'debug', msg: 'a', group: 'blue', version: '1', uuid: 'u-1' },
      { ts: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'b', group: 'blue', version: '2', uuid: 'u-1' },
    ]);
  });
});

describe('errorMessage', () => {
  it('reads an Error message and stringifies anything else', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('plain')).toBe('plain');
  });
});
