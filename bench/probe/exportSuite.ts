/**
 * Probe exporter: built-in tasks of either suite version with their frozen-encoder patch features, in the
 * `durian export-tasks` layout (DIR/<split>.features.npy float32 [n, P, d], DIR/<split>.jsonl, DIR/<split>.meta.json)
 * but without images, for bench/probe/probe.py.
 *
 *   node --import tsx bench/probe/exportSuite.ts --suite v2 --split train --n 8000 --seed 1 \
 *     --perceptual-levels 0,1,2,3 --reasoning-levels 0 --out /tmp/probe/v2-perceptual
 * Levels are drawn uniformly per task from the lists given (default: all four).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { npyHeader } from '../../src/cli/exportTasks.js';
import { loadEncoder, visualEntropy } from '../../src/trainer/encoder/index.js';
import {
  QUESTION_MAX_TOKENS, QUESTION_VOCAB, RESPONSE_EOS_ID, RESPONSE_MAX_TOKENS, RESPONSE_VOCAB, SUITE_VERSIONS,
  CONJUNCTION_DESCRIPTORS, LEVELS, SINGLE_ATTRIBUTE_DESCRIPTORS, countMatching, describe, generateTaskSet, targetResponse,
  type Level, type Split, type SuiteVersion,
} from '../../src/trainer/tasks/index.js';

const CHUNK = 512;
/** What `counts` counts, per task: the eight single attributes, then the fifteen colour+shape pairs. */
const COUNTED = [...SINGLE_ATTRIBUTE_DESCRIPTORS, ...CONJUNCTION_DESCRIPTORS];

function levelList(value: string | undefined, flag: string): Level[] {
  if (value === undefined) return [...LEVELS];
  const levels = value.split(',').map(Number);
  if (levels.length === 0 || !levels.every((level) => LEVELS.includes(level as Level))) throw new Error(`${flag} must list levels 0..3, got ${value}`);
  return levels as Level[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      suite: { type: 'string' }, split: { type: 'string' }, n: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' },
      'perceptual-levels': { type: 'string' }, 'reasoning-levels': { type: 'string' },
    },
  });
  const suite = values.suite as SuiteVersion;
  if (!SUITE_VERSIONS.includes(suite)) throw new Error(`--suite must be one of ${SUITE_VERSIONS.join(', ')}, got ${values.suite}`);
  const split = values.split as Split;
  if (split !== 'train' && split !== 'validation') throw new Error(`--split must be train or validation, got ${values.split}`);
  const n = Number(values.n);
  const seed = Number(values.seed ?? 1);
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(seed)) throw new Error('--n and --seed must be whole numbers (n >= 1)');
  if (!values.out) throw new Error('--out DIR is required');
  const out = path.resolve(values.out);
  const perceptualLevels = levelList(values['perceptual-levels'], '--perceptual-levels');
  const reasoningLevels = levelList(values['reasoning-levels'], '--reasoning-levels');
  mkdirSync(out, { recursive: true });

  const encoder = await loadEncoder();
  const size = encoder.patches * encoder.dims;
  const features = Buffer.alloc(n * size * 4);
  const lines: string[] = [];
  for (let start = 0; start < n; start += CHUNK) {
    const tasks = generateTaskSet({ seed, split, count: Math.min(CHUNK, n - start), firstIndex: start, suite, perceptualLevels, reasoningLevels });
    const encoded = await encoder.encode(tasks.map((task) => task.image));
    Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength).copy(features, start * size * 4);
    tasks.forEach((task, k) => {
      lines.push(JSON.stringify({
        id: task.id, perceptualLevel: task.perceptualLevel, reasoningLevel: task.reasoningLevel, kind: task.program.kind,
        question: task.question, questionTokens: task.questionTokens, answer: task.answer, goldResponse: targetResponse(task),
        visualEntropy: visualEntropy(encoded, k, encoder.patches, encoder.dims),
        counts: COUNTED.map((descriptor) => countMatching(task.objects, descriptor)),
      }));
    });
  }
  await encoder.release();
  writeFileSync(path.join(out, `${split}.features.npy`), Buffer.concat([npyHeader([n, encoder.patches, encoder.dims]), features]));
  writeFileSync(path.join(out, `${split}.jsonl`), `${lines.join('\n')}\n`);
  writeFileSync(path.join(out, `${split}.meta.json`), `${JSON.stringify({
    suite, split, count: n, seed, perceptualLevels, reasoningLevels,
    shape: {
      questionVocabSize: QUESTION_VOCAB.length, responseVocabSize: RESPONSE_VOCAB.length, eosToken: RESPONSE_EOS_ID,
      maxQuestionLength: QUESTION_MAX_TOKENS, maxResponseLength: RESPONSE_MAX_TOKENS, patchCount: encoder.patches, patchDim: encoder.dims,
    },
    responseVocab: RESPONSE_VOCAB,
    countNames: COUNTED.map(describe),
  }, null, 1)}\n`);
  console.log(`wrote ${n} ${suite} ${split} tasks (seed ${seed}) to ${out}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
