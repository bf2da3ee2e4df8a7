/**
 * The phases of one RL step, in the order the loop runs them, each a function of its inputs:
 * rollout -> reward -> (non-finite guard) -> difficulty -> advantages -> update -> record. Only the seams
 * are used: the policy (`Policy`), the prompts (`TaskSource`) and the user's steering (`ControlState`).
 */
import { type AdvantageResult, computeAdvantages } from '../../core/index.js';
import type { LiveConfig, RolloutGroup } from '../../protocol/index.js';
import type { ControlState } from '../controlState.js';
import { responseTokens } from '../evaluate.js';
import type { FaultHook } from '../faults.js';
import type { Policy, SampleResult } from '../policy/policy.js';
import { allFinite } from '../policyIo.js';
import type { Rng } from '../rng.js';
import { type StepTimings, buildRolloutGroups, stepMetrics } from '../stepRecords.js';
import type { PromptInputs, SourceTask, TaskSource } from '../taskSource.js';
import { KeptSequences, miniBatches } from './miniBatches.js';

/** The step's prompts and their G rollouts each (sequence s answers prompt promptIndex[s] = floor(s / G)). */
export interface Rollouts {
  tasks: SourceTask[];
  G: number;
  inputs: PromptInputs;
  promptIndex: Int32Array;
  sample: SampleResult;
}

/** G rollouts of each task with the current weights, drawn with `rng`. */
export async function rollout(policy: Policy, source: TaskSource, tasks: SourceTask[], live: LiveConfig, rng: Rng): Promise<Rollouts> {
  const G = live.groupSize;
  const inputs = source.inputs(tasks);
  const promptIndex = Int32Array.from({ length: tasks.length * G }, (_, s) => Math.floor(s / G));
  const sample = await policy.sample(inputs, { random: () => rng.next(), temperature: live.temperature, promptIndex });
  return { tasks, G, inputs, promptIndex, sample };
}

/** Per sequence: the prompt id, the response text, the reward (a user's override first) and its parts. */
export interface Rewards {
  ids: string[];
  texts: string[];
  scores: number[];
  accuracy: number[];
  format: number[];
  /** The reward is the user's override for this response to this prompt. */
  relabeled: boolean[];
}

export function reward(rollouts: Rollouts, source: TaskSource, controls: ControlState): Rewards {
  const { sample, promptIndex, tasks } = rollouts;
  const n = promptIndex.length;
  const out: Rewards = { ids: new Array(n), texts: new Array(n), scores: new Array(n), accuracy: new Array(n), format: new Array(n), relabeled: new Array(n).fill(false) };
  for (let s = 0; s < n; s++) {
    const task = tasks[promptIndex[s]];
    const tokens = responseTokens(sample.responses, sample.responseLength, sample.lengths[s], s);
    const score = source.score(task, tokens);
    out.texts[s] = source.decode(Array.from(tokens));
    out.ids[s] = task.id;
    out.accuracy[s] = score.accuracy;
    out.format[s] = score.format;
    const override = controls.relabel(task.id, out.texts[s]);
    out.scores[s] = override ?? score.reward;
    out.relabeled[s] = override !== undefined;
  }
  return out;
}

/** Why a step is skipped: a non-finite value in `cause`, and where. */
export interface Skip {
  cause: 'reward' | 'log-prob' | 'gradient' | 'weights';
  detail: string;
}

/** A non-finite reward or log-prob: the step is skipped before any advantage or update is computed. */
export function nonFiniteInputs(rollouts: Rollouts, rewards: Rewards): Skip | null {
  const { scores, ids } = rewards;
  const badReward = scores.findIndex((v) => !Number.isFinite(v));
  if (badReward >= 0) return { cause: 'reward', detail: `rollout ${badReward} (prompt ${ids[badReward]}) has a non-finite reward (${scores[badReward]})` };
  const { sequenceLogprobs, tokenLogprobs, responseLength } = rollouts.sample;
  let bad = sequenceLogprobs.findIndex((v) => !Number.isFinite(v));
  if (bad < 0) {
    const token = tokenLogprobs.findIndex((v) => !Number.isFinite(v));
    if (token >= 0) bad = Math.floor(token / responseLength);
  }
  if (bad < 0) return null;
  const what = Number.isFinite(sequenceLogprobs[bad]) ? 'a non-finite token log-prob' : `a non-finite log-prob (${sequenceLogprobs[bad]})`;
  return { cause: 'log-prob', detail: `rollout ${bad} (prompt ${ids[bad]}) has ${what}` };
}

