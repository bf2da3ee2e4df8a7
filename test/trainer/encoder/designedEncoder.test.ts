// The designed encoder (media/encoder.onnx): up to date and deterministic, colour features find the right
// patch, shape features separate circles / squares / triangles, a blank image gives finite features.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildDesignedEncoder, DESIGNED_ENCODER, DESIGNED_FEATURE_NAMES, ENCODER_PALETTE } from '../../../src/trainer/encoder/designedEncoder.js';
import { loadEncoder, visualEntropy } from '../../../src/trainer/encoder/index.js';
import { COLOUR_NAMES, generateTask, LEVELS, SHAPE_NAMES } from '../../../src/trainer/tasks/index.js';
import { drawImage, makeRandom, type Background, type DrawnShape, type ShapeKind } from './drawShapes.js';

const media = path.resolve(__dirname, '../../../media');
const feature = (name: string) => DESIGNED_FEATURE_NAMES.indexOf(name);
const { featureDim: D, patchCount: P } = DESIGNED_ENCODER;

test('media/encoder.onnx is the current build, byte for byte, and encoder.json names its sha256', () => {
  const built = buildDesignedEncoder();
  assert.deepEqual(buildDesignedEncoder(), built, 'two builds differ: the build is not deterministic');
  const onDisk = readFileSync(path.join(media, 'encoder.onnx'));
  assert.ok(Buffer.from(built).equals(onDisk), 'media/encoder.onnx is stale: run npx tsx scripts/build-encoder.ts');
  const meta = JSON.parse(readFileSync(path.join(media, 'encoder.json'), 'utf8'));
  assert.equal(meta.sha256, createHash('sha256').update(onDisk).digest('hex'));
  assert.deepEqual([meta.input.name, meta.input.height, meta.input.width, meta.input.layout], ['pixels', 96, 96, 'NCHW']);
  assert.deepEqual([meta.output.name, meta.output.patches, meta.output.dims], ['patches', 64, 32]);
  assert.equal(meta.featureNames.length, 32);
});

test('each palette colour peaks on the patch that holds it', async () => {
  const encoder = await loadEncoder();
  const cells = [9, 22, 35, 50, 63];
  const images = ENCODER_PALETTE.map((colour, k) => drawImage([
    { kind: 'circle', cx: (cells[k] % 8) * 12 + 6, cy: Math.floor(cells[k] / 8) * 12 + 6, size: 9, rgb: colour.rgb },
  ], { kind: 'texture', seed: k + 1 }));
  const features = await encoder.encode(images);
  ENCODER_PALETTE.forEach((colour, k) => {
    for (const kind of ['fraction', 'peak']) {
      const j = feature(`colour/${colour.name}/${kind}`);
      let best = 0;
      for (let p = 1; p < P; p++) if (features[(k * P + p) * D + j] > features[(k * P + best) * D + j]) best = p;
      assert.equal(best, cells[k], `${colour.name} ${kind} peaks at patch ${best}, the circle is in ${cells[k]}`);
      // The other colours stay low on that patch.
      for (const other of ENCODER_PALETTE) {
        if (other === colour) continue;
        const value = features[(k * P + cells[k]) * D + feature(`colour/${other.name}/${kind}`)];
        assert.ok(value < 0.1, `${other.name} ${kind} is ${value} on a ${colour.name} circle`);
      }
    }
  });
});

