import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/trainer/backend/index.js';
import { GRPO_TRAIN_DEFAULTS, DAPO_TRAIN_DEFAULTS, PolicyModel, PolicyTrainer, aggregationWeights, repeatPrompts } from '../../../src/trainer/policy/index.js';
import { policyGradientTerms } from '../../../src/trainer/policy/losses.js';
import { SYNTHETIC_POLICY_CONFIG, syntheticPrompts } from '../../../src/trainer/policy/synthetic.js';
import { Rng } from '../../../src/trainer/rng.js';

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

/** Plain-JS PPO-clip + k3 reference, aggregated with the given weights. */
function reference(logp: number[], old: number[], ref: number[], adv: number[], mask: number[], weights: Float32Array, lr: number, low: number, high: number) {
  let pg = 0;
  let kl = 0;
  let clipped = 0;
  let tokens = 0;
  for (let i = 0; i < logp.length; i++) {
    const a = adv[Math.floor(i / lr)];
    const ratio = Math.exp(logp[i] - old[i]);
    const unclippedLoss = -a * ratio;
    const clippedLoss = -a * Math.min(Math.max(ratio, 1 - low), 1 + high);
    pg += Math.max(unclippedLoss, clippedLoss) * weights[i];
    const d = ref[i] - logp[i];
    kl += (Math.exp(d) - d - 1) * weights[i];
    if (mask[i]) {
      tokens++;
      if (clippedLoss > unclippedLoss) clipped++;
    }
  }
  return { pg, kl, clipFraction: clipped / tokens };
}

describe('policy losses', () => {
  it('aggregation weights: per-sequence mean then batch mean (GRPO) vs token mean (DAPO)', () => {
    const mask = Float32Array.from([1, 1, 0, 1, 0, 0]);
    assert.deepEqual(Array.from(aggregationWeights(mask, 3, 'seq-mean-token-mean')), [0.25, 0.25, 0, 0.5, 0, 0]);
    const tokenMean = Array.from(aggregationWeights(mask, 3, 'token-mean'));
    tokenMean.forEach((w, i) => assert.ok(Math.abs(w - [1, 1, 0, 1, 0, 0][i] / 3) < 1e-7));
  });

  it('clipped surrogate and k3 KL match a plain-JS reference (symmetric and clip-higher)', () => {
    const rng = new Rng(8);
    const sequences = 6;
    const lr = 4;
    const mask: number[] = Array.from({ length: sequences * lr }, (_, i) => (i % lr < 1 + (Math.floor(i / lr) % lr) ? 1 : 0));
    const logp = mask.map((m) => (m ? -rng.next() * 2 : 0));
    const old = logp.map((v, i) => (mask[i] ? v + (rng.next() - 0.5) : 0));
    const ref = logp.map((v, i) => (mask[i] ? v + (rng.next() - 0.5) * 0.3 : 0));
    const adv = Array.from({ length: sequences }, () => rng.normal());
    for (const [low, high, mode] of [[0.2, 0.2, 'seq-mean-token-mean'], [0.2, 0.28, 'token-mean']] as const) {
      const weights = aggregationWeights(Float32Array.from(mask), lr, mode);
      const expected = reference(logp, old, ref, adv, mask, weights, lr, low, high);
      const got = tf.tidy(() => {
        const t = (values: number[] | Float32Array) => tf.tensor2d(Float32Array.from(values), [sequences, lr]);
        const terms = policyGradientTerms(
          { logprobs: t(logp), oldLogprobs: t(old), refLogprobs: t(ref), advantages: tf.tensor2d(adv, [sequences, 1]), mask: t(mask), weights: t(weights), validTokens: mask.reduce((a, b) => a + b) },
          low,
          high,
        );
        return { pg: terms.pgLoss.dataSync()[0], kl: terms.klLoss.dataSync()[0], clipFraction: terms.clipFraction.dataSync()[0] };
      });
      assert.ok(Math.abs(got.pg - expected.pg) < 1e-5, `${mode} pg ${got.pg} vs ${expected.pg}`);
      assert.ok(Math.abs(got.kl - expected.kl) < 1e-5, `${mode} kl ${got.kl} vs ${expected.kl}`);
      assert.ok(Math.abs(got.clipFraction - expected.clipFraction) < 1e-6);
      assert.ok(expected.clipFraction > 0 && expected.kl > 0, 'the case exercises clipping and KL');
    }
  });

  it('trainStep on on-policy log-probs: pg_loss = -mean advantage, no clipping, zero KL, weights move', () => {
    const model = new PolicyModel({ ...SYNTHETIC_POLICY_CONFIG, seed: 5 });
    const trainer = new PolicyTrainer(model);
    const prompts = syntheticPrompts(4, 2);
    const promptIndex = repeatPrompts(4, 2);
    const responses = Int32Array.from({ length: 8 * 3 }, (_, i) => (i % 3 === 2 ? 1 : 2 + (i % 7)));
    const batch = { ...prompts, responses, responseLength: 3, promptIndex };
    const { tokenLogprobs } = model.logProbs(batch);
    const advantages = [1, -1, 0.5, 0.5, -2, 0, 1, 1];
    const before = model.getWeights()['output.kernel'];
    for (const config of [GRPO_TRAIN_DEFAULTS, DAPO_TRAIN_DEFAULTS]) {
      const fresh = model.logProbs(batch).tokenLogprobs;
      const metrics = trainer.trainStep(batch, advantages, fresh, fresh, config);
      const meanAdvantage = advantages.reduce((a, b) => a + b) / advantages.length;
      assert.ok(Math.abs(metrics.pg_loss + meanAdvantage) < 1e-5, `${config.lossType}: ${metrics.pg_loss}`);
      assert.equal(metrics.pg_clipfrac, 0);
      assert.ok(Math.abs(metrics.kl_loss) < 1e-6);
      assert.ok(Math.abs(metrics.ppo_kl) < 1e-6);
      assert.ok(metrics.grad_norm > 0 && Number.isFinite(metrics.grad_norm));
      assert.ok(metrics.entropy > 0);
    }
    assert.notDeepEqual(model.getWeights()['output.kernel'], before);
    assert.throws(() => trainer.trainStep(batch, [1, 2], tokenLogprobs, null, GRPO_TRAIN_DEFAULTS), /advantages has 2 values for 8 sequences/);
    assert.throws(() => trainer.trainStep(batch, advantages, tokenLogprobs, null, GRPO_TRAIN_DEFAULTS), /klCoef > 0 needs refLogprobs/);
    trainer.dispose();
    model.dispose();
  });
});
