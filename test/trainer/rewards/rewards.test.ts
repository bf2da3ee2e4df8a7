// Verifiable rewards on responses shaped like a vision-language model's: long chains of thought, several
// boxed values (the last counts), units, negatives, percentages, LaTeX fractions, multiple-choice letters.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  accuracyReward, answersMatch, choiceIn, combinedReward, extractBoxed, extractChoice, extractFinalAnswer, formatReward, lastBoxed, parseNumber,
} from '../../../src/trainer/rewards/index.js';

const GEOMETRY_COT = `<think>
The triangle ABC is a right triangle with legs 6 and 8, so by the Pythagorean theorem the hypotenuse is
\\sqrt{6^2 + 8^2} = \\sqrt{36 + 64} = \\sqrt{100} = 10. Wait, the question asks for the area, not the hypotenuse.
At first I wrote \\boxed{10}, but that is the hypotenuse. The area is \\frac{1}{2} \\cdot 6 \\cdot 8 = 24.
</think>
The area of triangle ABC is $\\boxed{24}$ square units.`;

const CHART_COT = `<think>
Looking at the bar chart, the 2019 bar reaches about 40 and the 2020 bar about 50. The increase is 10,
relative to 40 that is 10 / 40 = 0.25, i.e. 25%.
</think>
So the percentage increase is \\boxed{25\\%}.`;

describe('boxed extraction', () => {
  it('handles nested braces and takes the last box', () => {
    assert.deepEqual(extractBoxed('a \\boxed{\\frac{1}{2}} b \\boxed{x^{2}} c \\fbox{7}'), ['\\frac{1}{2}', 'x^{2}', '7']);
    assert.equal(lastBoxed(GEOMETRY_COT), '24');
    assert.equal(lastBoxed('\\boxed{\\text{(B)} \\; \\{1, 2\\}}'), '\\text{(B)} \\; \\{1, 2\\}');
    assert.equal(lastBoxed('unclosed \\boxed{\\frac{1}{2}'), null);
    assert.equal(lastBoxed('The answer is \\boxed 5.'), '5.');
  });

  it('falls back to <answer> tags and "answer is" phrases, not to stray numbers unless asked', () => {
    assert.deepEqual(extractFinalAnswer('<think>2+2</think><answer> 4 </answer>'), { text: '4', source: 'answer-tag' });
    assert.deepEqual(extractFinalAnswer('<think>The answer is 3? no.</think>\nFinal answer: 12 cm. Done.'), { text: '12 cm', source: 'answer-phrase' });
    assert.deepEqual(extractFinalAnswer('Therefore, the answer is 3.5'), { text: '3.5', source: 'answer-phrase' });
    assert.equal(extractFinalAnswer('I computed 7 and then 9'), null);
    assert.deepEqual(extractFinalAnswer('I computed 7 and then 9', { lastNumberFallback: true }), { text: '9', source: 'last-number' });
  });
});

