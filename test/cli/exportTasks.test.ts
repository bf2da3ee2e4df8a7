// `durian export-tasks`: the built-in tasks with their encoder features for trainers outside Node (python/durian_rl).
// The .npy holds exactly the TaskPool's features, the lines the tasks' gold responses and the reward's own scores,
// and bad flags are one line each with nothing written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runExportParquet } from '../../src/cli/exportParquet.js';
import { npyHeader } from '../../src/cli/exportTasks.js';
import { loadDataset } from '../../src/trainer/datasets/index.js';
import { loadEncoder } from '../../src/trainer/encoder/index.js';
import { TaskPool } from '../../src/trainer/taskPool.js';
import { RESPONSE_VOCAB, decodeResponse, encodePng, generateTask, scoreResponse, targetResponse, taskLevelsAt } from '../../src/trainer/tasks/index.js';

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
    [['--split', 'train', '--n', '4', '--suite', 'v3'], /^durian: --suite: must be one of v1, v2, got "v3"\n$/],
    [['--n', '4', '--suite', 'V2', '--out', path.join(os.tmpdir(), 'durian-refused-export.parquet')], /^durian: --suite: must be one of v1, v2, got "V2"\n$/],
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

  it('--suite v2 writes version 2\'s tasks (the trainer\'s TaskPool of suite v2), and says so in meta.json', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-export-v2-'));
    const out = path.join(dir, 'tasks');
    const run = cli(['--split', 'train', '--n', '5', '--seed', '2', '--suite', 'v2', '--out', out, '--cache-dir', path.join(dir, 'cache')]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^wrote 5 train tasks \(seed 2\) of suite v2:/);
    const meta = JSON.parse(readFileSync(path.join(out, 'train.meta.json'), 'utf8'));
    assert.equal(meta.suite, 'v2');
    const { data } = readNpy(readFileSync(path.join(out, 'train.features.npy')));
    const lines = readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    const encoder = await loadEncoder();
    const pooled = await new TaskPool(2, encoder, { cacheDirectory: path.join(dir, 'pool-cache'), suite: 'v2' }).get('train', [0, 1, 2, 3, 4]);
    const size = meta.shape.patchCount * meta.shape.patchDim;
    let unlikeV1 = 0;
    pooled.forEach(({ task, features }, i) => {
      const v2 = generateTask(2, 'train', i, taskLevelsAt(2, 'train', i), 'v2');
      assert.deepEqual([lines[i].question, lines[i].answer, lines[i].goldResponse], [v2.question, v2.answer, targetResponse(v2)], task.id);
      assert.deepEqual(readFileSync(path.join(out, lines[i].image)), encodePng(v2.image), `${task.id}: the image is version 2's`);
      assert.deepEqual(data.subarray(i * size, (i + 1) * size), features, `features of ${task.id}`);
      const v1 = generateTask(2, 'train', i, taskLevelsAt(2, 'train', i), 'v1');
      if (v1.question !== v2.question || !encodePng(v1.image).equals(encodePng(v2.image))) unlikeV1++;
    });
    assert.ok(unlikeV1 >= 4, `${unlikeV1} of 5 tasks differ from version 1's`);
    await encoder.release();
  });

  it('--suite v2 with --out FILE.parquet writes version 2\'s tasks as the dataset rows', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'durian-export-v2-')), 'suite.parquet');
    const lines: string[] = [];
    assert.equal(await runExportParquet(['--n', '3', '--validation-n', '2', '--seed', '4', '--suite', 'v2', '--out', out], (line) => lines.push(line)), 0);
    assert.match(lines[0], /wrote 5 built-in tasks \(3 train, 2 validation; seed 4\) of suite v2/);
    const dataset = await loadDataset(out, { extraFields: ['split'] });
    assert.equal(dataset.total, 5);
    dataset.rows.forEach((row, k) => {
      const split = k < 3 ? 'train' : 'validation';
      const index = k < 3 ? k : k - 3;
      const task = generateTask(4, split, index, taskLevelsAt(4, split, index), 'v2');
      assert.deepEqual([row.id, row.problem, row.answer], [task.id, `<image>${task.question}`, task.answer]);
      const [image] = row.images;
      const rgb = new Uint8Array(image.width * image.height * 3);
      for (let p = 0; p < image.width * image.height; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = image.data![p * image.channels + c];
      assert.deepEqual(rgb, task.image.rgb, `${task.id}: version 2's pixels`);
    });
  });

  it('needs --out', () => {
    const run = cli(['--split', 'train', '--n', '4']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^durian: --out: is required/);
  });
});
