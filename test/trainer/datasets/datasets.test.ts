// Dataset loading: JSON / JSON Lines / Parquet rows in the EasyR1 shape, PNG / JPEG of every channel layout,
// embedded bytes, and every bad row reported with its row number and file (nothing silently dropped).
// Fixtures: test/fixtures/datasets (regenerate with make-fixtures.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DatasetError, type DatasetRow, decodeImage, ImageDecodeError, loadDataset, openDataset, skipSummary } from '../../../src/trainer/datasets/index.js';
import { FIXTURE_IMAGES } from '../../fixtures/datasets/make-fixtures.js';
import { greyBlockJpeg } from '../../fixtures/datasets/writers.js';

const fixtures = path.resolve(__dirname, '../../fixtures/datasets');
const fixture = (name: string) => path.join(fixtures, name);

describe('decodeImage', () => {
  it('decodes RGB, RGBA and grey PNGs to RGBA pixels with their sizes', () => {
    const rgb = decodeImage(FIXTURE_IMAGES.rgb);
    assert.deepEqual([rgb.width, rgb.height, rgb.channels, rgb.format], [12, 8, 4, 'png']);
    // pixel (3, 2) of the RGB image is (60, 60, 200), opaque
    assert.deepEqual([...rgb.data.subarray((2 * 12 + 3) * 4, (2 * 12 + 3) * 4 + 4)], [60, 60, 200, 255]);
    const rgba = decodeImage(FIXTURE_IMAGES.rgba);
    assert.equal(rgba.data[(0 * 10 + 7) * 4 + 3], 0, 'the right half is transparent');
    assert.equal(rgba.data[(0 * 10 + 2) * 4 + 3], 255);
    const grey = decodeImage(FIXTURE_IMAGES.grey);
    assert.equal(grey.data[(3 * 8 + 2) * 4], 80);
    assert.equal(grey.data[(3 * 8 + 2) * 4 + 1], 80);
  });

  it('keeps a one-component JPEG as one grey channel, with its block levels', () => {
    const grey = decodeImage(greyBlockJpeg([[40, 90], [160, 220]]));
    assert.deepEqual([grey.width, grey.height, grey.channels, grey.format], [16, 16, 1, 'jpeg']);
    assert.equal(grey.data.length, 256);
    for (const [x, y, level] of [[2, 2, 40], [12, 3, 90], [4, 12, 160], [13, 13, 220]]) {
      assert.ok(Math.abs(grey.data[y * 16 + x] - level) <= 1, `(${x}, ${y}) = ${grey.data[y * 16 + x]}, expected ${level}`);
    }
  });

  it('decodes a colour JPEG to RGB', () => {
    const colour = decodeImage(FIXTURE_IMAGES.colourJpeg);
    assert.deepEqual([colour.width, colour.height, colour.channels], [16, 8, 3]);
    assert.ok(colour.data[0] > 180 && colour.data[2] < 80, 'left half is orange-ish');
    assert.ok(colour.data[(15) * 3] < 80 && colour.data[15 * 3 + 2] > 180, 'right half is blue-ish');
  });

  it('names what is wrong with bytes that are not PNG or JPEG', () => {
    assert.throws(() => decodeImage(new Uint8Array(0)), /empty/);
    assert.throws(() => decodeImage(Buffer.from('GIF89a......')), (e: Error) => e instanceof ImageDecodeError && /GIF is not supported/.test(e.message));
    assert.throws(() => decodeImage(Buffer.from('hello world')), (e: Error) => /not a PNG or JPEG/.test(e.message) && !/68 65|hello/.test(e.message), 'the bytes of the file are never echoed');
    assert.throws(() => decodeImage(FIXTURE_IMAGES.rgb.subarray(0, 40)), /undecodable PNG/);
    assert.throws(() => decodeImage(FIXTURE_IMAGES.colourJpeg.subarray(0, 30)), /undecodable JPEG/);
  });
});

