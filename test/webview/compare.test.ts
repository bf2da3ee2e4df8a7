/**
 * The Compare panel's pure parts: one chart per distinct Dashboard metric; runs overlaid on the union of their
 * steps; grouping by arm (mean, min and max over the arm's seeds, computed here by hand); hidden runs left out;
 * the Dashboard's smoothing per run; colours distinct and stable; the summary table's rows and sort; the saved
 * view state checked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMPARE, type CompareRun } from '../../src/protocol/compare.js';
import { COMPARE_CHARTS, buildCompareChart, legendEntries } from '../../webview/compare/compareData.js';
import { type CompareViewState, DEFAULT_VIEW_STATE, applyMessage, createModel, restoreViewState, sortedSummary } from '../../webview/compare/model.js';
import { smoothEma } from '../../webview/dashboard/smoothing.js';

function run(name: string, arm: string, seed: number, steps: number[], reward: (number | null)[], validation: number[] = [], extra: Partial<CompareRun> = {}): CompareRun {
  return {
    runDir: `/runs/${name}`,
    runName: name,
    arm,
    estimator: arm.split('-')[0],
    groupSize: 8,
    seed,
    state: 'completed',
    train: { steps: Float64Array.from(steps), columns: { 'reward/mean': Float64Array.from(reward, (value) => value ?? NaN) } },
    validation: { steps: Float64Array.from(validation, (_, i) => (i + 1) * 2), accuracy: Float64Array.from(validation), reward: Float64Array.from(validation, () => 0) },
    ...extra,
  };
}

const RUNS = [
  run('durian-G8-s1', 'durian-G8', 1, [1, 2, 3], [0.1, 0.2, 0.3], [0.5], { durationMs: 3000, backend: 'wasm' }),
  run('durian-G8-s2', 'durian-G8', 2, [1, 2, 3], [0.3, 0.4, null], [0.7], { durationMs: 1000 }),
  run('grpo-G8-s1', 'grpo-G8', 1, [2, 4], [0.05, 0.15], [0.6]),
];

function model(runs = RUNS) {
  const built = createModel();
  applyMessage(built, { type: COMPARE.runs, title: 'study', study: true, runs });
  return built;
}

const REWARD = COMPARE_CHARTS.find((chart) => chart.column === 'reward/mean');
const VALIDATION_ACCURACY = COMPARE_CHARTS.find((chart) => chart.table === 'validation' && chart.title.startsWith('Accuracy'));
const view = (change: Partial<CompareViewState> = {}): CompareViewState => ({ ...DEFAULT_VIEW_STATE, smoothing: 0, ...change });

describe('compare charts', () => {
  it('one chart per distinct metric of the Dashboard (KL to reference and kl_loss once)', () => {
    const columns = COMPARE_CHARTS.map((chart) => `${chart.table}:${chart.column}`);
    assert.equal(new Set(columns).size, columns.length);
    assert.ok(columns.includes('train:actor/kl_loss'));
    assert.ok(REWARD && VALIDATION_ACCURACY);
    assert.equal(new Set(COMPARE_CHARTS.map((chart) => chart.id)).size, COMPARE_CHARTS.length);
  });

  it('overlays every run on the union of the steps, null where a run has no such step', () => {
    const data = buildCompareChart(model(), REWARD!, view());
    assert.ok(data);
    assert.deepEqual([...data.x], [1, 2, 3, 4]);
    assert.deepEqual(data.lines.map((line) => line.label), ['durian-G8-s1', 'durian-G8-s2', 'grpo-G8-s1']);
    assert.deepEqual(data.lines[0].values, [0.1, 0.2, 0.3, null]);
    assert.deepEqual(data.lines[1].values, [0.3, 0.4, null, null]);
    assert.deepEqual(data.lines[2].values, [null, 0.05, null, 0.15]);
    assert.deepEqual(data.lines.map((line) => line.runDir), ['/runs/durian-G8-s1', '/runs/durian-G8-s2', '/runs/grpo-G8-s1']);
  });

  it('leaves hidden runs out, and the chart out when no visible run has the metric', () => {
    const data = buildCompareChart(model(), REWARD!, view({ hidden: ['/runs/durian-G8-s2'] }));
    assert.deepEqual(data?.lines.map((line) => line.label), ['durian-G8-s1', 'grpo-G8-s1']);
    assert.equal(buildCompareChart(model(), REWARD!, view({ hidden: RUNS.map((r) => r.runDir) })), undefined);
    const entropy = COMPARE_CHARTS.find((chart) => chart.column === 'actor/entropy');
    assert.equal(buildCompareChart(model(), entropy!, view()), undefined);
  });

  it('grouped by arm: the mean of the seeds with their min and max as a band; one seed: no band', () => {
    const data = buildCompareChart(model(), REWARD!, view({ groupByArm: true }));
    assert.ok(data);
    assert.deepEqual(data.lines.map((line) => line.label), ['durian-G8', 'grpo-G8']);
    const [durian, grpo] = data.lines;
    const close = (actual: (number | null)[], expected: (number | null)[]) =>
      actual.forEach((value, i) => (expected[i] === null ? assert.equal(value, null) : assert.ok(Math.abs((value as number) - (expected[i] as number)) < 1e-12, `${value} vs ${expected[i]}`)));
    close(durian.values, [(0.1 + 0.3) / 2, (0.2 + 0.4) / 2, 0.3, null]);
    close(durian.band!.min, [0.1, 0.2, 0.3, null]);
    close(durian.band!.max, [0.3, 0.4, 0.3, null]);
    assert.equal(grpo.band, undefined);
    assert.deepEqual(grpo.values, [null, 0.05, null, 0.15]);
  });

  it('smooths each run with the Dashboard EMA, train metrics only (validation drawn as it is)', () => {
    const data = buildCompareChart(model(), REWARD!, view({ smoothing: 0.6 }));
    assert.deepEqual(data?.lines[0].values.slice(0, 3), [...smoothEma(Float64Array.from([0.1, 0.2, 0.3]), 0.6)]);
    const accuracy = buildCompareChart(model(), VALIDATION_ACCURACY!, view({ smoothing: 0.9 }));
    assert.deepEqual([...accuracy!.x], [2]);
    assert.deepEqual(accuracy!.lines.map((line) => line.values[0]), [0.5, 0.7, 0.6]);
  });

  it('colours: distinct for the palette, dashed past it, kept when runs are hidden', () => {
    const many = Array.from({ length: 10 }, (_, i) => run(`r${i}`, `a${i}`, 1, [1], [i]));
    const entries = legendEntries(model(many), false);
    const styles = entries.map((entry) => `${entry.color}${entry.dash ? entry.dash.join('-') : ''}`);
    assert.equal(new Set(styles).size, 10);
    assert.equal(entries[8].color, entries[0].color);
    assert.ok(entries[8].dash && !entries[0].dash);
    const data = buildCompareChart(model(many), REWARD!, view({ hidden: ['/runs/r0'] }));
    assert.equal(data?.lines[0].color, entries[1].color);
    assert.equal(entries[0].detail, 'a0 · G 8 · seed 1');
    assert.match(legendEntries(model(), true)[0].detail, /durian · G 8 · 2 runs \(seeds 1, 2\)/);
  });

  it('a live run replaced by compare/run grows its line; a new run is added', () => {
    const live = model();
    applyMessage(live, { type: COMPARE.run, run: run('grpo-G8-s1', 'grpo-G8', 1, [2, 4, 6], [0.05, 0.15, 0.25]) });
    applyMessage(live, { type: COMPARE.run, run: run('rloo-G8-s1', 'rloo-G8', 1, [1], [0.9]) });
    const data = buildCompareChart(live, REWARD!, view());
    assert.deepEqual([...data!.x], [1, 2, 3, 4, 6]);
    assert.deepEqual(data!.lines.map((line) => line.label), ['durian-G8-s1', 'durian-G8-s2', 'grpo-G8-s1', 'rloo-G8-s1']);
    assert.deepEqual(data!.lines[2].values, [null, 0.05, null, 0.15, 0.25]);
  });
});

describe('the summary table', () => {
  it('rows: estimator, G, seed, last step, final and best validation accuracy, duration, backend', () => {
    const rows = sortedSummary(model().runs, { column: 'run', descending: false });
    assert.deepEqual(rows[0], { runDir: '/runs/durian-G8-s1', run: 'durian-G8-s1', estimator: 'durian', groupSize: 8, seed: 1, steps: 3, finalAccuracy: 0.5, bestAccuracy: 0.5, duration: 3000, backend: 'wasm' });
    assert.equal(rows[2].steps, 4);
  });

  it('sorts by any column, either way, missing values last', () => {
    const order = (column: Parameters<typeof sortedSummary>[1]['column'], descending: boolean) => sortedSummary(model().runs, { column, descending }).map((row) => row.run);
    assert.deepEqual(order('finalAccuracy', true), ['durian-G8-s2', 'grpo-G8-s1', 'durian-G8-s1']);
    assert.deepEqual(order('finalAccuracy', false), ['durian-G8-s1', 'grpo-G8-s1', 'durian-G8-s2']);
    assert.deepEqual(order('duration', false), ['durian-G8-s2', 'durian-G8-s1', 'grpo-G8-s1']);
    assert.deepEqual(order('duration', true), ['durian-G8-s1', 'durian-G8-s2', 'grpo-G8-s1']);
    assert.deepEqual(order('estimator', true), ['grpo-G8-s1', 'durian-G8-s1', 'durian-G8-s2']);
  });

  it('the saved view state is checked field by field', () => {
    assert.deepEqual(restoreViewState({ smoothing: 2, groupByArm: 'yes', hidden: ['a', 3], sort: { column: 'nope', descending: true } }), { ...DEFAULT_VIEW_STATE, hidden: ['a'] });
    assert.deepEqual(restoreViewState({ smoothing: 0.3, sort: { column: 'seed', descending: true } }).sort, { column: 'seed', descending: true });
  });
});
