/**
 * `RunDirectory`: the one writer of a run's folder (layout in ./layout.ts). The trainer creates it at
 * start or opens it to resume; every path built from input is checked to stay inside it; every write
 * is either an fsynced append of whole lines (JSONL records) or an atomic replace (config, status,
 * rollouts of a step, images, checkpoints), so a crash or a full disk never leaves a half-written
 * config or checkpoint. Failures are RunDirectoryErrors naming the file and the cause.
 *
 * Resume: `open` (read-only: checks that the folder is a run and holds no symbolic link) ->
 * `prepareResume`, which finds the newest intact checkpoint first, refuses (NO_CHECKPOINT) without
 * changing a byte when there is none but the run has history, and only then removes unfinished `.tmp-`
 * writes, cuts torn lines and removes everything after the checkpoint's step.
 *
 * A run folder never makes the trainer write, truncate or delete outside it: a symbolic link anywhere in
 * it is refused on open/create (SYMLINK), appends open with O_NOFOLLOW, and atomic writes replace a link
 * rather than follow it. Whether a trainer is alive on a run is decided by the run lock (./lock.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  type Control,
  type MetricsLine,
  RUN_FOLDER_FORMAT_VERSION,
  type RolloutGroup,
  type RunMeta,
  type RunStart,
  type ValidationEvent,
  controlKindOf,
  parseRolloutGroup,
  parseRunMeta,
  parseRunStatus,
  withRunStart,
} from '../../protocol/index.js';
import type { ControlKind } from '../../protocol/index.js';
import { removeQuietly, writeBytesAtomic, writeJsonAtomic } from './atomic.js';
import { type CheckpointInfo, type CheckpointPart, type LoadedCheckpoint, findLatestCheckpoint, listCheckpointSteps, readLatestCheckpoint, readLatestPointer, writeCheckpoint } from './checkpoints.js';
import { RunDirectoryError, fsFailure, guardFs } from './errors.js';
import { APPEND_NOFOLLOW, appendJsonl, filterJsonl, readJsonl, repairTornTail } from './jsonl.js';
import {
  CHECKPOINTS_DIR,
  CONFIG_FILE,
  IMAGES_DIR,
  INBOX_FILE,
  INTERVENTIONS_FILE,
  LATEST_POINTER,
  LOG_FILE,
  META_FILE,
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
import type { RunState, RunStatus } from './status.js';

export interface RunDirectoryOptions {
  /** Checkpoints kept on disk (the newest ones); default 3. */
  keepCheckpoints?: number;
  /** The writer reads controls from inbox.jsonl: status.json says so (`inbox`) while running or paused. */
  inbox?: boolean;
}

export interface ResumeOptions<T> {
  /** Without an intact checkpoint, start again from step 0 and delete the run's history (else: NO_CHECKPOINT). */
  fromScratch?: boolean;
  /** Turns a checkpoint into what the trainer needs; a checkpoint it rejects counts as damaged (see readLatestCheckpoint). */
  decode?: (checkpoint: Omit<LoadedCheckpoint, 'skipped'>) => T;
  /**
   * The last step of interventions.jsonl lines the checkpoint already holds (default: its step). A checkpoint
   * written after a step boundary (a stop) holds the controls acknowledged there, from the next step.
   */
  interventionsThrough?: (decoded: T, step: number) => number;
}

/** One line of metrics.jsonl: the step, then metrics named as in verl (src/protocol/metrics.ts). Non-finite values are stored as null. */
export type MetricsRecord = MetricsLine;

/** A line of interventions.jsonl for an inbox line that was not applied (schemas/intervention-line.schema.json). */
export interface RefusalRecord {
  /** The step boundary at which it was read (the step the control would have held from). */
  step: number;
  at: string;
  kind?: ControlKind;
  controlId?: string;
  /** 1-based line of inbox.jsonl. */
  inboxLine?: number;
  /** Why: what, where, what is allowed. */
  refused: string;
}

/** One line of interventions.jsonl for an applied control. */
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

export interface ResumePlan<T = undefined> {
  /** Unfinished `.tmp-` writes that were removed, relative. */
  leftovers: string[];
  repair: RepairReport;
  /** Null when the run has no intact checkpoint and nothing to lose, or `fromScratch` was given: it starts again from step 0. */
  checkpoint: (LoadedCheckpoint & { decoded: T }) | null;
  /** Damaged checkpoints passed over (also when none was intact). */
  skipped: string[];
  truncate: TruncateReport;
}

