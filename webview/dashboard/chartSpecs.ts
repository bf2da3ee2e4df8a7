/**
 * Which charts the Dashboard draws and what goes on each: a table of data, no drawing. Metric names, units
 * and meanings come from the protocol's metrics table (src/protocol/metrics.ts): a chart's unit and the
 * tooltip that says what each series is are built from it, never written here. A series whose metric never
 * arrived is left out, and a chart with no series at all is not shown.
 */
import { EXTREME_ADVANTAGE, METRIC, METRICS, type MetricName, type MetricSpec, UNIT_LABELS, VALIDATION_METRICS } from '../../src/protocol/metrics.js';
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
  /** The column's entry in the metrics table. */
  metric: MetricSpec;
}

export interface ChartSpec {
  id: string;
  title: string;
  /** What the chart shows, then each series' meaning and the unit, from the metrics table: the title's tooltip. */
  description: string;
  /** The unit of every series on the chart, in words (UNIT_LABELS). */
  unit: string;
  series: SeriesSpec[];
  /** Adds a series for every column of `table` starting with `prefix` (e.g. validation accuracy per level). */
  columnsWithPrefix?: { table: 'train' | 'validation'; prefix: string; smooth: boolean; sparse: boolean; metric: MetricSpec };
}

const train = (column: MetricName, label: string, color: ThemeColorName, dash?: number[]): SeriesSpec => ({
  table: 'train',
  column,
  label,
  color,
  smooth: true,
  dash,
  metric: METRICS[column],
});

const validation = (column: typeof VALIDATION_ACCURACY | typeof VALIDATION_REWARD, label: string, color: ThemeColorName): SeriesSpec => ({
  table: 'validation',
  column,
  label,
  color,
  smooth: false,
  sparse: true,
  metric: VALIDATION_METRICS[column],
});

/** A chart whose unit and tooltip come from its series' entries in the metrics table (`metrics`: those of the series). */
function chart(id: string, title: string, summary: string, series: SeriesSpec[], metrics: MetricSpec[] = series.map((s) => s.metric)): ChartSpec {
  const meanings = series.map((s) => `${s.label}: ${s.metric.meaning}`);
  const unit = [...new Set(metrics.map((metric) => UNIT_LABELS[metric.unit]))].join(', ');
  return { id, title, description: [summary, ...meanings, `Unit: ${unit}.`].join('\n'), unit, series };
}

export const CHART_SPECS: readonly ChartSpec[] = [
  chart('reward', 'Reward', 'Mean reward of the rollouts (train) and of the held-out set (validation).', [
    train(METRIC.rewardMean, 'train', 'blue'),
    validation(VALIDATION_REWARD, 'validation', 'orange'),
  ]),
  chart('accuracy', 'Accuracy', 'Fraction of right answers (train, validation) and of well-formatted answers (format).', [
    train(METRIC.accuracyMean, 'train', 'blue'),
    validation(VALIDATION_ACCURACY, 'validation', 'orange'),
    train(METRIC.formatMean, 'format', 'green', [4, 4]),
  ]),
  chart('losses', 'Losses', 'Policy-gradient loss and KL loss of the update.', [
    train(METRIC.pgLoss, 'pg_loss', 'blue'),
    train(METRIC.klLoss, 'kl_loss', 'purple'),
  ]),
  chart('kl', 'KL', 'KL to the reference policy (k3 estimate) and between the rollout and updated policy (PPO KL).', [
    train(METRIC.klLoss, 'to reference', 'purple'),
    train(METRIC.ppoKl, 'ppo_kl', 'red'),
  ]),
  chart('entropy', 'Entropy', 'Mean token entropy of the policy.', [train(METRIC.entropy, 'entropy', 'green')]),
  chart('grad-norm', 'Grad norm', 'Gradient norm of the update, before clipping.', [train(METRIC.gradNorm, 'grad_norm', 'red')]),
  chart('zero-std', 'Zero-std groups', 'Prompts without a GRPO signal.', [train(METRIC.fracRewardZeroStd, 'frac_reward_zero_std', 'yellow')]),
  chart('extreme-advantages', `Extreme advantages |A| > ${EXTREME_ADVANTAGE}`, 'The Rollout Groups\' "Extremes only" shows these groups.', [
    train(METRIC.advantagesFracExtreme, 'active estimator', 'blue'),
    train(METRIC.advantagesGrpoFracExtreme, 'grpo', 'foreground', [4, 4]),
  ]),
  chart('throughput', 'Throughput', 'How fast the whole step runs.', [train(METRIC.throughput, 'throughput', 'green')]),
  chart('advantages', 'Advantages', 'Advantages of the batch under the active estimator.', [
    train(METRIC.advantagesMax, 'max', 'green'),
    train(METRIC.advantagesMean, 'mean', 'blue'),
    train(METRIC.advantagesMin, 'min', 'red'),
  ]),
  chart('response-length', 'Response length', 'Length of the responses.', [train(METRIC.responseLengthMean, 'mean', 'purple')]),
  chart('clip-fraction', 'Clip fraction', 'How much of the update the PPO clip cut.', [train(METRIC.pgClipfrac, 'pg_clipfrac', 'orange')]),
  chart('timing', 'Time per step', 'Where the time of a step goes.', [
    train(METRIC.timingStep, 'step', 'foreground'),
    train(METRIC.timingRollout, 'rollout', 'blue'),
    train(METRIC.timingScoring, 'scoring', 'yellow'),
    train(METRIC.timingUpdate, 'update', 'red'),
  ]),
  {
    ...chart('validation-per-level', 'Validation accuracy per level', `${VALIDATION_METRICS.perLevel.meaning} One series per level.`, [], [VALIDATION_METRICS.perLevel]),
    columnsWithPrefix: { table: 'validation', prefix: PER_LEVEL_PREFIX, smooth: false, sparse: true, metric: VALIDATION_METRICS.perLevel },
  },
];
