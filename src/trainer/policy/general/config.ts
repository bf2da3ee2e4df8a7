/**
 * The general policy's architecture config: the task source's shapes (`PolicyShape`) plus the transformer's
 * hyper-parameters d, heads, layers. `describe().config` holds both (as the PyTorch twin's policy.json does);
 * `create` takes it back: its shape keys must then equal the task source's shape, and unknown keys are
 * refused so a typo does not silently fall back to a default.
 */
import type { PolicyShape } from '../policy.js';

export interface GeneralHyperParameters {
  /** Model width d (the MLP's hidden width is 4 d). */
  d: number;
  /** Attention heads; the head width is d / heads. */
  heads: number;
  layers: number;
}

export const DEFAULT_GENERAL_HYPER_PARAMETERS: Readonly<GeneralHyperParameters> = Object.freeze({ d: 64, heads: 4, layers: 3 });

/** The MLP's hidden width in units of d. */
export const MLP_RATIO = 4;

const SHAPE_KEYS = ['questionVocabSize', 'responseVocabSize', 'eosToken', 'maxQuestionLength', 'maxResponseLength', 'patchCount', 'patchDim'] as const;

/** LayerNorm epsilon of every norm (PyTorch's default). */
export const LAYER_NORM_EPSILON = 1e-5;

export interface GeneralConfig extends PolicyShape, GeneralHyperParameters {
  /** Seed of the weight initialiser. */
  seed: number;
}

/** Head width d / heads. */
export function headWidth(config: GeneralConfig): number {
  return config.d / config.heads;
}

/** Length of the text stream: question tokens, then decoder inputs. */
export function streamLength(config: GeneralConfig): number {
  return config.maxQuestionLength + config.maxResponseLength;
}

/** Output classes: response ids 1..Vr-1 (class c is token c + 1). */
export function outputClasses(config: GeneralConfig): number {
  return config.responseVocabSize - 1;
}

function checkInteger(where: string, key: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`${where}: ${key} must be an integer >= ${min}, got ${String(value)}`);
  }
}

/** Shape, hyper-parameters (defaults filled in, unknown keys refused) and seed, checked. */
export function resolveGeneralConfig(shape: PolicyShape, options: { seed: number; config?: Record<string, unknown> }): GeneralConfig {
  const given = options.config ?? {};
  const known = Object.keys(DEFAULT_GENERAL_HYPER_PARAMETERS);
  const unknown = Object.keys(given).filter((key) => !known.includes(key) && !(SHAPE_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) throw new RangeError(`general policy config: unknown key(s) ${unknown.join(', ')}; allowed: ${known.join(', ')}`);
  for (const key of SHAPE_KEYS) {
    if (key in given && given[key] !== shape[key]) {
      throw new RangeError(`general policy config: ${key} ${String(given[key])} does not match the tasks' ${shape[key]} (the weights were made for other tasks)`);
    }
  }
  const hyper: Partial<GeneralHyperParameters> = {};
  for (const key of known as (keyof GeneralHyperParameters)[]) if (key in given) hyper[key] = given[key] as number;
  const config: GeneralConfig = {
    questionVocabSize: shape.questionVocabSize,
    responseVocabSize: shape.responseVocabSize,
    eosToken: shape.eosToken,
    maxQuestionLength: shape.maxQuestionLength,
    maxResponseLength: shape.maxResponseLength,
    patchCount: shape.patchCount,
    patchDim: shape.patchDim,
    ...DEFAULT_GENERAL_HYPER_PARAMETERS,
    ...hyper,
    seed: options.seed,
  };
  const where = 'general policy config';
  checkInteger(where, 'questionVocabSize', config.questionVocabSize, 2);
  checkInteger(where, 'responseVocabSize', config.responseVocabSize, 3);
  for (const key of ['maxQuestionLength', 'maxResponseLength', 'patchCount', 'patchDim', 'd', 'heads', 'layers'] as const) {
    checkInteger(where, key, config[key], 1);
  }
  if (config.d % config.heads !== 0) throw new RangeError(`${where}: d ${config.d} must be a multiple of heads ${config.heads}`);
  if (!Number.isInteger(config.eosToken) || config.eosToken < 1 || config.eosToken >= config.responseVocabSize) {
    throw new RangeError(`${where}: eosToken must be in 1..${config.responseVocabSize - 1}, got ${config.eosToken}`);
  }
  if (!Number.isSafeInteger(config.seed)) throw new RangeError(`${where}: seed must be a safe integer, got ${config.seed}`);
  return config;
}

/** What `describe().config` reports and `create` takes back: the shape and the hyper-parameters (not the seed). */
export function describedConfig(config: GeneralConfig): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of SHAPE_KEYS) out[key] = config[key];
  return { ...out, d: config.d, heads: config.heads, layers: config.layers };
}
