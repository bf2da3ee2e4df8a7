/**
 * `durian export-tasks --n N --out suite.parquet`: the built-in suite as a dataset in the EasyR1 / Geometry3K
 * shape, one Parquet file any HF-datasets / pandas / EasyR1 pipeline reads and `durian train --dataset` trains on:
 *   images           list<struct<bytes: binary, path: string>>  (HF datasets' Sequence(Image()); one PNG each)
 *   problem          "<image>How many red circles are there?"
 *   answer           "4" / "yes"
 *   id               the task id (train-000012)
 *   split            train | validation
 *   perceptual_level, reasoning_level   the generator's levels (0..3), read back as the tasks' levels
 * Tasks are the ones `durian train --seed S` draws: train 0..N-1 and validation 0..M-1 of the same seed.
 * (The folder export for the PyTorch trainer is ./exportTasks.ts; `--out` ending in .parquet comes here.)
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DurianInputError } from '../core/index.js';
import { writeBytesAtomic } from '../trainer/run/atomic.js';
import { type Split, type SuiteVersion, encodePng, generateTask, taskLevelsAt, taskImagePath } from '../trainer/tasks/index.js';
import { suiteFlag } from './suiteFlag.js';

export const EXPORT_PARQUET_HELP = `durian export-tasks --n N --out FILE.parquet [--validation-n M] [--seed S] [--suite v1|v2]

Writes the built-in suite as an EasyR1-shaped Parquet dataset: training tasks 0..N-1 and validation tasks
0..M-1 of seed S (default 1) and suite version v1|v2 (default v1; the tasks durian train --seed S --suite V
uses), with columns images (embedded PNGs as {bytes, path}), problem ("<image>" + question), answer, id, split
(train / validation), perceptual_level and reasoning_level. Train on it with: durian train --dataset FILE.parquet --split-column split

  --validation-n M   validation tasks (default: N, at most 512)
  --suite V          version of the built-in suite: v1 (default) or v2`;

/** Most tasks one Parquet export holds (about 13 KB a task; the file is built in memory). */
export const MAX_PARQUET_TASKS = 200_000;
const DEFAULT_MAX_VALIDATION = 512;

export interface ExportParquetOptions {
  n: number;
  validationN: number;
  seed: number;
  /** Version of the built-in suite (default v1). */
  suite?: SuiteVersion;
  out: string;
}

/** One exported row, as the columns hold it. */
export interface SuiteRow {
  image: { bytes: Uint8Array; path: string };
  problem: string;
  answer: string;
  id: string;
  split: Split;
  perceptualLevel: number;
  reasoningLevel: number;
}

/** The built-in tasks `split` 0..count-1 of `seed` (suite version `suite`, default v1) as dataset rows. */
export function suiteRows(seed: number, split: Split, count: number, suite: SuiteVersion = 'v1'): SuiteRow[] {
  return Array.from({ length: count }, (_, index) => {
    const task = generateTask(seed, split, index, taskLevelsAt(seed, split, index), suite);
    return {
      image: { bytes: new Uint8Array(encodePng(task.image)), path: taskImagePath(task) },
      problem: `<image>${task.question}`,
      answer: task.answer,
      id: task.id,
      split,
      perceptualLevel: task.perceptualLevel,
      reasoningLevel: task.reasoningLevel,
    };
  });
}

/** Parquet bytes of the rows (schema as HF datasets writes an image list). */
export async function suiteParquet(rows: readonly SuiteRow[]): Promise<Uint8Array> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'images', data: rows.map((row) => [{ bytes: row.image.bytes, path: row.image.path }]) },
      { name: 'problem', data: rows.map((row) => row.problem) },
      { name: 'answer', data: rows.map((row) => row.answer) },
      { name: 'id', data: rows.map((row) => row.id) },
      { name: 'split', data: rows.map((row) => row.split) },
      { name: 'perceptual_level', data: rows.map((row) => row.perceptualLevel) },
      { name: 'reasoning_level', data: rows.map((row) => row.reasoningLevel) },
    ],
    schema: [
      { name: 'root', num_children: 7 },
      { name: 'images', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'bytes', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
      { name: 'path', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'problem', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'answer', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'split', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'perceptual_level', type: 'INT32', repetition_type: 'OPTIONAL' },
      { name: 'reasoning_level', type: 'INT32', repetition_type: 'OPTIONAL' },
    ],
    // Images are PNGs already: compressing them again gains nothing.
    codec: 'UNCOMPRESSED',
    rowGroupSize: 1000,
    createdBy: 'durian export-tasks',
  });
  return new Uint8Array(buffer);
}

export async function exportParquet(options: ExportParquetOptions): Promise<{ file: string; rows: number }> {
  const rows = [...suiteRows(options.seed, 'train', options.n, options.suite), ...suiteRows(options.seed, 'validation', options.validationN, options.suite)];
  writeBytesAtomic(options.out, await suiteParquet(rows));
  return { file: options.out, rows: rows.length };
}

/** Whether an export-tasks command line asks for a Parquet file (`--out X.parquet` / `--out=X.parquet`). */
export function wantsParquet(argv: readonly string[]): boolean {
  return argv.some((arg, k) => (arg === '--out' && /\.parquet$/i.test(argv[k + 1] ?? '')) || /^--out=.*\.parquet$/i.test(arg));
}

function wholeNumber(value: string | undefined, flag: string, min: number, max: number): number {
  const parsed = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new DurianInputError(flag, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

export async function runExportParquet(argv: string[], print: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { n: { type: 'string' }, 'validation-n': { type: 'string' }, seed: { type: 'string' }, suite: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) return print(EXPORT_PARQUET_HELP), 0;
  const n = wholeNumber(values.n, '--n', 1, MAX_PARQUET_TASKS);
  const validationN = values['validation-n'] === undefined ? Math.min(n, DEFAULT_MAX_VALIDATION) : wholeNumber(values['validation-n'], '--validation-n', 1, MAX_PARQUET_TASKS - n);
  const seed = values.seed === undefined ? 1 : wholeNumber(values.seed, '--seed', 0, 2 ** 31 - 1);
  const suite = suiteFlag(values.suite);
  if (!values.out) throw new DurianInputError('--out', 'is required: the .parquet file to write');
  const out = path.resolve(values.out);
  const { rows } = await exportParquet({ n, validationN, seed, suite, out });
  print(`wrote ${rows} built-in tasks (${n} train, ${validationN} validation; seed ${seed}) of suite ${suite} to ${path.relative(process.cwd(), out) || out}`);
  return 0;
}
