import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { selectBackend } from '../../../src/trainer/backend/index.js';
import { GRPO_TRAIN_DEFAULTS, PolicyModel, PolicySampler, PolicyTrainer, repeatPrompts } from '../../../src/trainer/policy/index.js';
import { SYNTHETIC_POLICY_CONFIG, syntheticGoldBatch, syntheticPrompts, syntheticReward } from '../../../src/trainer/policy/synthetic.js';
import { Rng } from '../../../src/trainer/rng.js';

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

async function greedyAccuracy(model: PolicyModel, sampler: PolicySampler, answers: (p: ReturnType<typeof syntheticPrompts>) => Int32Array): Promise<number> {
  const prompts = syntheticPrompts(128, 999);
  const rollout = await sampler.sample(model.getWeights(), prompts, { random: () => 0, greedy: true });
  const gold = answers(prompts);
  let correct = 0;
  for (let p = 0; p < 128; p++) correct += syntheticReward(rollout.responses.subarray(p * rollout.responseLength), gold[p]);
  return correct / 128;
}

describe('policy learning sanity', () => {
  it('supervised warm-up learns to count marked patches', async () => {
    const model = new PolicyModel({ ...SYNTHETIC_POLICY_CONFIG, seed: 1 });
    const trainer = new PolicyTrainer(model);
    const sampler = await PolicySampler.create(model.config);
    const before = await greedyAccuracy(model, sampler, (p) => p.answers);
    const losses: number[] = [];
    for (let step = 0; step < 260; step++) {
      losses.push(trainer.supervisedStep(syntheticGoldBatch(syntheticPrompts(64, step)), { learningRate: 3e-3, maxGradNorm: 1 }).loss);
      if (step > 20 && losses.slice(-10).reduce((a, b) => a + b) / 10 < 0.25) break;
    }
    const after = await greedyAccuracy(model, sampler, (p) => p.answers);
    const late = losses.slice(-10).reduce((a, b) => a + b) / 10;
    assert.ok(late < 0.5 * losses[0] && late < 0.6, `loss ${losses[0]} -> ${late}`);
    assert.ok(after > 0.45 && after > before + 0.25, `greedy accuracy ${before} -> ${after}`);
    await sampler.release();
    trainer.dispose();
    model.dispose();
  });

  it('a short GRPO loop (advantage = reward - group mean) raises the reward', async () => {
    // From scratch, the answer depends on the question only ("A" -> 3, "B" -> 5): rare successes at first.
    const target = (p: ReturnType<typeof syntheticPrompts>) => Int32Array.from({ length: p.answers.length }, (_, i) => (p.questions[i * 3 + 2] === 4 ? 5 : 3));
    const model = new PolicyModel({ ...SYNTHETIC_POLICY_CONFIG, seed: 2 });
    const reference = model.getWeights();
    const trainer = new PolicyTrainer(model);
    const sampler = await PolicySampler.create(model.config);
    const rng = new Rng(4);
    const group = 8;
    const rewards: number[] = [];
    for (let iteration = 0; iteration < 30; iteration++) {
      const prompts = syntheticPrompts(16, 100 + iteration);
      const promptIndex = repeatPrompts(16, group);
      const rollout = await sampler.sample(model.getWeights(), prompts, { random: () => rng.next(), promptIndex, maxTokens: 3 });
      const gold = target(prompts);
      const reward = Array.from(promptIndex, (p, s) => syntheticReward(rollout.responses.subarray(s * 3), gold[p]));
      const advantages = reward.map((r, s) => {
        const p = promptIndex[s];
        return r - reward.slice(p * group, (p + 1) * group).reduce((a, b) => a + b) / group;
      });
      rewards.push(reward.reduce((a, b) => a + b) / reward.length);
      const batch = { ...prompts, responses: rollout.responses, responseLength: 3, promptIndex };
      const refLogprobs = new PolicyModel(model.config, reference);
      const refScores = refLogprobs.logProbs(batch).tokenLogprobs;
      refLogprobs.dispose();
      trainer.trainStep(batch, advantages, rollout.tokenLogprobs, refScores, { ...GRPO_TRAIN_DEFAULTS, learningRate: 1e-2 });
    }
    // The first two iterations: the count pointer lets the policy learn within a handful of iterations.
    const early = rewards.slice(0, 2).reduce((a, b) => a + b) / 2;
    const late = rewards.slice(-5).reduce((a, b) => a + b) / 5;
    assert.ok(late > early + 0.3, `reward ${early.toFixed(3)} -> ${late.toFixed(3)} (${rewards.map((r) => r.toFixed(2)).join(' ')})`);
    await sampler.release();
    trainer.dispose();
    model.dispose();
  });
});
