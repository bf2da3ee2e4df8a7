/**
 * The Dashboard's pure parts: TensorBoard smoothing, the series table, the reducer (history, live
 * events, rewinds, ETA), the chart data, the saved view state and the formatting. No DOM needed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EVENT, METRIC, METRICS, PROTOCOL_VERSION, type TrainerEvent, UNIT_LABELS, VALIDATION_METRICS, metricSpec } from '../../src/protocol/index.js';
import {
  DASHBOARD,
  type DashboardHistoryMessage,
  EXTREME_ADVANTAGE,
  type HostToWebviewMessage,
  type MetricsLine,
  parseHostToWebview,
} from '../../src/protocol/webview.js';
import { ChartDataBuilder, buildChartData, mergeSteps } from '../../webview/dashboard/chartData.js';
import { CHART_SPECS, type ChartSpec, THEME_COLOR_NAMES } from '../../webview/dashboard/chartSpecs.js';
import { MIN_CONTRAST, contrastRatio, parseColor, parseRgba, readableOn } from '../../webview/dashboard/contrast.js';
import { formatDuration, formatValue } from '../../webview/dashboard/format.js';
import { SeriesTable } from '../../webview/dashboard/series.js';
import { DEFAULT_VIEW_STATE, restoreViewState } from '../../webview/dashboard/settings.js';
import { IncrementalEma, MAX_SMOOTHING, clampSmoothing, smoothEma } from '../../webview/dashboard/smoothing.js';
import { ELAPSED_COLUMN, MAX_NOTICES, applyMessage, createModel, estimateEtaMs, msPerStep, reduce } from '../../webview/dashboard/state.js';

/** TensorBoard's `resmoothDataset`, transcribed as written (Math.pow per point), as the reference. */
function tensorBoardSmoothing(values: number[], weight: number): number[] {
  let last = values.length > 0 ? 0 : NaN;
  let numAccum = 0;
  const isConstant = values.every((v) => v === values[0]);
  return values.map((nextVal) => {
    if (isConstant || !Number.isFinite(nextVal)) return nextVal;
    last = last * weight + (1 - weight) * nextVal;
    numAccum++;
    const debiasWeight = weight === 1 ? 1 : 1 - Math.pow(weight, numAccum);
    return last / debiasWeight;
  });
}

function closeTo(actual: number, expected: number, tolerance = 1e-9): void {
  if (Number.isNaN(expected)) return assert.ok(Number.isNaN(actual), `expected NaN, got ${actual}`);
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `expected ${expected}, got ${actual}`);
}

const hello = (overrides: Partial<Extract<TrainerEvent, { type: 'trainer/hello' }>> = {}): HostToWebviewMessage => ({
  type: DASHBOARD.event,
  event: {
    type: EVENT.hello,
    protocolVersion: PROTOCOL_VERSION,
    runId: 'run-1',
    runDir: '/runs/run-1',
    backend: 'tfjs-node',
    device: 'CPU (4 cores)',
    config: { estimator: 'durian', steps: 100 },
    ...overrides,
  },
});

const step = (n: number, metrics: Record<string, number>, elapsedMs = n * 1000, totalSteps = 100): HostToWebviewMessage => ({
  type: DASHBOARD.event,
  event: { type: EVENT.step, step: n, totalSteps, metrics, elapsedMs },
});

const validation = (n: number, accuracy: number, perLevel?: Record<string, number>): HostToWebviewMessage => ({
  type: DASHBOARD.event,
  event: { type: EVENT.validation, step: n, accuracy, reward: accuracy, perLevel },
});

const running: HostToWebviewMessage = { type: DASHBOARD.state, runName: 'run-1', runDir: '/runs/run-1', state: 'running' };

function history(lines: MetricsLine[], extra: Partial<DashboardHistoryMessage> = {}): DashboardHistoryMessage {
  return { type: DASHBOARD.history, runName: 'run-1', runDir: '/runs/run-1', state: 'running', totalSteps: 100, metrics: lines, validations: [], ...extra };
}

