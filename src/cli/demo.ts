/**
 * `durian demo`: the maths on a generated batch, until a training session runs. Shows how often GRPO
 * gives extreme advantages on nearly all-right/all-wrong groups, and what Durian's shared stds do.
 */
import { ESTIMATOR_NAMES, type BucketSummary, computeAdvantages, spectralEntropy } from '../core/index.js';
import { formatTable } from './progress.js';
import { seededRandom, syntheticBatch } from './syntheticBatch.js';

export const DEMO_HELP = `durian demo [--prompts N] [--group-size G] [--seed S]

The Durian maths on a generated batch (no training, no model): how often each estimator gives extreme
advantages (|A| > 2), what a lone rollout of a 7:1 / 1:7 group gets, Durian's perceptual and reasoning
buckets with their pooled stds, and the spectral entropy of a plain vs a cluttered image.

Options:
  --prompts N       prompts in the batch (default 128)
  --group-size G    rollouts per prompt (default 8)
  --seed S          seed of the generated batch (default 1)
  --help            this text`;

export function runDemo(options: { prompts: number; groupSize: number; seed: number }, print: (line: string) => void): void {
  const { prompts, groupSize, seed } = options;
  const batch = syntheticBatch(prompts, groupSize, seed);
  print(`Durian demo: a generated batch of ${prompts} prompts x ${groupSize} rollouts (seed ${seed}), reward 0.1 format + 0.9 accuracy.`);

  const correctPerPrompt = Array.from({ length: prompts }, (_, p) => batch.accuracy.slice(p * groupSize, (p + 1) * groupSize).reduce((s, a) => s + a, 0));
  const allSame = correctPerPrompt.filter((c) => c === 0 || c === groupSize).length;
  const lopsided = correctPerPrompt.filter((c) => c === 1 || c === groupSize - 1);
  print(`  all-same groups: ${allSame} (${((100 * allSame) / prompts).toFixed(0)}%); ${groupSize - 1}:1 or 1:${groupSize - 1} groups: ${lopsided.length}`);
  print('');

  const rows: (string | number)[][] = [['estimator', 'mean |A|', 'max |A|', 'frac |A| > 2', `lone sample of ${groupSize - 1}:1 / 1:${groupSize - 1} (mean |A|)`]];
  for (const name of ESTIMATOR_NAMES) {
    const { advantages } = computeAdvantages(name, batch);
    const magnitudes = Array.from(advantages, Math.abs);
    const lone: number[] = [];
    correctPerPrompt.forEach((correct, p) => {
      if (correct !== 1 && correct !== groupSize - 1) return;
      const loneValue = correct === 1 ? 1 : 0;
      for (let i = 0; i < groupSize; i++) if (batch.accuracy[p * groupSize + i] === loneValue) lone.push(magnitudes[p * groupSize + i]);
    });
    rows.push([
      name,
      magnitudes.reduce((s, m) => s + m, 0) / magnitudes.length,
      Math.max(...magnitudes),
      magnitudes.filter((m) => m > 2).length / magnitudes.length,
      lone.length > 0 ? lone.reduce((s, m) => s + m, 0) / lone.length : '-',
    ]);
  }
  print(formatTable(rows));
  print('');

  const durian = computeAdvantages('durian', batch);
  const buckets = durian.explanation.buckets as { perceptual: BucketSummary[]; reasoning: BucketSummary[] };
  print(`Durian buckets (weights a_ori 0.1, a_perc 0.2, a_reas 0.7; ${String(durian.explanation.reasoningBins)} reasoning bins):`);
  const bucketRows: (string | number)[][] = [['kind', 'bucket', 'prompts', 'pooled rewards', 'pooled std', 'score range']];
  for (const [kind, list] of [['perceptual (entropy)', buckets.perceptual], ['reasoning (confidence)', buckets.reasoning]] as const) {
    for (const b of list) bucketRows.push([kind, String(b.bucket), b.prompts, b.pooledRewards, b.pooledStd, `${b.range[0].toFixed(2)} .. ${b.range[1].toFixed(2)}`]);
  }
  print(formatTable(bucketRows));
  print('');

  const worked = computeAdvantages('grpo', { index: Array(8).fill('p'), scores: [1, 1, 1, 1, 1, 1, 1, 0] }).advantages[7];
  print(`Worked example: a 7:1 group with binary rewards gives its lone wrong rollout A_grpo = ${worked.toFixed(4)} (std sqrt(1/8)).`);

  const random = seededRandom(seed);
  const simple = Array.from({ length: 64 * 32 }, (_, k) => ((k >> 5) % 8 === 0 && k % 32 < 3 ? 1 : 0) + 0.01 * random());
  const cluttered = simple.map((v) => v + 0.6 * random());
  print(
    `Spectral entropy of 64 x 32 patch features: a plain image ${spectralEntropy(simple, 64, 32).entropy.toFixed(3)}, ` +
      `the same with clutter ${spectralEntropy(cluttered, 64, 32).entropy.toFixed(3)} (max ln 32 = ${Math.log(32).toFixed(3)}).`,
  );
}
