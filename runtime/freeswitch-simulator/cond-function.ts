import { separateString } from './separate-string';

type Operator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

interface Comparison {
  readonly left: string;
  readonly operator: Operator;
  readonly right: string;
}

/** switch_is_number: optional sign, then only digits and dots (so the empty string counts). */
function isFsNumber(text: string): boolean {
  return /^[-+]?[0-9.]*$/.test(text);
}

/** C's atof: the longest numeric prefix, 0 when there is none. */
function atof(text: string): number {
  const value = parseFloat(text);
  return Number.isNaN(value) ? 0 : value;
}

function stripSpaces(text: string): string {
  return text.replace(/^ +| +$/g, '');
}

function parseComparison(expression: string): Comparison | undefined {
  const split = (at: number, operator: Operator | undefined, width: number): Comparison | undefined =>
    operator === undefined
      ? undefined
      : { left: stripSpaces(expression.slice(0, at)), operator, right: stripSpaces(expression.slice(at + width)) };
  const followedByEquals = (at: number): boolean => expression[at + 1] === '=';

  let at = expression.indexOf('!');
  if (at >= 0) return split(at, followedByEquals(at) ? 'ne' : undefined, 2);
  at = expression.indexOf('>');
  if (at >= 0) return followedByEquals(at) ? split(at, 'ge', 2) : split(at, 'gt', 1);
  at = expression.indexOf('<');
  if (at >= 0) return followedByEquals(at) ? split(at, 'le', 2) : split(at, 'lt', 1);
  at = expression.indexOf('=');
  if (at >= 0) return split(at, followedByEquals(at) ? 'eq' : undefined, 2);
  return undefined;
}

function holds({ left, operator, right }: Comparison): boolean {
  const leftIsNumber = isFsNumber(left);
  const rightIsNumber = isFsNumber(right);
  const leftValue = leftIsNumber ? atof(left) : left.length;
  const rightValue = rightIsNumber ? atof(right) : right.length;
  switch (operator) {
    case 'eq':
      return !leftIsNumber && !rightIsNumber ? left === right : leftValue === rightValue;
    case 'ne':
      return !leftIsNumber && !rightIsNumber ? left !== right : leftValue !== rightValue;
    case 'gt':
      return leftValue > rightValue;
    case 'ge':
      return leftValue >= rightValue;
    case 'lt':
      return leftValue < rightValue;
    case 'le':
      return leftValue <= rightValue;
  }
}

/**
 * The `cond` API (`${cond(A OP B ? X : Y)}`), as in mod_commands.c: the first `?` becomes a `:` and the
 * text is split on `:` into at most three fields, so a `:` inside X ends X early. Numbers compare
 * numerically, two non-numbers as strings; when only one side is a number the other counts as its length.
 */
export function evaluateCond(args: string): string {
  const question = args.indexOf('?');
  if (question < 0) return '-ERR';
  const fields = separateString(`${args.slice(0, question)}:${args.slice(question + 1)}`, ':', 3);
  if (fields.length < 2) return '-ERR';
  const comparison = parseComparison(fields[0]);
  if (comparison === undefined) return '-ERR';
  const isTrue = holds(comparison);
  if (fields.length === 2) return isTrue ? fields[1] : '';
  return isTrue ? fields[1] : fields[2];
}
