/**
 * The training loop, top to bottom (CleanRL style). `start` sets up the run, the task source, the base
 * policy and the state; `train` runs the steps; each step (`trainStep`) is the named phases of
 * ./loop/phases.ts over the explicit state of ./loop/state.ts (exactly what a checkpoint saves):
 *
 *   prompts -> rollout (the policy samples G responses per prompt) -> reward (the task source scores them,
 *   the user's reward overrides first) -> non-finite guard -> difficulty (visual entropy, confidence, group
 *   weights) -> advantages (src/core: the active estimator, plus GRPO and Durian for comparison) -> update
 *   (clipped policy gradient, GRPO or DAPO, k3 KL to the base policy) -> record (metrics, rollout groups)
 *   -> validation and checkpoint every N steps.
 *
 * The policy and the prompts are used only through their seams (`Policy`, `TaskSource`). Controls from the
 * host are validated on arrival and applied at the next step boundary, each acknowledged with `applied`
 * (which carries the effective live configuration) + step; so are the controls appended to the run's
 * inbox.jsonl (./inbox.ts), read at each boundary, whose refusals are acknowledged in interventions.jsonl
 * too. TEST-ONLY fault injection (./faults.ts) enters through one hook at the phases' named points.
 */
import {
  type Control,
  EVENT,
  type LiveConfig,
  PROTOCOL_VERSION,
  type TrainerEvent,
  controlKindOf,
  groupsEvents,
  newRunName,
  parseControl,
  splitFiniteMetrics,
} from '../protocol/index.js';
import path from 'node:path';
import type { BackendInfo } from './backend/index.js';
import { backendDetails, backendSummary, selectBackend } from './backend/index.js';
import { chooseOrtProviders, ortProvidersSummary } from './onnx/providers.js';
import { loadOrBuildBasePolicy } from './basePolicy.js';
import { BuiltInTasks } from './builtInTasks.js';
import { type DatasetSettings, openRunDataset, savedDataset } from './datasetTasksRun.js';
import { type TrainConfig, trainConfigNotes } from './config.js';
import { ControlState } from './controlState.js';
import { loadEncoder } from './encoder/index.js';
import { evaluate } from './evaluate.js';
import { type Fault, FAULT_ENV, type FaultHook, faultHook } from './faults.js';
import { ControlInbox, type InboxRefusal } from './inbox.js';
import { advantages, difficulty, nonFiniteInputs, record, reward, rollout, type Skip, update } from './loop/phases.js';
import { type ResumedState, type TrainerState, checkpointParts, decodeCheckpoint, elapsedMs, restoreState, startState } from './loop/state.js';
import { policyFactory } from './policy/kinds.js';
import type { Policy } from './policy/policy.js';
import { Rng, mixSeed } from './rng.js';
import { INBOX_FILE, META_FILE, type RunLock, RunDirectory, acquireRunLock } from './run/index.js';
import { type RetentionActions, RolloutRetention } from './run/retention.js';
import type { StepTimings } from './stepRecords.js';
import type { SourceTask, TaskSource } from './taskSource.js';

export interface TrainerOptions {
  config: TrainConfig;
  /** A new run: runsFolder/runName. */
  runsFolder?: string;
  runName?: string;
  /** Resume this run directory instead (its config.json is used; `config.steps` may extend it). */
  resumeDir?: string;
  /** With resumeDir: when no checkpoint is intact, start again from step 0 (deleting the run's history) instead of refusing. */
  fromScratch?: boolean;
  /** Base-policy and encoder-feature caches. */
  cacheDir: string;
  emit: (event: TrainerEvent) => void;
  /** TEST-ONLY faults to inject (from DURIAN_FAULT, see faults.ts); none in normal use. */
  faults?: readonly Fault[];
  /** Train on a user's dataset (a new run's --dataset); a resumed run reads its own from the run folder. */
  dataset?: DatasetSettings;
  /** Resume on a dataset whose content changed since the run started. */
  allowChangedDataset?: boolean;
}