/** The estimators' batch: rewards with the difficulty signals (visual entropy, confidence) and the user's group weights. */
export type AdvantageBatch = Parameters<typeof computeAdvantages>[1];

export function difficulty(rollouts: Rollouts, rewards: Rewards, controls: ControlState): AdvantageBatch {
  const { tasks, promptIndex, sample } = rollouts;
  return {
    index: rewards.ids,
    scores: rewards.scores,
    lengths: Array.from(sample.lengths),
    visualEntropy: Array.from(promptIndex, (p) => tasks[p].visualEntropy),
    logprob: Array.from(sample.sequenceLogprobs),
    accuracy: rewards.accuracy,
    groupWeights: Object.fromEntries(tasks.map((task) => [task.id, controls.groupWeight(task.id)])),
  };
}

/** The active estimator's advantages, and GRPO's and Durian's on the same batch for comparison. */
export interface Advantages {
  active: AdvantageResult;
  grpo: AdvantageResult;
  durian: AdvantageResult;
}

export function advantages(batch: AdvantageBatch, controls: ControlState): Advantages {
  const estimator = controls.live.estimator;
  const active = computeAdvantages(estimator, batch, controls.estimatorOptions());
  const grpo = estimator === 'grpo' ? active : computeAdvantages('grpo', batch, controls.estimatorOptions('grpo'));
  const durian = estimator === 'durian' ? active : computeAdvantages('durian', batch, controls.estimatorOptions('durian'));
  return { active, grpo, durian };
}

export interface UpdateSettings {
  live: LiveConfig;
  algorithm: 'grpo' | 'dapo';
  ppoEpochs: number;
  /** Prompts per mini-batch (0, or at least the kept prompts: the whole batch in one optimiser step per epoch). */
  miniBatchSize: number;
  maxGradNorm: number;
  /** This step's learning rate (the live lr times the schedule). */
  lr: number;
  step: number;
  fault: FaultHook;
}

/**
 * PPO epochs of the clipped policy-gradient update on the kept sequences (band filter and weight 0 leave
 * groups out). Each epoch shuffles the kept prompts with `rng` (a prompt's rollouts stay together) and makes
 * one optimiser step per mini-batch of `miniBatchSize` prompts, its loss aggregated over that mini-batch
 * alone (verl's ppo_mini_batch_size); the reference log-probs are computed once per step. The metrics are
 * the last epoch's, averaged over its mini-batches, with `optimizer_steps` (all epochs). An update that turns
 * a gradient or a weight non-finite is undone (weights and optimiser state as before the step) and
 * returned as a Skip.
 */
