/**
 * The training loop, top to bottom (CleanRL style). Each step: draw B prompts -> G rollouts each (ONNX
 * sampler) -> rewards (0.1 format + 0.9 accuracy, user relabels first) -> difficulty (visual entropy of the
 * frozen encoder's patch features, confidence from the rollout log-probs) -> advantages (src/core, the
 * active estimator, plus GRPO and Durian for comparison) -> clipped policy-gradient update (GRPO or DAPO,
 * k3 KL to the base policy) -> metrics, rollout groups, validation, checkpoints. Controls from the host are
 * validated on arrival and applied at the next step boundary, each acknowledged with `applied` + step; so are
 * the controls appended to the run's inbox.jsonl (./inbox.ts), read at each boundary, whose refusals are
 * acknowledged in interventions.jsonl too.
 */
import path from 'node:path';
import { ESTIMATOR_NAMES, computeAdvantages } from '../core/index.js';
import {
  type Control,
  EVENT,
  PROTOCOL_VERSION,
  type TrainerEvent,
  controlKindOf,
  groupsEvents,
  parseControl,
  splitFiniteMetrics,
} from '../protocol/index.js';
import type { BackendInfo } from './backend/index.js';
import { backendDetails, backendSummary, selectBackend } from './backend/index.js';
import { type BasePolicy, loadOrBuildBasePolicy } from './basePolicy.js';
import { type TrainConfig, trainConfigNotes } from './config.js';
import { ControlState, type ControlStateSnapshot } from './controlState.js';
import { loadEncoder } from './encoder/index.js';
import { evaluate, responseTokens } from './evaluate.js';
import { type Fault, FAULT_ENV, faultAt } from './faults.js';
import { ControlInbox, type InboxRefusal } from './inbox.js';
import { type PolicyBatch, type PolicyConfig, PolicyModel, PolicySampler, PolicyTrainer, type Weights } from './policy/index.js';
import { allFinite, builtInPolicyConfig, packArrays, unpackArrays } from './policyIo.js';
import { Rng, mixSeed } from './rng.js';
import { INBOX_FILE, type InboxPosition, type LoadedCheckpoint, RunDirectory, type RunLock, acquireRunLock, checkInboxPosition } from './run/index.js';
import { type RetentionActions, RolloutRetention } from './run/retention.js';
import { type StepTimings, buildRolloutGroups, stepMetrics } from './stepRecords.js';
import { type PooledTask, TaskPool } from './taskPool.js';
import { decodeResponse, scoreResponse, taskId, taskImagePath, writeTaskImage } from './tasks/index.js';

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
}

export class Trainer {
  private readonly emit: (event: TrainerEvent) => void;
  private readonly faults: readonly Fault[];
  private config: TrainConfig;
  private run!: RunDirectory;
  /** The run's lock (./run/lock.ts), held while this process lives. */
  private lock: RunLock | null = null;
  /** The default name of a new run, fixed once chosen. */
  private newRunName: string | undefined;
  private backend!: BackendInfo;
  private pool!: TaskPool;
  private policyConfig!: PolicyConfig;
  private model!: PolicyModel;
  private reference!: PolicyModel;
  private optimizer!: PolicyTrainer;
  private sampler!: PolicySampler;
  private controls!: ControlState;
  /** Which steps' rollout groups and images stay on disk. */
  private retention!: RolloutRetention;
  private validationSet: PooledTask[] = [];
  private batchRng!: Rng;
  private sampleRng!: Rng;
  private epoch = 0;
  private cursor = 0;
  private order: number[] = [];
  private step = 0;
  private startedAt = Date.now();
  private elapsedBeforeMs = 0;
  private validationBefore = Number.NaN;
  private validationLatest = Number.NaN;
  private validationBest = Number.NaN;
  /** Controls to apply at the next boundary (from the host, or read from the inbox with their line), and inbox refusals. */
  private readonly pending: PendingItem[] = [];
  private inbox!: ControlInbox;
  private helloSent = false;
  private readonly logsBeforeHello: { level: 'debug' | 'info' | 'warn' | 'error'; message: string }[] = [];
  private paused = false;
  private stopRequested = false;
  private wake: (() => void) | null = null;
  private statusWrittenAt = 0;
  /** The highest step of an interventions.jsonl line written (a stop's boundary acknowledges from step + 1). */
  private acknowledgedThrough = 0;
  /** Responses of recent steps, for relabels: step -> promptId -> response texts. */
  private readonly recentResponses = new Map<number, Map<string, string[]>>();

