/**
 * Rollouts of the general policy on onnxruntime-node: the prefix graph encodes each prompt row once (patch
 * memory, question keys and values), then the step graph runs one decoder position for all B = P x G
 * sequences at a time with a KV cache, at most maxTokens times. Each token is drawn from
 * softmax(logits / temperature) with the caller's `random()` (one draw per token of an unfinished sequence, in
 * (step, sequence) order, so a seeded generator makes sampling reproducible); a sequence stops at EOS. Log-probs
 * and entropies are computed in float64 from the float32 logits and equal the tfjs teacher-forced ones.
 */
import * as ort from 'onnxruntime-node';
import type { PolicyArrays } from '../policy.js';
import { type SampleOptions, type SamplePrompts, type SampleResult, meanSequenceLogprobs, repeatPrompts, sampleLength, samplerSessionOptions } from '../sampler.js';
import { type GeneralConfig, headWidth, outputClasses } from './config.js';
import { MASKED, groupPrompts, questionKeyBias } from './layout.js';
import { buildGeneralPrefixGraph, buildGeneralStepGraph } from './onnxGraphs.js';
import { checkGeneralWeights, generalParameterSpecs } from './parameters.js';
import { sampleToken } from '../tokenDraw.js';
import { createOrtSession } from '../../onnx/providers.js';

/**
 * onnxruntime intra-op threads of the general policy's sampler by default: 2 (both cores of the 2-core machine)
 * rolled out faster than 1 in `durian bench --suite general-policy`, which measures both.
 */
export const GENERAL_SAMPLER_THREADS = 2;

export interface GeneralSamplerOptions {
  /** onnxruntime intra-op threads (default GENERAL_SAMPLER_THREADS). */
  threads?: number;
}

interface Session {
  session: ort.InferenceSession;
  weights: string[];
}

export class GeneralSampler {
  private constructor(
    readonly config: GeneralConfig,
    private readonly prefix: Session,
    private readonly step: Session,
  ) {}

  /** Builds both graphs and opens their sessions (once per policy). */
  static async create(config: GeneralConfig, options: GeneralSamplerOptions = {}): Promise<GeneralSampler> {
    const sessionOptions = samplerSessionOptions(options.threads ?? GENERAL_SAMPLER_THREADS);
    const open = async (graph: { bytes: Uint8Array; weights: string[] }): Promise<Session> => ({
      session: await createOrtSession('rollouts', graph.bytes, sessionOptions),
      weights: graph.weights,
    });
    return new GeneralSampler(config, await open(buildGeneralPrefixGraph(config)), await open(buildGeneralStepGraph(config)));
  }

