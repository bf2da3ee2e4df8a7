/**
 * The task seam: everything the trainer, the base-policy warm-up and validation may ask of the prompts they
 * train and validate on. The built-in suite implements it (./builtInTasks.ts); a user's dataset will too.
 * Nothing outside a source knows how its tasks are drawn, scored or pictured.
 *
 * Splits: `train` is the RL pool (indices 0..size-1, drawn in a seeded order), `validation` the held-out set,
 * `warmup` the supervised slice the base policy learns from (disjoint from both): the warm-up trains on the
 * first half of it and stops by the greedy accuracy on a slice at the start of its second half.
 */
import type { PolicyShape } from './policy/policy.js';

export type TaskSplit = 'train' | 'validation' | 'warmup';

/** One prompt, ready for the policy: its frozen-encoder patch features and its visual entropy. */
export interface SourceTask {
  /** Unique within the source, e.g. `train-000123` (rollout groups, relabels and exclusions name it). */
  id: string;
  question: string;
  /** The ground-truth answer as text. */
  answer: string;
  /** patchCount * patchDim features (shared with the source's cache: read only). */
  features: Float32Array;
  /** Entropy of the patch features (Durian's perceptual difficulty). */
  visualEntropy: number;
  /** Difficulty levels the source knows (e.g. `{ perceptual: 2, reasoning: 1 }`): validation reports accuracy per level. */
  levels: Readonly<Record<string, number>>;
}

/** Patch features and padded question ids of a list of tasks, ready for the policy. */
export interface PromptInputs {
  patches: Float32Array;
  questions: Int32Array;
  questionLength: number;
}

/** A response's reward and its parts, each in [0, 1]. */
export interface TaskScore {
  reward: number;
  accuracy: number;
  format: number;
}

/** What a source is, for logs, the run's meta.json and the base-policy cache key. */
export interface TaskSourceDescription {
  /** e.g. 'built-in'. */
  kind: string;
  /** Everything that decides which tasks and features the source gives (JSON-serialisable). */
  config: Record<string, unknown>;
  summary: string;
}

export interface TaskSource {
  describe(): TaskSourceDescription;
  /** Vocabularies, lengths and feature shape: what every policy kind is built for. */
  readonly shape: PolicyShape;
  /** Tasks in the split (the built-in suite generates any index on demand). */
  size(split: TaskSplit): number;
  /** The id of the task at this index of the split, without loading it (exclusions are checked by id). */
  taskId(split: TaskSplit, index: number): string;
  /** The tasks at these indices of the split, in order. */
  get(split: TaskSplit, indices: readonly number[]): Promise<SourceTask[]>;
  /** Stacks the tasks' features and padded questions. */
  inputs(tasks: readonly SourceTask[]): PromptInputs;
  /** Scores a response (its tokens up to and including EOS) to the task. */
  score(task: SourceTask, responseTokens: ArrayLike<number>): TaskScore;
  /** The gold response's tokens (EOS included), for the supervised warm-up. */
  target(task: SourceTask): readonly number[];
  /** A response's tokens as text. */
  decode(tokens: readonly number[]): string;
  /** The task's image relative to a run directory; with `runDir`, the file is written there if missing. */
  image(task: SourceTask, runDir?: string): string;
}
