import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CELL_SIZE, COLOUR_NAMES, GRID_CELLS, IMAGE_SIZE, PALETTE, PERCEPTUAL_SETTINGS,
  desaturate, generateTaskWithMask, shapeContains, type Level, type SceneObject,
} from '../../../src/trainer/tasks/index.js';
import { colourDistance, noiseTolerance, shapeArea } from './helpers.js';
import { assertObjectPixels } from './sceneChecks.js';

const LEVELS: Level[] = [0, 1, 2, 3];
const SCENES = 30;

function tolerance(level: Level): number {
  return noiseTolerance(PERCEPTUAL_SETTINGS[level]);
}

function scenesAt(level: Level, count = SCENES) {
  return Array.from({ length: count }, (_, index) => generateTaskWithMask(31, 'train', index, { perceptualLevel: level, reasoningLevel: 0 }));
}

describe('shapes', () => {
  it('squares fill a (2h-1) box, circles sit between square and box, triangles widen downward', () => {
    for (const h of [3, 4, 5]) {
      const square = shapeArea({ shape: 'square', halfSize: h } as SceneObject);
      const circle = shapeArea({ shape: 'circle', halfSize: h } as SceneObject);
      const triangle = shapeArea({ shape: 'triangle', halfSize: h } as SceneObject);
      assert.equal(square, (2 * h - 1) ** 2);
      assert.ok(circle > square && circle < (2 * h + 1) ** 2, `circle ${circle}`);
      assert.ok(triangle > 0.3 * (2 * h + 1) ** 2 && triangle < 0.7 * (2 * h + 1) ** 2, `triangle ${triangle}`);
      let previousWidth = 0;
      for (let dy = -h; dy <= h; dy++) {
        let width = 0;
        for (let dx = -h; dx <= h; dx++) {
          if (shapeContains('triangle', dx, dy, h)) width++;
          assert.equal(shapeContains('triangle', dx, dy, h), shapeContains('triangle', -dx, dy, h), 'symmetric');
        }
        assert.ok(width >= previousWidth && width > 0);
        previousWidth = width;
      }
      assert.equal(previousWidth, 2 * h + 1);
      assert.equal(shapeContains('circle', h + 1, 0, h), false);
    }
  });
});