describe('numbers', () => {
  it('parses LaTeX, fractions, units, percentages, negatives and thousands separators', () => {
    const value = (text: string) => parseNumber(text)?.value;
    assert.equal(value('\\frac{1}{2}'), 0.5);
    assert.equal(value('\\dfrac12'), 0.5);
    assert.equal(value('1/2'), 0.5);
    assert.equal(value('−3'), -3);
    assert.equal(value('-\\frac{3}{4}'), -0.75);
    assert.equal(value('1,000'), 1000);
    assert.equal(value('$1.5 \\times 10^{-3}$'), 0.0015);
    assert.ok(Math.abs(value('2\\sqrt{3}')! - 3.4641016) < 1e-6);
    assert.ok(Math.abs(value('3\\pi')! - 9.4247780) < 1e-6);
    assert.equal(value('\\sqrt[3]{27}'), 3);
    assert.equal(value('x = 12'), 12);
    assert.deepEqual(parseNumber('5 cm'), { value: 5, percent: false, unit: 'cm' });
    assert.deepEqual(parseNumber('12 \\text{ cm}^2'), { value: 12, percent: false, unit: 'cm^2' });
    assert.deepEqual(parseNumber('30^\\circ'), { value: 30, percent: false, unit: '' });
    assert.deepEqual(parseNumber('25\\%'), { value: 25, percent: true, unit: '' });
    for (const text of ['(B)', 'yes', '1, 2', 'x', '', '3 + ']) assert.equal(parseNumber(text), null, text);
  });

  it('matches within tolerance, with units and percent signs handled', () => {
    const match = (given: string, truth: string) => answersMatch(given, truth).accuracy;
    assert.equal(match('0.5', '\\frac{1}{2}'), 1);
    assert.equal(match('1/2', '0.5'), 1);
    assert.equal(match('0.33', '\\frac{1}{3}'), 0, 'default relative tolerance is 1e-4');
    assert.equal(answersMatch('0.3333', '\\frac{1}{3}', { relative: 1e-3 }).accuracy, 1);
    assert.equal(match('5 cm', '5'), 1, 'a unit on one side only is ignored');
    assert.equal(match('5 cm', '5 m'), 0, 'different units do not match');
    assert.equal(match('12 square units', '12 units^2'), 1);
    assert.equal(match('25%', '0.25'), 1);
    assert.equal(match('25', '25%'), 1);
    assert.equal(match('0.25%', '0.25'), 1, 'lenient like mathruler: the number as written also counts');
    assert.equal(match('0.5%', '0.25'), 0);
    assert.equal(match('-3', '3'), 0);
    assert.equal(match('60^\\circ', '60'), 1);
    assert.equal(match('4\\sqrt{3}', '4 \\sqrt { 3 }'), 1);
    assert.equal(match('1e-9', '0'), 1, 'absolute tolerance 1e-8 near zero');
  });
});

describe('accuracyReward', () => {
  it('grades long chains of thought by their last box', () => {
    assert.deepEqual(accuracyReward(GEOMETRY_COT, '24'), { accuracy: 1, extracted: '24', source: 'boxed', kind: 'numeric' });
    assert.equal(accuracyReward(GEOMETRY_COT, '10').accuracy, 0, 'an earlier, abandoned box does not count');
    assert.equal(accuracyReward(CHART_COT, '25').accuracy, 1);
    assert.equal(accuracyReward(CHART_COT, '0.25').accuracy, 1);
    assert.equal(accuracyReward(CHART_COT, '20%').accuracy, 0);
  });

  it('handles negative numbers, units and LaTeX answers in realistic endings', () => {
    assert.equal(accuracyReward('<think>slope = (1 - 7)/(3 - 1) = -3</think>\nThe slope is \\boxed{-3}.', '-3').accuracy, 1);
    assert.equal(accuracyReward('<think>slope = -3</think> \\boxed{3}', '-3').accuracy, 0);
    assert.equal(accuracyReward('<think>r = 5</think> The radius is \\boxed{5 \\text{ cm}}', '5').accuracy, 1);
    assert.equal(accuracyReward('<think>...</think> \\boxed{\\frac{\\sqrt{3}}{2}}', '0.8660254').accuracy, 1);
    assert.equal(accuracyReward('<think>...</think> \\boxed{x = \\dfrac{7}{2}}', '3.5').accuracy, 1);
    assert.deepEqual(accuracyReward('I think it is about 24.', '24'), { accuracy: 0, extracted: null, source: null, kind: 'none' });
  });

  it('compares text answers after normalisation', () => {
    assert.equal(accuracyReward('<think>It is bigger.</think> \\boxed{\\text{Yes}}', 'yes').accuracy, 1);
    assert.equal(accuracyReward('Answer: Parallelogram.', 'parallelogram').accuracy, 1);
    assert.equal(accuracyReward('Answer: rhombus', 'parallelogram').accuracy, 0);
  });

  it('reads multiple-choice letters in the forms models write them', () => {
    const cases: [string, string, 0 | 1][] = [
      ['<think>Options A and C are too small.</think> \\boxed{B}', 'B', 1],
      ['<think>...</think> \\boxed{(B)}', 'B', 1],
      ['<think>...</think> \\boxed{B. 12 cm}', 'B', 1],
      ['<think>...</think> \\boxed{\\text{C}}', 'B', 0],
      ['After comparing the bars, the answer is (B).', 'B', 1],
      ['After comparing the bars, the answer is b', 'B', 1],
      ['Answer: B', '(B)', 1],
      ['**Answer:** D', 'D', 1],
      ['The correct option is C because the angles add up to 180.', 'C', 1],
      ['(B)', 'B', 1],
      ['B. 12 cm', 'B', 1],
      ['<think>If it were (A) the sum would be 190, so not A.</think>\nAnswer: D', 'A', 0],
      ['the answer is a right triangle', 'A', 0],
    ];
    for (const [response, truth, expected] of cases) {
      assert.equal(accuracyReward(response, truth).accuracy, expected, `${JSON.stringify(response)} vs ${truth}`);
    }
    assert.equal(extractChoice('the answer is a right triangle'), null);
    assert.equal(choiceIn('a triangle'), null);
    assert.equal(accuracyReward('\\boxed{B}', 'B', { choices: false }).kind, 'text');
  });
});

