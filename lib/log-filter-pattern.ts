/**
 * CloudWatch Logs filter patterns of the one kind voiceplane uses: terms, each double-quoted, all required. CloudWatch
 * matches such a pattern when every term occurs in the log event's message, case-sensitively, anywhere in it;
 * {@link matchesAllTermsPattern} implements that rule so tests can hold real log lines against the patterns deployed.
 */

/** The pattern matching events that contain every one of `terms`. */
export function allTermsPattern(terms: readonly string[]): string {
  if (terms.length === 0) throw new Error('terms must name at least one term (an empty pattern matches every event)');
  for (const term of terms) {
    if (term === '' || /["\\\s]/.test(term)) throw new Error(`terms must be non-empty, without quotes, backslashes or spaces, got ${JSON.stringify(term)}`);
  }
  return terms.map((term) => `"${term}"`).join(' ');
}

/** Whether CloudWatch Logs would count `event` for `pattern`, a pattern made by {@link allTermsPattern}. */
export function matchesAllTermsPattern(pattern: string, event: string): boolean {
  const terms = [...pattern.matchAll(/"([^"]+)"/g)].map((match) => match[1]);
  if (terms.length === 0 || pattern.replace(/"[^"]+"/g, '').trim() !== '') throw new Error(`not an all-terms pattern: ${pattern}`);
  return terms.every((term) => event.includes(term));
}