describe('drawing', () => {
  it('draws 96 x 96 RGB with every object inside its own cell, one per cell', () => {
    for (const level of LEVELS) {
      for (const { task } of scenesAt(level, 20)) {
        assert.equal(task.image.width, IMAGE_SIZE);
        assert.equal(task.image.height, IMAGE_SIZE);
        assert.equal(task.image.rgb.length, IMAGE_SIZE * IMAGE_SIZE * 3);
        const cells = new Set(task.objects.map((o) => o.row * GRID_CELLS + o.col));
        assert.equal(cells.size, task.objects.length);
        for (const o of task.objects) {
          assert.ok(o.centreX - o.halfSize >= o.col * CELL_SIZE && o.centreX + o.halfSize < (o.col + 1) * CELL_SIZE);
          assert.ok(o.centreY - o.halfSize >= o.row * CELL_SIZE && o.centreY + o.halfSize < (o.row + 1) * CELL_SIZE);
          assert.ok(PERCEPTUAL_SETTINGS[level].objectHalfSizes.includes(o.halfSize));
        }
      }
    }
  });

  it('object pixels have their palette colour (exactly at level 0, within the noise bound above)', () => {
    for (const level of LEVELS) {
      for (const scene of scenesAt(level)) assertObjectPixels(scene, PERCEPTUAL_SETTINGS[level], `level ${level}`);
    }
  });

  it('no pixel outside the objects comes within the noise bound of a palette colour', () => {
    for (const level of LEVELS) {
      for (const { task, visibleObject } of scenesAt(level)) {
        for (let pixel = 0; pixel < visibleObject.length; pixel++) {
          if (visibleObject[pixel] !== 0) continue;
          for (const name of COLOUR_NAMES) {
            const distance = colourDistance(task.image.rgb, pixel * 3, PALETTE[name]);
            assert.ok(distance > tolerance(level), `level ${level}: background pixel ${distance.toFixed(1)} from ${name}`);
          }
        }
      }
    }
  });

  it('the most saturated clutter tint stays clear of every palette colour, noise included', () => {
    for (const level of LEVELS) {
      const saturation = PERCEPTUAL_SETTINGS[level].clutterMaxSaturation;
      for (const tinted of COLOUR_NAMES) {
        const tint = Uint8Array.from(desaturate(PALETTE[tinted], saturation));
        for (const name of COLOUR_NAMES) assert.ok(colourDistance(tint, 0, PALETTE[name]) > 2 * tolerance(level));
      }
    }
  });

  it('clutter does not alter counts: colour counts read from the image alone match the objects', () => {
    for (const level of LEVELS) {
      for (const { task } of scenesAt(level)) {
        // Per cell, a palette colour with at least 8 pixels within the noise bound is an object.
        const seen = new Map<string, number>();
        for (let row = 0; row < GRID_CELLS; row++) {
          for (let col = 0; col < GRID_CELLS; col++) {
            for (const name of COLOUR_NAMES) {
              let pixels = 0;
              for (let y = row * CELL_SIZE; y < (row + 1) * CELL_SIZE; y++) {
                for (let x = col * CELL_SIZE; x < (col + 1) * CELL_SIZE; x++) {
                  if (colourDistance(task.image.rgb, (y * IMAGE_SIZE + x) * 3, PALETTE[name]) <= Math.max(tolerance(level), 1)) pixels++;
                }
              }
              if (pixels >= 8) seen.set(name, (seen.get(name) ?? 0) + 1);
            }
          }
        }
        for (const name of COLOUR_NAMES) {
          assert.equal(seen.get(name) ?? 0, task.objects.filter((o) => o.colour === name).length, `level ${level} ${task.id} ${name}`);
        }
      }
    }
  });

  it('level 0 is clean: one flat light background and nothing else', () => {
    for (const { task, visibleObject } of scenesAt(0)) {
      const greys = new Set<string>();
      for (let pixel = 0; pixel < visibleObject.length; pixel++) {
        if (visibleObject[pixel] !== 0) continue;
        const [r, g, b] = task.image.rgb.subarray(pixel * 3, pixel * 3 + 3);
        greys.add(`${r},${g},${b}`);
        assert.ok(r === g && g === b && r >= 230, `background ${r},${g},${b}`);
      }
      assert.equal(greys.size, 1);
    }
  });

  it('higher perceptual levels are measurably harder: rougher background, lower contrast, smaller objects', () => {
    const roughness: number[] = [];
    const contrast: number[] = [];
    const objectPixels: number[] = [];
    for (const level of LEVELS) {
      let roughSum = 0;
      let roughPairs = 0;
      let contrastSum = 0;
      let contrastPixels = 0;
      for (const { task, visibleObject } of scenesAt(level)) {
        const rgb = task.image.rgb;
        let background = [0, 0, 0];
        let backgroundPixels = 0;
        for (let pixel = 0; pixel < visibleObject.length; pixel++) {
          if (visibleObject[pixel] !== 0) continue;
          background = background.map((sum, c) => sum + rgb[pixel * 3 + c]);
          backgroundPixels++;
          // Mean absolute difference to the right-hand neighbour, over background pairs only.
          if (pixel % IMAGE_SIZE < IMAGE_SIZE - 1 && visibleObject[pixel + 1] === 0) {
            for (let c = 0; c < 3; c++) roughSum += Math.abs(rgb[pixel * 3 + c] - rgb[pixel * 3 + 3 + c]);
            roughPairs++;
          }
        }
        const meanBackground = background.map((sum) => sum / backgroundPixels) as [number, number, number];
        for (let pixel = 0; pixel < visibleObject.length; pixel++) {
          if (visibleObject[pixel] === 0) continue;
          contrastSum += colourDistance(rgb, pixel * 3, meanBackground);
          contrastPixels++;
        }
      }
      roughness.push(roughSum / roughPairs);
      contrast.push(contrastSum / contrastPixels);
      objectPixels.push(contrastPixels / SCENES);
    }
    for (let level = 1; level < LEVELS.length; level++) {
      assert.ok(roughness[level] > roughness[level - 1], `roughness ${roughness.map((v) => v.toFixed(2))}`);
      assert.ok(contrast[level] < contrast[level - 1], `contrast ${contrast.map((v) => v.toFixed(1))}`);
      assert.ok(objectPixels[level] < objectPixels[level - 1], `object pixels ${objectPixels.map((v) => v.toFixed(0))}`);
    }
    assert.equal(roughness[0], 0);
  });
});
