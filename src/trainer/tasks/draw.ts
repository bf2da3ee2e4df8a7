/**
 * Draws a scene into a 96 x 96 RGB image at a perceptual level: background (grey, textured at high
 * levels), clutter marks, decoy shapes (v2), the objects in their grid cells, occluding lines, then pixel noise.
 *
 * Why this order: clutter goes under the objects so it can never hide one; occluders go over them but
 * may cover only a capped fraction of each object; noise comes last and is bounded, so every object
 * stays recognisably its palette colour and the answer never depends on the perceptual level.
 * Drawing uses integer maths and one stream of the caller's Rng, so it is deterministic and fast.
 */
import type { Rng } from '../rng.js';
import { CELL_SIZE, COLOUR_NAMES, IMAGE_SIZE, PALETTE, SHAPE_NAMES, desaturate, type ColourName, type Rgb, type ShapeName } from './palette.js';
import { perceptualSettings, type PerceptualSettings } from './perceptual.js';
import { createImage, fillBox, fillDisc, forEachLinePixel, shapeContains } from './raster.js';
import { DEFAULT_SUITE_VERSION, type Level, type RgbImage, type SceneObject, type SuiteVersion } from './types.js';

/** What a scene holds before it is drawn: which object sits in which cell. */
export interface ObjectPlacement {
  colour: ColourName;
  shape: ShapeName;
  row: number;
  col: number;
}

export interface RenderedScene {
  image: RgbImage;
  /** Per pixel: 1 + the index of the object visible there, or 0 (background, clutter, occluder). */
  visibleObject: Int16Array;
}

/**
 * Chooses each object's size and position for a perceptual level. Layout 'cell' (v1, v2 levels 0-1): inside its
 * cell (jittered), so it falls in exactly one encoder patch; layout 'free': see placeFreely.
 */
export function placeObjects(
  placements: readonly ObjectPlacement[], level: Level, rng: Rng, suite: SuiteVersion = DEFAULT_SUITE_VERSION,
): SceneObject[] {
  const settings = perceptualSettings(suite, level);
  if (settings.layout === 'free') return placeFreely(placements, settings, rng);
  return placements.map((placement) => {
    const halfSize = rng.pick(settings.objectHalfSizes);
    const freedom = CELL_SIZE - (2 * halfSize + 1); // spare pixels in the cell along each axis
    return {
      ...placement,
      centreX: placement.col * CELL_SIZE + halfSize + rng.int(freedom + 1),
      centreY: placement.row * CELL_SIZE + halfSize + rng.int(freedom + 1),
      halfSize,
    };
  });
}

/** Tries per object for a random free spot before scanning for the first one. */
const FREE_PLACEMENT_TRIES = 200;
/** How far beyond touching a clustered object may sit from its anchor, in pixels. */
const CLUSTER_SLACK = 4;

/** Whether boxes (centre, half-size) are at least one pixel apart. */
function boxesApart(x: number, y: number, h: number, other: SceneObject): boolean {
  const reach = h + other.halfSize + 1; // strictly more than this apart on some axis leaves a 1-px gap
  return Math.abs(x - other.centreX) > reach || Math.abs(y - other.centreY) > reach;
}

/**
 * Layout 'free': each object anywhere in the image (or, with `clusterChance`, next to an earlier one), its box
 * at least one pixel from every earlier one, so objects straddle patch borders and several share patches. The cell (row, col) becomes the one holding the
 * centre. Random spots first; if none is free, the first free spot in raster order (there always is one: 15
 * objects of at most 11 x 11 px cover well under half of the image).
 */