const spec = (id: string): ChartSpec => CHART_SPECS.find((chart) => chart.id === id) as ChartSpec;

describe('smoothEma (TensorBoard EMA with debiasing)', () => {
  it('leaves the values alone at weight 0', () => {
    assert.deepEqual([...smoothEma([3, 1, 2], 0)], [3, 1, 2]);
  });

  it('debiases: the first point is its own value, then the EMA is divided by 1 - w^n', () => {
    const smoothed = smoothEma([1, 2, 3], 0.5);
    closeTo(smoothed[0], 1);
    closeTo(smoothed[1], 1.25 / 0.75);
    closeTo(smoothed[2], 2.125 / 0.875);
  });

  it('passes missing (NaN) points through without letting them into the average', () => {
    const smoothed = smoothEma([1, NaN, 3], 0.5);
    closeTo(smoothed[0], 1);
    assert.ok(Number.isNaN(smoothed[1]));
    closeTo(smoothed[2], 1.75 / 0.75);
  });

  it('returns a constant series unchanged (no floating-point wobble)', () => {
    assert.deepEqual([...smoothEma([0.1, 0.1, 0.1, 0.1], 0.99)], [0.1, 0.1, 0.1, 0.1]);
  });

  it('matches TensorBoard\'s resmoothDataset on any series and weight', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constant(NaN)), { maxLength: 300 }),
        fc.double({ min: 0, max: MAX_SMOOTHING, noNaN: true }),
        (values, weight) => {
          const expected = tensorBoardSmoothing(values, weight);
          const actual = smoothEma(values, weight);
          assert.equal(actual.length, values.length);
          // Relative to the largest magnitude: the running product and Math.pow differ in the last bits.
          const scale = Math.max(1, ...values.filter(Number.isFinite).map(Math.abs));
          expected.forEach((value, i) => closeTo(actual[i] / scale, value / scale, 1e-9));
        },
      ),
    );
  });

  it('writes into a given buffer and smooths only the first `length` values', () => {
    const out = new Float64Array(8);
    const result = smoothEma([2, 4, 6, 8], 0.5, 2, out);
    assert.equal(result.length, 2);
    assert.equal(result.buffer, out.buffer);
    closeTo(result[1], (0.5 * 0.5 * 2 + 0.5 * 4) / 0.75);
  });

  it('gives the same values when computed as the series grows (IncrementalEma)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ min: -100, max: 100, noNaN: true }), fc.constant(NaN), fc.constant(1)), { maxLength: 120 }),
        fc.array(fc.nat({ max: 120 }), { maxLength: 6 }),
        fc.double({ min: 0, max: MAX_SMOOTHING, noNaN: true }),
        (values, cuts, weight) => {
          const ema = new IncrementalEma();
          for (const length of [...cuts.map((c) => Math.min(c, values.length)).sort((a, b) => a - b), values.length]) {
            const actual = ema.smooth(values, weight, length);
            const expected = smoothEma(values, weight, length);
            assert.equal(actual.length, length);
            expected.forEach((value, i) => closeTo(actual[i], value, 1e-12));
          }
        },
      ),
    );
  });

  it('recomputes every point once a constant run ends, and says so', () => {
    const ema = new IncrementalEma();
    assert.deepEqual([...ema.smooth([2, 2, 2], 0.5)], [2, 2, 2]);
    const values = [2, 2, 2, 4];
    const smoothed = ema.smooth(values, 0.5);
    assert.equal(ema.changedFrom, 0);
    [...smoothEma(values, 0.5)].forEach((value, i) => closeTo(smoothed[i], value));
    ema.smooth([2, 2, 2, 4, 6], 0.5);
    assert.equal(ema.changedFrom, 4);
  });

  it('clamps the weight into [0, 0.999]', () => {
    assert.equal(clampSmoothing(-1), 0);
    assert.equal(clampSmoothing(NaN), 0);
    assert.equal(clampSmoothing(1), MAX_SMOOTHING);
    assert.equal(clampSmoothing(0.6), 0.6);
  });
});

