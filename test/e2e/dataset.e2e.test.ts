/**
 * Training on your own dataset in a real VS Code (code-server + Chromium): "Durian: Start Training" offers the
 * workspace's datasets; a Parquet file made by `durian export-tasks` trains with its split column, and a
 * `*.durian.json` config naming a JSON Lines dataset with relative image paths trains with a held-out fraction.
 * Each run's folder records the dataset, and the Rollout Groups panel shows the dataset's own questions and images.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runExportParquet } from '../../src/cli/exportParquet.js';
import { encodePng, generateTask, taskLevelsAt } from '../../src/trainer/tasks/index.js';
import { e2eSkip, smallSession, startVsCode, type VsCodeSession } from './harness.js';

type Evaluable = { evaluate<R>(fn: (element: unknown) => R): Promise<R>; getAttribute(name: string): Promise<string | null> };

describe('training on a dataset in a real VS Code', { skip: e2eSkip(), timeout: 900_000 }, () => {
  let vscode: VsCodeSession;
  const frame = () => vscode.webviewFrame();

  before(async () => {
    vscode = await startVsCode({ name: 'dataset', workspaceFiles: { 'README.md': '# dataset e2e\n' }, settings: smallSession() });
    const ws = vscode.workspaceDir;
    mkdirSync(path.join(ws, 'data'), { recursive: true });
    await runExportParquet(['--n', '32', '--validation-n', '8', '--out', path.join(ws, 'data', 'suite.parquet')], () => {});
    mkdirSync(path.join(ws, 'mine', 'img'), { recursive: true });
    const lines = Array.from({ length: 24 }, (_, k) => {
      const task = generateTask(9, 'train', k, taskLevelsAt(9, 'train', k));
      writeFileSync(path.join(ws, 'mine', 'img', `${k}.png`), encodePng(task.image));
      return JSON.stringify({ id: `m${k}`, images: [`img/${k}.png`], problem: `<image>${task.question}`, answer: task.answer });
    });
    writeFileSync(path.join(ws, 'mine', 'rows.jsonl'), `${lines.join('\n')}\n`);
    writeFileSync(path.join(ws, 'mine.durian.json'), JSON.stringify({ dataset: 'mine/rows.jsonl', valFraction: 0.25, reward: 'auto' }));
  });

  after(async () => {
    await vscode?.stop();
  });

  /** Trains until step 2, opens Rollout Groups, checks a group shows a dataset question and its PNG; stops. */
  async function trainAndLook(expectedFile: string): Promise<void> {
    await vscode.quickPickRow('durian').first().waitFor({ state: 'visible' });
    await vscode.page.keyboard.press('Enter');
    await vscode.waitForStepAbove(1, 300_000);
    const runDir = vscode.latestRunDir();
    const saved = JSON.parse(readFileSync(path.join(runDir, 'dataset.json'), 'utf8'));
    assert.equal(saved.settings.file, expectedFile);
    assert.equal(JSON.parse(readFileSync(path.join(runDir, 'meta.json'), 'utf8')).policy.kind, 'general');

    await vscode.runCommand('Durian: Open Rollout Groups');
    const rows = frame().locator('.group-row');
    await rows.first().waitFor({ state: 'visible', timeout: 60_000 });
    const text = await rows.first().innerText();
    assert.match(text, /how many|are there/i, 'the group shows the dataset row\'s question');
    const thumb = frame().locator('.group-row img.thumb').first() as unknown as Evaluable;
    const src = await thumb.getAttribute('src');
    assert.match(src ?? '', /images\/row-\d{6}\.png$/, 'the thumbnail is the dataset row\'s image in the run folder');
    await vscode.runCommand('Durian: Stop Training');
    await vscode.statusBarText(/Durian stopped at step \d+/, 180_000);
  }

  it('offers the workspace datasets and trains on a Parquet file from export-tasks with its split column', () =>
    vscode.step('parquet', async () => {
      await vscode.runCommand('Durian: Start Training');
      await vscode.quickPickRow('suite.parquet').first().waitFor({ state: 'visible' });
      assert.equal(await vscode.quickPickRow('rows.jsonl').count(), 1, 'the JSON Lines dataset is offered too');
      assert.equal(await vscode.quickPickRow('README.md').count(), 0);
      await vscode.screenshot('pick-dataset');
      await vscode.quickPickRow('suite.parquet').first().click();
      await vscode.quickPickRow('Use its "split" column').first().waitFor({ state: 'visible' });
      await vscode.quickPickRow('Use its "split" column').first().click();
      await trainAndLook(path.join(vscode.workspaceDir, 'data', 'suite.parquet'));
      const saved = JSON.parse(readFileSync(path.join(vscode.latestRunDir(), 'dataset.json'), 'utf8'));
      assert.deepEqual(saved.record.rows, { total: 40, train: 32, validation: 8, skipped: 0, skippedByReason: {} });
      await vscode.screenshot('parquet-groups');
    }));

  it('trains on a JSON Lines dataset with relative image paths named by a *.durian.json config', () =>
    vscode.step('jsonl-config', async () => {
      await vscode.runCommand('Durian: Start Training');
      await vscode.quickPickRow('mine.durian.json').first().waitFor({ state: 'visible' });
      await vscode.quickPickRow('mine.durian.json').first().click();
      await trainAndLook(path.join(vscode.workspaceDir, 'mine', 'rows.jsonl'));
      const saved = JSON.parse(readFileSync(path.join(vscode.latestRunDir(), 'dataset.json'), 'utf8'));
      assert.equal(saved.settings.valFraction, 0.25);
      assert.equal(saved.record.rows.train + saved.record.rows.validation, 24);
      await vscode.screenshot('jsonl-groups');
    }));
});
