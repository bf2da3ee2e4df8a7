// Suite version 2 (src/trainer/tasks, README "Version 2"): v1 stays byte-identical, v2 is deterministic, its
// answers are exact under the drawing rules, each reasoning level adds steps, and both knobs are harder for
// what reads the encoder's patch features (visual entropy and a fixed per-patch colour read-out).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { loadEncoder, visualEntropy } from '../../../src/trainer/encoder/index.js';
import { DESIGNED_ENCODER, DESIGNED_FEATURE_NAMES } from '../../../src/trainer/encoder/designedEncoder.js';
import {
  COLOUR_NAMES, IMAGE_SIZE, PALETTE, PERCEPTUAL_SETTINGS_V2, decoyClearance, decoyHues, generateTask, generateTaskSet,
  decodeResponse, generateTaskWithMask, targetResponse, type Level, type SceneObject, type SuiteVersion, type Task,
} from '../../../src/trainer/tasks/index.js';
import { colourDistance, interpretQuestion, noiseTolerance } from './helpers.js';
import { assertObjectPixels } from './sceneChecks.js';

const LEVELS: Level[] = [0, 1, 2, 3];
/** sha256 over 384 v1 tasks (images, every other field, gold responses), recorded from the code before v2 existed. */
const V1_SET_SHA256 = 'e86453a5b8d0cd077d959a17b1def5f4bebe002acc7b4a0c88fbc4a1168c74f0';

function v1SetHash(suite?: SuiteVersion): string {
  const hash = createHash('sha256');
  for (const split of ['train', 'validation'] as const) {
    for (const seed of [0, 7, 123456]) {
      const tasks = generateTaskSet(suite === undefined ? { seed, split, count: 64 } : { seed, split, count: 64, suite });
      for (const task of tasks) {
        hash.update(task.image.rgb);
        hash.update(JSON.stringify({ ...task, image: undefined }));
        hash.update(JSON.stringify(targetResponse(task)));
      }
    }
  }
  return hash.digest('hex');
}

function imageHash(task: Task): string {
  return createHash('sha256').update(task.image.rgb).digest('hex');
}

function v2(index: number, perceptualLevel: Level, reasoningLevel: Level, seed = 31) {
  return generateTaskWithMask(seed, 'train', index, { perceptualLevel, reasoningLevel }, 'v2');
}

function tolerance(level: Level): number {
  return noiseTolerance(PERCEPTUAL_SETTINGS_V2[level]);
}

describe('suite versions', () => {
  it('v1 is unchanged: byte-identical to the tasks recorded before v2, by default and when asked for', () => {
    assert.equal(v1SetHash(), V1_SET_SHA256);
    assert.equal(v1SetHash('v1'), V1_SET_SHA256);
  });

  it('v2 is deterministic per (seed, split, index, levels) and differs from v1', () => {
    fc.assert(fc.property(
      fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.constantFrom('train' as const, 'validation' as const), fc.nat({ max: 1_000_000 }),
      fc.constantFrom<Level>(0, 1, 2, 3), fc.constantFrom<Level>(0, 1, 2, 3),
      (seed, split, index, perceptualLevel, reasoningLevel) => {
        const a = generateTask(seed, split, index, { perceptualLevel, reasoningLevel }, 'v2');
        const b = generateTask(seed, split, index, { perceptualLevel, reasoningLevel }, 'v2');
        assert.deepEqual(Buffer.from(a.image.rgb), Buffer.from(b.image.rgb));
        assert.equal(JSON.stringify({ ...a, image: undefined }), JSON.stringify({ ...b, image: undefined }));
      },
    ), { numRuns: 30 });
    const one = generateTaskSet({ seed: 3, split: 'train', count: 40, suite: 'v2' });
    const tail = generateTaskSet({ seed: 3, split: 'train', count: 10, firstIndex: 30, suite: 'v2' });
    assert.deepEqual(tail.map(imageHash), one.slice(30).map(imageHash));
    const v1 = generateTaskSet({ seed: 3, split: 'train', count: 40 });
    assert.ok(one.filter((task, i) => task.question !== v1[i].question).length > 20, 'v2 asks v1 questions');
  });

  it('rejects an unknown suite with a clear error', () => {
    assert.throws(() => generateTask(1, 'train', 0, { perceptualLevel: 0, reasoningLevel: 0 }, 'v3' as SuiteVersion), /suite must be "v1" or "v2", got "v3"/);
    assert.throws(() => generateTaskSet({ seed: 1, split: 'train', count: 1, suite: 'V2' as SuiteVersion }), /suite must be/);
  });
});

