/**
 * Seeded generators for property-style tests: the same seed gives the same values, so a failure names a seed that
 * reproduces it. Values are biased towards the edges of the rules (separators first and last, upper case, lengths at
 * the limits) rather than uniformly random, which would almost never be valid.
 */

export type Random = () => number;

/** mulberry32: a small, fast 32-bit generator, deterministic for a seed. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: Random, choices: readonly T[]): T {
  return choices[Math.floor(random() * choices.length)];
}

/** Text of `minLength..maxLength` characters, each from one of the weighted alphabets. */
export function text(random: Random, alphabets: readonly (readonly [string, number])[], minLength: number, maxLength: number): string {
  const total = alphabets.reduce((sum, [, weight]) => sum + weight, 0);
  const length = minLength + Math.floor(random() * (maxLength - minLength + 1));
  return Array.from({ length }, () => {
    let roll = random() * total;
    const [alphabet] = alphabets.find(([, weight]) => (roll -= weight) < 0) ?? alphabets[alphabets.length - 1];
    return pick(random, [...alphabet]);
  }).join('');
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';

/** A candidate id: mostly lowercase letters, digits and dashes, sometimes too long, upper case or with another separator. */
export function candidateId(random: Random): string {
  return text(random, [[LOWER, 12], [DIGITS, 3], ['-', 2], ['A_.Z', 0.3]], 1, random() < 0.1 ? 40 : 31);
}

/** A candidate image tag: letters, digits and separators in any position, sometimes `+`, ':' or too long. */
export function candidateTag(random: Random): string {
  return text(random, [[LOWER + 'ABC', 8], [DIGITS, 6], ['._-', 3], ['+:@ ', 0.2]], 1, random() < 0.05 ? 140 : 12);
}

/** A candidate image repository: path components, sometimes behind a registry with a port, sometimes malformed. */
export function candidateRepository(random: Random): string {
  const component = () => text(random, [[LOWER, 10], [DIGITS, 2], ['._-', 1.5], ['A:', 0.1]], 1, 10);
  const registry = pick(random, ['', '', 'public.ecr.aws/', '123456789012.dkr.ecr.us-east-1.amazonaws.com/', 'localhost:5000/', 'Registry.Example:99/']);
  return `${registry}${Array.from({ length: 1 + Math.floor(random() * 3) }, component).join('/')}`;
}
