import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Control, FieldError } from '../../src/protocol/index.js';
import { parseTrainConfig } from '../../src/trainer/config.js';
import { ControlState, type ControlStateSnapshot, liveConfigFrom } from '../../src/trainer/controlState.js';
import { packArrays } from '../../src/trainer/policyIo.js';
import { Rng } from '../../src/trainer/rng.js';
import { decodeCheckpoint } from '../../src/trainer/loop/state.js';

/** Past rollouts of the run, as the trainer's `responseOf` finds them: step -> prompt -> response texts. */
const PAST: Record<number, Record<string, string[]>> = {
  3: { 'train-000001': ['<answer>4</answer>', '<answer>5</answer>', '<answer>4</answer>'], 'train-000002': ['<answer>4</answer>'] },
  7: { 'train-000001': ['<answer>5</answer>'] },
};
const responseOf = (step: number, promptId: string, rollout: number): string | undefined => PAST[step]?.[promptId]?.[rollout];

// The counting policy: the legacy checkpoint below (no policy kind in state.json) is one of its runs'.
const config = parseTrainConfig({ policy: 'counting' });

/** A snapshot as a checkpoint's state.json stores it (JSON drops the fields that hold `undefined`). */
const stored = (snapshot: ControlStateSnapshot): unknown => JSON.parse(JSON.stringify(snapshot));

function fresh(): ControlState {
  return new ControlState(config);
}

/** Applies a control that must apply (fails the test with the trainer's message otherwise). */
function apply(state: ControlState, control: Control): void {
  assert.equal(state.apply(control, responseOf), undefined, `${control.controlId} should apply`);
}

const setConfig = (controlId: string, changes: Record<string, unknown>): Control => ({ type: 'control/setConfig', controlId, changes });
const weight = (controlId: string, promptId: string, value: number): Control => ({ type: 'control/setGroupWeight', controlId, promptId, weight: value });
const relabel = (controlId: string, step: number, promptId: string, rollout: number, reward: number): Control =>
  ({ type: 'control/relabel', controlId, step, promptId, rollout, reward });
const exclude = (controlId: string, promptId: string): Control => ({ type: 'control/excludePrompt', controlId, promptId });
const undo = (controlId: string, targetControlId: string): Control => ({ type: 'control/undo', controlId, targetControlId });

/** Every decision the trainer takes from the control state, for a fixed set of questions. */
function decisions(state: ControlState) {
  const prompts = ['train-000001', 'train-000002', 'train-000003'];
  const responses = ['<answer>4</answer>', '<answer>5</answer>', ''];
  return {
    live: state.live,
    options: { durian: state.estimatorOptions('durian'), grpo: state.estimatorOptions('grpo'), rloo: state.estimatorOptions('rloo') },
    weights: prompts.map((p) => state.groupWeight(p)),
    excluded: prompts.map((p) => state.isExcluded(p)),
    relabels: prompts.map((p) => responses.map((r) => state.relabel(p, r))),
  };
}

