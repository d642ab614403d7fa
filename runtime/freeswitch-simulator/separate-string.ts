const ESCAPE = '\\';

/**
 * Splits `text` the way FreeSWITCH's switch_separate_string does: single quotes group, a backslash
 * escapes the next character, each field is trimmed and unquoted, and the last allowed field keeps
 * the rest of the text (so `db insert/r/k/a/b` gives the value `a/b`). A blank delimiter collapses
 * runs of spaces.
 */
export function separateString(text: string, delimiter: string, limit: number): string[] {
  const fields = delimiter === ' ' ? splitOnBlanks(text, limit) : splitOnCharacter(text, delimiter, limit);
  return fields.map((field) => cleanField(field, delimiter === ' ' ? undefined : delimiter));
}

function splitOnCharacter(text: string, delimiter: string, limit: number): string[] {
  const fields: string[] = [];
  let count = 0;
  let fieldStart = 0;
  let findingDelimiter = false;
  let insideQuotes = false;
  let i = 0;
  while (i < text.length && count < limit) {
    if (!findingDelimiter) {
      count++;
      fieldStart = i;
      findingDelimiter = true;
      continue;
    }
    const c = text[i];
    if (c === ESCAPE) {
      i++;
    } else if (c === "'" && (insideQuotes || text.indexOf("'", i + 1) !== -1)) {
      insideQuotes = !insideQuotes;
    } else if (c === delimiter && !insideQuotes) {
      fields.push(text.slice(fieldStart, i));
      findingDelimiter = false;
    }
    i++;
  }
  if (findingDelimiter) fields.push(text.slice(fieldStart));
  return fields;
}

function splitOnBlanks(text: string, limit: number): string[] {
  const fields: string[] = [];
  let count = 0;
  let fieldStart = 0;
  let state: 'skip-leading' | 'find-delimiter' | 'skip-trailing' = 'skip-leading';
  let insideQuotes = false;
  let i = 0;
  while (i < text.length && count < limit) {
    const c = text[i];
    if (state === 'skip-leading') {
      if (c === ' ') {
        i++;
      } else {
        state = 'find-delimiter';
        count++;
        fieldStart = i;
      }
    } else if (state === 'find-delimiter') {
      if (c === ESCAPE) {
        i++;
      } else if (c === "'") {
        insideQuotes = !insideQuotes;
      } else if (c === ' ' && !insideQuotes) {
        fields.push(text.slice(fieldStart, i));
        state = 'skip-trailing';
      }
      i++;
    } else if (c === ' ') {
      i++;
    } else {
      state = 'skip-leading';
    }
  }
  if (state === 'find-delimiter') fields.push(text.slice(fieldStart));
  return fields;
}

function unescapeCharacter(c: string): string {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 's':
      return ' ';
    default:
      return c;
  }
}

function cleanField(field: string, delimiter: string | undefined): string {
  let i = 0;
  while (field[i] === ' ') i++;
  let out = '';
  let keptLength = 0;
  let insideQuotes = false;
  for (; i < field.length; i++) {
    const c = field[i];
    if (c === ESCAPE && i + 1 < field.length) {
      const next = field[i + 1];
      const unescaped = unescapeCharacter(next);
      if (next === "'" || next === '"' || next === delimiter || next === ESCAPE || unescaped !== next) {
        out += unescaped;
        keptLength = out.length;
        i++;
        continue;
      }
    }
    if (c === "'" && (insideQuotes || field.indexOf("'", i + 1) !== -1)) {
      insideQuotes = !insideQuotes;
      if (insideQuotes) keptLength = out.length;
    } else {
      out += c;
      if (c !== ' ' || insideQuotes) keptLength = out.length;
    }
  }
  return out.slice(0, keptLength);
}
