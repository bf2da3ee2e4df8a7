/**
 * Splitting a batch into shards of sequences for data-parallel gradients. The split is a fixed function of the
 * batch (never of how many threads are free), so a seed gives the same update whether the shards run on one
 * thread or two: shard 0 is the first half of the prompt groups (or of the sequences when they are not grouped
 * as repeatPrompts lays them out), shard 1 the rest; batches under SPLIT_MIN_SEQUENCES stay whole, since for
 * them a second pass costs more than it saves.
 */
import type { PolicyBatch } from '../batch.js';

/** Batches with fewer sequences are not split. */
export const SPLIT_MIN_SEQUENCES = 64;

/** A shard: the sequences [from, to) of the batch. */
export interface ShardRange {
  from: number;
  to: number;
}

/** G when sequence s uses prompt floor(s / G) for every s (the layout of repeatPrompts), else null. */
export function contiguousGroupSize(promptIndex: Int32Array | undefined, prompts: number): number | null {
  if (!promptIndex) return 1;
  if (prompts === 0 || promptIndex.length % prompts !== 0) return null;
  const group = promptIndex.length / prompts;
  for (let s = 0; s < promptIndex.length; s++) if (promptIndex[s] !== Math.floor(s / group)) return null;
  return group;
}

/** The shards of a batch of `sequences` sequences over `prompts` prompt rows: one or two, covering it in order. */
export function shardRanges(promptIndex: Int32Array | undefined, prompts: number, sequences: number): ShardRange[] {
  if (sequences < SPLIT_MIN_SEQUENCES) return [{ from: 0, to: sequences }];
  const group = contiguousGroupSize(promptIndex, prompts);
  const split = group === null ? Math.ceil(sequences / 2) : Math.ceil(prompts / 2) * group;
  if (split <= 0 || split >= sequences) return [{ from: 0, to: sequences }];
  return [{ from: 0, to: split }, { from: split, to: sequences }];
}

/**
 * The sequences [from, to) as a batch of their own: the prompt rows they use (in order of first use) with
 * promptIndex remapped to them, so a grouped batch's shard is grouped alike.
 */
export function sliceBatch(batch: PolicyBatch, range: ShardRange): PolicyBatch {
  const { from, to } = range;
  const lq = batch.questionLength;
  const lr = batch.responseLength;
  const prompts = batch.questions.length / lq;
  const perPrompt = batch.patches.length / prompts;
  const rowOf = new Map<number, number>();
  const rows: number[] = [];
  const promptIndex = new Int32Array(to - from);
  for (let s = from; s < to; s++) {
    const p = batch.promptIndex ? batch.promptIndex[s] : s;
    let row = rowOf.get(p);
    if (row === undefined) {
      row = rows.length;
      rowOf.set(p, row);
      rows.push(p);
    }
    promptIndex[s - from] = row;
  }
  const patches = new Float32Array(rows.length * perPrompt);
  const questions = new Int32Array(rows.length * lq);
  rows.forEach((p, row) => {
    patches.set(batch.patches.subarray(p * perPrompt, (p + 1) * perPrompt), row * perPrompt);
    questions.set(batch.questions.subarray(p * lq, (p + 1) * lq), row * lq);
  });
  return { patches, questions, questionLength: lq, responses: batch.responses.slice(from * lr, to * lr), responseLength: lr, promptIndex };
}
