/**
 * The tooltips of the Rollout Groups panel: every column and row label of its tables, every difficulty
 * fact and every badge says what it is, in one place.
 */
import { EXTREME_ADVANTAGE } from '../../src/protocol/webview.js';
import type { GroupSummary } from './state.js';

/** Rows of a group's rollout table (its first column), by label. */
export const ROLLOUT_ROW_TITLES: Record<string, string> = {
  '#': 'Rollout number within the group (its columns)',
  reward: 'Reward of the rollout (accuracy and format); * marks a reward override',
  logp: 'Mean log-probability of the response’s tokens under the policy',
  A: 'Advantage under the trainer’s estimator (group weight applied): what the update used',
  'A grpo': 'Plain GRPO advantage, (reward − group mean) / group std, for comparison',
  ori: 'Durian’s GRPO term (weighted by a_ori)',
  perc: 'Durian’s perceptual term: reward normalised by the pooled std of its visual-entropy bucket (weighted by a_perc)',
  reas: 'Durian’s reasoning term: reward normalised by the pooled std of its confidence bin (weighted by a_reas)',
  preview: 'Advantage with the edited coefficients (Preview), recomputed here',
};

/** The difficulty facts beside each group, by label. */
export const FACT_TITLES: Record<string, string> = {
  entropy: 'Visual entropy of the image and its perceptual bucket (low, mid, high)',
  confidence: 'Policy confidence (mean log-probability) and its equal-frequency reasoning bin',
  accuracy: 'Rollouts with accuracy ≥ 0.5, of the group’s rollouts (mean accuracy)',
  std: 'Standard deviation of the group’s rewards (0: no GRPO signal)',
  pooled: 'Pooled reward std of the group’s perceptual bucket and of its reasoning bin (Durian)',
};

/** Columns of a prompt's history table, by header. */
export const HISTORY_TITLES: Record<string, string> = {
  step: 'Step at which the prompt was drawn',
  accuracy: 'Mean accuracy of its rollouts at that step',
  reward: 'Mean reward of its rollouts at that step',
  weight: 'Group weight at that step (0 or excluded: left out of the update)',
  advantages: 'Advantage of each rollout under that step’s estimator',
};

/** What an extreme badge (`7:1`, `1:7`, `zero variance`) means. */
export function extremeTitle(summary: GroupSummary): string | undefined {
  const { extreme, total } = summary;
  if (!extreme) return undefined;
  if (extreme === 'zero variance') return 'Zero variance: every rollout got the same reward, so GRPO gives them all advantage 0 (no signal); Durian’s pooled terms may still give one';
  const others = total - 1;
  return extreme.startsWith('1:')
    ? `1:${others}: one rollout of ${total} right, ${others} wrong: under GRPO the lone right one gets a large positive advantage (|A| = ${(others / Math.sqrt(total)).toFixed(2)} with 0/1 rewards)`
    : `${others}:1: ${others} rollouts of ${total} right, one wrong: under GRPO the lone wrong one gets a large negative advantage (|A| = ${(others / Math.sqrt(total)).toFixed(2)} with 0/1 rewards)`;
}

/** The "Extremes only" filter's tooltip: the same threshold as the Dashboard's "Extreme advantages" chart. */
export const EXTREMES_ONLY_TITLE = `Only groups with a rollout whose |advantage| (the trainer’s) exceeds ${EXTREME_ADVANTAGE}, as the Dashboard’s "Extreme advantages |A| > ${EXTREME_ADVANTAGE}" chart counts`;