  constructor(private readonly options: TrainerOptions) {
    this.emit = options.emit;
    this.config = options.config;
    this.faults = options.faults ?? [];
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
    const { options } = this;
    const resumed = await this.openRun();
    this.backend = await selectBackend({ backend: this.config.backend === 'auto' ? 'auto' : this.config.backend });
    this.run ??= RunDirectory.create(...this.newRunPlace(), this.config, { keepCheckpoints: this.config.keepCheckpoints, inbox: true });
    // A resumed run reads on from its checkpoint's inbox position; controlIds in interventions.jsonl are taken.
    this.inbox = new ControlInbox(this.run.resolve(INBOX_FILE), resumed?.state.inbox, this.run.readInterventions());
    this.run.writeStatus('running', resumed?.step ?? 0);
    this.emit({
      type: EVENT.hello,
      protocolVersion: PROTOCOL_VERSION,
      runId: this.run.name,
      runDir: this.run.dir,
      backend: this.backend.name,
      device: this.backend.device,
      config: JSON.parse(JSON.stringify(this.config)),
      ...(resumed ? { resumedFromStep: resumed.step } : {}),
    });
    this.helloSent = true;
    for (const { level, message } of this.logsBeforeHello.splice(0)) this.emit({ type: EVENT.log, level, message });
    if (this.faults.length > 0) {
      this.log('warn', `TEST-ONLY fault injection is active (${FAULT_ENV}): ${this.faults.map((f) => `${f.value} into the ${f.target === 'logprob' ? 'log-prob' : f.target} at step ${f.step}`).join(', ')}`);
    }

    const encoder = await loadEncoder(this.config.encoderPath || undefined);
    this.pool = new TaskPool(this.config.seed, encoder, { cacheDirectory: path.join(options.cacheDir, 'features') });
    this.policyConfig = builtInPolicyConfig(encoder, this.config.seed);
    this.sampler = await PolicySampler.create(this.policyConfig);

    const base: BasePolicy = await loadOrBuildBasePolicy({
      policy: this.policyConfig,
      pool: this.pool,
      sampler: this.sampler,
      seed: this.config.seed,
      cacheDir: options.cacheDir,
      warmup: { maxSteps: this.config.warmupSteps },
      onProgress: (step, max, accuracy) => {
        if (accuracy !== null) this.log('info', `base policy warm-up: step ${step}/${max}, check accuracy ${accuracy.toFixed(3)}`);
      },
    });
    if (base.rebuiltBecause) this.log('warn', `base policy cache entry was damaged and has been rebuilt: ${base.rebuiltBecause}`);
    this.log('info', `base policy ${base.cached ? 'loaded from cache' : 'built'}: ${base.steps} supervised steps, check accuracy ${base.checkAccuracy.toFixed(3)} (${base.file})`);

    this.model = new PolicyModel(this.policyConfig, resumed?.weights ?? base.weights);
    this.reference = new PolicyModel(this.policyConfig, base.weights);
    this.optimizer = new PolicyTrainer(this.model);
    this.controls = new ControlState(this.config);
    this.retention = new RolloutRetention(this.config.rolloutsEvery, this.config.steps);
    this.batchRng = new Rng(mixSeed(this.config.seed, 0xb47c));
    this.sampleRng = new Rng(mixSeed(this.config.seed, 0x5a3e));
    this.validationSet = await this.pool.get('validation', Array.from({ length: this.config.validationSize }, (_, i) => i));

    if (resumed) {
      this.step = resumed.step;
      this.restore(resumed.state, resumed.adam);
    }
    this.order = this.epochOrder(this.epoch);
    this.startedAt = Date.now();

    this.log('info', backendSummary(this.backend));
    const backendDetail = backendDetails(this.backend);
    if (backendDetail) this.log('debug', backendDetail);
    for (const note of trainConfigNotes(this.config)) this.log('info', note);
  }

