/**
 * Following a run folder that another process writes (schemas/README.md), with no VS Code in it (so it is
 * tested on real folders): `RunFollower.read()` reads what the writer appended since the last read —
 * status.json, the complete new lines of metrics.jsonl, validation.jsonl and interventions.jsonl, the new
 * `rollouts/step-N.jsonl` files — and turns it into the trainer events the panels already understand
 * (`trainer/step`, `trainer/validation`, `trainer/groups`, `trainer/applied`, `trainer/error` for a refused
 * inbox line, `trainer/paused`/`resumed`/`done` from the status), each checked with the protocol's own
 * check before it goes out. `append()` writes a control to the folder's inbox when status.json advertises
 * one. Nothing here throws at the caller for what the writer did: a torn last line waits for its newline,
 * an unreadable line is skipped and logged, a torn status.json keeps the last good one (with a notice), a
 * writer that died (its pid gone on this host) makes the run `crashed`, a heartbeat that stopped on another
 * host is a notice, and a folder that disappears ends the following with a notice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CONFIG_FILE,
  type Control,
  INBOX_FILE,
  INTERVENTIONS_FILE,
  METRICS_FILE,
  PROTOCOL_VERSION,
  ROLLOUTS_DIR,
  type RolloutGroup,
  STATUS_FILE,
  type TrainerEvent,
  VALIDATION_FILE,
  controlInboxLine,
  parseEvent,
  parseInterventionLine,
  parseRolloutGroup,
  parseValidationLine,
  rolloutsFile,
  stepOfName,
} from '../protocol/index.js';
import type { ControlOutcome, SessionSnapshot, SessionState } from './runConnection.js';

/** Most bytes read from one JSONL file per read (the rest at the next read). */
const READ_LIMIT = 8 * 1024 * 1024;
/** Groups per `trainer/groups` event made from a rollouts file. */
const GROUPS_PER_EVENT = 64;
/** A writer on another host whose status.json is older than this may be gone (README: "every few seconds"). */
export const DEFAULT_STALE_MS = 60_000;

const NEWLINE = 0x0a;

/** An append-only JSONL file read incrementally: the complete lines since the last read. */
export class JsonlTail {
  private offset = 0;
  /** Inside a line longer than READ_LIMIT: its bytes up to the next newline are skipped. */
  private skipping = false;
  /** 1-based number of the last line read. */
  private lineNumber = 0;

  constructor(readonly file: string) {}

  /** Starts after what the file holds now (the panels read the history themselves). */
  skipToEnd(): void {
    const bytes = readTail(this.file, 0, Number.MAX_SAFE_INTEGER, true);
    this.offset = bytes?.size ?? 0;
    this.lineNumber = bytes ? bytes.data.toString('utf8').split('\n').length - 1 : 0;
    this.skipping = false;
  }

  /**
   * The complete lines appended since the last read, with their line numbers. `reset` when the file is now
   * shorter than what was read (replaced, or cut back by a resumed run): it is then read from its start.
   */
  read(): { lines: Array<{ line: number; text: string }>; reset: boolean; overlong: number } {
    let chunk = readTail(this.file, this.offset, READ_LIMIT);
    let reset = false;
    if (chunk && chunk.size < this.offset) {
      reset = true;
      this.offset = 0;
      this.lineNumber = 0;
      this.skipping = false;
      chunk = readTail(this.file, 0, READ_LIMIT);
    }
    if (!chunk || chunk.data.length === 0) return { lines: [], reset, overlong: 0 };
    const data = chunk.data;
    let start = 0;
    let overlong = 0;
    if (this.skipping) {
      const end = data.indexOf(NEWLINE);
      if (end < 0) {
        this.offset += data.length;
        return { lines: [], reset, overlong: 0 };
      }
      this.skipping = false;
      this.lineNumber++;
      start = end + 1;
    }
    const last = data.lastIndexOf(NEWLINE);
    const lines: Array<{ line: number; text: string }> = [];
    if (last >= start) {
      for (const text of data.subarray(start, last).toString('utf8').split('\n')) {
        this.lineNumber++;
        if (text.trim() !== '') lines.push({ line: this.lineNumber, text });
      }
      this.offset += last + 1;
    } else {
      this.offset += start;
    }
    // A read that filled the limit with no newline after the last line: a line longer than any record.
    if (data.length === READ_LIMIT && last < start) {
      this.offset += data.length - start;
      this.skipping = true;
      overlong = 1;
    }
    return { lines, reset, overlong };
  }
}

