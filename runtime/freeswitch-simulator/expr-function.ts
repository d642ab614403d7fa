/**
 * mod_expr's `expr` API (FreeSWITCH's copy of the ExprEval library): `|` becomes `;`, statements separated by `;`
 * run in order, the last value is printed with "%0.10f" less its trailing zeros (and dot), and any parse or evaluation
 * error prints `!err!`. Every call starts with no variables; a name never assigned reads 0.
 *
 * Simulated: numbers, `+ - * /`, unary minus, parentheses, `NAME = value`, and the functions abs, floor, ceil, min,
 * max, above, below, equal, rand(&v), random(lo, hi, &v) and randomize(&v), each computing exactly what exprilfs.h
 * does: `randomize` stirs a process-wide seed (`static int curcall`) with clock() + time(NULL) and stores it in v;
 * `rand` steps v as a linear congruential generator (214013, 2531011) and returns bits 16..30 over 32768.
 */
export class ExpressionEvaluator {
  /** `static int curcall` of EXPR_NODEFUNC_RANDOMIZE: one per FreeSWITCH process. */
  private randomizeState = 0;

  /** @param clockTicks clock() + time(NULL) as `randomize` reads them (the process's CPU microseconds plus epoch seconds). */
  constructor(private readonly clockTicks: () => number = processClockTicks) {}

  /** The `expr` API's output for `args`. */
  evaluate(args: string): string {
    if (args.trim() === '') return ERROR_OUTPUT;
    try {
      const statements = new Parser(tokenize(args.replace(/\|/g, ';'))).statements();
      const variables = new Map<string, number>();
      let last = 0;
      for (const statement of statements) last = statement(new Scope(variables, () => this.randomize()));
      return formatResult(last);
    } catch (error) {
      if (error instanceof ExpressionError) return ERROR_OUTPUT;
      throw error;
    }
  }

  private randomize(): number {
    this.randomizeState = toInt32(this.randomizeState + Math.trunc(this.clockTicks()));
    this.randomizeState = toInt32(Number((BigInt(toUint32(this.randomizeState)) * 31821n + 13849n) & 0xffffffffn));
    return this.randomizeState;
  }
}

const ERROR_OUTPUT = '!err!';

function processClockTicks(): number {
  const { user, system } = process.cpuUsage();
  return user + system + Math.floor(Date.now() / 1000);
}

class ExpressionError extends Error {}

const toInt32 = (value: number) => value | 0;
const toUint32 = (value: number) => value >>> 0;

function formatResult(value: number): string {
  if (!Number.isFinite(value)) return ERROR_OUTPUT;
  const fixed = value.toFixed(10);
  return fixed.replace(/0+$/, '').replace(/\.$/, '');
}

class Scope {
  constructor(
    readonly variables: Map<string, number>,
    readonly randomize: () => number,
  ) {}

  read(name: string): number {
    return this.variables.get(name) ?? 0;
  }
}

type Node = (scope: Scope) => number;

/** rand's step: `a = (long) v * 214013 + 2531011; v = a;` and the draw `(a >> 16) & 0x7FFF`. */
function stepRandom(scope: Scope, reference: string): number {
  const next = BigInt.asIntN(64, BigInt(Math.trunc(scope.read(reference))) * 214013n + 2531011n);
  scope.variables.set(reference, Number(next));
  return Number((next >> 16n) & 0x7fffn);
}

interface FunctionSpec {
  readonly values: number;
  readonly references: number;
  readonly call: (values: number[], references: string[], scope: Scope) => number;
}

const variadic = -1;
const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  ['abs', { values: 1, references: 0, call: ([value]) => Math.abs(value) }],
  ['floor', { values: 1, references: 0, call: ([value]) => Math.floor(value) }],
  ['ceil', { values: 1, references: 0, call: ([value]) => Math.ceil(value) }],
  ['min', { values: variadic, references: 0, call: (values) => Math.min(...values) }],
  ['max', { values: variadic, references: 0, call: (values) => Math.max(...values) }],
  ['above', { values: 2, references: 0, call: ([first, second]) => (first > second ? 1 : 0) }],
  ['below', { values: 2, references: 0, call: ([first, second]) => (first < second ? 1 : 0) }],
  ['equal', { values: 2, references: 0, call: ([first, second]) => (first === second ? 1 : 0) }],
  ['rand', { values: 0, references: 1, call: (_, [reference], scope) => stepRandom(scope, reference) / 32768 }],
  ['random', { values: 2, references: 1, call: ([low, high], [reference], scope) => (stepRandom(scope, reference) / 32767) * (high - low) + low }],
  [
    'randomize',
    {
      values: 0,
      references: 1,
      call: (_, [reference], scope) => {
        scope.variables.set(reference, scope.randomize());
        return 0;
      },
    },
  ],
]);

