/**
 * The update's mini-batches (verl's ppo_mini_batch_size): the kept sequences of a step gathered once, then
 * per PPO epoch the kept prompts shuffled (a prompt's rollouts stay together) and cut into mini-batches, each
 * a policy batch of only its own prompts and their kept rollouts.
 */
import type { PolicyBatch } from '../policy/policy.js';
import type { Rng } from '../rng.js';
import type { PromptInputs } from '../taskSource.js';

/**
 * The mini-batches of one PPO epoch: the prompts in an order shuffled by `rng`, cut into
 * ceil(prompts / miniBatchSize) parts whose sizes differ by at most one prompt. A single mini-batch
 * (miniBatchSize 0, or >= the prompts) is the prompts in their own order and draws nothing from `rng`.
 */
export function miniBatches(prompts: readonly number[], miniBatchSize: number, rng: Rng): number[][] {
  const count = miniBatchSize > 0 ? Math.ceil(prompts.length / miniBatchSize) : 1;
  if (count <= 1) return [[...prompts]];
  const order = rng.shuffle([...prompts]);
  return Array.from({ length: count }, (_, m) => order.slice(Math.floor((m * order.length) / count), Math.floor(((m + 1) * order.length) / count)));
}

/** What one optimiser step trains on: a policy batch and its per-sequence advantages and per-token log-probs. */
export interface UpdateBatch {
  batch: PolicyBatch;
  advantages: Float64Array;
  oldLogprobs: Float32Array;
  refLogprobs: Float32Array | null;
}

/** The kept sequences of a step (row k = the k-th kept sequence) and the rows of each prompt. */
export class KeptSequences {
  /** All kept rows as one batch over the step's prompt inputs. */
  readonly whole: UpdateBatch;
  /** The prompts (rows of the step's inputs) with a kept sequence, in order. */
  readonly prompts: number[];
  private readonly rowsOf = new Map<number, number[]>();

  constructor(private readonly inputs: PromptInputs, whole: Omit<UpdateBatch, 'batch'> & { responses: Int32Array; responseLength: number; promptIndex: Int32Array }) {
    const { responses, responseLength, promptIndex, ...perSequence } = whole;
    this.whole = { batch: { ...inputs, responses, responseLength, promptIndex }, ...perSequence };
    promptIndex.forEach((p, k) => {
      const rows = this.rowsOf.get(p);
      if (rows) rows.push(k);
      else this.rowsOf.set(p, [k]);
    });
    this.prompts = [...this.rowsOf.keys()];
  }

  /** The kept rows of these prompts, with only these prompts' inputs (prompt i of the list is row i). */
  of(prompts: readonly number[]): UpdateBatch {
    const { inputs, whole } = this;
    const Lr = whole.batch.responseLength;
    const Lq = inputs.questionLength;
    const patchSize = inputs.patches.length / (inputs.questions.length / Lq);
    const rows = prompts.flatMap((p) => this.rowsOf.get(p) ?? []);
    const patches = new Float32Array(prompts.length * patchSize);
    const questions = new Int32Array(prompts.length * Lq);
    const local = new Map<number, number>();
    prompts.forEach((p, i) => {
      patches.set(inputs.patches.subarray(p * patchSize, (p + 1) * patchSize), i * patchSize);
      questions.set(inputs.questions.subarray(p * Lq, (p + 1) * Lq), i * Lq);
      local.set(p, i);
    });
    const responses = new Int32Array(rows.length * Lr);
    const oldLogprobs = new Float32Array(rows.length * Lr);
    const refLogprobs = whole.refLogprobs ? new Float32Array(rows.length * Lr) : null;
    const advantages = new Float64Array(rows.length);
    const promptIndex = new Int32Array(rows.length);
    const wholePrompts = whole.batch.promptIndex as Int32Array;
    rows.forEach((k, r) => {
      responses.set(whole.batch.responses.subarray(k * Lr, (k + 1) * Lr), r * Lr);
      oldLogprobs.set(whole.oldLogprobs.subarray(k * Lr, (k + 1) * Lr), r * Lr);
      refLogprobs?.set((whole.refLogprobs as Float32Array).subarray(k * Lr, (k + 1) * Lr), r * Lr);
      advantages[r] = whole.advantages[k];
      promptIndex[r] = local.get(wholePrompts[k]) as number;
    });
    return { batch: { patches, questions, questionLength: Lq, responses, responseLength: Lr, promptIndex }, advantages, oldLogprobs, refLogprobs };
  }
}