describe('loadDataset: JSON', () => {
  it('loads the good rows and reports every bad one with its row number, file and reason', async () => {
    const dataset = await loadDataset(fixture('geo.json'));
    assert.equal(dataset.format, 'json');
    assert.equal(dataset.total, 11);
    assert.equal(dataset.rows.length + dataset.skipped.length, dataset.total);
    assert.deepEqual(dataset.rows.map((r) => r.row), [0, 1, 3, 5, 10]);
    assert.deepEqual(dataset.rows.map((r) => r.id), ['g0', 'g1', 'g3', 'g5', 'g10']);
    const skipped = Object.fromEntries(dataset.skipped.map((s) => [s.row, s]));
    assert.deepEqual(Object.keys(skipped).map(Number), [2, 4, 6, 7, 8, 9]);
    assert.match(skipped[2].reason, /missing image file img\/missing\.png/);
    assert.equal(skipped[2].file, fixture('img/missing.png'));
    assert.match(skipped[4].reason, /not-an-image\.png: not a PNG or JPEG/);
    assert.equal(skipped[4].file, fixture('img/not-an-image.png'));
    assert.match(skipped[6].reason, /^empty answer/);
    assert.equal(skipped[6].file, fixture('geo.json'));
    assert.match(skipped[7].reason, /escapes the dataset folder/);
    assert.match(skipped[8].reason, /^missing image: no field "images" \(fields: id, images, problem, answer\)/);
    assert.match(skipped[9].reason, /truncated\.png: undecodable PNG/);
    const summary = Object.fromEntries(skipSummary(dataset.skipped).map((s) => [s.reason, s.rows]));
    assert.deepEqual(summary, {
      'missing image': [2, 8],
      'undecodable image': [4, 9],
      'empty answer': [6],
      'image path escapes the dataset folder': [7],
    });
  });

  it('keeps pixels of every layout: RGBA PNG, grey JPEG (1 channel), two images in one row, embedded base64', async () => {
    const { rows } = await loadDataset(fixture('geo.json'));
    const byId: Record<string, DatasetRow> = Object.fromEntries(rows.map((r) => [r.id ?? '', r]));
    assert.deepEqual([byId.g1.images[0].channels, byId.g1.images[0].width, byId.g1.images[0].data?.length], [4, 10, 10 * 6 * 4]);
    assert.equal(byId.g1.answer, '\\frac{1}{2}');
    assert.deepEqual([byId.g3.images[0].format, byId.g3.images[0].channels, byId.g3.images[0].data?.length], ['jpeg', 1, 256]);
    assert.deepEqual(byId.g5.images.map((i) => [i.source, i.format, i.channels]), [['img/colour.jpg', 'jpeg', 3], ['img/grey.png', 'png', 4]]);
    assert.equal(byId.g5.answer, '7', 'a numeric answer becomes text');
    assert.equal(byId.g10.images[0].embedded, true);
    assert.equal(byId.g10.images[0].source, '<embedded images[0] grey.png>');
    assert.deepEqual([byId.g10.images[0].width, byId.g10.images[0].height], [8, 8]);
    assert.equal(byId.g0.images[0].file, fixture('img/rgb.png'));
  });

  it('keepPixels: false keeps geometry only, and still checks that every image decodes', async () => {
    const dataset = await loadDataset(fixture('geo.json'), { keepPixels: false });
    assert.equal(dataset.rows.length, 5);
    assert.ok(dataset.rows.every((r) => r.images.every((i) => i.data === undefined && i.width > 0)));
    assert.equal(dataset.skipped.length, 6);
  });

  it('takes other field names, and an image folder that paths are relative to', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-dataset-'));
    const file = path.join(dir, 'rows.json');
    writeFileSync(file, JSON.stringify([
      { image: 'img/rgb.png', question: 'q', solution: '1' },
      { image: 'img/grey.jpg', question: 'q', solution: '' },
      { image: '/etc/passwd', question: 'q', solution: '1' },
    ]));
    const dataset = await loadDataset(file, { imageField: 'image', problemField: 'question', answerField: 'solution', imageDir: fixtures });
    assert.deepEqual(dataset.rows.map((r) => [r.row, r.problem, r.answer]), [[0, 'q', '1']]);
    assert.deepEqual(dataset.skipped.map((s) => [s.row, s.reason.split(' ').slice(0, 2).join(' ')]), [[1, 'empty answer'], [2, 'image path']]);
    assert.match(dataset.skipped[1].reason, /escapes the dataset folder/);
  });

  it('fails as a whole, naming the file, when the file is not a JSON array', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-dataset-'));
    writeFileSync(path.join(dir, 'object.json'), '{"rows": []}');
    writeFileSync(path.join(dir, 'broken.json'), '[{"a": 1},');
    await assert.rejects(loadDataset(path.join(dir, 'object.json')), (e: Error) => e instanceof DatasetError && /object\.json: must hold a JSON array/.test(e.message));
    await assert.rejects(loadDataset(path.join(dir, 'broken.json')), /broken\.json: is not valid JSON/);
    await assert.rejects(loadDataset(path.join(dir, 'none.json')), /none\.json: does not exist/);
    await assert.rejects(loadDataset(path.join(dir, 'rows.csv')), /cannot tell the format/);
  });
});

