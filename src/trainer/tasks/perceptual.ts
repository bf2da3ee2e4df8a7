/**
 * The perceptual difficulty knob: what each level (0..3) changes in the drawing. Everything that makes
 * an image harder to see is here, and nothing here changes which objects exist, so the question and
 * its answer are the same at every level (the two knobs are independent).
 *
 * Invariants the tests rely on: level 0 is clean (plain light background, no clutter, no noise);
 * clutter is grey or a tint with at most `clutterMaxSaturation` of a palette colour's saturation, and
 * with noise of at most `noiseAmplitude` per channel an object pixel stays within
 * noiseAmplitude * sqrt(3) of its palette colour while no other pixel comes that close to any.
 *
 * Version 2 (PERCEPTUAL_SETTINGS_V2) adds what a model reading 12 x 12-px patch features actually finds hard:
 * from level 2 objects lie anywhere (straddling patches, several in one patch), decoy shapes in hues close to a
 * palette colour (but more than 2 * noiseAmplitude * sqrt(3) from every one, so the invariant above still holds)
 * and smaller objects, on a lower-contrast background.
 */
import type { Level, SuiteVersion } from './types.js';

export interface PerceptualSettings {
  /** Mean background grey; closer to mid-grey = lower contrast against the objects. */
  backgroundGrey: number;
  /** The background grey varies per image by up to this much either way. */
  backgroundJitter: number;
  /** Amplitude of smooth grey value-noise texture on the background. */
  textureAmplitude: number;
  /** Amplitude of faint grey stripes on the background (0 = none). */
  stripeAmplitude: number;
  /** Uniform per-channel pixel noise in [-a, a], added to every pixel last. */
  noiseAmplitude: number;
  /** Number of clutter marks (dots, boxes, strokes) drawn under the objects. */
  clutterMarks: number;
  /** Clutter may be a palette colour desaturated to at most this fraction (0 = grey only). */
  clutterMaxSaturation: number;
  /** Number of one-pixel grey lines drawn over everything, partly covering objects. */
  occluderLines: number;
  /** At most this fraction of any object's pixels may be covered by occluders. */
  maxOccludedFraction: number;
  /** Object half-sizes to choose from (a shape spans 2 * halfSize + 1 px of its 12 px cell). */
  objectHalfSizes: readonly number[];
  /**
   * 'cell': each object whole inside its own grid cell (one encoder patch); 'free': anywhere in the image, at
   * least one pixel apart, so objects straddle patches and several may share one.
   */
  layout: 'cell' | 'free';
  /** Layout 'free': chance that an object is put next to an earlier one (so patches hold several objects). */
  clusterChance: number;
  /** Number of decoy shapes (object-like shapes in near-palette hues) drawn under the objects. */
  decoyShapes: number;
  /** RGB distance of a decoy's hue from the palette colour it imitates. */
  decoyDistance: number;
}

export const PERCEPTUAL_SETTINGS: Readonly<Record<Level, PerceptualSettings>> = {
  0: {
    backgroundGrey: 242, backgroundJitter: 4, textureAmplitude: 0, stripeAmplitude: 0, noiseAmplitude: 0,
    clutterMarks: 0, clutterMaxSaturation: 0, occluderLines: 0, maxOccludedFraction: 0, objectHalfSizes: [5],
    layout: 'cell', clusterChance: 0, decoyShapes: 0, decoyDistance: 0,
  },
  1: {
    backgroundGrey: 214, backgroundJitter: 8, textureAmplitude: 0, stripeAmplitude: 0, noiseAmplitude: 4,
    clutterMarks: 6, clutterMaxSaturation: 0, occluderLines: 0, maxOccludedFraction: 0, objectHalfSizes: [4, 5],
    layout: 'cell', clusterChance: 0, decoyShapes: 0, decoyDistance: 0,
  },
  2: {
    backgroundGrey: 182, backgroundJitter: 10, textureAmplitude: 14, stripeAmplitude: 0, noiseAmplitude: 9,
    clutterMarks: 14, clutterMaxSaturation: 0.25, occluderLines: 2, maxOccludedFraction: 0.2, objectHalfSizes: [3, 4],
    layout: 'cell', clusterChance: 0, decoyShapes: 0, decoyDistance: 0,
  },
  3: {
    backgroundGrey: 152, backgroundJitter: 10, textureAmplitude: 22, stripeAmplitude: 6, noiseAmplitude: 14,
    clutterMarks: 24, clutterMaxSaturation: 0.4, occluderLines: 4, maxOccludedFraction: 0.25, objectHalfSizes: [3],
    layout: 'cell', clusterChance: 0, decoyShapes: 0, decoyDistance: 0,
  },
};

/** Version 2: the same kinds of change as v1, plus free layout and near-hue decoys from level 1 on. */
export const PERCEPTUAL_SETTINGS_V2: Readonly<Record<Level, PerceptualSettings>> = {
  0: PERCEPTUAL_SETTINGS[0],
  1: {
    backgroundGrey: 212, backgroundJitter: 8, textureAmplitude: 0, stripeAmplitude: 0, noiseAmplitude: 4,
    clutterMarks: 8, clutterMaxSaturation: 0, occluderLines: 0, maxOccludedFraction: 0, objectHalfSizes: [3, 4],
    layout: 'cell', clusterChance: 0, decoyShapes: 3, decoyDistance: 48,
  },
  2: {
    backgroundGrey: 180, backgroundJitter: 10, textureAmplitude: 12, stripeAmplitude: 0, noiseAmplitude: 4,
    clutterMarks: 12, clutterMaxSaturation: 0.3, occluderLines: 2, maxOccludedFraction: 0.2, objectHalfSizes: [3, 4],
    layout: 'free', clusterChance: 0.5, decoyShapes: 6, decoyDistance: 32,
  },
  3: {
    backgroundGrey: 150, backgroundJitter: 10, textureAmplitude: 18, stripeAmplitude: 5, noiseAmplitude: 4,
    clutterMarks: 16, clutterMaxSaturation: 0.35, occluderLines: 4, maxOccludedFraction: 0.25, objectHalfSizes: [3],
    layout: 'free', clusterChance: 0.8, decoyShapes: 10, decoyDistance: 22,
  },
};

/** The drawing settings of a suite version at a perceptual level. */
export function perceptualSettings(suite: SuiteVersion, level: Level): PerceptualSettings {
  return (suite === 'v2' ? PERCEPTUAL_SETTINGS_V2 : PERCEPTUAL_SETTINGS)[level];
}
