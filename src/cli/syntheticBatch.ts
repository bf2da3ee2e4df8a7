/**
 * A generated batch that behaves like an RLVR batch of a vision-language policy: each prompt has a
 * perceptual and a reasoning difficulty; harder prompts are answered correctly less often, give
 * higher visual entropy and lower confidence. Used by `durian demo` and the benchmarks.
 */
import type { SequenceBatch } from '../core/index.js';

/** mulberry32: small, fast, deterministic. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticBatch extends SequenceBatch {
  index: string[];
  scores: number[];
  lengths: number[];
  visualEntropy: number[];
  logprob: number[];
  accuracy: number[];
  perceptualDifficulty: number[];
  reasoningDifficulty: number[];
}

export function syntheticBatch(prompts: number, groupSize: number, seed = 1): SyntheticBatch {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const batch: SyntheticBatch = {
    index: [], scores: [], lengths: [], visualEntropy: [], logprob: [], accuracy: [],
    perceptualDifficulty: [], reasoningDifficulty: [],
  };
  for (let p = 0; p < prompts; p++) {
    const perceptual = random();
    const reasoning = random();
    const entropy = 1.5 + 2.5 * perceptual + 0.3 * gaussian();
    const logit = 3 - 4 * perceptual - 4 * reasoning + 0.8 * gaussian();
    const pCorrect = 1 / (1 + Math.exp(-logit));
    batch.perceptualDifficulty.push(perceptual);
    batch.reasoningDifficulty.push(reasoning);
    for (let i = 0; i < groupSize; i++) {
      const correct = random() < pCorrect ? 1 : 0;
      const formatted = correct || random() < 0.9 ? 1 : 0;
      batch.index.push(`p${p}`);
      batch.accuracy.push(correct);
      batch.scores.push(0.1 * formatted + 0.9 * correct);
      batch.lengths.push(4 + Math.floor(random() * 5) + Math.round(4 * reasoning));
      batch.visualEntropy.push(entropy);
      batch.logprob.push(-(0.15 + 1.2 * reasoning + 0.4 * (1 - correct)) * (0.8 + 0.4 * random()));
    }
  }
  return batch;
}
