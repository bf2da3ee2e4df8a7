/**
 * The built-in tasks with their frozen-encoder patch features: generated on demand (deterministic per seed
 * and index), the features and visual entropy computed once per image and cached (in memory and on disk,
 * keyed by image and encoder hashes). The trainer reaches it through BuiltInTasks (./builtInTasks.ts).
 */
import type { Encoder } from './encoder/index.js';
import { PatchFeatureCache } from './encoder/index.js';
import { DEFAULT_SUITE_VERSION, type Split, type SuiteVersion, type Task, generateTask, padTokens, taskLevelsAt } from './tasks/index.js';
import { QUESTION_MAX_TOKENS } from './tasks/vocab.js';
import type { PromptInputs } from './taskSource.js';

export interface PooledTask {
  task: Task;
  /** P * d patch features (shared with the cache: read only). */
  features: Float32Array;
  visualEntropy: number;
}


export class TaskPool {
  private readonly tasks = new Map<string, PooledTask>();
  readonly cache: PatchFeatureCache;
  /** The suite version every task of the pool comes from. */
  readonly suite: SuiteVersion;

  constructor(
    readonly seed: number,
    readonly encoder: Encoder,
    options: { cacheDirectory?: string; suite?: SuiteVersion } = {},
  ) {
    this.cache = new PatchFeatureCache(encoder, { directory: options.cacheDirectory });
    this.suite = options.suite ?? DEFAULT_SUITE_VERSION;
  }

  /** Tasks `split` 0..count-1 at the given indices, generated and encoded where not yet pooled. */
  async get(split: Split, indices: readonly number[]): Promise<PooledTask[]> {
    const missing: Task[] = [];
    for (const index of indices) {
      const key = `${split}/${index}`;
      if (!this.tasks.has(key)) missing.push(generateTask(this.seed, split, index, taskLevelsAt(this.seed, split, index), this.suite));
    }
    if (missing.length > 0) {
      const encoded = await this.cache.get(missing.map((task) => task.image));
      missing.forEach((task, k) => {
        this.tasks.set(`${split}/${task.index}`, { task, features: encoded[k].features, visualEntropy: encoded[k].entropy });
      });
    }
    return indices.map((index) => this.tasks.get(`${split}/${index}`) as PooledTask);
  }

  /** Stacks the prompts' features and padded questions. */
  inputs(prompts: readonly PooledTask[]): PromptInputs {
    const featureSize = this.encoder.patches * this.encoder.dims;
    const patches = new Float32Array(prompts.length * featureSize);
    const questions = new Int32Array(prompts.length * QUESTION_MAX_TOKENS);
    prompts.forEach((prompt, p) => {
      patches.set(prompt.features, p * featureSize);
      questions.set(padTokens(prompt.task.questionTokens, QUESTION_MAX_TOKENS), p * QUESTION_MAX_TOKENS);
    });
    return { patches, questions, questionLength: QUESTION_MAX_TOKENS };
  }
}
