/**
 * The acceptance interval of a two-sided binomial test: for X ~ Binomial(n, p), the counts `low..high` such that
 * P(X < low) <= alpha / 2 and P(X > high) <= alpha / 2, so a correct process falls outside with probability at most
 * `alpha`. Computed exactly from the probability mass function (no normal approximation).
 */
export function binomialAcceptance(n: number, p: number, alpha: number): { low: number; high: number } {
  if (!(Number.isInteger(n) && n > 0 && p > 0 && p < 1 && alpha > 0 && alpha < 1)) throw new RangeError('need n >= 1, 0 < p < 1, 0 < alpha < 1');
  const mass = [Math.pow(1 - p, n)];
  for (let k = 0; k < n; k++) mass.push((mass[k] * (n - k) * p) / ((k + 1) * (1 - p)));
  let low = 0;
  for (let tail = mass[0]; tail <= alpha / 2; tail += mass[++low]);
  let high = n;
  for (let tail = mass[n]; tail <= alpha / 2; tail += mass[--high]);
  return { low, high };
}
