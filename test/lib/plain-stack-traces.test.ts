import '../../stacks/plain-stack-traces';

class StackError extends Error {
  constructor(message: string) {
    super(message);
    Error.captureStackTrace(this, StackError);
  }
}

function throwFromHere(): never {
  throw new StackError('synth failed');
}

describe('stack traces in the synth app', () => {
  it('keeps the stack of every real error: message, then the frames where it was thrown', () => {
    let caught: Error | undefined;
    try {
      throwFromHere();
    } catch (error) {
      caught = error as Error;
    }
    expect(caught?.stack?.split('\n').slice(0, 2)).toEqual(['Error: synth failed', expect.stringMatching(/^ {4}at throwFromHere \(.*plain-stack-traces\.test\.ts:\d+:\d+\)$/)]);
    expect(new Error('plain').stack).toMatch(/^Error: plain\n {4}at /);
  });

  it('captures nothing into a plain object (CDKTF captures into one for every token it creates)', () => {
    const capture = { stack: 'as it was' };
    Error.captureStackTrace(capture);
    expect(capture).toEqual({ stack: 'as it was' });
  });
});
