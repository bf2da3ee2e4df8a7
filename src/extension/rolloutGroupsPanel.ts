/**
 * The Rollout Groups panel (host side): one webview showing a run's prompt groups step by step. After the
 * webview's `ready` it posts the run (steps on disk, configuration, interventions log) and the latest step,
 * answers requests for other steps and for a prompt's history by reading `rollouts/step-N.jsonl` (history
 * is never kept in memory), relays the live `trainer/groups` events of the session (the latest step's,
 * joined, is the one thing kept, for runs that do not write rollouts), and sends the interventions the
 * webview makes through the controller. Images are files of the run directory, shown through
 * `asWebviewUri` with the run directory among the `localResourceRoots`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { DURIAN_DEFAULT_WEIGHTS } from '../core/index.js';
import {
  INTERVENTIONS_FILE,
  type InterventionLine,
  ROLLOUTS_DIR,
  type PromptHistoryPoint,
  ROLLOUTS,
  ROLLOUTS_RELAYED_EVENTS,
  type RolloutGroup,
  type RolloutsHostToWebviewMessage,
  type TrainerEvent,
  describeControl,
  fixedOptionsOfRunConfig,
  liveConfigOfRunConfig,
  nearestKeptStep,
  parseInterventionLine,
  parseRolloutGroup,
  parseRolloutsHostToWebview,
  parseRolloutsWebviewToHost,
  readJsonlRecords,
  rolloutsFile,
  stepOfName,
} from '../protocol/index.js';
import type { TrainingController } from './controller.js';
import { handleExportMessage } from './exportSave.js';
import { readRunConfig } from './runFiles.js';
import { RunPanel, type RunPanelKind } from './runPanel.js';

export const ROLLOUT_GROUPS_VIEW_TYPE = 'durian.rolloutGroups';
const KIND: RunPanelKind = {
  viewType: ROLLOUT_GROUPS_VIEW_TYPE,
  title: 'Durian Rollout Groups',
  runTitle: 'Rollout Groups',
  lastRunKey: 'durian.rolloutGroups.runDir',
  bundle: 'rollouts',
  logName: 'rollout groups',
  // The groups' images are files of the run directory.
  showsRunFiles: true,
};
/** `rollouts/step-000010.jsonl` of a run (the protocol's names). */
function rolloutsFileOf(runDir: string, step: number): string {
  return path.join(runDir, rolloutsFile(step));
}

/** Steps that have a rollouts file, ascending. */
export function listRolloutSteps(runDir: string): number[] {
  const dir = path.join(runDir, ROLLOUTS_DIR);
  if (!existsSync(dir)) return [];
  const steps: number[] = [];
  for (const name of readdirSync(dir)) {
    const step = stepOfName(name, '.jsonl');
    if (step !== undefined) steps.push(step);
  }
  return steps.sort((a, b) => a - b);
}

/** The groups of one step file; unreadable lines (a torn last line) are skipped and counted. */
async function readStepGroups(runDir: string, step: number): Promise<{ groups: RolloutGroup[]; skipped: number; missing: boolean }> {
  let text: string;
  try {
    text = await readFile(rolloutsFileOf(runDir, step), 'utf8');
  } catch {
    return { groups: [], skipped: 0, missing: true };
  }
  const groups: RolloutGroup[] = [];
  let skipped = 0;
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const parsed = parseRolloutGroup(JSON.parse(line), `step-${step}:${i + 1}`);
      if (parsed.ok) groups.push(parsed.value);
      else skipped++;
    } catch {
      skipped++;
    }
  });
  return { groups, skipped, missing: false };
}

/** interventions.jsonl's applied lines (the protocol's reader: refused, torn and bad lines are skipped). */
export async function readInterventions(runDir: string): Promise<InterventionLine[]> {
  let text: string;
  try {
    text = await readFile(path.join(runDir, INTERVENTIONS_FILE), 'utf8');
  } catch {
    return [];
  }
  return readJsonlRecords(text, (value) => parseInterventionLine(value)).lines;
}

