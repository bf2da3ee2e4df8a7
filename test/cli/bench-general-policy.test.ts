/**
 * The general-policy bench suite's rows (not its timings): ratios TypeScript / PyTorch, the targets
 * (rollouts >= 1.0x, update >= 0.5x, whole step >= 0.5x), the threads of each side, and a clear note when the
 * PyTorch half is skipped. Also: `durian bench --help` lists the suite and the --quick flag.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type GeneralSpeed, generalBenchRows, generalBenchShape } from '../../src/cli/bench/generalPolicy.js';

const ours: GeneralSpeed = { rolloutPerSecond: 900, updatePerSecond: 300, stepPerSecond: 150, framework: 'onnxruntime, tfjs CPU (wasm, SIMD, 1 thread)', threads: 2, parameters: 212569 };
const theirs: GeneralSpeed = { rolloutPerSecond: 1000, updatePerSecond: 500, stepPerSecond: 250, framework: 'torch 2.1', threads: 2, parameters: 212569 };

describe('general-policy bench rows', () => {
  it('gives each measure its ratio against PyTorch and checks the issue 14 targets', () => {
    const rows = generalBenchRows(generalBenchShape(false), ours, [theirs], null);
    assert.deepEqual(rows.map((r) => r.ratio), [0.9, 0.6, 0.6]);
    assert.deepEqual(rows.map((r) => r.target), ['>= 1x PyTorch', '>= 0.5x PyTorch', '>= 0.5x PyTorch']);
    assert.deepEqual(rows.map((r) => r.pass), [false, true, true]);
    assert.deepEqual(rows.map((r) => r.unit), ['sequences/s', 'samples/s', 'samples/s']);
    for (const row of rows) {
      assert.match(row.name, /128 x 8 \(onnxruntime 2 threads\)/);
      assert.equal(row.baseline?.name, 'torch 2.1, 2 threads');
      assert.equal(row.note, undefined);
    }
  });

  it('says why the PyTorch half is missing and claims no ratio', () => {
    const rows = generalBenchRows(generalBenchShape(true), ours, [], 'python3-torch is not installed for /usr/bin/python3');
    for (const row of rows) {
      assert.match(row.name, /16 x 8/);
      assert.equal(row.ratio, undefined);
      assert.equal(row.pass, undefined);
      assert.equal(row.note, 'no PyTorch baseline: python3-torch is not installed for /usr/bin/python3');
    }
  });

  it('compares each measure with the fastest torch thread count', () => {
    const oneThread: GeneralSpeed = { ...theirs, threads: 1, rolloutPerSecond: 600, updatePerSecond: 600, stepPerSecond: 200 };
    const rows = generalBenchRows(generalBenchShape(false), ours, [oneThread, theirs], null);
    assert.deepEqual(rows.map((r) => r.baseline?.name), ['torch 2.1, 2 threads', 'torch 2.1, 1 thread', 'torch 2.1, 2 threads']);
    assert.deepEqual(rows.map((r) => r.ratio), [0.9, 0.5, 0.6]);
  });

  it('names the update threads of the TypeScript side (tfjs with the gradient worker) in the update and whole-step rows', () => {
    const rows = generalBenchRows(generalBenchShape(false), { ...ours, threads: 1, updateThreads: 2 }, [theirs], null);
    assert.deepEqual(rows.map((r) => r.name.replace(/^.*\(/, '(')), ['(onnxruntime 1 thread)', '(onnxruntime 1 thread, tfjs 2 threads)', '(onnxruntime 1 thread, tfjs 2 threads)']);
  });

  it('flags a parameter-count mismatch between the two sides', () => {
    const rows = generalBenchRows(generalBenchShape(false), ours, [{ ...theirs, parameters: 1000 }], null);
    assert.equal(rows[0].note, 'parameters differ: 212569 vs 1000');
  });

  it('is listed by durian bench --help, with --quick', () => {
    const result = spawnSync(process.execPath, [path.resolve(__dirname, '../../dist/cli.js'), 'bench', '--help'], { encoding: 'utf8' });
    assert.equal(result.status, 0);
    assert.match(result.stdout, /^ {2}general-policy +\S/m);
    assert.match(result.stdout, /--quick/);
  });
});