function placeFreely(placements: readonly ObjectPlacement[], settings: PerceptualSettings, rng: Rng): SceneObject[] {
  const placed: SceneObject[] = [];
  for (const placement of placements) {
    const h = rng.pick(settings.objectHalfSizes);
    const free = (x: number, y: number) => placed.every((other) => boxesApart(x, y, h, other));
    // Next to an earlier object (its box plus a few pixels), or anywhere; half the tries near, then anywhere.
    const anchor = placed.length > 0 && rng.chance(settings.clusterChance) ? rng.pick(placed) : null;
    let spot: [number, number] | null = null;
    for (let attempt = 0; attempt < FREE_PLACEMENT_TRIES && spot === null; attempt++) {
      let x: number;
      let y: number;
      if (anchor !== null && attempt < FREE_PLACEMENT_TRIES / 2) {
        const span = h + anchor.halfSize + CLUSTER_SLACK;
        x = Math.min(IMAGE_SIZE - 1 - h, Math.max(h, anchor.centreX + rng.intBetween(-span, span)));
        y = Math.min(IMAGE_SIZE - 1 - h, Math.max(h, anchor.centreY + rng.intBetween(-span, span)));
      } else {
        x = rng.intBetween(h, IMAGE_SIZE - 1 - h);
        y = rng.intBetween(h, IMAGE_SIZE - 1 - h);
      }
      if (free(x, y)) spot = [x, y];
    }
    for (let y = h; y < IMAGE_SIZE - h && spot === null; y++) {
      for (let x = h; x < IMAGE_SIZE - h && spot === null; x++) if (free(x, y)) spot = [x, y];
    }
    if (spot === null) throw new Error(`no free spot for object ${placed.length + 1} of ${placements.length}`);
    const [centreX, centreY] = spot;
    placed.push({
      colour: placement.colour, shape: placement.shape,
      row: Math.floor(centreY / CELL_SIZE), col: Math.floor(centreX / CELL_SIZE), centreX, centreY, halfSize: h,
    });
  }
  return placed;
}

/**
 * Decoy hues at a distance: each palette colour moved `distance` toward each other palette colour (an
 * orange-ish red, a teal-ish green ...), kept only if it is more than `clearance` from every palette colour.
 */
export function decoyHues(distance: number, clearance: number): Rgb[] {
  const hues: Rgb[] = [];
  for (const from of COLOUR_NAMES) {
    for (const toward of COLOUR_NAMES) {
      if (from === toward) continue;
      const [a, b] = [PALETTE[from], PALETTE[toward]];
      const length = Math.hypot(b[0] - a[0], b[1] - a[1], b[2] - a[2]);
      const hue = [0, 1, 2].map((c) => clampByte(Math.round(a[c] + (distance * (b[c] - a[c])) / length))) as unknown as Rgb;
      const nearest = Math.min(...COLOUR_NAMES.map((name) => {
        const p = PALETTE[name];
        return Math.hypot(hue[0] - p[0], hue[1] - p[1], hue[2] - p[2]);
      }));
      if (nearest > clearance) hues.push(hue);
    }
  }
  return hues;
}

/**
 * The smallest distance a decoy hue must keep from every palette colour: noise moves both an object pixel and a
 * decoy pixel by up to noise * sqrt(3), so more than twice that (plus a pixel of slack) keeps them apart.
 */
export function decoyClearance(settings: PerceptualSettings): number {
  return 2 * settings.noiseAmplitude * Math.sqrt(3) + 1;
}

/** Decoys: object-like shapes in near-palette hues, away from every object's box, drawn under the objects. */
function drawDecoys(image: RgbImage, objects: readonly SceneObject[], settings: PerceptualSettings, rng: Rng): void {
  if (settings.decoyShapes <= 0) return;
  const hues = decoyHues(settings.decoyDistance, decoyClearance(settings));
  if (hues.length === 0) throw new Error(`no decoy hue ${settings.decoyDistance} from the palette clears ${decoyClearance(settings)}`);
  for (let decoy = 0; decoy < settings.decoyShapes; decoy++) {
    const colour = rng.pick(hues);
    const shape = rng.pick(SHAPE_NAMES);
    const h = rng.pick(settings.objectHalfSizes);
    const x = rng.intBetween(h, IMAGE_SIZE - 1 - h);
    const y = rng.intBetween(h, IMAGE_SIZE - 1 - h);
    if (!objects.every((object) => boxesApart(x, y, h, object))) continue; // would touch an object: leave it out
    for (let dy = -h; dy <= h; dy++) {
      for (let dx = -h; dx <= h; dx++) if (shapeContains(shape, dx, dy, h)) fillBox(image, x + dx, y + dy, 1, 1, colour);
    }
  }
}

