/**
 * The policy's named parameters: their shapes, a seeded initialiser (Glorot-uniform matrices drawn from the
 * trainer's xoshiro128** Rng, zero biases, so a seed fixes the initial weights on every machine), and the
 * tf.Variables that hold them. Names are stable: checkpoints and the ONNX sampler use them.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.js';
import { type PolicyConfig, contextSize, outputSize, pointerSlots, questionCodeSize } from './config.js';

export type ParameterName =
  | 'question.embedding'
  | 'question.bias'
  | 'term.embedding'
  | 'term.bias'
  | 'term.objectness'
  | 'term.offset'
  | 'result.kernel'
  | 'result.bias'
  | 'decoder.init.kernel'
  | 'decoder.init.bias'
  | 'decoder.context.kernel'
  | 'decoder.embedding'
  | 'decoder.input.bias'
  | 'decoder.recurrent.kernel'
  | 'decoder.recurrent.bias'
  | 'pointer.kernel'
  | 'pointer.bias'
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
  const terms = config.sumSlots;
  const vocab = config.questionVocabSize;
  const context = contextSize(config);
  const classes = outputSize(config);
  const matrix = (rows: number, cols: number, fans = rows + cols): ParameterSpec => ({ shape: [rows, cols], fans });
  const zeros = (rows: number, cols: number): ParameterSpec => ({ shape: [rows, cols], fans: 0 });
  const bias = (size: number, fill = 0): ParameterSpec => ({ shape: [size], fans: 0, fill });
  return {
    'question.embedding': matrix(questionCodeSize(config), h, 2 * config.maxQuestionLength + h),
    'question.bias': bias(h),
    // The term gates start equal for every word and patch (zero word vectors): all gates closed at
    // sigmoid(term.offset) = sigmoid(-4), so every count starts near 1 and the pointer's gradient moves it.
    'term.embedding': zeros(vocab, config.patchDim),
    'term.bias': zeros(vocab, 1),
    'term.objectness': zeros(config.patchDim, 1),
    'term.offset': bias(terms, -4),
    // Result = sum_k (words of clause k) . result.kernel + result.bias[k]) n_k; starts as n_1 (set in initialWeights).
    'result.kernel': zeros(vocab, 1),
    'result.bias': bias(terms),
    'decoder.init.kernel': matrix(context, h),
    'decoder.init.bias': bias(h),
    'decoder.context.kernel': matrix(context, gates),
    'decoder.embedding': matrix(config.responseVocabSize, gates, 1 + gates),
    'decoder.input.bias': bias(gates),
    'decoder.recurrent.kernel': matrix(h, gates),
    'decoder.recurrent.bias': bias(gates),
    // Pointer weights softplus(h W + b) per count slot start small (softplus(-2) ~ 0.13).
    'pointer.kernel': matrix(h, pointerSlots(config)),
    'pointer.bias': bias(pointerSlots(config), -2),
    'output.kernel': matrix(h, classes),
    'output.bias': bias(classes),
  };
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
  out['result.bias'][0] = 1; // the result starts as the first term's count
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