describe('loadDataset: JSON Lines', () => {
  it('numbers rows without blank lines, reports broken lines with row and line, takes a single path', async () => {
    const dataset = await loadDataset(fixture('geo.jsonl'));
    assert.equal(dataset.format, 'jsonl');
    assert.equal(dataset.total, 5, 'the blank line is not a row');
    assert.deepEqual(dataset.rows.map((r) => [r.row, r.line, r.answer]), [[0, 1, 'A'], [2, 4, '12 cm'], [4, 6, '-3']]);
    assert.deepEqual(dataset.skipped.map((s) => [s.row, s.line]), [[1, 3], [3, 5]]);
    assert.match(dataset.skipped[0].reason, /^line 3 is not valid JSON/);
    assert.match(dataset.skipped[1].reason, /^line 5 is not a JSON object/);
    assert.equal(dataset.skipped[0].file, fixture('geo.jsonl'));
    assert.equal(dataset.rows[2].images[0].channels, 4);
  });

  it('streams: openDataset knows the total before the first row', async () => {
    const opened = await openDataset(fixture('geo.jsonl'));
    assert.equal(opened.total, 5);
    const kinds: string[] = [];
    for await (const item of opened.items()) kinds.push(item.kind);
    assert.deepEqual(kinds, ['row', 'skipped', 'row', 'skipped', 'row']);
  });
});

describe('loadDataset: Parquet (HF datasets Sequence(Image()) with embedded bytes)', () => {
  for (const name of ['embedded.parquet', 'embedded-snappy.parquet']) {
    it(`${name}: embedded PNG / JPEG bytes, a path-only image, and rows with no image reported`, async () => {
      const dataset = await loadDataset(fixture(name), { imageField: 'image_list', problemField: 'question', answerField: 'solution' });
      assert.equal(dataset.format, 'parquet');
      assert.equal(dataset.total, 6);
      assert.deepEqual(dataset.rows.map((r) => [r.row, r.problem, r.answer, r.images.length]), [
        [0, 'q0', '(A)', 1], [1, 'q1', '25%', 1], [3, 'q3', '2\\sqrt{3}', 2], [5, 'q5', 'C', 1],
      ]);
      const [rgba, grey, pair, pathOnly] = dataset.rows;
      assert.deepEqual([rgba.images[0].embedded, rgba.images[0].format, rgba.images[0].channels, rgba.images[0].width, rgba.images[0].height], [true, 'png', 4, 10, 6]);
      assert.equal(rgba.images[0].source, '<embedded image_list[0] rgba.png>');
      assert.deepEqual([grey.images[0].format, grey.images[0].channels, grey.images[0].width], ['jpeg', 1, 16]);
      assert.deepEqual(pair.images.map((i) => [i.format, i.channels]), [['png', 4], ['jpeg', 3]]);
      assert.deepEqual([pathOnly.images[0].embedded, pathOnly.images[0].file], [false, fixture('img/grey.png')]);
      assert.deepEqual(dataset.skipped.map((s) => [s.row, s.reason]), [
        [2, 'missing image: "image_list" is null'],
        [4, 'missing image: "image_list" is an empty list'],
      ]);
    });
  }

  it('fails as a whole, listing the columns, when a named field is not a column', async () => {
    await assert.rejects(loadDataset(fixture('embedded.parquet')), (e: Error) =>
      e instanceof DatasetError && /no column "images", "problem", "answer" \(columns: image_list, question, solution\)/.test(e.message));
  });

  it('says so when the file is not Parquet', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-dataset-'));
    writeFileSync(path.join(dir, 'fake.parquet'), 'not parquet at all');
    await assert.rejects(loadDataset(path.join(dir, 'fake.parquet')), /fake\.parquet: is not a readable Parquet file/);
  });
});