type Token = { kind: 'number'; value: number } | { kind: 'name'; value: string } | { kind: 'symbol'; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:([0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+)|([A-Za-z_][A-Za-z0-9_.]*)|([-+*/(),;=&]))/y;
  let position = 0;
  while (position < text.length) {
    if (/^\s*$/.test(text.slice(position))) break;
    pattern.lastIndex = position;
    const match = pattern.exec(text);
    if (match === null) throw new ExpressionError(`unexpected character at ${position}`);
    position = pattern.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: 'number', value: Number(match[1]) });
    else if (match[2] !== undefined) tokens.push({ kind: 'name', value: match[2] });
    else tokens.push({ kind: 'symbol', value: match[3] });
  }
  return tokens;
}

/** Recursive descent over ExprEval's grammar (the simulated subset). */
class Parser {
  private position = 0;

  constructor(private readonly tokens: Token[]) {}

  statements(): Node[] {
    const statements: Node[] = [];
    while (this.position < this.tokens.length) {
      if (this.takeSymbol(';')) continue;
      statements.push(this.statement());
      if (this.position < this.tokens.length && !this.takeSymbol(';')) throw new ExpressionError('expected ;');
    }
    if (statements.length === 0) throw new ExpressionError('no expression');
    return statements;
  }

  private statement(): Node {
    const [first, second] = [this.tokens[this.position], this.tokens[this.position + 1]];
    if (first?.kind === 'name' && second?.kind === 'symbol' && second.value === '=') {
      this.position += 2;
      const value = this.sum();
      return (scope) => {
        const result = value(scope);
        scope.variables.set(first.value, result);
        return result;
      };
    }
    return this.sum();
  }

  private sum(): Node {
    let node = this.product();
    for (;;) {
      if (this.takeSymbol('+')) {
        const [left, right] = [node, this.product()];
        node = (scope) => left(scope) + right(scope);
      } else if (this.takeSymbol('-')) {
        const [left, right] = [node, this.product()];
        node = (scope) => left(scope) - right(scope);
      } else {
        return node;
      }
    }
  }

  private product(): Node {
    let node = this.unary();
    for (;;) {
      if (this.takeSymbol('*')) {
        const [left, right] = [node, this.unary()];
        node = (scope) => left(scope) * right(scope);
      } else if (this.takeSymbol('/')) {
        const [left, right] = [node, this.unary()];
        node = (scope) => {
          const divisor = right(scope);
          if (divisor === 0) throw new ExpressionError('division by zero');
          return left(scope) / divisor;
        };
      } else {
        return node;
      }
    }
  }

  private unary(): Node {
    if (this.takeSymbol('-')) {
      const operand = this.unary();
      return (scope) => -operand(scope);
    }
    return this.primary();
  }

  private primary(): Node {
    const token = this.tokens[this.position++];
    if (token === undefined) throw new ExpressionError('unexpected end');
    if (token.kind === 'number') return () => token.value;
    if (token.kind === 'symbol') {
      if (token.value !== '(') throw new ExpressionError(`unexpected ${token.value}`);
      const inner = this.sum();
      this.expectSymbol(')');
      return inner;
    }
    if (!this.takeSymbol('(')) return (scope) => scope.read(token.value);
    return this.call(token.value);
  }

  private call(name: string): Node {
    const spec = FUNCTIONS.get(name);
    if (spec === undefined) throw new ExpressionError(`unknown function ${name}`);
    const values: Node[] = [];
    const references: string[] = [];
    if (!this.takeSymbol(')')) {
      do {
        if (this.takeSymbol('&')) {
          const reference = this.tokens[this.position++];
          if (reference?.kind !== 'name') throw new ExpressionError('expected a variable after &');
          references.push(reference.value);
        } else {
          values.push(this.sum());
        }
      } while (this.takeSymbol(','));
      this.expectSymbol(')');
    }
    const valuesOk = spec.values === variadic ? values.length >= 1 : values.length === spec.values;
    if (!valuesOk || references.length !== spec.references) throw new ExpressionError(`wrong arguments to ${name}`);
    return (scope) => spec.call(values.map((value) => value(scope)), references, scope);
  }

  private takeSymbol(symbol: string): boolean {
    const token = this.tokens[this.position];
    if (token?.kind !== 'symbol' || token.value !== symbol) return false;
    this.position++;
    return true;
  }

  private expectSymbol(symbol: string): void {
    if (!this.takeSymbol(symbol)) throw new ExpressionError(`expected ${symbol}`);
  }
}
