/**
 * The hand-wired counting policy as a `Policy` (kind `counting`): the model of this folder (question clauses
 * cut at the suite's separator words, counting slots over the patches, a count pointer, a GRU decoder) with
 * its tfjs update (PolicyTrainer, Adam) and its ONNX sampler. It knows the built-in suite's words, so it
 * is an option named for what it is, not a general learner.
 */
import { type PolicyConfig, resolvePolicyConfig } from './config.js';
import { PolicyModel, type LogProbsResult } from './model.js';
import type { PolicyBatch } from './batch.js';
import type { Policy, PolicyArrays, PolicyDescription, PolicyFactory, PolicyShape } from './policy.js';
import { PolicySampler, type SampleOptions, type SamplePrompts, type SampleResult } from './sampler.js';
import { PolicyTrainer, type SupervisedMetrics, type TrainStepConfig, type TrainStepMetrics } from './update.js';

export const COUNTING_POLICY_KIND = 'counting';

/** Adam's step count in the optimiser arrays (moments are `m/<weight>` and `v/<weight>`). */
const ADAM_STEP = 'step';

class CountingPolicy implements Policy {
  readonly kind = COUNTING_POLICY_KIND;
  private readonly trainer: PolicyTrainer;
  /** Opened on the first `sample` (a reference policy never samples). */
  private sampler: Promise<PolicySampler> | null = null;

  constructor(private readonly model: PolicyModel) {
    this.trainer = new PolicyTrainer(model);
  }

  get config(): PolicyConfig {
    return this.model.config;
  }

  describe(): PolicyDescription {
    const { hiddenSize, sumSlots, countLevels } = this.config;
    return {
      kind: this.kind,
      parameters: this.model.parameterCount,
      config: JSON.parse(JSON.stringify(this.config)) as Record<string, unknown>,
      summary: `hand-wired counting policy: question clauses cut at plus/minus/than, ${sumSlots} counting slots and a count pointer (${countLevels} numbers), GRU decoder of width ${hiddenSize}`,
    };
  }

  async sample(prompts: SamplePrompts, options: SampleOptions): Promise<SampleResult> {
    this.sampler ??= PolicySampler.create(this.config);
    return (await this.sampler).sample(this.model.getWeights(), prompts, options);
  }

  logProbs(batch: PolicyBatch, options?: { temperature?: number }): LogProbsResult {
    return this.model.logProbs(batch, options);
  }

  trainStep(batch: PolicyBatch, advantages: ArrayLike<number>, oldLogprobs: Float32Array, refLogprobs: Float32Array | null, config: TrainStepConfig): TrainStepMetrics {
    return this.trainer.trainStep(batch, advantages, oldLogprobs, refLogprobs, config);
  }

  supervisedStep(batch: PolicyBatch, config: { learningRate: number; maxGradNorm: number }): SupervisedMetrics {
    return this.trainer.supervisedStep(batch, config);
  }

  getWeights(): PolicyArrays {
    return this.model.getWeights();
  }

  setWeights(weights: Partial<PolicyArrays>): void {
    this.model.setWeights(weights);
  }

  getOptimizerState(): PolicyArrays {
    const state = this.trainer.optimizer.getState();
    return {
      ...Object.fromEntries(Object.entries(state.firstMoment).map(([name, values]) => [`m/${name}`, values])),
      ...Object.fromEntries(Object.entries(state.secondMoment).map(([name, values]) => [`v/${name}`, values])),
      [ADAM_STEP]: Float32Array.of(state.step),
    };
  }

  setOptimizerState(state: PolicyArrays): void {
    const firstMoment: Record<string, Float32Array> = {};
    const secondMoment: Record<string, Float32Array> = {};
    for (const [key, values] of Object.entries(state)) {
      if (key.startsWith('m/')) firstMoment[key.slice(2)] = values;
      else if (key.startsWith('v/')) secondMoment[key.slice(2)] = values;
    }
    const step = state[ADAM_STEP];
    if (!step || step.length !== 1) throw new RangeError(`optimizer state: '${ADAM_STEP}' must hold one number (Adam's step count)`);
    this.trainer.optimizer.setState({ step: step[0], firstMoment, secondMoment });
  }

  async dispose(): Promise<void> {
    this.trainer.dispose();
    this.model.dispose();
    const sampler = this.sampler;
    this.sampler = null;
    if (sampler) await (await sampler).release();
  }
}

export const countingPolicyFactory: PolicyFactory = {
  kind: COUNTING_POLICY_KIND,
  description: 'the hand-wired counting policy (splits the question at plus/minus/than, a count pointer reads the counts): knows the built-in suite',
  async create(shape: PolicyShape, options: { seed: number; weights?: PolicyArrays; config?: Record<string, unknown> }): Promise<Policy> {
    const config = resolvePolicyConfig({ ...options.config, ...shape, seed: options.seed });
    return new CountingPolicy(new PolicyModel(config, options.weights as ConstructorParameters<typeof PolicyModel>[1]));
  },
};
