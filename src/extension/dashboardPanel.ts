/**
 * The Dashboard panel (host side): one webview showing a run's live charts. It posts nothing until the
 * webview says `ready`, then the run's history read back from metrics.jsonl / validation.jsonl, then live
 * events of the training session. It survives being hidden (retainContextWhenHidden is off: the history
 * is posted again) and VS Code reloads (a serializer reopens it on the last run shown).
 */
import path from 'node:path';
import * as vscode from 'vscode';
import {
  DASHBOARD,
  type HostToWebviewMessage,
  type TrainerEvent,
  parseHostToWebview,
  parseWebviewToHost,
} from '../protocol/index.js';
import { readRunConfig, readRunHistory } from './runFiles.js';
import type { TrainingController } from './controller.js';
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

  protected showRun(runDir: string): void {
    this.setRun(runDir);
    if (this.ready) this.postHistory();
  }

  protected receive(raw: unknown): void {
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
    }
  }

  private postHistory(): void {
    if (!this.runDir) return;
    const history = readRunHistory(this.runDir);
    const config = readRunConfig(this.runDir);
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

  protected relay(event: TrainerEvent): void {
    if (!this.ready) return;
    if (event.type === 'trainer/hello' && event.runDir !== this.runDir) {
      this.showRun(event.runDir);
      return;
    }
    // Rollout groups are heavy and belong to the Rollout Groups panel.
    if (event.type === 'trainer/groups' || this.controller.runDir !== this.runDir) return;
    this.post({ type: DASHBOARD.event, event });
  }

  private post(message: HostToWebviewMessage): void {
    this.postChecked(message, parseHostToWebview);
  }
}
