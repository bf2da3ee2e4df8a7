/**
 * The data shapes of the task suite: images, scene objects, question programs and tasks. Kept apart
 * from the code so the policy, the encoder and the run directory can import them without pulling
 * in the drawing code.
 */
import { SUITE_CHOICES, type SuiteChoice } from '../../protocol/settings.js';
import type { ColourName, ShapeName } from './palette.js';

/** RGB image, row-major, channel-last: pixel (x, y) channel c is rgb[(y * width + x) * 3 + c]. */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

export type Split = 'train' | 'validation';

/**
 * Which version of the built-in suite: 'v1' (the original; still the default) or 'v2', where both knobs are
 * harder for a model that reads patch features (README.md in this folder, "Version 2").
 */
export type SuiteVersion = SuiteChoice;
/** The versions, from the protocol's settings table (the `suite` setting, `--suite` of train, proxy and export-tasks). */
export const SUITE_VERSIONS: readonly SuiteVersion[] = SUITE_CHOICES;
/** The generator's default when no version is named (not the session default, which is the settings table's). */
export const DEFAULT_SUITE_VERSION: SuiteVersion = 'v1';

/** A difficulty level of either knob: 0 (easiest) .. 3 (hardest). */
export type Level = 0 | 1 | 2 | 3;
export const LEVELS: readonly Level[] = [0, 1, 2, 3];

/** One drawn object: the ground truth every answer is computed from. */
export interface SceneObject {
  colour: ColourName;
  shape: ShapeName;
  /**
   * Grid cell (0..7 each) that holds the centre. v1 (and v2 at perceptual levels 0-1): at most one object per
   * cell, the whole shape inside it; v2 at levels 2-3: objects lie anywhere, may share a cell or straddle cells.
   */
  row: number;
  col: number;
  /** Centre pixel. */
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
  | {
    kind: 'arithmetic'; terms: Descriptor[]; operators: ArithmeticOperator[];
    /**
     * Phrased as a difference of groups (suite v2): "how many more X plus Y than Z ?" (operators + -) or
     * "how many more X than Y plus Z ?" (operators - -). Absent: "how many X plus Y minus Z ?".
     */
    grouped?: true;
  };

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
