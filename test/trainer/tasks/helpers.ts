/**
 * Shared fixtures for the task-suite tests, written independently of the code under test: a question
 * interpreter that reads only the question text and the object list, colour distances, shape areas and
 * noise tolerances.
 */
import { type PerceptualSettings, type Rgb, type SceneObject, shapeContains } from '../../../src/trainer/tasks/index.js';

const COLOURS = ['red', 'green', 'blue', 'yellow', 'purple'];
const SHAPE_PLURALS: Record<string, string> = { circles: 'circle', squares: 'square', triangles: 'triangle' };

/** Counts the objects a phrase like "red objects", "circles" or "red circles" names. */
function countPhrase(phrase: string, objects: readonly SceneObject[]): number {
  const words = phrase.split(' ');
  let colour: string | undefined;
  if (COLOURS.includes(words[0])) colour = words.shift();
  assert(words.length === 1, `unexpected phrase "${phrase}"`);
  const shape = words[0] === 'objects' ? undefined : SHAPE_PLURALS[words[0]];
  assert(words[0] === 'objects' || shape !== undefined, `unknown noun in "${phrase}"`);
  return objects.filter((o) => (colour === undefined || o.colour === colour) && (shape === undefined || o.shape === shape)).length;
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

export interface Interpretation {
  answer: string;
  /** Number of counted phrases in the question. */
  terms: number;
  /** Running values of an arithmetic question, left to right. */
  partials: number[];
  kind: 'count' | 'compare' | 'arithmetic';
}

/** Answers a question from its text alone. */
export function interpretQuestion(question: string, objects: readonly SceneObject[]): Interpretation {
  const compare = /^are there (more|fewer) (.+) than (.+) \?$/.exec(question);
  if (compare) {
    const left = countPhrase(compare[2], objects);
    const right = countPhrase(compare[3], objects);
    const holds = compare[1] === 'more' ? left > right : left < right;
    return { answer: holds ? 'yes' : 'no', terms: 2, partials: [], kind: 'compare' };
  }
  const difference = /^how many more (.+) than (.+) \?$/.exec(question);
  if (difference) {
    // "more X than Y", or with a group of two on either side: "more X plus Y than Z", "more X than Y plus Z".
    const left = difference[1].split(' plus ').map((phrase) => countPhrase(phrase, objects));
    const right = difference[2].split(' plus ').map((phrase) => countPhrase(phrase, objects));
    const partials = [left[0]];
    for (const count of left.slice(1)) partials.push(partials[partials.length - 1] + count);
    for (const count of right) partials.push(partials[partials.length - 1] - count);
    return { answer: String(partials[partials.length - 1]), terms: left.length + right.length, partials, kind: 'arithmetic' };
  }
  const howMany = /^how many (.+) \?$/.exec(question);
  assert(howMany !== null, `unparsed question "${question}"`);
  const parts = howMany[1].split(/ (plus|minus) /);
  let value = countPhrase(parts[0], objects);
  const partials = [value];
  for (let i = 1; i < parts.length; i += 2) {
    const term = countPhrase(parts[i + 1], objects);
    value = parts[i] === 'plus' ? value + term : value - term;
    partials.push(value);
  }
  const terms = (parts.length + 1) / 2;
  return { answer: String(value), terms, partials, kind: terms === 1 ? 'count' : 'arithmetic' };
}

export function colourDistance(rgb: Uint8Array, offset: number, colour: Rgb): number {
  const dr = rgb[offset] - colour[0];
  const dg = rgb[offset + 1] - colour[1];
  const db = rgb[offset + 2] - colour[2];
  return Math.sqrt(dr * dr + dg * dg + db * db);
}

/** Pixels of an object's shape (shapeContains over its (2h+1)^2 box). */
export function shapeArea(object: Pick<SceneObject, 'shape' | 'halfSize'>): number {
  let area = 0;
  for (let dy = -object.halfSize; dy <= object.halfSize; dy++) {
    for (let dx = -object.halfSize; dx <= object.halfSize; dx++) if (shapeContains(object.shape, dx, dy, object.halfSize)) area++;
  }
  return area;
}

/** How far noise can move a pixel at these settings: a per channel, so a * sqrt(3) in RGB space (+ rounding slack). */
export function noiseTolerance(settings: PerceptualSettings): number {
  return settings.noiseAmplitude * Math.sqrt(3) + 1e-9;
}
