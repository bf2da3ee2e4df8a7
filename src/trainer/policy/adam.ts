/**
 * Adam (Kingma & Ba 2015, Algorithm 1) with global-norm gradient clipping (Pascanu et al. 2013), over the
 * policy's named variables. The learning rate is given per step; the moments are readable for checkpoints.
 * A step whose gradient norm is not finite is skipped (as verl does) and reported.
 */
import * as tf from '@tensorflow/tfjs';

export interface AdamOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const DEFAULT_ADAM: Readonly<AdamOptions> = Object.freeze({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });

export interface AdamState {
  step: number;
  firstMoment: Record<string, Float32Array>;
  secondMoment: Record<string, Float32Array>;
}

/**
 * The moments live in plain Float32Arrays and the update runs in JS: the policy has ~10^5 parameters, so
 * one pass over them costs well under a millisecond, while the same update as tfjs ops is ~10 small ops per
 * variable (each with a fixed per-op cost on the wasm backend).
 */
export class Adam {
  private step = 0;
  private readonly first = new Map<string, Float32Array>();
  private readonly second = new Map<string, Float32Array>();

  constructor(private readonly variables: Record<string, tf.Variable>, private readonly options: AdamOptions = DEFAULT_ADAM) {
    for (const [name, variable] of Object.entries(variables)) {
      this.first.set(name, new Float32Array(variable.size));
      this.second.set(name, new Float32Array(variable.size));
    }
  }

  /**
   * Clips the gradients to `maxGradNorm` (global L2 norm; <= 0 or Infinity disables) and applies one Adam
   * step. `gradients` is keyed by tf.Variable name, as `tf.variableGrads` returns it. Returns the norm
   * before clipping; a non-finite norm leaves every weight unchanged.
   */
  apply(variableGradients: Record<string, tf.Tensor>, learningRate: number, maxGradNorm: number): number {
    const gradients = new Map<string, Float32Array>();
    for (const [name, variable] of Object.entries(this.variables)) {
      const gradient = variableGradients[variable.name];
      if (gradient) gradients.set(name, gradient.dataSync() as Float32Array);
    }
    return this.applyArrays(gradients, learningRate, maxGradNorm);
  }

  /** `apply` on gradients already read back, keyed by the policy's own weight names (e.g. summed over shards). */
  applyArrays(gradients: ReadonlyMap<string, Float32Array>, learningRate: number, maxGradNorm: number): number {
    if (gradients.size === 0) throw new Error('adam: no gradient for any policy variable');
    for (const [name, values] of gradients) {
      const variable = this.variables[name];
      if (!variable || variable.size !== values.length) throw new RangeError(`adam: gradient '${name}' does not match a policy variable of ${values.length} values`);
    }
    let squares = 0;
    for (const values of gradients.values()) for (let i = 0; i < values.length; i++) squares += values[i] * values[i];
    const norm = Math.fround(Math.sqrt(squares));
    if (!Number.isFinite(norm)) return norm;
    const scale = maxGradNorm > 0 && Number.isFinite(maxGradNorm) && norm > maxGradNorm ? maxGradNorm / (norm + 1e-6) : 1;
    this.step += 1;
    const { beta1, beta2, epsilon } = this.options;
    const stepSize = (learningRate * Math.sqrt(1 - beta2 ** this.step)) / (1 - beta1 ** this.step);
    for (const [name, gradient] of gradients) {
      const m = this.first.get(name) as Float32Array;
      const v = this.second.get(name) as Float32Array;
      const variable = this.variables[name];
      const weights = new Float32Array(variable.dataSync() as Float32Array);
      for (let i = 0; i < weights.length; i++) {
        const g = gradient[i] * scale;
        m[i] = m[i] * beta1 + g * (1 - beta1);
        v[i] = v[i] * beta2 + g * g * (1 - beta2);
        weights[i] -= (m[i] / (Math.sqrt(v[i]) + epsilon)) * stepSize;
      }
      tf.tidy(() => variable.assign(tf.tensor(weights, variable.shape, 'float32')));
    }
    return norm;
  }

  getState(): AdamState {
    const read = (map: Map<string, Float32Array>) => Object.fromEntries([...map].map(([name, values]) => [name, values.slice()]));
    return { step: this.step, firstMoment: read(this.first), secondMoment: read(this.second) };
  }

  setState(state: AdamState): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new RangeError(`adam state: step must be an integer >= 0, got ${state.step}`);
    const checked: [Float32Array, Float32Array][] = [];
    for (const [map, values, label] of [[this.first, state.firstMoment, 'firstMoment'], [this.second, state.secondMoment, 'secondMoment']] as const) {
      for (const [name, moment] of map) {
        const data = values[name];
        if (!(data instanceof Float32Array) || data.length !== moment.length) throw new RangeError(`adam state: ${label}.${name} is missing or has the wrong size`);
        checked.push([moment, data]);
      }
    }
    for (const [moment, data] of checked) moment.set(data);
    this.step = state.step;
  }

  dispose(): void {
    // Nothing on the backend: the moments are JS arrays.
  }
}
