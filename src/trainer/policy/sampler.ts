/**
 * Rollouts on onnxruntime-node: the prefix graph encodes each prompt once, then a JS loop runs the step
 * graph up to maxTokens times, draws each token from softmax(logits / temperature) with the caller's
 * `random()` (so a seeded generator makes sampling deterministic), and stops each sequence at EOS. Finished
 * sequences drop out of later steps. Both sessions are created once; the current weights are graph inputs
 * fed on every call. Log-probs and entropies are those of the temperature-scaled distribution, computed in
 * float64 from the float32 logits, and match PolicyModel.logProbs on the same tokens.
 */
import * as ort from 'onnxruntime-node';
import { questionFeatures } from './batch.js';
import { type PolicyConfig, outputSize, pointerSlots, questionFeatureSize } from './config.js';
import { PREFIX_PARAMETERS, STEP_PARAMETERS, buildPrefixGraph, buildStepGraph } from './onnxGraphs.js';
import { type Weights, checkWeights, parameterSpecs } from './parameters.js';
import { sampleToken } from './tokenDraw.js';
import { createOrtSession } from '../onnx/providers.js';

export interface SamplePrompts {
  /** Patch features, float32 [P, patchCount, patchDim]. */
  patches: Float32Array;
  /** Question ids [P, questionLength], 0 = pad. */
  questions: Int32Array;
  questionLength: number;
}

export interface SampleOptions {
  /** Uniform [0, 1) source, one draw per sampled token in (step, sequence) order. */
  random: () => number;
  /** Softmax temperature (default 1). */
  temperature?: number;
  /** Prompt row of each sequence [B] (e.g. repeatPrompts(P, G)); default one sequence per prompt. */
  promptIndex?: Int32Array;
  /** Tokens per response at most (default the config's maxResponseLength). */
  maxTokens?: number;
  /** Take the most likely token instead of sampling (log-probs are still reported). */
  greedy?: boolean;
  /** Keep sampling after EOS (benchmarks only: every sequence gets maxTokens tokens). */
  ignoreEos?: boolean;
}

export interface SampleResult {
  /** Response ids [B, responseLength], EOS included, 0-padded: ready for a PolicyBatch. */
  responses: Int32Array;
  responseLength: number;
  promptIndex: Int32Array;
  /** Valid tokens per sequence [B]. */
  lengths: Int32Array;
  /** log pi(token) [B, responseLength], 0 on padding. */
  tokenLogprobs: Float32Array;
  /** Entropy of each step's distribution [B, responseLength], 0 on padding. */
  entropies: Float32Array;
  /** Mean token log-prob per sequence [B] (Durian's length-normalised confidence). */
  sequenceLogprobs: Float64Array;
}

/** promptIndex for G samples of each of P prompts: [0 x G, 1 x G, ...]. */
export function repeatPrompts(prompts: number, samplesPerPrompt: number): Int32Array {
  const out = new Int32Array(prompts * samplesPerPrompt);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(i / samplesPerPrompt);
  return out;
}

/**
 * onnxruntime session options shared by every policy's sampler (`threads`: intra-op threads, default 1). The
 * intra-op threads do not spin between ops: on a machine whose cores are busy with other work, spinning threads
 * take the cores the work needs (general policy, 128 x 8 rollouts on 2 busy cores: 2 spinning threads ran at
 * about half the speed of 1 thread; 2 threads without spinning ran faster than 1).
 */
export function samplerSessionOptions(threads: number | undefined): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** The sampling temperature (default 1) and response length (default the policy's maximum), checked. */
export function sampleLength(options: SampleOptions, maxResponseLength: number): { temperature: number; maxTokens: number } {
  const temperature = options.temperature ?? 1;
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  const maxTokens = options.maxTokens ?? maxResponseLength;
  if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > maxResponseLength) {
    throw new RangeError(`maxTokens must be 1..${maxResponseLength}, got ${maxTokens}`);
  }
  return { temperature, maxTokens };
}

/** Mean token log-prob of each sequence over its own tokens (0 for an empty one); rows of `maxTokens`. */
export function meanSequenceLogprobs(tokenLogprobs: Float32Array, lengths: Int32Array, maxTokens: number): Float64Array {
  const means = new Float64Array(lengths.length);
  for (let s = 0; s < lengths.length; s++) {
    let sum = 0;
    for (let t = 0; t < lengths[s]; t++) sum += tokenLogprobs[s * maxTokens + t];
    means[s] = lengths[s] > 0 ? sum / lengths[s] : 0;
  }
  return means;
}

export interface SamplerOptions {
  /** onnxruntime intra-op threads (default 1: the graphs are small, so threads mostly add overhead). */
  threads?: number;
}

export class PolicySampler {
  private constructor(
    readonly config: PolicyConfig,
    private readonly prefix: ort.InferenceSession,
    private readonly step: ort.InferenceSession,
  ) {}

  /** Builds both graphs and opens their sessions (once per run). */
  static async create(config: PolicyConfig, options: SamplerOptions = {}): Promise<PolicySampler> {
    const sessionOptions = samplerSessionOptions(options.threads);
    const prefix = await createOrtSession('rollouts', buildPrefixGraph(config), sessionOptions);
    const step = await createOrtSession('rollouts', buildStepGraph(config), sessionOptions);
    return new PolicySampler(config, prefix, step);
  }

