/**
 * The policy's named parameters: their shapes, a seeded initialiser (Glorot-uniform matrices drawn from the
 * trainer's xoshiro128** Rng, zero biases, so a seed fixes the initial weights on every machine), and the
 * tf.Variables that hold them. Names are stable: checkpoints and the ONNX sampler use them.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.js';
import { type PolicyConfig, contextSize, outputSize, questionFeatureSize } from './config.js';

export type ParameterName =
  | 'question.embedding'
  | 'question.bias'
  | 'patch.kernel'
  | 'patch.condition'
  | 'patch.bias'
  | 'attention.kernel'
  | 'attention.direct'
  | 'attention.bias'
  | 'count.mix'
  | 'count.bias'
  | 'decoder.init.kernel'
  | 'decoder.init.bias'
  | 'decoder.context.kernel'
  | 'decoder.embedding'
  | 'decoder.input.bias'
  | 'decoder.recurrent.kernel'
  | 'decoder.recurrent.bias'
  | 'output.kernel'
  | 'output.bias';

export type Weights = Record<ParameterName, Float32Array>;
export type ParameterTensors = Record<ParameterName, tf.Tensor>;

interface ParameterSpec {
  shape: number[];
  /** Glorot fan-in + fan-out, or 0 for a zero-initialised bias. */
  fans: number;
  /** Constant initial value for biases (default 0). */
  fill?: number;
}

/** Shapes and initialisation of every parameter, in a fixed order. */
export function parameterSpecs(config: PolicyConfig): Record<ParameterName, ParameterSpec> {
  const h = config.hiddenSize;
  const gates = 3 * h;
  const slots = config.sumSlots + config.softmaxSlots;
  const context = contextSize(config);
  const questionWidth = questionFeatureSize(config);
  const classes = outputSize(config);
  const matrix = (rows: number, cols: number, fans = rows + cols): ParameterSpec => ({ shape: [rows, cols], fans });
  const bias = (size: number, fill = 0): ParameterSpec => ({ shape: [size], fans: 0, fill });
  // Sum slots start mostly closed (sigmoid(-2) ~ 0.12, set in initialWeights) so initial counts are small.
  const attentionBias = bias(slots);
  return {
    'question.embedding': matrix(questionWidth, h, 2 * config.maxQuestionLength + h),
    'question.bias': bias(h),
    'patch.kernel': matrix(config.patchDim, h),
    'patch.condition': matrix(h, h),
    'patch.bias': bias(h),
    'attention.kernel': matrix(h, slots),
    'attention.direct': matrix(config.patchDim, slots),
    'attention.bias': attentionBias,
    'count.mix': { shape: [config.sumSlots, config.sumSlots], fans: 0 },
    'count.bias': bias(config.sumSlots),
    'decoder.init.kernel': matrix(context, h),
    'decoder.init.bias': bias(h),
    'decoder.context.kernel': matrix(context, gates),
    'decoder.embedding': matrix(config.responseVocabSize, gates, 1 + gates),
    'decoder.input.bias': bias(gates),
    'decoder.recurrent.kernel': matrix(h, gates),
    'decoder.recurrent.bias': bias(gates),
    'output.kernel': matrix(h, classes),
    'output.bias': bias(classes),
  };
}

export function parameterNames(config: PolicyConfig): ParameterName[] {
  return Object.keys(parameterSpecs(config)) as ParameterName[];
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Seeded initial weights (deterministic for a given config, seed included). */
export function initialWeights(config: PolicyConfig): Weights {
  const rng = new Rng(config.seed);
  const specs = parameterSpecs(config);
  const out = {} as Weights;
  for (const name of Object.keys(specs) as ParameterName[]) {
    const spec = specs[name];
    const values = new Float32Array(size(spec.shape));
    if (spec.fans > 0) {
      const limit = Math.sqrt(6 / spec.fans);
      for (let i = 0; i < values.length; i++) values[i] = (2 * rng.next() - 1) * limit;
    } else if (spec.fill) {
      values.fill(spec.fill);
    }
    out[name] = values;
  }
  for (let k = 0; k < config.sumSlots; k++) {
    out['attention.bias'][k] = -2;
    out['count.mix'][k * config.sumSlots + k] = 1; // start as the identity: mixed count = slot count
  }
  return out;
}

/** Checks that a weights record matches the config's shapes exactly. */
export function checkWeights(config: PolicyConfig, weights: Partial<Record<string, Float32Array>>): Weights {
  const specs = parameterSpecs(config);
  for (const name of Object.keys(specs) as ParameterName[]) {
    const values = weights[name];
    if (!(values instanceof Float32Array)) throw new RangeError(`weights: '${name}' is missing or not a Float32Array`);
    const expected = size(specs[name].shape);
    if (values.length !== expected) throw new RangeError(`weights: '${name}' has ${values.length} values, expected ${expected} ([${specs[name].shape.join(', ')}])`);
  }
  const extra = Object.keys(weights).filter((name) => !(name in specs));
  if (extra.length > 0) throw new RangeError(`weights: unknown parameter(s) ${extra.join(', ')}`);
  return weights as Weights;
}

/** Total number of scalar parameters. */
export function parameterCount(config: PolicyConfig): number {
  return Object.values(parameterSpecs(config)).reduce((total, spec) => total + size(spec.shape), 0);
}

/** The trainable variables of one policy, with checkpoint-style access by name. */
export class PolicyParameters {
  readonly variables: Record<ParameterName, tf.Variable>;
  private readonly specs: Record<ParameterName, ParameterSpec>;

  constructor(readonly config: PolicyConfig, weights: Weights = initialWeights(config)) {
    this.specs = parameterSpecs(config);
    checkWeights(config, weights);
    const variables = {} as Record<ParameterName, tf.Variable>;
    for (const name of Object.keys(this.specs) as ParameterName[]) {
      // Unnamed on purpose: tfjs variable names are global, and several policies may coexist (reference, tests).
      variables[name] = tf.variable(tf.tensor(weights[name], this.specs[name].shape, 'float32'), true);
    }
    this.variables = variables;
  }

  get names(): ParameterName[] {
    return Object.keys(this.specs) as ParameterName[];
  }

  shapeOf(name: ParameterName): number[] {
    return [...this.specs[name].shape];
  }

  /** A copy of every weight (for checkpoints and the sampler). */
  getWeights(): Weights {
    const out = {} as Weights;
    for (const name of this.names) out[name] = new Float32Array(this.variables[name].dataSync());
    return out;
  }

  setWeights(weights: Partial<Record<string, Float32Array>>): void {
    const checked = checkWeights(this.config, weights);
    for (const name of this.names) {
      tf.tidy(() => this.variables[name].assign(tf.tensor(checked[name], this.specs[name].shape, 'float32')));
    }
  }

  dispose(): void {
    for (const name of this.names) this.variables[name].dispose();
  }
}
