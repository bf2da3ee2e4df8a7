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

export class Adam {
  private step = 0;
  private readonly first = new Map<string, tf.Variable>();
  private readonly second = new Map<string, tf.Variable>();

  constructor(private readonly variables: Record<string, tf.Variable>, private readonly options: AdamOptions = DEFAULT_ADAM) {
    for (const [name, variable] of Object.entries(variables)) {
      this.first.set(name, tf.variable(tf.zerosLike(variable), false));
      this.second.set(name, tf.variable(tf.zerosLike(variable), false));
    }
  }

  /**
   * Clips the gradients to `maxGradNorm` (global L2 norm; <= 0 or Infinity disables) and applies one Adam
   * step. `gradients` is keyed by tf.Variable name, as `tf.variableGrads` returns it. Returns the norm
   * before clipping; a non-finite norm leaves every weight unchanged.
   */
  apply(variableGradients: Record<string, tf.Tensor>, learningRate: number, maxGradNorm: number): number {
    const gradients: Record<string, tf.Tensor> = {};
    for (const [name, variable] of Object.entries(this.variables)) {
      const gradient = variableGradients[variable.name];
      if (gradient) gradients[name] = gradient;
    }
    const names = Object.keys(gradients);
    if (names.length === 0) throw new Error('adam: no gradient for any policy variable');
    const norm = tf.tidy(() => tf.sqrt(tf.addN(names.map((name) => tf.sum(tf.square(gradients[name]))))).dataSync()[0]);
    if (!Number.isFinite(norm)) return norm;
    const scale = maxGradNorm > 0 && Number.isFinite(maxGradNorm) && norm > maxGradNorm ? maxGradNorm / (norm + 1e-6) : 1;
    this.step += 1;
    const { beta1, beta2, epsilon } = this.options;
    const stepSize = (learningRate * Math.sqrt(1 - beta2 ** this.step)) / (1 - beta1 ** this.step);
    tf.tidy(() => {
      for (const name of names) {
        const gradient = scale === 1 ? gradients[name] : tf.mul(gradients[name], scale);
        const m = this.first.get(name) as tf.Variable;
        const v = this.second.get(name) as tf.Variable;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(gradient, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(gradient), 1 - beta2)));
        const variable = this.variables[name];
        variable.assign(tf.sub(variable, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsilon)), stepSize)));
      }
    });
    return norm;
  }

  getState(): AdamState {
    const read = (map: Map<string, tf.Variable>) => Object.fromEntries([...map].map(([name, v]) => [name, new Float32Array(v.dataSync())]));
    return { step: this.step, firstMoment: read(this.first), secondMoment: read(this.second) };
  }

  setState(state: AdamState): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new RangeError(`adam state: step must be an integer >= 0, got ${state.step}`);
    for (const [map, values, label] of [[this.first, state.firstMoment, 'firstMoment'], [this.second, state.secondMoment, 'secondMoment']] as const) {
      for (const [name, variable] of map) {
        const data = values[name];
        if (!(data instanceof Float32Array) || data.length !== variable.size) throw new RangeError(`adam state: ${label}.${name} is missing or has the wrong size`);
        tf.tidy(() => variable.assign(tf.tensor(data, variable.shape, 'float32')));
      }
    }
    this.step = state.step;
  }

  dispose(): void {
    for (const v of [...this.first.values(), ...this.second.values()]) v.dispose();
  }
}
