/**
 * `RunDirectory`: the one writer of a run's folder (layout in ./layout.ts). The trainer creates it at
 * start or opens it to resume; every path built from input is checked to stay inside it; every write
 * is either an fsynced append of whole lines (JSONL records) or an atomic replace (config, status,
 * rollouts of a step, images, checkpoints), so a crash or a full disk never leaves a half-written
 * config or checkpoint. Failures are RunDirectoryErrors naming the file and the cause.
 *
 * Resume, in order: `open` (removes unfinished `.tmp-` writes) -> `repairTornLines` ->
 * `readLatestCheckpoint` -> `truncateAfterStep(checkpoint.step)`; `prepareResume` does all four.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Control, type RolloutGroup, type ValidationEvent, controlKindOf, parseRolloutGroup } from '../../protocol/index.js';
import type { ControlKind } from '../../protocol/index.js';
import { removeQuietly, writeBytesAtomic, writeJsonAtomic } from './atomic.js';
import { type CheckpointInfo, type CheckpointPart, type LoadedCheckpoint, listCheckpointSteps, readLatestCheckpoint, readLatestPointer, writeCheckpoint } from './checkpoints.js';
import { RunDirectoryError, fsFailure, guardFs } from './errors.js';
import { appendJsonl, filterJsonl, readJsonl, repairTornTail } from './jsonl.js';
import {
  CHECKPOINTS_DIR,
  CONFIG_FILE,
  IMAGES_DIR,
  INTERVENTIONS_FILE,
  LATEST_POINTER,
  LOG_FILE,
  METRICS_FILE,
  ROLLOUTS_DIR,
  STATUS_FILE,
  STEP_LOGS,
  TMP_PREFIX,
  VALIDATION_FILE,
  checkStep,
  rolloutsFile,
  stepName,
  stepOfName,
} from './layout.js';
import { checkName, resolveInside } from './paths.js';
import { type RunState, type RunStatus, asRunStatus, isProcessAlive } from './status.js';

export interface RunDirectoryOptions {
  /** Checkpoints kept on disk (the newest ones); default 3. */
  keepCheckpoints?: number;
  /** Open even if status.json says another live process is training this run. */
  ignoreInUse?: boolean;
}

/** One line of metrics.jsonl: the step, then metrics named as in verl. Non-finite values are stored as null. */
export interface MetricsRecord {
  step: number;
  [metric: string]: number | null;
}

/** One line of interventions.jsonl. */
export interface InterventionRecord {
  /** The step from which the control holds (as in `trainer/applied`). */
  step: number;
  /** ISO 8601 time it was applied. */
  at: string;
  kind: ControlKind;
  controlId: string;
  control: Control;
}

export type ValidationRecord = Omit<ValidationEvent, 'type'>;

export interface RepairReport {
  /** Total bytes cut from the ends of JSONL files. */
  bytesCut: number;
  /** Files that were cut, relative to the run directory. */
  files: { file: string; bytesCut: number }[];
}

export interface TruncateReport {
  step: number;
  /** Lines removed per JSONL file (only files that changed). */
  linesRemoved: Record<string, number>;
  rolloutStepsRemoved: number[];
  checkpointStepsRemoved: number[];
}

export interface ResumePlan {
  repair: RepairReport;
  /** Null when the run has no intact checkpoint: it starts again from step 0. */
  checkpoint: LoadedCheckpoint | null;
  truncate: TruncateReport;
}

const DEFAULT_KEEP_CHECKPOINTS = 3;

function isRecordWithStep(value: unknown): value is { step: number } {
  return value !== null && typeof value === 'object' && typeof (value as { step?: unknown }).step === 'number';
}

export class RunDirectory {
  /** Absolute path of the run folder. */
  readonly dir: string;
  readonly name: string;
  private readonly keepCheckpoints: number;

  private constructor(dir: string, options: RunDirectoryOptions) {
    this.dir = dir;
    this.name = path.basename(dir);
    const keep = options.keepCheckpoints ?? DEFAULT_KEEP_CHECKPOINTS;
    if (!Number.isInteger(keep) || keep < 1) {
      throw new RunDirectoryError(dir, 'INVALID_INPUT', `keepCheckpoints must be a whole number >= 1, got ${String(keep)}`);
    }
    this.keepCheckpoints = keep;
  }

