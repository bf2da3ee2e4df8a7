/**
 * Which charts the Dashboard draws and what goes on each: a table of data, no drawing. Metric names
 * are the trainer's (verl style); a series whose metric never arrived is left out, and a chart with
 * no series at all is not shown.
 */
import { EXTREME_ADVANTAGE } from '../../src/protocol/webview.js';
import { PER_LEVEL_PREFIX, VALIDATION_ACCURACY, VALIDATION_REWARD } from './state.js';

/**
 * Colours of the VS Code theme's chart palette (`--vscode-charts-<name>`), the terminal's cyan (the
 * palette has only six hues) and the text colour: every theme, light, dark or high-contrast, sets them
 * for its own background.
 */
export const THEME_COLOR_NAMES = ['blue', 'orange', 'green', 'purple', 'red', 'yellow', 'cyan', 'foreground'] as const;
export type ThemeColorName = (typeof THEME_COLOR_NAMES)[number];

/** Eight distinct colours, in order, for charts with one series per item (validation per level). */
export const SERIES_PALETTE: readonly ThemeColorName[] = ['blue', 'orange', 'green', 'purple', 'red', 'cyan', 'yellow', 'foreground'];
/** Dashes of the series past the palette's length (a ninth level is dashed blue, and so on). */
export const PALETTE_DASHES: readonly (number[] | undefined)[] = [undefined, [6, 3], [2, 2]];

export interface SeriesSpec {
  /** Which table of the model holds it. */
  table: 'train' | 'validation';
  /** The column: a metric name, or a validation column. */
  column: string;
  label: string;
  color: ThemeColorName;
  /** Whether the smoothing slider applies (validation points are few and drawn as they are). */
  smooth: boolean;
  /** Draw points at every value and join them across the steps where the series has none. */
  sparse?: boolean;
  dash?: number[];
}

export interface ChartSpec {
  id: string;
  title: string;
  /** One line of explanation, shown as the title's tooltip. */
  description: string;
  series: SeriesSpec[];
  /** Adds a series for every column of `table` starting with `prefix` (e.g. validation accuracy per level). */
  columnsWithPrefix?: { table: 'train' | 'validation'; prefix: string; smooth: boolean; sparse: boolean };
}

const train = (column: string, label: string, color: ThemeColorName, dash?: number[]): SeriesSpec => ({
  table: 'train',
  column,
  label,
  color,
  smooth: true,
  dash,
});

const validation = (column: string, label: string, color: ThemeColorName): SeriesSpec => ({
  table: 'validation',
  column,
  label,
  color,
  smooth: false,
  sparse: true,
});

export const CHART_SPECS: readonly ChartSpec[] = [
  {
    id: 'reward',
    title: 'Reward',
    description: 'Mean reward of the rollouts (train) and of the held-out set (validation).',
    series: [train('reward/mean', 'train', 'blue'), validation(VALIDATION_REWARD, 'validation', 'orange')],
  },
  {
    id: 'accuracy',
    title: 'Accuracy',
    description: 'Fraction of right answers (train, validation) and of well-formatted answers (format).',
    series: [
      train('accuracy/mean', 'train', 'blue'),
      validation(VALIDATION_ACCURACY, 'validation', 'orange'),
      train('format/mean', 'format', 'green', [4, 4]),
    ],
  },
  {
    id: 'losses',
    title: 'Losses',
    description: 'Policy-gradient loss and KL loss of the update.',
    series: [train('actor/pg_loss', 'pg_loss', 'blue'), train('actor/kl_loss', 'kl_loss', 'purple')],
  },
  {
    id: 'kl',
    title: 'KL',
    description: 'KL to the reference policy (k3 estimate) and between the rollout and updated policy (PPO KL).',
    series: [train('actor/kl_loss', 'to reference', 'purple'), train('actor/ppo_kl', 'ppo_kl', 'red')],
  },
  {
    id: 'entropy',
    title: 'Entropy',
    description: 'Mean token entropy of the policy.',
    series: [train('actor/entropy', 'entropy', 'green')],
  },
  {
    id: 'grad-norm',
    title: 'Grad norm',
    description: 'Gradient norm of the update, before clipping.',
    series: [train('actor/grad_norm', 'grad_norm', 'red')],
  },
  {
    id: 'zero-std',
    title: 'Zero-std groups',
    description: 'Fraction of prompts whose rollouts all got the same reward (no GRPO signal).',
    series: [train('frac_reward_zero_std', 'frac_reward_zero_std', 'yellow')],
  },
  {
    id: 'extreme-advantages',
    title: `Extreme advantages |A| > ${EXTREME_ADVANTAGE}`,
    description: `Fraction of rollouts with |advantage| > ${EXTREME_ADVANTAGE} under the active estimator, and under plain GRPO for comparison (the Rollout Groups' "Extremes only" shows these groups).`,
    series: [
      train('critic/advantages/frac_abs_gt_2', 'active estimator', 'blue'),
      train('critic/advantages_grpo/frac_abs_gt_2', 'grpo', 'foreground', [4, 4]),
    ],
  },
  {
    id: 'throughput',
    title: 'Throughput',
    description: 'Tokens per second of the whole step (perf/throughput).',
    series: [train('perf/throughput', 'throughput', 'green')],
  },
  {
    id: 'advantages',
    title: 'Advantages',
    description: 'Mean, largest and smallest advantage of the batch under the active estimator.',
    series: [
      train('critic/advantages/max', 'max', 'green'),
      train('critic/advantages/mean', 'mean', 'blue'),
      train('critic/advantages/min', 'min', 'red'),
    ],
  },
  {
    id: 'response-length',
    title: 'Response length',
    description: 'Mean response length in tokens.',
    series: [train('response_length/mean', 'mean', 'purple')],
  },
  {
    id: 'clip-fraction',
    title: 'Clip fraction',
    description: 'Fraction of tokens whose ratio was clipped by the PPO objective.',
    series: [train('actor/pg_clipfrac', 'pg_clipfrac', 'orange')],
  },
  {
    id: 'timing',
    title: 'Time per step (s)',
    description: 'Seconds spent in rollout, scoring and the update, and the whole step.',
    series: [
      train('timing_s/step', 'step', 'foreground'),
      train('timing_s/rollout', 'rollout', 'blue'),
      train('timing_s/scoring', 'scoring', 'yellow'),
      train('timing_s/update', 'update', 'red'),
    ],
  },
  {
    id: 'validation-per-level',
    title: 'Validation accuracy per level',
    description: 'Accuracy on the held-out set for each task difficulty level.',
    series: [],
    columnsWithPrefix: { table: 'validation', prefix: PER_LEVEL_PREFIX, smooth: false, sparse: true },
  },
];
