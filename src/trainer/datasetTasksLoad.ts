/**
 * Reading a user's dataset into training tasks, everything checked before training starts: each row is read
 * by the dataset reader (bad rows and images that fail to decode are skipped and counted, as `durian score`
 * does), given its split (a split column, or a held-out fraction drawn by seed and row id), its answer read by
 * the chosen reward (unreadable answers skipped and counted), its images encoded through the same feature
 * cache as `durian score` (first image's features for the policy, mean visual entropy over its images), and
 * its question and gold response measured against the length caps (over-long rows skipped and counted).
 * A dataset that leaves nothing to train or validate on is an error naming the file, the rows and the field.
 */
import { createHash } from 'node:crypto';
import { DurianInputError } from '../core/errors.js';
import { DEFAULT_MEGAPIXELS_IN_FLIGHT, type DatasetFieldOptions, DEFAULT_FIELDS, type DatasetImage, type DatasetRow, type SkippedRow, encoderImage, openDataset, skipSummary } from './datasets/dataset.js';
import { DatasetError } from './datasets/records.js';
import type { ImageFormat } from './datasets/decode.js';
import { RowBatcher } from './datasets/rowBatcher.js';
import { type Encoder, EncoderError, PatchFeatureCache } from './encoder/index.js';
import { type AnswerKey, type RewardKind, answerKey, goldResponse } from './rewards/answerKey.js';
import { hashString, mixSeed } from './rng.js';
import { CharacterTokenizer, DEFAULT_MAX_QUESTION_CHARACTERS, DEFAULT_MAX_RESPONSE_TOKENS, questionText, responseText } from './tokenizer.js';
import { DATASET_RECORD_FORMAT, type DatasetRecord, fileSha256 } from './datasetTasksRecord.js';

/** Held-out share of the rows when the dataset names no split. */
export const DEFAULT_VAL_FRACTION = 0.1;

/** Split column values, by the split they put a row in. */
const TRAIN_VALUES = ['train', 'training'];
const VALIDATION_VALUES = ['validation', 'val', 'valid', 'dev', 'test', 'eval', 'heldout', 'held-out'];

/** Extra columns read as difficulty levels: `<name>_level` with whole-number values (e.g. perceptual_level). */
const LEVEL_COLUMN = /^(.+)_level$/;

export interface DatasetTasksOptions extends DatasetFieldOptions {
  /** The dataset file (.json, .jsonl, .parquet). */
  file: string;
  encoder: Encoder;
  /** The feature cache's folder (`<cache dir>/features`, shared with `durian score`); memory only when absent. */
  cacheDirectory?: string;
  /** Draws the held-out rows (with valFraction) and the warm-up order. */
  seed: number;
  /** How answers are compared (default 'auto'). */
  reward?: RewardKind;
  /** Column naming each row's split (train / validation and their usual aliases). */
  splitColumn?: string;
  /** Held-out share of the rows, drawn by seed and row id, when there is no split column (default 0.1). */
  valFraction?: number;
  imageDir?: string;
  maxMegapixels?: number;
  maxMegapixelsInFlight?: number;
  /** Longest question kept, in characters (default 256). */
  maxQuestionLength?: number;
  /** Longest gold response kept, in tokens with the end-of-sequence token (default 32). */
  maxResponseLength?: number;
  /** A saved tokenizer (a resumed run's): its vocabularies and lengths are used as they are. */
  tokenizer?: CharacterTokenizer;
  onProgress?: (seen: number, total: number) => void;
}

/** Where a task's image comes from, to write it into a run folder for the panels. */
export interface TaskImageSource {
  format: ImageFormat;
  file?: string;
  bytes?: Uint8Array;
}

/** One kept row, ready for the task source. */
export interface LoadedRow {
  split: 'train' | 'validation';
  row: number;
  line?: number;
  id?: string;
  /** The question as the policy reads it (questionText of the problem). */
  question: string;
  /** The answer as the dataset gives it. */
  answer: string;
  key: AnswerKey;
  /** The gold response's text (goldResponse of the key). */
  gold: string;
  features: Float32Array;
  visualEntropy: number;
  levels: Record<string, number>;
  image: TaskImageSource;
}

export interface LoadedDatasetTasks {
  rows: LoadedRow[];
  skipped: SkippedRow[];
  tokenizer: CharacterTokenizer;
  record: DatasetRecord;
}

function validFraction(value: number | undefined): number {
  const fraction = value ?? DEFAULT_VAL_FRACTION;
  if (!(Number.isFinite(fraction) && fraction > 0 && fraction < 1)) throw new DurianInputError('--val-fraction', `must be a number between 0 and 1 (exclusive), got ${String(value)}`);
  return fraction;
}

function cap(value: number | undefined, fallback: number, flag: string, min: number): number {
  const length = value ?? fallback;
  if (!(Number.isInteger(length) && length >= min && length <= 4096)) throw new DurianInputError(flag, `must be a whole number from ${min} to 4096, got ${String(value)}`);
  return length;
}

function at(row: { row: number; line?: number }): string {
  return row.line !== undefined ? `row ${row.row} (line ${row.line})` : `row ${row.row}`;
}

