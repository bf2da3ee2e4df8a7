/**
 * Task generation: scene -> question -> drawing, each from its own seeded stream derived from
 * (seed, split, index). So the same triple always gives a byte-identical task, train and validation
 * are unrelated streams, and the two knobs are independent: the perceptual level changes only the
 * drawing stream's output, never which objects exist or what is asked (in version 2 it may also move the objects,
 * never change their colours, shapes, the question or the answer).
 */
import { Rng, hashString, mixSeed } from '../rng.js';
import { placeObjects, renderScene, type ObjectPlacement } from './draw.js';
import { COLOUR_NAMES, GRID_CELLS, SHAPE_NAMES } from './palette.js';
import { chooseProgram, evaluateProgram, questionText } from './questions.js';
import { chooseProgramV2 } from './questionsV2.js';
import {
  DEFAULT_SUITE_VERSION, LEVELS, SUITE_VERSIONS, type Level, type QuestionProgram, type Split, type SuiteVersion, type Task,
} from './types.js';
import { tokenizeQuestion } from './vocab.js';

/** Objects per scene, drawn uniformly from this range (every count stays within 0..15). */
const MIN_OBJECTS = 3;
const MAX_OBJECTS = 12;

export interface TaskLevels {
  perceptualLevel: Level;
  reasoningLevel: Level;
}

export interface TaskSetOptions {
  seed: number;
  split: Split;
  count: number;
  /** Index of the first task (default 0), to extend a set without regenerating it. */
  firstIndex?: number;
  /** Levels to draw from uniformly per task (default: all four). */
  perceptualLevels?: readonly Level[];
  reasoningLevels?: readonly Level[];
  /** Suite version (default 'v1'). */
  suite?: SuiteVersion;
}

/** Sub-streams of one task; fixed numbers so adding a stream never shifts the others. */
const STREAM_LEVELS = 1;
const STREAM_SCENE = 2;
const STREAM_QUESTION = 3;
const STREAM_DRAWING = 4;
const MAX_SCENE_ATTEMPTS = 100;

export function taskId(split: Split, index: number): string {
  return `${split}-${String(index).padStart(6, '0')}`;
}

function streamRng(seed: number, split: Split, index: number, stream: number): Rng {
  return new Rng(mixSeed(seed, hashString(split), index, stream));
}

function checkLevel(name: string, level: number): asserts level is Level {
  if (!LEVELS.includes(level as Level)) throw new RangeError(`${name} must be 0, 1, 2 or 3, got ${level}`);
}

function checkSplit(split: string): asserts split is Split {
  if (split !== 'train' && split !== 'validation') throw new RangeError(`split must be "train" or "validation", got "${split}"`);
}

function checkSuite(suite: string): asserts suite is SuiteVersion {
  if (!SUITE_VERSIONS.includes(suite as SuiteVersion)) {
    throw new RangeError(`suite must be ${SUITE_VERSIONS.map((version) => `"${version}"`).join(' or ')}, got "${suite}"`);
  }
}

/** Which objects the scene holds and in which cells (no two in one cell). */
function generatePlacements(rng: Rng): ObjectPlacement[] {
  const objectCount = rng.intBetween(MIN_OBJECTS, MAX_OBJECTS);
  const cells = rng.shuffle(Array.from({ length: GRID_CELLS * GRID_CELLS }, (_, cell) => cell)).slice(0, objectCount);
  cells.sort((a, b) => a - b); // row-major order, so the object list reads like the image
  return cells.map((cell) => ({
    colour: rng.pick(COLOUR_NAMES),
    shape: rng.pick(SHAPE_NAMES),
    row: Math.floor(cell / GRID_CELLS),
    col: cell % GRID_CELLS,
  }));
}

export interface GeneratedTask {
  task: Task;
  /** Per pixel: 1 + index of the object visible there, 0 elsewhere (for checks and debugging). */
  visibleObject: Int16Array;
}