test('shape features separate circle / square / triangle well above chance (rule and linear probe)', async (t) => {
  const encoder = await loadEncoder();
  const kinds: ShapeKind[] = ['circle', 'square', 'triangle'];
  const backgrounds: Background['kind'][] = ['plain', 'texture', 'clutter', 'noise'];
  const random = makeRandom(42);
  const samples: { kind: number; cell: number }[] = [];
  const images = [];
  for (let i = 0; i < 240; i++) {
    const kind = i % 3;
    const cell = Math.floor(random() * 64);
    const size = 5 + random() * 6;
    const jitter = () => (random() - 0.5) * (12 - size) * 0.8;
    const shape: DrawnShape = {
      kind: kinds[kind],
      cx: (cell % 8) * 12 + 6 + jitter(),
      cy: Math.floor(cell / 8) * 12 + 6 + jitter(),
      size,
      rgb: ENCODER_PALETTE[Math.floor(random() * 5)].rgb,
      angle: i % 2 === 0 ? 0 : random() * Math.PI * 2,
    };
    images.push(drawImage([shape], { kind: backgrounds[i % 4], seed: i + 1 }));
    samples.push({ kind, cell });
  }
  const features = await encoder.encode(images);
  const shapeColumns = DESIGNED_FEATURE_NAMES.map((name, j) => (name.startsWith('shape/') ? j : -1)).filter((j) => j >= 0);
  const rows = samples.map((s, i) => shapeColumns.map((j) => features[(i * P + s.cell) * D + j]));

  // A fixed rule on two features: triangles have three edge directions, squares four.
  const h3 = shapeColumns.indexOf(feature('shape/harmonic3'));
  const h4 = shapeColumns.indexOf(feature('shape/harmonic4'));
  const rule = (r: number[]) => (r[h3] > 0.3 && r[h3] > r[h4] ? 2 : r[h4] > 0.3 ? 1 : 0);
  const ruleAccuracy = rows.filter((r, i) => rule(r) === samples[i].kind).length / rows.length;

  // A linear probe (one-vs-rest least squares on standardised shape features), trained on the even half,
  // tested on the odd half.
  const train = rows.filter((_, i) => i % 4 < 2);
  const trainKinds = samples.filter((_, i) => i % 4 < 2).map((s) => s.kind);
  const testRows = rows.filter((_, i) => i % 4 >= 2);
  const testKinds = samples.filter((_, i) => i % 4 >= 2).map((s) => s.kind);
  const probe = fitLinearProbe(train, trainKinds, 3);
  const probeAccuracy = testRows.filter((r, i) => probe(r) === testKinds[i]).length / testRows.length;
  t.diagnostic(`shape rule accuracy ${(ruleAccuracy * 100).toFixed(1)}%, linear probe (held out) ${(probeAccuracy * 100).toFixed(1)}% (chance 33.3%)`);
  assert.ok(ruleAccuracy > 0.9, `rule accuracy ${ruleAccuracy}`);
  assert.ok(probeAccuracy > 0.9, `probe accuracy ${probeAccuracy}`);
});

test('a blank image gives finite features, all patches equal, visual entropy 0; clutter raises it', async () => {
  const encoder = await loadEncoder();
  const blank = { width: 96, height: 96, rgb: new Uint8Array(96 * 96 * 3).fill(255) };
  const black = { width: 96, height: 96, rgb: new Uint8Array(96 * 96 * 3) };
  const cluttered = drawImage([], { kind: 'clutter', seed: 3 });
  const features = await encoder.encode([blank, black, cluttered]);
  assert.ok(features.every(Number.isFinite));
  for (let p = 1; p < P; p++) for (let j = 0; j < D; j++) assert.equal(features[p * D + j], features[j]);
  assert.equal(visualEntropy(features, 0), 0);
  assert.equal(visualEntropy(features, 1), 0);
  assert.ok(visualEntropy(features, 2) > 0.1, `clutter entropy ${visualEntropy(features, 2)}`);
});

