/**
 * The update phase's mini-batches (src/trainer/loop/phases.ts `update`, ./miniBatches.ts) on a real policy:
 * each PPO epoch shuffles the kept prompts with the state's generator and makes one optimiser step per
 * mini-batch holding whole prompt groups; the reference log-probs are computed once; a mini-batch too large
 * for the batch is the whole batch; a non-finite gradient in a later mini-batch undoes the earlier ones.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { selectBackend } from '../../../src/trainer/backend/index.js';
import { parseTrainConfig } from '../../../src/trainer/config.js';
import { ControlState } from '../../../src/trainer/controlState.js';
import { miniBatches } from '../../../src/trainer/loop/miniBatches.js';
import { type Rollouts, type UpdateSettings, update } from '../../../src/trainer/loop/phases.js';
import { policyFactory } from '../../../src/trainer/policy/kinds.js';
import type { Policy, PolicyArrays, PolicyBatch, PolicyShape } from '../../../src/trainer/policy/policy.js';
import { repeatPrompts } from '../../../src/trainer/policy/sampler.js';
import { SYNTHETIC_POLICY_CONFIG, syntheticPrompts } from '../../../src/trainer/policy/synthetic.js';
import { Rng } from '../../../src/trainer/rng.js';

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

const { numberToken, separatorTokens, ...vocabulary } = SYNTHETIC_POLICY_CONFIG;
const shape: PolicyShape = { ...vocabulary, maxQuestionLength: 12, maxResponseLength: 8, patchCount: 64, patchDim: 32 };
const counting = (weights?: PolicyArrays): Promise<Policy> => policyFactory('counting').create(shape, { seed: 7, weights, config: { numberToken, separatorTokens } });

const PROMPTS = 8;
const G = 4;
/** Prompt 5's group is left out of the update (as a weight of 0 or the band filter would). */
const LEFT_OUT = 5;
const keptPrompts = Array.from({ length: PROMPTS }, (_, p) => p).filter((p) => p !== LEFT_OUT);
const kept = keptPrompts.flatMap((p) => Array.from({ length: G }, (_, i) => p * G + i));
const prompts = syntheticPrompts(PROMPTS, 3);
const inputs = { patches: prompts.patches, questions: prompts.questions, questionLength: prompts.questionLength };
const patchSize = shape.patchCount * shape.patchDim;
const live = new ControlState(parseTrainConfig({})).live;

function settings(miniBatchSize: number, ppoEpochs = 2): UpdateSettings {
  return { live, algorithm: 'grpo', ppoEpochs, miniBatchSize, maxGradNorm: 1, lr: 1e-2, step: 1, fault: () => undefined };
}

/** G rollouts of each prompt from the policy, and an advantage per rollout drawn in [-1, 1]. */
async function rolloutsOf(policy: Policy): Promise<{ rollouts: Rollouts; advantages: Float64Array }> {
  const promptIndex = repeatPrompts(PROMPTS, G);
  const rng = new Rng(11);
  const sample = await policy.sample(inputs, { random: () => rng.next(), temperature: 1, promptIndex });
  const advantages = Float64Array.from({ length: PROMPTS * G }, () => 2 * rng.next() - 1);
  return { rollouts: { tasks: [], G, inputs, promptIndex, sample }, advantages };
}

interface TrainCall {
  batch: PolicyBatch;
  advantages: number[];
}

