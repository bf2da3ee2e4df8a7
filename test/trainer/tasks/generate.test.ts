import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { generateTask, generateTaskSet, taskLevelsAt, type Level, type Task } from '../../../src/trainer/tasks/index.js';

// Golden values: if these change, every saved task set (and its images) changes with them.
const GOLDEN_IMAGE_SHA256 = '2ce70985d1a65dcb541557a00cde3cebdc98f6c32f026cee0dee7de6bc0f5d92';
const GOLDEN_QUESTION = 'how many squares minus green objects minus blue objects ?';

const levelArbitrary = fc.constantFrom<Level>(0, 1, 2, 3);

function imageHash(task: Task): string {
  return createHash('sha256').update(task.image.rgb).digest('hex');
}

/** Everything but the image, as JSON. */
function description(task: Task): string {
  return JSON.stringify({ ...task, image: undefined });
}

describe('generateTask', () => {
  it('is deterministic: the same (seed, split, index, levels) gives byte-identical tasks', () => {
    fc.assert(fc.property(
      fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.constantFrom('train' as const, 'validation' as const),
      fc.nat({ max: 1_000_000 }), levelArbitrary, levelArbitrary,
      (seed, split, index, perceptualLevel, reasoningLevel) => {
        const a = generateTask(seed, split, index, { perceptualLevel, reasoningLevel });
        const b = generateTask(seed, split, index, { perceptualLevel, reasoningLevel });
        assert.deepEqual(Buffer.from(a.image.rgb), Buffer.from(b.image.rgb));
        assert.equal(description(a), description(b));
      },
    ), { numRuns: 40 });
  });

  it('pins one image so a change to the drawing is noticed', () => {
    const task = generateTask(1, 'train', 0, { perceptualLevel: 3, reasoningLevel: 3 });
    assert.equal(task.id, 'train-000000');
    assert.equal(imageHash(task), GOLDEN_IMAGE_SHA256);
    assert.equal(task.question, GOLDEN_QUESTION);
  });

  it('gives different images for a different seed or index', () => {
    const levels = { perceptualLevel: 1 as Level, reasoningLevel: 0 as Level };
    for (let index = 0; index < 20; index++) {
      const base = imageHash(generateTask(10, 'train', index, levels));
      assert.notEqual(imageHash(generateTask(11, 'train', index, levels)), base);
      assert.notEqual(imageHash(generateTask(10, 'train', index + 1, levels)), base);
    }
  });

  it('keeps the knobs independent: the perceptual level changes only the drawing', () => {
    for (let index = 0; index < 30; index++) {
      const tasks = ([0, 1, 2, 3] as const).map((perceptualLevel) => generateTask(4, 'validation', index, { perceptualLevel, reasoningLevel: 2 }));
      const what = tasks.map((t) => JSON.stringify([t.question, t.answer, t.objects.map((o) => [o.colour, o.shape, o.row, o.col])]));
      assert.equal(new Set(what).size, 1);
      assert.equal(new Set(tasks.map(imageHash)).size, 4);
    }
  });

  it('rejects bad arguments with a clear error', () => {
    assert.throws(() => generateTask(1, 'train', 0, { perceptualLevel: 4 as Level, reasoningLevel: 0 }), /perceptualLevel/);
    assert.throws(() => generateTask(1, 'train', 0, { perceptualLevel: 0, reasoningLevel: -1 as Level }), /reasoningLevel/);
    assert.throws(() => generateTask(1, 'test' as never, 0, { perceptualLevel: 0, reasoningLevel: 0 }), /split/);
    assert.throws(() => generateTask(1, 'train', -1, { perceptualLevel: 0, reasoningLevel: 0 }), /index/);
    assert.throws(() => generateTaskSet({ seed: 1, split: 'train', count: 3, reasoningLevels: [] }), /reasoningLevels/);
    assert.throws(() => generateTaskSet({ seed: 1, split: 'train', count: -1 }), /count/);
  });
});

describe('generateTaskSet', () => {
  const train = generateTaskSet({ seed: 8, split: 'train', count: 300 });
  const validation = generateTaskSet({ seed: 8, split: 'validation', count: 300 });

  it('names tasks by split and index, uniquely', () => {
    assert.equal(train.length, 300);
    assert.equal(train[0].id, 'train-000000');
    assert.equal(validation[123].id, 'validation-000123');
    assert.equal(new Set(train.map((t) => t.id)).size, 300);
    train.forEach((task, i) => assert.equal(task.index, i));
  });

  it('keeps train and validation disjoint: no shared id, image or scene', () => {
    const trainIds = new Set(train.map((t) => t.id));
    assert.ok(validation.every((t) => !trainIds.has(t.id) && t.split === 'validation'));
    const trainImages = new Set(train.map(imageHash));
    assert.ok(validation.every((t) => !trainImages.has(imageHash(t))));
    const scene = (t: Task): string => JSON.stringify(t.objects);
    const trainScenes = new Set(train.map(scene));
    assert.ok(validation.every((t) => !trainScenes.has(scene(t))));
  });

  it('draws both levels uniformly by default', () => {
    const perceptual = [0, 0, 0, 0];
    const reasoning = [0, 0, 0, 0];
    const pairs = new Set<string>();
    for (let index = 0; index < 4000; index++) {
      const levels = taskLevelsAt(8, 'train', index);
      perceptual[levels.perceptualLevel]++;
      reasoning[levels.reasoningLevel]++;
      pairs.add(`${levels.perceptualLevel}/${levels.reasoningLevel}`);
    }
    for (const count of [...perceptual, ...reasoning]) assert.ok(count > 900 && count < 1100, `${perceptual} ${reasoning}`);
    assert.equal(pairs.size, 16);
    train.forEach((task) => assert.deepEqual(
      { perceptualLevel: task.perceptualLevel, reasoningLevel: task.reasoningLevel }, taskLevelsAt(8, 'train', task.index),
    ));
  });

  it('honours restricted level lists', () => {
    const tasks = generateTaskSet({ seed: 8, split: 'train', count: 60, perceptualLevels: [2], reasoningLevels: [0, 3] });
    assert.ok(tasks.every((t) => t.perceptualLevel === 2 && (t.reasoningLevel === 0 || t.reasoningLevel === 3)));
    assert.ok(tasks.some((t) => t.reasoningLevel === 0) && tasks.some((t) => t.reasoningLevel === 3));
  });

  it('extends a set with firstIndex exactly as generating it whole', () => {
    const tail = generateTaskSet({ seed: 8, split: 'train', count: 20, firstIndex: 280 });
    assert.deepEqual(tail.map((t) => t.id), train.slice(280).map((t) => t.id));
    assert.deepEqual(tail.map(imageHash), train.slice(280).map(imageHash));
  });
});