  /** `runsFolder/name`, after checking that `name` is a safe single folder name. */
  static runPath(runsFolder: string, name: string): string {
    return resolveInside(runsFolder, checkName(name, 'run name'), 'run name');
  }

  /** Creates a new run: its folders, config.json and a `running` status at step 0. */
  static create(runsFolder: string, name: string, config: unknown, options: RunDirectoryOptions = {}): RunDirectory {
    const dir = RunDirectory.runPath(runsFolder, name);
    const run = new RunDirectory(dir, options);
    const existed = fs.existsSync(dir);
    if (existed && fs.existsSync(path.join(dir, CONFIG_FILE))) {
      throw new RunDirectoryError(dir, 'RUN_EXISTS', `A run named ${JSON.stringify(name)} already exists in ${path.resolve(runsFolder)}; resume it or choose another name`);
    }
    try {
      for (const sub of ['', ROLLOUTS_DIR, IMAGES_DIR, CHECKPOINTS_DIR]) {
        const folder = path.join(dir, sub);
        guardFs('create the folder', folder, () => fs.mkdirSync(folder, { recursive: true }));
      }
      run.writeStatus('running', 0);
      writeJsonAtomic(run.resolve(CONFIG_FILE), config);
    } catch (error) {
      if (!existed) removeQuietly(dir);
      throw error;
    }
    return run;
  }

  /**
   * Opens an existing run to resume it: checks it is a run and that no other live trainer holds it,
   * and removes unfinished `.tmp-` writes left by a crash.
   */
  static open(dir: string, options: RunDirectoryOptions = {}): RunDirectory {
    const run = new RunDirectory(path.resolve(dir), options);
    if (!fs.existsSync(path.join(run.dir, CONFIG_FILE))) {
      throw new RunDirectoryError(run.dir, 'NOT_A_RUN', `${run.dir} is not a run directory (it has no ${CONFIG_FILE})`);
    }
    const status = run.readStatus();
    if (!options.ignoreInUse && status && (status.state === 'running' || status.state === 'paused') && status.pid !== process.pid && isProcessAlive(status.pid)) {
      throw new RunDirectoryError(run.dir, 'IN_USE', `Run ${run.name} is being trained by process ${status.pid}; stop it first (or, if that process is not a trainer, open with ignoreInUse)`);
    }
    run.removeLeftovers();
    return run;
  }

  /** An absolute path inside the run directory; throws UNSAFE_PATH for `../`, absolute paths, NUL bytes. */
  resolve(relative: string, what = 'path'): string {
    return resolveInside(this.dir, relative, what);
  }

  // ---- generic writes ----

  /** Appends one record as a line of `file` (relative), then fsyncs. */
  appendJsonl(file: string, record: unknown): void {
    appendJsonl(this.resolve(file, 'JSONL file'), [record]);
  }

  /** Appends several records with one write and one fsync. */
  appendJsonlLines(file: string, records: readonly unknown[]): void {
    if (records.length > 0) appendJsonl(this.resolve(file, 'JSONL file'), records);
  }

  writeJsonAtomic(file: string, value: unknown): void {
    writeJsonAtomic(this.resolve(file), value);
  }

  writeBytesAtomic(file: string, bytes: Uint8Array | string): void {
    writeBytesAtomic(this.resolve(file), bytes);
  }

  // ---- records ----

  readConfig(): unknown {
    const file = this.resolve(CONFIG_FILE);
    return guardFs('read', file, () => JSON.parse(fs.readFileSync(file, 'utf8')) as unknown);
  }

  appendMetrics(step: number, metrics: Readonly<Record<string, number>>, elapsedMs?: number): void {
    const record: Record<string, number | null> = { step: checkStep(step) };
    if (elapsedMs !== undefined) record.elapsedMs = elapsedMs;
    for (const [name, value] of Object.entries(metrics)) {
      if (name !== 'step') record[name] = Number.isFinite(value) ? value : null;
    }
    this.appendJsonl(METRICS_FILE, record);
  }

  /** Every complete metrics line in order (unparsable lines skipped). */
  readMetrics(): MetricsRecord[] {
    return readJsonl(this.resolve(METRICS_FILE)).records.filter(isRecordWithStep) as MetricsRecord[];
  }

