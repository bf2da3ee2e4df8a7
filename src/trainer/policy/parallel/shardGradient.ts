/**
 * The general policy's gradient on one shard of a batch, as one flat float32 array (weights in the order of
 * generalParameterSpecs) and the loss's terms: the same function on the main thread and in the gradient worker,
 * so a shard's result does not depend on where it ran.
 */
import * as tf from '@tensorflow/tfjs';
import type { PolicyBatch } from '../batch.js';
import { type Gradient, type PolicyGradientArrays, policyGradientGradient, supervisedGradient } from '../steps.js';
import type { TrainStepConfig } from '../update.js';
import type { GeneralConfig } from '../general/config.js';
import { generalParameterSpecs } from '../general/parameters.js';
import { disposeGeneralBatch, generalBatchTensors, generalTokenStatistics } from '../general/tensors.js';

/** What one shard computes: the clipped policy-gradient loss or the supervised cross-entropy, normalised for the whole batch. */
export type ShardJob =
  | { kind: 'policy-gradient'; batch: PolicyBatch; arrays: PolicyGradientArrays; config: TrainStepConfig }
  | { kind: 'supervised'; batch: PolicyBatch; validTokens: number };

/** Weight count of a config (the flat gradient's length) and each weight's offset in it. */
export function gradientLayout(config: GeneralConfig): { size: number; offsets: Map<string, number> } {
  const offsets = new Map<string, number>();
  let size = 0;
  for (const [name, spec] of generalParameterSpecs(config)) {
    offsets.set(name, size);
    size += spec.shape.reduce((a, b) => a * b, 1);
  }
  return { size, offsets };
}

/**
 * Runs `job` with the weights in `variables` (keyed by weight name) and writes its gradient into `out` (the
 * flat layout of gradientLayout); returns the loss's terms.
 */
export function shardGradient(config: GeneralConfig, variables: Record<string, tf.Variable>, job: ShardJob, out: Float32Array): number[] {
  const tensors = generalBatchTensors(job.batch, config);
  let gradient: Gradient | null = null;
  try {
    const inputs = {
      sequences: tensors.sequences,
      responseLength: tensors.responseLength,
      mask: tensors.mask,
      maskValues: tensors.maskValues,
      statistics: (temperature: number) => generalTokenStatistics(variables, config, tensors, temperature),
      variables: Object.values(variables),
    };
    gradient = job.kind === 'policy-gradient' ? policyGradientGradient(inputs, job.arrays, job.config) : supervisedGradient(inputs, job.validTokens);
    const { offsets } = gradientLayout(config);
    for (const [name, offset] of offsets) {
      const variable = variables[name];
      const values = gradient.grads[variable.name];
      if (values) out.set(values.dataSync() as Float32Array, offset);
      else out.fill(0, offset, offset + variable.size);
    }
    return gradient.terms;
  } finally {
    if (gradient) tf.dispose(Object.values(gradient.grads));
    disposeGeneralBatch(tensors);
  }
}
