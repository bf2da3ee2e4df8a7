/**
 * Training in a real VS Code (code-server + Chromium), through the command palette as a person would:
 * start a run, see the status bar and the dashboard's step counter advance and a chart draw, pause (the
 * step stops advancing) and resume, stop (the run folder holds a checkpoint), resume the run, kill the
 * trainer process and see the crash reported, and resume again. Screenshots of every stage.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { e2eSkip, smallSession, startVsCode, type VsCodeSession } from './harness.js';
import { stepOf } from '../support/processes.js';

// A small but real session: built-in tasks, frozen encoder, a short warm-up; long enough to pause and stop.
const settings = smallSession({ 'durian.training.checkpointEvery': 5 });

describe('training in a real VS Code', { skip: e2eSkip(), timeout: 600_000 }, () => {
  let vscode: VsCodeSession;
  const runDir = () => vscode.latestRunDir();
  const statusStep = (timeoutMs?: number) => vscode.statusStep(timeoutMs);
  const waitForStepAbove = (step: number, timeoutMs?: number) => vscode.waitForStepAbove(step, timeoutMs);


  before(async () => {
    vscode = await startVsCode({ name: 'training', workspaceFiles: { 'README.md': '# training e2e\n' }, settings });
  });

  after(async () => {
    await vscode?.stop();
  });

  it('starts training from the palette: status bar and dashboard advance, a chart draws', () =>
    vscode.step('start', async () => {
      await vscode.runCommand('Durian: Start Training');
      await vscode.quickPickRow('Built-in default').first().waitFor({ state: 'visible' });
      await vscode.screenshot('start-pick-config');
      await vscode.page.keyboard.press('Enter');
      await vscode.quickPickRow('durian').first().waitFor({ state: 'visible' });
      await vscode.page.keyboard.press('Enter');
      const first = await statusStep(240_000);
      const later = await waitForStepAbove(first + 2);
      assert.ok(later > first);
      const facts = vscode.webviewFrame().locator('.run-facts');
      await facts.filter({ hasText: /step \d+ \/ 1000000/ }).first().waitFor({ state: 'visible', timeout: 60_000 });
      const shown = stepOf((await facts.first().innerText()).replace(' / ', '/'));
      await vscode.page.waitForTimeout(3000);
      const shownLater = stepOf((await facts.first().innerText()).replace(' / ', '/'));
      assert.ok(shownLater > shown, `the dashboard's step advances (${shown} -> ${shownLater})`);
      await vscode.webviewFrame().locator('.chart-grid canvas').first().waitFor({ state: 'visible', timeout: 30_000 });
      await vscode.screenshot('dashboard-running');
    }));

  it('pauses (the step stops advancing) and resumes', () =>
    vscode.step('pause-resume', async () => {
      await vscode.runCommand('Durian: Pause Training');
      await vscode.statusBarText(/Durian paused · step \d+\/\d+/, 30_000);
      await vscode.webviewFrame().locator('.state-badge').filter({ hasText: /Paused/i }).first().waitFor({ timeout: 60_000 });
      const paused = await statusStep();
      await vscode.page.waitForTimeout(4000);
      assert.equal(await statusStep(), paused, 'no step while paused');
      await vscode.screenshot('paused');
      await vscode.runCommand('Durian: Resume Training');
      await waitForStepAbove(paused + 1);
      await vscode.screenshot('resumed');
    }));

  it('stops: the trainer finishes its step, the run folder holds a checkpoint', () =>
    vscode.step('stop', async () => {
      await vscode.runCommand('Durian: Stop Training');
      await vscode.statusBarText(/Durian stopped at step \d+/, 120_000);
      const dir = runDir();
      const latest = readFileSync(path.join(dir, 'checkpoints', 'latest'), 'utf8').trim();
      assert.ok(existsSync(path.join(dir, 'checkpoints', latest, 'weights.bin')), `checkpoint ${latest} is whole`);
      assert.equal(JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')).state, 'stopped');
      await vscode.screenshot('stopped');
    }));

  it('resumes the run, survives a killed trainer with a crash report, and resumes again', () =>
    vscode.step('kill-and-resume', async () => {
      const dir = runDir();
      const stoppedAt = JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')).step as number;
      await vscode.runCommand('Durian: Resume Run');
      await vscode.quickPickRow(path.basename(dir)).first().waitFor({ state: 'visible' });
      await vscode.page.keyboard.press('Enter');
      await waitForStepAbove(stoppedAt);
      const pid = JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')).pid as number;
      assert.ok(pid > 0);
      process.kill(pid, 'SIGKILL');
      await vscode.notification(/the trainer crashed \(signal SIGKILL\)/).waitFor({ state: 'visible', timeout: 60_000 });
      await vscode.statusBarText(/Durian crashed at step \d+/, 30_000);
      await vscode.screenshot('crash-reported');
      // The run folder is intact: resume it once more, from its last checkpoint.
      await vscode.runCommand('Durian: Resume Run');
      await vscode.quickPickRow(path.basename(dir)).first().waitFor({ state: 'visible' });
      await vscode.page.keyboard.press('Enter');
      // The crashed session's status gives way to the new one before its steps arrive.
      await vscode.statusBarText(/Durian (starting|step \d+\/\d+)/, 60_000);
      const lastCheckpoint = Number(readFileSync(path.join(dir, 'checkpoints', 'latest'), 'utf8').trim().replace('step-', ''));
      await waitForStepAbove(lastCheckpoint);
      await vscode.screenshot('resumed-after-crash');
      await vscode.runCommand('Durian: Stop Training');
      await vscode.statusBarText(/Durian stopped at step \d+/, 120_000);
    }));
});