/** One-vs-rest linear least squares (ridge 1e-3) on standardised features: returns a classifier. */
function fitLinearProbe(rows: number[][], labels: number[], classes: number): (row: number[]) => number {
  const d = rows[0].length;
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / rows.length);
  const std = Array.from({ length: d }, (_, j) => Math.sqrt(rows.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / rows.length) || 1);
  const design = (r: number[]) => [1, ...r.map((v, j) => (v - mean[j]) / std[j])];
  const X = rows.map(design);
  const n = d + 1;
  const gram = Array.from({ length: n }, (_, a) => Array.from({ length: n }, (_, b) => X.reduce((s, x) => s + x[a] * x[b], 0) + (a === b ? 1e-3 : 0)));
  const weights = Array.from({ length: classes }, (_, c) => {
    const target = Array.from({ length: n }, (_, a) => X.reduce((s, x, i) => s + x[a] * (labels[i] === c ? 1 : 0), 0));
    return solve(gram.map((row) => [...row]), target);
  });
  return (row) => {
    const x = design(row);
    const scores = weights.map((w) => w.reduce((s, v, a) => s + v * x[a], 0));
    return scores.indexOf(Math.max(...scores));
  };
}

/** Gaussian elimination with partial pivoting. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const x = [...b];
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(A[r][col]) > Math.abs(A[pivot][col])) pivot = r;
    [A[col], A[pivot]] = [A[pivot], A[col]];
    [x[col], x[pivot]] = [x[pivot], x[col]];
    for (let r = col + 1; r < n; r++) {
      const f = A[r][col] / A[col][col];
      for (let c = col; c < n; c++) A[r][c] -= f * A[col][c];
      x[r] -= f * x[col];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    for (let c = r + 1; c < n; c++) x[r] -= A[r][c] * x[c];
    x[r] /= A[r][r];
  }
  return x;
}

test('on the real task suite: colour and presence per cell, shapes, and entropy rising with the perceptual level', async (t) => {
  const encoder = await loadEncoder();
  const meanEntropy: number[] = [];
  for (const level of LEVELS) {
    const tasks = Array.from({ length: 20 }, (_, i) => generateTask(11, 'train', i, { perceptualLevel: level, reasoningLevel: 0 }));
    const features = await encoder.encode(tasks.map((task) => task.image));
    let objects = 0;
    let colourHits = 0;
    let shapeHits = 0;
    let presenceHits = 0;
    let entropy = 0;
    tasks.forEach((task, i) => {
      entropy += visualEntropy(features, i) / tasks.length;
      const byCell = new Map(task.objects.map((o) => [o.row * 8 + o.col, o]));
      for (let p = 0; p < P; p++) {
        const at = (i * P + p) * D;
        const peaks = COLOUR_NAMES.map((c) => features[at + feature(`colour/${c}/peak`)]);
        const best = peaks.indexOf(Math.max(...peaks));
        const object = byCell.get(p);
        if ((peaks[best] > 0.5) === (object !== undefined)) presenceHits++;
        if (!object) continue;
        objects++;
        if (COLOUR_NAMES[best] === object.colour) colourHits++;
        const h3 = features[at + feature('shape/harmonic3')];
        const h4 = features[at + feature('shape/harmonic4')];
        if (SHAPE_NAMES[h3 > 0.3 && h3 > h4 ? 2 : h4 > 0.3 ? 1 : 0] === object.shape) shapeHits++;
      }
    });
    meanEntropy.push(entropy);
    t.diagnostic(`level ${level}: colour ${(colourHits / objects).toFixed(3)}, presence ${(presenceHits / (tasks.length * P)).toFixed(3)}, shape rule ${(shapeHits / objects).toFixed(3)}, mean visual entropy ${entropy.toFixed(3)}`);
    assert.ok(colourHits / objects > 0.95, `level ${level} colour accuracy ${colourHits / objects}`);
    assert.ok(presenceHits / (tasks.length * P) > 0.95, `level ${level} presence accuracy`);
    assert.ok(shapeHits / objects > (level <= 1 ? 0.95 : 0.75), `level ${level} shape accuracy ${shapeHits / objects}`);
  }
  for (let level = 1; level < meanEntropy.length; level++) {
    assert.ok(meanEntropy[level] > meanEntropy[level - 1], `mean visual entropy does not rise with the level: ${meanEntropy.join(', ')}`);
  }
});