describe('SeriesTable', () => {
  it('grows geometrically and keeps NaN where a column has no value', () => {
    const table = new SeriesTable();
    for (let i = 1; i <= 1000; i++) table.append(i, i % 2 === 0 ? { a: i, b: -i } : { a: i });
    assert.equal(table.length, 1000);
    assert.equal(table.steps[999], 1000);
    assert.equal(table.column('a')?.[499], 500);
    assert.ok(Number.isNaN(table.column('b')?.[0] as number));
    assert.equal(table.column('b')?.[1], -2);
    assert.equal(table.indexOf(777), 776);
    assert.equal(table.indexOf(1001), -1);
  });

  it('rewinds when a step repeats, and reads null as missing', () => {
    const table = new SeriesTable();
    for (let i = 1; i <= 10; i++) table.append(i, { a: i });
    table.append(6, { a: null });
    assert.deepEqual([...table.steps], [1, 2, 3, 4, 5, 6]);
    assert.ok(Number.isNaN(table.column('a')?.[5] as number));
  });

  it('caps the number of columns', () => {
    const table = new SeriesTable(3);
    table.append(1, { a: 1, b: 2, c: 3, d: 4, e: 5 });
    assert.deepEqual(table.names, ['a', 'b', 'c']);
    assert.equal(table.refusedValues, 2);
  });
});

