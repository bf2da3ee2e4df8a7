/**
 * The metrics table (src/protocol/metrics.ts) against a real run: every metric the trainer writes to
 * metrics.jsonl and streams in `trainer/step` is declared, every declared metric is written, and each value
 * means what the table says: its range and kind (fractions in [0, 1], counts whole, times and rates > 0),
 * and the relations between them (throughput is sequences per second of the step, timings add up, ...).
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  EVENT,
  METRIC,
  METRICS,
  METRICS_FILE,
  METRICS_LINE_FIELDS,
  METRIC_NAMES,
  VALIDATION_FILE,
  VALIDATION_METRICS,
  metricSpec,
  metricValueProblem,
} from '../../src/protocol/index.js';
import { TINY_CONFIG, type TinyRun, trainTiny } from '../support/tinyRun.js';

type Line = Record<string, number | null>;

function jsonLines(file: string): Line[] {
  return readFileSync(file, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Line);
}

describe('the metrics table, on a real run', { timeout: 300_000 }, () => {
  let tiny: TinyRun;
  let lines: Line[];
  before(async () => {
    tiny = await trainTiny([]);
    lines = jsonLines(path.join(tiny.run, METRICS_FILE));
  });
  after(() => tiny && rmSync(path.dirname(tiny.run), { recursive: true, force: true }));

  it('declares every metric the trainer writes, and the trainer writes every declared metric', () => {
    assert.equal(lines.length, TINY_CONFIG.steps);
    const recordFields = new Set<string>(Object.values(METRICS_LINE_FIELDS));
    for (const line of lines) {
      const undeclared = Object.keys(line).filter((name) => !recordFields.has(name) && metricSpec(name) === undefined);
      assert.deepEqual(undeclared, [], `step ${line.step}: metrics missing from src/protocol/metrics.ts`);
      const missing = METRIC_NAMES.filter((name) => !METRICS[name].fromUpdate && !(name in line));
      assert.deepEqual(missing, [], `step ${line.step}: declared metrics every step writes`);
    }
    const neverWritten = METRIC_NAMES.filter((name) => !lines.some((line) => name in line));
    assert.deepEqual(neverWritten, [], 'declared metrics no step wrote');
  });

  it('keeps every value in its declared range and kind', () => {
    const problems = lines.flatMap((line) => Object.entries(line).flatMap(([name, value]) => (name in METRICS_LINE_FIELDS ? [] : (metricValueProblem(name, value) ?? []))));
    assert.deepEqual(problems, []);
    for (const line of lines) assert.ok(typeof line.elapsedMs === 'number' && line.elapsedMs >= 0, 'elapsedMs is a duration');
    // The check itself can fail: values a trainer must never write are refused, naming the metric and unit.
    assert.match(metricValueProblem(METRIC.accuracyMean, 1.5) ?? '', /accuracy\/mean \(fraction\): must be <= 1/);
    assert.match(metricValueProblem(METRIC.keptGroups, 2.5) ?? '', /whole number/);
    assert.match(metricValueProblem(METRIC.throughput, 0) ?? '', /must be > 0/);
    assert.match(metricValueProblem('tokens/s', 3) ?? '', /not a declared metric/);
  });

  it('means what the table says: throughput is sequences per second of the step, timings add up, counts fit the batch', () => {
    const sequences = TINY_CONFIG.batchSize * TINY_CONFIG.groupSize;
    for (const line of lines) {
      const at = `step ${line.step}`;
      const value = (name: string) => line[name] as number;
      const stepSeconds = value(METRIC.timingStep);
      // perf/throughput = sequences / step seconds (not tokens: the old chart label said tokens per second).
      assert.ok(Math.abs(value(METRIC.throughput) * stepSeconds - sequences) < 1e-6 * sequences, `${at}: throughput x step time = ${sequences} sequences`);
      const parts = value(METRIC.timingRollout) + value(METRIC.timingScoring) + value(METRIC.timingUpdate);
      assert.ok(parts <= stepSeconds + 1e-3, `${at}: rollout + scoring + update (${parts}) fit in the step (${stepSeconds})`);
      assert.ok(value(METRIC.keptGroups) <= TINY_CONFIG.batchSize, `${at}: kept groups are prompts of the batch`);
      // A fraction of the batch's prompts is a multiple of 1 / batchSize; of its rollouts, of 1 / sequences.
      const zeroStdPrompts = value(METRIC.fracRewardZeroStd) * TINY_CONFIG.batchSize;
      assert.ok(Math.abs(zeroStdPrompts - Math.round(zeroStdPrompts)) < 1e-9, `${at}: frac_reward_zero_std counts prompts`);
      const extremes = value(METRIC.advantagesGrpoFracExtreme) * sequences;
      assert.ok(Math.abs(extremes - Math.round(extremes)) < 1e-9, `${at}: the grpo extreme fraction counts rollouts`);
      assert.ok(value(METRIC.advantagesMin) <= value(METRIC.advantagesMean) && value(METRIC.advantagesMean) <= value(METRIC.advantagesMax), `${at}: min <= mean <= max`);
    }
  });

  it('streams the same metrics in trainer/step as it writes to metrics.jsonl', () => {
    const steps = tiny.events.filter((event) => event.type === EVENT.step) as { step: number; metrics: Record<string, number> }[];
    assert.equal(steps.length, lines.length);
    for (const event of steps) {
      const line = lines.find((l) => l.step === event.step);
      assert.ok(line, `step ${event.step} is in metrics.jsonl`);
      const written = Object.fromEntries(Object.entries(line).filter(([name, value]) => !(name in METRICS_LINE_FIELDS) && value !== null));
      assert.deepEqual(event.metrics, written, `step ${event.step}`);
    }
  });

  it('keeps validation accuracies in [0, 1] and rewards in their range', () => {
    const validations = jsonLines(path.join(tiny.run, VALIDATION_FILE)) as unknown as { step: number; accuracy: number; reward: number; perLevel?: Record<string, number> }[];
    assert.ok(validations.length >= 2);
    for (const v of validations) {
      assert.equal(metricValueProblem('accuracy', v.accuracy, VALIDATION_METRICS.accuracy), undefined);
      assert.equal(metricValueProblem('reward', v.reward, VALIDATION_METRICS.reward), undefined);
      for (const [level, accuracy] of Object.entries(v.perLevel ?? {})) assert.equal(metricValueProblem(`perLevel/${level}`, accuracy, VALIDATION_METRICS.perLevel), undefined);
    }
  });
});
