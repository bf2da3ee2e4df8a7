/**
 * Throughput of the general policy on this machine at the paper's rollout size (P prompts x G samples):
 * rollouts (ONNX prefix + KV-cached step graphs, every sequence sampling maxResponseLength tokens) in
 * sequences/s, one GRPO trainStep with the KL term (tfjs) and one supervised step in samples/s. Random
 * patch features and questions of the built-in suite's shape by default. Uses the tfjs backend already
 * selected. Medians over `repeats` timed runs after `warmup` untimed ones, in wall-clock time and in this
 * process's CPU time (user + system: on a machine shared with other work, the CPU time is the one to compare).
 */
import { median } from '../../../core/index.js';
import { Rng } from '../../rng.js';
import type { PolicyShape } from '../policy.js';
import { repeatPrompts } from '../sampler.js';
import { GRPO_TRAIN_DEFAULTS } from '../update.js';
import { resolveGeneralConfig } from './config.js';
import { GeneralPolicy } from './generalPolicy.js';
import { generalParameterCount } from './parameters.js';

/** The built-in suite's shape (21 question words, 26 response tokens, 12 + 8 tokens, 64 patches x 32 features). */
export const BUILT_IN_SHAPE: Readonly<PolicyShape> = Object.freeze({
  questionVocabSize: 21, responseVocabSize: 26, eosToken: 2, maxQuestionLength: 12, maxResponseLength: 8, patchCount: 64, patchDim: 32,
});

export interface GeneralBenchOptions {
  prompts?: number;
  samplesPerPrompt?: number;
  warmup?: number;
  repeats?: number;
  /** onnxruntime intra-op threads of the sampler. */
  threads?: number;
  shape?: PolicyShape;
  config?: Record<string, unknown>;
}

export interface GeneralBenchResult {
  sequences: number;
  tokens: number;
  parameters: number;
  threads: number;
  /** Wall-clock and CPU milliseconds (medians) of sampling all sequences. */
  rollout: Timing;
  /** One GRPO trainStep (with the KL term) over all sequences. */
  update: Timing;
  /** One supervised step over all sequences. */
  supervised: Timing;
}

export interface Timing {
  wallMs: number;
  cpuMs: number;
  /** Sequences per wall-clock second and per CPU second. */
  perSecond: number;
  perCpuSecond: number;
}


async function timed(run: () => unknown, warmup: number, repeats: number, count: number): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await run();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    await run();
    const used = process.cpuUsage(cpuStart);
    wall.push(performance.now() - start);
    cpu.push((used.user + used.system) / 1000);
  }
  const wallMs = median(wall);
  const cpuMs = median(cpu);
  return { wallMs, cpuMs, perSecond: (count / wallMs) * 1000, perCpuSecond: (count / cpuMs) * 1000 };
}

export async function benchGeneralPolicy(options: GeneralBenchOptions = {}): Promise<GeneralBenchResult> {
  const shape = options.shape ?? BUILT_IN_SHAPE;
  const promptCount = options.prompts ?? 128;
  const group = options.samplesPerPrompt ?? 8;
  const warmup = options.warmup ?? 1;
  const repeats = options.repeats ?? 3;
  const threads = options.threads ?? 1;
  const config = resolveGeneralConfig(shape, { seed: 7, config: options.config });
  const policy = GeneralPolicy.create(config, undefined, { samplerThreads: threads });
  try {
    const rng = new Rng(11);
    const questionLength = shape.maxQuestionLength;
    const prompts = {
      patches: Float32Array.from({ length: promptCount * shape.patchCount * shape.patchDim }, () => rng.next()),
      questions: Int32Array.from({ length: promptCount * questionLength }, (_, i) => (i % questionLength < 9 ? 1 + rng.int(shape.questionVocabSize - 1) : 0)),
      questionLength,
    };
    const promptIndex = repeatPrompts(promptCount, group);
    const sampleOnce = () => policy.sample(prompts, { random: () => rng.next(), promptIndex, ignoreEos: true });
    const sequences = promptIndex.length;
    const rolloutTiming = await timed(sampleOnce, warmup, repeats, sequences);
    const rollout = await sampleOnce();
    const batch = { ...prompts, responses: rollout.responses, responseLength: rollout.responseLength, promptIndex };
    const advantages = Float64Array.from({ length: promptIndex.length }, () => rng.normal());
    const update = await timed(
      () => policy.trainStep(batch, advantages, rollout.tokenLogprobs, rollout.tokenLogprobs, { ...GRPO_TRAIN_DEFAULTS, learningRate: 1e-5 }),
      warmup,
      repeats,
      sequences,
    );
    const supervised = await timed(() => policy.supervisedStep(batch, { learningRate: 1e-5, maxGradNorm: 1 }), warmup, repeats, sequences);
    return { sequences, tokens: rollout.responseLength, parameters: generalParameterCount(config), threads, rollout: rolloutTiming, update, supervised };
  } finally {
    await policy.dispose();
  }
}
