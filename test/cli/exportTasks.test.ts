// `durian export-tasks`: the built-in tasks with their encoder features for trainers outside Node (python/durian_rl).
// The .npy holds exactly the TaskPool's features, the lines the tasks' gold responses and the reward's own scores,
// and bad flags are one line each with nothing written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { npyHeader } from '../../src/cli/exportTasks.js';
import { loadEncoder } from '../../src/trainer/encoder/index.js';
import { TaskPool } from '../../src/trainer/taskPool.js';
import { RESPONSE_VOCAB, decodeResponse, scoreResponse, targetResponse } from '../../src/trainer/tasks/index.js';

const root = path.resolve(__dirname, '../..');

function cli(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'export-tasks', ...args], { encoding: 'utf8', cwd: root });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The array of a .npy file (format 1.0, '<f4'), read the way numpy reads it. */
function readNpy(bytes: Buffer): { shape: number[]; data: Float32Array } {
  assert.equal(bytes.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  const headerLength = bytes.readUInt16LE(8);
  assert.equal((10 + headerLength) % 64, 0, 'the header is padded to 64 bytes');
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \([\d, ]+\), \} *\n$/);
  const shape = (/\(([\d, ]+)\)/.exec(header) as RegExpExecArray)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const body = bytes.subarray(10 + headerLength);
  return { shape, data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)) };
}

describe('durian export-tasks', () => {
  it('writes the TaskPool\'s tasks, features and entropies, the gold responses and the reward\'s scores', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-export-'));
    const out = path.join(dir, 'tasks');
    const run = cli(['--split', 'validation', '--n', '6', '--seed', '3', '--out', out, '--cache-dir', path.join(dir, 'cache')]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^wrote 6 validation tasks \(seed 3\)/);

    const meta = JSON.parse(readFileSync(path.join(out, 'validation.meta.json'), 'utf8'));
    assert.equal(meta.format, 'durian-tasks/1');
    assert.deepEqual(meta.responseVocab, RESPONSE_VOCAB);
    const { shape, data } = readNpy(readFileSync(path.join(out, 'validation.features.npy')));
    assert.deepEqual(shape, [6, meta.shape.patchCount, meta.shape.patchDim]);

    const encoder = await loadEncoder();
    const pool = new TaskPool(3, encoder, { cacheDirectory: path.join(dir, 'pool-cache') });
    const pooled = await pool.get('validation', [0, 1, 2, 3, 4, 5]);
    const lines = readFileSync(path.join(out, 'validation.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(lines.length, 6);
    const size = meta.shape.patchCount * meta.shape.patchDim;
    pooled.forEach(({ task, features, visualEntropy }, i) => {
      assert.deepEqual(data.subarray(i * size, (i + 1) * size), features, `features of ${task.id}`);
      const line = lines[i];
      assert.deepEqual([line.id, line.question, line.questionTokens, line.answer, line.perceptualLevel, line.reasoningLevel, line.visualEntropy],
        [task.id, task.question, task.questionTokens, task.answer, task.perceptualLevel, task.reasoningLevel, visualEntropy]);
      assert.deepEqual(line.goldResponse, targetResponse(task));
      assert.equal(line.goldText, decodeResponse(targetResponse(task)));
      assert.equal(line.rewardChecks.length, 10);
      for (const check of line.rewardChecks) assert.deepEqual({ format: check.format, accuracy: check.accuracy, reward: check.reward }, scoreResponse(check.tokens, task));
      assert.equal(line.rewardChecks[0].reward, 1);
      assert.ok(readFileSync(path.join(out, line.image)).subarray(1, 4).toString('latin1') === 'PNG');
    });
    const rewards = new Set(lines.flatMap((line) => line.rewardChecks.map((check: { reward: number }) => check.reward)));
    assert.ok(rewards.has(0) && rewards.has(0.1) && rewards.has(1), [...rewards].join(','));
    await encoder.release();
  });

  it('pads the .npy header to 64 bytes for any shape', () => {
    for (const shape of [[1], [3, 64, 32], [123456, 7, 9]]) {
      const header = npyHeader(shape);
      assert.equal(header.length % 64, 0);
      assert.equal(header.readUInt16LE(8), header.length - 10);
      assert.ok(header.toString('latin1').endsWith('\n'));
    }
    assert.match(npyHeader([5]).toString('latin1'), /'shape': \(5,\)/);
  });

  for (const [args, message] of [
    [['--split', 'test', '--n', '4'], /^durian: --split: must be "train" or "validation", got "test"\n$/],
    [['--split', 'train', '--n', '0'], /^durian: --n: must be a whole number from 1 to 1000000, got "0"\n$/],
    [['--split', 'train', '--n', '4', '--seed=-1'], /^durian: --seed: must be a whole number from 0 to 2147483647, got "-1"\n$/],
  ] as const) {
    it(`refuses ${args.join(' ')} with one line and writes nothing`, () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-export-bad-'));
      const out = (args as readonly string[]).includes('--out') ? [] : ['--out', path.join(dir, 'out')];
      const run = cli([...args, ...out]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, message);
      assert.equal(existsSync(path.join(dir, 'out')), false);
      assert.deepEqual(readdirSync(dir), []);
    });
  }

  it('needs --out', () => {
    const run = cli(['--split', 'train', '--n', '4']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^durian: --out: is required/);
  });
});