  // ---- the loop ----

  async train(): Promise<{ reason: 'completed' | 'stopped'; before: number; after: number }> {
    if (this.step === 0) {
      this.validationBefore = await this.validate(0);
    }
    while (this.step < this.config.steps) {
      await this.applyControls();
      if (this.stopRequested) break;
      const step = this.step + 1;
      if (this.allPromptsExcluded()) {
        this.pauseWithoutPrompts(step);
        continue;
      }
      const ok = await this.trainStep(step);
      this.step = step;
      if (!ok) this.log('warn', `step ${step} made no update`);
      this.refreshStatus(step);
      if (step % this.config.validationEvery === 0 && step !== this.config.steps) await this.validate(step);
      if (step % this.config.checkpointEvery === 0 && step !== this.config.steps) this.checkpoint();
    }
    const reason = this.stopRequested && this.step < this.config.steps ? 'stopped' : 'completed';
    this.refuseLateControls(reason);
    if (this.config.writeRollouts) this.keepOnDisk(this.retention.finish(this.step));
    const after = await this.validate(this.step);
    this.checkpoint();
    this.run.writeStatus(reason === 'completed' ? 'completed' : 'stopped', this.step);
    this.emit({
      type: EVENT.done,
      step: this.step,
      reason,
      summary: finiteSummary({
        steps: this.step,
        validationAccuracyBefore: this.validationBefore,
        validationAccuracyAfter: after,
        validationAccuracyBest: this.validationBest,
        wallSeconds: this.elapsedMs() / 1000,
      }),
    });
    return { reason, before: this.validationBefore, after };
  }

  /** Writes the rollout groups the retention keeps and deletes the images no kept step uses. */
  private keepOnDisk(actions: RetentionActions): void {
    for (const { step, groups } of actions.write) this.run.writeRollouts(step, groups);
    for (const image of actions.deleteImages) this.run.removeImage(image);
  }

  /** Whether every prompt of the train pool is excluded (a step would have an empty batch). */
  private allPromptsExcluded(): boolean {
    for (let index = 0; index < this.config.trainSize; index++) if (!this.controls.isExcluded(taskId('train', index))) return false;
    return true;
  }

  /** Pauses the run, saying why and how to go on, when every prompt is excluded. */
  private pauseWithoutPrompts(step: number): void {
    const message = `all ${this.config.trainSize} training prompts are excluded, so step ${step} has no prompt to train on: training is paused. Undo an exclusion (Undo in the Rollout Groups panel, or control/undo with its controlId) and resume, or stop the run`;
    this.log('warn', message);
    this.emit({ type: EVENT.error, message, where: 'excludePrompt', fatal: false });
    this.paused = true;
    this.run.writeStatus('paused', this.step, message);
    this.emit({ type: EVENT.paused, step: this.step });
  }

