// A user's dataset as the trainer's TaskSource (durian train --dataset): the character tokenizer, splits by
// column or by seeded fraction, features and entropies from the encoder's cache (as durian score), rewards,
// images written for the panels, the run's dataset record, and bad datasets refused with file, row and field.
// Real files, the real bundled encoder.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DatasetTasks, datasetChange } from '../../../src/trainer/datasetTasks.js';
import { DatasetError, decodeImage } from '../../../src/trainer/datasets/index.js';
import { type Encoder, PatchFeatureCache, loadEncoder } from '../../../src/trainer/encoder/index.js';
import { encodePng, generateTask, taskLevelsAt } from '../../../src/trainer/tasks/index.js';
import { CharacterTokenizer, RESPONSE_EOS } from '../../../src/trainer/tokenizer.js';

let encoder: Encoder;
before(async () => {
  encoder = await loadEncoder();
});
after(async () => {
  await encoder.release();
});

interface Row {
  images: string[];
  problem: string;
  answer: string;
  id?: string;
  split?: string;
  perceptual_level?: number;
}

/** A folder with `n` built-in task images (img/<k>.png) and a JSON Lines dataset naming them by relative path. */
function writeDataset(n: number, edit: (row: Row, k: number) => Row = (row) => row, name = 'data.jsonl'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-dataset-tasks-'));
  const lines: string[] = [];
  mkdirSync(path.join(dir, 'img'));
  for (let k = 0; k < n; k++) {
    const task = generateTask(7, 'train', k, taskLevelsAt(7, 'train', k));
    const image = `img/${k}.png`;
    writeFileSync(path.join(dir, image), encodePng(task.image));
    lines.push(JSON.stringify(edit({ images: [image], problem: `<image>${task.question}`, answer: task.answer, id: `q${k}`, perceptual_level: task.perceptualLevel }, k)));
  }
  const file = path.join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('CharacterTokenizer', () => {
  it('reads characters of the training vocabulary, unknown ones as <unk>, and decodes up to EOS', () => {
    const tokenizer = CharacterTokenizer.build(['how many?'], ['12', 'yes'], { maxQuestionLength: 9, maxResponseLength: 4 });
    assert.equal(tokenizer.questionVocabSize, 2 + new Set('how many?').size);
    assert.equal(tokenizer.responseVocabSize, 3 + new Set('12yes').size);
    const question = tokenizer.encodeQuestion('how many!');
    assert.equal(question.length, 9);
    assert.equal(question[8], 1, 'a character never seen in training is unknown');
    const response = tokenizer.encodeResponse('21');
    assert.equal(response.at(-1), RESPONSE_EOS);
    assert.equal(tokenizer.decodeResponse([...response, ...tokenizer.encodeResponse('yes')]), '21', 'decoding stops at the first EOS');
    assert.equal(tokenizer.decodeResponse(tokenizer.encodeResponse('1x')), '1\ufffd');
    assert.equal(tokenizer.ended([4, 5, 6, RESPONSE_EOS]), true);
    assert.equal(tokenizer.ended([4, 5, 6, 7, RESPONSE_EOS]), false, 'an EOS past the length limit does not count');
  });

  it('saves and loads to the same ids, and refuses a file that is not a tokenizer', () => {
    const tokenizer = CharacterTokenizer.build(['Find x in △ABC'], ['3√2'], { maxQuestionLength: 14, maxResponseLength: 4 });
    const loaded = CharacterTokenizer.fromJson(JSON.parse(JSON.stringify(tokenizer.toJson())), 'run/tokenizer.json');
    assert.deepEqual(loaded.encodeQuestion('Find x in △ABC'), tokenizer.encodeQuestion('Find x in △ABC'));
    assert.equal(loaded.sha256(), tokenizer.sha256());
    assert.throws(() => CharacterTokenizer.fromJson({ format: 'other' }, 'run/tokenizer.json'), /run\/tokenizer\.json: is not a durian-characters\/1 tokenizer/);
    assert.throws(() => CharacterTokenizer.fromJson({ ...tokenizer.toJson(), questionCharacters: ['a', 'a'] }, 't.json'), /lists a character twice/);
  });
});

describe('DatasetTasks', () => {
  it('splits by a seeded held-out fraction, the same for the same seed, and sizes the policy from the data', async () => {
    const file = writeDataset(40);
    const a = await DatasetTasks.open({ file, encoder, seed: 3, valFraction: 0.25 });
    const b = await DatasetTasks.open({ file, encoder, seed: 3, valFraction: 0.25 });
    const c = await DatasetTasks.open({ file, encoder, seed: 4, valFraction: 0.25 });
    const ids = async (source: DatasetTasks) => (await source.get('validation', [...Array(source.size('validation')).keys()])).map((t) => t.id);
    assert.equal(a.size('train') + a.size('validation'), 40);
    assert.ok(a.size('validation') >= 3 && a.size('validation') <= 18, `about a quarter held out, got ${a.size('validation')}`);
    assert.deepEqual(await ids(a), await ids(b));
    assert.notDeepEqual(await ids(a), await ids(c), 'another seed holds out other rows');
    assert.equal(a.size('warmup'), a.size('train'));
    assert.deepEqual(a.record.rows, { total: 40, train: a.size('train'), validation: a.size('validation'), skipped: 0, skippedByReason: {} });
    const questions = (await a.get('train', [...Array(a.size('train')).keys()])).map((t) => t.question);
    assert.ok(questions.every((q) => !q.includes('<image>')), 'the <image> placeholder is not part of the question');
    assert.equal(a.shape.maxQuestionLength, Math.max(...[...questions, ...(await a.get('validation', [...Array(a.size('validation')).keys()])).map((t) => t.question)].map((q) => q.length)));
    assert.deepEqual([a.shape.patchCount, a.shape.patchDim], [encoder.patches, encoder.dims]);
  });

  it('gives each task its image features and entropy from the same cache as durian score, and levels from *_level columns', async () => {
    const file = writeDataset(6);
    const source = await DatasetTasks.open({ file, encoder, seed: 1, valFraction: 0.5 });
    const [task] = await source.get('train', [0]);
    const row = Number(task.id.slice(4));
    const image = decodeImage(readFileSync(path.join(path.dirname(file), `img/${row}.png`)));
    const [expected] = await new PatchFeatureCache(encoder).get([{ width: image.width, height: image.height, data: image.data, channels: image.channels }]);
    assert.deepEqual(task.features, expected.features);
    assert.equal(task.visualEntropy, expected.entropy);
    const generated = generateTask(7, 'train', row, taskLevelsAt(7, 'train', row));
    assert.deepEqual(task.levels, { perceptual: generated.perceptualLevel });
    const inputs = source.inputs([task]);
    assert.equal(inputs.questionLength, source.shape.maxQuestionLength);
    assert.deepEqual([...inputs.questions.subarray(0, task.question.length)], source.tokenizer.encodeQuestion(task.question));
    assert.ok(inputs.questions.subarray(task.question.length).every((id) => id === 0), 'padded with 0');
  });

  it('scores the gold response 1 and another answer 0.1, and decodes responses to text', async () => {
    const file = writeDataset(12, (row, k) => ({ ...row, answer: k % 2 === 0 ? '12.5' : 'yes' }));
    const source = await DatasetTasks.open({ file, encoder, seed: 1, valFraction: 0.3 });
    const tasks = await source.get('train', [...Array(source.size('train')).keys()]);
    const numeric = tasks.find((t) => t.answer === '12.5')!;
    const text = tasks.find((t) => t.answer === 'yes')!;
    assert.deepEqual(source.score(numeric, source.target(numeric)), { reward: 1, accuracy: 1, format: 1 });
    assert.equal(source.decode([...source.target(numeric)]), '12.5');
    const wrong = source.tokenizer.encodeResponse('12');
    assert.deepEqual(source.score(numeric, wrong), { reward: 0.1, accuracy: 0, format: 1 });
    assert.deepEqual(source.score(text, source.target(text)), { reward: 1, accuracy: 1, format: 1 });
    assert.deepEqual(source.score(text, source.target(numeric)), { reward: 0.1, accuracy: 0, format: 1 }, 'auto compares a text answer as text');
  });

  it('teaches boxed answers with --reward boxed', async () => {
    const file = writeDataset(8);
    const source = await DatasetTasks.open({ file, encoder, seed: 1, valFraction: 0.3, reward: 'boxed' });
    const [task] = await source.get('warmup', [0]);
    assert.equal(source.decode([...source.target(task)]), `\\boxed{${task.answer}}`);
    assert.equal(source.score(task, source.tokenizer.encodeResponse(task.answer)).reward, 0, 'an unboxed answer earns nothing');
  });

  it('writes the task image into a run folder as the PNG the row names', async () => {
    const file = writeDataset(4);
    const source = await DatasetTasks.open({ file, encoder, seed: 1, valFraction: 0.5 });
    const [task] = await source.get('train', [0]);
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'durian-run-'));
    assert.equal(source.image(task), `images/${task.id}.png`);
    assert.equal(source.image(task, runDir), `images/${task.id}.png`);
    const row = Number(task.id.slice(4));
    assert.deepEqual(readFileSync(path.join(runDir, 'images', `${task.id}.png`)), readFileSync(path.join(path.dirname(file), `img/${row}.png`)));
  });

  it('splits by a split column, and refuses a value that is not a split with its row and field', async () => {
    const file = writeDataset(10, (row, k) => ({ ...row, split: k < 7 ? 'train' : 'test' }));
    const source = await DatasetTasks.open({ file, encoder, seed: 1, splitColumn: 'split' });
    assert.deepEqual([source.size('train'), source.size('validation')], [7, 3]);
    assert.deepEqual((await source.get('validation', [0, 1, 2])).map((t) => t.id), ['row-000007', 'row-000008', 'row-000009']);
    const bad = writeDataset(4, (row, k) => ({ ...row, split: k === 2 ? 'unused' : 'train' }));
    await assert.rejects(DatasetTasks.open({ file: bad, encoder, seed: 1, splitColumn: 'split' }), (error: Error) => error instanceof DatasetError && error.message.includes(bad) && /row 2 \(line 3\), field "split": "unused" is not a split/.test(error.message));
  });

  it('refuses an empty split, naming the file and the rule', async () => {
    const file = writeDataset(5, (row) => ({ ...row, split: 'train' }));
    await assert.rejects(DatasetTasks.open({ file, encoder, seed: 1, splitColumn: 'split' }), (error: Error) => error instanceof DatasetError && error.message.startsWith(`dataset ${file}: the validation split is empty`) && /column "split"/.test(error.message));
    const tiny = writeDataset(2);
    await assert.rejects(DatasetTasks.open({ file: tiny, encoder, seed: 1, valFraction: 0.01 }), /the validation split is empty: .*raise --val-fraction/);
  });

  it('skips and counts answers the reward cannot read, and refuses a dataset where none can be read', async () => {
    const mixed = writeDataset(12, (row, k) => ({ ...row, answer: k === 3 ? 'isosceles' : String(k) }));
    const source = await DatasetTasks.open({ file: mixed, encoder, seed: 1, valFraction: 0.3, reward: 'numeric' });
    assert.equal(source.size('train') + source.size('validation'), 11);
    assert.equal(source.skipped.length, 1);
    assert.equal(source.skipped[0].row, 3);
    assert.match(source.skipped[0].reason, /field "answer": the answer "isosceles" is not a number/);
    assert.deepEqual(source.record.rows.skippedByReason, { 'unparseable answer': 1 });
    const words = writeDataset(4, (row) => ({ ...row, answer: 'isosceles' }));
    await assert.rejects(DatasetTasks.open({ file: words, encoder, seed: 1, reward: 'numeric' }), (error: Error) => error.message.startsWith(`dataset ${words}: no answer can be read by the numeric reward (4 rows; row 0 (line 1): field "answer"`));
  });

  it('skips and counts rows whose image fails to decode or whose question is over the limit, with their rows', async () => {
    const file = writeDataset(12, (row, k) => (k === 5 ? { ...row, problem: 'x'.repeat(80) } : row));
    writeFileSync(path.join(path.dirname(file), 'img/2.png'), 'not an image');
    const source = await DatasetTasks.open({ file, encoder, seed: 1, valFraction: 0.3, maxQuestionLength: 60 });
    assert.deepEqual(source.skipped.map((s) => s.row), [2, 5]);
    assert.match(source.skipped[0].reason, /not a PNG or JPEG/);
    assert.equal(source.skipped[0].file, path.join(path.dirname(file), 'img', '2.png'));
    assert.match(source.skipped[1].reason, /^too long: field "problem" is 80 characters, over the 60 limit/);
    assert.deepEqual(source.record.rows.skippedByReason, { 'undecodable image': 1, 'too long': 1 });
    assert.equal(source.record.rows.total, 12);
  });

  it('refuses a dataset with no valid rows', async () => {
    const file = writeDataset(3, (row) => ({ ...row, images: ['missing.png'] }));
    await assert.rejects(DatasetTasks.open({ file, encoder, seed: 1 }), /no valid rows: 3 records, all skipped \(3 missing image\)/);
  });

  it('records the content hashes: a changed answer or a changed image is a changed dataset', async () => {
    const file = writeDataset(8);
    const first = (await DatasetTasks.open({ file, encoder, seed: 1, valFraction: 0.3 })).record;
    assert.equal(datasetChange(first, (await DatasetTasks.open({ file, encoder, seed: 1, valFraction: 0.3 })).record), null);
    writeFileSync(path.join(path.dirname(file), 'img/1.png'), encodePng(generateTask(9, 'train', 1, taskLevelsAt(9, 'train', 1)).image));
    const imageChanged = (await DatasetTasks.open({ file, encoder, seed: 1, valFraction: 0.3 })).record;
    assert.match(datasetChange(first, imageChanged) ?? '', /the images of the dataset .* have changed/);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"answer":"', '"answer":"1'));
    const textChanged = (await DatasetTasks.open({ file, encoder, seed: 1, valFraction: 0.3 })).record;
    assert.match(datasetChange(first, textChanged) ?? '', /the dataset file .* has changed since the run started/);
  });

  it('keeps a saved tokenizer (a resumed run) and skips rows it cannot hold', async () => {
    const file = writeDataset(10);
    const saved = CharacterTokenizer.build(['how many'], ['1'], { maxQuestionLength: 200, maxResponseLength: 2 });
    const source = await DatasetTasks.open({ file, encoder, seed: 1, valFraction: 0.3, tokenizer: saved });
    assert.equal(source.tokenizer, saved);
    assert.equal(source.shape.responseVocabSize, saved.responseVocabSize);
    for (const s of source.skipped) assert.match(s.reason, /gold response .* over the 2 limit/);
    const kept = await source.get('train', [...Array(source.size('train')).keys()]);
    assert.ok(kept.every((t) => t.answer.length === 1));
  });
});
