/**
 * `durian export-tasks`: the built-in suite's tasks with their frozen-encoder patch features, for trainers
 * outside Node (the PyTorch data-parallel trainer in python/durian_rl/ddp). Debian's Python has no onnxruntime
 * or pyarrow, so the export is plain files numpy reads:
 *   DIR/<split>.meta.json       vocabularies, shapes, encoder, reward weights, how the tasks were made
 *   DIR/<split>.jsonl           one task per line: ids, levels, question (text, ids), gold response (ids, text),
 *                               answer, visual entropy, and `rewardChecks` (responses with their TypeScript scores)
 *   DIR/<split>.features.npy    float32 [n, patches, dims], little-endian, row i = line i
 *   DIR/images/<task id>.png    each task's image (a line's `image`), for the rollout groups a trainer writes
 * Both splits can share one DIR. The tasks come from the trainer's own TaskPool (same seed -> same tasks, same
 * features and entropies as `durian train --seed S`).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DurianInputError } from '../core/index.js';
import { loadEncoder } from '../trainer/encoder/index.js';
import { Rng, mixSeed } from '../trainer/rng.js';
import { writeBytesAtomic } from '../trainer/run/atomic.js';
import { type PooledTask, TaskPool } from '../trainer/taskPool.js';
import {
  type SuiteVersion,
  ACCURACY_WEIGHT, FORMAT_WEIGHT, QUESTION_MAX_TOKENS, QUESTION_VOCAB, RESPONSE_BOS_ID, RESPONSE_EOS_ID, RESPONSE_MAX_TOKENS,
  RESPONSE_PAD_ID, RESPONSE_VOCAB, type Split, type Task, decodeResponse, encodePng, responseTokenId, scoreResponse, targetResponse,
} from '../trainer/tasks/index.js';
import { defaultCacheDir } from './score.js';
import { runExportParquet, wantsParquet } from './exportParquet.js';
import { suiteFlag } from './suiteFlag.js';

export const EXPORT_TASKS_HELP = `durian export-tasks --split train|validation --n N [--seed S] [--suite v1|v2] --out DIR [--cache-dir DIR]

Writes the built-in tasks train|validation 0..N-1 of seed S (default 1) and suite version v1|v2 (default v1; the
tasks durian train --seed S --suite V uses) with their frozen-encoder patch features, for the PyTorch trainer
(python/durian_rl/ddp) and other tools outside Node:
  DIR/<split>.meta.json      vocabularies, shapes, encoder, reward weights
  DIR/<split>.jsonl          one task per line (question and gold response ids/text, levels, answer, visual entropy)
  DIR/<split>.features.npy   float32 [N, patches, dims]
  DIR/images/<task id>.png   the images (for the Rollout Groups panel of a run written from these tasks)
Export both splits into the same DIR for training with validation.

durian export-tasks --n N --out FILE.parquet [--validation-n M] [--seed S] [--suite v1|v2]
writes them instead as an EasyR1-shaped Parquet dataset for durian train --dataset (export-tasks --out X.parquet --help).`;

export const EXPORT_FORMAT = 'durian-tasks/1';
/** Most tasks one export writes (features are 8 KB a task with the default encoder). */
const MAX_TASKS = 1_000_000;
const ENCODE_CHUNK = 256;

export interface ExportTasksOptions {
  split: Split;
  n: number;
  seed: number;
  /** Version of the built-in suite (default v1). */
  suite?: SuiteVersion;
  out: string;
  cacheDir: string;
}

/** Responses scored by the TypeScript reward, written beside each task so other ports can prove they agree. */
export function rewardCheckResponses(task: Task, gold: readonly number[], seed: number): number[][] {
  const answerIndex = gold.length - 2;
  const answer = gold[answerIndex];
  const yesNo = task.answer === 'yes' || task.answer === 'no';
  const otherAnswer = yesNo ? responseTokenId(task.answer === 'yes' ? 'no' : 'yes') : responseTokenId(String((Number(task.answer) + 1) % 16));
  const wrongKind = yesNo ? responseTokenId('3') : responseTokenId('yes');
  const rng = new Rng(mixSeed(seed, task.index, 0x5e0));
  const random = Array.from({ length: RESPONSE_MAX_TOKENS }, () => 1 + rng.int(RESPONSE_VOCAB.length - 1));
  const withAnswer = (id: number) => gold.map((token, i) => (i === answerIndex ? id : token));
  return [
    [...gold],
    [answer, RESPONSE_EOS_ID],
    withAnswer(otherAnswer),
    [wrongKind, RESPONSE_EOS_ID],
    gold.slice(0, -1),
    [RESPONSE_EOS_ID],
    [...gold, ...random].slice(0, RESPONSE_MAX_TOKENS),
    new Array<number>(RESPONSE_MAX_TOKENS + 1).fill(responseTokenId('1')),
    random,
    [responseTokenId('='), answer, RESPONSE_EOS_ID],
  ];
}

function taskLine(pooled: PooledTask, seed: number): Record<string, unknown> {
  const { task } = pooled;
  const gold = targetResponse(task);
  return {
    id: task.id,
    index: task.index,
    perceptualLevel: task.perceptualLevel,
    reasoningLevel: task.reasoningLevel,
    question: task.question,
    questionTokens: task.questionTokens,
    answer: task.answer,
    goldResponse: gold,
    goldText: decodeResponse(gold),
    visualEntropy: pooled.visualEntropy,
    image: `images/${task.id}.png`,
    rewardChecks: rewardCheckResponses(task, gold, seed).map((tokens) => ({ tokens, ...scoreResponse(tokens, task) })),
  };
}

