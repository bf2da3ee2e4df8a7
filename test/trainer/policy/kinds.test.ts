/**
 * The policy kinds: the settings table's POLICY_KINDS (the `policy` setting, `durian train --policy`, the VS
 * Code setting) names exactly the kinds the trainer registers, each factory makes a policy of its kind
 * that describes itself, and an unknown kind is one clear error naming the kinds there are.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DurianInputError } from '../../../src/core/index.js';
import { POLICY_KINDS } from '../../../src/protocol/index.js';
import { selectBackend } from '../../../src/trainer/backend/index.js';
import { parseTrainInvocation } from '../../../src/trainer/args.js';
import { policyFactory, policyKinds } from '../../../src/trainer/policy/kinds.js';
import { registerPolicy } from '../../../src/trainer/policy/registry.js';

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

const shape = { questionVocabSize: 21, responseVocabSize: 26, eosToken: 2, maxQuestionLength: 12, maxResponseLength: 8, patchCount: 64, patchDim: 32 };

describe('policy kinds', () => {
  it('the settings table lists exactly the registered kinds', () => {
    assert.deepEqual([...policyKinds()].sort(), [...POLICY_KINDS].sort());
  });

  it('each kind makes a policy that says what it is, with weights that round-trip', async () => {
    for (const kind of policyKinds()) {
      const policy = await policyFactory(kind).create(shape, { seed: 3 });
      const description = policy.describe();
      assert.equal(policy.kind, kind);
      assert.equal(description.kind, kind);
      const weights = policy.getWeights();
      assert.equal(description.parameters, Object.values(weights).reduce((sum, values) => sum + values.length, 0), `${kind}: parameters counts the weights`);
      const again = await policyFactory(kind).create(shape, { seed: 3, weights, config: description.config });
      assert.deepEqual(again.getWeights(), weights, `${kind}: created again from describe().config and the weights`);
      await Promise.all([policy.dispose(), again.dispose()]);
    }
  });

  it('an unknown kind is one error naming the kinds; a kind registered twice by two factories is refused', () => {
    assert.throws(() => policyFactory('transformer-xl'), (error: unknown) => error instanceof DurianInputError && /unknown policy "transformer-xl": use one of counting, general/.test(error.message));
    assert.throws(() => parseTrainInvocation(['--policy', 'transformer-xl']), /config\.policy: must be one of "counting", "general"/);
    assert.equal(parseTrainInvocation(['--policy', 'counting']).config.policy, 'counting');
    assert.equal(parseTrainInvocation([]).config.policy, 'general', 'the default policy');
    registerPolicy(policyFactory('counting'));
    assert.throws(() => registerPolicy({ ...policyFactory('counting') }), /two policy factories are registered as kind 'counting'/);
  });
});
