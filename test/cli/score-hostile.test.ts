// `durian score` under hostile input (issue 18): equal entropies share a bucket (as the Durian estimator
// buckets them), an unwritable optional cache only warns, the pixels held in flight stay within budget,
// NaN encoder output names the row, image, model and output, image bombs and control characters in paths.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { scoreDataset } from '../../src/cli/score.js';
import { advantagesForLine, perceptualBuckets } from '../../src/core/index.js';
import { OnnxGraphBuilder } from '../../src/trainer/onnx/builder.js';
import { type Encoder, loadEncoder } from '../../src/trainer/encoder/index.js';
import { type Level, generateTask } from '../../src/trainer/tasks/index.js';

const root = path.resolve(__dirname, '../..');

function cli(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: root, maxBuffer: 64 << 20, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function pngOf(width: number, height: number, rgb: Uint8Array): Buffer {
  const png = new PNG({ width, height });
  for (let p = 0; p < width * height; p++) png.data.set([...rgb.subarray(p * 3, p * 3 + 3), 255], p * 4);
  return PNG.sync.write(png);
}

/** `distinct` task images, then the first one `repeats` more times (equal images: equal entropies). */
function datasetWithTies(distinct: number, repeats: number): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-score-ties-'));
  mkdirSync(path.join(dir, 'images'));
  const rows: unknown[] = [];
  for (let k = 0; k < distinct; k++) {
    const task = generateTask(11, 'validation', k, { perceptualLevel: (k % 4) as Level, reasoningLevel: 0 });
    writeFileSync(path.join(dir, 'images', `${k}.png`), pngOf(task.image.width, task.image.height, task.image.rgb));
    rows.push({ id: `t${k}`, images: [`images/${k}.png`], problem: task.question, answer: task.answer });
  }
  for (let r = 0; r < repeats; r++) rows.push({ id: `copy${r}`, images: ['images/0.png'], problem: 'q', answer: '1' });
  const file = path.join(dir, 'tasks.json');
  writeFileSync(file, JSON.stringify(rows));
  return { dir, file };
}

describe('perceptual buckets keep ties together', () => {
  it('equal entropies share a bucket, by the average rank of the tie', () => {
    // Sorted: four 1s at ranks 0..3 (average 1.5: quarter floor(1.5 * 4 / 8) = 0, low), 2 and 3 at ranks 4, 5
    // (quarter 2: mid), 4 and 5 at ranks 6, 7 (quarter 3: high). By plain rank the 1s were split low / mid.
    assert.deepEqual(Array.from(perceptualBuckets([1, 1, 1, 1, 2, 3, 4, 5])), [0, 0, 0, 0, 1, 1, 2, 2]);
    assert.deepEqual(Array.from(perceptualBuckets([5, 5, 5, 5, 5, 5])), [1, 1, 1, 1, 1, 1], 'all equal: average rank 2.5 of 6 is the middle');
    assert.deepEqual(Array.from(perceptualBuckets([8, 1, 5, 3, 7, 2, 6, 4])), [2, 0, 1, 1, 2, 0, 1, 1], 'distinct values: quarters by rank as before');
  });

  it('score gives identical images one bucket, the same one the Durian estimator gives their prompts', async () => {
    const { file } = datasetWithTies(5, 3); // 8 rows: image 0 four times
    const result = await scoreDataset(file, { cacheDir: null, progress: null });
    assert.equal(result.rows.length, 8);
    const copies = result.rows.filter((r) => r.image === 'images/0.png');
    assert.equal(copies.length, 4);
    assert.equal(new Set(copies.map((r) => r.entropy)).size, 1);
    assert.equal(new Set(copies.map((r) => r.bucket)).size, 1, `copies of one image in buckets ${copies.map((r) => r.bucket).join(', ')}`);
    // The estimator on a batch of one prompt per row (two samples each) with the rows' entropies.
    const line = {
      estimator: 'durian',
      index: result.rows.flatMap((r) => [`p${r.row}`, `p${r.row}`]),
      scores: result.rows.flatMap(() => [0, 1]),
      visualEntropy: result.rows.flatMap((r) => [r.entropy, r.entropy]),
      logprob: result.rows.flatMap(() => [-0.5, -0.5]),
    };
    const estimated = advantagesForLine(JSON.stringify(line), 1) as { prompts: { id: string; perceptualBucket: string }[] };
    assert.ok(!('error' in estimated), JSON.stringify(estimated));
    const byPrompt = new Map(estimated.prompts.map((p) => [p.id, p.perceptualBucket]));
    assert.deepEqual(result.rows.map((r) => byPrompt.get(`p${r.row}`)), result.rows.map((r) => r.bucket));
  });
});

