/**
 * Core maths benchmark: every estimator on a batch of 512 prompts x 8 rollouts, with Durian's ratio to
 * GRPO (same process, same batch), and the spectral entropy of a 256 x 64 feature matrix.
 * Targets (issue "Foundation"): durian < 2 ms per batch and within 3x of grpo; entropy < 5 ms.
 */
import { ESTIMATOR_NAMES, computeAdvantages, spectralEntropy } from '../../core/index.js';
import { seededRandom, syntheticBatch } from '../syntheticBatch.js';
import { type BenchRow, type BenchSuite, timeMedian, timeMediansInterleaved } from './types.js';

export const coreSuite: BenchSuite = {
  name: 'core',
  description: 'advantage estimators (512 prompts x 8 rollouts) and spectral entropy (256 x 64)',
  async run({ repeats }) {
    const batch = syntheticBatch(512, 8, 7);
    const rows: BenchRow[] = [];
    const times = timeMediansInterleaved(
      Object.fromEntries(ESTIMATOR_NAMES.map((name) => [name, () => computeAdvantages(name, batch)])),
      repeats,
    );
    for (const name of ESTIMATOR_NAMES) {
      const row: BenchRow = { suite: 'core', name: `${name} advantages, 512 x 8`, value: times[name], unit: 'ms/batch' };
      if (name !== 'grpo') {
        row.baseline = { name: 'grpo', value: times.grpo };
        row.ratio = times[name] / times.grpo;
      }
      if (name === 'durian') {
        row.target = '< 2 ms and <= 3x grpo';
        row.pass = times.durian < 2 && times.durian / times.grpo <= 3;
      }
      rows.push(row);
    }
    const random = seededRandom(3);
    const features = Float64Array.from({ length: 256 * 64 }, () => random());
    const entropyMs = timeMedian(() => spectralEntropy(features, 256, 64), repeats);
    rows.push({ suite: 'core', name: 'spectral entropy, 256 x 64', value: entropyMs, unit: 'ms', target: '< 5 ms', pass: entropyMs < 5 });
    return rows;
  },
};