  /** Applies queued controls and the inbox's new lines; while paused, waits here (between steps) for resume or stop. */
  private async applyControls(): Promise<void> {
    for (;;) {
      for (const item of this.inbox.take()) this.enqueue(item);
      while (this.pending.length > 0) {
        const item = this.pending.shift() as PendingItem;
        const appliesAt = this.step + 1;
        if ('refusal' in item) {
          this.refuse(appliesAt, item.refusal);
          continue;
        }
        const { control, inboxLine } = item;
        if (control.type === 'control/pause') {
          this.run.writeStatus('paused', this.step);
          this.emit({ type: EVENT.paused, step: this.step });
        } else if (control.type === 'control/resume') {
          this.run.writeStatus('running', this.step);
          this.emit({ type: EVENT.resumed, step: this.step });
        } else if (control.type !== 'control/stop') {
          const problem = this.controls.apply(control, (step, promptId, rollout) => this.responseOf(step, promptId, rollout));
          if (problem && inboxLine !== undefined) {
            this.refuse(appliesAt, { reason: `${INBOX_FILE} line ${inboxLine}: ${problem}`, inboxLine, controlId: control.controlId, kind: controlKindOf(control) });
            continue;
          }
          if (problem) {
            this.emit({ type: EVENT.error, message: problem, where: controlKindOf(control), fatal: false, controlId: control.controlId });
            continue;
          }
        }
        this.inbox.markUsed(control.controlId);
        this.run.appendIntervention(appliesAt, control);
        this.acknowledgedThrough = Math.max(this.acknowledgedThrough, appliesAt);
        const steering = control.type !== 'control/pause' && control.type !== 'control/resume' && control.type !== 'control/stop';
        if (steering && this.config.writeRollouts) this.keepOnDisk(this.retention.intervened(appliesAt, control.type === 'control/relabel' ? control.step : undefined));
        this.emit({ type: EVENT.applied, controlId: control.controlId, kind: controlKindOf(control), step: appliesAt });
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
    this.acknowledgedThrough = Math.max(this.acknowledgedThrough, step);
    this.emit({ type: EVENT.error, message: `refused: ${refusal.reason}`, where: INBOX_FILE, fatal: false, ...(refusal.controlId ? { controlId: refusal.controlId } : {}) });
  }

  /** After the last step: the inbox lines that came too late are refused (read at `step`, the run's last). */
  private refuseLateControls(reason: string): void {
    const late = [...this.pending.splice(0), ...this.inbox.take()];
    for (const item of late) {
      if ('refusal' in item) this.refuse(this.step, item.refusal);
      else if (item.inboxLine !== undefined) this.refuse(this.step, { reason: `${INBOX_FILE} line ${item.inboxLine}: the run ${reason} at step ${this.step} before this control's step boundary; resume it (durian train --resume) to steer it again`, inboxLine: item.inboxLine, controlId: item.control.controlId, kind: controlKindOf(item.control) });
    }
  }

  private async trainStep(step: number): Promise<boolean> {
    const live = this.controls.live;
    const started = performance.now();
    const timings: StepTimings = { rollout: 0, scoring: 0, update: 0 };

    // 1. Prompts and rollouts.
    const prompts = await this.pool.get('train', this.nextPrompts(live.batchSize));
    const G = live.groupSize;
    const inputs = this.pool.inputs(prompts);
    const promptIndex = Int32Array.from({ length: prompts.length * G }, (_, s) => Math.floor(s / G));
    let t = performance.now();
    const sample = await this.sampler.sample(this.model.getWeights(), inputs, {
      random: () => this.sampleRng.next(),
      temperature: live.temperature,
      promptIndex,
    });
    timings.rollout = (performance.now() - t) / 1000;
    const logprobFault = faultAt(this.faults, 'logprob', step);
    if (logprobFault !== undefined) {
      sample.tokenLogprobs[0] = logprobFault;
      sample.sequenceLogprobs[0] = logprobFault;
    }

    // 2. Rewards (relabels first), difficulty and advantages.
    t = performance.now();
    const sequences = promptIndex.length;
    const index: string[] = new Array(sequences);
    const scores: number[] = new Array(sequences);
    const accuracy: number[] = new Array(sequences);
    const format: number[] = new Array(sequences);
    const relabeled: boolean[] = new Array(sequences).fill(false);
    const texts: string[] = new Array(sequences);
    const visualEntropy: number[] = new Array(sequences);
    const logprob = Array.from(sample.sequenceLogprobs);
    for (let s = 0; s < sequences; s++) {
      const prompt = prompts[promptIndex[s]];
      const tokens = responseTokens(sample.responses, sample.responseLength, sample.lengths[s], s);
      const score = scoreResponse(tokens, prompt.task);
      texts[s] = decodeResponse(Array.from(tokens));
      index[s] = prompt.task.id;
      accuracy[s] = score.accuracy;
      format[s] = score.format;
      const relabel = this.controls.relabel(prompt.task.id, texts[s]);
      scores[s] = relabel ?? score.reward;
      relabeled[s] = relabel !== undefined;
      visualEntropy[s] = prompt.visualEntropy;
    }
    // Non-finite rewards or log-probs: the step is skipped before any advantage or update is computed.
    const rewardFault = faultAt(this.faults, 'reward', step);
    if (rewardFault !== undefined) scores[0] = rewardFault;
    const badReward = scores.findIndex((v) => !Number.isFinite(v));
    if (badReward >= 0) return this.skipStep(step, 'reward', `rollout ${badReward} (prompt ${index[badReward]}) has a non-finite reward (${scores[badReward]})`);
    let badLogprob = logprob.findIndex((v) => !Number.isFinite(v));
    if (badLogprob < 0) {
      const token = sample.tokenLogprobs.findIndex((v) => !Number.isFinite(v));
      if (token >= 0) badLogprob = Math.floor(token / sample.responseLength);
    }
    if (badLogprob >= 0) {
      const what = Number.isFinite(logprob[badLogprob]) ? 'a non-finite token log-prob' : `a non-finite log-prob (${logprob[badLogprob]})`;
      return this.skipStep(step, 'log-prob', `rollout ${badLogprob} (prompt ${index[badLogprob]}) has ${what}`);
    }
    const groupWeights = Object.fromEntries(prompts.map((p) => [p.task.id, this.controls.groupWeight(p.task.id)]));
    const batch = { index, scores, lengths: Array.from(sample.lengths), visualEntropy, logprob, accuracy, groupWeights };
    const active = computeAdvantages(live.estimator, batch, this.controls.estimatorOptions());
    const grpo = live.estimator === 'grpo' ? active : computeAdvantages('grpo', batch, this.controls.estimatorOptions('grpo'));
    const durian = live.estimator === 'durian' ? active : computeAdvantages('durian', batch, this.controls.estimatorOptions('durian'));
    timings.scoring = (performance.now() - t) / 1000;

    // 3. Update on the kept sequences (band filter and weight 0 leave groups out).
    t = performance.now();
    const keptSequences = active.kept.flatMap((kept, s) => (kept ? [s] : []));
    let update: Record<string, number> = {};
    if (keptSequences.length > 0) {
      const result = this.update(inputs, sample, promptIndex, keptSequences, active.advantages, step);
      if (result === null) return false;
      update = result;
    }
    timings.update = (performance.now() - t) / 1000;

    // 4. Record: metrics, rollout groups, images.
    const groups = buildRolloutGroups({
      prompts,
      G,
      texts,
      tokens: (s) => Array.from(sample.responses.subarray(s * sample.responseLength, s * sample.responseLength + sample.lengths[s])),
      scores,
      format,
      accuracy,
      meanLogprobs: sample.sequenceLogprobs,
      relabeled,
      image: (p) => (this.config.writeRollouts ? writeTaskImage(this.run.dir, prompts[p].task) : taskImagePath(prompts[p].task)),
      weight: (id) => this.controls.groupWeight(id),
      active,
      grpo,
      durian,
    });
    this.rememberResponses(step, prompts, G, texts);
    const metrics = stepMetrics({ scores, accuracy, format, lengths: sample.lengths, active, grpo, G, update, timings, stepMs: performance.now() - started, sequences });
    const { finite, nonFinite: badMetrics } = splitFiniteMetrics(metrics);
    if (badMetrics.length > 0) this.log('warn', `step ${step}: non-finite metrics ${badMetrics.join(', ')}`);
    this.run.appendMetrics(step, metrics, this.elapsedMs());
    if (this.config.writeRollouts) this.keepOnDisk(this.retention.stepDone(step, groups));
    this.emit({ type: EVENT.step, step, totalSteps: this.config.steps, metrics: finite, elapsedMs: this.elapsedMs() });
    const split = groupsEvents(step, live.estimator, groups);
    for (const event of split.events) this.emit(event);
    if (split.tooLarge.length > 0) this.log('warn', `step ${step}: ${split.tooLarge.length} rollout groups too large for one event were left out of the live view`);
    return keptSequences.length > 0;
  }

  /** One or more PPO epochs on the kept sequences; null when the update was rejected as non-finite. */
  private update(
    inputs: { patches: Float32Array; questions: Int32Array; questionLength: number },
    sample: { responses: Int32Array; responseLength: number; tokenLogprobs: Float32Array },
    promptIndex: Int32Array,
    kept: number[],
    advantages: Float64Array,
    step: number,
  ): Record<string, number> | null {
    const live = this.controls.live;
    const Lr = sample.responseLength;
    const responses = new Int32Array(kept.length * Lr);
    const oldLogprobs = new Float32Array(kept.length * Lr);
    const keptIndex = new Int32Array(kept.length);
    const keptAdvantages = new Float64Array(kept.length);
    kept.forEach((s, k) => {
      responses.set(sample.responses.subarray(s * Lr, (s + 1) * Lr), k * Lr);
      oldLogprobs.set(sample.tokenLogprobs.subarray(s * Lr, (s + 1) * Lr), k * Lr);
      keptIndex[k] = promptIndex[s];
      keptAdvantages[k] = advantages[s];
    });
    const batch: PolicyBatch = { ...inputs, responses, responseLength: Lr, promptIndex: keptIndex };
    const refLogprobs = live.klBeta > 0 ? this.reference.logProbs(batch, { temperature: live.temperature }).tokenLogprobs : null;
    const before = this.model.getWeights();
    // Adam's moments too: a later PPO epoch that fails must not leave the earlier epochs' moments behind.
    const adamBefore = this.optimizer.optimizer.getState();
    const dapo = this.config.algorithm === 'dapo';
    const gradientFault = faultAt(this.faults, 'gradient', step);
    const lossAdvantages = gradientFault === undefined ? keptAdvantages : Float64Array.from(keptAdvantages, (a, k) => (k === 0 ? gradientFault : a));
    const lr = live.lr * this.lrFactor(step);
    let metrics: Record<string, number> = {};
    for (let epoch = 0; epoch < this.config.ppoEpochs; epoch++) {
      metrics = { ...this.optimizer.trainStep(batch, lossAdvantages, oldLogprobs, refLogprobs, {
        lossType: dapo ? 'dapo' : 'grpo',
        clipRatioLow: live.clipLow,
        clipRatioHigh: live.clipHigh,
        klCoef: live.klBeta,
        entropyCoef: 0,
        temperature: live.temperature,
        learningRate: lr,
        maxGradNorm: this.config.maxGradNorm,
      }), lr };
      if (!Number.isFinite(metrics.grad_norm) || !allFinite(this.model.getWeights())) {
        // Adam skips a non-finite gradient itself; a finite one that still overflows a weight is undone here.
        this.model.setWeights(before);
        this.optimizer.optimizer.setState(adamBefore);
        if (!Number.isFinite(metrics.grad_norm)) this.skipStep(step, 'gradient', `the gradients are non-finite (norm ${metrics.grad_norm}, PPO epoch ${epoch + 1})`);
        else this.skipStep(step, 'weights', `the update produced non-finite weights (PPO epoch ${epoch + 1})`);
        return null;
      }
    }
    return metrics;
  }

  /** status.json's step follows the run (at most one write a second: it is an atomic rename each time). */
  private refreshStatus(step: number): void {
    const now = Date.now();
    if (now - this.statusWrittenAt < 1000) return;
    this.statusWrittenAt = now;
    this.run.writeStatus('running', step);
  }

  /** The schedule's multiplier of the live lr at `step` (1-based) of config.steps. */
  private lrFactor(step: number): number {
    const warmup = this.config.lrWarmupSteps > 0 ? Math.min(1, step / this.config.lrWarmupSteps) : 1;
    if (this.config.lrSchedule === 'constant' || this.config.steps <= 1) return warmup;
    const progress = Math.min(1, Math.max(0, (step - 1) / (this.config.steps - 1)));
    const floor = this.config.minLrRatio;
    return warmup * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
  }

  /**
   * Reports a step whose `cause` turned non-finite: an error event (not fatal) naming the cause, the step and
   * the rollout, and a line in trainer.log. Nothing of the step reaches the weights or the optimiser.
   */
  private skipStep(step: number, cause: 'reward' | 'log-prob' | 'gradient' | 'weights', detail: string): false {
    const message = `step ${step} skipped: ${detail}; no update, the weights were kept`;
    this.run.log('error', message);
    this.emit({ type: EVENT.error, message, where: cause, fatal: false });
    return false;
  }

  // ---- records ----

  private async validate(step: number): Promise<number> {
    const result = await evaluate(this.sampler, this.model.getWeights(), this.pool, this.validationSet);
    this.validationLatest = result.accuracy;
    if (!(this.validationBest >= result.accuracy)) this.validationBest = result.accuracy;
    const record = { step, accuracy: result.accuracy, reward: result.reward, perLevel: result.perLevel };
    this.run.appendValidation(record);
    this.emit({ type: EVENT.validation, ...record });
    return result.accuracy;
  }

  private checkpoint(): void {
    const weights = packArrays(this.model.getWeights());
    const adamState = this.optimizer.optimizer.getState();
    const adam = packArrays({
      ...Object.fromEntries(Object.entries(adamState.firstMoment).map(([k, v]) => [`m/${k}`, v])),
      ...Object.fromEntries(Object.entries(adamState.secondMoment).map(([k, v]) => [`v/${k}`, v])),
    });
    const state: TrainerCheckpointState = {
      step: this.step,
      epoch: this.epoch,
      cursor: this.cursor,
      adamStep: adamState.step,
      batchRng: this.batchRng.getState(),
      sampleRng: this.sampleRng.getState(),
      controls: this.controls.snapshot(),
      inbox: this.inbox.position,
      interventionsThrough: Math.max(this.step, this.acknowledgedThrough),
      validationBefore: this.validationBefore,
      validationBest: this.validationBest,
      elapsedMs: this.elapsedMs(),
      weightsIndex: weights.index,
      adamIndex: adam.index,
    };
    const info = this.run.writeCheckpoint(this.step, { 'weights.bin': weights.bytes, 'adam.bin': adam.bytes, 'state.json': state });
    this.emit({ type: EVENT.checkpoint, step: this.step, path: info.relativePath });
  }

  private restore(state: TrainerCheckpointState, adam: Record<string, Float32Array>): void {
    this.epoch = state.epoch;
    this.cursor = state.cursor;
    this.batchRng.setState(state.batchRng);
    this.sampleRng.setState(state.sampleRng);
    this.controls.restore(state.controls);
    this.validationBefore = state.validationBefore ?? Number.NaN;
    this.validationBest = state.validationBest ?? Number.NaN;
    this.elapsedBeforeMs = state.elapsedMs;
    const firstMoment: Record<string, Float32Array> = {};
    const secondMoment: Record<string, Float32Array> = {};
    for (const [key, values] of Object.entries(adam)) {
      if (key.startsWith('m/')) firstMoment[key.slice(2)] = values;
      else if (key.startsWith('v/')) secondMoment[key.slice(2)] = values;
    }
    this.optimizer.optimizer.setState({ step: state.adamStep, firstMoment, secondMoment });
  }

  // ---- helpers ----

  /** A shuffled order of the train pool for one epoch (derived from the seed and epoch, so resumable). */
  private epochOrder(epoch: number): number[] {
    const order = Array.from({ length: this.config.trainSize }, (_, i) => i);
    new Rng(mixSeed(this.config.seed, 0xe90c, epoch)).shuffle(order);
    return order;
  }

  /** The next B prompts of the epoch order, skipping excluded ones (distinct within a batch). */
  private nextPrompts(count: number): number[] {
    const chosen: number[] = [];
    const seen = new Set<number>();
    let guard = 0;
    while (chosen.length < Math.min(count, this.config.trainSize) && guard++ < 4 * this.config.trainSize + count) {
      if (this.cursor >= this.order.length) {
        this.epoch++;
        this.cursor = 0;
        this.order = this.epochOrder(this.epoch);
      }
      const index = this.order[this.cursor++];
      const id = taskId('train', index);
      if (seen.has(index) || this.controls.isExcluded(id)) continue;
      seen.add(index);
      chosen.push(index);
    }
    return chosen;
  }

  private rememberResponses(step: number, prompts: PooledTask[], G: number, texts: string[]): void {
    const byPrompt = new Map<string, string[]>();
    prompts.forEach((prompt, p) => byPrompt.set(prompt.task.id, texts.slice(p * G, (p + 1) * G)));
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

  private elapsedMs(): number {
    return this.elapsedBeforeMs + (Date.now() - this.startedAt);
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
      this.run?.writeStatus('crashed', this.step, message);
    } catch {
      // The run directory itself may be what failed; the error event still reaches the host.
    }
  }

  async dispose(): Promise<void> {
    this.lock?.release();
    this.lock = null;
    this.model?.dispose();
    this.reference?.dispose();
    this.optimizer?.dispose();
    await this.sampler?.release();
  }
}

/** A control to apply at the next boundary (`inboxLine`: read from the inbox), or an inbox line refused when read. */
type PendingItem = { control: Control; inboxLine?: number } | { refusal: InboxRefusal };

/** What a resume needs from a checkpoint, decoded and checked. */
interface ResumedState {
  step: number;
  state: TrainerCheckpointState;
  weights: Weights;
  adam: Record<string, Float32Array>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Decodes a checkpoint whose parts match their manifest; throws (naming the part) when it still cannot be
 * used: state.json lacks a field, an array index points outside weights.bin / adam.bin, a weight is not
 * finite, the random-generator or control state does not restore. The resume then falls back to an older one.
 */
export function decodeCheckpoint(checkpoint: Omit<LoadedCheckpoint, 'skipped'>, config: TrainConfig): ResumedState {
  const state = checkpoint.json['state.json'];
  if (!isObject(state)) throw new Error('state.json is missing or not an object');
  for (const field of ['step', 'epoch', 'cursor', 'adamStep', 'elapsedMs'] as const) {
    const value = state[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new Error(`state.json: ${field} must be a whole number >= 0, got ${JSON.stringify(value)}`);
  }
  if (state.step !== checkpoint.step) throw new Error(`state.json: step ${String(state.step)} differs from the checkpoint's step ${checkpoint.step}`);
  for (const field of ['weightsIndex', 'adamIndex', 'controls', 'batchRng', 'sampleRng'] as const) {
    if (!isObject(state[field])) throw new Error(`state.json: ${field} is missing`);
  }
  for (const part of ['weights.bin', 'adam.bin']) if (!checkpoint.bytes[part]) throw new Error(`${part} is missing`);
  const typed = state as unknown as TrainerCheckpointState;
  if (state.inbox !== undefined) typed.inbox = checkInboxPosition(state.inbox, 'state.json: inbox');
  const through = state.interventionsThrough;
  if (through !== undefined && (typeof through !== 'number' || !Number.isInteger(through) || through < checkpoint.step || through > checkpoint.step + 1)) {
    throw new Error(`state.json: interventionsThrough must be the checkpoint's step or the next, got ${JSON.stringify(through)}`);
  }
  const weights = unpackArrays(checkpoint.bytes['weights.bin'], typed.weightsIndex, 'weights.bin') as Weights;
  if (Object.keys(weights).length === 0) throw new Error('weights.bin holds no weights');
  if (!allFinite(weights)) throw new Error('weights.bin holds a non-finite weight');
  const adam = unpackArrays(checkpoint.bytes['adam.bin'], typed.adamIndex, 'adam.bin');
  new Rng(0).setState(typed.batchRng);
  new Rng(0).setState(typed.sampleRng);
  try {
    new ControlState(config).restore(typed.controls);
  } catch (error) {
    throw new Error(`state.json: controls do not restore (${error instanceof Error ? error.message : String(error)})`);
  }
  return { step: checkpoint.step, state: typed, weights, adam };
}

export interface TrainerCheckpointState {
  step: number;
  epoch: number;
  cursor: number;
  adamStep: number;
  batchRng: ReturnType<Rng['getState']>;
  sampleRng: ReturnType<Rng['getState']>;
  controls: ControlStateSnapshot;
  /** Where the inbox was read up to (absent in checkpoints of older versions: read from the start). */
  inbox?: InboxPosition;
  /** interventions.jsonl lines up to this step are held by the checkpoint (absent in older ones: up to `step`). */
  interventionsThrough?: number;
  validationBefore: number | null;
  validationBest: number | null;
  elapsedMs: number;
  weightsIndex: Record<string, [number, number]>;
  adamIndex: Record<string, [number, number]>;
}

/** While paused, how often the inbox is read for a resume or stop. */
const INBOX_POLL_MS = 200;

function finiteSummary(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => Number.isFinite(v)));
}

export function defaultRunName(config: TrainConfig, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
  return `${stamp}-${config.estimator}-s${config.seed}`;
}

export { ESTIMATOR_NAMES };
