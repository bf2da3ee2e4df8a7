/**
 * The perceptual difficulty knob: what each level (0..3) changes in the drawing. Everything that makes
 * an image harder to see is here, and nothing here changes which objects exist, so the question and
 * its answer are the same at every level (the two knobs are independent).
 *
 * Invariants the tests rely on: level 0 is clean (plain light background, no clutter, no noise);
 * clutter is grey or a tint with at most `clutterMaxSaturation` of a palette colour's saturation, and
 * with noise of at most `noiseAmplitude` per channel an object pixel stays within
 * noiseAmplitude * sqrt(3) of its palette colour while no other pixel comes that close to any.
 */
import type { Level } from './types.js';

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
}

export const PERCEPTUAL_SETTINGS: Readonly<Record<Level, PerceptualSettings>> = {
  0: {
    backgroundGrey: 242, backgroundJitter: 4, textureAmplitude: 0, stripeAmplitude: 0, noiseAmplitude: 0,
    clutterMarks: 0, clutterMaxSaturation: 0, occluderLines: 0, maxOccludedFraction: 0, objectHalfSizes: [5],
  },
  1: {
    backgroundGrey: 214, backgroundJitter: 8, textureAmplitude: 0, stripeAmplitude: 0, noiseAmplitude: 4,
    clutterMarks: 6, clutterMaxSaturation: 0, occluderLines: 0, maxOccludedFraction: 0, objectHalfSizes: [4, 5],
  },
  2: {
    backgroundGrey: 182, backgroundJitter: 10, textureAmplitude: 14, stripeAmplitude: 0, noiseAmplitude: 9,
    clutterMarks: 14, clutterMaxSaturation: 0.25, occluderLines: 2, maxOccludedFraction: 0.2, objectHalfSizes: [3, 4],
  },
  3: {
    backgroundGrey: 152, backgroundJitter: 10, textureAmplitude: 22, stripeAmplitude: 6, noiseAmplitude: 14,
    clutterMarks: 24, clutterMaxSaturation: 0.4, occluderLines: 4, maxOccludedFraction: 0.25, objectHalfSizes: [3],
  },
};