/** The subfolders of a run. */
const RUN_FOLDERS = [ROLLOUTS_DIR, IMAGES_DIR, CHECKPOINTS_DIR] as const;

/** The first symbolic link inside `dir` (relative), walking every folder without following links; undefined if none. */
function findSymlink(dir: string, relative = ''): string | undefined {
  let entries: fs.Dirent[];
  const folder = relative ? path.join(dir, relative) : dir;
  try {
    entries = fs.readdirSync(folder, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsFailure('list', folder, error);
  }
  for (const entry of entries) {
    const name = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isSymbolicLink()) return name;
    if (entry.isDirectory()) {
      const inner = findSymlink(dir, name);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

/** Throws SYMLINK when the folder holds a symbolic link anywhere. */
function refuseSymlinks(dir: string): void {
  const link = findSymlink(dir);
  if (link === undefined) return;
  let target = '';
  try {
    target = ` -> ${fs.readlinkSync(path.join(dir, link))}`;
  } catch {
    // The target is only for the message.
  }
  throw new RunDirectoryError(
    path.join(dir, link),
    'SYMLINK',
    `${dir} holds a symbolic link, ${link}${target}; a run folder may hold only plain files and folders (the trainer never writes through a link). Replace the link with a copy of what it points to, or remove it; nothing was changed`,
  );
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
  private readonly inbox: boolean;
  /** For a run `create` made: the entries its folder held before ('made': create made the folder). */
  private createdOver: ReadonlySet<string> | 'made' | undefined;
  /** `discardNew` removed it: status and log writes are dropped. */
  private discarded = false;

  private constructor(dir: string, options: RunDirectoryOptions) {
    this.dir = dir;
    this.name = path.basename(dir);
    const keep = options.keepCheckpoints ?? DEFAULT_KEEP_CHECKPOINTS;
    if (!Number.isInteger(keep) || keep < 1) {
      throw new RunDirectoryError(dir, 'INVALID_INPUT', `keepCheckpoints must be a whole number >= 1, got ${String(keep)}`);
    }
    this.keepCheckpoints = keep;
    this.inbox = options.inbox ?? false;
  }

  /** `runsFolder/name`, after checking that `name` is a safe single folder name. */
  static runPath(runsFolder: string, name: string): string {
    return resolveInside(runsFolder, checkName(name, 'run name'), 'run name');
  }

  /**
   * Read-only: the path of a new run `runsFolder/name`, after checking the name, that no run is there
   * (RUN_EXISTS) and that an existing folder there holds no symbolic link (SYMLINK).
   */
  static checkNewRun(runsFolder: string, name: string): string {
    const dir = RunDirectory.runPath(runsFolder, name);
    if (fs.existsSync(path.join(dir, CONFIG_FILE)) || fs.existsSync(path.join(dir, STATUS_FILE))) {
      throw new RunDirectoryError(dir, 'RUN_EXISTS', `A run named ${JSON.stringify(name)} already exists in ${path.resolve(runsFolder)}; resume it (--resume ${dir}) or choose another name`);
    }
    if (fs.existsSync(dir)) refuseSymlinks(dir);
    return dir;
  }

  /** Creates a new run: its folders, config.json and a `running` status at step 0. */
  static create(runsFolder: string, name: string, config: unknown, options: RunDirectoryOptions = {}): RunDirectory {
    const dir = RunDirectory.checkNewRun(runsFolder, name);
    const run = new RunDirectory(dir, options);
    const existed = fs.existsSync(dir);
    run.createdOver = existed ? new Set(fs.readdirSync(dir)) : 'made';
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
   * Undoes `create` for a run that never started (e.g. its dataset could not be loaded): removes the folder
   * `create` made or, when the folder was there before, only the entries written into it since. Later status
   * and log writes are dropped. Not for an opened run (its history is not this start's).
   */
  discardNew(): void {
    const before = this.createdOver;
    if (before === undefined) throw new Error('RunDirectory.discardNew: only a run this process created can be discarded');
    this.discarded = true;
    if (before === 'made') {
      removeQuietly(this.dir);
      return;
    }
    for (const name of fs.readdirSync(this.dir)) if (!before.has(name)) removeQuietly(path.join(this.dir, name));
  }

  /**
   * Throws NOT_A_RUN unless `dir` is a run folder: a folder with a config.json and a status.json of the
   * format (what `create` writes first). Read-only.
   */
  static checkIsRun(dir: string): void {
    const absolute = path.resolve(dir);
    const notARun = (problem: string) =>
      new RunDirectoryError(absolute, 'NOT_A_RUN', `${absolute} is not a Durian run folder: ${problem} (a run holds the config.json and status.json that durian train writes); nothing was changed. Start a new run with --out instead`);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(absolute);
    } catch {
      throw notARun('it does not exist');
    }
    if (!stat.isDirectory()) throw notARun('it is not a folder');
    for (const file of [CONFIG_FILE, STATUS_FILE]) {
      const entry = fs.lstatSync(path.join(absolute, file), { throwIfNoEntry: false });
      if (!entry) throw notARun(`it has no ${file}`);
      if (!entry.isFile()) throw notARun(`its ${file} is not a plain file`);
    }
    let status: RunStatus | null = null;
    try {
      status = parseRunStatus(JSON.parse(fs.readFileSync(path.join(absolute, STATUS_FILE), 'utf8')));
    } catch {
      status = null;
    }
    if (!status) throw notARun(`its ${STATUS_FILE} is not a run status ({state, step, pid, updatedAt})`);
  }

  /**
   * Opens an existing run to resume it, read-only: checks it is a run folder and holds no symbolic link.
   * The caller holds the run's lock (./lock.ts) so no other trainer works on it.
   */
  static open(dir: string, options: RunDirectoryOptions = {}): RunDirectory {
    RunDirectory.checkIsRun(dir);
    const run = new RunDirectory(fs.realpathSync(path.resolve(dir)), options);
    refuseSymlinks(run.dir);
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

  /** Records an inbox line (or the inbox itself) that was refused, and why (at most 16384 characters). */
  appendRefusal(step: number, refusal: Omit<RefusalRecord, 'step' | 'at'>, at: Date = new Date()): void {
    const { kind, controlId, inboxLine, refused } = refusal;
    const record: RefusalRecord = { step: checkStep(step), at: at.toISOString(), ...(kind ? { kind } : {}), ...(controlId ? { controlId } : {}), ...(inboxLine ? { inboxLine } : {}), refused: refused.slice(0, 16384) || 'refused' };
    this.appendJsonl(INTERVENTIONS_FILE, record);
  }

  /** Every line of interventions.jsonl: applied controls and refused inbox lines (which have `refused`). */
  readInterventions(): (InterventionRecord | RefusalRecord)[] {
    return readJsonl(this.resolve(INTERVENTIONS_FILE)).records.filter(isRecordWithStep) as (InterventionRecord | RefusalRecord)[];
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

  /** Deletes an image (a path relative to the run, inside `images/`); a missing one is fine. */
  removeImage(relative: string): void {
    const file = this.resolveImage(relative);
    guardFs('delete', file, () => fs.rmSync(file, { force: true }));
  }

  writeStatus(state: RunState, step: number, message?: string): void {
    if (this.discarded) return;
    const steerable = this.inbox && (state === 'running' || state === 'paused');
    const status: RunStatus = {
      state,
      step: checkStep(step),
      pid: process.pid,
      updatedAt: new Date().toISOString(),
      formatVersion: RUN_FOLDER_FORMAT_VERSION,
      ...(message ? { message } : {}),
      ...(steerable ? { inbox: INBOX_FILE } : {}),
    };
    writeJsonAtomic(this.resolve(STATUS_FILE), status);
  }

  /** The status, or null when status.json is missing or malformed. */
  readStatus(): RunStatus | null {
    try {
      return parseRunStatus(JSON.parse(fs.readFileSync(this.resolve(STATUS_FILE), 'utf8')));
    } catch {
      return null;
    }
  }

  /** meta.json, or null when the run has none (older runs) or it is malformed. */
  readMeta(): RunMeta | null {
    try {
      return parseRunMeta(JSON.parse(fs.readFileSync(this.resolve(META_FILE), 'utf8')));
    } catch {
      return null;
    }
  }

  /**
   * Records one start of the trainer on the run (what it runs on, and the checkpoint step a resume started
   * from) in meta.json, after the starts already there; `fields` (e.g. `policy`) are set alongside. Atomic.
   */
  recordStart(start: Omit<RunStart, 'at'>, fields: Record<string, unknown> = {}): void {
    const meta = withRunStart(this.readMeta(), { at: new Date().toISOString(), ...start });
    writeJsonAtomic(this.resolve(META_FILE), { ...meta, ...fields, formatVersion: meta.formatVersion, starts: meta.starts });
  }

  /** Appends `<ISO time> <LEVEL> <message>` to trainer.log (no fsync: diagnostics only). */
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    if (this.discarded) return;
    const file = this.resolve(LOG_FILE);
    const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message.replace(/\r?\n/g, '\n    ')}\n`;
    guardFs('append to', file, () => {
      const fd = fs.openSync(file, APPEND_NOFOLLOW, 0o644);
      try {
        fs.writeSync(fd, line);
      } finally {
        fs.closeSync(fd);
      }
    });
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
   * Removes every record of a step after `step` (metrics, validation, interventions after
   * `interventionsThrough`, rollouts files, checkpoints), so a run resumed from the checkpoint of `step` never
   * holds steps it will redo.
   */
  truncateAfterStep(step: number, interventionsThrough = step): TruncateReport {
    checkStep(step);
    const report: TruncateReport = { step, linesRemoved: {}, rolloutStepsRemoved: [], checkpointStepsRemoved: [] };
    for (const relative of STEP_LOGS) {
      const last = relative === INTERVENTIONS_FILE ? Math.max(step, interventionsThrough) : step;
      const removed = filterJsonl(this.resolve(relative), (record) => !isRecordWithStep(record) || record.step <= last);
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

  /**
   * What a restart from step 0 would delete: records of steps after 0, rollouts files, checkpoint folders
   * (relative names with counts, for a message); empty when there is nothing to lose.
   */
  historyAfterStepZero(): string[] {
    const history: string[] = [];
    for (const relative of STEP_LOGS) {
      const later = readJsonl(this.resolve(relative)).records.filter((r) => isRecordWithStep(r) && r.step > 0).length;
      if (later > 0) history.push(`${later} ${later === 1 ? 'line' : 'lines'} of ${relative}`);
    }
    const rollouts = this.listRolloutSteps().filter((s) => s > 0).length;
    if (rollouts > 0) history.push(`${rollouts} ${rollouts === 1 ? 'file' : 'files'} in ${ROLLOUTS_DIR}/`);
    const checkpoints = this.listCheckpoints().length;
    if (checkpoints > 0) history.push(`${checkpoints} damaged ${checkpoints === 1 ? 'checkpoint' : 'checkpoints'}`);
    return history;
  }

  /**
   * The whole resume sequence after `open`: find the newest intact checkpoint (read-only); without one,
   * refuse (NO_CHECKPOINT, nothing changed) if the run has history, unless `fromScratch`; then remove
   * unfinished writes, cut torn lines and remove everything after the checkpoint's step.
   */
  prepareResume<T = undefined>(options: ResumeOptions<T> = {}): ResumePlan<T> {
    const { found, skipped } = findLatestCheckpoint(this.resolve(CHECKPOINTS_DIR), options.decode);
    if (!found && !options.fromScratch) {
      const history = this.historyAfterStepZero();
      if (history.length > 0) {
        const damage = skipped.length > 0 ? skipped.join('; ') : 'it has no checkpoint';
        throw new RunDirectoryError(
          this.dir,
          'NO_CHECKPOINT',
          `Cannot resume ${this.dir}: no intact checkpoint (${damage}), but it holds ${history.join(', ')}. Nothing was changed. To start it over from step 0, deleting that history, run: durian train --resume ${this.dir} --from-scratch (or start a new run with --out)`,
        );
      }
    }
    for (const sub of RUN_FOLDERS) {
      const folder = this.resolve(sub);
      guardFs('create the folder', folder, () => fs.mkdirSync(folder, { recursive: true }));
    }
    const leftovers = this.removeLeftovers();
    const repair = this.repairTornLines();
    const truncate = found ? this.truncateAfterStep(found.step, options.interventionsThrough?.(found.decoded, found.step)) : this.truncateAfterStep(0);
    return { leftovers, repair, checkpoint: found, skipped, truncate };
  }
}