describe('v2 questions', () => {
  const tasksAt = (reasoningLevel: Level) => generateTaskSet({ seed: 77, split: 'train', count: 200, reasoningLevels: [reasoningLevel], suite: 'v2' });
  const byLevel = LEVELS.map(tasksAt);

  it('every answer, recomputed from the question text and the objects, matches; no step leaves 0..15', () => {
    for (const tasks of byLevel) {
      for (const task of tasks) {
        const interpreted = interpretQuestion(task.question, task.objects);
        assert.equal(interpreted.answer, task.answer, `${task.id}: "${task.question}"`);
        assert.match(task.answer, /^([0-9]|1[0-5])$/, 'v2 answers are numbers');
        for (const partial of interpreted.partials) assert.ok(partial >= 0 && partial <= 15, `${task.id}: step ${partial}`);
      }
    }
  });

  it('each level adds steps: 1, 2, 3 counted terms, then 3 in two groups ("plus" after "than" subtracts)', () => {
    byLevel.forEach((tasks, level) => {
      for (const task of tasks) {
        const { terms } = interpretQuestion(task.question, task.objects);
        assert.equal(terms, Math.min(level + 1, 3), `level ${level}: "${task.question}"`);
        assert.equal(/^how many more .+ plus .+ \?$/.test(task.question), level === 3, `level ${level}: "${task.question}"`);
        assert.ok(!/(red|green|blue|yellow|purple) (circles|squares|triangles)/.test(task.question), `v2 asks no colour+shape pairs: "${task.question}"`);
        assert.ok(task.questionTokens.length <= 12 && !task.questionTokens.includes(1), `"${task.question}" has unknown words`);
      }
    });
    // Both groupings occur, and the gold response states the three counts with the operators the grouping implies.
    const level3 = byLevel[3];
    const subtractsGroup = level3.filter((task) => / than .+ plus /.test(task.question));
    assert.ok(subtractsGroup.length >= 5 && subtractsGroup.length < 160, `${subtractsGroup.length} of 200 subtract a group`);
    for (const task of subtractsGroup) assert.match(decodeResponse(targetResponse(task)), /^\d+ - \d+ - \d+ = \d+ <eos>$/);
  });

  it('every counted term is present from level 1 on (at least twice at level 3); answers are spread evenly', () => {
    const countOf = (phrase: string, objects: readonly SceneObject[]) => Number(interpretQuestion(`how many ${phrase} ?`, objects).answer);
    byLevel.forEach((tasks, level) => {
      const counts = new Map<string, number>();
      for (const task of tasks) {
        counts.set(task.answer, (counts.get(task.answer) ?? 0) + 1);
        if (level === 0) continue;
        const body = /^how many (?:more )?(.+) \?$/.exec(task.question)![1];
        for (const phrase of body.split(/ (?:plus|minus|than) /)) {
          assert.ok(countOf(phrase, task.objects) >= (level === 3 ? 2 : 1), `"${phrase}" too few in ${task.id}`);
        }
      }
      const mostCommon = Math.max(...counts.values()) / tasks.length;
      assert.ok(mostCommon < (level === 0 ? 0.3 : 0.17), `level ${level}: the most common answer covers ${mostCommon}`);
      if (level > 0) assert.ok(counts.size >= 9, `level ${level}: answers ${[...counts.keys()]}`);
      assert.ok(counts.size >= 5, `level ${level}: only ${counts.size} distinct answers`);
    });
  });

  it('the perceptual level never changes what exists or what is asked', () => {
    for (let index = 0; index < 25; index++) {
      const tasks = LEVELS.map((level) => v2(index, level, 3).task);
      const what = tasks.map((t) => JSON.stringify([t.question, t.answer, t.objects.map((o) => [o.colour, o.shape])]));
      assert.equal(new Set(what).size, 1);
      assert.equal(new Set(tasks.map(imageHash)).size, 4);
    }
  });
});

