/** Order statistics shared by the analyzers, compare-garp and the benchmarks. Inputs are never modified. */

const ascending = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

/** Median (mean of the two middle values for an even count); undefined for no values. */
export function median(xs: readonly number[]): number | undefined {
  if (!xs.length) return undefined;
  const s = ascending(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile (p in 0–100); undefined for no values. */
export function percentile(xs: readonly number[], p: number): number | undefined {
  if (!xs.length) return undefined;
  const s = ascending(xs);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

/** Linearly interpolated quantile (q in 0–1); NaN for no values. */
export function quantile(xs: readonly number[], q: number): number {
  if (!xs.length) return NaN;
  const s = ascending(xs);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}
