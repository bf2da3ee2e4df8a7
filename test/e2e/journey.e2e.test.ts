/**
 * A new user's first session, in a real VS Code (code-server + Chromium) with a fresh profile and NO Durian
 * settings at all: start training from the palette with the defaults (the CLI's default session), see the
 * Dashboard and the Rollout Groups, pause, resume and stop (each without a false "no training run is
 * active"), resume from the Runs view's context menu, open the run folder (in code-server there is no OS file
 * manager: it is revealed in the Explorer), and look at it all in a light theme. Screenshots of every stage
 * in test-results/e2e/journey/ (dark and light); the README's two screenshots are copied to docs/images/.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runDisplayName } from '../../src/extension/runReports.js';
import { defaultOf } from '../../src/protocol/settings.js';
import { e2eSkip, sleep, startVsCode, type VsCodeSession } from './harness.js';
import { projectRoot } from './setup.js';

/** The notification the controller used to show after every successful Pause, Resume and Stop. */
const NO_RUN = /no training run is active/;
/** The default session's steps and prompts per step (src/protocol/settings.ts). */
const DEFAULT_STEPS = defaultOf('steps') as number;
const DEFAULT_PROMPTS = defaultOf('batchSize') as number;

describe('a new user with no settings in a real VS Code', { skip: e2eSkip(), timeout: 1_800_000 }, () => {
  let vscode: VsCodeSession;
  const frame = () => vscode.webviewFrame();
  const status = () => JSON.parse(readFileSync(path.join(vscode.latestRunDir(), 'status.json'), 'utf8')) as { state: string; step: number };
  /** Runs a command and checks it did not also claim that no run is active. */
  const runControl = async (title: string) => {
    await vscode.runCommand(title);
    await sleep(1500);
    assert.equal(await vscode.notification(NO_RUN).count(), 0, `"${title}" also showed "no training run is active"`);
  };
  const editorShot = async (name: string) => {
    const file = path.join(vscode.resultsDir, `${name}.png`);
    await vscode.page.locator('.part.editor').screenshot({ path: file });
    return file;
  };

  before(async () => {
    // No `settings`: the user settings hold only the harness's first-run defaults, nothing of Durian.
    vscode = await startVsCode({
      name: 'journey',
      workspaceFiles: { 'README.md': '# my first Durian session\n' },
      // The only setting: a dark theme first (code-server starts light); the light one comes last.
      settings: { 'workbench.colorTheme': 'Default Dark Modern' },
      viewport: { width: 1400, height: 900 },
    });
    const userSettings = readFileSync(path.join(vscode.server.runDir, 'user-data', 'User', 'settings.json'), 'utf8');
    assert.doesNotMatch(userSettings, /durian/i, 'the profile has no Durian settings');
  });

  after(async () => {
    await vscode?.stop();
  });

  it('starts training from the palette with the default settings: it trains (no crash at step 0)', () =>
    vscode.step('start-defaults', async () => {
      await vscode.runCommand('Durian: Start Training');
      await vscode.quickPickRow('Built-in default').first().waitFor({ state: 'visible' });
      await vscode.screenshot('dark-start-pick');
      await vscode.page.keyboard.press('Enter');
      await vscode.quickPickRow('durian').first().waitFor({ state: 'visible' });
      await vscode.page.keyboard.press('Enter');
      // The default session (the CLI's `durian train`): the settings table's steps and prompts per step.
      // A fresh profile builds the general policy's base first: up to 1000 warm-up steps.
      const first = await vscode.statusStep(900_000);
      await vscode.waitForStepAbove(first + 1, 180_000);
      const text = await vscode.statusBarText(/Durian step \d+\/\d+/);
      assert.match(text, new RegExp(`step \\d+/${DEFAULT_STEPS}\\b`), `the default session is ${DEFAULT_STEPS} steps`);
      const facts = frame().locator('.run-facts');
      await facts.filter({ hasText: new RegExp(`estimator durian.*step \\d+ / ${DEFAULT_STEPS}`) }).first().waitFor({ timeout: 60_000 });
      await frame().locator('.state-badge').filter({ hasText: 'Running' }).waitFor({ timeout: 30_000 });
      await frame().locator('.chart-grid canvas').first().waitFor({ state: 'visible', timeout: 60_000 });
      await sleep(2000);
      await vscode.screenshot('dark-dashboard');
    }));

  it('opens the Rollout Groups of the live run', () =>
    vscode.step('rollout-groups', async () => {
      await vscode.runCommand('Durian: Open Rollout Groups');
      await frame().locator('.group-row').first().waitFor({ state: 'visible', timeout: 60_000 });
      await frame().locator('.step-facts').filter({ hasText: new RegExp(`${DEFAULT_PROMPTS} groups`) }).first().waitFor({ timeout: 60_000 });
      await sleep(2000);
      await vscode.screenshot('dark-rollout-groups');
      const shot = await editorShot('dark-rollout-groups-editor');
      copyFileSync(shot, path.join(projectRoot, 'docs', 'images', 'rollout-groups.png'));
    }));

  it('pauses (status bar says paused), resumes and stops, each without "no training run is active"', () =>
    vscode.step('pause-resume-stop', async () => {
      await runControl('Durian: Pause Training');
      const paused = await vscode.statusBarText(new RegExp(`Durian paused · step \\d+/${DEFAULT_STEPS}`), 60_000);
      await vscode.screenshot('dark-paused');
      await sleep(3000);
      assert.equal(await vscode.statusBarText(new RegExp(`Durian paused · step \\d+/${DEFAULT_STEPS}`)), paused, 'no step while paused');
      await runControl('Durian: Resume Training');
      const resumedFrom = Number(/step (\d+)\//.exec(paused)?.[1]);
      await vscode.waitForStepAbove(resumedFrom, 120_000);
      // The README's Dashboard: a few dozen steps drawn.
      await vscode.runCommand('Durian: Open Dashboard');
      await vscode.waitForStepAbove(Math.max(40, resumedFrom + 10), 480_000);
      await frame().locator('.chart-grid canvas').first().waitFor({ state: 'visible', timeout: 60_000 });
      await sleep(1500);
      const shot = await editorShot('dark-dashboard-editor');
      mkdirSync(path.join(projectRoot, 'docs', 'images'), { recursive: true });
      copyFileSync(shot, path.join(projectRoot, 'docs', 'images', 'dashboard.png'));
      await runControl('Durian: Stop Training');
      await vscode.statusBarText(/Durian stopped at step \d+/, 180_000);
      assert.equal(status().state, 'stopped');
      await vscode.screenshot('dark-stopped');
    }));

  it('resumes the stopped run from the Runs view context menu', () =>
    vscode.step('resume-from-runs-view', async () => {
      const dir = vscode.latestRunDir();
      const stoppedAt = status().step;
      await vscode.openViewContainer('Durian RL');
      await vscode.runCommand('Durian: Refresh Runs');
      const row = vscode.sideBarRow(runDisplayName(path.basename(dir))).first();
      await row.waitFor({ state: 'visible', timeout: 30_000 });
      await vscode.contextMenu(row, /^Resume Run/);
      await vscode.waitForStepAbove(stoppedAt, 240_000);
      await vscode.screenshot('dark-resumed-from-runs-view');
      await runControl('Durian: Stop Training');
      await vscode.statusBarText(/Durian stopped at step \d+/, 180_000);
    }));

  it('opens the run folder and the runs folder: without an OS file manager they are revealed in the Explorer', () =>
    vscode.step('open-run-folder', async () => {
      const name = path.basename(vscode.latestRunDir());
      await vscode.runCommand('Durian: Open Run Folder');
      const row = vscode.sideBarRow(name).first();
      await row.waitFor({ state: 'visible', timeout: 30_000 });
      await vscode.page.locator('.part.sidebar .composite.title').filter({ hasText: /Explorer/i }).first().waitFor({ timeout: 10_000 });
      assert.match((await row.getAttribute('class')) ?? '', /selected|focused/, 'the run folder is selected in the Explorer');
      assert.equal(await vscode.notification(/revealFileInOS|not found/).count(), 0, 'no "command not found" error');
      await vscode.screenshot('dark-run-folder-in-explorer');
      // Select another file first: the runs folder's row must become the selected one.
      await vscode.sideBarRow('README.md').first().click();
      await vscode.runCommand('Durian: Open Runs Folder');
      // (The Explorer may show `runs` and its only run compacted into one row: `runs / <run>`.)
      await vscode.page.locator('.part.sidebar .monaco-list-row.selected').filter({ hasText: /^\s*runs\b/ }).first().waitFor({ timeout: 30_000 });
      assert.equal(await vscode.notification(/revealFileInOS|not found/).count(), 0, 'no "command not found" error');
    }));

  it('reads well in a light theme: Dashboard and Rollout Groups', () =>
    vscode.step('light-theme', async () => {
      await vscode.runCommand('Preferences: Toggle between Light/Dark Themes');
      await vscode.page.locator('.monaco-workbench.vs').first().waitFor({ timeout: 30_000 });
      // A fresh render of the webviews in the light theme.
      await vscode.runCommand('View: Close All Editors');
      await vscode.runCommand('Durian: Open Dashboard');
      await frame().locator('.chart-grid canvas').first().waitFor({ state: 'visible', timeout: 60_000 });
      await sleep(2000);
      await vscode.screenshot('light-dashboard');
      await vscode.runCommand('Durian: Open Rollout Groups');
      await frame().locator('.group-row').first().waitFor({ state: 'visible', timeout: 60_000 });
      await sleep(2000);
      await vscode.screenshot('light-rollout-groups');
      await vscode.openViewContainer('Durian RL');
      // The pointer off the rows: a hovered row shows its inline actions over its description.
      await vscode.page.locator('.part.statusbar').hover();
      const row = vscode.sideBarRow(runDisplayName(path.basename(vscode.latestRunDir()))).first();
      assert.match(await row.locator('.label-description').innerText(), new RegExp(`^stopped · \\d+/${DEFAULT_STEPS}$`));
      await vscode.screenshot('light-runs-view');
    }));
});
