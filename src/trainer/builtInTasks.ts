/**
 * The built-in task suite as a TaskSource: procedurally drawn scenes (./tasks) with their frozen-encoder
 * features from the TaskPool's cache. Every split is generated on demand from (seed, split, index); the
 * warm-up split is the train generator's indices from WARMUP_OFFSET on, far from the RL pool (0..trainSize-1).
 */
import type { Encoder } from './encoder/index.js';
import type { PolicyShape } from './policy/policy.js';
import { type PooledTask, TaskPool } from './taskPool.js';
import type { PromptInputs, SourceTask, TaskScore, TaskSource, TaskSourceDescription, TaskSplit } from './taskSource.js';
import {
  QUESTION_MAX_TOKENS,
  QUESTION_VOCAB,
  RESPONSE_EOS_ID,
  RESPONSE_MAX_TOKENS,
  RESPONSE_VOCAB,
  type SuiteVersion,
  type Task,
  decodeResponse,
  scoreResponse,
  targetResponse,
  taskId,
  taskImagePath,
  writeTaskImage,
} from './tasks/index.js';

/** Train-generator index of warm-up task 0. */
const WARMUP_OFFSET = 1_000_000;
/** Warm-up tasks: the first half trains the base policy, the second half checks it. */
const WARMUP_SIZE = 2_000_000;

/** A built-in task with the suite's own record (the scene, program and tokens) behind it. */
interface BuiltInTask extends SourceTask {
  task: Task;
}

export class BuiltInTasks implements TaskSource {
  readonly pool: TaskPool;
  readonly shape: PolicyShape;
  private readonly sizes: Record<TaskSplit, number>;

  constructor(
    readonly seed: number,
    readonly encoder: Encoder,
    options: { cacheDirectory?: string; trainSize: number; validationSize: number; suite?: SuiteVersion },
  ) {
    this.pool = new TaskPool(seed, encoder, { cacheDirectory: options.cacheDirectory, suite: options.suite });
    this.sizes = { train: options.trainSize, validation: options.validationSize, warmup: WARMUP_SIZE };
    this.shape = {
      questionVocabSize: QUESTION_VOCAB.length,
      responseVocabSize: RESPONSE_VOCAB.length,
      eosToken: RESPONSE_EOS_ID,
      maxQuestionLength: QUESTION_MAX_TOKENS,
      maxResponseLength: RESPONSE_MAX_TOKENS,
      patchCount: encoder.patches,
      patchDim: encoder.dims,
    };
  }

  describe(): TaskSourceDescription {
    return {
      kind: 'built-in',
      // The suite is part of what decides the tasks, so of the base-policy cache key: a v1 base is never reused for v2.
      config: { seed: this.seed, encoder: this.encoder.id, suite: this.pool.suite },
      summary: `built-in counting and arithmetic scenes, suite ${this.pool.suite} (seed ${this.seed}), ${this.encoder.patches} patches x ${this.encoder.dims} features`,
    };
  }

  size(split: TaskSplit): number {
    return this.sizes[split];
  }

  taskId(split: TaskSplit, index: number): string {
    return split === 'warmup' ? taskId('train', WARMUP_OFFSET + index) : taskId(split, index);
  }

  async get(split: TaskSplit, indices: readonly number[]): Promise<SourceTask[]> {
    for (const index of indices) {
      if (!Number.isInteger(index) || index < 0 || index >= this.sizes[split]) throw new RangeError(`built-in tasks: ${split} index ${index} is outside 0..${this.sizes[split] - 1}`);
    }
    const pooled = split === 'warmup' ? await this.pool.get('train', indices.map((i) => WARMUP_OFFSET + i)) : await this.pool.get(split, indices);
    return pooled.map(sourceTask);
  }

  inputs(tasks: readonly SourceTask[]): PromptInputs {
    return this.pool.inputs(tasks.map((task) => ({ task: builtIn(task), features: task.features, visualEntropy: task.visualEntropy })));
  }

  score(task: SourceTask, responseTokens: ArrayLike<number>): TaskScore {
    return scoreResponse(responseTokens, builtIn(task));
  }

  target(task: SourceTask): readonly number[] {
    return targetResponse(builtIn(task));
  }

  decode(tokens: readonly number[]): string {
    return decodeResponse(tokens);
  }

  image(task: SourceTask, runDir?: string): string {
    return runDir === undefined ? taskImagePath(task) : writeTaskImage(runDir, builtIn(task));
  }
}

const SOURCE_TASKS = new WeakMap<PooledTask, BuiltInTask>();

/** The pooled task as a SourceTask (one object per pooled task, so repeated gets share it). */
function sourceTask(pooled: PooledTask): BuiltInTask {
  let task = SOURCE_TASKS.get(pooled);
  if (!task) {
    const { id, question, answer, perceptualLevel, reasoningLevel } = pooled.task;
    task = { id, question, answer, features: pooled.features, visualEntropy: pooled.visualEntropy, levels: { perceptual: perceptualLevel, reasoning: reasoningLevel }, task: pooled.task };
    SOURCE_TASKS.set(pooled, task);
  }
  return task;
}

function builtIn(task: SourceTask): Task {
  const record = (task as Partial<BuiltInTask>).task;
  if (!record) throw new TypeError(`task ${task.id} does not come from the built-in suite`);
  return record;
}