  /** Writes a step's rollout groups (one per line) atomically, after checking each against the protocol. */
  writeRollouts(step: number, groups: readonly RolloutGroup[]): void {
    const file = this.resolve(rolloutsFile(step));
    const lines = groups.map((group, i) => {
      const checked = parseRolloutGroup(group, `groups[${i}]`);
      if (!checked.ok) throw new RunDirectoryError(file, 'INVALID_INPUT', `Refusing to write ${rolloutsFile(step)}: ${checked.error}`);
      return `${JSON.stringify(checked.value)}\n`;
    });
    writeBytesAtomic(file, lines.join(''));
  }

  /** The rollout groups of a step; throws ENOENT if none were recorded, CORRUPT for a bad line. */
  readRollouts(step: number): RolloutGroup[] {
    const relative = rolloutsFile(step);
    const file = this.resolve(relative);
    if (!fs.existsSync(file)) throw fsFailure('read', file, Object.assign(new Error('missing'), { code: 'ENOENT' }));
    const content = readJsonl(file);
    if (content.badLines.length > 0) {
      throw new RunDirectoryError(file, 'CORRUPT', `${relative} line ${content.badLines[0]} is not valid JSON`);
    }
    return content.records.map((record, i) => {
      const checked = parseRolloutGroup(record, `${relative} line ${i + 1}`);
      if (!checked.ok) throw new RunDirectoryError(file, 'CORRUPT', checked.error);
      return checked.value;
    });
  }

  /** Steps that have a rollouts file, ascending. */
  listRolloutSteps(): number[] {
    const folder = this.resolve(ROLLOUTS_DIR);
    const names = guardFs('list', folder, () => (fs.existsSync(folder) ? fs.readdirSync(folder) : []));
    return names.flatMap((name) => {
      const step = stepOfName(name, '.jsonl');
      return step === undefined ? [] : [step];
    }).sort((a, b) => a - b);
  }

  /** Records a control that took effect; `step` is the step from which it holds. */
  appendIntervention(step: number, control: Control, at: Date = new Date()): void {
    const record: InterventionRecord = { step: checkStep(step), at: at.toISOString(), kind: controlKindOf(control), controlId: control.controlId, control };
    this.appendJsonl(INTERVENTIONS_FILE, record);
  }

  readInterventions(): InterventionRecord[] {
    return readJsonl(this.resolve(INTERVENTIONS_FILE)).records.filter(isRecordWithStep) as InterventionRecord[];
  }

  appendValidation(record: ValidationRecord): void {
    checkStep(record.step);
    this.appendJsonl(VALIDATION_FILE, record);
  }

  readValidation(): ValidationRecord[] {
    return readJsonl(this.resolve(VALIDATION_FILE)).records.filter(isRecordWithStep) as ValidationRecord[];
  }

  /** Writes `images/<name>` atomically; returns the path relative to the run (for RolloutGroup.image). */
  writeImage(name: string, png: Uint8Array): string {
    const relative = `${IMAGES_DIR}/${checkName(name, 'image name')}`;
    this.writeBytesAtomic(relative, png);
    return relative;
  }

  /** The absolute path of an image named in a message, checked to lie inside `images/`. */
  resolveImage(relative: string): string {
    const full = this.resolve(relative, 'image path');
    if (!full.startsWith(this.resolve(IMAGES_DIR) + path.sep)) {
      throw new RunDirectoryError(relative, 'UNSAFE_PATH', `image path ${JSON.stringify(relative)} must lie inside ${IMAGES_DIR}/`);
    }
    return full;
  }

  writeStatus(state: RunState, step: number, message?: string): void {
    const status: RunStatus = { state, step: checkStep(step), pid: process.pid, updatedAt: new Date().toISOString(), ...(message ? { message } : {}) };
    writeJsonAtomic(this.resolve(STATUS_FILE), status);
  }

  /** The status, or null when status.json is missing or malformed. */
  readStatus(): RunStatus | null {
    try {
      return asRunStatus(JSON.parse(fs.readFileSync(this.resolve(STATUS_FILE), 'utf8')));
    } catch {
      return null;
    }
  }

