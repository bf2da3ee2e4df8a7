/**
 * Accuracy of the policy on a list of prompts with greedy decoding (temperature-free argmax), as the
 * held-out validation and the base policy's warm-up check use it. Accuracy per difficulty level too.
 */
import type { PolicySampler, Weights } from './policy/index.js';
import type { PooledTask, TaskPool } from './taskPool.js';
import { scoreResponse } from './tasks/index.js';

export interface EvaluationResult {
  accuracy: number;
  reward: number;
  format: number;
  /** Accuracy per level: `perceptual/0`..`perceptual/3`, `reasoning/0`..`reasoning/3`. */
  perLevel: Record<string, number>;
}

/** Tokens of sequence s up to its valid length. */
export function responseTokens(responses: Int32Array, responseLength: number, length: number, s: number): Int32Array {
  return responses.subarray(s * responseLength, s * responseLength + length);
}

export async function evaluate(
  sampler: PolicySampler,
  weights: Weights,
  pool: TaskPool,
  prompts: readonly PooledTask[],
  chunk = 256,
): Promise<EvaluationResult> {
  let correct = 0;
  let reward = 0;
  let format = 0;
  const levelTotals: Record<string, [number, number]> = {};
  for (let start = 0; start < prompts.length; start += chunk) {
    const part = prompts.slice(start, start + chunk);
    const result = await sampler.sample(weights, pool.inputs(part), { random: () => 0, greedy: true });
    part.forEach((prompt, s) => {
      const score = scoreResponse(responseTokens(result.responses, result.responseLength, result.lengths[s], s), prompt.task);
      correct += score.accuracy;
      reward += score.reward;
      format += score.format;
      for (const key of [`perceptual/${prompt.task.perceptualLevel}`, `reasoning/${prompt.task.reasoningLevel}`]) {
        const totals = (levelTotals[key] ??= [0, 0]);
        totals[0] += score.accuracy;
        totals[1] += 1;
      }
    });
  }
  const n = Math.max(1, prompts.length);
  const perLevel = Object.fromEntries(Object.entries(levelTotals).sort().map(([key, [hits, total]]) => [key, hits / total]));
  return { accuracy: correct / n, reward: reward / n, format: format / n, perLevel };
}