/** Up to `limit` bytes of a regular file from `offset` (never through a symbolic link), with its size; undefined when it cannot be read. */
function readTail(file: string, offset: number, limit: number, whole = false): { data: Buffer; size: number } | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return undefined;
    if (stat.size <= offset) return { data: Buffer.alloc(0), size: stat.size };
    const length = whole ? stat.size - offset : Math.min(limit, stat.size - offset);
    const data = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const n = fs.readSync(fd, data, read, length - read, offset + read);
      if (n === 0) break;
      read += n;
    }
    return { data: data.subarray(0, read), size: stat.size };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** What status.json says, as a reader needs it (schemas/status.schema.json). */
export interface FollowedStatus {
  state: string;
  step: number;
  pid?: number;
  host?: string;
  writer?: string;
  backend?: string;
  updatedAt?: string;
  message?: string;
  totalSteps?: number;
  inbox?: string;
}

/** status.json read: the status, `gone` when the file (or its folder) does not exist, `torn` when it is not a status. */
function readStatus(dir: string): { status: FollowedStatus } | { gone: true } | { torn: string } {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, STATUS_FILE), 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? { gone: true } : { torn: (error as Error).message };
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    return { torn: `not valid JSON (${(error as Error).message})` };
  }
  if (!raw || typeof raw !== 'object' || typeof raw.state !== 'string') return { torn: 'it has no state' };
  const status: FollowedStatus = { state: raw.state, step: typeof raw.step === 'number' && Number.isSafeInteger(raw.step) && raw.step >= 0 ? raw.step : 0 };
  if (typeof raw.pid === 'number' && Number.isSafeInteger(raw.pid) && raw.pid > 0) status.pid = raw.pid;
  for (const key of ['host', 'writer', 'backend', 'updatedAt', 'message', 'inbox'] as const) {
    if (typeof raw[key] === 'string') status[key] = raw[key];
  }
  if (typeof raw.totalSteps === 'number') status.totalSteps = raw.totalSteps;
  return { status };
}

function defaultAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface FollowerOptions {
  /** Each trainer event made from the folder, already checked. */
  event: (event: TrainerEvent) => void;
  /** A control this follower appended was acknowledged or refused. */
  outcome: (outcome: ControlOutcome) => void;
  /** The snapshot changed. */
  state: (snapshot: SessionSnapshot) => void;
  /** A line for the output channel (skipped lines, refused events). */
  log: (line: string) => void;
  /** Clock, host name and process check (tests pass their own). */
  now?: () => number;
  hostname?: string;
  alive?: (pid: number) => boolean;
  staleMs?: number;
}

const KNOWN_STATES: readonly string[] = ['running', 'paused', 'stopped', 'completed', 'crashed'];

export class RunFollower {
  private readonly metrics: JsonlTail;
  private readonly validation: JsonlTail;
  private readonly interventions: JsonlTail;
  private readonly snapshot: SessionSnapshot;
  private status: FollowedStatus | undefined;
  private config: Record<string, unknown> = {};
  /** Rollout steps already seen (their groups are history). */
  private newestRolloutStep = -1;
  /** Controls this follower appended, awaiting their acknowledgement. */
  private readonly sent = new Set<string>();
  /** The folder was seen gone: nothing more is read. */
  private ended = false;
  private readonly now: () => number;
  private readonly hostname: string;
  private readonly alive: (pid: number) => boolean;
  private readonly staleMs: number;