/** A history point of one group. */
function historyPoint(step: number, group: RolloutGroup): PromptHistoryPoint {
  const n = group.rollouts.length;
  return {
    step,
    accuracy: group.rollouts.reduce((sum, r) => sum + r.accuracy, 0) / n,
    reward: group.rollouts.reduce((sum, r) => sum + r.reward, 0) / n,
    advantages: group.rollouts.map((r) => r.advantage),
    advantagesGrpo: group.rollouts.map((r) => r.advantageGrpo),
    weight: group.weight,
    excluded: group.excluded,
  };
}

/**
 * One prompt across every step file of a run: a line is parsed only when it mentions the prompt's id, so
 * 1,000 steps of 512 groups are scanned without parsing them all.
 */
async function readPromptHistory(runDir: string, promptId: string): Promise<PromptHistoryPoint[]> {
  const needle = `"promptId":${JSON.stringify(promptId)}`;
  const points: PromptHistoryPoint[] = [];
  for (const step of listRolloutSteps(runDir)) {
    let text: string;
    try {
      text = await readFile(rolloutsFileOf(runDir, step), 'utf8');
    } catch {
      continue;
    }
    let from = text.indexOf(needle);
    while (from >= 0) {
      const start = text.lastIndexOf('\n', from) + 1;
      const endAt = text.indexOf('\n', from);
      const line = text.slice(start, endAt < 0 ? text.length : endAt);
      try {
        const parsed = parseRolloutGroup(JSON.parse(line));
        if (parsed.ok && parsed.value.promptId === promptId) points.push(historyPoint(step, parsed.value));
      } catch {
        // a torn line: skipped
      }
      from = endAt < 0 ? -1 : text.indexOf(needle, endAt);
    }
  }
  return points;
}

export class RolloutGroupsPanel extends RunPanel {
  /** The latest live step's groups, joined from its `trainer/groups` events. */
  private liveStep: { step: number; groups: RolloutGroup[] } | undefined;
  /** A step asked for by a command (a click on a Dashboard chart): shown instead of the latest at the next `postRun`. */
  private wantedStep: number | undefined;

  static readonly kind = KIND;

  static create(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, controller: TrainingController, runDir: string | undefined): RolloutGroupsPanel {
    return new RolloutGroupsPanel(panel, context, controller, runDir);
  }

  private constructor(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, controller: TrainingController, runDir: string | undefined) {
    super(KIND, panel, context, controller, runDir);
  }

  /** Controls made here reach the run: this window trains it, or it is attached and its writer reads its inbox. */
  private get live(): boolean {
    return this.runDir !== undefined && this.runDir === this.controller.runDir && this.controller.steerable;
  }

  /** Shows the groups of `step`, or of the nearest step whose groups were kept. */
  showStep(step: number): void {
    this.wantedStep = step;
    if (this.ready) void this.postRun();
  }

  protected showRun(runDir: string): void {
    if (runDir !== this.runDir) this.liveStep = undefined;
    this.setRun(runDir);
    if (this.ready) void this.postRun();
  }

  protected async receive(raw: unknown): Promise<void> {
    // Chart and groups exports (exportSave.ts) are saved through a dialog, not by the panel.
    if (handleExportMessage(raw, (line) => this.controller.log(line))) return;
    const parsed = parseRolloutsWebviewToHost(raw);
    if (!parsed.ok) {
      this.controller.log(`rollout groups: ignored an invalid message from the webview: ${parsed.error}`);
      return;
    }
    const message = parsed.value;
    switch (message.type) {
      case 'webview/ready':
        this.ready = true;
        if (this.runDir) this.showRun(this.runDir);
        else this.post({ type: ROLLOUTS.state, runName: 'no run yet', runDir: '', state: 'stopped', live: false, message: 'Start a run with "Durian: Start Training".' });
        break;
      case ROLLOUTS.requestStep:
        await this.postStep(message.step);
        break;
      case ROLLOUTS.requestPromptHistory:
        if (!this.runDir) return;
        this.post({ type: ROLLOUTS.promptHistory, promptId: message.promptId, points: await readPromptHistory(this.runDir, message.promptId) });
        break;
      case ROLLOUTS.control: {
        const error = this.live
          ? this.controller.send(message.control)
          : this.controller.attached && this.runDir === this.controller.runDir
            ? `this run takes no controls now (${this.controller.snapshot?.state ?? 'not followed'}; its writer reads controls only while running or paused, when its status.json advertises an inbox)`
            : 'this run is not training: interventions apply to a running trainer';
        if (error) this.controller.log(`rollout groups: not sent (${describeControl(message.control)}): ${error}`);
        this.post({ type: ROLLOUTS.controlResult, controlId: message.control.controlId, ...(error ? { error } : {}) });
        break;
      }
    }
  }