  /** Appends `<ISO time> <LEVEL> <message>` to trainer.log (no fsync: diagnostics only). */
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    const file = this.resolve(LOG_FILE);
    const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message.replace(/\r?\n/g, '\n    ')}\n`;
    guardFs('append to', file, () => fs.appendFileSync(file, line));
  }

  // ---- checkpoints ----

  /** Writes a checkpoint atomically as a whole, points `latest` at it and prunes old ones. */
  writeCheckpoint(step: number, parts: Record<string, CheckpointPart>): CheckpointInfo {
    return writeCheckpoint(this.resolve(CHECKPOINTS_DIR), checkStep(step), parts, this.keepCheckpoints);
  }

  readLatestCheckpoint(): LoadedCheckpoint | null {
    return readLatestCheckpoint(this.resolve(CHECKPOINTS_DIR));
  }

  /** Steps of the checkpoints on disk, newest first. */
  listCheckpoints(): number[] {
    return listCheckpointSteps(this.resolve(CHECKPOINTS_DIR));
  }

  // ---- resume ----

  /** Removes `.tmp-` entries (unfinished writes) from the run's folders; returns them, relative. */
  removeLeftovers(): string[] {
    const removed: string[] = [];
    for (const sub of ['', ROLLOUTS_DIR, IMAGES_DIR, CHECKPOINTS_DIR]) {
      const folder = path.join(this.dir, sub);
      let names: string[];
      try {
        names = fs.readdirSync(folder);
      } catch {
        continue;
      }
      for (const name of names.filter((n) => n.startsWith(TMP_PREFIX))) {
        const target = path.join(folder, name);
        guardFs('remove the unfinished write', target, () => fs.rmSync(target, { recursive: true, force: true }));
        removed.push(sub ? `${sub}/${name}` : name);
      }
    }
    return removed;
  }

  /** Cuts a torn last line (no trailing newline, or not JSON) from every JSONL file of the run. */
  repairTornLines(): RepairReport {
    const files = [...STEP_LOGS, ...this.listRolloutSteps().map(rolloutsFile)];
    const report: RepairReport = { bytesCut: 0, files: [] };
    for (const relative of files) {
      const file = this.resolve(relative);
      if (!fs.existsSync(file)) continue;
      const cut = repairTornTail(file);
      if (cut > 0) {
        report.files.push({ file: relative, bytesCut: cut });
        report.bytesCut += cut;
      }
    }
    return report;
  }

  /**
   * Removes every record of a step after `step` (metrics, validation, interventions, rollouts files,
   * checkpoints), so a run resumed from the checkpoint of `step` never holds steps it will redo.
   */
  truncateAfterStep(step: number): TruncateReport {
    checkStep(step);
    const report: TruncateReport = { step, linesRemoved: {}, rolloutStepsRemoved: [], checkpointStepsRemoved: [] };
    for (const relative of STEP_LOGS) {
      const removed = filterJsonl(this.resolve(relative), (record) => !isRecordWithStep(record) || record.step <= step);
      if (removed > 0) report.linesRemoved[relative] = removed;
    }
    for (const later of this.listRolloutSteps().filter((s) => s > step)) {
      const file = this.resolve(rolloutsFile(later));
      guardFs('delete', file, () => fs.rmSync(file, { force: true }));
      report.rolloutStepsRemoved.push(later);
    }
    const checkpoints = this.resolve(CHECKPOINTS_DIR);
    for (const later of this.listCheckpoints().filter((s) => s > step)) {
      const folder = path.join(checkpoints, stepName(later));
      guardFs('delete', folder, () => fs.rmSync(folder, { recursive: true, force: true }));
      report.checkpointStepsRemoved.push(later);
    }
    const pointer = readLatestPointer(checkpoints);
    if (pointer !== undefined && pointer > step) {
      const newest = this.listCheckpoints()[0];
      const pointerFile = path.join(checkpoints, LATEST_POINTER);
      if (newest === undefined) guardFs('delete', pointerFile, () => fs.rmSync(pointerFile, { force: true }));
      else writeBytesAtomic(pointerFile, `${stepName(newest)}\n`);
    }
    return report;
  }

  /** The whole resume sequence after `open`: repair, load the latest intact checkpoint, truncate after it. */
  prepareResume(): ResumePlan {
    const repair = this.repairTornLines();
    const checkpoint = this.readLatestCheckpoint();
    const truncate = this.truncateAfterStep(checkpoint?.step ?? 0);
    return { repair, checkpoint, truncate };
  }
}
