/**
 * The general policy (kind 'general'): a pre-LN transformer decoder over the question tokens and the
 * response so far, cross-attending to the projected patch features, with no task knowledge in the
 * architecture. Trained in tfjs, sampled with onnxruntime-node (prefix graph + KV-cached step graph).
 */
import type { PolicyFactory } from '../policy.js';
import { DEFAULT_GENERAL_HYPER_PARAMETERS, resolveGeneralConfig } from './config.js';
import { GENERAL_POLICY_KIND, GeneralPolicy } from './generalPolicy.js';

export const GENERAL_POLICY: PolicyFactory = {
  kind: GENERAL_POLICY_KIND,
  description: `general transformer decoder (default d ${DEFAULT_GENERAL_HYPER_PARAMETERS.d}, ${DEFAULT_GENERAL_HYPER_PARAMETERS.layers} layers, ${DEFAULT_GENERAL_HYPER_PARAMETERS.heads} heads) over patch features and question tokens; learns every task from data`,
  create: async (shape, options) => GeneralPolicy.create(resolveGeneralConfig(shape, options), options.weights),
};

export { GeneralPolicy } from './generalPolicy.js';
export { resolveGeneralConfig } from './config.js';
export type { GeneralConfig } from './config.js';
export { generalParameterCount } from './parameters.js';
