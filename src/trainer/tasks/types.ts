/**
 * The data shapes of the task suite: images, scene objects, question programs and tasks. Kept apart
 * from the code so the policy, the encoder and the run directory can import them without pulling
 * in the drawing code.
 */
import type { ColourName, ShapeName } from './palette.js';

/** RGB image, row-major, channel-last: pixel (x, y) channel c is rgb[(y * width + x) * 3 + c]. */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

export type Split = 'train' | 'validation';

/** A difficulty level of either knob: 0 (easiest) .. 3 (hardest). */
export type Level = 0 | 1 | 2 | 3;
export const LEVELS: readonly Level[] = [0, 1, 2, 3];

/** One drawn object: the ground truth every answer is computed from. */
export interface SceneObject {
  colour: ColourName;
  shape: ShapeName;
  /** Grid cell (0..7 each); at most one object per cell. */
  row: number;
  col: number;
  /** Centre pixel; the whole shape lies inside its cell. */
  centreX: number;
  centreY: number;
  /** Half the shape's extent in pixels: it spans centre - halfSize .. centre + halfSize. */
  halfSize: number;
}

/** Selects objects by colour, shape, or both ("red objects", "circles", "red circles"). */
export interface Descriptor {
  colour?: ColourName;
  shape?: ShapeName;
}

export type ArithmeticOperator = '+' | '-';

/** What a question asks, in a form the answer and the gold response are computed from. */
export type QuestionProgram =
  | { kind: 'count'; target: Descriptor }
  | { kind: 'compare'; relation: 'more' | 'fewer'; left: Descriptor; right: Descriptor }
  | { kind: 'arithmetic'; terms: Descriptor[]; operators: ArithmeticOperator[] };

export interface Task {
  /** Unique within a run, e.g. `train-000123`; also the image's file name. */
  id: string;
  split: Split;
  index: number;
  perceptualLevel: Level;
  reasoningLevel: Level;
  question: string;
  /** Question token ids, unpadded (at most QUESTION_MAX_TOKENS); pad with padTokens. */
  questionTokens: number[];
  program: QuestionProgram;
  /** '0'..'15', 'yes' or 'no'. */
  answer: string;
  image: RgbImage;
  objects: SceneObject[];
}