describe('trainer control state', () => {
  it('starts from the config: its live settings, weight 1 everywhere, no relabel, nothing excluded', () => {
    const state = fresh();
    assert.deepEqual(state.live, liveConfigFrom(config));
    assert.equal(state.live.estimator, 'durian');
    assert.deepEqual(state.live.durianWeights, [0.1, 0.2, 0.7]);
    assert.equal(state.groupWeight('train-000001'), 1);
    assert.equal(state.isExcluded('train-000001'), false);
    assert.equal(state.relabel('train-000001', '<answer>4</answer>'), undefined);
    assert.deepEqual(state.estimatorOptions('grpo'), { eps: state.live.eps });
    assert.deepEqual(state.snapshot(), { live: liveConfigFrom(config), groupWeights: {}, relabels: [], excluded: [], undo: {} });
  });

  it('keeps the config\'s band (DAPO) in every estimator\'s options', () => {
    const dapo = new ControlState(parseTrainConfig({ algorithm: 'dapo' }));
    assert.deepEqual(dapo.estimatorOptions('rloo'), { band: [0.01, 0.99] });
    assert.deepEqual(dapo.estimatorOptions('durian').band, [0.01, 0.99]);
  });

  describe('setConfig', () => {
    it('changes only the named settings, and its undo restores what it replaced', () => {
      const state = fresh();
      const before = state.live;
      apply(state, setConfig('c1', { lr: 0.002, durianWeights: [1, 0, 0] }));
      assert.equal(state.live.lr, 0.002);
      assert.deepEqual(state.live.durianWeights, [1, 0, 0]);
      assert.deepEqual(state.estimatorOptions().weights, [1, 0, 0], 'the active estimator sees the new weights');
      assert.equal(state.live.klBeta, before.klBeta);
      apply(state, undo('u1', 'c1'));
      assert.deepEqual(state.live, before);
    });

    it('undo restores the value the control replaced, even after a later change to the same setting', () => {
      // Pinned behaviour (the Rollout Groups panel's configTimeline replays the log the same way).
      const state = fresh();
      const lr0 = state.live.lr;
      apply(state, setConfig('c1', { lr: 0.002 }));
      apply(state, setConfig('c2', { lr: 0.003 }));
      apply(state, undo('u2', 'c2'));
      assert.equal(state.live.lr, 0.002);
      apply(state, undo('u1', 'c1'));
      assert.equal(state.live.lr, lr0);
    });
  });

  describe('undo', () => {
    it('of an unknown id is refused with the id named, and changes nothing', () => {
      const state = fresh();
      apply(state, weight('w1', 'train-000001', 2));
      const before = state.snapshot();
      const problem = state.apply(undo('u1', 'never-sent'), responseOf);
      assert.equal(problem, 'undo: no applied control "never-sent" to undo (already undone, or never applied)');
      assert.deepEqual(state.snapshot(), before);
    });

    it('twice is refused the second time, and the first undo holds', () => {
      const state = fresh();
      apply(state, weight('w1', 'train-000001', 3));
      apply(state, undo('u1', 'w1'));
      assert.equal(state.groupWeight('train-000001'), 1);
      const problem = state.apply(undo('u2', 'w1'), responseOf);
      assert.match(problem ?? '', /^undo: no applied control "w1" to undo/);
      assert.equal(state.groupWeight('train-000001'), 1);
      assert.deepEqual(state.snapshot().undo, {});
    });

    it('cannot undo an undo', () => {
      const state = fresh();
      apply(state, exclude('x1', 'train-000001'));
      apply(state, undo('u1', 'x1'));
      assert.match(state.apply(undo('u2', 'u1'), responseOf) ?? '', /no applied control "u1"/);
      assert.equal(state.isExcluded('train-000001'), false);
    });
  });

  describe('setGroupWeight', () => {
    it('weights one prompt only; undo brings back weight 1, and a nested undo the weight before', () => {
      const state = fresh();
      apply(state, weight('w1', 'train-000001', 2));
      assert.equal(state.groupWeight('train-000001'), 2);
      assert.equal(state.groupWeight('train-000002'), 1);
      apply(state, weight('w2', 'train-000001', 0.5));
      assert.equal(state.groupWeight('train-000001'), 0.5);
      apply(state, undo('u2', 'w2'));
      assert.equal(state.groupWeight('train-000001'), 2);
      apply(state, undo('u1', 'w1'));
      assert.equal(state.groupWeight('train-000001'), 1);
      assert.deepEqual(state.snapshot().groupWeights, {}, 'no weight is left behind');
    });

    it('weight 0 leaves the prompt out of the update but not out of sampling (unlike exclude)', () => {
      const state = fresh();
      apply(state, weight('w0', 'train-000001', 0));
      assert.equal(state.groupWeight('train-000001'), 0);
      assert.equal(state.isExcluded('train-000001'), false);
    });
  });

  describe('excludePrompt', () => {
    it('gives weight 0 whatever weight was set; undo gives the set weight back', () => {
      const state = fresh();
      apply(state, weight('w1', 'train-000002', 2));
      apply(state, exclude('x1', 'train-000002'));
      assert.equal(state.isExcluded('train-000002'), true);
      assert.equal(state.groupWeight('train-000002'), 0);
      assert.equal(state.isExcluded('train-000001'), false);
      apply(state, undo('u1', 'x1'));
      assert.equal(state.isExcluded('train-000002'), false);
      assert.equal(state.groupWeight('train-000002'), 2);
    });

    it('excluded twice: undoing the second keeps it excluded, undoing the first brings it back', () => {
      const state = fresh();
      apply(state, exclude('x1', 'train-000003'));
      apply(state, exclude('x2', 'train-000003'));
      apply(state, undo('u2', 'x2'));
      assert.equal(state.isExcluded('train-000003'), true);
      apply(state, undo('u1', 'x1'));
      assert.equal(state.isExcluded('train-000003'), false);
    });
  });

  describe('relabel (a reward override for this response to this prompt)', () => {
    it('overrides the reward of that exact response to that prompt only', () => {
      const state = fresh();
      apply(state, relabel('r1', 3, 'train-000001', 1, 1));
      assert.equal(state.relabel('train-000001', '<answer>5</answer>'), 1);
      assert.equal(state.relabel('train-000001', '<answer>4</answer>'), undefined, 'another response to the prompt');
      assert.equal(state.relabel('train-000001', '<answer>5</answer> '), undefined, 'the match is exact');
      assert.equal(state.relabel('train-000002', '<answer>5</answer>'), undefined, 'the same response to another prompt');
      assert.deepEqual(state.snapshot().relabels, [{ promptId: 'train-000001', response: '<answer>5</answer>', reward: 1, controlId: 'r1' }]);
    });

    it('of the same response seen at another step or rollout replaces the rule; undo restores the old reward', () => {
      const state = fresh();
      apply(state, relabel('r1', 3, 'train-000001', 1, 1));
      apply(state, relabel('r2', 7, 'train-000001', 0, 0.25));
      assert.equal(state.relabel('train-000001', '<answer>5</answer>'), 0.25);
      assert.equal(state.snapshot().relabels.length, 1, 'one rule per prompt and response');
      apply(state, undo('u2', 'r2'));
      assert.equal(state.relabel('train-000001', '<answer>5</answer>'), 1);
      assert.equal(state.snapshot().relabels[0].controlId, 'r1');
      apply(state, undo('u1', 'r1'));
      assert.equal(state.relabel('train-000001', '<answer>5</answer>'), undefined);
    });

    it('of a rollout the run does not have is refused, naming it, and is not undoable', () => {
      const state = fresh();
      const before = state.snapshot();
      assert.equal(
        state.apply(relabel('r1', 3, 'train-000001', 5, 1), responseOf),
        'relabel: no rollout 5 of prompt "train-000001" at step 3 in this run',
      );
      assert.equal(state.apply(relabel('r2', 4, 'train-000001', 0, 1), responseOf), 'relabel: no rollout 0 of prompt "train-000001" at step 4 in this run');
      assert.deepEqual(state.snapshot(), before);
      assert.match(state.apply(undo('u1', 'r1'), responseOf) ?? '', /no applied control "r1"/);
    });

    it('asks for the rollout it names', () => {
      const asked: [number, string, number][] = [];
      fresh().apply(relabel('r1', 3, 'train-000002', 0, 1), (step, promptId, rollout) => {
        asked.push([step, promptId, rollout]);
        return 'x';
      });
      assert.deepEqual(asked, [[3, 'train-000002', 0]]);
    });
  });

  it('refuses the controls the loop handles itself', () => {
    for (const type of ['control/pause', 'control/resume', 'control/stop'] as const) {
      assert.equal(fresh().apply({ type, controlId: 'p1' }, responseOf), `${type} is not applied at a step boundary`);
    }
  });

  describe('snapshot and restore (checkpoints)', () => {
    /** A state with every kind of control applied, one undone. */
    function steered(): ControlState {
      const state = fresh();
      apply(state, setConfig('c1', { estimator: 'grpo', eps: 0.01 }));
      apply(state, weight('w1', 'train-000001', 2));
      apply(state, weight('w2', 'train-000002', 0));
      apply(state, relabel('r1', 3, 'train-000001', 0, 0));
      apply(state, relabel('r2', 3, 'train-000001', 1, 1));
      apply(state, relabel('r3', 3, 'train-000001', 2, 0.5));
      apply(state, exclude('x1', 'train-000003'));
      apply(state, undo('u1', 'w2'));
      return state;
    }

    it('restores (through JSON, as state.json stores it) an equal state that takes the same decisions', () => {
      const original = steered();
      const resumed = fresh();
      resumed.restore(stored(original.snapshot()));
      assert.deepEqual(stored(resumed.snapshot()), stored(original.snapshot()));
      assert.deepEqual(decisions(resumed), decisions(original));
      // The decisions themselves, so that two equally wrong states cannot pass.
      assert.equal(resumed.live.estimator, 'grpo');
      assert.deepEqual(decisions(resumed).weights, [2, 1, 0]);
      assert.equal(resumed.relabel('train-000001', '<answer>4</answer>'), 0.5);
      assert.equal(resumed.relabel('train-000001', '<answer>5</answer>'), 1);
    });

    it('keeps undo working across a restore, with the values each control replaced', () => {
      const resumed = fresh();
      resumed.restore(stored(steered().snapshot()));
      apply(resumed, undo('u3', 'r3'));
      assert.equal(resumed.relabel('train-000001', '<answer>4</answer>'), 0, 'r1\'s reward is back');
      apply(resumed, undo('u4', 'c1'));
      assert.deepEqual(resumed.live, liveConfigFrom(config));
      apply(resumed, undo('u5', 'w1'));
      apply(resumed, undo('u6', 'x1'));
      assert.deepEqual(decisions(resumed).weights, [1, 1, 1]);
      assert.match(resumed.apply(undo('u7', 'w2'), responseOf) ?? '', /no applied control "w2"/, 'an undone control stays undone');
    });

    it('replaces everything the state held before', () => {
      const state = steered();
      state.restore(fresh().snapshot());
      assert.deepEqual(state.snapshot(), fresh().snapshot());
      assert.deepEqual(decisions(state), decisions(fresh()));
    });

    it('a snapshot is a copy: later controls do not change it', () => {
      const state = steered();
      const snapshot = state.snapshot();
      const copy = stored(snapshot);
      apply(state, setConfig('c2', { durianWeights: [0, 0, 1] }));
      apply(state, weight('w3', 'train-000001', 5));
      apply(state, undo('u2', 'r2'));
      apply(state, undo('u3', 'x1'));
      assert.deepEqual(stored(snapshot), copy);
    });

    it('refuses a malformed snapshot with the first bad field named, changing nothing', () => {
      const good = steered().snapshot();
      const bad = (change: (s: Record<string, unknown>) => void): unknown => {
        const copy = stored(good) as Record<string, unknown>;
        change(copy);
        return copy;
      };
      const cases: [unknown, RegExp][] = [
        [undefined, /^controls: must be an object, got undefined$/],
        [[], /^controls: must be an object, got an array of 0$/],
        [bad((s) => delete s.live), /^controls\.live: is required$/],
        [bad((s) => ((s.live as Record<string, unknown>).lr = -1)), /^controls\.live\.lr: must be a finite number > 0 and <= 1, got -1$/],
        [bad((s) => ((s.live as Record<string, unknown>).estimator = 'ppo')), /^controls\.live\.estimator: must be one of "grpo", .*, got "ppo"$/],
        [bad((s) => (s.groupWeights = { 'train-000001': -1 })), /^controls\.groupWeights\["train-000001"\]: must be a finite number >= 0 and <= 100, got -1$/],
        [bad((s) => ((s.relabels as Record<string, unknown>[])[0].reward = 'one')), /^controls\.relabels\[0\]\.reward: must be a finite number .*, got "one"$/],
        [bad((s) => ((s.relabels as Record<string, unknown>[])[1].extra = 1)), /^controls\.relabels\[1\]\.extra: is not a field here/],
        [bad((s) => (s.excluded = ['train-000003', ''])), /^controls\.excluded\[1\]: must not be empty$/],
        [bad((s) => (s.undo = { x9: { kind: 'rename', promptId: 'p' } })), /^controls\.undo\.x9\.kind: must be one of "setConfig", "setGroupWeight", "relabel", "excludePrompt", got "rename"$/],
        [bad((s) => (s.undo = { x9: 'excludePrompt' })), /^controls\.undo\.x9: must be an object$/],
        [bad((s) => (s.undo = { x9: { kind: 'excludePrompt', promptId: 'p' } })), /^controls\.undo\.x9\.wasExcluded: is required$/],
        [bad((s) => (s.undo = { c9: { kind: 'setConfig', previous: { lr: 0 } } })), /^controls\.undo\.c9\.previous\.lr: must be a finite number > 0/],
        [bad((s) => (s.undo = { c9: { kind: 'setConfig', previous: {} } })), /^controls\.undo\.c9\.previous: must change at least one setting$/],
      ];
      for (const [snapshot, message] of cases) {
        const state = fresh();
        apply(state, weight('w1', 'train-000001', 4));
        const before = state.snapshot();
        assert.throws(() => state.restore(snapshot), (error: unknown) => error instanceof FieldError && message.test(error.message), String(message));
        assert.deepEqual(state.snapshot(), before, `${String(message)} left the state as it was`);
      }
    });

    it('a checkpoint whose controls do not restore is refused by the resume, naming the field', () => {
      const weights = packArrays({ w: new Float32Array([0.5, -0.5]) });
      const adam = packArrays({});
      const rng = new Rng(1).getState();
      const controls = { ...steered().snapshot(), excluded: [7] };
      const state = { step: 4, epoch: 0, cursor: 8, adamStep: 4, elapsedMs: 10, weightsIndex: weights.index, adamIndex: adam.index, batchRng: rng, sampleRng: rng, controls, validationBefore: null, validationBest: null };
      const checkpoint = { step: 4, path: '/nowhere', relativePath: 'checkpoints/step-000004', createdAt: '', bytes: { 'weights.bin': weights.bytes, 'adam.bin': adam.bytes }, json: { 'state.json': state } };
      assert.throws(() => decodeCheckpoint(checkpoint, config), { message: 'state.json: controls do not restore (controls.excluded[0]: must be a string, got 7)' });
      const resumed = decodeCheckpoint({ ...checkpoint, json: { 'state.json': { ...state, controls: steered().snapshot() } } }, config);
      assert.equal(resumed.step, 4);
    });
  });
});
