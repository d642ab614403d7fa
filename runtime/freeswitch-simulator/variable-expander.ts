/** Where `${name}` and `${function(args)}` get their values during expansion. */
export interface VariableScope {
  lookup(name: string): string | undefined;
  callFunction(name: string, args: string): string | undefined;
}

const MAX_DEPTH = 100;

/**
 * switch_channel_expand_variables: replaces every `${...}` (braces may nest) with the variable's value
 * or, for `${name(args)}`, the output of API `name` run with the expanded args. Unknown names expand to
 * nothing; `${var:offset[:length]}` takes a substring; text without `${` is returned untouched.
 */
export function expandVariables(text: string, scope: VariableScope, depth = 0): string {
  if (depth > MAX_DEPTH || !text.includes('${')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf('${', i);
    if (start < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, start);
    const end = findClosingBrace(text, start + 1);
    if (end < 0) {
      out += text.slice(start);
      break;
    }
    out += resolveReference(text.slice(start + 2, end), scope, depth);
    i = end + 1;
  }
  return out;
}

function findClosingBrace(text: string, openBrace: number): number {
  let depth = 0;
  for (let i = openBrace; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function resolveReference(reference: string, scope: VariableScope, depth: number): string {
  const paren = reference.indexOf('(');
  if (paren >= 0) {
    const name = reference.slice(0, paren).trimEnd();
    const args = expandVariables(argumentsOf(reference, paren + 1), scope, depth + 1);
    return scope.callFunction(name, args) ?? '';
  }
  const expandedName = expandVariables(reference, scope, depth + 1);
  const substring = /^([^:]*):(-?\d+)(?::(\d+))?$/.exec(expandedName);
  if (substring === null) return scope.lookup(expandedName) ?? '';
  const value = scope.lookup(substring[1]) ?? '';
  const offset = parseInt(substring[2], 10);
  const from = offset < 0 ? Math.max(0, value.length + offset) : offset;
  return substring[3] === undefined ? value.slice(from) : value.slice(from, from + parseInt(substring[3], 10));
}

function argumentsOf(reference: string, from: number): string {
  let depth = 1;
  for (let i = from; i < reference.length; i++) {
    if (reference[i] === '(') depth++;
    else if (reference[i] === ')' && --depth === 0) return reference.slice(from, i);
  }
  return reference.slice(from);
}
