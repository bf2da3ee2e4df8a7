/** Small float64 statistics helpers shared by the estimators, difficulty scores and benchmarks. */

export function sum(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}

export function mean(values: ArrayLike<number>): number {
  return values.length === 0 ? 0 : sum(values) / values.length;
}

/** True when every value (or every value at `at`) equals the first (a zero-variance group). */
export function allEqual(values: ArrayLike<number>, at?: ArrayLike<number>): boolean {
  const n = at ? at.length : values.length;
  if (n === 0) return true;
  const first = at ? values[at[0]] : values[0];
  for (let i = 1; i < n; i++) if ((at ? values[at[i]] : values[i]) !== first) return false;
  return true;
}

/**
 * Unbiased (n - 1) sample standard deviation of `values` (or of the values at positions `at`, so a
 * group's std needs no copy), two-pass, on values scaled by their largest magnitude so that neither
 * huge nor subnormal rewards overflow or underflow to a zero std. Returns 0 for fewer than two values
 * and for identical values (exactly, so a zero-variance group never yields a rounding-noise std).
 */
export function unbiasedStd(values: ArrayLike<number>, at?: ArrayLike<number>): number {
  const n = at ? at.length : values.length;
  if (n < 2 || allEqual(values, at)) return 0;
  let scale = 0;
  let total = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(at ? values[at[i]] : values[i]));
  for (let i = 0; i < n; i++) total += (at ? values[at[i]] : values[i]) / scale;
  const m = total / n;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const d = (at ? values[at[i]] : values[i]) / scale - m;
    squares += d * d;
  }
  return Math.sqrt(squares / (n - 1)) * scale;
}

/** n / d, or 0 when d is not positive (a zero std: the numerator is 0 up to rounding). */
export function divideByStd(numerator: number, denominator: number): number {
  return denominator > 0 ? numerator / denominator : 0;
}

/** Median of a copy of the values (the benchmarks report medians). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Linear-interpolation quantile (numpy's default), q in [0, 1]. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lower = Math.floor(position);
  const upper = Math.min(sorted.length - 1, lower + 1);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

/** Ranks with ties averaged (1-based), for Spearman's correlation. */
function averageRanks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && values[order[end + 1]] === values[order[start]]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]] = rank;
    start = end + 1;
  }
  return ranks;
}

/** Pearson correlation; 0 when either side has no variance. */
function pearson(x: readonly number[], y: readonly number[]): number {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
}

/** Spearman's rank correlation (Pearson on average ranks). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  return pearson(averageRanks(x), averageRanks(y));
}
