/**
 * The trainer's state as a checkpoint saves it: everything in TrainerState goes through checkpointParts ->
 * (the bytes and JSON a checkpoint holds) -> decodeCheckpoint -> restoreState and comes back equal, so the
 * next update after a resume is the one the uninterrupted run makes. Older checkpoints (Adam's step in
 * state.json, no policy kind) still restore; weights of another policy kind are refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { selectBackend } from '../../../src/trainer/backend/index.js';
import { parseTrainConfig } from '../../../src/trainer/config.js';
import { ControlState } from '../../../src/trainer/controlState.js';
import { ControlInbox } from '../../../src/trainer/inbox.js';
import { type TrainerState, checkpointParts, decodeCheckpoint, restoreState, startState } from '../../../src/trainer/loop/state.js';
import { policyFactory } from '../../../src/trainer/policy/kinds.js';
import type { Policy, PolicyArrays, PolicyShape } from '../../../src/trainer/policy/policy.js';
import { SYNTHETIC_POLICY_CONFIG, syntheticGoldBatch, syntheticPrompts } from '../../../src/trainer/policy/synthetic.js';
import { packArrays } from '../../../src/trainer/policyIo.js';
import { Rng } from '../../../src/trainer/rng.js';

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

const { numberToken, separatorTokens, ...vocabulary } = SYNTHETIC_POLICY_CONFIG;
const shape: PolicyShape = { ...vocabulary, maxQuestionLength: 12, maxResponseLength: 8, patchCount: 64, patchDim: 32 };
const policyConfig = { numberToken, separatorTokens };
// These checkpoints hold the counting policy's weights, so the run's config names that policy (the default is general).
const config = parseTrainConfig({ policy: 'counting' });
const batch = syntheticGoldBatch(syntheticPrompts(16, 5));
const folder = mkdtempSync(path.join(os.tmpdir(), 'durian-state-'));
const inboxFile = path.join(folder, 'inbox.jsonl');
writeFileSync(inboxFile, `${JSON.stringify({ type: 'control/setGroupWeight', controlId: 'w-inbox', promptId: 'train-000009', weight: 3 })}\n`);

const counting = (weights?: PolicyArrays): Promise<Policy> => policyFactory('counting').create(shape, { seed: 7, weights, config: policyConfig });

function freshState(policy: Policy): TrainerState {
  return startState({ sampleRng: new Rng(99), updateRng: new Rng(98), controls: new ControlState(config), inbox: new ControlInbox(inboxFile), policy });
}

/** A checkpoint as the run directory hands it back: the bytes as written, the JSON through a round trip. */
function stored(parts: ReturnType<typeof checkpointParts>, step: number) {
  return {
    step,
    path: '/nowhere',
    relativePath: `checkpoints/step-${step}`,
    createdAt: '',
    bytes: { 'weights.bin': parts['weights.bin'] as Uint8Array, 'adam.bin': parts['adam.bin'] as Uint8Array },
    json: { 'state.json': JSON.parse(JSON.stringify(parts['state.json'])) as unknown },
  };
}

