import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { encodePng, generateTask, writeTaskImage } from '../../../src/trainer/tasks/index.js';

const runDir = mkdtempSync(path.join(tmpdir(), 'durian-tasks-'));
after(() => rmSync(runDir, { recursive: true, force: true }));

describe('PNG images', () => {
  it('round-trips through pngjs decode pixel for pixel (24-bit RGB, opaque)', () => {
    for (const perceptualLevel of [0, 3] as const) {
      const task = generateTask(3, 'train', 5, { perceptualLevel, reasoningLevel: 1 });
      const bytes = encodePng(task.image);
      assert.equal(bytes[25], 2, 'IHDR colour type 2 = truecolour without alpha');
      const decoded = PNG.sync.read(bytes);
      assert.equal(decoded.width, 96);
      assert.equal(decoded.height, 96);
      for (let pixel = 0; pixel < 96 * 96; pixel++) {
        for (let c = 0; c < 3; c++) assert.equal(decoded.data[pixel * 4 + c], task.image.rgb[pixel * 3 + c]);
        assert.equal(decoded.data[pixel * 4 + 3], 255);
      }
    }
  });

  it('rejects image data of the wrong size', () => {
    assert.throws(() => encodePng({ width: 4, height: 4, rgb: new Uint8Array(10) }), RangeError);
  });

  it('writes images/<id>.png once, atomically, and returns the relative path', () => {
    const task = generateTask(3, 'validation', 42, { perceptualLevel: 2, reasoningLevel: 2 });
    const relative = writeTaskImage(runDir, task);
    assert.equal(relative, 'images/validation-000042.png');
    const file = path.join(runDir, 'images', 'validation-000042.png');
    const written = readFileSync(file);
    assert.deepEqual(Buffer.from(PNG.sync.read(written).data.filter((_, i) => i % 4 !== 3)), Buffer.from(task.image.rgb));

    // A second write with the same id leaves the existing file alone.
    const other = { ...task, image: generateTask(4, 'validation', 42, { perceptualLevel: 0, reasoningLevel: 0 }).image };
    assert.equal(writeTaskImage(runDir, other), relative);
    assert.deepEqual(readFileSync(file), written);
    assert.deepEqual(readdirSync(path.join(runDir, 'images')), ['validation-000042.png'], 'no temporary files left');
  });

  it('creates the images folder in a fresh run directory', () => {
    const fresh = path.join(runDir, 'nested', 'run');
    const relative = writeTaskImage(fresh, generateTask(3, 'train', 1, { perceptualLevel: 0, reasoningLevel: 0 }));
    assert.ok(existsSync(path.join(fresh, relative)));
  });
});