describe('reduce', () => {
  it('builds the header and the series from hello, steps, validation and state', () => {
    const model = reduce([
      running,
      hello(),
      step(1, { 'reward/mean': 0.2, 'actor/pg_loss': 0.5 }),
      step(2, { 'reward/mean': 0.4 }),
      validation(2, 0.5, { easy: 0.9, hard: 0.1 }),
      { type: DASHBOARD.event, event: { type: EVENT.groups, step: 3, estimator: 'grpo', groups: [] } },
      { type: DASHBOARD.event, event: { type: EVENT.checkpoint, step: 2, path: 'checkpoints/step-000002' } },
    ]);
    assert.deepEqual(
      { ...model.header },
      {
        runName: 'run-1',
        runDir: '/runs/run-1',
        state: 'running',
        message: undefined,
        backend: 'tfjs-node',
        device: 'CPU (4 cores)',
        estimator: 'grpo',
        totalSteps: 100,
        step: 2,
        elapsedMs: 2000,
        lastCheckpointStep: 2,
      },
    );
    assert.deepEqual([...model.train.steps], [1, 2]);
    assert.deepEqual([...(model.train.column('reward/mean') ?? [])], [0.2, 0.4]);
    assert.ok(Number.isNaN(model.train.column('actor/pg_loss')?.[1] as number));
    assert.deepEqual([...(model.train.column(ELAPSED_COLUMN) ?? [])], [1000, 2000]);
    assert.deepEqual(model.validation.names.sort(), ['accuracy', 'perLevel/easy', 'perLevel/hard', 'reward']);
  });

  it('takes the state only from the host, not from events', () => {
    const model = reduce([running, { type: DASHBOARD.event, event: { type: EVENT.done, step: 5, reason: 'completed', summary: {} } }]);
    assert.equal(model.header.state, 'running');
    assert.equal(model.header.step, 5);
    applyMessage(model, { ...running, state: 'completed' });
    assert.equal(model.header.state, 'completed');
  });

  it('lets a history replace everything shown before', () => {
    const model = reduce([running, step(1, { x: 1 }), step(2, { x: 2 })]);
    applyMessage(
      model,
      history([{ step: 1, elapsedMs: 10, y: 3 }], { estimator: 'rloo', backend: 'wasm', device: 'CPU', state: 'paused', validations: [{ step: 1, accuracy: 0.5, reward: 0.4 }] }),
    );
    assert.deepEqual(model.train.names, ['elapsedMs', 'y']);
    assert.equal(model.header.state, 'paused');
    assert.equal(model.header.estimator, 'rloo');
    assert.equal(model.header.step, 1);
    assert.equal(model.header.elapsedMs, 10);
    assert.equal(model.validation.column('accuracy')?.[0], 0.5);
  });

  it('forgets the steps a resumed trainer will send again', () => {
    const model = reduce([history(Array.from({ length: 15 }, (_, i) => ({ step: i + 1, x: i + 1 }))), validation(10, 0.4), validation(15, 0.5)]);
    applyMessage(model, hello({ resumedFromStep: 10 }));
    assert.equal(model.train.lastStep, 10);
    assert.equal(model.validation.lastStep, 10);
    assert.equal(model.header.step, 10);
    applyMessage(model, step(11, { x: 110 }));
    assert.deepEqual([...model.train.steps].slice(-2), [10, 11]);
    assert.equal(model.train.column('x')?.[10], 110);
  });

  it('turns trainer errors into notices and keeps only the newest', () => {
    const model = createModel();
    for (let i = 0; i < MAX_NOTICES + 3; i++) {
      applyMessage(model, { type: DASHBOARD.event, event: { type: EVENT.error, message: `bad ${i}`, where: 'rollout', fatal: i % 2 === 0 } });
    }
    assert.equal(model.notices.length, MAX_NOTICES);
    assert.equal(model.notices.at(-1)?.text, `Trainer error (rollout): bad ${MAX_NOTICES + 2}`);
    assert.equal(model.notices.at(-2)?.level, 'warning');
  });

  it('ingests 10,000 steps of history, checked and folded, with every value in place', () => {
    const metricNames = CHART_SPECS.flatMap((chart) => chart.series.filter((s) => s.table === 'train').map((s) => s.column));
    const lines: MetricsLine[] = [];
    for (let i = 1; i <= 10_000; i++) {
      const line: MetricsLine = { step: i, elapsedMs: i * 250 };
      metricNames.forEach((name, k) => {
        line[name] = Math.sin(i / 100 + k) + k;
      });
      if (i % 1000 === 0) line['actor/grad_norm'] = null;
      lines.push(line);
    }
    const validations = Array.from({ length: 100 }, (_, i) => ({ step: (i + 1) * 100, accuracy: i / 100, reward: i / 100 }));
    const parsed = parseHostToWebview(JSON.parse(JSON.stringify(history(lines, { totalSteps: 20_000, validations }))));
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    const model = reduce([parsed.value]);
    assert.equal(model.train.length, 10_000);
    assert.equal(model.header.step, 10_000);
    assert.equal(model.header.elapsedMs, 2_500_000);
    const pgLoss = model.train.column('actor/pg_loss') as Float64Array;
    const k = metricNames.indexOf('actor/pg_loss');
    for (const i of [1, 5000, 10_000]) closeTo(pgLoss[i - 1], Math.sin(i / 100 + k) + k);
    assert.ok(Number.isNaN((model.train.column('actor/grad_norm') as Float64Array)[999]));
    assert.equal(estimateEtaMs(model), 10_000 * 250);
    const reward = buildChartData(model, spec('reward'), { smoothing: 0.9, showRaw: true });
    assert.ok(reward);
    assert.equal(reward.x.length, 10_000, 'validation steps fall on train steps');
    assert.deepEqual(reward.series.map((s) => s.key), ['train:reward/mean:raw', 'train:reward/mean', 'validation:reward']);
    assert.equal(reward.series[2].values.filter((v) => v !== null).length, 100);
  });
});

