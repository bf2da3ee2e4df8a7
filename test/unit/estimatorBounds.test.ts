/**
 * Estimator options are bounded by the settings table's ranges (the same as live changes): a value such as
 * a Durian weight of 1e308, which used to make every advantage non-finite (every step skipped, `null` from
 * `durian advantages`), is refused with the field and the allowed range.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { computeAdvantages } from '../../src/core/index.js';
import { LIVE_RANGES } from '../../src/protocol/index.js';

const cli = path.resolve(__dirname, '../../dist/cli.js');
const batch = { index: ['a', 'a', 'b', 'b'], scores: [1, 0, 1, 1], visualEntropy: [1, 1, 2, 2], logprob: [-0.2, -0.4, -0.1, -0.1] };

describe('estimator option bounds', () => {
  it('src/core refuses a Durian weight above the live range and accepts the range maximum', () => {
    assert.throws(() => computeAdvantages('durian', batch, { weights: [1e308, 0.2, 0.7] }), /^DurianInputError: options\.weights\[0\]: \(a_ori\) must be >= 0 and <= 1000000, got 1e\+308$/);
    const atMax = computeAdvantages('durian', batch, { weights: [LIVE_RANGES.durianWeight.max, 0.2, 0.7] });
    assert.ok([...atMax.advantages].every(Number.isFinite));
    assert.throws(() => computeAdvantages('grpo', batch, { eps: 1e300 }), /options\.eps: must be >= 0 and <= 1, got 1e\+300$/);
  });

  it('durian advantages answers the line with the error instead of null advantages (dist/cli.js)', () => {
    const line = JSON.stringify({ estimator: 'durian', options: { weights: [1e308, 0.2, 0.7] }, ...batch });
    const result = spawnSync(process.execPath, [cli, 'advantages'], { input: `${line}\n`, encoding: 'utf8' });
    assert.equal(result.status, 1, result.stderr);
    const out = JSON.parse(result.stdout.trim()) as { error?: string; advantages?: unknown };
    assert.equal(out.advantages, undefined);
    assert.equal(out.error, 'line 1: options.weights[0]: (a_ori) must be >= 0 and <= 1000000, got 1e+308');
    assert.doesNotMatch(result.stdout, /null/);
  });
});
