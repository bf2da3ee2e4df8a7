/**
 * Accuracy of a policy on a list of tasks with greedy decoding (temperature-free argmax), as the held-out
 * validation and the base policy's warm-up check use it; accuracy per difficulty level too, for the levels
 * the task source gives.
 */
import type { Policy } from './policy/policy.js';
import type { SourceTask, TaskSource } from './taskSource.js';

export interface EvaluationResult {
  accuracy: number;
  reward: number;
  format: number;
  /** Accuracy per level, e.g. `perceptual/0`..`perceptual/3`, `reasoning/0`..`reasoning/3`. */
  perLevel: Record<string, number>;
}

/** Tokens of sequence s up to its valid length. */
export function responseTokens(responses: Int32Array, responseLength: number, length: number, s: number): Int32Array {
  return responses.subarray(s * responseLength, s * responseLength + length);
}

export async function evaluate(policy: Policy, source: TaskSource, tasks: readonly SourceTask[], chunk = 256): Promise<EvaluationResult> {
  let correct = 0;
  let reward = 0;
  let format = 0;
  const levelTotals: Record<string, [number, number]> = {};
  for (let start = 0; start < tasks.length; start += chunk) {
    const part = tasks.slice(start, start + chunk);
    const result = await policy.sample(source.inputs(part), { random: () => 0, greedy: true });
    part.forEach((task, s) => {
      const score = source.score(task, responseTokens(result.responses, result.responseLength, result.lengths[s], s));
      correct += score.accuracy;
      reward += score.reward;
      format += score.format;
      for (const [name, level] of Object.entries(task.levels)) {
        const totals = (levelTotals[`${name}/${level}`] ??= [0, 0]);
        totals[0] += score.accuracy;
        totals[1] += 1;
      }
    });
  }
  const n = Math.max(1, tasks.length);
  const perLevel = Object.fromEntries(Object.entries(levelTotals).sort().map(([key, [hits, total]]) => [key, hits / total]));
  return { accuracy: correct / n, reward: reward / n, format: format / n, perLevel };
}