export function update(policy: Policy, reference: Policy, rollouts: Rollouts, kept: readonly number[], advantages: Float64Array, rng: Rng, settings: UpdateSettings): { metrics: Record<string, number> } | { skip: Skip } {
  const { live, step } = settings;
  const { sample, inputs, promptIndex } = rollouts;
  const Lr = sample.responseLength;
  const responses = new Int32Array(kept.length * Lr);
  const oldLogprobs = new Float32Array(kept.length * Lr);
  const keptIndex = new Int32Array(kept.length);
  const lossAdvantages = new Float64Array(kept.length);
  kept.forEach((s, k) => {
    responses.set(sample.responses.subarray(s * Lr, (s + 1) * Lr), k * Lr);
    oldLogprobs.set(sample.tokenLogprobs.subarray(s * Lr, (s + 1) * Lr), k * Lr);
    keptIndex[k] = promptIndex[s];
    lossAdvantages[k] = advantages[s];
  });
  // A copy: a gradient fault reaches the loss, never the recorded advantages.
  settings.fault('gradient', step, lossAdvantages);
  const batch = { ...inputs, responses, responseLength: Lr, promptIndex: keptIndex };
  const refLogprobs = live.klBeta > 0 ? reference.logProbs(batch, { temperature: live.temperature }).tokenLogprobs : null;
  const sequences = new KeptSequences(inputs, { responses, responseLength: Lr, promptIndex: keptIndex, advantages: lossAdvantages, oldLogprobs, refLogprobs });
  const weightsBefore = policy.getWeights();
  // The optimiser's state too: a later mini-batch or epoch that fails must not leave the earlier ones' moments behind.
  const optimizerBefore = policy.getOptimizerState();
  const config = {
    lossType: settings.algorithm,
    clipRatioLow: live.clipLow,
    clipRatioHigh: live.clipHigh,
    klCoef: live.klBeta,
    entropyCoef: 0,
    temperature: live.temperature,
    learningRate: settings.lr,
    maxGradNorm: settings.maxGradNorm,
  };
  let epochMetrics: Record<string, number>[] = [];
  let optimizerSteps = 0;
  for (let epoch = 0; epoch < settings.ppoEpochs; epoch++) {
    const parts = miniBatches(sequences.prompts, settings.miniBatchSize, rng);
    epochMetrics = [];
    for (const [m, prompts] of parts.entries()) {
      const part = parts.length === 1 ? sequences.whole : sequences.of(prompts);
      const metrics: Record<string, number> = { ...policy.trainStep(part.batch, part.advantages, part.oldLogprobs, part.refLogprobs, config) };
      optimizerSteps++;
      epochMetrics.push(metrics);
      const gradientBad = !Number.isFinite(metrics.grad_norm);
      if (gradientBad || !allFinite(policy.getWeights())) {
        // Adam skips a non-finite gradient itself; a finite one that still overflows a weight is undone here.
        policy.setWeights(weightsBefore);
        policy.setOptimizerState(optimizerBefore);
        const where = parts.length === 1 ? `PPO epoch ${epoch + 1}` : `PPO epoch ${epoch + 1}, mini-batch ${m + 1} of ${parts.length}`;
        return gradientBad
          ? { skip: { cause: 'gradient', detail: `the gradients are non-finite (norm ${metrics.grad_norm}, ${where})` } }
          : { skip: { cause: 'weights', detail: `the update produced non-finite weights (${where})` } };
      }
    }
  }
  return { metrics: { ...meanOf(epochMetrics), lr: settings.lr, optimizer_steps: optimizerSteps } };
}

/** The mean of each metric over the records (one record: itself). */
function meanOf(records: readonly Record<string, number>[]): Record<string, number> {
  if (records.length === 1) return records[0];
  const out: Record<string, number> = {};
  for (const key of Object.keys(records[0])) out[key] = records.reduce((total, record) => total + record[key], 0) / records.length;
  return out;
}

/** What a step leaves behind: its rollout groups (event + rollouts/step-N.jsonl) and its metrics (event + metrics.jsonl). */
export interface StepRecord {
  groups: RolloutGroup[];
  metrics: Record<string, number>;
}

export function record(
  rollouts: Rollouts,
  rewards: Rewards,
  computed: Advantages,
  update: Record<string, number>,
  context: { controls: ControlState; image: (task: SourceTask) => string; timings: StepTimings; stepMs: number },
): StepRecord {
  const { tasks, G, sample } = rollouts;
  const groups = buildRolloutGroups({
    prompts: tasks.map((task) => ({ task, visualEntropy: task.visualEntropy })),
    G,
    texts: rewards.texts,
    tokens: (s) => Array.from(sample.responses.subarray(s * sample.responseLength, s * sample.responseLength + sample.lengths[s])),
    scores: rewards.scores,
    format: rewards.format,
    accuracy: rewards.accuracy,
    meanLogprobs: sample.sequenceLogprobs,
    relabeled: rewards.relabeled,
    image: (p) => context.image(tasks[p]),
    weight: (id) => context.controls.groupWeight(id),
    ...computed,
  });
  const metrics = stepMetrics({
    scores: rewards.scores,
    accuracy: rewards.accuracy,
    format: rewards.format,
    lengths: sample.lengths,
    active: computed.active,
    grpo: computed.grpo,
    G,
    update,
    timings: context.timings,
    stepMs: context.stepMs,
    sequences: rollouts.promptIndex.length,
  });
  return { groups, metrics };
}
