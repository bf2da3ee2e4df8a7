/** What every policy's sample must be, checked the same way for each policy's sampler tests. */
import assert from 'node:assert/strict';
import type { SampleResult } from '../../../src/trainer/policy/sampler.js';

/**
 * Each sequence: 1..responseLength tokens, none of them padding, EOS only as its last token (and there unless
 * it ran to the full length), padding after it, and its sequence log-prob the mean of its token log-probs.
 */
export function assertWellFormedSample(result: SampleResult, eos: number): void {
  const length = result.responseLength;
  for (let s = 0; s < result.lengths.length; s++) {
    const row = Array.from(result.responses.subarray(s * length, (s + 1) * length));
    const n = result.lengths[s];
    assert.ok(n >= 1 && n <= length);
    assert.ok(row.slice(0, n).every((t) => t > 0), 'no pad inside the response');
    assert.ok(row.slice(0, n - 1).every((t) => t !== eos), 'EOS only at the end');
    if (n < length) assert.equal(row[n - 1], eos);
    assert.ok(row.slice(n).every((t) => t === 0), 'padding after the end');
    let sum = 0;
    for (let t = 0; t < n; t++) sum += result.tokenLogprobs[s * length + t];
    assert.ok(Math.abs(result.sequenceLogprobs[s] - sum / n) < 1e-9);
  }
}