  constructor(
    readonly runDir: string,
    private readonly options: FollowerOptions,
  ) {
    this.metrics = new JsonlTail(path.join(runDir, METRICS_FILE));
    this.validation = new JsonlTail(path.join(runDir, VALIDATION_FILE));
    this.interventions = new JsonlTail(path.join(runDir, INTERVENTIONS_FILE));
    this.snapshot = { state: 'starting', step: 0, metrics: {}, runDir, runId: path.basename(runDir) };
    this.now = options.now ?? Date.now;
    this.hostname = options.hostname ?? os.hostname();
    this.alive = options.alive ?? defaultAlive;
    this.staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  }

  get state(): SessionSnapshot {
    return { ...this.snapshot, metrics: { ...this.snapshot.metrics } };
  }

  /** The writer reads controls from the inbox now: status.json advertises it and the run is running or paused. */
  get steerable(): boolean {
    return this.status?.inbox === INBOX_FILE && (this.snapshot.state === 'running' || this.snapshot.state === 'paused');
  }

  /** Reads where the run is now and says hello; what the files hold already is history (the panels read it). */
  start(): void {
    this.readConfig();
    this.metrics.skipToEnd();
    this.validation.skipToEnd();
    this.interventions.skipToEnd();
    this.newestRolloutStep = Math.max(-1, ...this.rolloutSteps());
    this.readStatusFile(false);
    const last = this.lastMetrics();
    if (last) Object.assign(this.snapshot, last);
    this.hello();
    this.options.state(this.state);
  }

  /** Reads everything appended since the last read. Returns whether anything changed. */
  read(): boolean {
    if (this.ended) return false;
    let changed = this.readStatusFile(true);
    if (this.ended) return true;
    const metrics = this.metrics.read();
    if (metrics.reset) {
      // Cut back (a resumed run): the panels read the history again on hello.
      this.readConfig();
      this.hello();
      changed = true;
    }
    this.skipped(METRICS_FILE, metrics.overlong);
    for (const { line, text } of metrics.lines) {
      const record = this.json(METRICS_FILE, line, text) as Record<string, unknown> | undefined;
      if (!record) continue;
      const step = this.stepEventOf(record);
      if (!step) {
        this.options.log(`${this.where(METRICS_FILE, line)}: skipped: no whole "step" >= 0`);
        continue;
      }
      if (this.emit(step, this.where(METRICS_FILE, line))) {
        this.snapshot.step = Math.max(this.snapshot.step, step.step);
        this.snapshot.totalSteps = step.totalSteps;
        this.snapshot.metrics = step.metrics;
        changed = true;
      }
    }
    changed = this.readRollouts() || changed;
    const validation = this.validation.read();
    this.skipped(VALIDATION_FILE, validation.overlong);
    for (const { line, text } of validation.lines) {
      const value = this.json(VALIDATION_FILE, line, text);
      if (value === undefined) continue;
      const parsed = parseValidationLine(value);
      if (!parsed.ok) {
        this.options.log(`${this.where(VALIDATION_FILE, line)}: skipped: ${parsed.error}`);
        continue;
      }
      if (this.emit({ type: 'trainer/validation', ...parsed.value }, this.where(VALIDATION_FILE, line))) {
        this.snapshot.validationAccuracy = parsed.value.accuracy;
        changed = true;
      }
    }
    const interventions = this.interventions.read();
    this.skipped(INTERVENTIONS_FILE, interventions.overlong);
    for (const { line, text } of interventions.lines) changed = this.acknowledge(line, text) || changed;
    if (changed) this.options.state(this.state);
    return changed;
  }

  /**
   * Reads status.json alone (the liveness check: a writer that dies appends nothing). Returns whether the
   * status changed since the last read.
   */
  checkStatus(): boolean {
    if (this.ended) return false;
    const changed = this.readStatusFile(true);
    if (changed) this.options.state(this.state);
    return changed;
  }

