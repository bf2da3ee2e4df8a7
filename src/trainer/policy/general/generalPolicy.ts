/**
 * The general policy as a `Policy`: tf.Variables for the weights (training and teacher-forced scoring in
 * tfjs), Adam with its moments, the ONNX sampler fed with the current weights, and the gradient worker that
 * computes half of each large update on a second thread (../parallel/).
 */
import * as tf from '@tensorflow/tfjs';
import { Adam } from '../adam.js';
import type { PolicyBatch } from '../batch.js';
import { type LogProbsResult, scoredTokens } from '../model.js';
import type { Policy, PolicyArrays, PolicyDescription } from '../policy.js';
import type { SampleOptions, SamplePrompts, SampleResult } from '../sampler.js';
import type { SupervisedMetrics, TrainStepConfig, TrainStepMetrics } from '../update.js';
import { ParallelGradients, type ParallelOptions } from '../parallel/step.js';
import { type GeneralConfig, describedConfig } from './config.js';
import { checkGeneralWeights, generalParameterCount, generalParameterSpecs, initialGeneralWeights } from './parameters.js';
import { GeneralSampler } from './sampler.js';
import { disposeGeneralBatch, generalBatchTensors, generalTokenStatistics } from './tensors.js';
import { generalSupervisedStep, generalTrainStep } from './update.js';

export const GENERAL_POLICY_KIND = 'general';

export interface GeneralPolicyOptions {
  /** onnxruntime intra-op threads of the sampler (default GENERAL_SAMPLER_THREADS). */
  samplerThreads?: number;
  /** The gradient worker (second thread of the updates; default: on where it helps). */
  parallel?: ParallelOptions;
}

/** Adam's step count in the optimiser arrays (moments are `m/<weight>` and `v/<weight>`, as the counting policy's). */
const ADAM_STEP = 'step';

export class GeneralPolicy implements Policy {
  readonly kind = GENERAL_POLICY_KIND;
  readonly variables: Record<string, tf.Variable>;
  readonly optimizer: Adam;
  /** Opened on the first `sample` (a reference policy never samples). */
  private sampler: Promise<GeneralSampler> | null = null;
  /** Gradients on two threads where that helps (started on the first update). */
  readonly parallel: ParallelGradients;

  private constructor(readonly config: GeneralConfig, weights: PolicyArrays, private readonly options: GeneralPolicyOptions) {
    const variables: Record<string, tf.Variable> = {};
    for (const [name, spec] of generalParameterSpecs(config)) {
      // Unnamed on purpose: tfjs variable names are global, and several policies may coexist (reference, tests).
      variables[name] = tf.variable(tf.tensor(weights[name], spec.shape, 'float32'), true);
    }
    this.variables = variables;
    this.optimizer = new Adam(variables);
    this.parallel = new ParallelGradients(config, options.parallel);
  }

  /** A policy with `weights` (checked) or the config's seeded initial weights. */
  static create(config: GeneralConfig, weights?: PolicyArrays, options: GeneralPolicyOptions = {}): GeneralPolicy {
    const initial = weights ? checkGeneralWeights(config, weights) : initialGeneralWeights(config);
    return new GeneralPolicy(config, initial, options);
  }

  /** Starts the gradient worker now (instead of on the first update); resolves true once it is ready, false when there is none. */
  prepareTraining(): Promise<boolean> {
    return this.parallel.prepare();
  }

  describe(): PolicyDescription {
    const c = this.config;
    return {
      kind: this.kind,
      parameters: generalParameterCount(c),
      config: describedConfig(c),
      summary: `transformer decoder, ${c.layers} layers, d ${c.d}, ${c.heads} heads, cross-attention to ${c.patchCount} patches`,
    };
  }

  async sample(prompts: SamplePrompts, options: SampleOptions): Promise<SampleResult> {
    this.sampler ??= GeneralSampler.create(this.config, { threads: this.options.samplerThreads });
    return (await this.sampler).sample(this.getWeights(), prompts, options);
  }

  logProbs(batch: PolicyBatch, options: { temperature?: number } = {}): LogProbsResult {
    const tensors = generalBatchTensors(batch, this.config);
    try {
      return scoredTokens(() => generalTokenStatistics(this.variables, this.config, tensors, options.temperature ?? 1));
    } finally {
      disposeGeneralBatch(tensors);
    }
  }

  trainStep(batch: PolicyBatch, advantages: ArrayLike<number>, oldLogprobs: Float32Array, refLogprobs: Float32Array | null, config: TrainStepConfig): TrainStepMetrics {
    return generalTrainStep(this, batch, advantages, oldLogprobs, refLogprobs, config);
  }

  supervisedStep(batch: PolicyBatch, config: { learningRate: number; maxGradNorm: number }): SupervisedMetrics {
    return generalSupervisedStep(this, batch, config);
  }

  getWeights(): PolicyArrays {
    const out: PolicyArrays = {};
    for (const [name, variable] of Object.entries(this.variables)) out[name] = new Float32Array(variable.dataSync());
    return out;
  }

  setWeights(weights: Partial<PolicyArrays>): void {
    const checked = checkGeneralWeights(this.config, weights);
    for (const [name, variable] of Object.entries(this.variables)) {
      tf.tidy(() => variable.assign(tf.tensor(checked[name], variable.shape, 'float32')));
    }
  }

  getOptimizerState(): PolicyArrays {
    const state = this.optimizer.getState();
    const out: PolicyArrays = { [ADAM_STEP]: Float32Array.of(state.step) };
    for (const name of Object.keys(this.variables)) {
      out[`m/${name}`] = state.firstMoment[name];
      out[`v/${name}`] = state.secondMoment[name];
    }
    return out;
  }

  setOptimizerState(state: PolicyArrays): void {
    const step = state[ADAM_STEP];
    if (!(step instanceof Float32Array) || step.length !== 1) throw new RangeError(`optimizer state: '${ADAM_STEP}' must hold one number (Adam's step count)`);
    const firstMoment: Record<string, Float32Array> = {};
    const secondMoment: Record<string, Float32Array> = {};
    for (const name of Object.keys(this.variables)) {
      firstMoment[name] = state[`m/${name}`];
      secondMoment[name] = state[`v/${name}`];
    }
    this.optimizer.setState({ step: step[0], firstMoment, secondMoment });
  }

  async dispose(): Promise<void> {
    await this.parallel.dispose();
    for (const variable of Object.values(this.variables)) variable.dispose();
    this.optimizer.dispose();
    const sampler = this.sampler;
    this.sampler = null;
    if (sampler) await (await sampler).release();
  }
}
