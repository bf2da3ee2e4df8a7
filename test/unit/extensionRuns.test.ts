/**
 * What the extension host reads from run folders and says about them, on real folders: which folders a
 * panel may open (and let its webview load files from), a status.json whose trainer is gone or unknown,
 * the Runs view's tooltip, the advice after a crash and the summary of a completed run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { listRunSummaries, readRunDetails, readRunStatus, runFolderProblem } from '../../src/extension/runFiles.js';
import { completionMessage, crashAdvice, isResumable, runDisplayName, runStateLabel, runTooltipLines } from '../../src/extension/runReports.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'durian-ext-runs-'));
after(() => rmSync(root, { recursive: true, force: true }));

function jsonl(lines: unknown[]): string {
  return `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;
}

/** A run folder as the trainer writes it. */
function makeRun(name: string, status: Record<string, unknown>, extra: Record<string, string> = {}): string {
  const dir = path.join(root, 'runs', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ estimator: 'durian', steps: 2000, batchSize: 16, groupSize: 8, seed: 3 }));
  writeFileSync(path.join(dir, 'status.json'), JSON.stringify({ step: 0, pid: 1, updatedAt: new Date().toISOString(), ...status }));
  for (const [file, content] of Object.entries(extra)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

/** The pid of a process that has exited (and was reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('which folders the Dashboard and Rollout Groups may open (issue 18 item 12)', () => {
  it('accepts a run folder: config.json and status.json as the trainer writes them', () => {
    const dir = makeRun('good', { state: 'stopped', step: 4 });
    assert.equal(runFolderProblem(dir), undefined);
  });

  it('refuses the root, the home folder, relative paths, missing folders, files and non-strings, naming why', () => {
    assert.match(runFolderProblem('/') ?? '', /root of the file system/);
    assert.match(runFolderProblem(os.homedir()) ?? '', /home folder|no config\.json/);
    assert.match(runFolderProblem('runs/good') ?? '', /not an absolute path/);
    assert.match(runFolderProblem(path.join(root, 'nope')) ?? '', /does not exist/);
    const file = path.join(root, 'a-file');
    writeFileSync(file, '{}');
    assert.match(runFolderProblem(file) ?? '', /not a folder/);
    assert.match(runFolderProblem(42) ?? '', /path is required/);
    assert.match(runFolderProblem('') ?? '', /path is required/);
  });

  it('refuses the home folder even when it holds a config.json and a status.json', () => {
    const home = path.join(root, 'home');
    mkdirSync(home, { recursive: true });
    writeFileSync(path.join(home, 'config.json'), '{}');
    writeFileSync(path.join(home, 'status.json'), '{"state":"stopped"}');
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      assert.match(runFolderProblem(home) ?? '', /home folder/);
    } finally {
      process.env.HOME = saved;
    }
  });

  it('refuses a folder that is not a run: no status.json, a config that is not an object, a status without a state, a linked config', () => {
    const noStatus = path.join(root, 'no-status');
    mkdirSync(noStatus);
    writeFileSync(path.join(noStatus, 'config.json'), '{}');
    assert.match(runFolderProblem(noStatus) ?? '', /no status\.json/);
    const badConfig = makeRun('bad-config', { state: 'stopped' });
    writeFileSync(path.join(badConfig, 'config.json'), '[1, 2]');
    assert.match(runFolderProblem(badConfig) ?? '', /config\.json is not a JSON object/);
    const badStatus = makeRun('bad-status', {});
    writeFileSync(path.join(badStatus, 'status.json'), '{"step": 3}');
    assert.match(runFolderProblem(badStatus) ?? '', /status\.json is not a run status \(\{state, step, pid, updatedAt\}/);
    writeFileSync(path.join(badStatus, 'status.json'), '{"state": "exploded", "step": 3, "pid": 1, "updatedAt": "2026-12-02T00:00:00Z"}');
    assert.match(runFolderProblem(badStatus) ?? '', /status\.json is not a run status/, 'a state outside the format is refused');
    const linked = makeRun('linked', { state: 'stopped' });
    rmSync(path.join(linked, 'config.json'));
    symlinkSync('/etc/hostname', path.join(linked, 'config.json'));
    assert.match(runFolderProblem(linked) ?? '', /config\.json is not a file/);
  });
});

describe('a status.json that says running (issue 12 item 12)', () => {
  it('whose trainer has exited reads as crashed (trainer gone), labelled interrupted and resumable, with what to do', () => {
    const pid = deadPid();
    const dir = makeRun('gone', { state: 'running', step: 7, pid });
    const status = readRunStatus(dir);
    assert.equal(status?.state, 'crashed');
    assert.equal(status?.trainer, 'gone');
    const run = { ...status!, name: 'gone', dir, trainedHere: false };
    assert.equal(runStateLabel(run), 'interrupted');
    assert.equal(isResumable(run), true);
    assert.match(runTooltipLines({ ...run, ...readRunDetails(dir) }).join('\n'), new RegExp(`trainer \\(process ${pid}\\) has exited.*Resume Run continues`));
  });

  it('whose pid is alive but not this window\'s trainer (a reused pid) stays resumable, with an explanation', () => {
    // This test process stands for "some other program that now has the pid".
    const dir = makeRun('stale', { state: 'running', step: 5, pid: process.pid });
    const [summary] = listRunSummaries(path.join(root, 'runs')).filter((run) => run.name === 'stale');
    assert.equal(summary.state, 'running');
    assert.equal(summary.trainer, 'unknown');
    const run = { ...summary, trainedHere: false };
    assert.equal(runStateLabel(run), 'running?');
    assert.equal(isResumable(run), true, 'a stale pid must not hide Resume');
    const tooltip = runTooltipLines({ ...run, ...readRunDetails(dir) }).join('\n');
    assert.match(tooltip, new RegExp(`process ${process.pid}, which is not this window's trainer`));
    assert.match(tooltip, /use Resume Run/);
  });

  it('of the run this window trains is not resumable and says running', () => {
    const dir = makeRun('mine', { state: 'running', step: 5, pid: process.pid });
    const run = { ...readRunStatus(dir)!, name: 'mine', dir, trainedHere: true };
    assert.equal(runStateLabel(run), 'running');
    assert.equal(isResumable(run), false);
  });
});

describe('the Runs view tooltip and the completion notification (issue 12 items 11, 12)', () => {
  const validations = [
    { step: 0, accuracy: 0.41, reward: 0.4 },
    { step: 100, accuracy: 0.5, reward: 0.5 },
    { step: 200, accuracy: 0.64, reward: 0.6 },
  ];
  const metrics = Array.from({ length: 200 }, (_, i) => ({ step: i + 1, elapsedMs: (i + 1) * 1500, 'reward/mean': 0.5 }));

  it('reads the estimator, G, B, seed, step/total, final validation accuracy and training time', () => {
    const dir = makeRun('done', { state: 'completed', step: 200, totalSteps: 2000 }, {
      'validation.jsonl': jsonl(validations),
      'metrics.jsonl': `${jsonl(metrics)}{"step": 201, "elaps`,
      'checkpoints/latest': 'step-000200\n',
    });
    const details = readRunDetails(dir);
    assert.deepEqual(details.firstValidation, { step: 0, accuracy: 0.41 });
    assert.deepEqual(details.lastValidation, { step: 200, accuracy: 0.64 });
    assert.equal(details.elapsedMs, 300_000, 'the last whole metrics line (a torn last line is skipped)');
    assert.equal(details.hasCheckpoint, true);
    const lines = runTooltipLines({ ...readRunStatus(dir)!, ...details, name: 'done', dir, totalSteps: 2000, trainedHere: false });
    const text = lines.join('\n');
    assert.match(text, /estimator durian · G = 8 · B = 16 · seed 3/);
    assert.match(text, /step 200 \/ 2000/);
    assert.match(text, /final validation accuracy 0\.640 \(step 200; 0\.410 at step 0\)/);
    assert.match(text, /training time 5m 00s/);
  });

  it('shows the extension\'s run names short (the state beside them fits a narrow side bar), others as they are', () => {
    assert.equal(runDisplayName('20261202-004037-durian'), '12-02 00:40 durian');
    assert.equal(runDisplayName('2026-01-01-demo'), '2026-01-01-demo');
  });

  it('says how validation accuracy changed over a completed run', () => {
    const dir = makeRun('completed', { state: 'completed', step: 200 }, { 'validation.jsonl': jsonl(validations), 'metrics.jsonl': jsonl(metrics) });
    assert.equal(
      completionMessage('completed', 200, readRunDetails(dir)),
      'Durian: run completed completed 200 steps in 5m 00s; validation accuracy 0.410 -> 0.640 (step 0 -> 200).',
    );
    assert.match(completionMessage('x', 3, { hasCheckpoint: false }), /no validation was recorded/);
  });
});

describe('what to do after a crash (issue 12 item 1)', () => {
  it('before the run folder existed: fix and start again, nothing to resume', () => {
    const advice = crashAdvice({ runFolderExists: false, hasCheckpoint: false, step: 0 });
    assert.match(advice, /no run folder was created/);
    assert.match(advice, /Durian: Start Training/);
    assert.doesNotMatch(advice, /Resume/);
  });

  it('with a run folder but no checkpoint: start a new run', () => {
    assert.match(crashAdvice({ runFolderExists: true, hasCheckpoint: false, step: 0 }), /no checkpoint yet.*new run/);
  });

  it('with a checkpoint: resume it', () => {
    assert.match(crashAdvice({ runFolderExists: true, hasCheckpoint: true, step: 40 }), /Durian: Resume Run" continues it from its last checkpoint/);
  });
});
