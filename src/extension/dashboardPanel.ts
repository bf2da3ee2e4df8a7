/**
 * The Dashboard panel (host side): one webview showing a run's live charts. It posts nothing until the
 * webview says `ready`, then the run's history read back from metrics.jsonl / validation.jsonl, then live
 * events of the training session. It survives being hidden (retainContextWhenHidden is off: the history
 * is posted again) and VS Code reloads (a serializer reopens it on the last run shown).
 *
 * The charts' markers: the history carries interventions.jsonl, the checkpoints on disk, the skipped steps
 * trainer.log names, and the pauses, resumes and resume boundaries this window saw. The coefficients in force
 * are the trainer's own report (`hello`, each `applied`: `reportedConfig`), never re-derived here: interventions.jsonl
 * is read with the history only, not again after each `applied`. A click on a chart opens the Rollout Groups
 * panel at that step.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { DURIAN_DEFAULT_WEIGHTS } from '../core/index.js';
import {
  DASHBOARD,
  type HostToWebviewMessage,
  MAX_RUN_MARKS,
  type TrainerEvent,
  liveConfigOfRunConfig,
  parseHostToWebview,
  parseWebviewToHost,
} from '../protocol/index.js';
import { readInterventions } from './rolloutGroupsPanel.js';
import { readRunConfig, readRunHistory } from './runFiles.js';
import { readRunMarks, rememberMark, sessionMarksOf } from './runMarks.js';
import type { TrainingController } from './controller.js';
import { handleExportMessage } from './exportSave.js';
import { RunPanel, type RunPanelKind } from './runPanel.js';

export const DASHBOARD_VIEW_TYPE = 'durian.dashboard';
const KIND: RunPanelKind = {
  viewType: DASHBOARD_VIEW_TYPE,
  title: 'Durian Dashboard',
  runTitle: 'Durian',
  lastRunKey: 'durian.dashboard.runDir',
  bundle: 'dashboard',
  logName: 'dashboard',
  // Charts only: the webview loads nothing from the run directory.
  showsRunFiles: false,
};

export class DashboardPanel extends RunPanel {
  static readonly kind = KIND;

  static create(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, controller: TrainingController, runDir: string | undefined): DashboardPanel {
    return new DashboardPanel(panel, context, controller, runDir);
  }

  private constructor(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, controller: TrainingController, runDir: string | undefined) {
    super(KIND, panel, context, controller, runDir);
  }

  /** The history being read and posted: live events wait for it, so none lands before it (and is replaced). */
  private historyPosted: Promise<void> = Promise.resolve();

  protected showRun(runDir: string): void {
    this.setRun(runDir);
    if (this.ready) void this.queueHistory();
  }

  private queueHistory(): Promise<void> {
    this.historyPosted = this.historyPosted
      .then(() => this.postHistory())
      .catch((error: unknown) => this.controller.log(`dashboard: could not read the run's history: ${error instanceof Error ? error.message : String(error)}`));
    return this.historyPosted;
  }

  protected receive(raw: unknown): void {
    // Chart and groups exports (exportSave.ts) are saved through a dialog, not by the panel.
    if (handleExportMessage(raw, (line) => this.controller.log(line))) return;
    const parsed = parseWebviewToHost(raw);
    if (!parsed.ok) {
      this.controller.log(`dashboard: ignored an invalid message from the webview: ${parsed.error}`);
      return;
    }
    const message = parsed.value;
    switch (message.type) {
      case 'webview/ready':
        this.ready = true;
        if (this.runDir) this.showRun(this.runDir);
        else this.post({ type: DASHBOARD.state, runName: 'no run yet', runDir: '', state: 'stopped', message: 'Start a run with "Durian: Start Training".' });
        break;
      case DASHBOARD.pause:
        void vscode.commands.executeCommand('durian.pauseTraining');
        break;
      case DASHBOARD.resume:
        void vscode.commands.executeCommand('durian.resumeTraining');
        break;
      case DASHBOARD.stop:
        void vscode.commands.executeCommand('durian.stopTraining');
        break;
      case DASHBOARD.openRunFolder:
        if (this.runDir) void vscode.commands.executeCommand('durian.openRunFolder', this.runDir);
        break;
      case DASHBOARD.openStep:
        if (this.runDir) void vscode.commands.executeCommand('durian.openRolloutGroups', this.runDir, message.step);
        break;
    }
  }

  private async postHistory(): Promise<void> {
    if (!this.runDir) return;
    const runDir = this.runDir;
    const history = readRunHistory(runDir);
    const config = readRunConfig(runDir);
    const baseConfig = liveConfigOfRunConfig(config, DURIAN_DEFAULT_WEIGHTS);
    const interventions = await readInterventions(runDir);
    if (runDir !== this.runDir) return;
    const session = this.runDir === this.controller.runDir ? this.controller.snapshot : undefined;
    if (history.skipped > 0) this.controller.log(`dashboard: skipped ${history.skipped} unreadable lines of ${this.runDir}`);
    this.post({
      type: DASHBOARD.history,
      runName: path.basename(this.runDir),
      runDir: this.runDir,
      ...this.runState(),
      ...this.advice(),
      ...(typeof config?.estimator === 'string' ? { estimator: config.estimator } : {}),
      ...(session?.backend ? { backend: session.backend } : {}),
      ...(session?.device ? { device: session.device } : {}),
      ...(typeof config?.steps === 'number' ? { totalSteps: config.steps } : {}),
      metrics: history.metrics,
      validations: history.validations,
      ...(baseConfig ? { baseConfig } : {}),
      ...this.reportedConfig(),
      interventions,
      marks: [...readRunMarks(runDir), ...sessionMarksOf(runDir)].slice(0, MAX_RUN_MARKS),
    });
  }

  protected postRunState(): void {
    if (!this.runDir) return;
    this.post({ type: DASHBOARD.state, runName: path.basename(this.runDir), runDir: this.runDir, ...this.runState(), ...this.advice() });
  }

  /** What to do, shown under the error of a crashed run. */
  private advice(): { advice?: string } {
    const advice = this.crashAdvice();
    return advice ? { advice } : {};
  }

  protected async relay(event: TrainerEvent): Promise<void> {
    if (event.type === 'trainer/hello' && event.resumedFromStep !== undefined) rememberMark(event.runDir, { kind: 'resumedFrom', step: event.resumedFromStep });
    if ((event.type === 'trainer/paused' || event.type === 'trainer/resumed') && this.controller.runDir) {
      rememberMark(this.controller.runDir, { kind: event.type === 'trainer/paused' ? 'pause' : 'resume', step: event.step });
    }
    if (!this.ready) return;
    if (event.type === 'trainer/hello' && event.runDir !== this.runDir) {
      this.showRun(event.runDir);
      return;
    }
    // Rollout groups are heavy and belong to the Rollout Groups panel.
    if (event.type === 'trainer/groups' || this.controller.runDir !== this.runDir) return;
    // The run's files are there now (config.json; a resumed run's history cut back to its checkpoint).
    if (event.type === 'trainer/hello') void this.queueHistory();
    await this.historyPosted;
    if (!this.ready || this.controller.runDir !== this.runDir) return;
    // An `applied` carries the configuration now in force: the webview marks the change from it.
    this.post({ type: DASHBOARD.event, event });
  }

  private post(message: HostToWebviewMessage): void {
    this.postChecked(message, parseHostToWebview);
  }
}