/** The split a row goes to: its split column's value, or a draw by seed and row id against the held-out fraction. */
function splitOf(row: DatasetRow, options: { file: string; seed: number; splitColumn?: string; valFraction: number }): 'train' | 'validation' {
  if (options.splitColumn === undefined) {
    const key = row.id ?? `#${row.row}`;
    return mixSeed(options.seed, hashString(key), 0x5b17) / 2 ** 32 < options.valFraction ? 'validation' : 'train';
  }
  const value = row.extra?.[options.splitColumn];
  const name = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (name !== undefined && TRAIN_VALUES.includes(name)) return 'train';
  if (name !== undefined && VALIDATION_VALUES.includes(name)) return 'validation';
  const got = value === undefined ? 'no value' : JSON.stringify(value);
  throw new DatasetError(options.file, `${at(row)}, field ${JSON.stringify(options.splitColumn)}: ${got} is not a split (use ${TRAIN_VALUES[0]} or ${VALIDATION_VALUES.slice(0, 5).join(' / ')})`);
}

function levelsOf(row: DatasetRow): Record<string, number> {
  const levels: Record<string, number> = {};
  for (const [field, value] of Object.entries(row.extra ?? {})) {
    const match = LEVEL_COLUMN.exec(field);
    const level = typeof value === 'bigint' ? Number(value) : value;
    if (match && typeof level === 'number' && Number.isInteger(level) && level >= 0 && level <= 1000) levels[match[1]] = level;
  }
  return levels;
}

function imageSource(image: DatasetImage): TaskImageSource {
  return { format: image.format, ...(image.file !== undefined ? { file: image.file } : {}), ...(image.bytes !== undefined ? { bytes: image.bytes } : {}) };
}

interface PendingRow {
  row: DatasetRow;
  split: 'train' | 'validation';
  key: AnswerKey;
}

