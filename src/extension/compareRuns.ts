/**
 * What the Compare Runs panel shows of a run, read from its run folder with the host's run-file readers
 * (runFiles.ts): metrics.jsonl and validation.jsonl turned into columns, config.json's estimator, G and seed,
 * status.json's state, the training time and the backend (meta.json, else trainer.log). And which runs a `durian study`
 * folder holds (DIR/study.json, DIR/runs/<cell>), each in its arm: the cell name without its seed.
 */
import { closeSync, existsSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CompareRun } from '../protocol/compare.js';
import { type DashboardRunState, RUN_STATES } from '../protocol/index.js';
import { readRunBackends, readRunConfig, readRunDetails, readRunHistory, readRunStatus, runFolderProblem } from './runFiles.js';

/** What is compared: run folders, or a study folder (whose runs/ may still grow). */
export type CompareSource = { runDirs: string[] } | { studyDir: string };

/** trainer.log's line naming the backend: `... INFO  backend wasm (CPU ...)`. */
const BACKEND_LINE = /\bINFO\s+backend (\S+)/;
/** How much of trainer.log is searched for it (it is among the first lines). */
const BACKEND_SEARCH_BYTES = 64 * 1024;
/** A study cell's name: `<arm>-G<G>-s<seed>` (src/cli/study/settings.ts). */
const STUDY_CELL = /^(.+)-s\d+$/;

/** The arm of a run: its folder name without the seed suffix of a study cell, else estimator and G. */
export function armOf(runName: string, estimator: string | undefined, groupSize: number | undefined): string {
  const cell = STUDY_CELL.exec(runName);
  if (cell) return cell[1];
  return [estimator ?? 'run', groupSize !== undefined ? `G${groupSize}` : undefined].filter(Boolean).join('-');
}

/**
 * The backend of the run's latest start (meta.json: `wasm (CPU ...)` -> `wasm`), else the one trainer.log
 * names (runs written before meta.json existed).
 */
export function readRunBackend(runDir: string): string | undefined {
  const latest = readRunBackends(runDir).at(-1);
  if (latest) return latest.split(' ')[0];
  let fd: number | undefined;
  try {
    fd = openSync(path.join(runDir, 'trainer.log'), 'r');
    const buffer = Buffer.alloc(BACKEND_SEARCH_BYTES);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    return BACKEND_LINE.exec(buffer.toString('utf8', 0, length))?.[1];
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A run folder as the panel shows it. Never throws: missing files leave fields out and tables empty. */
export function readCompareRun(runDir: string): CompareRun {
  const runName = path.basename(runDir);
  const details = readRunDetails(runDir);
  const config = readRunConfig(runDir);
  const status = readRunStatus(runDir);
  const history = readRunHistory(runDir);
  const backend = readRunBackend(runDir);

  const steps: number[] = [];
  const columns: Record<string, (number | null)[]> = {};
  for (const line of history.metrics) {
    // A resumed run repeats the steps after its checkpoint: the later lines replace the earlier ones.
    while (steps.length > 0 && steps[steps.length - 1] >= line.step) {
      steps.pop();
      for (const values of Object.values(columns)) values.pop();
    }
    const row = steps.length;
    steps.push(line.step);
    for (const name in line) {
      if (name === 'step' || name === 'elapsedMs') continue;
      let values = columns[name];
      if (!values) {
        values = new Array<number | null>(row).fill(null);
        columns[name] = values;
      }
      values.push(line[name]);
    }
    for (const values of Object.values(columns)) if (values.length === row) values.push(null);
  }
  const validation = { steps: [] as number[], accuracy: [] as number[], reward: [] as number[] };
  for (const line of history.validations) {
    while (validation.steps.length > 0 && validation.steps[validation.steps.length - 1] >= line.step) {
      validation.steps.pop();
      validation.accuracy.pop();
      validation.reward.pop();
    }
    validation.steps.push(line.step);
    validation.accuracy.push(line.accuracy);
    validation.reward.push(line.reward);
  }
  const state = (status && (RUN_STATES as readonly string[]).includes(status.state) ? status.state : 'stopped') as DashboardRunState;
  return {
    runDir,
    runName,
    arm: armOf(runName, details.estimator, details.groupSize),
    state,
    ...(details.estimator !== undefined ? { estimator: details.estimator } : {}),
    ...(details.groupSize !== undefined ? { groupSize: details.groupSize } : {}),
    ...(details.seed !== undefined ? { seed: details.seed } : {}),
    ...(backend !== undefined ? { backend } : {}),
    ...(typeof config?.steps === 'number' ? { totalSteps: config.steps } : {}),
    ...(details.elapsedMs !== undefined ? { durationMs: details.elapsedMs } : {}),
    train: { steps: Float64Array.from(steps), columns: Object.fromEntries(Object.entries(columns).map(([name, values]) => [name, Float64Array.from(values, (value) => value ?? NaN)])) },
    validation: { steps: Float64Array.from(validation.steps), accuracy: Float64Array.from(validation.accuracy), reward: Float64Array.from(validation.reward) },
  };
}

/** Whether `dir` is a `durian study` folder (it holds study.json and a runs/ folder). */
export function isStudyFolder(dir: string): boolean {
  return existsSync(path.join(dir, 'study.json')) && existsSync(path.join(dir, 'runs'));
}

/** The run folders of a study (DIR/runs/<cell>), by name; cells not started yet are not there. */
export function studyRunDirs(studyDir: string): string[] {
  const runs = path.join(studyDir, 'runs');
  let names: string[];
  try {
    names = readdirSync(runs);
  } catch {
    return [];
  }
  return names
    .sort()
    .map((name) => path.join(runs, name))
    .filter((dir) => {
      try {
        return statSync(dir).isDirectory() && runFolderProblem(dir) === undefined;
      } catch {
        return false;
      }
    });
}

/**
 * A saved comparison that can still be shown: a study folder that still is one, or the saved run folders that
 * are still runs (`runFolderProblem`); undefined when nothing is left or the saved value is not a source.
 */
export function restorableSource(saved: unknown): CompareSource | undefined {
  if (!saved || typeof saved !== 'object') return undefined;
  const { studyDir, runDirs } = saved as { studyDir?: unknown; runDirs?: unknown };
  if (typeof studyDir === 'string') return isStudyFolder(studyDir) ? { studyDir } : undefined;
  if (!Array.isArray(runDirs)) return undefined;
  const kept = runDirs.filter((dir): dir is string => typeof dir === 'string' && runFolderProblem(dir) === undefined);
  return kept.length > 0 ? { runDirs: kept } : undefined;
}