export class Trainer {
  private readonly emit: (event: TrainerEvent) => void;
  private readonly faults: readonly Fault[];
  private readonly fault: FaultHook;
  private readonly config: TrainConfig;
  private run!: RunDirectory;
  /** The run's lock (./run/lock.ts), held while this process lives. */
  private lock: RunLock | null = null;
  /** The default name of a new run, fixed once chosen. */
  private newRunName: string | undefined;
  private backend!: BackendInfo;
  private source!: TaskSource;
  /** The base policy, for the KL term. */
  private reference!: Policy;
  /** Which steps' rollout groups and images stay on disk. */
  private retention!: RolloutRetention;
  private validationSet: SourceTask[] = [];
  /** Everything a checkpoint saves. */
  private state!: TrainerState;
  /** The train split's order in the current epoch (derived from the seed and `state.epoch`). */
  private order: number[] = [];
  /** Controls to apply at the next boundary (from the host, or read from the inbox with their line), and inbox refusals. */
  private readonly pending: PendingItem[] = [];
  private helloSent = false;
  private readonly logsBeforeHello: { level: 'debug' | 'info' | 'warn' | 'error'; message: string }[] = [];
  private paused = false;
  private stopRequested = false;
  private wake: (() => void) | null = null;
  private statusWrittenAt = 0;
  /** Responses of recent steps, for relabels: step -> promptId -> response texts. */
  private readonly recentResponses = new Map<number, Map<string, string[]>>();

  constructor(private readonly options: TrainerOptions) {
    this.emit = options.emit;
    this.config = options.config;
    this.faults = options.faults ?? [];
    this.fault = faultHook(this.faults);
  }

  // ---- controls (called by the transport whenever a message arrives) ----

  /** Validates a control; pause/resume/stop act at once, the rest at the next step boundary. */
  receive(raw: unknown): void {
    const parsed = parseControl(raw);
    if (!parsed.ok) {
      const controlId = typeof (raw as { controlId?: unknown } | null)?.controlId === 'string' ? String((raw as { controlId: string }).controlId).slice(0, 200) : undefined;
      this.emit({ type: EVENT.error, message: `rejected control: ${parsed.error}`, where: parsed.error.split(':')[0], fatal: false, ...(controlId ? { controlId } : {}) });
      return;
    }
    this.enqueue({ control: parsed.value });
  }

  /** Queues a checked control (or an inbox refusal); pause/resume/stop take effect on the loop at once. */
  private enqueue(item: PendingItem): void {
    if ('control' in item) {
      if (item.control.type === 'control/pause') this.paused = true;
      if (item.control.type === 'control/resume') this.paused = false;
      if (item.control.type === 'control/stop') this.stopRequested = true;
    }
    this.pending.push(item);
    this.wake?.();
  }

  /** Asks the loop to finish the current step, checkpoint and end (SIGTERM, host gone). */
  requestStop(): void {
    this.stopRequested = true;
    this.wake?.();
  }

  // ---- set-up ----

  /**
   * Takes the run's lock, then opens the run and prepares the resume, or checks that a new run can be
   * created (`start` creates it once the backend is up, so a backend that fails leaves no folder). Every
   * refusal here (the run exists, is not a run, holds a symbolic link, is trained by another live trainer,
   * has no intact checkpoint) comes before anything is written; `this.run` is set only once the run is ours.
   */
  private async openRun(): Promise<ResumedState | null> {
    const { options } = this;
    const dirOptions = { keepCheckpoints: this.config.keepCheckpoints, inbox: true };
    if (options.resumeDir) {
      RunDirectory.checkIsRun(options.resumeDir);
      this.lock = await acquireRunLock(options.resumeDir);
      const run = RunDirectory.open(options.resumeDir, dirOptions);
      const plan = run.prepareResume({
        fromScratch: options.fromScratch,
        decode: (checkpoint) => decodeCheckpoint(checkpoint, this.config),
        interventionsThrough: (decoded) => decoded.state.interventionsThrough ?? decoded.step,
      });
      this.run = run;
      if (plan.leftovers.length > 0) this.log('info', `resume: removed unfinished writes ${plan.leftovers.join(', ')}`);
      if (plan.repair.files.length > 0) this.log('warn', `resume: cut torn lines from ${plan.repair.files.map((f) => `${f.file} (${f.bytesCut} bytes)`).join(', ')}`);
      for (const skipped of plan.skipped) this.log('warn', `resume: skipped ${skipped}`);
      if (!plan.checkpoint && options.fromScratch) this.log('warn', 'resume: started over from step 0 (--from-scratch); the history after step 0 was deleted');
      return plan.checkpoint?.decoded ?? null;
    }
    this.lock = await acquireRunLock(RunDirectory.checkNewRun(...this.newRunPlace()));
    return null;
  }

