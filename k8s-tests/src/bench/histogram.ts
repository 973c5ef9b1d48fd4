// Quantiles of a Prometheus histogram between two snapshots of its cumulative bucket counts.

/**
 * The q-quantile (ms) of the decisions made between two histogram snapshots, interpolated inside
 * its bucket as Prometheus's histogram_quantile does; null when no decision was made.
 */
export function quantileMs(
  before: Map<number, number>,
  after: Map<number, number>,
  q: number,
): number | null {
  const les = [...after.keys()].sort((a, b) => a - b);
  const count = (le: number) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const total = count(Infinity);
  if (!(total > 0)) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const le of les) {
    const c = count(le);
    if (c >= rank) {
      if (le === Infinity) return Math.round(prevLe * 1000 * 10) / 10;
      const inBucket = c - prevCount;
      const frac = inBucket > 0 ? (rank - prevCount) / inBucket : 1;
      return Math.round((prevLe + (le - prevLe) * frac) * 1000 * 10) / 10;
    }
    prevLe = le;
    prevCount = c;
  }
  return null;
}