describe('ETA', () => {
  it('comes from the recent pace and the steps left', () => {
    const model = reduce([running, ...Array.from({ length: 40 }, (_, i) => step(i + 1, { x: 1 }, (i + 1) * 1000))]);
    assert.equal(estimateEtaMs(model), 60 * 1000);
  });

  it('follows a change of pace and restarts its window when the clock restarts', () => {
    const steps = new Float64Array([1, 2, 3, 4, 5, 6]);
    assert.equal(msPerStep(steps, new Float64Array([100, 200, 300, 500, 700, 900])), 800 / 5);
    assert.equal(msPerStep(steps, new Float64Array([100, 200, 300, 50, 250, 450])), 200);
    assert.equal(msPerStep(new Float64Array([4]), new Float64Array([400])), 100);
    assert.equal(msPerStep(new Float64Array([0]), new Float64Array([0])), undefined);
  });

  it('leaves out the time the run spent paused (events and state messages, timed by the webview clock)', () => {
    const model = createModel();
    let clock = 1_000_000;
    const at = (message: HostToWebviewMessage, advanceMs = 0) => {
      clock += advanceMs;
      applyMessage(model, message, clock);
    };
    at(running);
    for (let n = 1; n <= 10; n++) at(step(n, { x: 1 }, n * 1000), 1000);
    // Paused for 10 minutes after step 10: the trainer's clock keeps counting, so step 11 says 611 s.
    at({ type: DASHBOARD.event, event: { type: EVENT.paused, step: 10 } });
    at({ ...running, state: 'paused' }, 5);
    assert.equal(estimateEtaMs(model), 90 * 1000, 'while paused: the pace of the steps before');
    at({ type: DASHBOARD.event, event: { type: EVENT.resumed, step: 10 } }, 600_000 - 5);
    at(running, 3);
    for (let n = 11; n <= 20; n++) at(step(n, { x: 1 }, n * 1000 + 600_000), 1000);
    assert.deepEqual(model.pauses.intervals, [{ afterStep: 10, ms: 600_000 }], 'one pause, timed once');
    assert.equal(estimateEtaMs(model), 80 * 1000, 'one second a step, as before the pause');
    assert.ok((msPerStep(model.train.steps, model.train.column(ELAPSED_COLUMN)) ?? 0) > 10_000, 'without the pause log the pace is ten times off');
    // Reopened on the same run (a new history): the pauses it saw are kept.
    at(history(Array.from({ length: 20 }, (_, i) => ({ step: i + 1, elapsedMs: (i + 1) * 1000 + (i >= 10 ? 600_000 : 0) }))));
    assert.equal(estimateEtaMs(model), 80 * 1000);
  });

  it('is unknown when the run is not going, and zero at the end', () => {
    const model = reduce([running, step(1, {}), step(2, {})]);
    applyMessage(model, { ...running, state: 'stopped' });
    assert.equal(estimateEtaMs(model), undefined);
    const finished = reduce([running, step(99, {}), step(100, {})]);
    assert.equal(estimateEtaMs(finished), 0);
  });
});

