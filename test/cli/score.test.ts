// `durian score`: entropy and 1:2:1 perceptual buckets per dataset row, skipped rows with their numbers,
// the on-disk entropy cache (a second run encodes nothing), and user encoders described by flags.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { scoreDataset } from '../../src/cli/score.js';
import { defaultEncoderPath } from '../../src/trainer/encoder/index.js';
import { type Level, generateTask } from '../../src/trainer/tasks/index.js';

const root = path.resolve(__dirname, '../..');
const fixtures = path.join(root, 'test/fixtures/datasets');

/** 8 task images (two per perceptual level) + two bad rows (rows 3 and 8), as a JSON dataset. */
function makeDataset(): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-score-'));
  mkdirSync(path.join(dir, 'images'));
  const rows: unknown[] = [];
  for (let k = 0; k < 8; k++) {
    const task = generateTask(7, 'validation', k, { perceptualLevel: (k % 4) as Level, reasoningLevel: 0 });
    const png = new PNG({ width: task.image.width, height: task.image.height });
    for (let p = 0; p < task.image.width * task.image.height; p++) png.data.set([...task.image.rgb.subarray(p * 3, p * 3 + 3), 255], p * 4);
    writeFileSync(path.join(dir, 'images', `${task.id}.png`), PNG.sync.write(png));
    rows.push({ id: task.id, images: [`images/${task.id}.png`], problem: task.question, answer: task.answer });
    if (k === 2) rows.push({ id: 'bad-missing', images: ['images/nope.png'], problem: 'q', answer: '1' });
    if (k === 6) rows.push({ id: 'bad-answer', images: [`images/${task.id}.png`], problem: 'q', answer: '' });
  }
  const file = path.join(dir, 'tasks.json');
  writeFileSync(file, JSON.stringify(rows));
  return { dir, file };
}

