/**
 * The smoothing of the charts: TensorBoard's exponential moving average with debiasing, the same one W&B
 * calls "Exponential Moving Average (TensorBoard)". With weight w in [0, 1):
 *
 *   last_0 = 0,  last_n = w * last_{n-1} + (1 - w) * y_n,  smoothed_n = last_n / (1 - w^n)
 *
 * where n counts the finite points seen so far. Dividing by (1 - w^n) removes the pull towards the
 * zero the average starts from (Adam's bias correction), so the first points are not dragged down.
 * Non-finite points (a missing metric is NaN here) pass through unchanged and do not enter the
 * average; a series whose values are all equal is returned as is (no floating-point wobble), both as
 * TensorBoard's `resmoothDataset` does. The average runs over points, not over steps.
 */

/** The largest weight the slider offers: at 1 the average would never move (TensorBoard stops at 0.999). */
export const MAX_SMOOTHING = 0.999;

/** Below this, 1 - w^n === 1 in doubles: w^n is set to 0 instead of being multiplied on. */
const DEBIAS_FLUSH = 1e-17;

/** A weight clamped into [0, MAX_SMOOTHING]; NaN and other junk read as 0 (no smoothing). */
export function clampSmoothing(weight: number): number {
  if (!Number.isFinite(weight) || weight <= 0) return 0;
  return Math.min(weight, MAX_SMOOTHING);
}

/**
 * The debiased EMA of `values[0 .. length)`, written into `out` (allocated when absent or too short)
 * and returned as a view of exactly `length` entries.
 */
export function smoothEma(values: ArrayLike<number>, weight: number, length = values.length, out?: Float64Array): Float64Array {
  const target = out && out.length >= length ? out.subarray(0, length) : new Float64Array(length);
  const w = clampSmoothing(weight);
  if (w === 0 || isConstant(values, length)) {
    for (let i = 0; i < length; i++) target[i] = values[i];
    return target;
  }
  let last = 0;
  let debias = 1;
  for (let i = 0; i < length; i++) {
    const value = values[i];
    if (!Number.isFinite(value)) {
      target[i] = value;
      continue;
    }
    last = last * w + (1 - w) * value;
    // debias = w^n, kept as a running product instead of Math.pow per point; flushed to 0 once 1 - debias
    // is exactly 1 (below it, it would sink into subnormal numbers, which are ~100x slower to multiply).
    debias = debias < DEBIAS_FLUSH ? 0 : debias * w;
    target[i] = last / (1 - debias);
  }
  return target;
}

/** Whether every one of the first `length` values equals the first (TensorBoard's `isConstant`). */
function isConstant(values: ArrayLike<number>, length: number): boolean {
  for (let i = 1; i < length; i++) if (values[i] !== values[0]) return false;
  return true;
}

/**
 * The same smoothing, computed as a series grows: appending points costs only the new points, since
 * the average is causal (a point's smoothed value depends on the points before it only). Call `reset`
 * when earlier points changed (a rewind). One instance per series.
 */
export class IncrementalEma {
  private buffer = new Float64Array(0);
  private length = 0;
  private weight = NaN;
  private last = 0;
  /** w^n, the debiasing term of the points seen so far. */
  private debias = 1;
  /** Every value so far equals the first: the output is the input (TensorBoard's constant rule). */
  private constant = true;
  /** The first index whose output changed in the last `smooth` call. */
  changedFrom = 0;

  /** Forgets everything: the next `smooth` starts from the first point. */
  reset(): void {
    this.length = 0;
  }

  /**
   * The smoothed values of `values[0 .. length)`, equal to `smoothEma(values, weight, length)`, as a
   * view of an internal buffer (valid until the next call). `changedFrom` tells what changed since
   * the previous call.
   */
  smooth(values: ArrayLike<number>, weight: number, length = values.length): Float64Array {
    const w = clampSmoothing(weight);
    if (w !== this.weight || length < this.length) {
      this.weight = w;
      this.length = 0;
    }
    if (this.buffer.length < length) {
      const bigger = new Float64Array(Math.max(length, this.buffer.length * 2, 256));
      bigger.set(this.buffer.subarray(0, this.length));
      this.buffer = bigger;
    }
    const from = this.length;
    this.changedFrom = from;
    if (from === 0) {
      this.last = 0;
      this.debias = 1;
      this.constant = true;
    }
    for (let i = from; i < length; i++) {
      if (this.constant && i > 0 && values[i] !== values[0]) {
        // The series stopped being constant: its earlier points are smoothed after all.
        this.constant = false;
        this.last = 0;
        this.debias = 1;
        this.advance(values, 0, i);
        this.changedFrom = 0;
      }
      if (this.constant) this.buffer[i] = values[i];
      else this.advance(values, i, i + 1);
    }
    this.length = length;
    return this.buffer.subarray(0, length);
  }

  private advance(values: ArrayLike<number>, from: number, to: number): void {
    const w = this.weight;
    for (let i = from; i < to; i++) {
      const value = values[i];
      if (!Number.isFinite(value)) {
        this.buffer[i] = value;
        continue;
      }
      this.last = this.last * w + (1 - w) * value;
      this.debias = this.debias < DEBIAS_FLUSH ? 0 : this.debias * w;
      this.buffer[i] = this.last / (1 - this.debias);
    }
  }
}