describe('chart data', () => {
  it('merges train and validation steps onto one axis', () => {
    const { x, fromA, fromB } = mergeSteps(new Float64Array([1, 2, 3, 5]), new Float64Array([0, 2, 4, 5, 6]));
    assert.deepEqual([...x], [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...fromA], [1, 2, 3, 5]);
    assert.deepEqual([...fromB], [0, 2, 4, 5, 6]);
  });

  it('leaves out missing metrics and charts with none', () => {
    const model = reduce([running, step(1, { 'actor/pg_loss': 1 }), step(2, { 'actor/pg_loss': 2 })]);
    const losses = buildChartData(model, spec('losses'), { smoothing: 0, showRaw: true });
    assert.deepEqual(losses?.series.map((s) => s.label), ['pg_loss']);
    assert.equal(buildChartData(model, spec('entropy'), { smoothing: 0, showRaw: true }), undefined);
  });

  it('draws validation on the train axis with gaps, and smooths only train series', () => {
    const model = reduce([running, step(1, { 'reward/mean': 0 }), step(2, { 'reward/mean': 1 }), validation(0, 0.3), validation(2, 0.7)]);
    const data = buildChartData(model, spec('reward'), { smoothing: 0.5, showRaw: false });
    assert.ok(data);
    assert.deepEqual([...data.x], [0, 1, 2]);
    const [train, held] = data.series;
    assert.deepEqual(train.values[0], null);
    closeTo(train.values[2] as number, 0.5 / 0.75);
    assert.deepEqual(train.unsmoothed, [null, 0, 1]);
    assert.deepEqual(held.values, [0.3, null, 0.7]);
    assert.equal(held.sparse, true);
  });

  it('builds the same data incrementally as from scratch, through appends, rewinds and slider moves', () => {
    const model = createModel();
    applyMessage(model, running);
    const builders = new Map(CHART_SPECS.map((chart) => [chart.id, new ChartDataBuilder()]));
    const check = (options: { smoothing: number; showRaw: boolean }) => {
      for (const chart of CHART_SPECS) {
        const incremental = builders.get(chart.id)?.build(model, chart, options);
        const fresh = buildChartData(model, chart, options);
        assert.deepEqual(incremental && { x: [...incremental.x], series: incremental.series }, fresh && { x: [...fresh.x], series: fresh.series }, chart.id);
      }
    };
    let n = 0;
    const advance = (count: number, constant = false) => {
      for (let i = 0; i < count; i++) {
        n++;
        applyMessage(model, step(n, { 'reward/mean': constant ? 0.5 : Math.sin(n), 'actor/entropy': 1, 'actor/pg_loss': n % 7 === 0 ? Number.NaN : Math.cos(n) }));
        if (n % 5 === 0) applyMessage(model, validation(n, (n % 10) / 10, { easy: 0.5 }));
      }
    };
    applyMessage(model, validation(0, 0.1));
    advance(12, true);
    check({ smoothing: 0.6, showRaw: true });
    advance(9);
    check({ smoothing: 0.6, showRaw: true });
    applyMessage(model, hello({ resumedFromStep: 15 }));
    n = 15;
    advance(4);
    check({ smoothing: 0.6, showRaw: true });
    check({ smoothing: 0.9, showRaw: false });
    advance(3);
    check({ smoothing: 0, showRaw: true });
    advance(3);
    check({ smoothing: 0, showRaw: true });
  });

  it('adds one series per validation level', () => {
    const model = reduce([running, validation(1, 0.5, { level10: 0.1, level2: 0.2 })]);
    const data = buildChartData(model, spec('validation-per-level'), { smoothing: 0.6, showRaw: true });
    assert.deepEqual(data?.series.map((s) => s.label), ['level2', 'level10']);
  });

  it('gives eight validation levels eight different theme colours, and a ninth a dash', () => {
    const levels = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`level${i + 1}`, i / 10]));
    const data = buildChartData(reduce([running, validation(1, 0.5, levels)]), spec('validation-per-level'), { smoothing: 0, showRaw: false });
    const series = data?.series ?? [];
    assert.equal(series.length, 9);
    assert.equal(new Set(series.slice(0, 8).map((s) => s.color)).size, 8, series.map((s) => s.color).join(' '));
    assert.ok(series.slice(0, 8).every((s) => s.dash === undefined));
    assert.equal(series[8].color, series[0].color);
    assert.ok(series[8].dash, 'the ninth repeats a colour, dashed');
    for (const s of series) assert.ok((THEME_COLOR_NAMES as readonly string[]).includes(s.color), `${s.color} is a theme colour`);
  });

  it('takes every chart\'s unit and series meanings from the metrics table (src/protocol/metrics.ts)', () => {
    for (const chart of CHART_SPECS) {
      const specs = chart.series.map((series) => (series.table === 'train' ? metricSpec(series.column) : VALIDATION_METRICS[series.column as keyof typeof VALIDATION_METRICS]));
      chart.series.forEach((series, i) => {
        assert.ok(specs[i], `${chart.id}: ${series.column} is declared in the metrics table`);
        assert.equal(series.metric, specs[i], `${chart.id}: ${series.column} carries its table entry`);
        assert.ok(chart.description.includes(`${series.label}: ${specs[i]?.meaning}`), `${chart.id}: the tooltip says what ${series.label} is`);
      });
      const units = [...new Set([...specs, ...(chart.columnsWithPrefix ? [chart.columnsWithPrefix.metric] : [])].map((spec) => UNIT_LABELS[spec!.unit]))];
      assert.equal(chart.unit, units.join(', '), `${chart.id}: the unit is its series'`);
      assert.ok(chart.description.endsWith(`Unit: ${chart.unit}.`), chart.id);
    }
    // The old bug: a "tokens per second" label on perf/throughput, a rate of sequences.
    const throughput = spec('throughput');
    assert.equal(METRICS[METRIC.throughput].unit, 'sequences/s');
    assert.equal(throughput.unit, 'sequences per second');
    assert.doesNotMatch(throughput.description, /tokens/i);
  });

  it('titles the extreme-advantage chart with the threshold the Rollout Groups filter uses', () => {
    assert.equal(spec('extreme-advantages').title, `Extreme advantages |A| > ${EXTREME_ADVANTAGE}`);
  });
});

