/**
 * Runs side by side, in a real VS Code (code-server + Chromium):
 * - two short real runs (`durian train`, GRPO and Durian, 4 prompts x 4 rollouts) are selected together in the
 *   Runs view and compared from its context menu: one Compare panel with both in the legend (estimator, G,
 *   seed) and in the summary table; after Reload Window the panel comes back with the same runs; a chart
 *   exports as SVG through the save dialog (VS Code's simple dialog, a quick input here) and the file is an SVG
 *   of that chart;
 * - an intervention made in the test (a setConfig appended to the Durian run's inbox.jsonl while it trains) is a
 *   marker on the Dashboard's charts at its step, whose hover says what changed; a click on the chart at that
 *   step opens Rollout Groups at that step (the Dashboard's markers and click are otherwise covered only by the
 *   DOM test test/webview/dashboardDom.test.ts, not in a real VS Code);
 * - the groups shown in Rollout Groups export as Parquet through the save dialog, and read back: one row per
 *   rollout of every group of that step.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parquetReadObjects } from 'hyparquet';
import { runDisplayName } from '../../src/extension/runReports.js';
import { e2eSkip, sleep, startVsCode, type VsCodeSession } from './harness.js';
import { projectRoot } from './setup.js';

const STEPS_GRPO = 6;
const STEPS_DURIAN = 40;
const CONFIG = { batchSize: 4, groupSize: 4, trainSize: 64, validationSize: 16, warmupSteps: 5, validationEvery: 5, checkpointEvery: 1000, rolloutsEvery: 1000 };

/** The few playwright calls used here that test/e2e/playwright.ts does not type. */
type Mouse = { move(x: number, y: number): Promise<void>; down(): Promise<void>; up(): Promise<void> };
type ClickWithModifiers = { click(options: { modifiers: 'Control'[] }): Promise<void> };