/** Reads, splits, checks and encodes a dataset's rows (see the module comment). */
export async function loadDatasetTasks(options: DatasetTasksOptions): Promise<LoadedDatasetTasks> {
  const reward = options.reward ?? 'auto';
  const valFraction = options.splitColumn === undefined ? validFraction(options.valFraction) : 0;
  const maxQuestionCap = cap(options.maxQuestionLength, DEFAULT_MAX_QUESTION_CHARACTERS, '--max-question-length', 1);
  const maxResponseCap = cap(options.maxResponseLength, DEFAULT_MAX_RESPONSE_TOKENS, '--max-response-length', 2);
  const { encoder } = options;
  const problemField = options.problemField ?? DEFAULT_FIELDS.problemField;
  const answerField = options.answerField ?? DEFAULT_FIELDS.answerField;
  const sha256 = fileSha256(options.file);
  const dataset = await openDataset(options.file, {
    imageField: options.imageField, problemField: options.problemField, answerField: options.answerField, idField: options.idField,
    ...(options.imageDir !== undefined ? { imageDir: options.imageDir } : {}),
    ...(options.maxMegapixels !== undefined ? { maxMegapixels: options.maxMegapixels } : {}),
    ...(options.maxMegapixelsInFlight !== undefined ? { maxMegapixelsInFlight: options.maxMegapixelsInFlight } : {}),
    keepPixels: true,
    keepEmbeddedBytes: true,
    extraFields: (available) => [...(options.splitColumn !== undefined ? [options.splitColumn] : []), ...available.filter((name) => LEVEL_COLUMN.test(name))],
  });
  const file = dataset.file;
  if (dataset.format === 'parquet' && options.splitColumn !== undefined && !dataset.fields.includes(options.splitColumn)) {
    throw new DatasetError(file, `no column ${JSON.stringify(options.splitColumn)} for --split-column (columns: ${dataset.fields.join(', ')})`);
  }

  const cache = new PatchFeatureCache(encoder, { ...(options.cacheDirectory ? { directory: options.cacheDirectory } : {}) });
  const batchSize = Math.max(encoder.batchSize, 16);
  const pixelBudget = (options.maxMegapixelsInFlight ?? DEFAULT_MEGAPIXELS_IN_FLIGHT) * 1e6;
  const encoded: (LoadedRow & { imageKeys: string[] })[] = [];
  const skipped: SkippedRow[] = [];
  const unreadable: SkippedRow[] = [];
  const batcher = new RowBatcher<PendingRow>(batchSize, pixelBudget, async (pending) => {
    const images = pending.flatMap((entry) => entry.row.images.map(encoderImage));
    let entries;
    try {
      entries = await cache.get(images);
    } catch (error) {
      if (!(error instanceof EncoderError) || error.image === undefined) throw error;
      const owners = pending.flatMap((entry) => entry.row.images.map((image) => ({ row: entry.row, image: image.source })));
      const owner = owners[error.image];
      throw owner ? new EncoderError(`dataset ${file}, ${at(owner.row)} (image ${owner.image}): ${error.message.replace(`images[${error.image}]`, 'this image')}`) : error;
    }
    let k = 0;
    for (const { row, split, key } of pending) {
      const own = entries.slice(k, k + row.images.length);
      k += row.images.length;
      for (const image of row.images) delete image.data; // pixels are not needed once encoded
      encoded.push({
        split, row: row.row, ...(row.line !== undefined ? { line: row.line } : {}), ...(row.id !== undefined ? { id: row.id } : {}),
        question: questionText(row.problem), answer: row.answer, key, gold: responseText(goldResponse(key)),
        features: own[0].features,
        visualEntropy: own.reduce((sum, entry) => sum + entry.entropy, 0) / own.length,
        levels: levelsOf(row),
        image: imageSource(row.images[0]),
        imageKeys: own.map((entry) => entry.key),
      });
    }
  });

  let seen = 0;
  for await (const item of dataset.items()) {
    seen++;
    if (item.kind === 'skipped') {
      skipped.push(item.skipped);
    } else {
      const { row } = item;
      const split = splitOf(row, { file, seed: options.seed, splitColumn: options.splitColumn, valFraction });
      const read = answerKey(row.answer, reward);
      if ('problem' in read) {
        const bad: SkippedRow = { row: row.row, ...(row.line !== undefined ? { line: row.line } : {}), file, reason: `unparseable answer: field ${JSON.stringify(answerField)}: ${read.problem}` };
        skipped.push(bad);
        unreadable.push(bad);
      } else {
        await batcher.add({ row, split, key: read.key });
      }
    }
    options.onProgress?.(seen, dataset.total);
  }
  await batcher.flush();

  if (encoded.length === 0) {
    if (unreadable.length > 0 && unreadable.length === skipped.length) {
      throw new DatasetError(file, `no answer can be read by the ${reward} reward (${unreadable.length} rows; ${at(unreadable[0])}: ${unreadable[0].reason.replace(/^unparseable answer: /, '')}); choose another --reward (exact compares text)`);
    }
    const reasons = skipSummary(skipped).map((group) => `${group.count} ${group.reason}`).join(', ');
    throw new DatasetError(file, `no valid rows: ${seen} records, all skipped (${reasons || 'the file holds no rows'})${skipped[0] ? `; first: ${at(skipped[0])}: ${skipped[0].reason}` : ''}`);
  }

  // Lengths: a saved tokenizer's, or the longest rows within the caps (longer rows are skipped and counted).
  const questionLimit = options.tokenizer?.maxQuestionLength ?? maxQuestionCap;
  const responseLimit = options.tokenizer?.maxResponseLength ?? maxResponseCap;
  const kept = encoded.filter((row) => {
    const questionLength = Array.from(row.question).length;
    const responseLength = Array.from(row.gold).length + 1;
    const where = { row: row.row, ...(row.line !== undefined ? { line: row.line } : {}), file };
    if (questionLength > questionLimit) {
      skipped.push({ ...where, reason: `too long: field ${JSON.stringify(problemField)} is ${questionLength} characters, over the ${questionLimit} limit (--max-question-length)` });
      return false;
    }
    if (responseLength > responseLimit) {
      skipped.push({ ...where, reason: `too long: the gold response of field ${JSON.stringify(answerField)} is ${responseLength} tokens, over the ${responseLimit} limit (--max-response-length)` });
      return false;
    }
    return true;
  });
  skipped.sort((a, b) => a.row - b.row);
  if (kept.length === 0) throw new DatasetError(file, `no valid rows: every row's question or answer is over the length limits (first: ${at(skipped[0])}: ${skipped[0].reason})`);
  const train = kept.filter((row) => row.split === 'train');
  const validation = kept.filter((row) => row.split === 'validation');
  const splitRule = options.splitColumn !== undefined ? `in column ${JSON.stringify(options.splitColumn)}` : `with --val-fraction ${valFraction}`;
  if (train.length === 0) throw new DatasetError(file, `the training split is empty: none of the ${kept.length} valid rows is a training row ${splitRule}`);
  if (validation.length === 0) throw new DatasetError(file, `the validation split is empty: none of the ${kept.length} valid rows is held out ${splitRule}${options.splitColumn === undefined ? ' (raise --val-fraction or add rows)' : ''}`);

  const tokenizer = options.tokenizer ?? CharacterTokenizer.build(train.map((row) => row.question), train.map((row) => row.gold), {
    maxQuestionLength: Math.max(...kept.map((row) => Array.from(row.question).length)),
    maxResponseLength: Math.max(2, ...kept.map((row) => Array.from(row.gold).length + 1)),
  });
  const images = createHash('sha256');
  for (const row of kept) images.update(`${row.row}:${row.imageKeys.join(',')}\n`);
  const skippedByReason = Object.fromEntries(skipSummary(skipped).map((group) => [group.reason, group.count]));
  const record: DatasetRecord = {
    format: DATASET_RECORD_FORMAT,
    file,
    sha256,
    imagesSha256: images.digest('hex'),
    rows: { total: seen, train: train.length, validation: validation.length, skipped: skipped.length, skippedByReason },
  };
  return { rows: kept.map(({ imageKeys: _keys, ...row }) => row), skipped, tokenizer, record };
}