/** Like generateTask, plus the map of which object is visible at each pixel. */
export function generateTaskWithMask(
  seed: number, split: Split, index: number, levels: TaskLevels, suite: SuiteVersion = DEFAULT_SUITE_VERSION,
): GeneratedTask {
  checkSplit(split);
  checkSuite(suite);
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`index must be a non-negative integer, got ${index}`);
  checkLevel('perceptualLevel', levels.perceptualLevel);
  checkLevel('reasoningLevel', levels.reasoningLevel);

  const sceneRng = streamRng(seed, split, index, STREAM_SCENE);
  const questionRng = streamRng(seed, split, index, STREAM_QUESTION);
  let placements: ObjectPlacement[] = [];
  let program: QuestionProgram | null = null;
  // v2 draws the wanted answer once per task, before any scene (v1 draws nothing here: its streams stay as they were).
  const answerDraw = suite === 'v2' ? questionRng.next() : 0;
  for (let attempt = 0; attempt < MAX_SCENE_ATTEMPTS && program === null; attempt++) {
    placements = generatePlacements(sceneRng);
    program = suite === 'v2'
      ? chooseProgramV2(levels.reasoningLevel, placements, questionRng, { draw: answerDraw, strict: attempt < MAX_SCENE_ATTEMPTS / 2 })
      : chooseProgram(levels.reasoningLevel, placements, questionRng);
  }
  if (program === null) throw new Error(`no answerable level-${levels.reasoningLevel} question in ${MAX_SCENE_ATTEMPTS} scenes`);

  const drawingRng = streamRng(seed, split, index, STREAM_DRAWING);
  const objects = placeObjects(placements, levels.perceptualLevel, drawingRng, suite);
  const { image, visibleObject } = renderScene(objects, levels.perceptualLevel, drawingRng, suite);
  const question = questionText(program);
  const task: Task = {
    id: taskId(split, index),
    split,
    index,
    perceptualLevel: levels.perceptualLevel,
    reasoningLevel: levels.reasoningLevel,
    question,
    questionTokens: tokenizeQuestion(question),
    program,
    answer: evaluateProgram(program, objects).answer,
    image,
    objects,
  };
  return { task, visibleObject };
}

/** One task; the same (seed, split, index, levels, suite) always gives the same task, byte for byte. */
export function generateTask(
  seed: number, split: Split, index: number, levels: TaskLevels, suite: SuiteVersion = DEFAULT_SUITE_VERSION,
): Task {
  return generateTaskWithMask(seed, split, index, levels, suite).task;
}

/** The levels task `index` of a set gets: drawn uniformly from the allowed lists, from its own stream. */
export function taskLevelsAt(
  seed: number, split: Split, index: number,
  perceptualLevels: readonly Level[] = LEVELS, reasoningLevels: readonly Level[] = LEVELS,
): TaskLevels {
  const rng = streamRng(seed, split, index, STREAM_LEVELS);
  return { perceptualLevel: rng.pick(perceptualLevels), reasoningLevel: rng.pick(reasoningLevels) };
}

/** `count` tasks with indices firstIndex .. firstIndex + count - 1. */
export function generateTaskSet(options: TaskSetOptions): Task[] {
  const { seed, split, count, firstIndex = 0, perceptualLevels = LEVELS, reasoningLevels = LEVELS, suite = DEFAULT_SUITE_VERSION } = options;
  checkSplit(split);
  checkSuite(suite);
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  for (const [name, list] of [['perceptualLevels', perceptualLevels], ['reasoningLevels', reasoningLevels]] as const) {
    if (list.length === 0) throw new RangeError(`${name} must not be empty`);
    list.forEach((level) => checkLevel(name, level));
  }
  const tasks: Task[] = [];
  for (let index = firstIndex; index < firstIndex + count; index++) {
    tasks.push(generateTask(seed, split, index, taskLevelsAt(seed, split, index, perceptualLevels, reasoningLevels), suite));
  }
  return tasks;
}