describe('v2 drawing', () => {
  const scenes = (level: Level, count = 30) => Array.from({ length: count }, (_, index) => v2(index, level, 0));

  it('decoy hues are near a palette colour yet more than twice the noise bound from every one', () => {
    for (const level of LEVELS) {
      const settings = PERCEPTUAL_SETTINGS_V2[level];
      if (settings.decoyShapes === 0) continue;
      const hues = decoyHues(settings.decoyDistance, decoyClearance(settings));
      assert.ok(hues.length >= 10, `level ${level}: ${hues.length} decoy hues`);
      for (const hue of hues) {
        const distances = COLOUR_NAMES.map((name) => colourDistance(Uint8Array.from(hue), 0, PALETTE[name]));
        assert.ok(Math.min(...distances) > 2 * tolerance(level), `level ${level}: decoy ${hue} too close`);
        assert.ok(Math.min(...distances) < settings.decoyDistance + 2, `level ${level}: decoy ${hue} is not near any palette colour`);
      }
    }
  });

  it('objects lie whole in the image; from level 2 anywhere, boxes at least one pixel apart, straddling and sharing patches', () => {
    /** The encoder patches (0..63) an object's box reaches into. */
    const patchesOf = (o: SceneObject): number[] => {
      const out: number[] = [];
      for (let row = Math.floor((o.centreY - o.halfSize) / 12); row <= Math.floor((o.centreY + o.halfSize) / 12); row++) {
        for (let col = Math.floor((o.centreX - o.halfSize) / 12); col <= Math.floor((o.centreX + o.halfSize) / 12); col++) out.push(row * 8 + col);
      }
      return out;
    };
    for (const level of LEVELS) {
      let straddling = 0;
      let sharedPatches = 0;
      let objects = 0;
      for (const { task } of scenes(level)) {
        const reaching = new Array<number>(64).fill(0);
        task.objects.forEach((o, i) => {
          objects++;
          assert.ok(o.centreX - o.halfSize >= 0 && o.centreX + o.halfSize < IMAGE_SIZE && o.centreY - o.halfSize >= 0 && o.centreY + o.halfSize < IMAGE_SIZE);
          assert.ok(PERCEPTUAL_SETTINGS_V2[level].objectHalfSizes.includes(o.halfSize));
          assert.equal(o.row, Math.floor(o.centreY / 12));
          assert.equal(o.col, Math.floor(o.centreX / 12));
          const patches = patchesOf(o);
          if (patches.length > 1) straddling++;
          for (const patch of patches) reaching[patch]++;
          for (const other of task.objects.slice(i + 1)) {
            const reach = o.halfSize + other.halfSize + 1;
            const apart = Math.abs(o.centreX - other.centreX) > reach || Math.abs(o.centreY - other.centreY) > reach;
            if (PERCEPTUAL_SETTINGS_V2[level].layout === 'free') assert.ok(apart, `${task.id}: objects touch`);
          }
        });
        sharedPatches += reaching.filter((count) => count > 1).length;
      }
      if (level <= 1) assert.equal(straddling + sharedPatches, 0, `level ${level} keeps one object per patch`);
      else assert.ok(straddling > objects / 3 && sharedPatches > 30, `level ${level}: ${straddling} of ${objects} straddle, ${sharedPatches} shared patches`);
    }
  });

  it('object pixels are their palette colour within the noise bound, and mostly visible', () => {
    for (const level of LEVELS) {
      for (const scene of scenes(level)) assertObjectPixels(scene, PERCEPTUAL_SETTINGS_V2[level], `level ${level}`);
    }
  });

  it('no pixel outside the objects (background, clutter, decoys, occluders) comes within the noise bound of a palette colour', () => {
    for (const level of LEVELS) {
      let decoyLike = 0;
      for (const { task, visibleObject } of scenes(level)) {
        for (let pixel = 0; pixel < visibleObject.length; pixel++) {
          if (visibleObject[pixel] !== 0) continue;
          const nearest = Math.min(...COLOUR_NAMES.map((name) => colourDistance(task.image.rgb, pixel * 3, PALETTE[name])));
          assert.ok(nearest > tolerance(level), `level ${level} ${task.id}: pixel ${pixel} ${nearest.toFixed(1)} from a palette colour`);
          if (nearest < PERCEPTUAL_SETTINGS_V2[level].decoyDistance + 12) decoyLike++;
        }
      }
      // The rule is exact, yet from level 1 on there are pixels a looser reading would take for objects.
      if (level >= 1) assert.ok(decoyLike > 30 * 10, `level ${level}: only ${decoyLike} near-palette pixels`);
    }
  });
});