function jsonlLines(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** `durian train` (the built CLI) into `out`; while it runs, `during` may steer it. Resolves when it exits 0. */
async function train(configFile: string, estimator: string, steps: number, out: string, during?: () => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, [path.join(projectRoot, 'dist', 'cli.js'), 'train', '--config', configFile, '--estimator', estimator, '--steps', String(steps), '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await during?.();
  const code = await exited;
  assert.equal(code, 0, `durian train ${estimator} failed:\n${output.slice(-2000)}`);
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

describe('runs side by side in a real VS Code', { skip: e2eSkip(), timeout: 900_000 }, () => {
  let vscode: VsCodeSession;
  const work = mkdtempSync(path.join(os.tmpdir(), 'durian-cmp-'));
  const runsFolder = path.join(work, 'runs');
  const grpoDir = path.join(runsFolder, 'a-grpo-G4-s1');
  const durianDir = path.join(runsFolder, 'b-durian-G4-s1');
  let interventionStep = 0;

  before(async () => {
    mkdirSync(runsFolder, { recursive: true });
    const configFile = path.join(work, 'tiny.json');
    writeFileSync(configFile, JSON.stringify(CONFIG));
    await train(configFile, 'grpo', STEPS_GRPO, grpoDir);
    // The intervention: a coefficient change appended to the run's inbox while it trains.
    await train(configFile, 'durian', STEPS_DURIAN, durianDir, async () => {
      await until('step 3 of the durian run', 180_000, () => (jsonlLines(path.join(durianDir, 'metrics.jsonl')).some((line) => Number(line.step) >= 3) ? true : undefined));
      appendFileSync(path.join(durianDir, 'inbox.jsonl'), `${JSON.stringify({ type: 'control/setConfig', controlId: 'e2e-weights', changes: { durianWeights: [0.2, 0.3, 0.5] } })}\n`);
      const applied = await until('the inbox control applied', 60_000, () => jsonlLines(path.join(durianDir, 'interventions.jsonl')).find((line) => line.controlId === 'e2e-weights' && 'control' in line));
      interventionStep = Number(applied.step);
    });
    assert.ok(interventionStep > 3 && interventionStep < STEPS_DURIAN, `the intervention landed mid-run, at step ${interventionStep}`);
    vscode = await startVsCode({
      name: 'compare',
      workspaceFiles: { 'README.md': '# compare e2e\n' },
      settings: { 'durian.runsFolder': runsFolder, 'files.simpleDialog.enable': true },
    });
  });

  after(async () => {
    await vscode?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('two runs selected in the Runs view compare in one panel: both legends, both table rows', () =>
    vscode.step('compare', async () => {
      await vscode.openViewContainer('Durian RL');
      await vscode.runCommand('Durian: Refresh Runs');
      const grpo = vscode.sideBarRow(runDisplayName(path.basename(grpoDir))).first();
      const durian = vscode.sideBarRow(runDisplayName(path.basename(durianDir))).first();
      await grpo.waitFor({ state: 'visible', timeout: 30_000 });
      await grpo.click();
      await (durian as unknown as ClickWithModifiers).click({ modifiers: ['Control'] });
      await vscode.contextMenu(durian, 'Compare Runs');
      const frame = vscode.webviewFrame();
      const legend = frame.locator('.legend-entry');
      await legend.nth(1).waitFor({ timeout: 60_000 });
      const legends = await legend.allInnerTexts();
      assert.equal(legends.length, 2, JSON.stringify(legends));
      assert.match(legends.join('\n'), /a-grpo-G4-s1\s*grpo · G 4 · seed 1/);
      assert.match(legends.join('\n'), /b-durian-G4-s1\s*durian · G 4 · seed 1/);
      const rows = await frame.locator('.summary-table tbody tr').allInnerTexts();
      assert.equal(rows.length, 2);
      assert.match(rows.join('\n'), new RegExp(`a-grpo-G4-s1\\s+grpo\\s+4\\s+1\\s+${STEPS_GRPO}\\s+\\d\\.\\d{3}\\s+\\d\\.\\d{3}`));
      assert.match(rows.join('\n'), new RegExp(`b-durian-G4-s1\\s+durian\\s+4\\s+1\\s+${STEPS_DURIAN}\\s+\\d\\.\\d{3}\\s+\\d\\.\\d{3}`));
      await frame.locator('.chart-card:not([hidden]) .u-over').first().waitFor({ timeout: 30_000 });
      assert.match(await vscode.page.locator('.part.editor .tab.active').innerText(), /Compare: 2 runs/);
      await vscode.screenshot('compare-two-runs');
      // Clicking the rows opened their Dashboard too: keep only the Compare panel's webview on screen.
      await vscode.runCommand('View: Close Other Editors in Group');
      await frame.locator('.legend-entry').first().waitFor({ timeout: 30_000 });
    }));

  it('the Compare panel comes back after Reload Window, with the same two runs', () =>
    vscode.step('compare-reload', async () => {
      await vscode.runCommand('Developer: Reload Window');
      await vscode.waitForWorkbench();
      const tab = vscode.page.locator('.part.editor .tab').filter({ hasText: /Compare: 2 runs/ });
      await tab.first().waitFor({ timeout: 60_000 });
      await tab.first().click();
      const legend = vscode.webviewFrame().locator('.legend-entry');
      await legend.nth(1).waitFor({ timeout: 60_000 });
      const legends = await legend.allInnerTexts();
      assert.equal(legends.length, 2, JSON.stringify(legends));
      assert.match(legends.join('\n'), /a-grpo-G4-s1\s*grpo · G 4 · seed 1/);
      assert.match(legends.join('\n'), /b-durian-G4-s1\s*durian · G 4 · seed 1/);
      await vscode.screenshot('compare-after-reload');
    }));

  it('a chart exports as SVG through the save dialog', () =>
    vscode.step('export-svg', async () => {
      const frame = vscode.webviewFrame();
      const target = path.join(work, 'reward.svg');
      await frame.locator('.chart-card:not([hidden]) .chart-export-svg').first().click();
      await vscode.answerQuickInput(target);
      await vscode.notification(/Durian: saved .*reward\.svg/).first().waitFor({ timeout: 30_000 });
      const svg = readFileSync(target, 'utf8');
      assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.match(svg, />Reward: train<\/text>/, 'the Compare panel\'s first chart');
      assert.doesNotMatch(svg, /<[^>]* (\w[\w-]*)="[^"]*"[^>]* \1="/, 'no attribute twice in an element');
      assert.match(svg, /<title>a-grpo-G4-s1<\/title>/);
      assert.match(svg, /<title>b-durian-G4-s1<\/title>/);
    }));

  it('the intervention is a marker at its step on the Dashboard; a click there opens that step’s groups', () =>
    vscode.step('marker-and-click', async () => {
      await vscode.runCommand('View: Close All Editors');
      const durian = vscode.sideBarRow(runDisplayName(path.basename(durianDir))).first();
      await durian.click();
      const frame = vscode.webviewFrame();
      // The Losses chart: train metrics only, so its x axis spans steps 1..STEPS_DURIAN (Reward's starts at
      // the validation of step 0).
      const card = frame.locator('.chart-card[data-chart="losses"]');
      const over = card.locator('.u-over').first();
      await over.waitFor({ timeout: 60_000 });
      await sleep(500);
      const box = await over.evaluate((element) => {
        const rect = element.getBoundingClientRect();
        return { left: rect.left, top: rect.top, width: rect.width, height: rect.height };
      });
      const iframe = await vscode.page.locator('iframe.webview:visible').first().evaluate((element) => {
        const rect = element.getBoundingClientRect();
        return { left: rect.left, top: rect.top };
      });
      // The chart's x axis spans steps 1..STEPS_DURIAN; the inner frame sits at the outer frame's origin.
      const x = iframe.left + box.left + ((interventionStep - 1) / (STEPS_DURIAN - 1)) * box.width;
      const y = iframe.top + box.top + box.height / 2;
      const mouse = (vscode.page as unknown as { mouse: Mouse }).mouse;
      await mouse.move(x, y);
      const tip = card.locator('.marker-tooltip').first();
      await tip.waitFor({ state: 'visible', timeout: 10_000 });
      const text = await tip.innerText();
      assert.match(text, new RegExp(`step ${interventionStep}:.*a_ori 0\\.1 -> 0\\.2.*a_perc 0\\.2 -> 0\\.3.*a_reas 0\\.7 -> 0\\.5.*since step ${interventionStep}`, 's'));
      await vscode.screenshot('dashboard-intervention-marker');
      await mouse.down();
      await mouse.up();
      const tab = vscode.page.locator('.part.editor .tab.active').filter({ hasText: /Rollout Groups/ });
      await tab.first().waitFor({ timeout: 30_000 });
      const groups = vscode.webviewFrame();
      await groups.locator('.group-row').first().waitFor({ state: 'visible', timeout: 60_000 });
      await groups.locator('.step-facts').filter({ hasText: new RegExp(`^step ${interventionStep}\\b`) }).first().waitFor({ timeout: 30_000 });
      await vscode.screenshot('rollout-groups-at-intervention');
    }));

  it('the groups shown export as Parquet that pandas-style readers read back', () =>
    vscode.step('export-parquet', async () => {
      const groups = vscode.webviewFrame();
      const shown = await groups.locator('.group-row').count();
      const target = path.join(work, 'groups.parquet');
      await groups.locator('.groups-export-parquet').click();
      await vscode.answerQuickInput(target);
      await vscode.notification(/Durian: saved .*groups\.parquet/).first().waitFor({ timeout: 30_000 });
      const bytes = readFileSync(target);
      const rows = (await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer })) as Record<string, unknown>[];
      const onDisk = jsonlLines(path.join(durianDir, 'rollouts', `step-${String(interventionStep).padStart(6, '0')}.jsonl`));
      assert.ok(shown > 0 && onDisk.length >= shown, `${shown} groups shown, ${onDisk.length} on disk`);
      assert.equal(rows.length, onDisk.length * CONFIG.groupSize, 'one row per rollout of every group of the step (no filter set)');
      assert.ok(rows.every((row) => row.step === interventionStep));
      assert.deepEqual(new Set(rows.map((row) => row.prompt_id)), new Set(onDisk.map((group) => group.promptId)));
    }));
});