  /** Appends `control` to the inbox in one write; returns why it was not sent. */
  append(control: Control): string | undefined {
    if (this.ended) return `the run folder ${this.runDir} is gone`;
    this.readStatusFile(true);
    if (this.status?.inbox !== INBOX_FILE) return `the writer of ${path.basename(this.runDir)} takes no controls: its status.json advertises no inbox`;
    if (!this.steerable) return `the run is ${this.snapshot.state}: controls reach only a running or paused writer`;
    let line: string;
    try {
      line = controlInboxLine(control);
    } catch (error) {
      return (error as Error).message;
    }
    const file = path.join(this.runDir, INBOX_FILE);
    let fd: number | undefined;
    try {
      // O_APPEND: one write per line, never interleaved with another reader's; O_NOFOLLOW: never through a link.
      fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK, 0o644);
      if (!fs.fstatSync(fd).isFile()) return `${file} is not a regular file; nothing was appended`;
      const bytes = Buffer.from(line, 'utf8');
      const written = fs.writeSync(fd, bytes);
      if (written !== bytes.length) return `only ${written} of ${bytes.length} bytes reached ${file}`;
    } catch (error) {
      return `could not append to ${file}: ${(error as Error).message}`;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
    this.sent.add(control.controlId);
    return undefined;
  }

  private hello(): void {
    const config = this.config;
    const status = this.status;
    const writer = status?.writer ?? 'durian';
    const event = {
      type: 'trainer/hello' as const,
      protocolVersion: PROTOCOL_VERSION,
      runId: path.basename(this.runDir),
      runDir: this.runDir,
      backend: status?.backend ?? writer,
      device: status?.host ? `${writer} on ${status.host}` : writer,
      config: config as never,
    };
    if (!this.emit(event, CONFIG_FILE)) this.emit({ ...event, config: {} }, 'hello without config');
    Object.assign(this.snapshot, { backend: event.backend, device: event.device });
    if (typeof config.estimator === 'string') this.snapshot.estimator = config.estimator;
    if (typeof config.steps === 'number') this.snapshot.totalSteps = config.steps;
  }

  private readConfig(): void {
    try {
      const config = JSON.parse(fs.readFileSync(path.join(this.runDir, CONFIG_FILE), 'utf8')) as unknown;
      if (config && typeof config === 'object' && !Array.isArray(config)) this.config = config as Record<string, unknown>;
    } catch {
      // kept: the panels say what they cannot read
    }
  }

