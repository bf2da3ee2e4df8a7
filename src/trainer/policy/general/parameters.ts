/**
 * The general policy's named weights: shapes and layouts (kernels [in, out], used as x @ kernel), the seeded
 * initialiser (kernels normal(0, 1 / fan_in), fan_in = the kernel's input size; embeddings and positions
 * normal(0, 0.02); zero biases, unit norm scales; drawn from the trainer's Rng in the order listed, so a seed
 * fixes the weights), and the checks on a weights record. Kernels at fan-in scale, not GPT-2's 0.02: at d 64
 * the 0.02 kernels left cross-attention uniform over the patches (scores spread 0.003) and the supervised
 * warm-up at the blind score for 56-110k samples; with fan-in kernels it reached 0.50 held-out after 32-40k in
 * 4 of 5 seeds (docs/measurements-learning.md, measured with the PyTorch twin). The names are the
 * checkpoint format and are shared with the PyTorch twin (python/durian_rl).
 */
import { Rng } from '../../rng.js';
import type { PolicyArrays } from '../policy.js';
import { type GeneralConfig, MLP_RATIO, outputClasses, streamLength } from './config.js';

type Init = 'normal' | 'fanIn' | 'zeros' | 'ones';

export interface GeneralParameterSpec {
  shape: number[];
  init: Init;
}

const INIT_STD = 0.02;

/** Every weight's shape and initialisation, in a fixed order. */
export function generalParameterSpecs(config: GeneralConfig): Map<string, GeneralParameterSpec> {
  const d = config.d;
  const specs = new Map<string, GeneralParameterSpec>();
  const add = (name: string, shape: number[], init: Init) => specs.set(name, { shape, init });
  const norm = (prefix: string, size: number) => {
    add(`${prefix}.scale`, [size], 'ones');
    add(`${prefix}.bias`, [size], 'zeros');
  };
  const dense = (prefix: string, rows: number, cols: number) => {
    add(`${prefix}.kernel`, [rows, cols], 'fanIn');
    add(`${prefix}.bias`, [cols], 'zeros');
  };
  norm('patch.norm', config.patchDim);
  dense('patch.proj', config.patchDim, d);
  add('patch.position', [config.patchCount, d], 'normal');
  add('question.embedding', [config.questionVocabSize, d], 'normal');
  add('response.embedding', [config.responseVocabSize, d], 'normal');
  add('text.position', [streamLength(config), d], 'normal');
  for (let i = 0; i < config.layers; i++) {
    for (const block of ['self', 'cross'] as const) {
      norm(`layer${i}.${block}.norm`, d);
      for (const projection of ['q', 'k', 'v'] as const) dense(`layer${i}.${block}.${projection}`, d, d);
      dense(`layer${i}.${block}.o`, d, d);
    }
    norm(`layer${i}.mlp.norm`, d);
    dense(`layer${i}.mlp.up`, d, MLP_RATIO * d);
    dense(`layer${i}.mlp.down`, MLP_RATIO * d, d);
  }
  norm('final.norm', d);
  dense('output', d, outputClasses(config));
  return specs;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Seeded initial weights (the same config and seed give the same bits). */
export function initialGeneralWeights(config: GeneralConfig): PolicyArrays {
  const rng = new Rng(config.seed);
  const out: PolicyArrays = {};
  for (const [name, spec] of generalParameterSpecs(config)) {
    const values = new Float32Array(sizeOf(spec.shape));
    if (spec.init === 'ones') values.fill(1);
    else if (spec.init !== 'zeros') {
      const std = spec.init === 'fanIn' ? 1 / Math.sqrt(spec.shape[0]) : INIT_STD;
      for (let i = 0; i < values.length; i++) values[i] = std * rng.normal();
    }
    out[name] = values;
  }
  return out;
}

/** Checks that `weights` holds exactly the config's weights with the right sizes (one error line naming the first problem). */
export function checkGeneralWeights(config: GeneralConfig, weights: Partial<PolicyArrays>): PolicyArrays {
  const specs = generalParameterSpecs(config);
  for (const [name, spec] of specs) {
    const values = weights[name];
    if (!(values instanceof Float32Array)) throw new RangeError(`general policy weights: '${name}' is missing or not a Float32Array`);
    if (values.length !== sizeOf(spec.shape)) {
      throw new RangeError(`general policy weights: '${name}' has ${values.length} values, expected ${sizeOf(spec.shape)} ([${spec.shape.join(', ')}])`);
    }
  }
  const extra = Object.keys(weights).filter((name) => !specs.has(name));
  if (extra.length > 0) throw new RangeError(`general policy weights: unknown weight(s) ${extra.join(', ')}`);
  return weights as PolicyArrays;
}

export function generalParameterCount(config: GeneralConfig): number {
  let total = 0;
  for (const spec of generalParameterSpecs(config).values()) total += sizeOf(spec.shape);
  return total;
}
