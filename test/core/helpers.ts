/** Builders shared by the core tests. */
import type { SequenceBatch } from '../../src/core/index.js';

/** A batch of prompts given as reward lists; entropy and confidence per prompt (repeated per rollout). */
export function batchOf(
  groups: number[][],
  difficulty: { entropy?: number[]; confidence?: number[] } = {},
): SequenceBatch & { index: string[]; scores: number[]; visualEntropy: number[]; logprob: number[] } {
  const index: string[] = [];
  const scores: number[] = [];
  const visualEntropy: number[] = [];
  const logprob: number[] = [];
  groups.forEach((rewards, g) => {
    for (const r of rewards) {
      index.push(`p${g}`);
      scores.push(r);
      visualEntropy.push(difficulty.entropy?.[g] ?? g);
      logprob.push(difficulty.confidence?.[g] ?? -g);
    }
  });
  return { index, scores, visualEntropy, logprob };
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-9, label = ''): void {
  if (actual.length !== expected.length) throw new Error(`${label} length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= tolerance * Math.max(1, Math.abs(expected[i])))) {
      throw new Error(`${label}[${i}]: ${actual[i]} != ${expected[i]} (diff ${diff})`);
    }
  }
}