describe('v2 against the encoder', () => {
  const { featureDim: D, patchCount: P } = DESIGNED_ENCODER;
  const peak = (colour: string) => DESIGNED_FEATURE_NAMES.indexOf(`colour/${colour}/peak`);

  it('visual entropy rises with the perceptual level, and a fixed per-patch colour read-out gets counts right less often', async (t) => {
    const encoder = await loadEncoder();
    /** Mean visual entropy and the share of (image, colour) counts a fixed read-out gets exactly right. */
    const measure = async (suite: SuiteVersion, level: Level) => {
      const tasks = Array.from({ length: 40 }, (_, index) => generateTask(11, 'train', index, { perceptualLevel: level, reasoningLevel: 0 }, suite));
      const features = await encoder.encode(tasks.map((task) => task.image));
      let entropy = 0;
      let exact = 0;
      tasks.forEach((task, i) => {
        entropy += visualEntropy(features, i) / tasks.length;
        // Read-out that is exact on v1's clean level: an object of a colour per patch whose peak for it exceeds 0.5.
        for (const colour of COLOUR_NAMES) {
          let seen = 0;
          for (let p = 0; p < P; p++) if (features[(i * P + p) * D + peak(colour)] > 0.5) seen++;
          if (seen === task.objects.filter((o) => o.colour === colour).length) exact++;
        }
      });
      return { entropy, readOut: exact / (tasks.length * COLOUR_NAMES.length) };
    };
    const entropies: number[] = [];
    const readOut: number[] = [];
    for (const level of LEVELS) {
      const measured = await measure('v2', level);
      entropies.push(measured.entropy);
      readOut.push(measured.readOut);
      t.diagnostic(`v2 level ${level}: mean visual entropy ${measured.entropy.toFixed(3)}, per-patch colour read-out exact ${measured.readOut.toFixed(3)}`);
    }
    for (let level = 1; level < 4; level++) {
      assert.ok(entropies[level] > entropies[level - 1], `entropy does not rise: ${entropies.join(', ')}`);
      assert.ok(readOut[level] < readOut[level - 1], `read-out does not get worse: ${readOut.join(', ')}`);
    }
    // v1's hardest level leaves this read-out nearly exact (the encoder sees through its clutter); v2's does not.
    const v1Hardest = await measure('v1', 3);
    t.diagnostic(`v1 level 3: mean visual entropy ${v1Hardest.entropy.toFixed(3)}, per-patch colour read-out exact ${v1Hardest.readOut.toFixed(3)}`);
    assert.ok(readOut[0] > 0.97 && v1Hardest.readOut > 0.9 && readOut[3] < 0.7, `read-out v2 ${readOut.join(', ')}, v1 level 3 ${v1Hardest.readOut}`);
  });
});
