import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  RESPONSE_BOS_ID, RESPONSE_EOS_ID, RESPONSE_MAX_TOKENS, RESPONSE_PAD_ID, RESPONSE_VOCAB,
  decodeResponse, encodeResponseText, evaluateProgram, generateTaskSet, numberTokenId, parseResponse,
  scoreResponse, targetResponse, tokenNumber, type QuestionProgram, type SceneObject,
} from '../../../src/trainer/tasks/index.js';

function score(text: string, answer: string): [number, number, number] {
  const { format, accuracy, reward } = scoreResponse(encodeResponseText(text), { answer });
  return [format, accuracy, reward];
}

function object(colour: SceneObject['colour'], shape: SceneObject['shape'], cell: number): SceneObject {
  const row = Math.floor(cell / 8);
  const col = cell % 8;
  return { colour, shape, row, col, centreX: col * 12 + 6, centreY: row * 12 + 6, halfSize: 4 };
}

/** 3 red (2 circles, 1 square), 2 blue circles, 1 yellow triangle. */
const OBJECTS: SceneObject[] = [
  object('red', 'circle', 0), object('red', 'circle', 5), object('red', 'square', 9),
  object('blue', 'circle', 20), object('blue', 'circle', 33), object('yellow', 'triangle', 63),
];

function gold(program: QuestionProgram): string {
  return decodeResponse(targetResponse({ program, objects: OBJECTS }));
}

describe('response vocabulary', () => {
  it('has pad, bos, eos, the numbers 0..15, yes, no and the operators, each once', () => {
    assert.equal(RESPONSE_VOCAB.length, 26);
    assert.equal(new Set(RESPONSE_VOCAB).size, RESPONSE_VOCAB.length);
    assert.deepEqual([RESPONSE_PAD_ID, RESPONSE_BOS_ID, RESPONSE_EOS_ID], [0, 1, 2]);
    for (let n = 0; n <= 15; n++) assert.equal(tokenNumber(numberTokenId(n)), n);
    assert.equal(tokenNumber(RESPONSE_EOS_ID), null);
    assert.throws(() => numberTokenId(16), RangeError);
    assert.throws(() => encodeResponseText('3 * 2'), RangeError);
  });
});

describe('targetResponse (the template)', () => {
  it('writes the counts used, the operation and the answer, then <eos>', () => {
    assert.equal(gold({ kind: 'count', target: { colour: 'red' } }), '3 <eos>');
    assert.equal(gold({ kind: 'count', target: { colour: 'red', shape: 'circle' } }), '2 <eos>');
    assert.equal(gold({ kind: 'compare', relation: 'more', left: { colour: 'red' }, right: { colour: 'blue' } }), '3 > 2 yes <eos>');
    assert.equal(gold({ kind: 'compare', relation: 'more', left: { colour: 'blue' }, right: { shape: 'square' } }), '2 > 1 yes <eos>');
    assert.equal(gold({ kind: 'compare', relation: 'fewer', left: { colour: 'red' }, right: { shape: 'circle' } }), '3 < 4 yes <eos>');
    assert.equal(gold({ kind: 'compare', relation: 'more', left: { shape: 'square' }, right: { shape: 'triangle' } }), '1 = 1 no <eos>');
    assert.equal(gold({ kind: 'arithmetic', terms: [{ colour: 'red' }, { colour: 'blue' }], operators: ['+'] }), '3 + 2 = 5 <eos>');
    assert.equal(gold({ kind: 'arithmetic', terms: [{ shape: 'circle' }, { colour: 'red' }], operators: ['-'] }), '4 - 3 = 1 <eos>');
    assert.equal(
      gold({ kind: 'arithmetic', terms: [{ colour: 'red' }, { colour: 'blue' }, { shape: 'circle' }], operators: ['+', '-'] }),
      '3 + 2 - 4 = 1 <eos>',
    );
  });

  it('earns the full reward on every generated task and fits in 8 tokens', () => {
    for (const task of generateTaskSet({ seed: 77, split: 'train', count: 400 })) {
      const tokens = targetResponse(task);
      assert.ok(tokens.length <= RESPONSE_MAX_TOKENS, decodeResponse(tokens));
      assert.equal(tokens[tokens.length - 1], RESPONSE_EOS_ID);
      assert.deepEqual(scoreResponse(tokens, task), { format: 1, accuracy: 1, reward: 1 });
      const parsed = parseResponse(tokens);
      // A count's only count is its answer; other forms state their counts before the answer.
      const counts = evaluateProgram(task.program, task.objects).termCounts;
      assert.deepEqual(parsed.statedCounts, task.program.kind === 'count' ? [] : counts);
      assert.equal(parsed.finalAnswer, task.answer);
    }
  });
});