describe('durian score: resources and errors', () => {
  it('an unwritable --cache-dir only warns: the scores are still written', () => {
    const { dir, file } = datasetWithTies(4, 0);
    const blocker = path.join(dir, 'not-a-folder');
    writeFileSync(blocker, 'x');
    const out = path.join(dir, 'scores.jsonl');
    const result = cli(['score', file, '--out', out, '--cache-dir', path.join(blocker, 'cache')]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 4);
    assert.match(result.stderr, /^warning: cannot write the feature cache .*not-a-folder\/cache\/features\/[0-9a-f]{64}: ENOTDIR.*going on without writing it$/m);
  });

  it('holds at most the in-flight pixel budget between encoder runs', async () => {
    const { file } = datasetWithTies(6, 0); // 96 x 96 images: 9216 pixels each
    const real = await loadEncoder();
    const runs: number[] = [];
    const counting: Encoder = { ...real, encode: (images) => (runs.push(images.length), real.encode(images)) };
    await scoreDataset(file, { cacheDir: null, progress: null, encoder: counting, maxMegapixelsInFlight: 0.02 });
    assert.deepEqual(runs, [2, 2, 2], 'two 9216-pixel images fit in 20000 pixels, a third does not');
    runs.length = 0;
    await scoreDataset(file, { cacheDir: null, progress: null, encoder: counting });
    assert.deepEqual(runs, [6], 'the default budget takes the whole batch');
  });

  it('--max-megapixels sets the per-image limit; a limit that is not a positive number is a usage error', () => {
    const { file } = datasetWithTies(2, 0);
    const strict = cli(['score', file, '--no-cache', '--max-megapixels', '0.005']); // 96 x 96 = 0.0092 MP
    assert.equal(strict.code, 1, 'nothing scored');
    assert.match(strict.stderr, /row 0: image images\/0\.png: PNG declares 96 x 96 = 0\.0092 MP, over the 0\.005 MP limit/);
    const zero = cli(['score', file, '--no-cache', '--megapixels-in-flight', '0']);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /^durian: --megapixels-in-flight: must be a number of megapixels/);
  });

  it('a NaN from the encoder ends the run naming the row, the image, the model and its output', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-score-nan-'));
    const g = new OnnxGraphBuilder();
    const x = g.input('image', 'float32', ['N', 4, 4, 3]);
    g.output(g.op('Reshape', [g.op('Sqrt', [g.op('Sub', [x, g.constant([0.5], [], 'half')])]), g.int64Constant([0, 16, 3])], undefined, 'tokens'), 'float32', ['N', 16, 3]);
    const model = path.join(dir, 'nan.onnx');
    writeFileSync(model, g.toBytes());
    writeFileSync(path.join(dir, 'bright.png'), pngOf(4, 4, new Uint8Array(48).fill(250)));
    writeFileSync(path.join(dir, 'dark.png'), pngOf(4, 4, new Uint8Array(48).fill(10)));
    const file = path.join(dir, 'data.json');
    writeFileSync(file, JSON.stringify([{ images: ['bright.png'], problem: 'q', answer: '1' }, { images: ['dark.png'], problem: 'q', answer: '1' }]));
    const result = cli(['score', file, '--no-cache', '--encoder', model, '--input-size', '4', '--layout', 'NHWC', '--output-layout', 'tokens', '--patches', '16', '--dims', '3']);
    assert.equal(result.code, 1);
    const lines = result.stderr.trim().split('\n').filter((l) => l.startsWith('durian:'));
    assert.equal(lines.length, 1, result.stderr);
    assert.equal(lines[0], `durian: row 1 (image dark.png): encoder ${model}: output 'tokens' is NaN for this image (patch 0, feature 0); the model must give finite features (check its input mean / std and the model itself)`);
  });

  it('an --input-size of 20000 is refused before anything is allocated', () => {
    const { dir, file } = datasetWithTies(1, 0);
    const model = path.join(dir, 'm.onnx');
    const g = new OnnxGraphBuilder();
    g.output(g.op('Identity', [g.input('x', 'float32', ['N', 3, 4, 4])], undefined, 'y'), 'float32', ['N', 3, 4, 4]);
    writeFileSync(model, g.toBytes());
    const result = cli(['score', file, '--no-cache', '--encoder', model, '--input-name', 'x', '--output-name', 'y', '--input-size', '20000', '--layout', 'NCHW', '--output-layout', 'tokens', '--patches', '16', '--dims', '3']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /input\.height and input\.width must be at most 4096 pixels, got 20000 x 20000/);
  });

  it('an image bomb is one skipped row saying which and why; control characters in paths are escaped', () => {
    const { dir, file } = datasetWithTies(2, 0);
    const ihdr = Buffer.alloc(25);
    ihdr.writeUInt32BE(13, 0);
    ihdr.write('IHDR', 4, 'latin1');
    ihdr.writeUInt32BE(20000, 8);
    ihdr.writeUInt32BE(20000, 12);
    ihdr.set([8, 2, 0, 0, 0], 16);
    writeFileSync(path.join(dir, 'bomb.png'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr]));
    const rows = JSON.parse(readFileSync(file, 'utf8')) as unknown[];
    rows.push({ images: ['bomb.png'], problem: 'q', answer: '1' }, { images: ['\u001b[2J\u001b]0;owned\u0007x.png'], problem: 'q', answer: '1' });
    writeFileSync(file, JSON.stringify(rows));
    const result = cli(['score', file, '--no-cache']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^ {2}row 2: image bomb\.png: PNG declares 20000 x 20000 = 400 MP, over the 40 MP limit \[.*bomb\.png\]$/m);
    assert.match(result.stderr, /row 3: missing image file \\x1b\[2J\\x1b\]0;owned\\x07x\.png \[.*\\x1b\[2J.*\]/);
    assert.ok(![...result.stderr].some((c) => c < ' ' && c !== '\n' && c !== '\r'), 'no raw control character reaches the terminal');
  });
});
