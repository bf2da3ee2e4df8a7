// Training rewards for a dataset's short responses (durian train --dataset --reward KIND): how each reward
// reads an answer (or says why it cannot), the gold response it teaches, and the reward of sampled responses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AnswerKey, answerKey, goldResponse, responseReward } from '../../../src/trainer/rewards/index.js';

function key(answer: string, reward: Parameters<typeof answerKey>[1]): AnswerKey {
  const read = answerKey(answer, reward);
  assert.ok('key' in read, `${reward} should read ${JSON.stringify(answer)}`);
  return read.key;
}

describe('answerKey', () => {
  it('auto reads option letters as choices, numbers as numbers and the rest as text', () => {
    assert.deepEqual(key('(B)', 'auto'), { kind: 'choice', truth: 'B' });
    assert.deepEqual(key(' 3\\sqrt{3} ', 'auto'), { kind: 'numeric', truth: '3\\sqrt{3}' });
    assert.deepEqual(key('isosceles', 'auto'), { kind: 'exact', truth: 'isosceles' });
  });

  it('says why a reward cannot read an answer', () => {
    assert.match((answerKey('isosceles', 'numeric') as { problem: string }).problem, /"isosceles" is not a number \(numeric reward\)/);
    assert.match((answerKey('12', 'choice') as { problem: string }).problem, /not an option letter A-J/);
    assert.match((answerKey('$$', 'exact') as { problem: string }).problem, /empty once normalised/);
  });

  it('teaches boxed answers in \\boxed{} and unwraps an answer that is already boxed', () => {
    assert.equal(goldResponse(key('12.5', 'boxed')), '\\boxed{12.5}');
    assert.equal(goldResponse(key('\\boxed{7}', 'boxed')), '\\boxed{7}');
    assert.equal(goldResponse(key('7', 'numeric')), '7');
  });
});

describe('responseReward', () => {
  it('gives 0.1 * format + 0.9 * accuracy, and nothing to a response that never ended', () => {
    const numeric = key('0.5', 'numeric');
    assert.deepEqual(responseReward('1/2', numeric, true), { reward: 1, accuracy: 1, format: 1 });
    assert.deepEqual(responseReward('0.75', numeric, true), { reward: 0.1, accuracy: 0, format: 1 });
    assert.deepEqual(responseReward('half', numeric, true), { reward: 0, accuracy: 0, format: 0 });
    assert.deepEqual(responseReward('0.5', numeric, false), { reward: 0, accuracy: 0, format: 0 });
  });

  it('compares exact answers as normalised text, and reads a final answer out of free text', () => {
    const exact = key('Isosceles', 'exact');
    assert.equal(responseReward('isosceles.', exact, true).accuracy, 1);
    assert.equal(responseReward('The answer is isosceles', exact, true).accuracy, 1);
    assert.equal(responseReward('scalene', exact, true).accuracy, 0);
    assert.equal(responseReward('', exact, true).format, 0);
  });

  it('boxed: only a boxed answer counts, compared as a number', () => {
    const boxed = key('6', 'boxed');
    assert.deepEqual(responseReward('\\boxed{6.0}', boxed, true), { reward: 1, accuracy: 1, format: 1 });
    assert.deepEqual(responseReward('6', boxed, true), { reward: 0, accuracy: 0, format: 0 });
    assert.deepEqual(responseReward('\\boxed{5}', boxed, true), { reward: 0.1, accuracy: 0, format: 1 });
  });

  it('choice: the option named, in the forms models write it', () => {
    const choice = key('C', 'choice');
    assert.equal(responseReward('C', choice, true).accuracy, 1);
    assert.equal(responseReward('(C)', choice, true).accuracy, 1);
    assert.equal(responseReward('the answer is c', choice, true).accuracy, 1);
    assert.deepEqual(responseReward('B', choice, true), { reward: 0.1, accuracy: 0, format: 1 });
    assert.equal(responseReward('12', choice, true).format, 0);
  });
});
