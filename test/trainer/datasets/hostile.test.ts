// Hostile datasets (issue 18): image bombs refused from their header before any pixel is allocated, forged
// Parquet row counts, FIFOs in place of files, JSON Lines larger than a string can hold, symbolic links out
// of the dataset folder, and control characters in paths. Loads that could hang or take gigabytes on the old
// code run in a child process (loadInChild.ts) under a timeout, with their peak memory measured.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { loadDataset, openDataset } from '../../../src/trainer/datasets/index.js';
import { FIXTURE_IMAGES } from '../../fixtures/datasets/make-fixtures.js';
import { STRING_NODE, stringColumn, writeParquet } from '../../fixtures/datasets/writers.js';

const root = path.resolve(__dirname, '../../..');
const child = path.join(__dirname, 'loadInChild.ts');

interface ChildResult {
  rows?: number;
  skipped?: { row: number; reason: string }[];
  total?: number;
  error?: string;
  peakGrowthMB: number;
}

/** Loads `file` in a child process; fails the test if it does not finish within `timeoutMs`. */
function loadInChild(file: string, options: object = {}, timeoutMs = 30_000): ChildResult {
  const result = spawnSync(process.execPath, ['--import', 'tsx', child, file, JSON.stringify(options)], { cwd: root, encoding: 'utf8', timeout: timeoutMs });
  assert.notEqual(result.signal, 'SIGTERM', `loading ${path.basename(file)} did not finish within ${timeoutMs / 1000} s (hung or looping)`);
  assert.equal(result.status, 0, `child failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as ChildResult;
}

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'durian-hostile-'));
}

function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/** A PNG whose header declares `width` x `height` (8-bit RGB) over the given compressed pixel data. */
function craftPng(width: number, height: number, idat: Uint8Array = deflateSync(Buffer.alloc(1)), interlace = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, interlace], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

function writeDataset(dir: string, rows: unknown[]): string {
  const file = path.join(dir, 'data.json');
  writeFileSync(file, JSON.stringify(rows));
  return file;
}

describe('image bombs are refused from the header, before decoding', () => {
  it('a tiny PNG declaring 20000 x 20000: the row is skipped naming the size and the limit, with < 100 MB of memory', () => {
    const dir = tempDir();
    const bomb = craftPng(20000, 20000);
    assert.ok(bomb.length < 80, `${bomb.length} bytes`);
    writeFileSync(path.join(dir, 'bomb.png'), bomb);
    writeFileSync(path.join(dir, 'ok.png'), FIXTURE_IMAGES.rgb);
    const file = writeDataset(dir, [
      { images: ['ok.png'], problem: 'q', answer: '1' },
      { images: ['bomb.png'], problem: 'q', answer: '2' },
    ]);
    const result = loadInChild(file);
    assert.equal(result.rows, 1);
    assert.deepEqual(result.skipped!.map((s) => s.row), [1]);
    assert.match(result.skipped![0].reason, /^image bomb\.png: PNG declares 20000 x 20000 = 400 MP, over the 40 MP limit$/);
    assert.ok(result.peakGrowthMB < 100, `peak memory grew ${result.peakGrowthMB.toFixed(0)} MB`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the per-image limit is an option, and a JPEG is checked from its start-of-frame too', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'ok.png'), FIXTURE_IMAGES.rgb); // 12 x 8
    writeFileSync(path.join(dir, 'ok.jpg'), FIXTURE_IMAGES.colourJpeg); // 16 x 8
    const file = writeDataset(dir, [{ images: ['ok.png'], problem: 'q', answer: '1' }, { images: ['ok.jpg'], problem: 'q', answer: '1' }]);
    const strict = await loadDataset(file, { maxMegapixels: 0.0001 }); // 100 pixels
    assert.deepEqual(strict.skipped.map((s) => s.reason), ['image ok.jpg: JPEG declares 16 x 8 = 0.00013 MP, over the 0.0001 MP limit']);
    assert.equal(strict.rows.length, 1, 'the 96-pixel PNG is within 100 pixels');
    assert.equal((await loadDataset(file)).rows.length, 2);
    rmSync(dir, { recursive: true, force: true });
  });

  it("a row's images are budgeted together before any is decoded (in flight)", () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'a.png'), craftPng(6000, 6000));
    const file = writeDataset(dir, [{ images: ['a.png', 'a.png', 'a.png'], problem: 'q', answer: '1' }]);
    const result = loadInChild(file);
    assert.deepEqual(result.skipped!.map((s) => s.reason), ['its 3 images declare 108 MP together, over the 100 MP in-flight limit']);
    assert.ok(result.peakGrowthMB < 100, `peak memory grew ${result.peakGrowthMB.toFixed(0)} MB`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('an interlaced PNG whose pixel data inflates far past its declared size is refused as a bomb', () => {
    const dir = tempDir();
    // 1000 x 1000 RGB needs ~3 MB inflated; this stream inflates to 300 MB (it is 300 KB).
    writeFileSync(path.join(dir, 'bomb.png'), craftPng(1000, 1000, deflateSync(Buffer.alloc(300e6), { level: 9 }), 1));
    const file = writeDataset(dir, [{ images: ['bomb.png'], problem: 'q', answer: '1' }]);
    const result = loadInChild(file);
    assert.equal(result.rows, 0);
    assert.match(result.skipped![0].reason, /inflates to more than the 1000 x 1000 it declares \(a compression bomb\)/);
    assert.ok(result.peakGrowthMB < 100, `peak memory grew ${result.peakGrowthMB.toFixed(0)} MB`);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('forged Parquet row counts', () => {
  const schema = [STRING_NODE('images'), STRING_NODE('problem'), STRING_NODE('answer')];
  const columns = () => [stringColumn('images', ['ok.png', 'ok.png', 'ok.png']), stringColumn('problem', ['a', 'b', 'c']), stringColumn('answer', ['1', '2', '3'])];

  it('a footer declaring 2^40 rows over 3 real ones loads the 3 and ends', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'ok.png'), FIXTURE_IMAGES.rgb);
    const file = path.join(dir, 'forged.parquet');
    writeFileSync(file, writeParquet(schema, columns(), 3, 'uncompressed', { fileRows: 2 ** 40, groupRows: 2 ** 40 }));
    const result = loadInChild(file, {}, 20_000);
    assert.deepEqual([result.rows, result.skipped!.length, result.total], [3, 0, 3]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a footer declaring 1e6 rows over 3 real ones reports 3 rows, none skipped', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'ok.png'), FIXTURE_IMAGES.rgb);
    const file = path.join(dir, 'forged.parquet');
    writeFileSync(file, writeParquet(schema, columns(), 3, 'uncompressed', { fileRows: 1e6, groupRows: 1e6 }));
    assert.equal((await openDataset(file)).total, 3, 'the total is what the column chunks hold');
    const dataset = await loadDataset(file);
    assert.deepEqual([dataset.rows.length, dataset.skipped.length, dataset.total], [3, 0, 3]);
    assert.deepEqual(dataset.rows.map((r) => r.problem), ['a', 'b', 'c']);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('files that are not regular files', () => {
  for (const name of ['data.json', 'data.jsonl', 'data.parquet']) {
    it(`a FIFO given as the dataset (${name}) is refused at once`, () => {
      const dir = tempDir();
      const fifo = path.join(dir, name);
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      const result = loadInChild(fifo, {}, 20_000);
      assert.equal(result.error, `dataset ${fifo}: is a FIFO (named pipe), not a regular file`);
      rmSync(dir, { recursive: true, force: true });
    });
  }

  it('a FIFO or a folder given as an image skips the row, naming it', () => {
    const dir = tempDir();
    assert.equal(spawnSync('mkfifo', [path.join(dir, 'pipe.png')]).status, 0);
    mkdirSync(path.join(dir, 'folder.png'));
    const file = writeDataset(dir, [{ images: ['pipe.png'], problem: 'q', answer: '1' }, { images: ['folder.png'], problem: 'q', answer: '1' }]);
    const result = loadInChild(file, {}, 20_000);
    assert.equal(result.rows, 0);
    assert.deepEqual(result.skipped!.map((s) => s.reason.replace(dir, 'DIR')), [
      'image DIR/pipe.png is a FIFO (named pipe), not a regular file',
      'image DIR/folder.png is a folder, not a regular file',
    ]);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('JSON Lines larger than a string can hold', () => {
  it('a 600 MB JSON Lines file is streamed: every row is read, in little memory', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'ok.png'), FIXTURE_IMAGES.rgb);
    const file = path.join(dir, 'big.jsonl');
    const fd = openSync(file, 'w');
    const padding = 'x'.repeat(1 << 20);
    const rows = 600;
    for (let k = 0; k < rows; k++) writeSync(fd, `${JSON.stringify({ images: ['ok.png'], problem: `q${k} ${padding}`, answer: String(k) })}\n`);
    closeSync(fd);
    const result = loadInChild(file, { keepPixels: false }, 120_000);
    assert.equal(result.error, undefined);
    assert.deepEqual([result.rows, result.skipped!.length, result.total], [rows, 0, rows]);
    assert.ok(result.peakGrowthMB < 200, `peak memory grew ${result.peakGrowthMB.toFixed(0)} MB`);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('JSON (array) files too large to read whole', () => {
  it('are refused from their size, before reading, pointing at JSON Lines', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'huge.json');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 600e6); // sparse: no disk used
    closeSync(fd);
    await assert.rejects(loadDataset(file), (e: Error) => e.message === `dataset ${file}: is 600 MB, over the 500 MB limit (JSON files are read whole; write the rows as JSON Lines, one per line, which are streamed)`);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('image paths', () => {
  it('symbolic links out of the dataset folder are refused, and never echo the target file', async () => {
    const outside = tempDir();
    const dir = tempDir();
    writeFileSync(path.join(outside, 'secret.png'), FIXTURE_IMAGES.rgb);
    writeFileSync(path.join(outside, 'secret.txt'), 'root:x:0:0:root:/root:/bin/bash\n');
    symlinkSync(path.join(outside, 'secret.png'), path.join(dir, 'link.png'));
    symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'passwd.png'));
    mkdirSync(path.join(dir, 'sub'));
    symlinkSync(outside, path.join(dir, 'sub', 'out'));
    const file = writeDataset(dir, [
      { images: ['link.png'], problem: 'q', answer: '1' },
      { images: ['passwd.png'], problem: 'q', answer: '1' },
      { images: ['sub/out/secret.png'], problem: 'q', answer: '1' },
    ]);
    const dataset = await loadDataset(file);
    assert.equal(dataset.rows.length, 0);
    assert.equal(dataset.skipped.length, 3);
    for (const s of dataset.skipped) {
      assert.match(s.reason, /escapes the dataset folder .* \(through a symbolic link\)$/);
      assert.doesNotMatch(s.reason, /root:|72 6f 6f 74/);
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('a file named ..foo.png inside the folder is not an escape; ../foo.png is', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'data', '..foo.png'), FIXTURE_IMAGES.rgb);
    writeFileSync(path.join(dir, 'foo.png'), FIXTURE_IMAGES.rgb);
    const file = writeDataset(path.join(dir, 'data'), [{ images: ['..foo.png'], problem: 'q', answer: '1' }, { images: ['../foo.png'], problem: 'q', answer: '1' }]);
    const dataset = await loadDataset(file);
    assert.deepEqual(dataset.rows.map((r) => r.images[0].source), ['..foo.png']);
    assert.match(dataset.skipped[0].reason, /^image path "\.\.\/foo\.png" escapes the dataset folder/);
  });

  it('control characters in a path are shown escaped, never sent raw', async () => {
    const dir = tempDir();
    const file = writeDataset(dir, [{ images: ['\u001b[2J\u001b[31mred.png'], problem: 'q', answer: '1' }]);
    const dataset = await loadDataset(file);
    const reason = dataset.skipped[0].reason;
    assert.equal(reason, 'missing image file \\x1b[2J\\x1b[31mred.png');
    assert.ok(!reason.includes('\u001b'));
  });
});
