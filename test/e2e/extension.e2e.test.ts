/**
 * The packaged extension in a real VS Code (code-server + Chromium): the workbench loads with it, its
 * commands are in the palette, the Runs view lists a run folder, and "Compute Advantages" opens the result.
 * Skipped (with the reason) when scripts/e2e-setup.sh has not run; `npm run test:e2e` runs it always.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { e2eSkip, sampleBatches, startVsCode, type VsCodeSession } from './harness.js';

// A finished run as the trainer writes it (schemas/status.schema.json requires pid and updatedAt).
const completedRun = { state: 'completed', step: 5, totalSteps: 5, pid: 4242, updatedAt: '2026-01-01T00:05:00.000Z' };

function jsonLines(lines: unknown[]): string {
  return `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;
}

describe('the extension in a real VS Code', { skip: e2eSkip(), timeout: 300_000 }, () => {
  let vscode: VsCodeSession;

  before(async () => {
    vscode = await startVsCode({
      name: 'extension',
      workspaceFiles: {
        'runs/2026-01-01-demo/status.json': JSON.stringify(completedRun),
        // The total steps come from the run's config, as the trainer writes it.
        'runs/2026-01-01-demo/config.json': JSON.stringify({ estimator: 'durian', steps: 5, seed: 1, batchSize: 16, groupSize: 8 }),
        'batches.jsonl': jsonLines(sampleBatches),
        'context.jsonl': jsonLines([{ index: ['ctx0', 'ctx0'], scores: [0, 1], visualEntropy: [1, 1], logprob: [-0.5, -0.4] }]),
        'README.md': '# Durian sample workspace\n\nUsed by the e2e tests.\n',
        'grpo.jsonl': jsonLines([{ estimator: 'grpo', index: ['g0', 'g0'], scores: [0, 1] }]),
      },
    });
  });

  after(async () => {
    await vscode?.stop();
  });

  it('loads the workbench with the Durian RL view container', async () => {
    await vscode.step('workbench', async () => {
      await vscode.page.locator('.part.activitybar [aria-label^="Durian RL"]').first().waitFor({ state: 'visible' });
      await vscode.screenshot('workbench');
    });
  });

  it('lists the Durian commands in the palette', async () => {
    await vscode.step('palette', async () => {
      const expected = ['Durian: Compute Advantages of a JSON Lines File', 'Durian: Open Runs Folder', 'Durian: Refresh Runs'];
      const listed = await vscode.paletteCommands('Durian:', expected.length);
      for (const title of expected) assert.ok(listed.includes(title), `"${title}" is not in the palette; it lists ${JSON.stringify(listed)}`);
      // The screenshot shows the palette open.
      await vscode.page.keyboard.press('F1');
      await vscode.quickInput().fill('>Durian:');
      await vscode.quickPickRow('Durian: Refresh Runs').first().waitFor({ state: 'visible' });
      await vscode.screenshot('palette');
      await vscode.escape();
    });
  });

  it('shows a run folder of the workspace in the Runs view with its state and step', async () => {
    await vscode.step('runs-view', async () => {
      await vscode.openViewContainer('Durian RL');
      await vscode.runCommand('Durian: Refresh Runs');
      const row = vscode.sideBarRow('2026-01-01-demo');
      await row.waitFor({ state: 'visible' });
      const description = await row.locator('.label-description').innerText();
      assert.equal(description.trim(), 'completed · 5/5');
      await vscode.waitForQuickInputClosed();
      await vscode.screenshot('runs-view');
    });
  });

  it('computes the advantages of a workspace .jsonl file chosen in the file dialog', async () => {
    await vscode.step('compute-advantages', async () => {
      await vscode.runCommand('Durian: Compute Advantages of a JSON Lines File');
      // code-server's simple file dialog is a quick input: type the file's path and press Enter.
      await vscode.answerQuickInput(path.join(vscode.workspaceDir, 'batches.jsonl'));
      const text = await vscode.waitForEditorText('"advantages"');
      const lines = text.split('\n').filter((line) => line.includes('"advantages"'));
      assert.equal(lines.length, sampleBatches.length, `expected ${sampleBatches.length} result lines, got:\n${text}`);
      for (const line of lines) assert.match(line, /"estimator":\s*"durian"/);
      await vscode.screenshot('advantages');
    });
  });

  it('computes the advantages of a .jsonl file from the explorer context menu', async () => {
    await vscode.step('explorer-context-menu', async () => {
      await vscode.openViewContainer('Explorer');
      await vscode.contextMenu(vscode.sideBarRow('context.jsonl'), 'Compute Advantages of a JSON Lines File');
      const text = await vscode.waitForEditorText('"id":"ctx0"');
      assert.match(text, /"advantages":\[/);
      await vscode.screenshot('explorer-context-menu');
    });
  });

  it('reaches into a webview (the harness helper, on the built-in Markdown preview)', async () => {
    await vscode.step('webview', async () => {
      await vscode.openFile('README.md');
      await vscode.runCommand('Markdown: Open Preview');
      const heading = vscode.webviewFrame().locator('h1');
      await heading.waitFor({ state: 'visible' });
      assert.equal((await heading.innerText()).trim(), 'Durian sample workspace');
      await vscode.screenshot('webview');
    });
  });

  it('uses the defaults of the estimator a line names, not the settings of another estimator', async () => {
    await vscode.step('line-names-estimator', async () => {
      await vscode.contextMenu(vscode.sideBarRow('grpo.jsonl'), 'Compute Advantages of a JSON Lines File');
      const text = await vscode.waitForEditorText(/"id":"g0"|"error"/);
      assert.doesNotMatch(text, /"error"/);
      assert.match(text, /"estimator":"grpo"/);
    });
  });
});
