/**
 * Attaching to a run another process writes, in a real VS Code (code-server + Chromium): `durian train`
 * runs as a separate process (as in a terminal) in the workspace's runs folder; "Durian: Attach to Run
 * Folder…" follows it (and the Runs view shows runs other processes write, by file events alone): the status bar and the Dashboard's step advance and a chart draws, the Rollout Groups
 * panel follows the live step; a reweight made in the panel goes through the run's inbox.jsonl and the
 * trainer acknowledges it in interventions.jsonl with its step, which the panel and the status bar show;
 * Pause/Resume/Stop go through the inbox too. A second run, attached from the Runs view, is killed: the
 * crash is reported; its folder deleted: said, never a crash of the extension.
 *
 * With DURIAN_PYTHON=1 (Debian's python3-torch), the same on a run written by the PyTorch data-parallel
 * trainer with 2 ranks (python/durian_torchrun.py: `python3 -m torch.distributed.run --nproc_per_node 2`):
 * attached live, a reweight acknowledged by it with its step, a stop obeyed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { e2eSkip, startVsCode, type VsCodeSession } from './harness.js';
import type { Locator } from './playwright.js';
import { projectRoot } from './setup.js';
import { waitUntilGone } from '../support/processes.js';

// A small but real run (as smallSession in harness.ts), every step's groups kept, at a human pace.
const trainConfig = {
  steps: 100_000,
  batchSize: 8,
  groupSize: 4,
  trainSize: 64,
  validationSize: 16,
  validationEvery: 1000,
  warmupSteps: 5,
  estimatorOptions: { reasoningBins: 4 },
  rolloutsEvery: 1,
  ppoEpochs: 2,
  checkpointEvery: 1000,
};

type Evaluable = Locator & { evaluate<R, A>(fn: (element: Element, arg: A) => R, arg?: A): Promise<R> };

function readJsonl(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function readStatus(dir: string): { state: string; step: number; pid: number; inbox?: string } | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Waits for `probe` to return a value; `what` (or what it returns, read on failure) says what was awaited. */
async function poll<T>(what: string | (() => string), timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `durian train` started as its own process, as a person would in a terminal; its output kept for failures. */
function startTerminalRun(workspace: string, name: string): { child: ChildProcess; dir: string; output: () => string } {
  const configFile = path.join(workspace, `${name}.json`);
  writeFileSync(configFile, JSON.stringify(trainConfig));
  const dir = path.join(workspace, 'runs', name);
  const child = spawn(process.execPath, [path.join(projectRoot, 'dist', 'cli.js'), 'train', '--config', configFile, '--out', dir], { cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4000)));
  return { child, dir, output: () => output };
}

/** Waits until the run folder says running with at least `steps` metrics lines. */
async function runningWithSteps(dir: string, steps: number, output: () => string): Promise<void> {
  await poll(() => `${dir} running with ${steps} steps (status: ${JSON.stringify(readStatus(dir))}; trainer output: ${output()})`, 240_000, () =>
    readStatus(dir)?.state === 'running' && readJsonl(path.join(dir, 'metrics.jsonl')).length >= steps ? true : undefined,
  );
}

