/**
 * A run that trains on a user's dataset: what `durian train --dataset FILE ...` asks for (DatasetSettings),
 * kept in the run folder so a resume trains on the same rows with the same ids:
 *   dataset.json     the settings, and the dataset's record (path, content hashes, row counts; ./datasetTasksRecord.ts)
 *   tokenizer.json   the character tokenizer built from the training split (./tokenizer.ts)
 * A resume reopens the dataset with the saved settings and tokenizer and refuses a dataset whose content has
 * changed, unless told (`--allow-changed-dataset`).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DurianInputError } from '../core/errors.js';
import type { DatasetFlags } from '../protocol/datasetLaunch.js';
import type { Encoder } from './encoder/index.js';
import { type RewardKind, REWARD_KINDS, isRewardKind } from './rewards/answerKey.js';
import { DatasetTasks } from './datasetTasks.js';
import { skipSummary } from './datasets/dataset.js';
import { type DatasetRecord, datasetChange, parseDatasetRecord } from './datasetTasksRecord.js';
import { CharacterTokenizer } from './tokenizer.js';

export const DATASET_FILE = 'dataset.json';
export const TOKENIZER_FILE = 'tokenizer.json';

/** What a run trains on when it trains on a dataset (JSON-serialisable; saved in dataset.json). */
export interface DatasetSettings {
  /** Absolute path of the dataset file. */
  file: string;
  /** Column naming each row's split; else `valFraction` of the rows are held out by seed and row id. */
  splitColumn?: string;
  valFraction?: number;
  reward: RewardKind;
}

/** The part of a run folder this module reads and writes. */
export interface DatasetRunFolder {
  dir: string;
  writeJsonAtomic(file: string, value: unknown): void;
}

/** The dataset options of `durian train` (--dataset, --split-column, --val-fraction, --reward), checked; undefined without --dataset. */
export function datasetSettingsFromFlags(values: DatasetFlags): DatasetSettings | undefined {
  if (values.dataset === undefined) {
    for (const flag of ['split-column', 'val-fraction', 'reward'] as const) {
      if (values[flag] !== undefined) throw new DurianInputError(`--${flag}`, 'only applies with --dataset FILE');
    }
    return undefined;
  }
  if (values.dataset.trim() === '') throw new DurianInputError('--dataset', 'must name a .json, .jsonl or .parquet file');
  const file = path.resolve(values.dataset);
  if (!existsSync(file)) throw new DurianInputError('--dataset', `${file} does not exist`);
  const reward = values.reward ?? 'auto';
  if (!isRewardKind(reward)) throw new DurianInputError('--reward', `must be one of ${REWARD_KINDS.join(', ')}, got ${JSON.stringify(reward)}`);
  if (values['split-column'] !== undefined && values['val-fraction'] !== undefined) {
    throw new DurianInputError('--val-fraction', 'cannot be combined with --split-column (the column names every row\'s split)');
  }
  const settings: DatasetSettings = { file, reward };
  if (values['split-column'] !== undefined) {
    if (values['split-column'].trim() === '') throw new DurianInputError('--split-column', 'must name a column');
    settings.splitColumn = values['split-column'];
  }
  if (values['val-fraction'] !== undefined) {
    const fraction = Number(values['val-fraction']);
    if (!(values['val-fraction'].trim() !== '' && Number.isFinite(fraction) && fraction > 0 && fraction < 1)) {
      throw new DurianInputError('--val-fraction', `must be a number between 0 and 1 (exclusive), got ${JSON.stringify(values['val-fraction'])}`);
    }
    settings.valFraction = fraction;
  }
  return settings;
}

interface SavedDataset {
  settings: DatasetSettings;
  record: DatasetRecord;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new DurianInputError(file, `cannot be read: ${(error as Error).message}`);
  }
}

