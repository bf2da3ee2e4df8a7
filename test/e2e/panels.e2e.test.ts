/**
 * What the extension says when things do not go to plan, in a real VS Code (code-server + Chromium):
 * - a setting that conflicts with the session is refused before launch, naming the setting and its range,
 *   with an "Open Setting" action that opens it;
 * - a run that crashes before its first step: the Dashboard says "Crashed", the error and what to do, and
 *   its Open Run Folder says the folder was never created (it does not fail silently);
 * - a run that completes says so: validation accuracy before -> after, with its Dashboard and Rollout Groups;
 * - the Runs view: the state is not cut off, the tooltip has the run's facts, the context menu offers Resume,
 *   Open Dashboard and Open Rollout Groups, and a status.json whose pid is not this window's trainer (here a
 *   live process that is no trainer: a reused pid) still offers Resume, with an explanation.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runDisplayName } from '../../src/extension/runReports.js';
import { e2eSkip, sleep, startVsCode, type VsCodeSession } from './harness.js';

const STALE = '2026-01-01-stale-pid';
/** A tree item's tooltip, as the workbench renders it. */
const TOOLTIP = '.monaco-hover, .workbench-hover';

describe('panels and messages tell the truth in a real VS Code', { skip: e2eSkip(), timeout: 900_000 }, () => {
  let vscode: VsCodeSession;
  const frame = () => vscode.webviewFrame();
  const runsFolder = () => path.join(vscode.workspaceDir, 'runs');
  const runNames = () => (existsSync(runsFolder()) ? readdirSync(runsFolder()).filter((name) => name !== STALE).sort() : []);
  /** Starts training from the palette with a configuration: the built-in default or a workspace *.durian.json. */
  const startWith = async (configuration: string) => {
    await vscode.runCommand('Durian: Start Training');
    await vscode.quickPickRow(configuration).first().waitFor({ state: 'visible' });
    await vscode.quickPickRow(configuration).first().click();
    await vscode.quickPickRow('durian').first().waitFor({ state: 'visible' });
    await vscode.page.keyboard.press('Enter');
  };

  before(async () => {
    vscode = await startVsCode({
      name: 'panels',
      workspaceFiles: {
        'README.md': '# panels e2e\n',
        // status.json says running in process 1: alive (the container's init) but no trainer of this window.
        [`runs/${STALE}/config.json`]: JSON.stringify({ estimator: 'grpo', steps: 50, groupSize: 4, batchSize: 8, seed: 7 }),
        [`runs/${STALE}/status.json`]: JSON.stringify({ state: 'running', step: 12, pid: 1, updatedAt: '2026-01-01T00:00:00.000Z' }),
        // A backend that is not installed: the trainer fails before it creates the run folder.
        'missing-backend.durian.json': JSON.stringify({ groupSize: 4, backend: 'tfjs-node' }),
        // A small session of 3 steps (as the harness's smallSession, as a configuration file).
        'three-steps.durian.json': JSON.stringify({ steps: 3, batchSize: 8, groupSize: 4, trainSize: 64, validationSize: 16, warmupSteps: 5 }),
      },
      settings: { 'durian.training.groupSize': 1 },
    });
  });

  after(async () => {
    await vscode?.stop();
  });

  it('refuses a conflicting setting before launch, with its name, range and an Open Setting action', () =>
    vscode.step('conflicting-setting', async () => {
      await startWith('Built-in default');
      const toast = vscode.notification(/durian\.training\.groupSize: must be >= 2 and <= 64, got 1.*Training was not started/);
      await toast.first().waitFor({ timeout: 30_000 });
      await vscode.screenshot('conflicting-setting-refused');
      assert.deepEqual(runNames(), [], 'no run folder was created');
      await vscode.page.locator('.part.statusbar .statusbar-item').filter({ hasText: /Durian (starting|step)/ }).count().then((n) => assert.equal(n, 0, 'no trainer started'));
      await toast.first().getByRole('button', { name: 'Open Setting' }).click();
      // The Settings editor opens, filtered to that setting.
      await vscode.page.locator('.settings-editor .setting-item').filter({ hasText: /Group Size/i }).first().waitFor({ timeout: 30_000 });
      await vscode.screenshot('open-setting');
      await vscode.runCommand('View: Close All Editors');
    }));

  it('a crash before the first step: the Dashboard shows Crashed, the error and what to do; Open Run Folder says it was never created', () =>
    vscode.step('crash-before-first-step', async () => {
      await startWith('missing-backend.durian.json');
      await vscode.statusBarText(/Durian crashed at step 0/, 240_000);
      const badge = frame().locator('.state-badge');
      await badge.filter({ hasText: 'Crashed' }).first().waitFor({ timeout: 60_000 });
      const message = await frame().locator('.state-message').innerText();
      assert.match(message, /tfjs-node/, `the error is shown: ${message}`);
      const advice = await frame().locator('.state-advice').innerText();
      assert.match(advice, /no run folder was created.*Durian: Start Training/s, `what to do is shown: ${advice}`);
      assert.match(await frame().locator('.empty-message').innerText(), /crashed before its first step/);
      await vscode.screenshot('crashed-before-first-step');
      await frame().locator('vscode-button').filter({ hasText: 'Open Run Folder' }).click();
      await vscode.notification(/was never created/).first().waitFor({ timeout: 30_000 });
      await vscode.screenshot('open-run-folder-never-created');
    }));

  it('a completed run says so: validation accuracy before -> after, with its Dashboard and Rollout Groups', () =>
    vscode.step('completed', async () => {
      await vscode.runCommand('View: Close All Editors');
      await startWith('three-steps.durian.json');
      const toast = vscode.notification(/run .* completed 3 steps in .*; validation accuracy \d\.\d{3} -> \d\.\d{3} \(step 0 -> 3\)/).first();
      await toast.waitFor({ timeout: 300_000 });
      assert.ok(await toast.getByRole('button', { name: 'Open Dashboard' }).isVisible());
      await vscode.screenshot('completed-notification');
      await toast.getByRole('button', { name: 'Open Rollout Groups' }).click();
      await frame().locator('.group-row').first().waitFor({ state: 'visible', timeout: 60_000 });
      assert.match(await vscode.page.locator('.part.editor .tab.active').innerText(), /Rollout Groups/);
      await vscode.screenshot('completed-rollout-groups');
    }));

  it('the Runs view: whole state, a tooltip with the facts, Resume/Dashboard/Rollout Groups on right-click, a stale pid resumable', () =>
    vscode.step('runs-view', async () => {
      const [name] = runNames().slice(-1);
      await vscode.openViewContainer('Durian RL');
      await vscode.runCommand('Durian: Refresh Runs');
      const row = vscode.sideBarRow(runDisplayName(name)).first();
      await row.waitFor({ state: 'visible', timeout: 30_000 });
      const description = row.locator('.label-description');
      assert.equal((await description.innerText()).trim(), 'completed · 3/3');
      const cut = await row.locator('.monaco-icon-label-container').evaluate((element) => element.scrollWidth > element.clientWidth + 1);
      assert.equal(cut, false, 'the row (name and state) is not cut off');

      await row.hover();
      const hover = vscode.page.locator(TOOLTIP).filter({ hasText: /estimator durian/ }).first();
      await hover.waitFor({ timeout: 30_000 });
      const tooltip = await hover.innerText();
      for (const fact of [/G = 4/, /seed 1/, /step 3 \/ 3/, /final validation accuracy \d\.\d{3} \(step 3; \d\.\d{3} at step 0\)/, /training time \d+(s|m \d{2}s)/]) {
        assert.match(tooltip, fact, `the tooltip says ${fact}: ${tooltip}`);
      }
      await vscode.screenshot('runs-view-tooltip');
      await vscode.escape();

      await row.click({ button: 'right' });
      for (const item of ['Resume Run', 'Open Dashboard', 'Open Rollout Groups', 'Open Run Folder']) {
        await vscode.page.locator('.monaco-menu .action-item').filter({ hasText: item }).first().waitFor({ timeout: 10_000 });
      }
      await vscode.screenshot('runs-view-context-menu');
      await vscode.escape();

      const stale = vscode.sideBarRow(STALE).first();
      await stale.waitFor({ state: 'visible' });
      assert.equal((await stale.locator('.label-description').innerText()).trim(), 'running? · 12/50');
      await stale.hover();
      await vscode.page.locator(TOOLTIP).filter({ hasText: /process 1, which is not this window's trainer.*use Resume Run/s }).first().waitFor({ timeout: 30_000 });
      await vscode.screenshot('runs-view-stale-pid');
      await vscode.escape();
      await sleep(500);
      await stale.click({ button: 'right' });
      await vscode.page.locator('.monaco-menu .action-item').filter({ hasText: 'Resume Run' }).first().waitFor({ timeout: 10_000 });
      // Not deleted from here while a live process may still be training it.
      assert.equal(await vscode.page.locator('.monaco-menu .action-item').filter({ hasText: 'Delete Run' }).count(), 0);
      await vscode.escape();
    }));
});