  /** Where a new run goes: [runs folder, run name]. */
  private newRunPlace(): [string, string] {
    return [this.options.runsFolder ?? 'runs', this.options.runName ?? (this.newRunName ??= defaultRunName(this.config))];
  }

  async start(): Promise<void> {
    const { options, config } = this;
    // A bad DURIAN_ORT_PROVIDERS is refused before anything is written (the encoder and sampler read it later).
    const ortProviders = chooseOrtProviders();
    const resumed = await this.openRun();
    this.backend = await selectBackend({ backend: config.backend === 'auto' ? 'auto' : config.backend });
    this.run ??= RunDirectory.create(...this.newRunPlace(), config, { keepCheckpoints: config.keepCheckpoints, inbox: true });
    // A resumed run reads on from its checkpoint's inbox position; controlIds in interventions.jsonl are taken.
    const inbox = new ControlInbox(this.run.resolve(INBOX_FILE), resumed?.state.inbox, this.run.readInterventions());
    const controls = new ControlState(config);
    if (resumed) controls.restore(resumed.state.controls);
    this.run.writeStatus('running', resumed?.step ?? 0);
    this.run.recordStart({ backend: this.backend.name, device: this.backend.device, ...(resumed ? { resumedFromStep: resumed.step } : {}) });
    this.emit({
      type: EVENT.hello,
      protocolVersion: PROTOCOL_VERSION,
      runId: this.run.name,
      runDir: this.run.dir,
      backend: this.backend.name,
      device: this.backend.device,
      config: JSON.parse(JSON.stringify(config)),
      liveConfig: liveCopy(controls.live),
      ...(resumed ? { resumedFromStep: resumed.step } : {}),
    });
    this.helloSent = true;
    for (const { level, message } of this.logsBeforeHello.splice(0)) this.emit({ type: EVENT.log, level, message });
    if (this.faults.length > 0) {
      this.log('warn', `TEST-ONLY fault injection is active (${FAULT_ENV}): ${this.faults.map((f) => `${f.value} into the ${f.target === 'logprob' ? 'log-prob' : f.target} at step ${f.step}`).join(', ')}`);
    }

    const encoder = await loadEncoder(config.encoderPath || undefined);
    const cacheDirectory = path.join(options.cacheDir, 'features');
    this.source = options.dataset || (options.resumeDir && savedDataset(this.run.dir))
      ? await openRunDataset({ run: this.run, settings: options.dataset, resumed: options.resumeDir !== undefined, allowChanged: options.allowChangedDataset === true, encoder, cacheDirectory, seed: config.seed, warn: (message) => this.log('warn', message) }).catch((error: unknown) => {
          // A new run whose dataset cannot be loaded never started: it leaves no run folder behind.
          if (!options.resumeDir) this.run.discardNew();
          throw error;
        })
      : new BuiltInTasks(config.seed, encoder, { cacheDirectory, trainSize: config.trainSize, validationSize: config.validationSize, suite: config.suite });
    const base = await loadOrBuildBasePolicy({
      kind: config.policy,
      source: this.source,
      seed: config.seed,
      cacheDir: options.cacheDir,
      warmup: { maxSteps: config.warmupSteps },
      onProgress: (step, max, accuracy) => {
        if (accuracy !== null) this.log('info', `base policy warm-up: step ${step}/${max}, check accuracy ${accuracy.toFixed(3)}`);
      },
    });
    if (base.rebuiltBecause) this.log('warn', `base policy cache entry was damaged and has been rebuilt: ${base.rebuiltBecause}`);
    this.log('info', `base policy ${base.cached ? 'loaded from cache' : 'built'}: ${base.steps} supervised steps, check accuracy ${base.checkAccuracy.toFixed(3)} (${base.file})`);

    const factory = policyFactory(config.policy);
    const policy = await factory.create(this.source.shape, { seed: config.seed, weights: resumed?.weights ?? base.weights });
    this.reference = await factory.create(this.source.shape, { seed: config.seed, weights: base.weights });
    this.state = startState({ sampleRng: new Rng(mixSeed(config.seed, 0x5a3e)), updateRng: new Rng(mixSeed(config.seed, 0x3b47)), controls, inbox, policy });
    if (resumed) restoreState(this.state, resumed);
    // meta.json: what trains the run (the policy and the task source, as they describe themselves), beside its starts.
    this.run.writeJsonAtomic(META_FILE, { ...this.run.readMeta(), policy: policy.describe(), tasks: this.source.describe() });
    this.retention = new RolloutRetention(config.rolloutsEvery, config.steps);
    this.validationSet = await this.source.get('validation', Array.from({ length: this.source.size('validation') }, (_, i) => i));
    this.order = this.epochOrder(this.state.epoch);
    this.state.startedAt = Date.now();

    this.log('info', `policy: ${policy.describe().summary} (${policy.describe().parameters} parameters); tasks: ${this.source.describe().summary}`);
    this.log('info', backendSummary(this.backend));
    this.log('info', ortProvidersSummary(ortProviders));
    const backendDetail = backendDetails(this.backend);
    if (backendDetail) this.log('debug', backendDetail);
    for (const note of trainConfigNotes(config)) this.log('info', note);
  }