/** A .npy (format 1.0) header for a little-endian float32 C-order array of `shape`. */
export function npyHeader(shape: readonly number[]): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const text = `${dict}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const header = Buffer.alloc(10 + text.length);
  header.write('\x93NUMPY', 0, 'latin1');
  header.writeUInt8(1, 6);
  header.writeUInt8(0, 7);
  header.writeUInt16LE(text.length, 8);
  header.write(text, 10, 'latin1');
  return header;
}

export async function exportTasks(options: ExportTasksOptions, onProgress: (done: number) => void = () => {}): Promise<{ files: string[] }> {
  const { split, n, seed, out, suite = 'v1' } = options;
  const encoder = await loadEncoder();
  const pool = new TaskPool(seed, encoder, { cacheDirectory: path.join(options.cacheDir, 'features'), suite });
  const featureSize = encoder.patches * encoder.dims;
  const features = Buffer.alloc(n * featureSize * 4);
  const lines: string[] = [];
  mkdirSync(path.join(out, 'images'), { recursive: true });
  for (let start = 0; start < n; start += ENCODE_CHUNK) {
    const indices = Array.from({ length: Math.min(ENCODE_CHUNK, n - start) }, (_, k) => start + k);
    const prompts = await pool.get(split, indices);
    prompts.forEach((pooled, k) => {
      const row = Buffer.from(pooled.features.buffer, pooled.features.byteOffset, featureSize * 4);
      if (row.length !== featureSize * 4) throw new Error(`task ${pooled.task.id}: ${pooled.features.length} features, expected ${featureSize}`);
      // Float32Array bytes are host-endian; every platform Node ships on is little-endian, as '<f4' says.
      row.copy(features, (start + k) * featureSize * 4);
      lines.push(JSON.stringify(taskLine(pooled, seed)));
      writeBytesAtomic(path.join(out, 'images', `${pooled.task.id}.png`), encodePng(pooled.task.image));
    });
    onProgress(start + indices.length);
  }
  await encoder.release();

  const meta = {
    format: EXPORT_FORMAT,
    split, count: n, seed, suite,
    encoder: { name: encoder.metadata.name, id: encoder.id, description: encoder.metadata.description ?? '', patches: encoder.patches, dims: encoder.dims },
    shape: {
      questionVocabSize: QUESTION_VOCAB.length, responseVocabSize: RESPONSE_VOCAB.length, eosToken: RESPONSE_EOS_ID,
      maxQuestionLength: QUESTION_MAX_TOKENS, maxResponseLength: RESPONSE_MAX_TOKENS, patchCount: encoder.patches, patchDim: encoder.dims,
    },
    tokens: { questionPad: 0, responsePad: RESPONSE_PAD_ID, responseBos: RESPONSE_BOS_ID, responseEos: RESPONSE_EOS_ID },
    questionVocab: QUESTION_VOCAB,
    responseVocab: RESPONSE_VOCAB,
    reward: { formatWeight: FORMAT_WEIGHT, accuracyWeight: ACCURACY_WEIGHT },
    files: { tasks: `${split}.jsonl`, features: `${split}.features.npy` },
  };
  const files = [path.join(out, `${split}.features.npy`), path.join(out, `${split}.jsonl`), path.join(out, `${split}.meta.json`)];
  writeBytesAtomic(files[0], Buffer.concat([npyHeader([n, encoder.patches, encoder.dims]), features]));
  writeBytesAtomic(files[1], lines.length > 0 ? `${lines.join('\n')}\n` : '');
  // meta.json last: a reader that finds it finds the other two complete.
  writeBytesAtomic(files[2], `${JSON.stringify(meta, null, 1)}\n`);
  return { files };
}

function wholeNumber(value: string | undefined, flag: string, min: number, max: number): number {
  const parsed = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new DurianInputError(flag, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

export async function runExportTasks(argv: string[], print: (line: string) => void): Promise<number> {
  if (wantsParquet(argv)) return runExportParquet(argv, print);
  const { values } = parseArgs({
    args: argv,
    options: { split: { type: 'string' }, n: { type: 'string' }, seed: { type: 'string' }, suite: { type: 'string' }, out: { type: 'string' }, 'cache-dir': { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) return print(EXPORT_TASKS_HELP), 0;
  if (values.split !== 'train' && values.split !== 'validation') {
    throw new DurianInputError('--split', `must be "train" or "validation", got ${JSON.stringify(values.split)}`);
  }
  const n = wholeNumber(values.n, '--n', 1, MAX_TASKS);
  const seed = values.seed === undefined ? 1 : wholeNumber(values.seed, '--seed', 0, 2 ** 31 - 1);
  const suite = suiteFlag(values.suite);
  if (!values.out) throw new DurianInputError('--out', 'is required: the folder to write <split>.jsonl, <split>.features.npy and <split>.meta.json into');
  const out = path.resolve(values.out);
  const cacheDir = values['cache-dir'] ? path.resolve(values['cache-dir']) : defaultCacheDir();
  const { files } = await exportTasks({ split: values.split, n, seed, suite, out, cacheDir });
  print(`wrote ${n} ${values.split} tasks (seed ${seed}) of suite ${suite}: ${files.map((file) => path.relative(process.cwd(), file) || file).join(', ')}`);
  return 0;
}