  async sample(weights: PolicyArrays, prompts: SamplePrompts, options: SampleOptions): Promise<SampleResult> {
    const config = this.config;
    checkGeneralWeights(config, weights);
    const { temperature, maxTokens } = sampleLength(options, config.maxResponseLength);
    const { questionLength } = prompts;
    if (!Number.isInteger(questionLength) || questionLength < 1 || questionLength > config.maxQuestionLength) {
      throw new RangeError(`sample: questionLength must be 1..${config.maxQuestionLength}, got ${questionLength}`);
    }
    const promptCount = prompts.questions.length / questionLength;
    if (!Number.isInteger(promptCount) || prompts.patches.length !== promptCount * config.patchCount * config.patchDim) {
      throw new RangeError(`sample: ${prompts.patches.length} patch floats do not match ${promptCount} prompts of ${config.patchCount} x ${config.patchDim}`);
    }
    for (const id of prompts.questions) {
      if (!(Number.isInteger(id) && id >= 0 && id < config.questionVocabSize)) throw new RangeError(`sample: question id ${id} is outside 0..${config.questionVocabSize - 1}`);
    }
    const promptIndex = options.promptIndex ?? repeatPrompts(promptCount, 1);
    for (const p of promptIndex) if (!(Number.isInteger(p) && p >= 0 && p < promptCount)) throw new RangeError(`sample: promptIndex ${p} is not a prompt row (0..${promptCount - 1})`);

    const grouped = groupPrompts(config, prompts, promptIndex);
    const rows = grouped.prompts;
    const group = grouped.group;
    const lq = config.maxQuestionLength;
    const lr = config.maxResponseLength;
    const specs = generalParameterSpecs(config);
    const weightFeeds = (names: readonly string[]) => {
      const out: Record<string, ort.Tensor> = {};
      for (const name of names) out[name] = new ort.Tensor('float32', weights[name], specs.get(name)?.shape);
      return out;
    };
    const keyBias = new ort.Tensor('float32', questionKeyBias(config, grouped), [rows, 1, 1, lq]);
    const prefix = await this.prefix.session.run({
      ...weightFeeds(this.prefix.weights),
      patches: new ort.Tensor('float32', grouped.patches, [rows, config.patchCount, config.patchDim]),
      questions: new ort.Tensor('int64', BigInt64Array.from(grouped.questions, (id) => BigInt(id)), [rows, lq]),
      key_bias: keyBias,
    });
    const cacheShape = [rows, config.heads, group, lr, headWidth(config)];
    const cacheSize = cacheShape.reduce((a, b) => a * b, 1);
    const feeds: Record<string, ort.Tensor> = { ...weightFeeds(this.step.weights), key_bias: keyBias };
    for (let i = 0; i < config.layers; i++) {
      for (const name of [`self_kt_${i}`, `self_v_${i}`, `cross_kt_${i}`, `cross_v_${i}`]) feeds[name] = prefix[name];
      feeds[`past_k_${i}`] = new ort.Tensor('float32', new Float32Array(cacheSize), cacheShape);
      feeds[`past_v_${i}`] = new ort.Tensor('float32', new Float32Array(cacheSize), cacheShape);
    }

    const sequences = promptIndex.length;
    const classes = outputClasses(config);
    const responses = new Int32Array(sequences * maxTokens);
    const tokenLogprobs = new Float32Array(sequences * maxTokens);
    const entropies = new Float32Array(sequences * maxTokens);
    const lengths = new Int32Array(sequences);
    const active = new Uint8Array(sequences).fill(1);
    let remaining = sequences;
    const tokens = new BigInt64Array(sequences);
    const probabilities = new Float64Array(classes);
    for (let t = 0; t < maxTokens && remaining > 0; t++) {
      const slot = new Float32Array(lr);
      slot[t] = 1;
      const stepBias = new Float32Array(lr);
      for (let u = t + 1; u < lr; u++) stepBias[u] = MASKED;
      const out = await this.step.session.run({
        ...feeds,
        tokens: new ort.Tensor('int64', tokens, [rows, group]),
        position: new ort.Tensor('int64', BigInt64Array.of(BigInt(lq + t)), [1]),
        slot: new ort.Tensor('float32', slot, [lr, 1]),
        step_bias: new ort.Tensor('float32', stepBias, [lr]),
      });
      const logits = out.logits.data as Float32Array;
      for (let s = 0; s < sequences; s++) {
        if (!active[s]) continue;
        const drawn = sampleToken(logits, s * classes, classes, temperature, probabilities, options.greedy ? null : options.random());
        const token = drawn.choice + 1;
        const at = s * maxTokens + t;
        responses[at] = token;
        tokenLogprobs[at] = drawn.logprob;
        entropies[at] = drawn.entropy;
        lengths[s] = t + 1;
        tokens[s] = BigInt(token);
        if (token === config.eosToken && !options.ignoreEos) {
          active[s] = 0;
          remaining--;
        }
      }
      for (let i = 0; i < config.layers; i++) {
        feeds[`past_k_${i}`] = out[`present_k_${i}`];
        feeds[`past_v_${i}`] = out[`present_v_${i}`];
      }
    }
    return { responses, responseLength: maxTokens, promptIndex, lengths, tokenLogprobs, entropies, sequenceLogprobs: meanSequenceLogprobs(tokenLogprobs, lengths, maxTokens) };
  }

  async release(): Promise<void> {
    await this.prefix.session.release();
    await this.step.session.release();
  }
}