describe('chart colours on the theme background', () => {
  it('keeps a colour that reads, and darkens a pale one (Light Modern orange on white) until it does', () => {
    assert.equal(readableOn('#1a85ff', '#f8f8f8', '#3b3b3b'), '#1a85ff', 'blue reads on light grey');
    assert.equal(readableOn('#d18616', '#1f1f1f', '#cccccc'), '#d18616', 'orange reads on dark');
    const pale = '#f9c48e';
    assert.ok(contrastRatio(parseColor(pale)!, parseColor('#ffffff')!) < MIN_CONTRAST, 'the pale orange does not read on white');
    const fixed = readableOn(pale, '#ffffff', '#3b3b3b');
    assert.notEqual(fixed, pale);
    assert.ok(contrastRatio(parseColor(fixed)!, parseColor('#ffffff')!) >= MIN_CONTRAST, `${fixed} reads`);
    assert.ok(contrastRatio(parseColor(fixed)!, parseColor('#3b3b3b')!) > 1.2, 'still a colour, not the text colour');
    assert.equal(readableOn('var(--x)', '#ffffff', '#000000'), 'var(--x)', 'what it cannot read is left alone');
    // Light Modern's charts-orange is a third opaque: shown over the card it is pale; made opaque it reads.
    assert.equal(readableOn('#ea5c0055', '#f8f8f8', '#3b3b3b'), '#ea5c00');
    assert.equal(readableOn('#ea5c0055', '#1f1f1f', '#cccccc'), '#ea5c00', 'made opaque on dark too');
    assert.equal(readableOn('#d18616cc', '#1f1f1f', '#cccccc'), '#d18616cc', 'a translucent colour that reads is left as it is');
    assert.deepEqual(parseRgba('rgb(1 2 3 / 50%)'), { rgb: [1, 2, 3], alpha: 0.5 });
    assert.deepEqual(parseColor('rgba(10, 20, 30, 0.5)'), [10, 20, 30]);
    assert.deepEqual(parseColor('#abc'), [170, 187, 204]);
  });
});

describe('saved view state', () => {
  it('restores what was saved and repairs anything else', () => {
    assert.deepEqual(restoreViewState(undefined), DEFAULT_VIEW_STATE);
    assert.deepEqual(restoreViewState('junk'), DEFAULT_VIEW_STATE);
    assert.deepEqual(restoreViewState({ smoothing: 0.9, showRaw: false, lastStep: 42 }), { version: 1, smoothing: 0.9, showRaw: false, lastStep: 42 });
    assert.deepEqual(restoreViewState({ smoothing: 7, showRaw: 'yes', lastStep: -1 }), { ...DEFAULT_VIEW_STATE, smoothing: MAX_SMOOTHING });
  });
});

describe('format', () => {
  it('writes durations and values compactly', () => {
    assert.equal(formatDuration(undefined), '—');
    assert.equal(formatDuration(42_400), '42s');
    assert.equal(formatDuration(185_000), '3m 05s');
    assert.equal(formatDuration(7_620_000), '2h 07m');
    assert.equal(formatDuration(100 * 3_600_000), '4d 04h');
    assert.equal(formatValue(null), '—');
    assert.equal(formatValue(0.123456), '0.1235');
    assert.equal(formatValue(1234.5678), '1235');
    assert.equal(formatValue(0.00001234), '1.23e-5');
  });
});
