import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  QUESTION_MAX_TOKENS, QUESTION_UNKNOWN_ID, QUESTION_VOCAB, generateTaskSet, padTokens, questionWords, tokenizeQuestion,
  type Level, type Task,
} from '../../../src/trainer/tasks/index.js';
import { interpretQuestion } from './helpers.js';

const LEVELS: Level[] = [0, 1, 2, 3];

function tasksAt(reasoningLevel: Level, count = 150): Task[] {
  return generateTaskSet({ seed: 2024, split: 'train', count, reasoningLevels: [reasoningLevel] });
}

describe('questions', () => {
  it('every answer, recomputed from the question text and the objects, matches the task', () => {
    for (const level of LEVELS) {
      for (const task of tasksAt(level)) {
        const interpreted = interpretQuestion(task.question, task.objects);
        assert.equal(interpreted.answer, task.answer, `${task.id}: "${task.question}"`);
      }
    }
  });

  it('answers are integers 0..15 or yes/no, and no arithmetic step goes negative', () => {
    for (const level of LEVELS) {
      for (const task of tasksAt(level)) {
        assert.match(task.answer, /^(yes|no|[0-9]|1[0-5])$/);
        for (const partial of interpretQuestion(task.question, task.objects).partials) {
          assert.ok(partial >= 0 && partial <= 15, `${task.id}: step ${partial} in "${task.question}"`);
        }
      }
    }
  });

  it('the reasoning level sets the number of steps', () => {
    for (const task of tasksAt(0)) {
      const interpreted = interpretQuestion(task.question, task.objects);
      assert.equal(interpreted.kind, 'count');
      // One attribute: a colour or a shape, never both.
      assert.match(task.question, /^how many ((red|green|blue|yellow|purple) objects|circles|squares|triangles) \?$/);
    }
    const levelOne = tasksAt(1);
    for (const task of levelOne) {
      const kind = interpretQuestion(task.question, task.objects).kind;
      if (kind === 'count') assert.match(task.question, /^how many (red|green|blue|yellow|purple) (circles|squares|triangles) \?$/);
      else assert.equal(kind, 'compare');
    }
    assert.ok(levelOne.some((t) => t.answer === 'yes') && levelOne.some((t) => t.answer === 'no'));
    assert.ok(levelOne.some((t) => /^\d+$/.test(t.answer)));
    for (const [level, terms] of [[2, 2], [3, 3]] as const) {
      for (const task of tasksAt(level)) {
        const interpreted = interpretQuestion(task.question, task.objects);
        assert.equal(interpreted.kind, 'arithmetic');
        assert.equal(interpreted.terms, terms, task.question);
      }
    }
  });

  it('comparison answers are balanced between yes and no', () => {
    const compares = tasksAt(1, 400).filter((t) => t.program.kind === 'compare');
    const yes = compares.filter((t) => t.answer === 'yes').length;
    assert.ok(compares.length > 100);
    assert.ok(yes / compares.length > 0.35 && yes / compares.length < 0.65, `${yes} of ${compares.length}`);
  });

  it('answers vary (a constant guess cannot do well)', () => {
    for (const level of [0, 2, 3] as const) {
      const answers = tasksAt(level, 200).map((t) => t.answer);
      const counts = new Map<string, number>();
      for (const answer of answers) counts.set(answer, (counts.get(answer) ?? 0) + 1);
      const mostCommon = Math.max(...counts.values());
      assert.ok(counts.size >= 5, `level ${level}: only ${counts.size} distinct answers`);
      assert.ok(mostCommon / answers.length < 0.45, `level ${level}: one answer is ${mostCommon} of ${answers.length}`);
    }
  });
});

describe('question vocabulary', () => {
  it('tokenizes every generated question without unknown words and within 12 tokens', () => {
    for (const task of generateTaskSet({ seed: 5, split: 'validation', count: 300 })) {
      assert.ok(task.questionTokens.length <= QUESTION_MAX_TOKENS);
      assert.ok(!task.questionTokens.includes(QUESTION_UNKNOWN_ID), task.question);
      assert.ok(!task.questionTokens.includes(0), 'no padding inside a question');
      assert.deepEqual(task.questionTokens.map((id) => QUESTION_VOCAB[id]), questionWords(task.question));
    }
  });

  it('maps unknown words to <unk>, splits "?" off and rejects over-long questions', () => {
    assert.deepEqual(tokenizeQuestion('How many ZEBRAS?').map((id) => QUESTION_VOCAB[id]), ['how', 'many', '<unk>', '?']);
    assert.throws(() => tokenizeQuestion('how '.repeat(13)), RangeError);
    assert.equal(new Set(QUESTION_VOCAB).size, QUESTION_VOCAB.length);
    assert.equal(QUESTION_VOCAB[0], '<pad>');
  });

  it('pads to a fixed length with 0', () => {
    assert.deepEqual(padTokens([5, 6], 4), [5, 6, 0, 0]);
    assert.throws(() => padTokens([1, 2, 3], 2), RangeError);
  });
});