describe('scoreResponse (0.1 * format + 0.9 * accuracy)', () => {
  it('scores hand-written answers to a count question (truth 4)', () => {
    assert.deepEqual(score('4 <eos>', '4'), [1, 1, 1]);
    assert.deepEqual(score('2 + 2 = 4 <eos>', '4'), [1, 1, 1]);
    assert.deepEqual(score('3 + 2 - 1 = 4 <eos>', '4'), [1, 1, 1]); // exactly 8 tokens
    assert.deepEqual(score('5 <eos>', '4'), [1, 0, 0.1]); // well-formed, wrong
    assert.deepEqual(score('2 + 2 = 5 <eos>', '4'), [1, 0, 0.1]);
    assert.deepEqual(score('yes <eos>', '4'), [0, 0, 0]); // wrong kind of answer
    assert.deepEqual(score('2 > 1 yes <eos>', '4'), [0, 0, 0]);
  });

  it('counts the final answer even when the steps are wrong (documented)', () => {
    assert.deepEqual(score('1 + 1 = 4 <eos>', '4'), [1, 1, 1]);
    assert.deepEqual(score('7 < 2 yes <eos>', 'yes'), [1, 1, 1]);
  });

  it('gives no format credit to malformed responses, but still checks the token before <eos>', () => {
    assert.deepEqual(score('+ 4 <eos>', '4'), [0, 1, 0.9]);
    assert.deepEqual(score('4 4 <eos>', '4'), [0, 1, 0.9]);
    assert.deepEqual(score('<bos> 4 <eos>', '4'), [0, 1, 0.9]);
    assert.deepEqual(score('2 + 2 = <eos>', '4'), [0, 0, 0]); // no answer before <eos>
    assert.deepEqual(score('2 + = 4 <eos>', '4'), [0, 1, 0.9]);
    assert.deepEqual(score('<eos>', '4'), [0, 0, 0]);
    assert.deepEqual(score('3 > 2 <eos>', 'yes'), [0, 0, 0]);
    assert.deepEqual(score('3 + 2 = yes <eos>', 'yes'), [0, 1, 0.9]);
  });

  it('gives nothing without <eos> within 8 tokens (missing or too long)', () => {
    assert.deepEqual(score('4', '4'), [0, 0, 0]);
    assert.deepEqual(score('2 + 2 = 4', '4'), [0, 0, 0]);
    assert.deepEqual(score('1 + 1 + 1 + 1 = 4 <eos>', '4'), [0, 0, 0]); // <eos> is the 10th token
    assert.deepEqual(score('4 4 4 4 4 4 4 4 <eos>', '4'), [0, 0, 0]);
    assert.match(parseResponse(encodeResponseText('4 4 4 4 4 4 4 4 <eos>')).problem ?? '', /too long/);
    assert.match(parseResponse(encodeResponseText('4')).problem ?? '', /missing/);
  });

  it('ignores padding and anything after the first <eos>', () => {
    assert.deepEqual(score('4 <eos> <pad> <pad> <pad>', '4'), [1, 1, 1]);
    assert.deepEqual(score('4 <eos> 7 + 1', '4'), [1, 1, 1]);
    assert.deepEqual(scoreResponse(Int32Array.from(encodeResponseText('no <eos>')), { answer: 'no' }).reward, 1);
  });

  it('scores yes/no questions', () => {
    assert.deepEqual(score('yes <eos>', 'yes'), [1, 1, 1]);
    assert.deepEqual(score('3 > 2 yes <eos>', 'yes'), [1, 1, 1]);
    assert.deepEqual(score('3 = 3 no <eos>', 'no'), [1, 1, 1]);
    assert.deepEqual(score('no <eos>', 'yes'), [1, 0, 0.1]);
    assert.deepEqual(score('3 <eos>', 'yes'), [0, 0, 0]);
  });

  it('gives one of four rewards, with binary parts, for any token sequence', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: RESPONSE_VOCAB.length + 3 }), { maxLength: 12 }),
      fc.constantFrom('0', '7', '15', 'yes', 'no'),
      (tokens, answer) => {
        const { format, accuracy, reward } = scoreResponse(tokens, { answer });
        assert.ok(format === 0 || format === 1);
        assert.ok(accuracy === 0 || accuracy === 1);
        assert.equal(reward, 0.1 * format + 0.9 * accuracy);
        assert.ok([0, 0.1, 0.9, 1].includes(reward));
        if (!tokens.slice(0, RESPONSE_MAX_TOKENS).includes(RESPONSE_EOS_ID)) assert.equal(reward, 0);
      },
    ), { numRuns: 2000 });
  });
});
