/**
 * What the Compare Runs panel reads of run folders, on real folders: metrics.jsonl as columns (a resumed run's
 * repeated steps replace the earlier ones, a metric that appears late is null before), validation.jsonl, the
 * identity (estimator, G, seed, backend, arm), a study folder's cells and their arms, the message's checks,
 * the command's arguments (the Runs view's selection, a study folder, a folder that is no run), and what the
 * panel restores after Reload Window.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { armOf, isStudyFolder, readCompareRun, restorableSource, studyRunDirs } from '../../src/extension/compareRuns.js';
import { COMPARE, parseCompareHostToWebview } from '../../src/protocol/compare.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'durian-compare-runs-'));
after(() => rmSync(root, { recursive: true, force: true }));

function jsonl(lines: unknown[]): string {
  return `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;
}

function makeRun(dir: string, config: Record<string, unknown>, files: Record<string, string> = {}): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ steps: 6, batchSize: 4, ...config }));
  writeFileSync(path.join(dir, 'status.json'), JSON.stringify({ state: 'completed', step: 6, pid: 1, updatedAt: new Date().toISOString() }));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

describe('a run folder as the Compare panel reads it', () => {
  const dir = makeRun(path.join(root, 'runs', 'r1'), { estimator: 'grpo', groupSize: 4, seed: 3 }, {
    'metrics.jsonl': jsonl([
      { step: 1, elapsedMs: 100, 'reward/mean': 0.1 },
      { step: 2, elapsedMs: 200, 'reward/mean': 0.2 },
      { step: 3, elapsedMs: 300, 'reward/mean': 0.3 },
      // resumed from the checkpoint of step 1: steps 2 and 3 again, with a new metric
      { step: 2, elapsedMs: 250, 'reward/mean': 0.25, 'actor/entropy': 2 },
      { step: 3, elapsedMs: 350, 'reward/mean': null, 'actor/entropy': 1.9 },
      'torn line',
    ]).replace('"torn line"', '{"step": 4, "rew'),
    'validation.jsonl': jsonl([
      { step: 0, accuracy: 0.1, reward: 0.2 },
      { step: 3, accuracy: 0.4, reward: 0.5 },
    ]),
    'trainer.log': '2026-12-02T02:55:35.007Z INFO  base policy loaded\n2026-12-02T02:55:35.084Z INFO  backend wasm (CPU (wasm, SIMD, 1 thread)); tried tfjs-node-gpu: not installed\n',
  });

  it('columns: one row per step, later lines replace repeated steps, null where a metric is missing', () => {
    const run = readCompareRun(dir);
    assert.deepEqual([...run.train.steps], [1, 2, 3]);
    assert.deepEqual([...run.train.columns['reward/mean']], [0.1, 0.25, NaN]);
    assert.deepEqual([...run.train.columns['actor/entropy']], [NaN, 2, 1.9]);
    assert.equal('elapsedMs' in run.train.columns, false);
    assert.deepEqual([...run.validation.steps], [0, 3]);
    assert.deepEqual([...run.validation.accuracy], [0.1, 0.4]);
    assert.deepEqual([...run.validation.reward], [0.2, 0.5]);
  });

  it('identity: estimator, G, seed, state, steps, duration, backend and arm', () => {
    const run = readCompareRun(dir);
    assert.equal(run.runName, 'r1');
    assert.equal(run.estimator, 'grpo');
    assert.equal(run.groupSize, 4);
    assert.equal(run.seed, 3);
    assert.equal(run.state, 'completed');
    assert.equal(run.totalSteps, 6);
    assert.equal(run.durationMs, 350);
    assert.equal(run.backend, 'wasm');
    assert.equal(run.arm, 'grpo-G4');
    assert.ok(parseCompareHostToWebview({ type: COMPARE.run, run }).ok, 'what it reads passes the message check');
  });

  it('a folder with nothing but config and status: empty tables, no invented facts', () => {
    const bare = readCompareRun(makeRun(path.join(root, 'runs', 'bare'), {}));
    assert.equal(bare.train.steps.length, 0);
    assert.deepEqual(bare.train.columns, {});
    assert.equal(bare.backend, undefined);
    assert.equal(bare.durationMs, undefined);
    assert.equal(bare.arm, 'run');
  });
});

describe('a durian study folder', () => {
  const study = path.join(root, 'study');
  for (const cell of ['durian-G8-s1', 'durian-G8-s2', 'grpo-G8-s1', 'durian-w1_0_0-G8-s1']) makeRun(path.join(study, 'runs', cell), { estimator: cell.startsWith('grpo') ? 'grpo' : 'durian', groupSize: 8 });
  mkdirSync(path.join(study, 'runs', 'not-started'));
  writeFileSync(path.join(study, 'study.json'), JSON.stringify({ format: 'durian-study/1' }));

  it('is recognised by its study.json and runs/; its cells are its run folders, by name', () => {
    assert.equal(isStudyFolder(study), true);
    assert.equal(isStudyFolder(path.join(study, 'runs', 'grpo-G8-s1')), false);
    assert.deepEqual(studyRunDirs(study).map((dir) => path.basename(dir)), ['durian-G8-s1', 'durian-G8-s2', 'durian-w1_0_0-G8-s1', 'grpo-G8-s1']);
  });

  it('cells of one arm differ only by seed', () => {
    assert.deepEqual(studyRunDirs(study).map((dir) => readCompareRun(dir).arm), ['durian-G8', 'durian-G8', 'durian-w1_0_0-G8', 'grpo-G8']);
    assert.equal(armOf('2026-12-01-durian', 'durian', 8), 'durian-G8');
    assert.equal(armOf('x', undefined, undefined), 'run');
  });
});

describe('what the Compare panel restores after Reload Window (its saved source)', () => {
  const runs = path.join(root, 'restore');
  const kept = makeRun(path.join(runs, 'kept'), { estimator: 'grpo' });
  const deleted = makeRun(path.join(runs, 'deleted'), { estimator: 'durian' });
  const study = path.join(root, 'study');

  it('the run folders that are still runs, in their order; a deleted one is left out', () => {
    assert.deepEqual(restorableSource({ runDirs: [kept, deleted] }), { runDirs: [kept, deleted] });
    rmSync(deleted, { recursive: true, force: true });
    assert.deepEqual(restorableSource({ runDirs: [kept, deleted, 42] }), { runDirs: [kept] });
    assert.equal(restorableSource({ runDirs: [deleted] }), undefined, 'nothing left: nothing to restore');
  });

  it('a study folder while it still is one; nothing from a value that is no source', () => {
    assert.deepEqual(restorableSource({ studyDir: study }), { studyDir: study });
    assert.equal(restorableSource({ studyDir: runs }), undefined, 'a folder without study.json is no study');
    for (const saved of [undefined, null, 'x', [], {}, { runDirs: 'x' }]) assert.equal(restorableSource(saved), undefined, JSON.stringify(saved));
  });
});

describe('the compare messages are checked', () => {
  const f = (values: number[]) => Float64Array.from(values);
  const run = { runDir: '/r', runName: 'r', arm: 'a', state: 'completed', train: { steps: f([1, 2]), columns: { m: f([1, NaN]) } }, validation: { steps: f([]), accuracy: f([]), reward: f([]) } };

  it('accepts a well-formed run and copies it', () => {
    const parsed = parseCompareHostToWebview({ type: COMPARE.runs, title: 't', study: false, runs: [run] });
    assert.ok(parsed.ok);
  });

  for (const [what, bad, error] of [
    ['a column shorter than its steps', { ...run, train: { steps: f([1, 2]), columns: { m: f([1]) } } }, /runs\[0\]\.train\.columns\.m: must hold 2 entries \(one per step\), got 1/],
    ['steps out of order', { ...run, train: { steps: f([2, 1]), columns: {} } }, /train\.steps\[1\]: must be larger than the step before \(2\), got 1/],
    ['an infinite value', { ...run, train: { steps: f([1]), columns: { m: f([Infinity]) } } }, /columns\.m\[0\]: must be a finite number or NaN \(missing\), got Infinity/],
    ['a plain array where a Float64Array belongs', { ...run, train: { steps: f([1]), columns: { m: [1] } } }, /columns\.m: must be a Float64Array/],
    ['a forbidden metric name', { ...run, train: { steps: f([1]), columns: Object.defineProperty({}, '__proto__', { value: f([1]), enumerable: true }) } }, /__proto__: is not an allowed metric name/],
    ['an unknown state', { ...run, state: 'exploded' }, /runs\[0\]\.state: must be one of/],
    ['a missing validation accuracy', { ...run, validation: { steps: f([1]), accuracy: f([NaN]), reward: f([0]) } }, /validation\.accuracy\[0\]: must be a finite number, got NaN/],
  ] as const) {
    it(`refuses ${what}, saying where`, () => {
      const parsed = parseCompareHostToWebview({ type: COMPARE.runs, title: 't', study: false, runs: [bad] });
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : parsed.error, error);
    });
  }

  it('refuses an unknown type and a non-object', () => {
    assert.match((parseCompareHostToWebview({ type: 'compare/nope' }) as { error: string }).error, /unknown message type "compare\/nope".*known: compare\/runs, compare\/run/);
    assert.equal(parseCompareHostToWebview(null).ok, false);
  });
});