/** The policy itself, recording what each optimiser step trains on; `alter` may change a call's advantages. */
function recording(policy: Policy, alter?: (call: number, advantages: ArrayLike<number>) => ArrayLike<number>): { policy: Policy; calls: TrainCall[]; logProbsCalls: () => number } {
  const calls: TrainCall[] = [];
  let logProbsCalls = 0;
  const wrapped = new Proxy(policy, {
    get(target, name) {
      if (name === 'trainStep') {
        return (batch: PolicyBatch, advantages: ArrayLike<number>, ...rest: [Float32Array, Float32Array | null, Parameters<Policy['trainStep']>[4]]) => {
          const used = alter ? alter(calls.length, advantages) : advantages;
          calls.push({ batch, advantages: Array.from(used) });
          return target.trainStep(batch, used, ...rest);
        };
      }
      if (name === 'logProbs') {
        return (...args: Parameters<Policy['logProbs']>) => {
          logProbsCalls++;
          return target.logProbs(...args);
        };
      }
      const value = Reflect.get(target, name, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { policy: wrapped, calls, logProbsCalls: () => logProbsCalls };
}

/** Which of the step's prompts row i of a mini-batch is (by its patch features). */
function promptOf(batch: PolicyBatch, row: number): number {
  const features = batch.patches.subarray(row * patchSize, (row + 1) * patchSize);
  const found = Array.from({ length: PROMPTS }, (_, p) => p).filter((p) => prompts.patches.subarray(p * patchSize, (p + 1) * patchSize).every((v, i) => v === features[i]));
  assert.equal(found.length, 1, `mini-batch prompt row ${row} is one of the step's prompts`);
  return found[0];
}

describe('miniBatches', () => {
  it('cuts the shuffled prompts into ceil(n / size) parts differing by at most one, and draws nothing for one part', () => {
    const rng = new Rng(5);
    const parts = miniBatches([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 4, rng);
    assert.equal(parts.length, 3);
    assert.deepEqual(parts.map((part) => part.length).sort(), [3, 3, 4]);
    assert.deepEqual(parts.flat().sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.notDeepEqual(parts.flat(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'shuffled');
    const untouched = new Rng(5);
    for (const size of [0, 10, 64]) assert.deepEqual(miniBatches([3, 1, 2], size, untouched), [[3, 1, 2]]);
    assert.deepEqual(untouched.getState(), new Rng(5).getState(), 'a single mini-batch draws nothing');
  });
});

describe('the update in mini-batches', { timeout: 120_000 }, () => {
  it('makes one optimiser step per mini-batch of whole prompt groups, each epoch a new shuffle of the kept prompts', async () => {
    const base = await counting();
    const { rollouts, advantages } = await rolloutsOf(base);
    const { policy, calls } = recording(base);
    const reference = recording(await counting(base.getWeights()));
    const rng = new Rng(21);
    const result = update(policy, reference.policy, rollouts, kept, advantages, rng, settings(3));
    assert.ok('metrics' in result, 'the update ran');
    // 7 kept prompts in mini-batches of 3: 3 mini-batches (2, 2 and 3 prompts) per epoch, 2 epochs.
    assert.equal(result.metrics.optimizer_steps, 6);
    assert.equal(calls.length, 6);
    assert.deepEqual(base.getOptimizerState().step, Float32Array.of(6), 'Adam made six steps');
    assert.equal(reference.logProbsCalls(), 1, 'the reference log-probs are computed once per step');
    assert.ok(Number.isFinite(result.metrics.pg_loss) && Number.isFinite(result.metrics.grad_norm));

    const Lr = rollouts.sample.responseLength;
    const orders = [calls.slice(0, 3), calls.slice(3, 6)].map((epoch) =>
      epoch.flatMap(({ batch, advantages: used }) => {
        const local = batch.questions.length / batch.questionLength;
        assert.ok(local === 2 || local === 3, `a mini-batch holds 2 or 3 prompts, got ${local}`);
        const ids = Array.from({ length: local }, (_, row) => promptOf(batch, row));
        const promptIndex = batch.promptIndex as Int32Array;
        assert.equal(promptIndex.length, local * G, 'every prompt comes with all its G rollouts');
        promptIndex.forEach((row, r) => {
          const p = ids[row];
          const rollout = r - promptIndex.indexOf(row);
          const s = p * G + rollout;
          assert.ok(rollout >= 0 && rollout < G && promptIndex[r - rollout] === row, 'a prompt\'s rollouts are consecutive rows');
          assert.deepEqual(batch.responses.subarray(r * Lr, (r + 1) * Lr), rollouts.sample.responses.subarray(s * Lr, (s + 1) * Lr), `row ${r} is rollout ${s}`);
          assert.equal(used[r], advantages[s], `row ${r} carries rollout ${s}'s advantage`);
        });
        return ids;
      }),
    );
    for (const order of orders) assert.deepEqual([...order].sort((a, b) => a - b), keptPrompts, 'each epoch trains every kept prompt once, the left-out one never');
    assert.notDeepEqual(orders[0], orders[1], 'each epoch draws its own order');
    assert.ok(orders.some((order) => order.join() !== keptPrompts.join()), 'the order is shuffled');
    await Promise.all([base.dispose(), reference.policy.dispose()]);
  });

  it('takes the whole batch in one step per epoch when miniBatchSize is 0 or at least the kept prompts, identically', async () => {
    const start = await counting();
    const { rollouts, advantages } = await rolloutsOf(start);
    const weights: PolicyArrays[] = [];
    for (const size of [0, 7, 128]) {
      const policy = await counting(start.getWeights());
      const reference = await counting(start.getWeights());
      const rng = new Rng(21);
      const result = update(policy, reference, rollouts, kept, advantages, rng, settings(size));
      assert.ok('metrics' in result && result.metrics.optimizer_steps === 2, `miniBatchSize ${size}: one step per epoch`);
      assert.deepEqual(rng.getState(), new Rng(21).getState(), `miniBatchSize ${size}: no shuffle`);
      weights.push(policy.getWeights());
      await Promise.all([policy.dispose(), reference.dispose()]);
    }
    assert.deepEqual(weights[1], weights[0]);
    assert.deepEqual(weights[2], weights[0]);
    assert.notDeepEqual(weights[0], start.getWeights(), 'the update moved the weights');
    await start.dispose();
  });

  it('undoes the earlier mini-batches when a later one turns the gradient non-finite', async () => {
    const base = await counting();
    const { rollouts, advantages } = await rolloutsOf(base);
    const reference = await counting(base.getWeights());
    const weightsBefore = base.getWeights();
    const optimizerBefore = base.getOptimizerState();
    let stepsBeforeBad = -1;
    const { policy, calls } = recording(base, (call, used) => {
      if (call < 2) return used;
      stepsBeforeBad = base.getOptimizerState().step[0];
      return Array.from(used, () => Number.NaN);
    });
    const result = update(policy, reference, rollouts, kept, advantages, new Rng(21), settings(3));
    assert.equal(calls.length, 3, 'the update stops at the bad mini-batch');
    assert.equal(stepsBeforeBad, 2, 'the first two mini-batches had stepped');
    assert.ok('skip' in result);
    assert.equal(result.skip.cause, 'gradient');
    assert.match(result.skip.detail, /the gradients are non-finite \(norm NaN, PPO epoch 1, mini-batch 3 of 3\)/);
    assert.deepEqual(base.getWeights(), weightsBefore, 'weights as before the step');
    assert.deepEqual(base.getOptimizerState(), optimizerBefore, 'optimiser state as before the step');
    await Promise.all([base.dispose(), reference.dispose()]);
  });
});
