/**
 * A user's dataset as a TaskSource (`durian train --dataset FILE`): rows of image + problem + answer (EasyR1 /
 * Geometry3K shape; JSON, JSON Lines or Parquet), read and checked up front by ./datasetTasksLoad.ts, with a
 * character tokenizer (./tokenizer.ts) the general policy learns from and rewards from ./rewards/answerKey.ts.
 *
 * Splits: `train` and `validation` are the dataset's (a split column or a seeded held-out fraction);
 * `warmup` is the training rows again in a seeded order (a dataset has no rows to spare: the supervised
 * warm-up learns the gold answers of the first half of that order and checks itself on the second half).
 * Task ids are `row-<row number>` (never the dataset's own ids, which could name any path), and levels are
 * the rows' `<name>_level` columns (durian export-tasks writes perceptual_level and reasoning_level).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { MAX_IMAGE_MEGAPIXELS, decodeImage } from './datasets/decode.js';
import { DEFAULT_MEGAPIXELS_IN_FLIGHT } from './datasets/dataset.js';
import type { SkippedRow } from './datasets/dataset.js';
import type { Encoder } from './encoder/index.js';
import type { PolicyShape } from './policy/policy.js';
import { readRegularFile } from './regularFile.js';
import { responseReward } from './rewards/answerKey.js';
import { Rng, mixSeed } from './rng.js';
import { writeBytesAtomic } from './run/atomic.js';
import type { PromptInputs, SourceTask, TaskScore, TaskSource, TaskSourceDescription, TaskSplit } from './taskSource.js';
import { encodePng } from './tasks/png.js';
import { type CharacterTokenizer, RESPONSE_EOS } from './tokenizer.js';
import type { DatasetRecord } from './datasetTasksRecord.js';
import { type DatasetTasksOptions, type LoadedRow, loadDatasetTasks } from './datasetTasksLoad.js';

/** A dataset task with the row behind it. */
interface DatasetTask extends SourceTask {
  loaded: LoadedRow;
  questionTokens: number[];
  target: number[];
}

export class DatasetTasks implements TaskSource {
  readonly shape: PolicyShape;
  private readonly splits: Record<TaskSplit, DatasetTask[]>;

  private constructor(
    readonly tokenizer: CharacterTokenizer,
    readonly record: DatasetRecord,
    /** Rows left out, with row number, file and reason (in row order). */
    readonly skipped: readonly SkippedRow[],
    rows: readonly LoadedRow[],
    private readonly settings: { seed: number; encoderId: string; reward: string; split: Record<string, unknown>; fields: Record<string, unknown>; maxMegapixels: number },
    encoder: Encoder,
  ) {
    const tasks = rows.map((row) => this.task(row));
    const train = tasks.filter((task) => task.loaded.split === 'train');
    const order = train.map((_, k) => k);
    const rng = new Rng(mixSeed(settings.seed, 0x3a7a));
    for (let k = order.length - 1; k > 0; k--) {
      const j = rng.int(k + 1);
      [order[k], order[j]] = [order[j], order[k]];
    }
    this.splits = { train, validation: tasks.filter((task) => task.loaded.split === 'validation'), warmup: order.map((k) => train[k]) };
    this.shape = {
      questionVocabSize: tokenizer.questionVocabSize,
      responseVocabSize: tokenizer.responseVocabSize,
      eosToken: RESPONSE_EOS,
      maxQuestionLength: tokenizer.maxQuestionLength,
      maxResponseLength: tokenizer.maxResponseLength,
      patchCount: encoder.patches,
      patchDim: encoder.dims,
    };
  }

  /** Reads and checks the dataset (see ./datasetTasksLoad.ts); throws a DatasetError naming file, row and field when it cannot be trained on. */
  static async open(options: DatasetTasksOptions): Promise<DatasetTasks> {
    const loaded = await loadDatasetTasks(options);
    const split = options.splitColumn !== undefined ? { splitColumn: options.splitColumn } : { valFraction: options.valFraction ?? 0.1 };
    const fields = Object.fromEntries((['imageField', 'problemField', 'answerField', 'idField'] as const).filter((k) => options[k] !== undefined).map((k) => [k, options[k]]));
    return new DatasetTasks(loaded.tokenizer, loaded.record, loaded.skipped, loaded.rows, {
      seed: options.seed,
      encoderId: options.encoder.id,
      reward: options.reward ?? 'auto',
      split,
      fields,
      maxMegapixels: options.maxMegapixels ?? MAX_IMAGE_MEGAPIXELS,
    }, options.encoder);
  }