  /** The last metrics line, for the snapshot at attach time. */
  private lastMetrics(): Pick<SessionSnapshot, 'step' | 'metrics'> | undefined {
    const tail = readTail(this.metrics.file, 0, 0, true);
    if (!tail) return undefined;
    const lines = tail.data.toString('utf8').split('\n');
    lines.pop();
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        const step = this.stepEventOf(JSON.parse(lines[i]) as Record<string, unknown>);
        if (step) return { step: step.step, metrics: step.metrics };
      } catch {
        // a bad line: the one before
      }
    }
    return undefined;
  }

  /** Reads status.json into the snapshot; `events`: say paused/resumed/done for transitions. Returns whether it changed. */
  private readStatusFile(events: boolean): boolean {
    const read = readStatus(this.runDir);
    const before = JSON.stringify([this.snapshot.state, this.snapshot.notice, this.snapshot.lastError, this.snapshot.pid, this.status?.inbox, this.status?.updatedAt]);
    if ('gone' in read) {
      if (!fs.existsSync(this.runDir)) {
        this.ended = true;
        this.snapshot.notice = `the run folder ${this.runDir} is gone (deleted or moved): nothing more to follow`;
        if (this.snapshot.state !== 'completed' && this.snapshot.state !== 'crashed') this.snapshot.state = 'stopped';
        this.status = undefined;
      } else {
        this.snapshot.notice = `${STATUS_FILE} is missing: the writer has not started the run, or removed it`;
      }
    } else if ('torn' in read) {
      this.snapshot.notice = `${STATUS_FILE} could not be read (${read.torn}): showing its last good state`;
    } else {
      const status = read.status;
      const previousState = this.snapshot.state;
      const previousPid = this.status?.pid;
      this.status = status;
      delete this.snapshot.notice;
      delete this.snapshot.lastError;
      let state: SessionState = (KNOWN_STATES.includes(status.state) ? status.state : 'stopped') as SessionState;
      const sameHost = status.host === undefined || status.host === this.hostname;
      if (state === 'running' || state === 'paused') {
        if (sameHost && status.pid !== undefined && !this.alive(status.pid)) {
          state = 'crashed';
          this.snapshot.lastError = `its writer (process ${status.pid}) is gone without writing a final state: it was killed or crashed at step ${status.step}`;
        } else if (!sameHost) {
          const age = status.updatedAt ? this.now() - Date.parse(status.updatedAt) : Number.NaN;
          if (Number.isFinite(age) && age > this.staleMs) {
            this.snapshot.notice = `no heartbeat from ${status.writer ?? 'its writer'} on ${status.host} for ${Math.round(age / 1000)} s (status.json updatedAt ${status.updatedAt}): it may be gone`;
          }
        }
      } else if (state === 'crashed' && status.message) {
        this.snapshot.lastError = status.message;
      }
      if (state !== 'running' && state !== 'paused' && status.message && !this.snapshot.lastError) this.snapshot.notice = status.message;
      this.snapshot.state = state;
      if (status.pid !== undefined) this.snapshot.pid = status.pid;
      this.snapshot.step = Math.max(status.step, this.snapshot.step);
      if (status.totalSteps !== undefined) this.snapshot.totalSteps = status.totalSteps;
      if (events) this.transition(previousState, state, previousPid !== undefined && status.pid !== undefined && previousPid !== status.pid);
    }
    return before !== JSON.stringify([this.snapshot.state, this.snapshot.notice, this.snapshot.lastError, this.snapshot.pid, this.status?.inbox, this.status?.updatedAt]);
  }

  private transition(from: SessionState, to: SessionState, newWriter: boolean): void {
    const step = this.snapshot.step;
    if (newWriter) {
      // Another process took the run over (resumed it): the history may have been cut back.
      this.readConfig();
      this.hello();
    }
    if (from === to) return;
    if (to === 'paused') this.emit({ type: 'trainer/paused', step }, STATUS_FILE);
    else if (to === 'running' && from === 'paused') this.emit({ type: 'trainer/resumed', step }, STATUS_FILE);
    else if (to === 'stopped' || to === 'completed') this.emit({ type: 'trainer/done', step, reason: to, summary: {} }, STATUS_FILE);
  }

  private stepEventOf(record: Record<string, unknown>): Extract<TrainerEvent, { type: 'trainer/step' }> | undefined {
    const step = record.step;
    if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) return undefined;
    const metrics: Record<string, number> = {};
    for (const [name, value] of Object.entries(record)) {
      if (name !== 'step' && name !== 'elapsedMs' && typeof value === 'number' && Number.isFinite(value)) metrics[name] = value;
    }
    const total = typeof this.config.steps === 'number' ? this.config.steps : (this.status?.totalSteps ?? step);
    const elapsedMs = typeof record.elapsedMs === 'number' && Number.isFinite(record.elapsedMs) && record.elapsedMs >= 0 ? record.elapsedMs : 0;
    return { type: 'trainer/step', step, totalSteps: Math.max(total, step), metrics, elapsedMs };
  }

  private rolloutSteps(): number[] {
    try {
      return fs
        .readdirSync(path.join(this.runDir, ROLLOUTS_DIR))
        .map((name) => stepOfName(name, '.jsonl'))
        .filter((step): step is number => step !== undefined);
    } catch {
      return [];
    }
  }

  /** The groups of rollouts files newer than the last seen (each written whole by its writer). */
  private readRollouts(): boolean {
    const steps = this.rolloutSteps()
      .filter((step) => step > this.newestRolloutStep)
      .sort((a, b) => a - b);
    for (const step of steps) {
      this.newestRolloutStep = step;
      const file = path.join(this.runDir, rolloutsFile(step));
      const content = readTail(file, 0, 0, true);
      if (!content) continue;
      const groups: RolloutGroup[] = [];
      const lines = content.data.toString('utf8').split('\n');
      // The last line without its newline is not written yet (a writer that appends): left out.
      lines.pop();
      lines.forEach((text, i) => {
        if (text.trim() === '') return;
        const value = this.json(rolloutsFile(step), i + 1, text);
        if (value === undefined) return;
        const parsed = parseRolloutGroup(value, `${rolloutsFile(step)}:${i + 1}`);
        if (parsed.ok) groups.push(parsed.value);
        else this.options.log(`${this.where(rolloutsFile(step), i + 1)}: skipped: ${parsed.error}`);
      });
      const estimator = typeof this.config.estimator === 'string' ? this.config.estimator : 'durian';
      for (let i = 0; i < groups.length; i += GROUPS_PER_EVENT) {
        this.emit({ type: 'trainer/groups', step, estimator: estimator as never, groups: groups.slice(i, i + GROUPS_PER_EVENT) }, rolloutsFile(step));
      }
    }
    return steps.length > 0;
  }

  /** One interventions.jsonl line: an applied control or a refused inbox line. */
  private acknowledge(line: number, text: string): boolean {
    const value = this.json(INTERVENTIONS_FILE, line, text) as Record<string, unknown> | undefined;
    if (!value) return false;
    const where = this.where(INTERVENTIONS_FILE, line);
    if (typeof value.refused === 'string') {
      const controlId = typeof value.controlId === 'string' ? value.controlId : undefined;
      const step = typeof value.step === 'number' ? value.step : this.snapshot.step;
      const inboxLine = typeof value.inboxLine === 'number' ? ` (${INBOX_FILE} line ${value.inboxLine})` : '';
      this.emit({ type: 'trainer/error', message: `refused at step ${step}${inboxLine}: ${value.refused}`, where: INBOX_FILE, fatal: false, ...(controlId ? { controlId } : {}) }, where);
      if (controlId && this.sent.delete(controlId)) this.options.outcome({ controlId, ...(typeof value.kind === 'string' ? { kind: value.kind } : {}), step, refused: value.refused });
      return true;
    }
    const parsed = parseInterventionLine(value);
    if (!parsed.ok) {
      this.options.log(`${where}: skipped: ${parsed.error}`);
      return false;
    }
    const { controlId, kind, step } = parsed.value;
    this.emit({ type: 'trainer/applied', controlId, kind, step }, where);
    if (this.sent.delete(controlId)) this.options.outcome({ controlId, kind, step });
    return true;
  }

  private json(file: string, line: number, text: string): unknown {
    try {
      return JSON.parse(text);
    } catch (error) {
      this.options.log(`${this.where(file, line)}: skipped: not valid JSON (${(error as Error).message})`);
      return undefined;
    }
  }

  private skipped(file: string, overlong: number): void {
    if (overlong > 0) this.options.log(`${path.join(this.runDir, file)}: skipped a line longer than ${READ_LIMIT} bytes`);
  }

  private where(file: string, line: number): string {
    return `${path.join(this.runDir, file)} line ${line}`;
  }

  /** Emits `event` when the protocol's check accepts it; logs why not otherwise. */
  private emit(event: TrainerEvent, where: string): boolean {
    const parsed = parseEvent(event);
    if (!parsed.ok) {
      this.options.log(`${where}: not shown: ${parsed.error}`);
      return false;
    }
    this.options.event(parsed.value);
    return true;
  }
}