  // ---- the loop ----

  async train(): Promise<{ reason: 'completed' | 'stopped'; before: number; after: number }> {
    const { state, config } = this;
    if (state.step === 0) state.validationBefore = await this.validate(0);
    while (state.step < config.steps) {
      await this.applyControls();
      if (this.stopRequested) break;
      const step = state.step + 1;
      if (this.allPromptsExcluded()) {
        this.pauseWithoutPrompts(step);
        continue;
      }
      const updated = await this.trainStep(step);
      state.step = step;
      if (!updated) this.log('warn', `step ${step} made no update`);
      this.refreshStatus(step);
      if (step % config.validationEvery === 0 && step !== config.steps) await this.validate(step);
      if (step % config.checkpointEvery === 0 && step !== config.steps) this.checkpoint();
    }
    const reason = this.stopRequested && state.step < config.steps ? 'stopped' : 'completed';
    this.refuseLateControls(reason);
    if (config.writeRollouts) this.keepOnDisk(this.retention.finish(state.step));
    const after = await this.validate(state.step);
    this.checkpoint();
    this.run.writeStatus(reason === 'completed' ? 'completed' : 'stopped', state.step);
    this.emit({
      type: EVENT.done,
      step: state.step,
      reason,
      summary: finiteSummary({
        steps: state.step,
        validationAccuracyBefore: state.validationBefore,
        validationAccuracyAfter: after,
        validationAccuracyBest: state.validationBest,
        wallSeconds: elapsedMs(state) / 1000,
      }),
    });
    return { reason, before: state.validationBefore, after };
  }

