import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/trainer/backend/index.js';
import { Adam } from '../../../src/trainer/policy/index.js';

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

describe('Adam', () => {
  it('matches Algorithm 1 with global-norm clipping, skips a non-finite step, and round-trips its state', () => {
    const a = tf.variable(tf.tensor2d([0.5, -1, 2, 0.25], [2, 2]));
    const b = tf.variable(tf.tensor1d([0.1, -0.2, 0.3]));
    const adam = new Adam({ a, b });
    const grads = [[3, -4, 0, 1, 2, -2, 0.5], [0.1, 0.2, -0.3, 0.05, -0.1, 0, 0.2]];
    // Plain-JS reference.
    const w = [0.5, -1, 2, 0.25, 0.1, -0.2, 0.3];
    const m = new Array(7).fill(0);
    const v = new Array(7).fill(0);
    grads.forEach((g, k) => {
      const norm = Math.hypot(...g);
      const scale = norm > 1 ? 1 / (norm + 1e-6) : 1;
      const stepSize = (1e-2 * Math.sqrt(1 - 0.999 ** (k + 1))) / (1 - 0.9 ** (k + 1));
      for (let i = 0; i < 7; i++) {
        const gi = g[i] * scale;
        m[i] = 0.9 * m[i] + 0.1 * gi;
        v[i] = 0.999 * v[i] + 0.001 * gi * gi;
        w[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) + 1e-8);
      }
      const ga = tf.tensor2d(g.slice(0, 4), [2, 2]);
      const gb = tf.tensor1d(g.slice(4));
      const returned = adam.apply({ [a.name]: ga, [b.name]: gb }, 1e-2, 1);
      assert.ok(Math.abs(returned - norm) < 1e-5 * norm);
      tf.dispose([ga, gb]);
    });
    const got = [...a.dataSync(), ...b.dataSync()];
    got.forEach((x, i) => assert.ok(Math.abs(x - w[i]) < 1e-6, `weight ${i}: ${x} vs ${w[i]}`));

    const bad = tf.tensor1d([NaN, 0, 0]);
    const before = [...a.dataSync(), ...b.dataSync()];
    assert.ok(Number.isNaN(adam.apply({ [b.name]: bad }, 1e-2, 1)));
    assert.deepEqual([...a.dataSync(), ...b.dataSync()], before);
    bad.dispose();

    const state = adam.getState();
    assert.equal(state.step, 2);
    assert.deepEqual(Object.keys(state.firstMoment), ['a', 'b']);
    assert.equal(state.secondMoment.a.length, 4);
    const other = new Adam({ a, b });
    other.setState(state);
    assert.deepEqual(other.getState(), state);
    state.firstMoment.a[0] = 123; // getState returns copies
    assert.notEqual(other.getState().firstMoment.a[0], 123);
    assert.throws(() => other.setState({ ...state, secondMoment: { a: new Float32Array(3), b: new Float32Array(3) } }), /secondMoment.a is missing or has the wrong size/);
    tf.dispose([a, b]);
  });
});