function cli(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: root, maxBuffer: 64 << 20 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('scoreDataset', () => {
  it('scores every good row, buckets them 1:2:1 by entropy, reports the bad rows, and caches entropies on disk', async () => {
    const { dir, file } = makeDataset();
    const cacheDir = path.join(dir, 'cache');
    const first = await scoreDataset(file, { cacheDir, progress: null });
    assert.equal(first.total, 10);
    assert.equal(first.rows.length, 8);
    assert.deepEqual(first.skipped.map((s) => [s.row, s.reason.split(':')[0]]), [[3, 'missing image file images/nope.png'], [8, 'empty answer']]);
    assert.deepEqual(first.buckets, { low: 2, mid: 4, high: 2 });
    const order = { low: 0, mid: 1, high: 2 };
    for (const a of first.rows) {
      for (const b of first.rows) if (order[a.bucket] < order[b.bucket]) assert.ok(a.entropy <= b.entropy, `${a.id} (${a.bucket}) vs ${b.id} (${b.bucket})`);
    }
    assert.ok(first.rows.every((r) => r.entropy > 0 && r.width === 96 && r.image.startsWith('images/')));
    assert.deepEqual([first.cache.encoded, first.cache.hits], [8, 0]);
    assert.ok(first.q25 < first.q75);

    const second = await scoreDataset(file, { cacheDir, progress: null });
    assert.deepEqual([second.cache.encoded, second.cache.hits], [0, 8], 'the second run reads every entropy from the disk cache');
    assert.deepEqual(second.rows.map((r) => r.entropy), first.rows.map((r) => r.entropy));
  });

  it('scores a Parquet file with embedded images; a row with two images gets their mean', async () => {
    const result = await scoreDataset(path.join(fixtures, 'embedded-snappy.parquet'), {
      imageField: 'image_list', problemField: 'question', answerField: 'solution', cacheDir: null, progress: null,
    });
    assert.deepEqual(result.rows.map((r) => r.row), [0, 1, 3, 5]);
    assert.deepEqual(result.skipped.map((s) => s.row), [2, 4]);
    const pair = result.rows.find((r) => r.row === 3)!;
    assert.equal(pair.images?.length, 2);
    assert.ok(Math.abs(pair.entropy - (pair.images![0].entropy + pair.images![1].entropy) / 2) < 1e-12);
    assert.equal(result.cache.directory, null);
  });
});

describe('durian score (CLI)', () => {
  it('writes JSON Lines to --out and a summary with the skipped rows to stderr; a second run hits the cache', () => {
    const { dir, file } = makeDataset();
    const out = path.join(dir, 'scores.jsonl');
    const env = ['--cache-dir', path.join(dir, 'cache')];
    const first = cli(['score', file, '--out', out, ...env]);
    assert.equal(first.code, 0, first.stderr);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 8);
    assert.deepEqual(Object.keys(lines[0]).sort(), ['bucket', 'entropy', 'height', 'id', 'image', 'problem', 'row', 'width']);
    assert.deepEqual(['low', 'mid', 'high'].map((b) => lines.filter((l) => l.bucket === b).length), [2, 4, 2]);
    assert.match(first.stderr, /scored 8 of 10 rows \(2 skipped\)/);
    assert.match(first.stderr, /buckets low 2, mid 4, high 2/);
    assert.match(first.stderr, /row 3: missing image file images\/nope\.png/);
    assert.match(first.stderr, /row 8: empty answer/);
    assert.match(first.stderr, /0 image\(s\) from cache, 8 encoded/);
    const second = cli(['score', file, '--out', out, ...env]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /8 image\(s\) from cache, 0 encoded/);
  });

  it('prints to stdout without --out and takes field names as flags', () => {
    const result = cli(['score', path.join(fixtures, 'embedded.parquet'), '--image-field', 'image_list', '--problem-field', 'question', '--answer-field', 'solution', '--no-cache']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.row), [0, 1, 3, 5]);
    assert.match(result.stderr, /row 2: missing image: "image_list" is null/);
  });

  it('names the model and the mismatch for a missing or mis-described encoder', () => {
    const { dir, file } = makeDataset();
    const missing = cli(['score', file, '--encoder', path.join(dir, 'none.onnx'), '--no-cache']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /encoder model not found: .*none\.onnx/);

    const model = path.join(dir, 'my-encoder.onnx');
    copyFileSync(defaultEncoderPath(), model); // the bundled model, without its sidecar
    const noSidecar = cli(['score', file, '--encoder', model, '--no-cache']);
    assert.equal(noSidecar.code, 1);
    assert.match(noSidecar.stderr, /encoder metadata not found: .*my-encoder\.json/);

    const wrongSize = cli(['score', file, '--encoder', model, '--input-size', '64', '--layout', 'NCHW', '--output-layout', 'tokens', '--patches', '64', '--dims', '32', '--no-cache']);
    assert.equal(wrongSize.code, 1);
    assert.match(wrongSize.stderr, /my-encoder\.onnx: input 'pixels' has shape \[N, 3, 96, 96\], metadata expects \[N, 3, 64, 64\]/);

    const incomplete = cli(['score', file, '--encoder', model, '--input-size', '96', '--no-cache']);
    assert.equal(incomplete.code, 1);
    assert.match(incomplete.stderr, /my-encoder\.onnx: .*output\.patches and output\.dims must be whole numbers/);

    const described = cli(['score', file, '--encoder', model, '--input-size', '96', '--layout', 'NCHW', '--output-layout', 'tokens', '--patches', '64', '--dims', '32', '--no-cache']);
    assert.equal(described.code, 0, described.stderr);
    const reference = cli(['score', file, '--no-cache']);
    const entropies = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l).entropy as number);
    assert.deepEqual(entropies(described.stdout), entropies(reference.stdout), 'flags describing the same model give the same entropies');
  });

  it('rejects a missing dataset argument with usage exit code 2', () => {
    const result = cli(['score']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /takes one DATASET file/);
  });
});