  /** One RL step, phase by phase; false when it made no update (skipped, or every group left out). */
  private async trainStep(step: number): Promise<boolean> {
    const { state, source, config } = this;
    const { controls } = state;
    const live = controls.live;
    const started = performance.now();
    const timings: StepTimings = { rollout: 0, scoring: 0, update: 0 };

    // Rollout: the next prompts of the epoch order, G responses each.
    const tasks = await source.get('train', this.nextPrompts(live.batchSize));
    let t = performance.now();
    const rollouts = await rollout(state.policy, source, tasks, live, state.sampleRng);
    timings.rollout = (performance.now() - t) / 1000;
    this.fault('logprob', step, rollouts.sample.tokenLogprobs, rollouts.sample.sequenceLogprobs);

    // Reward (the user's overrides first); a non-finite reward or log-prob skips the step.
    t = performance.now();
    const rewards = reward(rollouts, source, controls);
    this.fault('reward', step, rewards.scores);
    const bad = nonFiniteInputs(rollouts, rewards);
    if (bad) return this.skipStep(step, bad);

    // Difficulty and advantages.
    const computed = advantages(difficulty(rollouts, rewards, controls), controls);
    timings.scoring = (performance.now() - t) / 1000;

    // Update on the kept sequences.
    t = performance.now();
    const kept = computed.active.kept.flatMap((keep, s) => (keep ? [s] : []));
    let updateMetrics: Record<string, number> = {};
    if (kept.length > 0) {
      const settings = { live, algorithm: config.algorithm, ppoEpochs: config.ppoEpochs, miniBatchSize: config.miniBatchSize, maxGradNorm: config.maxGradNorm, lr: live.lr * lrFactor(config, step), step, fault: this.fault };
      const result = update(state.policy, this.reference, rollouts, kept, computed.active.advantages, state.updateRng, settings);
      if ('skip' in result) return this.skipStep(step, result.skip);
      updateMetrics = result.metrics;
    }
    timings.update = (performance.now() - t) / 1000;

    // Record: metrics, rollout groups, images.
    const image = (task: SourceTask) => source.image(task, config.writeRollouts ? this.run.dir : undefined);
    const { groups, metrics } = record(rollouts, rewards, computed, updateMetrics, { controls, image, timings, stepMs: performance.now() - started });
    this.rememberResponses(step, tasks, rollouts.G, rewards.texts);
    const { finite, nonFinite: badMetrics } = splitFiniteMetrics(metrics);
    if (badMetrics.length > 0) this.log('warn', `step ${step}: non-finite metrics ${badMetrics.join(', ')}`);
    this.run.appendMetrics(step, metrics, elapsedMs(state));
    if (config.writeRollouts) this.keepOnDisk(this.retention.stepDone(step, groups));
    this.emit({ type: EVENT.step, step, totalSteps: config.steps, metrics: finite, elapsedMs: elapsedMs(state) });
    const split = groupsEvents(step, live.estimator, groups);
    for (const event of split.events) this.emit(event);
    if (split.tooLarge.length > 0) this.log('warn', `step ${step}: ${split.tooLarge.length} rollout groups too large for one event were left out of the live view`);
    return kept.length > 0;
  }

  /**
   * Reports a step whose `cause` turned non-finite: an error event (not fatal) naming the cause, the step and
   * the rollout, and a line in trainer.log. Nothing of the step reaches the weights or the optimiser.
   */
  private skipStep(step: number, skip: Skip): false {
    const message = `step ${step} skipped: ${skip.detail}; no update, the weights were kept`;
    this.run.log('error', message);
    this.emit({ type: EVENT.error, message, where: skip.cause, fatal: false });
    return false;
  }

  // ---- validation and checkpoints ----

  private async validate(step: number): Promise<number> {
    const result = await evaluate(this.state.policy, this.source, this.validationSet);
    if (!(this.state.validationBest >= result.accuracy)) this.state.validationBest = result.accuracy;
    const validation = { step, accuracy: result.accuracy, reward: result.reward, perLevel: result.perLevel };
    this.run.appendValidation(validation);
    this.emit({ type: EVENT.validation, ...validation });
    return result.accuracy;
  }

  private checkpoint(): void {
    const info = this.run.writeCheckpoint(this.state.step, checkpointParts(this.state));
    this.emit({ type: EVENT.checkpoint, step: this.state.step, path: info.relativePath });
  }

  // ---- controls at the step boundary ----

