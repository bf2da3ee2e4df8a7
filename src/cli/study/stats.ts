/**
 * Statistics of `durian study`: summaries over seeds, Student's t distribution (CDF through the
 * regularized incomplete beta function, quantiles by bisection on it) and the paired t-test with the
 * mean difference's confidence interval, on src/core's mean and std. (Kept here rather than in src/core,
 * which holds the estimators' maths; nothing else needs these yet.)
 */
import { mean, unbiasedStd } from '../../core/index.js';

export interface Summary {
  n: number;
  mean: number;
  /** Unbiased (n - 1) sample std; NaN for n < 2. */
  std: number;
  min: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  const finite = values.filter((v) => Number.isFinite(v));
  const n = finite.length;
  if (n === 0) return { n: 0, mean: Number.NaN, std: Number.NaN, min: Number.NaN, max: Number.NaN };
  return { n, mean: mean(finite), std: n < 2 ? Number.NaN : unbiasedStd(finite), min: Math.min(...finite), max: Math.max(...finite) };
}

/** Population-free sample variance (n - 1) of the finite values; NaN for fewer than two. */
export function sampleVariance(values: readonly number[]): number {
  const s = summarize(values);
  return s.n < 2 ? Number.NaN : s.std * s.std;
}

const LANCZOS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Gamma(x) for x > 0 (Lanczos, g = 7, n = 9; ~15 significant digits). */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = 0.99999999999980993;
  const t = z + 7.5;
  for (let i = 0; i < LANCZOS.length; i++) a += LANCZOS[i] / (z + i + 1);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const front = Math.exp(logFront);
  // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T <= t) for Student's t with df > 0 degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0) || Number.isNaN(t)) return Number.NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Two-sided p-value P(|T| >= |t|), computed directly (no 1 - cdf cancellation for large |t|). */
export function studentTTwoSidedP(t: number, df: number): number {
  if (!(df > 0) || Number.isNaN(t)) return Number.NaN;
  if (!Number.isFinite(t)) return 0;
  return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** The q-quantile of Student's t (0 < q < 1), by bisection on the CDF to ~1e-12. */
export function studentTQuantile(q: number, df: number): number {
  if (!(q > 0 && q < 1) || !(df > 0)) return Number.NaN;
  if (q === 0.5) return 0;
  if (q < 0.5) return -studentTQuantile(1 - q, df);
  let low = 0;
  let high = 1;
  while (studentTCdf(high, df) < q) {
    high *= 2;
    if (high > 1e12) return Infinity;
  }
  for (let i = 0; i < 200 && high - low > 1e-12 * Math.max(1, high); i++) {
    const mid = (low + high) / 2;
    if (studentTCdf(mid, df) < q) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

export type PairedTest =
  | {
      possible: true;
      n: number;
      /** Mean of a - b over the pairs. */
      meanDiff: number;
      /** Std (n - 1) of the differences. */
      sdDiff: number;
      t: number;
      df: number;
      /** Two-sided p-value. */
      p: number;
      /** 95% confidence interval of the mean difference. */
      ci95: [number, number];
      /** Set when every difference is the same (the t statistic is degenerate). */
      note?: string;
    }
  | { possible: false; n: number; meanDiff: number; reason: string };

/**
 * Paired two-sided t-test of a against b (pairs a[i], b[i]; non-finite pairs left out). With fewer than
 * two pairs the test is impossible. When all differences are equal the std is 0: identical runs give
 * t = 0, p = 1; a constant non-zero difference gives |t| = infinity, p = 0 (both flagged in `note`).
 */
export function pairedTTest(a: readonly number[], b: readonly number[], confidence = 0.95): PairedTest {
  if (a.length !== b.length) throw new Error(`pairedTTest: ${a.length} values against ${b.length}; pairs must match`);
  const diffs: number[] = [];
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i])) diffs.push(a[i] - b[i]);
  const n = diffs.length;
  const meanDiff = n === 0 ? Number.NaN : mean(diffs);
  if (n < 2) return { possible: false, n, meanDiff, reason: `a paired test needs at least 2 pairs (seeds), got ${n}` };
  const sdDiff = unbiasedStd(diffs);
  const df = n - 1;
  const tCrit = studentTQuantile(1 - (1 - confidence) / 2, df);
  // Differences that agree to rounding count as constant.
  const constant = sdDiff <= 1e-12 * Math.max(1, Math.abs(meanDiff));
  if (constant) {
    const zero = Math.abs(meanDiff) <= 1e-12;
    return {
      possible: true,
      n,
      meanDiff,
      sdDiff: 0,
      t: zero ? 0 : Math.sign(meanDiff) * Infinity,
      df,
      p: zero ? 1 : 0,
      ci95: [meanDiff, meanDiff],
      note: zero ? 'every pair is identical' : 'every pair differs by the same amount (zero variance)',
    };
  }
  const se = sdDiff / Math.sqrt(n);
  const t = meanDiff / se;
  return { possible: true, n, meanDiff, sdDiff, t, df, p: studentTTwoSidedP(t, df), ci95: [meanDiff - tCrit * se, meanDiff + tCrit * se] };
}