describe('formatReward and combinedReward', () => {
  it('checks the <think> ... </think> then \\boxed{} template (EasyR1 math)', () => {
    assert.equal(formatReward(GEOMETRY_COT), 1);
    assert.equal(formatReward('  <think>short</think>\n\\boxed{3}\n'), 1);
    assert.equal(formatReward('\\boxed{3}'), 0, 'no reasoning block');
    assert.equal(formatReward('<think>x</think> the answer is 3'), 0, 'no box after the reasoning');
    assert.equal(formatReward('<think>\\boxed{3}</think> so 3'), 0, 'a box inside the reasoning does not count');
    assert.equal(formatReward('<think>a</think><think>b</think>\\boxed{3}'), 0, 'two reasoning blocks');
    assert.equal(formatReward('<think> </think>\\boxed{3}'), 0, 'empty reasoning');
    assert.equal(formatReward('<think>x</think>\\boxed{}'), 0, 'empty box');
  });

  it('checks the other templates', () => {
    assert.equal(formatReward('<think>x</think>\n<answer>3</answer>', 'think-answer'), 1);
    assert.equal(formatReward('<think>x</think>\n<answer>3</answer> trailing', 'think-answer'), 0);
    assert.equal(formatReward('<think>x</think>\nAnswer: B', 'think-answer-line'), 1);
    assert.equal(formatReward('Reasoning...\n**Final Answer:** 12', 'answer-line'), 1);
    assert.equal(formatReward('The answer: is unclear', 'answer-line'), 0);
    assert.equal(formatReward('so \\boxed{7}', 'boxed'), 1);
    assert.equal(formatReward('ANSWER=7', /ANSWER=\d+/), 1);
    assert.equal(formatReward('x ANSWER=7', /ANSWER=\d+/), 0);
  });

  it('is 0.1 * format + 0.9 * accuracy', () => {
    assert.equal(combinedReward(GEOMETRY_COT, '24').reward, 1);
    assert.ok(Math.abs(combinedReward(GEOMETRY_COT, '10').reward - 0.1) < 1e-12, 'well formed, wrong');
    assert.ok(Math.abs(combinedReward('The area is \\boxed{24}.', '24').reward - 0.9) < 1e-12, 'right, no <think>');
    assert.equal(combinedReward('no idea', '24').reward, 0);
    const custom = combinedReward(GEOMETRY_COT, '24', { formatWeight: 0.5, accuracyWeight: 0.5 });
    assert.equal(custom.reward, 1);
    assert.equal(combinedReward('Answer: 24', '24', { template: 'answer-line' }).reward, 1);
  });
});