/** The dataset a run trains on, from its dataset.json (undefined: the run trains on the built-in suite). */
export function savedDataset(runDir: string): SavedDataset | undefined {
  const file = path.join(runDir, DATASET_FILE);
  if (!existsSync(file)) return undefined;
  const value = readJson(file) as Partial<SavedDataset> | null;
  const record = parseDatasetRecord(value?.record);
  const settings = value?.settings;
  if (!record || !settings || typeof settings.file !== 'string' || !isRewardKind(String(settings.reward))) throw new DurianInputError(file, 'is not a run\'s dataset record (settings and record expected)');
  return { settings, record };
}

/**
 * The task source of a run on a dataset: a new run (settings given) reads the dataset, builds its tokenizer
 * and saves both files; a resumed run reopens its saved dataset with its tokenizer, and refuses a changed
 * dataset unless `allowChanged` (then `warn` says what changed).
 */
export async function openRunDataset(options: {
  run: DatasetRunFolder;
  /** The new run's --dataset settings; absent on resume (the run's own are used). */
  settings?: DatasetSettings;
  resumed: boolean;
  allowChanged: boolean;
  encoder: Encoder;
  cacheDirectory: string;
  seed: number;
  warn: (message: string) => void;
}): Promise<DatasetTasks> {
  const saved = savedDataset(options.run.dir);
  if (options.resumed && saved) {
    if (options.settings && options.settings.file !== saved.settings.file) {
      throw new DurianInputError('--dataset', `the run trains on ${saved.settings.file} and a resume keeps it; drop --dataset`);
    }
    const tokenizerFile = path.join(options.run.dir, TOKENIZER_FILE);
    const tokenizer = CharacterTokenizer.fromJson(readJson(tokenizerFile), tokenizerFile);
    const source = await DatasetTasks.open({ ...datasetOptions(saved.settings), encoder: options.encoder, cacheDirectory: options.cacheDirectory, seed: options.seed, tokenizer });
    const change = datasetChange(saved.record, source.record);
    if (change) {
      if (!options.allowChanged) throw new DurianInputError('--resume', `${change}; resume with --allow-changed-dataset to train on it as it is now, or start a new run`);
      options.warn(`${change}; training on it as it is now (--allow-changed-dataset)`);
      options.run.writeJsonAtomic(DATASET_FILE, { settings: saved.settings, record: source.record, previousRecord: saved.record });
    }
    warnSkipped(source, options.warn);
    return source;
  }
  if (options.resumed && options.settings) throw new DurianInputError('--dataset', 'the run being resumed trains on the built-in tasks and a resume keeps them; drop --dataset');
  if (!options.settings) throw new Error('openRunDataset: a new run needs its dataset settings');
  const source = await DatasetTasks.open({ ...datasetOptions(options.settings), encoder: options.encoder, cacheDirectory: options.cacheDirectory, seed: options.seed });
  options.run.writeJsonAtomic(TOKENIZER_FILE, source.tokenizer.toJson());
  options.run.writeJsonAtomic(DATASET_FILE, { settings: options.settings, record: source.record });
  warnSkipped(source, options.warn);
  return source;
}

/** One line on the rows left out: how many, why, and which rows (the first few of each reason). */
function warnSkipped(source: DatasetTasks, warn: (message: string) => void): void {
  if (source.skipped.length === 0) return;
  const groups = skipSummary(source.skipped).map(({ reason, count, rows }) => `${count} ${reason} (row${rows.length > 1 ? 's' : ''} ${rows.slice(0, 5).join(', ')}${rows.length > 5 ? ', ...' : ''})`);
  warn(`dataset ${source.record.file}: ${source.skipped.length} of ${source.record.rows.total} rows skipped: ${groups.join('; ')}; first: row ${source.skipped[0].row}: ${source.skipped[0].reason}`);
}

function datasetOptions(settings: DatasetSettings): { file: string; reward: RewardKind; splitColumn?: string; valFraction?: number } {
  return {
    file: settings.file,
    reward: settings.reward,
    ...(settings.splitColumn !== undefined ? { splitColumn: settings.splitColumn } : {}),
    ...(settings.valFraction !== undefined ? { valFraction: settings.valFraction } : {}),
  };
}