  private async postRun(): Promise<void> {
    const runDir = this.runDir;
    if (!runDir) return;
    const config = readRunConfig(runDir);
    const steps = listRolloutSteps(runDir);
    if (this.liveStep && !steps.includes(this.liveStep.step)) steps.push(this.liveStep.step);
    steps.sort((a, b) => a - b);
    // Taken before any await: a postRun already under way (another run shown) keeps to the latest step.
    const wanted = this.wantedStep === undefined ? undefined : nearestKeptStep(steps, this.wantedStep);
    this.wantedStep = undefined;
    const baseConfig = liveConfigOfRunConfig(config, DURIAN_DEFAULT_WEIGHTS);
    this.post({
      type: ROLLOUTS.run,
      runName: path.basename(runDir),
      runDir,
      ...this.runState(),
      imageBase: this.panel.webview.asWebviewUri(vscode.Uri.file(runDir)).toString(),
      steps,
      ...(typeof config?.steps === 'number' ? { totalSteps: config.steps } : {}),
      ...(baseConfig ? { baseConfig } : {}),
      ...this.reportedConfig(),
      fixedOptions: fixedOptionsOfRunConfig(config),
      interventions: await readInterventions(runDir),
      live: this.live,
    });
    if (wanted !== undefined) await this.postStep(wanted, true);
    else if (steps.length > 0) await this.postStep(steps[steps.length - 1]);
  }

  /** Sends a step's groups; `reveal` makes the panel show it and stop following live. */
  private async postStep(step: number, reveal = false): Promise<void> {
    const runDir = this.runDir;
    if (!runDir) return;
    const revealing = reveal ? { reveal: true } : {};
    if (this.liveStep?.step === step) {
      this.post({ type: ROLLOUTS.step, step, groups: this.liveStep.groups, skipped: 0, ...revealing });
      return;
    }
    const read = await readStepGroups(runDir, step);
    if (read.skipped > 0) this.controller.log(`rollout groups: skipped ${read.skipped} unreadable lines of step ${step}`);
    this.post({ type: ROLLOUTS.step, step, groups: read.groups, skipped: read.skipped, ...(read.missing ? { missing: true } : {}), ...revealing });
  }

  protected postRunState(): void {
    if (!this.runDir) return;
    this.post({ type: ROLLOUTS.state, runName: path.basename(this.runDir), runDir: this.runDir, live: this.live, ...this.runState() });
  }

  protected async relay(event: TrainerEvent): Promise<void> {
    if (event.type === 'trainer/hello') {
      if (event.runDir !== this.runDir) this.showRun(event.runDir);
      return;
    }
    if (this.controller.runDir !== this.runDir) return;
    if (event.type === 'trainer/groups') {
      if (this.liveStep?.step === event.step) this.liveStep.groups.push(...event.groups);
      else this.liveStep = { step: event.step, groups: [...event.groups] };
      if (this.ready) this.post({ type: ROLLOUTS.live, step: event.step, estimator: event.estimator, groups: event.groups });
      return;
    }
    if (!this.ready || !(ROLLOUTS_RELAYED_EVENTS as readonly string[]).includes(event.type)) return;
    // An `applied` carries the configuration now in force; the webview adds its own control to its log.
    this.post({ type: ROLLOUTS.event, event });
  }

  private post(message: RolloutsHostToWebviewMessage): void {
    this.postChecked(message, parseRolloutsHostToWebview);
  }
}