  async sample(weights: Weights, prompts: SamplePrompts, options: SampleOptions): Promise<SampleResult> {
    const config = this.config;
    checkWeights(config, weights);
    const { temperature, maxTokens } = sampleLength(options, config.maxResponseLength);
    const promptCount = prompts.questions.length / prompts.questionLength;
    if (!Number.isInteger(promptCount) || prompts.patches.length !== promptCount * config.patchCount * config.patchDim) {
      throw new RangeError(`sample: ${prompts.patches.length} patch floats do not match ${promptCount} prompts`);
    }
    const promptIndex = options.promptIndex ?? repeatPrompts(promptCount, 1);
    for (const p of promptIndex) if (!(p >= 0 && p < promptCount)) throw new RangeError(`sample: promptIndex ${p} is not a prompt row`);

    const h = config.hiddenSize;
    const feeds = (names: readonly string[]) => {
      const specs = parameterSpecs(config);
      const out: Record<string, ort.Tensor> = {};
      for (const name of names) out[name] = new ort.Tensor('float32', weights[name as keyof Weights], specs[name as keyof Weights].shape);
      return out;
    };
    const prefixOut = await this.prefix.run({
      ...feeds(PREFIX_PARAMETERS),
      patches: new ort.Tensor('float32', prompts.patches, [promptCount, config.patchCount, config.patchDim]),
      questions: new ort.Tensor('float32', questionFeatures(prompts.questions, prompts.questionLength, config), [promptCount, questionFeatureSize(config)]),
    });
    const promptState = prefixOut.state.data as Float32Array;
    const promptGates = prefixOut.context_gates.data as Float32Array;
    const promptSlots = prefixOut.slots.data as Float32Array;
    const k = pointerSlots(config);

    const sequences = promptIndex.length;
    let state: Float32Array = new Float32Array(sequences * h);
    let gates: Float32Array = new Float32Array(sequences * 3 * h);
    let slots: Float32Array = new Float32Array(sequences * k);
    promptIndex.forEach((p, s) => {
      state.set(promptState.subarray(p * h, (p + 1) * h), s * h);
      gates.set(promptGates.subarray(p * 3 * h, (p + 1) * 3 * h), s * 3 * h);
      slots.set(promptSlots.subarray(p * k, (p + 1) * k), s * k);
    });

    const vocab = config.responseVocabSize;
    const classes = outputSize(config);
    const responses = new Int32Array(sequences * maxTokens);
    const tokenLogprobs = new Float32Array(sequences * maxTokens);
    const entropies = new Float32Array(sequences * maxTokens);
    const lengths = new Int32Array(sequences);
    let active = Int32Array.from({ length: sequences }, (_, s) => s);
    const stepFeeds = feeds(STEP_PARAMETERS);
    const probabilities = new Float64Array(classes);

    for (let t = 0; t < maxTokens && active.length > 0; t++) {
      const rows = active.length;
      const previous = new Float32Array(rows * vocab);
      for (let i = 0; i < rows; i++) previous[i * vocab + (t === 0 ? 0 : responses[active[i] * maxTokens + t - 1])] = 1;
      const out = await this.step.run({
        ...stepFeeds,
        previous: new ort.Tensor('float32', previous, [rows, vocab]),
        state: new ort.Tensor('float32', state, [rows, h]),
        context_gates: new ort.Tensor('float32', gates, [rows, 3 * h]),
        slots: new ort.Tensor('float32', slots, [rows, k]),
      });
      const logits = out.logits.data as Float32Array;
      const next = out.next_state.data as Float32Array;
      const stillActive: number[] = [];
      for (let i = 0; i < rows; i++) {
        const s = active[i];
        const { choice, logprob, entropy } = sampleToken(logits, i * classes, classes, temperature, probabilities, options.greedy ? null : options.random());
        const token = choice + 1;
        const at = s * maxTokens + t;
        responses[at] = token;
        tokenLogprobs[at] = logprob;
        entropies[at] = entropy;
        lengths[s] = t + 1;
        if (options.ignoreEos || token !== config.eosToken) stillActive.push(i);
      }
      if (stillActive.length === rows) {
        state = next;
      } else {
        const nextState = new Float32Array(stillActive.length * h);
        const nextGates = new Float32Array(stillActive.length * 3 * h);
        const nextSlots = new Float32Array(stillActive.length * k);
        stillActive.forEach((i, row) => {
          nextState.set(next.subarray(i * h, (i + 1) * h), row * h);
          nextGates.set(gates.subarray(i * 3 * h, (i + 1) * 3 * h), row * 3 * h);
          nextSlots.set(slots.subarray(i * k, (i + 1) * k), row * k);
        });
        state = nextState;
        gates = nextGates;
        slots = nextSlots;
        active = Int32Array.from(stillActive, (i) => active[i]);
      }
    }
    return { responses, responseLength: maxTokens, promptIndex, lengths, tokenLogprobs, entropies, sequenceLogprobs: meanSequenceLogprobs(tokenLogprobs, lengths, maxTokens) };
  }

  async release(): Promise<void> {
    await this.prefix.release();
    await this.step.release();
  }
}
