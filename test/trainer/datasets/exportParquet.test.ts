// durian export-tasks --out suite.parquet: the built-in suite as an EasyR1-shaped Parquet dataset, read back
// with the project's own dataset reader (row by row against the generator) and opened as a training source.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runExportParquet, wantsParquet } from '../../../src/cli/exportParquet.js';
import { DatasetTasks } from '../../../src/trainer/datasetTasks.js';
import { loadDataset, openRecords } from '../../../src/trainer/datasets/index.js';
import { loadEncoder } from '../../../src/trainer/encoder/index.js';
import { generateTask, taskLevelsAt } from '../../../src/trainer/tasks/index.js';

describe('export-tasks to Parquet', () => {
  it('writes train and validation tasks of the seed that the dataset reader reads back as the same rows', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'durian-export-parquet-')), 'suite.parquet');
    const lines: string[] = [];
    assert.equal(await runExportParquet(['--n', '12', '--validation-n', '5', '--seed', '3', '--out', out], (line) => lines.push(line)), 0);
    assert.match(lines[0], /wrote 17 built-in tasks \(12 train, 5 validation; seed 3\)/);

    const records = await openRecords(out);
    assert.deepEqual(records.fields, ['images', 'problem', 'answer', 'id', 'split', 'perceptual_level', 'reasoning_level']);
    const dataset = await loadDataset(out, { extraFields: ['split', 'perceptual_level', 'reasoning_level'] });
    assert.equal(dataset.total, 17);
    assert.deepEqual(dataset.skipped, []);
    dataset.rows.forEach((row, k) => {
      const split = k < 12 ? 'train' : 'validation';
      const index = k < 12 ? k : k - 12;
      const task = generateTask(3, split, index, taskLevelsAt(3, split, index));
      assert.equal(row.problem, `<image>${task.question}`);
      assert.equal(row.answer, task.answer);
      assert.equal(row.id, task.id);
      assert.deepEqual(row.extra, { split, perceptual_level: task.perceptualLevel, reasoning_level: task.reasoningLevel });
      const [image] = row.images;
      assert.equal(row.images.length, 1);
      assert.ok(image.embedded && image.source.includes(`images/${task.id}.png`), image.source);
      assert.deepEqual([image.width, image.height], [task.image.width, task.image.height]);
      const rgb = new Uint8Array(image.width * image.height * 3);
      for (let p = 0; p < image.width * image.height; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = image.data![p * image.channels + c];
      assert.deepEqual(rgb, task.image.rgb, `${task.id}: the embedded PNG holds the generator's pixels`);
    });
  });

  it('trains as a dataset with its split column, the levels read back as the tasks levels', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'durian-export-parquet-')), 'suite.parquet');
    await runExportParquet(['--n', '8', '--out', out], () => {});
    const encoder = await loadEncoder();
    try {
      const source = await DatasetTasks.open({ file: out, encoder, seed: 1, splitColumn: 'split' });
      assert.deepEqual([source.size('train'), source.size('validation')], [8, 8], '--validation-n defaults to N (at most 512)');
      const [task] = await source.get('validation', [2]);
      const generated = generateTask(1, 'validation', 2, taskLevelsAt(1, 'validation', 2));
      assert.deepEqual(task.levels, { perceptual: generated.perceptualLevel, reasoning: generated.reasoningLevel });
      assert.equal(task.question, generated.question);
      assert.deepEqual(source.score(task, source.target(task)), { reward: 1, accuracy: 1, format: 1 });
    } finally {
      await encoder.release();
    }
  });

  it('is chosen by an --out ending in .parquet, and refuses bad counts with the flag', async () => {
    assert.equal(wantsParquet(['--n', '3', '--out', 'x/suite.parquet']), true);
    assert.equal(wantsParquet(['--out=suite.PARQUET']), true);
    assert.equal(wantsParquet(['--split', 'train', '--out', 'folder']), false);
    await assert.rejects(runExportParquet(['--n', '0', '--out', 'x.parquet'], () => {}), /--n: must be a whole number from 1 to 200000, got "0"/);
  });
});
