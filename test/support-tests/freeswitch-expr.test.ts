import { EslClient, EslReplyError } from '../../runtime/esl';
import { ExpressionEvaluator } from '../../runtime/freeswitch-simulator/expr-function';
import { LocalFreeSwitch } from '../../runtime/local-freeswitch/local-freeswitch';
import { describeWithFreeSwitch } from '../support/real-freeswitch';

/** Expressions and what FreeSWITCH 1.11.1's `expr` printed for them (checked again below when FreeSWITCH is installed). */
const KNOWN_RESULTS: Array<[string, string]> = [
  ['rand(&s)', '0.001159668'],
  ['rand(&s);rand(&s)', '0.2355651855'],
  ['random(1,10,&q)', '1.0104373302'],
  ['x=3;x*2', '6'],
  ['7|8', '8'],
  ['abs(-2);', '2'],
  ['10/3', '3.3333333333'],
  ['-3/4', '-0.75'],
  ['floor(-2.5)', '-3'],
  ['min(3,1,2)', '1'],
  ['never_set', '0'],
  ['1+above(5+1,10)+above(5+1,5)', '2'],
  ['1/0', '!err!'],
  ['no_such_function(1)', '!err!'],
  ['1+', '!err!'],
  ['above(1)', '!err!'],
];
const DRAW = 'randomize(&seed);floor(rand(&seed)*100)';

describe("the simulator's mod_expr", () => {
  it.each(KNOWN_RESULTS)('prints %j as FreeSWITCH does: %s', (expression, expected) => {
    expect(new ExpressionEvaluator().evaluate(expression)).toBe(expected);
  });

  it('draws reproducibly from an injected clock, and differently on each randomize (its seed lives as long as the process)', () => {
    const ticks = () => {
      let tick = 0;
      return () => (tick += 7919);
    };
    const draws = (evaluator: ExpressionEvaluator) => Array.from({ length: 50 }, () => evaluator.evaluate(DRAW));
    const first = draws(new ExpressionEvaluator(ticks()));
    expect(draws(new ExpressionEvaluator(ticks()))).toEqual(first);
    expect(first.every((draw) => /^[0-9]{1,2}$/.test(draw))).toBe(true);
    expect(new Set(first).size).toBeGreaterThan(25);
  });
});

describeWithFreeSwitch("the real FreeSWITCH's mod_expr", () => {
  let freeswitch: LocalFreeSwitch;
  let esl: EslClient;
  /** The `expr` output, `!err!` included (the client rejects that reply). */
  const expr = async (expression: string) => {
    try {
      return (await esl.api(`expr ${expression}`)).trim();
    } catch (error) {
      if (error instanceof EslReplyError) return error.replyText.trim();
      throw error;
    }
  };

  beforeAll(async () => {
    freeswitch = await LocalFreeSwitch.start();
    esl = await EslClient.connect(freeswitch.eslOptions);
  }, 60_000);

  afterAll(async () => {
    await esl?.close();
    await freeswitch?.stop();
  });

  it('is loaded by the media server configuration and prints what the simulator prints', async () => {
    const real = await Promise.all(KNOWN_RESULTS.map(([expression]) => expr(expression)));
    expect(real).toEqual(KNOWN_RESULTS.map(([, expected]) => expected));
  });

  it('draws integers 0..99 with the dialplan expression', async () => {
    const draws = await Promise.all(Array.from({ length: 200 }, () => expr(DRAW)));
    expect(draws.filter((draw) => !/^[0-9]{1,2}$/.test(draw))).toEqual([]);
    expect(new Set(draws).size).toBeGreaterThan(50);
  });
});
