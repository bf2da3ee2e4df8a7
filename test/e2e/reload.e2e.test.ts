/**
 * The extension host goes away while training, in a real VS Code (code-server + Chromium):
 * - "Developer: Reload Window": the host deactivates the extension, which asks the trainer to stop; the
 *   trainer finishes its step, writes a checkpoint and exits 0. No trainer process is left (checked by the
 *   pid in status.json and by `ps` over the whole VS Code run folder), the latest checkpoint is whole (its
 *   manifest's sizes and SHA-256 match) at the step the run had reached, the run is listed in the Runs view
 *   as stopped, and resuming it from there (the view's inline Resume action) continues past the checkpoint
 *   with every step recorded once.
 * - the extension host killed with SIGKILL (no deactivate at all): the trainer notices its IPC channel
 *   closing and stops the same way, with a whole checkpoint and status `stopped`; it never outlives the host.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readLatestCheckpoint } from '../../src/trainer/run/checkpoints.js';
import { isProcessAlive } from '../../src/trainer/run/status.js';
import { runDisplayName } from '../../src/extension/runReports.js';
import { e2eSkip, sleep, smallSession, startVsCode, type VsCodeSession } from './harness.js';
import { waitUntilGone } from '../support/processes.js';

const settings = smallSession({
  // Rare periodic checkpoints: the one found after the reload must be the one written on the way out.
  'durian.training.checkpointEvery': 100_000,
});

interface Status {
  state: string;
  step: number;
  pid: number;
}

function readStatus(dir: string): Status {
  return JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')) as Status;
}

/** Trainer processes started from this VS Code's run folder (its extensions live there). */
function trainerProcesses(vsCodeRunDir: string): string[] {
  const lines = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n');
  return lines.filter((line) => line.includes(vsCodeRunDir) && /dist\/trainer\.js/.test(line)).map((line) => line.trim());
}

function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** The run's latest checkpoint, verified against its manifest (sizes and SHA-256), nothing skipped (read-only). */
function wholeCheckpoint(dir: string): number {
  const checkpoint = readLatestCheckpoint(path.join(dir, 'checkpoints'));
  assert.ok(checkpoint, `${dir} has a whole checkpoint`);
  assert.deepEqual(checkpoint.skipped, [], 'no damaged checkpoint was skipped');
  assert.ok(checkpoint.bytes['weights.bin'].byteLength > 0 && checkpoint.json['state.json'], 'the checkpoint holds weights and state');
  return checkpoint.step;
}

function metricSteps(dir: string): number[] {
  return readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { step: number }).step);
}

