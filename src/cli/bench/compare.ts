/**
 * The Compare panel's data path at 10 runs x 10,000 steps, in Node: checking the `compare/runs` message
 * (what the webview does first), turning it into typed columns, and building every chart's data (the union of
 * the steps, smoothing, placement; grouped by arm: mean and min-max band). That is the work before the first
 * paint besides uPlot's drawing; the drawing and a hover frame are measured in Chromium by
 * test/webview/compareDom.test.ts (the bench has no browser). Baseline: the same work for one run, measured
 * here, so the ratio says how the cost grows with the runs (linear: about 10x).
 */
import { COMPARE, type CompareRun, type CompareRunsMessage, parseCompareHostToWebview } from '../../protocol/compare.js';
import { COMPARE_CHARTS, SmoothingCache, buildCompareChart } from '../../../webview/compare/compareData.js';
import { type CompareViewState, DEFAULT_VIEW_STATE, applyMessage, createModel } from '../../../webview/compare/model.js';
import { type BenchRow, type BenchSuite, timeMediansInterleaved } from './types.js';

const RUNS = 10;
const STEPS = 10_000;
/** The metrics a trainer writes every step (as metrics.jsonl holds them). */
const METRIC_NAMES = COMPARE_CHARTS.filter((chart) => chart.table === 'train').map((chart) => chart.column);

/** `runs` runs of `steps` steps with every charted metric (smooth noisy curves), validated every 100 steps. */
export function syntheticCompareRuns(runs: number, steps: number): CompareRun[] {
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  return Array.from({ length: runs }, (_, r): CompareRun => {
    const stepList = Float64Array.from({ length: steps }, (_, i) => i + 1);
    const columns: Record<string, Float64Array> = {};
    for (const [m, name] of METRIC_NAMES.entries()) columns[name] = stepList.map((step) => Math.log1p(step) * (1 + m / 10) + r / 10 + random() * 0.5);
    const validationSteps = stepList.filter((step) => step % 100 === 0);
    return {
      runDir: `/runs/bench-${r}`,
      runName: `${r % 2 === 0 ? 'durian' : 'grpo'}-G8-s${Math.floor(r / 2) + 1}`,
      arm: r % 2 === 0 ? 'durian-G8' : 'grpo-G8',
      estimator: r % 2 === 0 ? 'durian' : 'grpo',
      groupSize: 8,
      seed: Math.floor(r / 2) + 1,
      backend: 'wasm',
      state: 'completed',
      totalSteps: steps,
      durationMs: steps * 150,
      train: { steps: stepList, columns },
      validation: { steps: validationSteps, accuracy: validationSteps.map(() => random()), reward: validationSteps.map(() => random()) },
    };
  });
}

export function compareRunsMessage(runs: number, steps: number): CompareRunsMessage {
  return { type: COMPARE.runs, title: 'bench', study: false, runs: syntheticCompareRuns(runs, steps) };
}

/** Everything the webview does with a `compare/runs` before uPlot draws: check, convert, build every chart. */
export function prepareFirstPaint(message: unknown, view: CompareViewState): number {
  const parsed = parseCompareHostToWebview(message);
  if (!parsed.ok) throw new Error(parsed.error);
  const model = createModel();
  applyMessage(model, parsed.value);
  const cache = new SmoothingCache();
  let points = 0;
  for (const chart of COMPARE_CHARTS) {
    const data = buildCompareChart(model, chart, view, cache);
    if (data) points += data.x.length * data.lines.length;
  }
  return points;
}

export const compareSuite: BenchSuite = {
  name: 'compare',
  description: `Compare panel data path, ${RUNS} runs x ${STEPS} steps (Node; drawing and hover: test/webview/compareDom.test.ts)`,
  async run({ repeats }) {
    const rows: BenchRow[] = [];
    const times = Math.max(3, Math.min(repeats, 10));
    const one = compareRunsMessage(1, STEPS);
    const ten = compareRunsMessage(RUNS, STEPS);
    const views: [string, CompareViewState][] = [
      ['one line per run, smoothing 0.6', { ...DEFAULT_VIEW_STATE }],
      ['grouped by arm (mean, min-max band)', { ...DEFAULT_VIEW_STATE, groupByArm: true }],
    ];
    for (const [label, view] of views) {
      // Interleaved: the baseline and the contender see the same machine state and JIT warm-up.
      const medians = timeMediansInterleaved({ one: () => prepareFirstPaint(one, view), ten: () => prepareFirstPaint(ten, view) }, times);
      const baseline = medians.one;
      const value = medians.ten;
      const ratio = value / baseline;
      rows.push({
        suite: 'compare',
        name: `first paint data, ${RUNS} runs x ${STEPS} steps, ${COMPARE_CHARTS.length} charts, ${label}`,
        value,
        unit: 'ms',
        baseline: { name: '1 run', value: baseline },
        ratio,
        target: `<= ${RUNS * 1.5}x 1 run (linear in runs)`,
        pass: ratio <= RUNS * 1.5,
      });
    }
    return rows;
  },
};