  /** Applies queued controls and the inbox's new lines; while paused, waits here (between steps) for resume or stop. */
  private async applyControls(): Promise<void> {
    const { state } = this;
    for (;;) {
      for (const item of state.inbox.take()) this.enqueue(item);
      while (this.pending.length > 0) {
        const item = this.pending.shift() as PendingItem;
        const appliesAt = state.step + 1;
        if ('refusal' in item) {
          this.refuse(appliesAt, item.refusal);
          continue;
        }
        const { control, inboxLine } = item;
        if (control.type === 'control/pause') {
          this.run.writeStatus('paused', state.step);
          this.emit({ type: EVENT.paused, step: state.step });
        } else if (control.type === 'control/resume') {
          this.run.writeStatus('running', state.step);
          this.emit({ type: EVENT.resumed, step: state.step });
        } else if (control.type !== 'control/stop') {
          const problem = state.controls.apply(control, (step, promptId, rollout) => this.responseOf(step, promptId, rollout));
          if (problem && inboxLine !== undefined) {
            this.refuse(appliesAt, { reason: `${INBOX_FILE} line ${inboxLine}: ${problem}`, inboxLine, controlId: control.controlId, kind: controlKindOf(control) });
            continue;
          }
          if (problem) {
            this.emit({ type: EVENT.error, message: problem, where: controlKindOf(control), fatal: false, controlId: control.controlId });
            continue;
          }
        }
        state.inbox.markUsed(control.controlId);
        this.run.appendIntervention(appliesAt, control);
        state.acknowledgedThrough = Math.max(state.acknowledgedThrough, appliesAt);
        const steering = control.type !== 'control/pause' && control.type !== 'control/resume' && control.type !== 'control/stop';
        if (steering && this.config.writeRollouts) this.keepOnDisk(this.retention.intervened(appliesAt, control.type === 'control/relabel' ? control.step : undefined));
        this.emit({ type: EVENT.applied, controlId: control.controlId, kind: controlKindOf(control), step: appliesAt, config: liveCopy(state.controls.live) });
      }
      if (!this.paused || this.stopRequested) return;
      // Woken by a host control, or after INBOX_POLL_MS to read the inbox again.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, INBOX_POLL_MS);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** An inbox line not applied: acknowledged in interventions.jsonl with the reason, and reported to the host. */
  private refuse(step: number, refusal: InboxRefusal): void {
    this.run.appendRefusal(step, { refused: refusal.reason, inboxLine: refusal.inboxLine, controlId: refusal.controlId, kind: refusal.kind });
    this.state.acknowledgedThrough = Math.max(this.state.acknowledgedThrough, step);
    this.emit({ type: EVENT.error, message: `refused: ${refusal.reason}`, where: INBOX_FILE, fatal: false, ...(refusal.controlId ? { controlId: refusal.controlId } : {}) });
  }

  /** After the last step: the inbox lines that came too late are refused (read at `step`, the run's last). */
  private refuseLateControls(reason: string): void {
    const { step } = this.state;
    const late = [...this.pending.splice(0), ...this.state.inbox.take()];
    for (const item of late) {
      if ('refusal' in item) this.refuse(step, item.refusal);
      else if (item.inboxLine !== undefined) this.refuse(step, { reason: `${INBOX_FILE} line ${item.inboxLine}: the run ${reason} at step ${step} before this control's step boundary; resume it (durian train --resume) to steer it again`, inboxLine: item.inboxLine, controlId: item.control.controlId, kind: controlKindOf(item.control) });
    }
  }

  /** Whether every prompt of the train pool is excluded (a step would have an empty batch). */
  private allPromptsExcluded(): boolean {
    for (let index = 0; index < this.source.size('train'); index++) if (!this.state.controls.isExcluded(this.source.taskId('train', index))) return false;
    return true;
  }

  /** Pauses the run, saying why and how to go on, when every prompt is excluded. */
  private pauseWithoutPrompts(step: number): void {
    const message = `all ${this.config.trainSize} training prompts are excluded, so step ${step} has no prompt to train on: training is paused. Undo an exclusion (Undo in the Rollout Groups panel, or control/undo with its controlId) and resume, or stop the run`;
    this.log('warn', message);
    this.emit({ type: EVENT.error, message, where: 'excludePrompt', fatal: false });
    this.paused = true;
    this.run.writeStatus('paused', this.state.step, message);
    this.emit({ type: EVENT.paused, step: this.state.step });
  }

  // ---- prompts and responses ----

  /** A shuffled order of the train split for one epoch (derived from the seed and epoch, so resumable). */
  private epochOrder(epoch: number): number[] {
    const order = Array.from({ length: this.source.size('train') }, (_, i) => i);
    new Rng(mixSeed(this.config.seed, 0xe90c, epoch)).shuffle(order);
    return order;
  }

  /** The next B prompts of the epoch order, skipping excluded ones (distinct within a batch). */
  private nextPrompts(count: number): number[] {
    const { state } = this;
    const size = this.source.size('train');
    const chosen: number[] = [];
    const seen = new Set<number>();
    let guard = 0;
    while (chosen.length < Math.min(count, size) && guard++ < 4 * size + count) {
      if (state.cursor >= this.order.length) {
        state.epoch++;
        state.cursor = 0;
        this.order = this.epochOrder(state.epoch);
      }
      const index = this.order[state.cursor++];
      if (seen.has(index) || state.controls.isExcluded(this.source.taskId('train', index))) continue;
      seen.add(index);
      chosen.push(index);
    }
    return chosen;
  }

  private rememberResponses(step: number, tasks: readonly SourceTask[], G: number, texts: string[]): void {
    const byPrompt = new Map<string, string[]>();
    tasks.forEach((task, p) => byPrompt.set(task.id, texts.slice(p * G, (p + 1) * G)));
    this.recentResponses.set(step, byPrompt);
    for (const old of this.recentResponses.keys()) if (old < step - 50) this.recentResponses.delete(old);
  }

  private responseOf(step: number, promptId: string, rollout: number): string | undefined {
    const recent = this.recentResponses.get(step)?.get(promptId)?.[rollout];
    if (recent !== undefined) return recent;
    try {
      return this.run.readRollouts(step).find((g) => g.promptId === promptId)?.rollouts[rollout]?.response;
    } catch {
      return undefined;
    }
  }

  // ---- status, logs, errors ----

  /** Writes the rollout groups the retention keeps and deletes the images no kept step uses. */
  private keepOnDisk(actions: RetentionActions): void {
    for (const { step, groups } of actions.write) this.run.writeRollouts(step, groups);
    for (const image of actions.deleteImages) this.run.removeImage(image);
  }

  /** status.json's step follows the run (at most one write a second: it is an atomic rename each time). */
  private refreshStatus(step: number): void {
    const now = Date.now();
    if (now - this.statusWrittenAt < 1000) return;
    this.statusWrittenAt = now;
    this.run.writeStatus('running', step);
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    this.run?.log(level, message);
    // hello is always the first event: earlier log lines wait for it.
    if (this.helloSent) this.emit({ type: EVENT.log, level, message });
    else this.logsBeforeHello.push({ level, message });
  }

  /** Writes an unexpected error with its stack to trainer.log (when the run is open). */
  logError(error: unknown): void {
    try {
      this.run?.log('error', error instanceof Error && error.stack ? error.stack : String(error));
    } catch {
      // The run directory itself may be what failed.
    }
  }

  /** Marks the run crashed (fatal error) with the message, keeping everything written so far. */
  markCrashed(message: string): void {
    try {
      this.run?.writeStatus('crashed', this.state?.step ?? 0, message);
    } catch {
      // The run directory itself may be what failed; the error event still reaches the host.
    }
  }

  async dispose(): Promise<void> {
    this.lock?.release();
    this.lock = null;
    await this.state?.policy.dispose();
    await this.reference?.dispose();
  }
}

/** A control to apply at the next boundary (`inboxLine`: read from the inbox), or an inbox line refused when read. */
type PendingItem = { control: Control; inboxLine?: number } | { refusal: InboxRefusal };

/** While paused, how often the inbox is read for a resume or stop. */
const INBOX_POLL_MS = 200;

/** A copy of the live configuration for an event (the state keeps changing). */
function liveCopy(live: LiveConfig): LiveConfig {
  return { ...live, durianWeights: [...live.durianWeights] };
}

/** The schedule's multiplier of the live lr at `step` (1-based) of config.steps. */
function lrFactor(config: TrainConfig, step: number): number {
  const warmup = config.lrWarmupSteps > 0 ? Math.min(1, step / config.lrWarmupSteps) : 1;
  if (config.lrSchedule === 'constant' || config.steps <= 1) return warmup;
  const progress = Math.min(1, Math.max(0, (step - 1) / (config.steps - 1)));
  const floor = config.minLrRatio;
  return warmup * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

function finiteSummary(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => Number.isFinite(v)));
}

/** The protocol's one run-name format (src/protocol/runFolderLayout.ts). */
export function defaultRunName(config: TrainConfig, now = new Date()): string {
  return newRunName(config.estimator, config.seed, now);
}