describe('the extension host goes away while training', { skip: e2eSkip(), timeout: 600_000 }, () => {
  let vscode: VsCodeSession;
  const figures: string[] = [];
  const runDir = () => vscode.latestRunDir();
  const statusStep = (timeoutMs?: number) => vscode.statusStep(timeoutMs);
  const waitForStepAbove = (step: number, timeoutMs?: number) => vscode.waitForStepAbove(step, timeoutMs);

  /** Resumes `dir` from the Runs view (its inline Resume Run action) and waits for steps past `fromStep`. */
  /**
   * Shows the Runs view (the Durian RL container in the side bar). After a reload the side bar may show the
   * Explorer; after the extension host restarts, the container's activity bar item comes back still marked
   * as open while the side bar stays hidden (openViewContainer would not click it). Click it until the
   * side bar shows the container.
   */
  const showRunsView = async (timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    const item = vscode.page.locator('.part.activitybar .action-item:has([aria-label^="Durian RL"])').first();
    const shown = vscode.page.locator('.part.sidebar .composite.title').filter({ hasText: /Durian RL/ }).first();
    while (!(await shown.isVisible())) {
      assert.ok(Date.now() < deadline, 'the Runs view did not show');
      if (await item.isVisible()) await item.click().catch(() => undefined);
      await sleep(1000);
    }
  };
  const resumeFromRunsView = async (dir: string, fromStep: number) => {
    await showRunsView();
    await vscode.runCommand('Durian: Refresh Runs');
    const row = vscode.sideBarRow(runDisplayName(path.basename(dir))).filter({ hasText: new RegExp(`stopped · ${fromStep}/`) }).first();
    await row.waitFor({ state: 'visible', timeout: 60_000 });
    await row.hover();
    await row.locator('.action-label[aria-label^="Resume Run"]').first().click();
    await vscode.statusBarText(/Durian (starting|step \d+\/\d+)/, 60_000);
    return waitForStepAbove(fromStep + 2);
  };

  before(async () => {
    vscode = await startVsCode({ name: 'reload', workspaceFiles: { 'README.md': '# reload e2e\n' }, settings });
  });

  after(async () => {
    if (figures.length > 0) console.log(`reload e2e: ${figures.join('; ')}`);
    await vscode?.stop();
  });

  it('Reload Window while training: the trainer stops with a whole checkpoint, no orphan; the run resumes from it', () =>
    vscode.step('reload', async () => {
      await vscode.runCommand('Durian: Start Training');
      await vscode.quickPickRow('Built-in default').first().waitFor({ state: 'visible' });
      await vscode.page.keyboard.press('Enter');
      await vscode.quickPickRow('durian').first().waitFor({ state: 'visible' });
      await vscode.page.keyboard.press('Enter');
      const first = await statusStep(240_000);
      const before = await waitForStepAbove(first + 3);
      const dir = runDir();
      const { pid } = readStatus(dir);
      assert.ok(pid > 0 && isProcessAlive(pid), `status.json names the live trainer (pid ${pid})`);
      assert.deepEqual(trainerProcesses(vscode.server.runDir).length, 1, 'one trainer runs');
      await vscode.screenshot('training');

      await vscode.runCommand('Developer: Reload Window');
      const goneAfterMs = await waitUntilGone(pid, 30_000);
      assert.deepEqual(trainerProcesses(vscode.server.runDir), [], 'no trainer process is left (ps)');
      const status = readStatus(dir);
      assert.equal(status.state, 'stopped', `the trainer stopped cleanly (status ${JSON.stringify(status)})`);
      const checkpointStep = wholeCheckpoint(dir);
      assert.equal(checkpointStep, status.step, 'the checkpoint is at the step the trainer stopped at');
      assert.ok(checkpointStep >= before, `no finished step was lost: the status bar showed step ${before}, the checkpoint holds ${checkpointStep}`);
      assert.deepEqual(metricSteps(dir), Array.from({ length: checkpointStep }, (_, i) => i + 1), 'metrics hold every step up to the checkpoint once');
      figures.push(`reload: trainer gone ${goneAfterMs} ms after the command, step shown ${before} -> checkpoint ${checkpointStep} (0 steps lost)`);

      await vscode.waitForWorkbench();
      await vscode.screenshot('reloaded');
      const resumed = await resumeFromRunsView(dir, checkpointStep);
      assert.ok(resumed > checkpointStep);
      const steps = metricSteps(dir);
      assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1), 'after resume, each step is recorded once, in order');
      await vscode.screenshot('resumed-after-reload');
    }));

  it('the extension host killed (SIGKILL, no deactivate): the trainer stops by itself with a whole checkpoint', () =>
    vscode.step('host-killed', async () => {
      const dir = runDir();
      const before = await statusStep();
      const { pid } = readStatus(dir);
      assert.ok(isProcessAlive(pid), `the resumed trainer runs (pid ${pid})`);
      const host = parentPid(pid);
      const hostArgs = readFileSync(`/proc/${host}/cmdline`, 'utf8').replace(/\0/g, ' ');
      assert.match(hostArgs, /extensionHost|bootstrap-fork/, `the trainer's parent ${host} is the extension host: ${hostArgs}`);
      process.kill(host, 'SIGKILL');
      const goneAfterMs = await waitUntilGone(pid, 30_000);
      assert.deepEqual(trainerProcesses(vscode.server.runDir), [], 'no trainer process is left (ps)');
      const status = readStatus(dir);
      assert.equal(status.state, 'stopped', `the orphaned trainer stopped cleanly (status ${JSON.stringify(status)})`);
      const checkpointStep = wholeCheckpoint(dir);
      assert.equal(checkpointStep, status.step);
      assert.ok(checkpointStep >= before, `status bar showed step ${before}, the checkpoint holds ${checkpointStep}`);
      assert.deepEqual(metricSteps(dir), Array.from({ length: checkpointStep }, (_, i) => i + 1), 'every finished step is recorded once and is in the checkpoint');
      figures.push(`host SIGKILL: trainer gone ${goneAfterMs} ms later, step shown ${before} -> checkpoint ${checkpointStep} (0 steps lost)`);
      await vscode.screenshot('host-killed');

      // VS Code restarts the extension host (by itself or through its notification); the run resumes again.
      const restart = vscode.notification(/Extension host terminated unexpectedly|extension host/i).getByRole('button', { name: /Restart Extension Host/i });
      if (await restart.first().isVisible().catch(() => false)) await restart.first().click();
      const resumed = await resumeFromRunsView(dir, checkpointStep);
      assert.ok(resumed > checkpointStep);
      await vscode.runCommand('Durian: Stop Training');
      await vscode.statusBarText(/Durian stopped at step \d+/, 120_000);
      await vscode.screenshot('stopped');
    }));
});