  private task(row: LoadedRow): DatasetTask {
    return {
      id: `row-${String(row.row).padStart(6, '0')}`,
      question: row.question,
      answer: row.answer,
      features: row.features,
      visualEntropy: row.visualEntropy,
      levels: row.levels,
      loaded: row,
      questionTokens: this.tokenizer.encodeQuestion(row.question),
      target: this.tokenizer.encodeResponse(row.gold),
    };
  }

  describe(): TaskSourceDescription {
    const { rows } = this.record;
    return {
      kind: 'dataset',
      config: {
        sha256: this.record.sha256,
        imagesSha256: this.record.imagesSha256,
        seed: this.settings.seed,
        encoder: this.settings.encoderId,
        reward: this.settings.reward,
        ...this.settings.split,
        ...this.settings.fields,
        tokenizer: this.tokenizer.sha256(),
      },
      summary: `dataset ${this.record.file}: ${rows.train} training and ${rows.validation} validation rows (${rows.skipped} of ${rows.total} skipped), ${this.settings.reward} reward, ${this.shape.questionVocabSize} question / ${this.shape.responseVocabSize} response characters`,
    };
  }

  size(split: TaskSplit): number {
    return this.splits[split].length;
  }

  taskId(split: TaskSplit, index: number): string {
    return this.at(split, index).id;
  }

  async get(split: TaskSplit, indices: readonly number[]): Promise<SourceTask[]> {
    return indices.map((index) => this.at(split, index));
  }

  private at(split: TaskSplit, index: number): DatasetTask {
    const tasks = this.splits[split];
    if (!Number.isInteger(index) || index < 0 || index >= tasks.length) throw new RangeError(`dataset tasks: ${split} index ${index} is outside 0..${tasks.length - 1}`);
    return tasks[index];
  }

  inputs(tasks: readonly SourceTask[]): PromptInputs {
    const featureSize = this.shape.patchCount * this.shape.patchDim;
    const L = this.shape.maxQuestionLength;
    const patches = new Float32Array(tasks.length * featureSize);
    const questions = new Int32Array(tasks.length * L); // 0 = padding
    tasks.forEach((task, p) => {
      patches.set(task.features, p * featureSize);
      questions.set(own(task).questionTokens.slice(0, L), p * L);
    });
    return { patches, questions, questionLength: L };
  }

  score(task: SourceTask, responseTokens: ArrayLike<number>): TaskScore {
    const { reward, accuracy, format } = responseReward(this.tokenizer.decodeResponse(responseTokens), own(task).loaded.key, this.tokenizer.ended(responseTokens));
    return { reward, accuracy, format };
  }

  target(task: SourceTask): readonly number[] {
    return own(task).target;
  }

  decode(tokens: readonly number[]): string {
    return this.tokenizer.decodeResponse(tokens);
  }

  /** `images/<task id>.png`: the row's (first) image as PNG (a PNG copied as it is, a JPEG re-encoded). */
  image(task: SourceTask, runDir?: string): string {
    const relative = `images/${task.id}.png`;
    if (runDir === undefined) return relative;
    const target = path.join(runDir, 'images', `${task.id}.png`);
    if (existsSync(target)) return relative;
    const { image } = own(task).loaded;
    const bytes = image.bytes ?? readRegularFile(image.file!, 'image', this.settings.maxMegapixels * 8e6 + 16e6);
    mkdirSync(path.dirname(target), { recursive: true });
    writeBytesAtomic(target, image.format === 'png' ? bytes : pngOf(bytes, this.settings.maxMegapixels));
    return relative;
  }
}

/** A JPEG's pixels as a PNG (grey spread to RGB). */
function pngOf(bytes: Uint8Array, maxMegapixels: number): Buffer {
  const decoded = decodeImage(bytes, { maxMegapixels: Math.min(maxMegapixels, DEFAULT_MEGAPIXELS_IN_FLIGHT) });
  const { width, height, channels, data } = decoded;
  const rgb = new Uint8Array(width * height * 3);
  for (let k = 0; k < width * height; k++) {
    for (let c = 0; c < 3; c++) rgb[k * 3 + c] = data[k * channels + (channels === 1 ? 0 : c)];
  }
  return encodePng({ width, height, rgb });
}

function own(task: SourceTask): DatasetTask {
  const loaded = (task as Partial<DatasetTask>).loaded;
  if (!loaded) throw new TypeError(`task ${task.id} does not come from a dataset`);
  return task as DatasetTask;
}

export { DEFAULT_VAL_FRACTION, type DatasetTasksOptions } from './datasetTasksLoad.js';
export { datasetChange, parseDatasetRecord, type DatasetRecord } from './datasetTasksRecord.js';