/**
 * A pre-registered comparison's verdict: **better** / **worse** when the Holm-adjusted two-sided p is below alpha
 * (sign of the mean difference); **equivalent** when the Holm-adjusted equivalence p (TOST against +-margin) is
 * below alpha; **inconclusive** otherwise (no significant difference is NOT a tie); untestable below 2 pairs.
 */
export type Verdict = 'better' | 'worse' | 'equivalent' | 'inconclusive' | 'untestable';

/** The equivalence margin of the study's comparisons: +-2 points of accuracy (a fraction). */
export const EQUIVALENCE_MARGIN = 0.02;

/**
 * Two one-sided tests (TOST) of |mean difference| < margin: the larger of the two one-sided p-values
 * (H0: diff <= -margin, H0: diff >= +margin). Zero-variance differences: 0 inside the margin, 1 outside.
 */
export function equivalenceP(test: PairedTest, margin: number): number {
  if (!test.possible) return Number.NaN;
  if (test.sdDiff === 0) return Math.abs(test.meanDiff) < margin ? 0 : 1;
  const se = test.sdDiff / Math.sqrt(test.n);
  const lower = 1 - studentTCdf((test.meanDiff + margin) / se, test.df);
  const upper = studentTCdf((test.meanDiff - margin) / se, test.df);
  return Math.max(lower, upper);
}

/** Holm's step-down adjustment of a family of p-values (NaN entries stay NaN and do not count in the family). */
export function holmAdjust(pValues: readonly number[]): number[] {
  const order = pValues.map((p, i) => [p, i] as const).filter(([p]) => Number.isFinite(p)).sort((a, b) => a[0] - b[0]);
  const adjusted = pValues.map(() => Number.NaN);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (order.length - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/** The verdict from Holm-adjusted p-values (difference and equivalence) of one comparison. */
export function verdictOf(test: PairedTest, adjustedP: number, adjustedEquivalenceP: number, alpha = 0.05): Verdict {
  if (!test.possible) return 'untestable';
  if (adjustedP < alpha && test.meanDiff > 0) return 'better';
  if (adjustedP < alpha && test.meanDiff < 0) return 'worse';
  if (adjustedEquivalenceP < alpha) return 'equivalent';
  return 'inconclusive';
}

/** Centred moving average over a window of `window` points (shrinking at the ends); NaNs skipped. */
export function movingAverage(values: readonly number[], window: number): number[] {
  const half = Math.max(0, Math.floor(window / 2));
  return values.map((_, i) => {
    let total = 0;
    let count = 0;
    for (let j = Math.max(0, i - half); j <= Math.min(values.length - 1, i + half); j++) {
      if (Number.isFinite(values[j])) {
        total += values[j];
        count++;
      }
    }
    return count > 0 ? total / count : Number.NaN;
  });
}