describe('trainer state through a checkpoint', () => {
  it('restores every part of the state, and the next update after the resume equals the uninterrupted one', async () => {
    const original = freshState(await counting());
    // Train a little, steer, draw, read the inbox: every part of the state moves away from its start.
    for (let i = 0; i < 3; i++) original.policy.supervisedStep(batch, { learningRate: 1e-2, maxGradNorm: 1 });
    assert.equal(original.controls.apply({ type: 'control/setConfig', controlId: 'c1', changes: { lr: 2e-4, durianWeights: [0.5, 0.25, 0.25] } }, () => undefined), undefined);
    assert.equal(original.controls.apply({ type: 'control/excludePrompt', controlId: 'x1', promptId: 'train-000004' }, () => undefined), undefined);
    assert.equal(original.inbox.take().length, 1, 'the inbox line is read');
    for (let i = 0; i < 5; i++) original.sampleRng.next();
    original.updateRng.shuffle(Array.from({ length: 16 }, (_, i) => i));
    Object.assign(original, { step: 12, epoch: 2, cursor: 37, acknowledgedThrough: 13, validationBefore: 0.25, validationBest: 0.5, elapsedBeforeMs: 1234 });

    const parts = checkpointParts(original);
    const resumed = decodeCheckpoint(stored(parts, 12), config);
    assert.equal(resumed.state.interventionsThrough, 13);
    assert.equal(resumed.state.policy, 'counting');
    const copy = freshState(await counting(resumed.weights));
    copy.inbox = new ControlInbox(inboxFile, resumed.state.inbox);
    restoreState(copy, resumed);

    assert.deepEqual([copy.step, copy.epoch, copy.cursor, copy.validationBefore, copy.validationBest], [12, 2, 37, 0.25, 0.5]);
    assert.ok(copy.elapsedBeforeMs >= 1234, 'the elapsed time goes on from the saved one');
    assert.deepEqual(copy.controls.snapshot(), original.controls.snapshot());
    assert.equal(copy.controls.live.lr, 2e-4);
    assert.ok(copy.controls.isExcluded('train-000004'));
    assert.deepEqual(copy.inbox.position, original.inbox.position, 'the inbox reads on where it was');
    assert.equal(copy.inbox.take().length, 0, 'the line read before the checkpoint is not read again');
    assert.deepEqual(Array.from({ length: 4 }, () => copy.sampleRng.next()), Array.from({ length: 4 }, () => original.sampleRng.next()));
    assert.deepEqual(copy.updateRng.shuffle([0, 1, 2, 3, 4, 5, 6, 7]), original.updateRng.shuffle([0, 1, 2, 3, 4, 5, 6, 7]), 'the mini-batch shuffle goes on where it was');
    assert.deepEqual(copy.policy.getWeights(), original.policy.getWeights());
    assert.deepEqual(copy.policy.getOptimizerState(), original.policy.getOptimizerState());
    // Adam's moments and step count came back: the next update moves both policies to the same weights.
    original.policy.supervisedStep(batch, { learningRate: 1e-2, maxGradNorm: 1 });
    copy.policy.supervisedStep(batch, { learningRate: 1e-2, maxGradNorm: 1 });
    assert.deepEqual(copy.policy.getWeights(), original.policy.getWeights());
    const fresh = await counting(resumed.weights);
    fresh.supervisedStep(batch, { learningRate: 1e-2, maxGradNorm: 1 });
    assert.notDeepEqual(fresh.getWeights(), original.policy.getWeights(), 'a fresh optimiser would have moved them elsewhere');
    await Promise.all([original.policy.dispose(), copy.policy.dispose(), fresh.dispose()]);
  });

  it("restores a checkpoint made before the policy seam (Adam's step in state.json, no policy kind)", async () => {
    const policy = await counting();
    policy.supervisedStep(batch, { learningRate: 1e-2, maxGradNorm: 1 });
    const parts = checkpointParts({ ...freshState(policy), step: 4 });
    const json = parts['state.json'] as Record<string, unknown>;
    const { step: adamStep, ...moments } = policy.getOptimizerState();
    const legacyAdam = packArrays(moments);
    delete json.policy;
    delete json.updateRng;
    const legacy = stored({ ...parts, 'adam.bin': legacyAdam.bytes, 'state.json': { ...json, adamIndex: legacyAdam.index, adamStep: adamStep[0], batchRng: new Rng(1).getState() } }, 4);
    const resumed = decodeCheckpoint(legacy, config);
    assert.deepEqual(resumed.optimizer.step, Float32Array.of(1), "Adam's step count comes from state.json");
    const restored = freshState(await counting(resumed.weights));
    restoreState(restored, resumed);
    assert.deepEqual(restored.updateRng.getState(), new Rng(98).getState(), 'without a saved shuffle generator (older checkpoints never drew from it) it starts from its seed');
    await restored.policy.dispose();
    const copy = await counting(resumed.weights);
    copy.setOptimizerState(resumed.optimizer);
    assert.deepEqual(copy.getOptimizerState(), policy.getOptimizerState());
    await Promise.all([policy.dispose(), copy.dispose()]);
  });

  it("refuses a checkpoint of another policy kind, naming both", async () => {
    const policy = await counting();
    const parts = checkpointParts({ ...freshState(policy), step: 2 });
    const other = stored({ ...parts, 'state.json': { ...(parts['state.json'] as object), policy: 'general' } }, 2);
    assert.throws(() => decodeCheckpoint(other, config), { message: 'state.json: the weights are the "general" policy\'s, and this run trains the "counting" policy' });
    await policy.dispose();
  });
});
