const MAX_CACHED_EXPRESSIONS = 2000;
const compiled = new Map<string, RegExp | null>();

/**
 * Compiles a FreeSWITCH (PCRE) expression to a JavaScript RegExp, once: `/pattern/flags` and a leading
 * `(?i)` are understood, `(?P<name>` becomes `(?<name>`. An expression that does not compile never
 * matches, as switch_regex_perform reports a failed compilation as "no match".
 */
export function compileFsRegex(expression: string): RegExp | null {
  const cached = compiled.get(expression);
  if (cached !== undefined) return cached;
  if (compiled.size >= MAX_CACHED_EXPRESSIONS) compiled.clear();
  const regex = translate(expression);
  compiled.set(expression, regex);
  return regex;
}

function translate(expression: string): RegExp | null {
  let pattern = expression;
  let flags = '';
  if (pattern.startsWith('/')) {
    const closing = pattern.lastIndexOf('/');
    if (closing > 0) {
      const options = pattern.slice(closing + 1);
      if (options.includes('i')) flags += 'i';
      if (options.includes('s')) flags += 's';
      pattern = pattern.slice(1, closing);
    } else {
      pattern = pattern.slice(1);
    }
  }
  if (pattern.startsWith('(?i)')) {
    if (!flags.includes('i')) flags += 'i';
    pattern = pattern.slice(4);
  }
  try {
    return new RegExp(pattern.replace(/\(\?P</g, '(?<'), flags);
  } catch {
    return null;
  }
}

export function matchFsRegex(subject: string, expression: string): RegExpExecArray | null {
  const regex = compileFsRegex(expression);
  return regex === null ? null : regex.exec(subject);
}

/** switch_perform_substitution: `$N` and `${N}` become capture N (empty when absent); other `$` stay. */
export function substituteCaptures(template: string, match: RegExpExecArray): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    let j = i + 1;
    const braced = template[j] === '{';
    if (braced) j++;
    let digits = '';
    while (j < template.length && digits.length < 9 && template[j] >= '0' && template[j] <= '9') {
      digits += template[j];
      j++;
    }
    if (digits === '') {
      out += '$';
      i++;
      continue;
    }
    if (braced) j++;
    out += match[parseInt(digits, 10)] ?? '';
    i = j;
  }
  return out;
}
