/**
 * `durian study`: a grid of real training runs (estimator x G x seed, plus Durian's sensitivity cells),
 * each the trainer bundle started exactly as `durian train` starts it, in its own run directory
 * DIR/runs/<cell>; then DIR/report.md, DIR/plots/*.svg and DIR/results.json from the run directories.
 *
 * Resumable: a finished cell (status completed at the requested step, with its final validation) is
 * skipped; an interrupted one is continued with `--resume` (bit-exact on the same backend). DIR/study.json
 * records the settings; a re-run with other settings is refused with the differences named. Ctrl+C stops
 * the current cell after its step (checkpoint written) and writes the report of what is finished.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DurianInputError } from '../../core/index.js';
import { CONFIG_FILE, EVENT, LOG_FILE, type TrainerEvent } from '../../protocol/index.js';
import { parseTrainConfig } from '../../trainer/config.js';
import { writeBytesAtomic } from '../../trainer/run/atomic.js';
import { isProcessAlive } from '../../trainer/run/index.js';
import { ProgressBar, formatDuration, formatTable } from '../progress.js';
import { type TrainerProcess, startTrainerProcess } from '../train.js';
import { type StudyMeta, comparisonText, renderReport, toJson, writeReport } from './report.js';
import { type CellResult, type CellState, cellState, readCells, readStatus, summarizeStudy } from './results.js';
import { type CellSpec, STUDY_HELP, type StudySettings, canonicalJson, parseStudyInvocation, settingsDifferences, studyCells } from './settings.js';
import { activeCells, recordTask, reportLockFolder, seedLockFolder, slurmTaskSeconds, submitCells, waitForLock } from './slurm.js';

export { STUDY_HELP } from './settings.js';

interface StudyFile {
  format: 'durian-study/1';
  createdAt: string;
  settings: StudySettings;
  invocations: { command: string; commit: string; startedAt: string; wallSeconds: number }[];
}

const STUDY_FILE = 'study.json';
const LOCK_FILE = 'study.lock';

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,+@%-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command as typed, as far as the process can tell (`node dist/cli.js study ...`). */
function commandLine(argv: string[]): string {
  const script = process.argv[1] ? path.relative(process.cwd(), process.argv[1]) || process.argv[1] : 'durian';
  return ['node', script, 'study', ...argv].map(shellQuote).join(' ');
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['-C', __dirname, 'rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    if (!/^[0-9a-f]{40}$/.test(head)) return 'unknown';
    let dirty = false;
    try {
      dirty = execFileSync('git', ['-C', __dirname, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim().length > 0;
    } catch {
      // Unknown cleanliness: report the commit alone.
    }
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

function machineInfo(): StudyMeta['machine'] {
  const cpus = os.cpus();
  return {
    cpus: cpus[0]?.model?.trim() || 'unknown CPU',
    cpuCount: cpus.length,
    platform: `${os.platform()} ${os.release()} (${os.arch()})`,
    node: process.version,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}

function readStudyFile(dir: string): StudyFile | null {
  const file = path.join(dir, STUDY_FILE);
  if (!existsSync(file)) return null;
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as StudyFile;
    if (value.format !== 'durian-study/1' || !value.settings) throw new Error('not a durian-study/1 file');
    return value;
  } catch (error) {
    throw new DurianInputError('--out', `${file} is unreadable (${(error as Error).message}); it records the study's settings — restore it or choose another --out`);
  }
}

function writeStudyFile(dir: string, study: StudyFile): void {
  writeBytesAtomic(path.join(dir, STUDY_FILE), toJson(study));
}

function acquireLock(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid !== process.pid && isProcessAlive(pid)) {
        throw new DurianInputError('--out', `another durian study (process ${pid}) is running in ${dir}; wait for it or stop it first`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new DurianInputError('--out', `cannot lock ${dir} (${file})`);
}

/** Refuses a run directory whose config differs from the cell's (steps included: the lr schedule spans them). */
function checkExistingCell(dir: string, cell: CellSpec): void {
  const runDir = path.join(dir, 'runs', cell.name);
  const file = path.join(runDir, CONFIG_FILE);
  if (!existsSync(file)) return;
  let stored: unknown;
  try {
    stored = parseTrainConfig(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    throw new DurianInputError('--out', `cell ${cell.name}: ${file} is not a readable trainer config (${(error as Error).message}); remove that run directory to redo the cell`);
  }
  const differences = settingsDifferences(stored, cell.config);
  if (differences.length > 0) {
    throw new DurianInputError(
      '--out',
      `cell ${cell.name} in ${runDir} was trained with another config:\n  - ${differences.join('\n  - ').replace(/ in the study, /g, ' there, ')}\nUse the arguments it was made with, or another --out`,
    );
  }
  const status = readStatus(runDir);
  if (status && (status.state === 'running' || status.state === 'paused') && status.pid !== process.pid && isProcessAlive(status.pid)) {
    throw new DurianInputError('--out', `cell ${cell.name} is being trained by process ${status.pid}; stop it first`);
  }
}

function metaOf(study: StudyFile, extraSeconds = 0): StudyMeta {
  const commits = [...new Set(study.invocations.map((i) => i.commit))];
  return {
    commands: study.invocations.map((i) => i.command),
    commit: commits.length <= 1 ? (commits[0] ?? 'unknown') : commits.join(', then '),
    machine: machineInfo(),
    wallSeconds: study.invocations.reduce((t, i) => t + i.wallSeconds, 0) + extraSeconds,
    invocations: study.invocations.length,
    createdAt: study.createdAt,
    generatedAt: new Date().toISOString(),
  };
}

function report(dir: string, study: StudyFile, print: (line: string) => void): CellResult[] {
  const cells = readCells(dir, study.settings);
  const summary = summarizeStudy(study.settings, cells);
  writeReport(dir, renderReport(study.settings, cells, summary, metaOf(study, slurmTaskSeconds(dir))));
  const rows: (string | number)[][] = [['estimator', 'G', 'n', 'final accuracy', 'vs grpo']];
  for (const arm of summary.arms) {
    const c = summary.vsGrpo.find((x) => x.arm === arm.arm && x.groupSize === arm.groupSize);
    rows.push([
      arm.label,
      arm.groupSize,
      arm.final.n,
      arm.final.n === 0 ? '-' : `${arm.final.mean.toFixed(3)}${arm.final.n > 1 ? ` ± ${arm.final.std.toFixed(3)}` : ''}`,
      arm.arm === 'grpo' ? '(baseline)' : c ? (c.verdict === 'untestable' ? 'untestable (n < 2)' : `${c.verdict} (p ${c.test.possible ? c.test.p.toFixed(3) : '-'})`) : '-',
    ]);
  }
  print('');
  print(formatTable(rows));
  for (const c of summary.durianVerdicts) {
    print(`durian vs ${c.against} at G=${c.groupSize}: ${comparisonText(c).replace(/\*\*/g, '')}`);
  }
  print(`report: ${path.join(dir, 'report.md')} (${summary.complete} of ${summary.total} cells finished); data: ${path.join(dir, 'results.json')}`);
  return cells;
}

export async function runStudy(argv: string[], print: (line: string) => void): Promise<number> {
  const invocation = parseStudyInvocation(argv);
  if (invocation.help) {
    print(STUDY_HELP);
    return 0;
  }
  const dir = invocation.out;
  for (const note of invocation.notes) process.stderr.write(`note: ${note}\n`);

  if (invocation.reportOnly) {
    const study = readStudyFile(dir);
    if (!study) throw new DurianInputError('--out', `${dir} holds no study (${STUDY_FILE} is missing)`);
    report(dir, study, print);
    return 0;
  }

  // --cell (a Slurm array task): one cell of the study recorded in DIR; no study lock (its sibling tasks run at
  // the same time), study.json is only read, and the report is rebuilt under a lock when the cell ends.
  const cellMode = invocation.cell !== undefined;
  const recorded = cellMode ? readStudyFile(dir) : null;
  if (cellMode && !recorded) throw new DurianInputError('--out', `${dir} holds no study (${STUDY_FILE} is missing); --cell trains a cell of a study prepared by \`durian study --slurm\``);
  const settings = recorded?.settings ?? invocation.settings;
  mkdirSync(path.join(dir, 'runs'), { recursive: true });
  const release = cellMode ? () => undefined : acquireLock(dir);
  const started = Date.now();
  let study: StudyFile | null = null;
  let invocationIndex = -1;
  const saveWall = () => {
    if (!study || cellMode) return;
    study.invocations[invocationIndex].wallSeconds = (Date.now() - started) / 1000;
    writeStudyFile(dir, study);
  };
  try {
    const existing = readStudyFile(dir);
    if (!cellMode && existing && canonicalJson(existing.settings) !== canonicalJson(settings)) {
      const differences = settingsDifferences(existing.settings, settings);
      throw new DurianInputError(
        '--out',
        `${dir} holds a study with other settings; mixing them would make its comparisons meaningless:\n  - ${differences.join('\n  - ')}\n` +
          `Re-run with the arguments it was made with (see its report.md), or choose another --out`,
      );
    }
    const grid = studyCells(settings);
    const cells = cellMode ? grid.filter((cell) => cell.name === invocation.cell) : grid;
    if (cells.length === 0) throw new DurianInputError('--cell', `${dir}'s study has no cell ${JSON.stringify(invocation.cell)} (its cells: ${grid.map((c) => c.name).join(', ')})`);
    // Cells a Slurm job of this study still holds are neither checked nor submitted again.
    const held = invocation.slurm ? activeCells(dir) : new Set<string>();
    for (const cell of cells) if (!held.has(cell.name)) checkExistingCell(dir, cell);

    study = existing ?? { format: 'durian-study/1', createdAt: new Date().toISOString(), settings, invocations: [] };
    if (!cellMode) {
      study.invocations.push({ command: commandLine(argv), commit: gitCommit(), startedAt: new Date(started).toISOString(), wallSeconds: 0 });
      invocationIndex = study.invocations.length - 1;
      writeStudyFile(dir, study);
      mkdirSync(path.join(dir, 'configs'), { recursive: true });
      for (const cell of cells) writeFileSync(path.join(dir, 'configs', `${cell.name}.json`), `${JSON.stringify(cell.raw, null, 2)}\n`);
    }

    const states = new Map<string, CellState>(cells.map((cell) => [cell.name, cellState(path.join(dir, 'runs', cell.name), settings.steps)]));
    const pending = cells.filter((cell) => states.get(cell.name) !== 'complete' && !held.has(cell.name));
    const count = (state: CellState) => cells.filter((c) => states.get(c.name) === state && !held.has(c.name)).length;
    print(
      `study ${dir}: ${cells.length} cells of ${settings.steps} steps — ${count('complete')} finished (skipped), ${count('partial')} to resume, ${count('new')} to start` +
        (held.size > 0 ? `, ${held.size} queued or running in Slurm (left to it)` : ''),
    );
    if (invocation.slurm) {
      if (pending.length === 0) {
        print(held.size > 0 ? 'nothing to submit: every unfinished cell is queued or running in Slurm (squeue shows them)' : 'nothing to submit: every cell is finished');
        report(dir, study, print);
        return 0;
      }
      const submission = submitCells(dir, pending, { sbatchArgs: invocation.slurm.sbatchArgs, concurrent: invocation.slurm.concurrent, cacheDir: invocation.cacheDir });
      print(`submitted Slurm array job ${submission.jobId}: ${pending.length} task${pending.length === 1 ? '' : 's'}, one cell each (logs in ${path.join(dir, 'slurm', 'logs')})`);
      print(`each task rebuilds ${path.join(dir, 'report.md')} as it finishes; watch with \`squeue -j ${submission.jobId}\`; re-run this command to submit what failed`);
      return 0;
    }
    // A Slurm task waits while a sibling task of the same seed builds the cached base policy.
    const seedLock = cellMode && pending.length > 0 ? await waitForLock(seedLockFolder(dir, pending[0].seed)) : null;

    const failures: string[] = [];
    let interrupted = false;
    let fatalConfig: string | null = null;
    const running = new Map<string, { trainer: TrainerProcess | null; step: number; seed: number; ready: boolean }>();
    let interrupts = 0;
    const onInterrupt = () => {
      interrupts++;
      interrupted = true;
      if (interrupts === 1) {
        process.stderr.write(`\nstopping the running cell${running.size === 1 ? '' : 's'} after this step (Ctrl+C again to kill the trainer); re-run the same command to continue\n`);
        for (const cell of running.values()) cell.trainer?.stop();
      } else {
        for (const cell of running.values()) cell.trainer?.kill();
      }
    };
    process.on('SIGINT', onInterrupt);
    process.on('SIGTERM', onInterrupt);
    const progress = pending.length > 0 ? new ProgressBar({ total: pending.length, label: 'study' }) : null;
    let finished = 0;
    const fields = () => Object.fromEntries([...running.entries()].map(([name, cell]) => [name, `${cell.step}/${settings.steps}`]));
    const redraw = () => progress?.update(finished, fields());
    const say = (line: string, stream: NodeJS.WriteStream = process.stdout) => {
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
      if (stream === process.stdout) print(line);
      else stream.write(`${line}\n`);
    };

    /** Runs one cell to its end (completed, stopped, or failed). */
    const runCell = async (cell: CellSpec, k: number, onReady: () => void): Promise<void> => {
      const runDir = path.join(dir, 'runs', cell.name);
      const resume = states.get(cell.name) === 'partial';
      // A cell stopped before its first checkpoint has nothing to continue from: it starts over (the study owns it).
      const args = resume ? ['--resume', runDir, '--from-scratch', '--steps', String(settings.steps)] : ['--config', path.join(dir, 'configs', `${cell.name}.json`), '--out', runDir];
      if (invocation.cacheDir) args.push('--cache-dir', invocation.cacheDir);
      const cellStarted = Date.now();
      const entry = { trainer: null as TrainerProcess | null, step: resume ? (readStatus(runDir)?.step ?? 0) : 0, seed: cell.seed, ready: false };
      running.set(cell.name, entry);
      const ready = () => {
        if (!entry.ready) {
          entry.ready = true;
          onReady();
        }
      };
      redraw();
      const tag = `[${k + 1}/${pending.length}] ${cell.name}`;
      entry.trainer = startTrainerProcess(args, {
        onEvent: (event: TrainerEvent) => {
          if (event.type === EVENT.hello) {
            say(`${tag}: ${resume ? `resumed from step ${event.resumedFromStep ?? 0}` : 'started'} (backend ${event.backend})`);
          } else if (event.type === EVENT.step) {
            entry.step = event.step;
            ready();
            redraw();
          } else if (event.type === EVENT.validation) {
            ready();
          } else if (event.type === EVENT.error) {
            say(`${cell.name}: ${event.fatal ? 'error' : 'warning'}: ${event.message}${event.where ? ` (at ${event.where})` : ''}`, process.stderr);
          } else if (event.type === EVENT.log && (event.level === 'warn' || event.level === 'error')) {
            say(`${cell.name}: ${event.level}: ${event.message}`, process.stderr);
          }
        },
        onBadLine: (line, error) => say(`${cell.name}: unreadable trainer event on line ${line}: ${error}`, process.stderr),
        onStderr: () => undefined,
      });
      if (interrupted) entry.trainer.stop();
      const result = await entry.trainer.exit;
      running.delete(cell.name);
      ready();
      finished++;
      const state = cellState(runDir, settings.steps);
      const seconds = (Date.now() - cellStarted) / 1000;
      if (state === 'complete') {
        const final = result.done?.summary.validationAccuracyAfter;
        say(`${tag}: finished in ${formatDuration(seconds)}, final validation accuracy ${final === undefined ? '?' : final.toFixed(3)}`);
      } else if (interrupted && result.code !== 2) {
        say(`${tag}: stopped at step ${readStatus(runDir)?.step ?? 0} of ${settings.steps}; it resumes from its checkpoint on the next run`);
      } else {
        failures.push(cell.name);
        // Exit code 2: the trainer refused its arguments or config; every other cell would fail the same way.
        if (result.code === 2) fatalConfig = result.fatal ?? `trainer exit code 2 (see ${path.join(runDir, LOG_FILE)})`;
        const tail = result.stderrTail.trim().split('\n').slice(-8).join('\n    ');
        say(
          `${tag}: FAILED (trainer exit code ${result.code}${result.fatal ? `: ${result.fatal}` : ''}); see ${path.join(runDir, LOG_FILE)}${tail ? `\n    ${tail}` : ''}`,
          process.stderr,
        );
      }
      saveWall();
      redraw();
    };

    // Up to --jobs cells at once. A seed's first cell runs alone until its base policy is built (its first
    // validation or step), so that two trainers never build the same cached base policy side by side.
    try {
      const queue = pending.map((cell, k) => ({ cell, k }));
      const active = new Set<Promise<void>>();
      let wake: () => void = () => undefined;
      const seedReady = new Set<number>();
      while (queue.length > 0 || active.size > 0) {
        if (!interrupted && !fatalConfig) {
          while (active.size < invocation.jobs) {
            const index = queue.findIndex(({ cell }) => seedReady.has(cell.seed) || ![...running.values()].some((r) => r.seed === cell.seed));
            if (index < 0) break;
            const [{ cell, k }] = queue.splice(index, 1);
            const task: Promise<void> = runCell(cell, k, () => {
              seedReady.add(cell.seed);
              seedLock?.release();
              wake();
            }).finally(() => {
              active.delete(task);
              wake();
            });
            active.add(task);
          }
        }
        if (active.size === 0) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      seedLock?.release();
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onInterrupt);
      // Interrupted: the bar ends where the study stopped, not at its total.
      if (interrupted) progress?.stop();
      else progress?.finish();
    }
    saveWall();
    if (cellMode) {
      recordTask(dir, cells[0].name, { startedAt: new Date(started).toISOString(), wallSeconds: (Date.now() - started) / 1000, host: os.hostname(), job: `${process.env.SLURM_ARRAY_JOB_ID ?? '-'}_${process.env.SLURM_ARRAY_TASK_ID ?? '-'}` });
      const reportLock = await waitForLock(reportLockFolder(dir));
      try {
        report(dir, study, print);
      } finally {
        reportLock.release();
      }
    } else {
      report(dir, study, print);
    }
    if (interrupted) {
      print(`interrupted after ${formatDuration((Date.now() - started) / 1000)}: re-run the same command to continue`);
      return 130;
    }
    if (fatalConfig) {
      print(`stopped: the trainer refused the config of ${failures[failures.length - 1]}: ${fatalConfig}`);
      return 2;
    }
    if (failures.length > 0) {
      print(`${failures.length} cell${failures.length === 1 ? '' : 's'} failed (${failures.join(', ')}); re-run the same command to retry them (they resume from their checkpoints)`);
      return 1;
    }
    print(`study finished in ${formatDuration((Date.now() - started) / 1000)} (this invocation)`);
    return 0;
  } finally {
    release();
  }
}