describe('attaching to a run folder written by another process, in a real VS Code', { skip: e2eSkip(), timeout: 900_000 }, () => {
  let vscode: VsCodeSession;
  const children: ChildProcess[] = [];
  /** Process groups (torchrun and its ranks). */
  const groups: ChildProcess[] = [];
  const frame = () => vscode.webviewFrame();
  const statusStep = async (timeoutMs = 120_000) => {
    const text = await vscode.statusBarText(/Durian (paused · )?step \d+\/\d+.*attached|Durian crashed/, timeoutMs);
    assert.ok(!/crashed/.test(text), `the attached run crashed: ${text}`);
    return Number(/step (\d+)\//.exec(text)?.[1]);
  };
  const waitForStepAbove = async (step: number, timeoutMs = 120_000) => poll(`the status bar's step above ${step}`, timeoutMs, async () => ((await statusStep()) > step ? true : undefined));
  /** The interventions row whose description matches, once its status says "applied at step N": N. */
  const appliedStep = async (description: RegExp, timeoutMs = 120_000): Promise<number> => {
    const row = frame().locator('.intervention').filter({ hasText: description }).first();
    await row.locator('.intervention-status').filter({ hasText: /applied at step \d+/ }).waitFor({ timeout: timeoutMs });
    return Number(/applied at step (\d+)/.exec(await row.locator('.intervention-status').innerText())?.[1]);
  };

  before(async () => {
    vscode = await startVsCode({ name: 'attach', workspaceFiles: { 'README.md': '# attach e2e\n' }, viewport: { width: 1600, height: 1000 } });
  });

  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const group of groups) {
      try {
        if (group.pid) process.kill(-group.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await vscode?.stop();
  });

  it('the Runs view follows the runs folder by file events: a run another process writes appears, steps and goes, no Refresh', () =>
    vscode.step('runs-view-watcher', async () => {
      await vscode.openViewContainer('Durian RL');
      // The view's first listing activates the extension; its watcher starts a moment later (a server round trip).
      await vscode.page.waitForTimeout(5000);
      const dir = path.join(vscode.workspaceDir, 'runs', 'outside-run');
      const status = (step: number) => JSON.stringify({ state: 'running', step, pid: process.pid, updatedAt: new Date().toISOString(), formatVersion: 1 });
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ estimator: 'grpo', steps: 10 }));
      writeFileSync(path.join(dir, 'status.json'), status(3));
      const row = vscode.sideBarRow('outside-run');
      // Generous timeouts: file events arrive within a second on an idle machine, later on a loaded one.
      await row.locator('.label-description').filter({ hasText: /3\/10/ }).waitFor({ timeout: 60_000 });
      writeFileSync(path.join(dir, 'status.json'), status(7));
      await row.locator('.label-description').filter({ hasText: /7\/10/ }).waitFor({ timeout: 60_000 });
      await vscode.screenshot('runs-view-follows');
      rmSync(dir, { recursive: true, force: true });
      await row.first().waitFor({ state: 'detached', timeout: 60_000 });
    }));

  it('attaches to `durian train` running in a terminal: status bar, Dashboard and Rollout Groups follow it live', () =>
    vscode.step('attach', async () => {
      const run = startTerminalRun(vscode.workspaceDir, 'terminal-run');
      children.push(run.child);
      await runningWithSteps(run.dir, 2, run.output);
      assert.equal(readStatus(run.dir)?.inbox, 'inbox.jsonl', 'durian train advertises its inbox');

      await vscode.runCommand('Durian: Attach to Run Folder…');
      await vscode.quickPickRow('terminal-run').first().waitFor({ state: 'visible' });
      await vscode.screenshot('attach-pick');
      await vscode.page.keyboard.type('terminal-run');
      await vscode.page.keyboard.press('Enter');
      await vscode.notification(/attached to terminal-run \(running, step \d+\); its controls go through its inbox/).waitFor({ timeout: 30_000 });
      const first = await statusStep();
      await waitForStepAbove(first + 2);

      const facts = frame().locator('.run-facts');
      await facts.filter({ hasText: /step \d+ \/ 100000/ }).first().waitFor({ state: 'visible', timeout: 60_000 });
      const shown = Number(/step (\d+) \//.exec(await facts.first().innerText())?.[1]);
      await poll("the Dashboard's step to advance", 30_000, async () => (Number(/step (\d+) \//.exec(await facts.first().innerText())?.[1]) > shown ? true : undefined));
      await frame().locator('.chart-grid canvas').first().waitFor({ state: 'visible', timeout: 30_000 });
      await vscode.screenshot('dashboard-attached');

      await vscode.runCommand('Durian: Open Rollout Groups');
      await frame().locator('.group-row').first().waitFor({ state: 'visible', timeout: 60_000 });
      await frame().locator('.step-facts').filter({ hasText: /step \d+ \(live\).*8 groups.*estimator durian/ }).waitFor({ timeout: 60_000 });
      const before = await frame().locator('.step-facts').innerText();
      await poll('the groups to follow the next step', 60_000, async () => ((await frame().locator('.step-facts').innerText()) !== before ? true : undefined));
      await vscode.screenshot('groups-attached');
    }));

  it('reweights a group in the Rollout Groups panel: appended to the inbox, acknowledged by the trainer with its step', () =>
    vscode.step('reweight', async () => {
      const dir = path.join(vscode.workspaceDir, 'runs', 'terminal-run');
      const follow = frame().locator('.follow-live') as Evaluable;
      if (await follow.evaluate((box) => (box as HTMLInputElement).checked)) await follow.click();
      const row = frame().locator('.group-row').first();
      const promptId = (await row.getAttribute('data-prompt-id')) as string;
      assert.ok(promptId);
      await row.locator('.weight-input').fill('0');
      await row.locator('.set-weight').click();
      const n = await appliedStep(new RegExp(`weight of ${escapeRegExp(promptId)} = 0`));
      // The control went through the inbox, and the trainer's own log says from which step it holds.
      const sent = readJsonl(path.join(dir, 'inbox.jsonl')).find((c) => c.type === 'control/setGroupWeight' && c.promptId === promptId);
      assert.ok(sent, 'the reweight is a line of inbox.jsonl');
      const acknowledged = readJsonl(path.join(dir, 'interventions.jsonl')).find((l) => l.controlId === sent.controlId);
      assert.equal(acknowledged?.step, n, 'interventions.jsonl acknowledges it from the step the panel shows');
      assert.equal(acknowledged?.kind, 'setGroupWeight');
      await vscode.statusBarText(new RegExp(`setGroupWeight applied from step ${n}`), 30_000);
      await vscode.screenshot('reweight-acknowledged');
    }));

  it('pauses, resumes and stops the attached run through its inbox', () =>
    vscode.step('pause-resume-stop', async () => {
      const dir = path.join(vscode.workspaceDir, 'runs', 'terminal-run');
      await vscode.runCommand('Durian: Pause Training');
      await vscode.statusBarText(/Durian paused · step \d+\/\d+/, 60_000);
      assert.equal(readStatus(dir)?.state, 'paused');
      const paused = readStatus(dir)?.step as number;
      await vscode.page.waitForTimeout(2000);
      assert.equal(readStatus(dir)?.step, paused, 'no step while paused');
      await vscode.runCommand('Durian: Resume Training');
      await waitForStepAbove(paused);
      await vscode.runCommand('Durian: Stop Training');
      await vscode.statusBarText(/Durian stopped at step \d+/, 120_000);
      assert.equal(readStatus(dir)?.state, 'stopped');
      const kinds = readJsonl(path.join(dir, 'interventions.jsonl')).map((l) => l.kind);
      for (const kind of ['pause', 'resume', 'stop']) assert.ok(kinds.includes(kind), `${kind} acknowledged in interventions.jsonl: ${kinds.join(', ')}`);
      await vscode.screenshot('stopped-through-inbox');
    }));

  it('attaches from the Runs view; a killed writer is reported as crashed, a deleted folder is said', () =>
    vscode.step('killed-and-deleted', async () => {
      const run = startTerminalRun(vscode.workspaceDir, 'second-run');
      children.push(run.child);
      await runningWithSteps(run.dir, 1, run.output);
      const row = vscode.sideBarRow('second-run');
      // The Runs view is open since the first test (opening it again would toggle the side bar closed).
      if (!(await vscode.page.locator('.part.sidebar').isVisible())) await vscode.openViewContainer('Durian RL');
      await row.first().waitFor({ state: 'visible', timeout: 30_000 });
      await vscode.contextMenu(row.first(), 'Attach to Run Folder…');
      const first = await statusStep();
      await waitForStepAbove(first);
      const pid = readStatus(run.dir)?.pid as number;
      assert.ok(pid > 0);
      process.kill(pid, 'SIGKILL');
      await waitUntilGone(pid, 30_000);
      await vscode.notification(new RegExp(`the attached run second-run crashed at step \\d+: its writer \\(process ${pid}\\) is gone`)).waitFor({ timeout: 30_000 });
      await vscode.statusBarText(/Durian crashed at step \d+/, 30_000);
      await frame().locator('.state-badge').filter({ hasText: /Crashed/i }).first().waitFor({ timeout: 30_000 });
      await vscode.screenshot('attached-writer-killed');
      rmSync(run.dir, { recursive: true, force: true });
      await vscode.notification(/second-run: the run folder .* is gone \(deleted or moved\)/).waitFor({ timeout: 30_000 });
      await vscode.screenshot('attached-folder-deleted');
    }));

  const ddpReady = process.env.DURIAN_PYTHON === '1' && existsSync(path.join(projectRoot, 'python', 'durian_ddp.py'));
  it('attaches to a run of the 2-rank PyTorch trainer (torch.distributed): live, and a reweight acknowledged with its step', { skip: ddpReady ? false : 'set DURIAN_PYTHON=1 (needs python/durian_ddp.py and Debian python3-torch)' }, () =>
    vscode.step('ddp', async () => {
      const workspace = vscode.workspaceDir;
      const tasks = path.join(workspace, 'tasks');
      const exported = spawnSync(process.execPath, [path.join(projectRoot, 'dist', 'cli.js'), 'export-tasks', '--split', 'train', '--n', '64', '--out', tasks], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(exported.status, 0, `durian export-tasks failed: ${exported.stderr}`);
      const dir = path.join(workspace, 'runs', 'ddp-run');
      // python/durian_torchrun.py is `python3 -m torch.distributed.run` with Debian torch 1.13's Python 3.11 bug fixed.
      const args = [path.join(projectRoot, 'python', 'durian_torchrun.py'), '--standalone', '--nproc_per_node', '2', path.join(projectRoot, 'python', 'durian_ddp.py')];
      const trainer = ['--tasks', tasks, '--run-dir', dir, '--steps', '100000', '--d', '16', '--heads', '2', '--layers', '1', '--batch-size', '8', '--group-size', '4', '--reasoning-bins', '4', '--validation-every', '0', '--threads', '1'];
      const child = spawn('/usr/bin/python3', [...args, ...trainer], { cwd: workspace, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' } });
      groups.push(child);
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4000)));
      child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4000)));
      await runningWithSteps(dir, 2, () => output);
      assert.equal(readStatus(dir)?.inbox, 'inbox.jsonl', 'the PyTorch trainer advertises its inbox');
      // A failure below says what the trainer printed (a crashed writer's traceback is only there).
      try {
        await attachedDdpSteps();
      } catch (error) {
        throw new Error(`${(error as Error).message}\ntrainer output (last 3000 characters): ${output.slice(-3000)}\nexit code: ${child.exitCode}, signal: ${child.signalCode}`);
      }
    }));

  async function attachedDdpSteps(): Promise<void> {
    const dir = path.join(vscode.workspaceDir, 'runs', 'ddp-run');

    await vscode.runCommand('Durian: Attach to Run Folder…');
    await vscode.quickPickRow('ddp-run').first().waitFor({ state: 'visible' });
    await vscode.page.keyboard.type('ddp-run');
    await vscode.page.keyboard.press('Enter');
    await vscode.notification(/attached to ddp-run \(running, step \d+\); its controls go through its inbox/).waitFor({ timeout: 30_000 });
    const first = await statusStep();
    await waitForStepAbove(first, 180_000);
    await frame().locator('.chart-grid canvas').first().waitFor({ state: 'visible', timeout: 60_000 });
    await vscode.screenshot('ddp-dashboard');

    await vscode.runCommand('Durian: Open Rollout Groups');
    await frame().locator('.group-row').first().waitFor({ state: 'visible', timeout: 120_000 });
    const before = await frame().locator('.step-facts').innerText();
    await poll('the groups to follow the next step', 180_000, async () => ((await frame().locator('.step-facts').innerText()) !== before ? true : undefined));
    const follow = frame().locator('.follow-live') as Evaluable;
    if (await follow.evaluate((box) => (box as HTMLInputElement).checked)) await follow.click();
    const row = frame().locator('.group-row').first();
    const promptId = (await row.getAttribute('data-prompt-id')) as string;
    await row.locator('.weight-input').fill('0');
    await row.locator('.set-weight').click();
    const n = await appliedStep(new RegExp(`weight of ${escapeRegExp(promptId)} = 0`), 180_000);
    const sent = readJsonl(path.join(dir, 'inbox.jsonl')).find((c) => c.type === 'control/setGroupWeight' && c.promptId === promptId);
    assert.ok(sent, 'the reweight is a line of inbox.jsonl');
    const acknowledged = readJsonl(path.join(dir, 'interventions.jsonl')).find((l) => l.controlId === sent.controlId);
    assert.equal(acknowledged?.step, n, 'the PyTorch trainer acknowledges it in interventions.jsonl from the step the panel shows');
    await vscode.statusBarText(new RegExp(`setGroupWeight applied from step ${n}`), 30_000);
    await vscode.screenshot('ddp-reweight-acknowledged');

    await vscode.runCommand('Durian: Stop Training');
    await vscode.statusBarText(/Durian stopped at step \d+/, 180_000);
    assert.equal(readStatus(dir)?.state, 'stopped');
  }
});
