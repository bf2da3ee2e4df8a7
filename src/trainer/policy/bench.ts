/**
 * Throughput of the policy on this machine, for the comparison with bench/pytorch/policy_bench.py (same
 * architecture and sizes): rollouts (ONNX sampler, every sequence sampling maxTokens tokens) in sequences/s,
 * and updates (one GRPO trainStep with KL, tfjs) in samples/s, for P prompts x G samples. Uses the backend
 * already selected. Medians over `repeats` timed runs after `warmup` untimed ones.
 */
import { median } from '../../core/index.js';
import { Rng } from '../rng.js';
import { PolicyModel } from './model.js';
import { PolicySampler, repeatPrompts } from './sampler.js';
import { SYNTHETIC_POLICY_CONFIG, syntheticPrompts } from './synthetic.js';
import { GRPO_TRAIN_DEFAULTS, PolicyTrainer } from './update.js';

export interface PolicyBenchOptions {
  prompts?: number;
  samplesPerPrompt?: number;
  warmup?: number;
  repeats?: number;
  hiddenSize?: number;
  /** onnxruntime threads of the sampler. */
  threads?: number;
}

export interface PolicyBenchResult {
  sequences: number;
  tokens: number;
  parameters: number;
  /** Median milliseconds to sample all sequences (prefix + tokens). */
  rolloutMs: number;
  rolloutSequencesPerSecond: number;
  /** Median milliseconds of one trainStep over all sequences. */
  updateMs: number;
  updateSamplesPerSecond: number;
}


/** Median milliseconds of `repeats` timed runs after `warmup` untimed ones. */
export async function timed(run: () => unknown, warmup: number, repeats: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return median(times);
}

export async function benchPolicy(options: PolicyBenchOptions = {}): Promise<PolicyBenchResult> {
  const promptCount = options.prompts ?? 64;
  const group = options.samplesPerPrompt ?? 8;
  const warmup = options.warmup ?? 2;
  const repeats = options.repeats ?? 5;
  const model = new PolicyModel({ ...SYNTHETIC_POLICY_CONFIG, hiddenSize: options.hiddenSize ?? 64, seed: 7 });
  const trainer = new PolicyTrainer(model);
  const sampler = await PolicySampler.create(model.config, { threads: options.threads });
  try {
    const prompts = syntheticPrompts(promptCount, 11);
    const promptIndex = repeatPrompts(promptCount, group);
    const rng = new Rng(13);
    const sampleOnce = () => sampler.sample(model.getWeights(), prompts, { random: () => rng.next(), promptIndex, ignoreEos: true });
    const rolloutMs = await timed(sampleOnce, warmup, repeats);
    const rollout = await sampleOnce();
    const batch = { ...prompts, responses: rollout.responses, responseLength: rollout.responseLength, promptIndex };
    const advantages = Float64Array.from({ length: promptIndex.length }, () => rng.normal());
    const updateMs = await timed(
      () => trainer.trainStep(batch, advantages, rollout.tokenLogprobs, rollout.tokenLogprobs, { ...GRPO_TRAIN_DEFAULTS, learningRate: 1e-5 }),
      warmup,
      repeats,
    );
    const sequences = promptIndex.length;
    return {
      sequences,
      tokens: rollout.responseLength,
      parameters: model.parameterCount,
      rolloutMs,
      rolloutSequencesPerSecond: (sequences / rolloutMs) * 1000,
      updateMs,
      updateSamplesPerSecond: (sequences / updateMs) * 1000,
    };
  } finally {
    await sampler.release();
    trainer.dispose();
    model.dispose();
  }
}