function clampByte(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

function drawBackground(image: RgbImage, settings: PerceptualSettings, baseGrey: number, rng: Rng): void {
  const size = image.width;
  const textureAmplitude = settings.textureAmplitude;
  const stripeAmplitude = settings.stripeAmplitude;
  const latticeSide = (size >> 4) + 1; // one lattice point every 16 px, plus the far edge
  const lattice = new Int32Array(latticeSide * latticeSide);
  if (textureAmplitude > 0) {
    for (let i = 0; i < lattice.length; i++) lattice[i] = rng.int(2 * textureAmplitude + 1) - textureAmplitude;
  }
  const stripePeriod = rng.intBetween(6, 10);
  const stripeDirection = rng.chance(0.5) ? 1 : -1;
  const stripeStart = rng.int(stripePeriod);
  if (textureAmplitude <= 0 && stripeAmplitude <= 0) {
    image.rgb.fill(clampByte(baseGrey));
    return;
  }
  const rgb = image.rgb;
  for (let y = 0; y < size; y++) {
    const top = (y >> 4) * latticeSide;
    const bottom = top + latticeSide;
    const fracY = y & 15;
    // Stripe phase of (x + direction * y + start) mod period, advanced by one per pixel along the row.
    let stripePhase = (((stripeStart + stripeDirection * y) % stripePeriod) + stripePeriod) % stripePeriod;
    let offset = y * size * 3;
    for (let x = 0; x < size; x++) {
      const cellX = x >> 4;
      const fracX = x & 15;
      // Bilinear interpolation of the lattice with integer weights that sum to 256.
      const weighted =
        lattice[top + cellX] * (16 - fracX) * (16 - fracY) + lattice[top + cellX + 1] * fracX * (16 - fracY) +
        lattice[bottom + cellX] * (16 - fracX) * fracY + lattice[bottom + cellX + 1] * fracX * fracY;
      const stripe = stripeAmplitude === 0 ? 0 : 2 * stripePhase < stripePeriod ? stripeAmplitude : -stripeAmplitude;
      const value = clampByte(baseGrey + (weighted >> 8) + stripe);
      rgb[offset] = value;
      rgb[offset + 1] = value;
      rgb[offset + 2] = value;
      offset += 3;
      stripePhase = stripePhase + 1 === stripePeriod ? 0 : stripePhase + 1;
    }
  }
}

/** A clutter colour: a grey that differs from the background, or a desaturated tint of a palette colour. */
function clutterColour(settings: PerceptualSettings, baseGrey: number, rng: Rng): Rgb {
  if (settings.clutterMaxSaturation > 0 && rng.chance(0.6)) {
    const saturation = (settings.clutterMaxSaturation * rng.intBetween(4, 16)) / 16;
    return desaturate(PALETTE[rng.pick(COLOUR_NAMES)], saturation);
  }
  const offset = rng.intBetween(25, 90) * (rng.chance(0.5) ? 1 : -1);
  const grey = Math.min(235, Math.max(20, baseGrey + offset));
  return [grey, grey, grey];
}

function drawClutter(image: RgbImage, settings: PerceptualSettings, baseGrey: number, rng: Rng): void {
  for (let mark = 0; mark < settings.clutterMarks; mark++) {
    const colour = clutterColour(settings, baseGrey, rng);
    const x = rng.int(image.width);
    const y = rng.int(image.height);
    const kind = rng.int(3);
    if (kind === 0) fillDisc(image, x, y, rng.intBetween(1, 2), colour);
    else if (kind === 1) fillBox(image, x, y, rng.intBetween(2, 4), rng.intBetween(2, 4), colour);
    else {
      const endX = x + rng.intBetween(-8, 8);
      const endY = y + rng.intBetween(-8, 8);
      forEachLinePixel(x, y, endX, endY, (px, py) => fillBox(image, px, py, 1, 1, colour));
    }
  }
}

/** Draws the objects; returns each object's pixel count and fills `visibleObject`. */
function drawObjects(image: RgbImage, objects: readonly SceneObject[], visibleObject: Int16Array): Int32Array {
  const areas = new Int32Array(objects.length);
  objects.forEach((object, index) => {
    const colour = PALETTE[object.colour];
    const h = object.halfSize;
    for (let dy = -h; dy <= h; dy++) {
      for (let dx = -h; dx <= h; dx++) {
        if (!shapeContains(object.shape, dx, dy, h)) continue;
        const pixel = (object.centreY + dy) * image.width + object.centreX + dx;
        image.rgb[pixel * 3] = colour[0];
        image.rgb[pixel * 3 + 1] = colour[1];
        image.rgb[pixel * 3 + 2] = colour[2];
        visibleObject[pixel] = index + 1;
        areas[index]++;
      }
    }
  });
  return areas;
}

function drawOccluders(
  image: RgbImage, settings: PerceptualSettings, areas: Int32Array, visibleObject: Int16Array, rng: Rng,
): void {
  const covered = new Int32Array(areas.length);
  const allowance = Array.from(areas, (area) => Math.floor(area * settings.maxOccludedFraction));
  for (let line = 0; line < settings.occluderLines; line++) {
    const grey = rng.chance(0.5) ? rng.intBetween(50, 100) : rng.intBetween(200, 240);
    const [x0, y0, x1, y1] = [rng.int(image.width), rng.int(image.height), rng.int(image.width), rng.int(image.height)];
    forEachLinePixel(x0, y0, x1, y1, (x, y) => {
      const pixel = y * image.width + x;
      const owner = visibleObject[pixel] - 1;
      if (owner >= 0) {
        if (covered[owner] >= allowance[owner]) return; // this object has shown enough of itself hidden
        covered[owner]++;
        visibleObject[pixel] = 0;
      }
      image.rgb[pixel * 3] = grey;
      image.rgb[pixel * 3 + 1] = grey;
      image.rgb[pixel * 3 + 2] = grey;
    });
  }
}

/** Adds uniform integer noise in [-a, a] to every channel; one 32-bit draw per pixel (a byte per channel). */
function addNoise(image: RgbImage, amplitude: number, rng: Rng): void {
  if (amplitude <= 0) return;
  const span = 2 * amplitude + 1;
  const rgb = image.rgb;
  for (let offset = 0; offset < rgb.length; offset += 3) {
    const bits = rng.nextUint32();
    // A byte b in 0..255 maps to (b * span) >> 8 in 0..span-1, nearly uniformly.
    rgb[offset] = clampByte(rgb[offset] + (((bits & 255) * span) >> 8) - amplitude);
    rgb[offset + 1] = clampByte(rgb[offset + 1] + ((((bits >>> 8) & 255) * span) >> 8) - amplitude);
    rgb[offset + 2] = clampByte(rgb[offset + 2] + ((((bits >>> 16) & 255) * span) >> 8) - amplitude);
  }
}

/** Draws placed objects at a perceptual level. Consumes `rng` (use a stream reserved for drawing). */
export function renderScene(
  objects: readonly SceneObject[], level: Level, rng: Rng, suite: SuiteVersion = DEFAULT_SUITE_VERSION,
): RenderedScene {
  const settings = perceptualSettings(suite, level);
  const image = createImage(IMAGE_SIZE, IMAGE_SIZE);
  const visibleObject = new Int16Array(IMAGE_SIZE * IMAGE_SIZE);
  const baseGrey = settings.backgroundGrey + rng.intBetween(-settings.backgroundJitter, settings.backgroundJitter);
  drawBackground(image, settings, baseGrey, rng);
  drawClutter(image, settings, baseGrey, rng);
  drawDecoys(image, objects, settings, rng);
  const areas = drawObjects(image, objects, visibleObject);
  drawOccluders(image, settings, areas, visibleObject, rng);
  addNoise(image, settings.noiseAmplitude, rng);
  return { image, visibleObject };
}
