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
  type DashboardRunState,
  type HostToWebviewMessage,
  type TrainerEvent,
  parseHostToWebview,
  parseWebviewToHost,
} from '../protocol/index.js';
import { readRunConfig, readRunHistory, readRunStatus } from './runFiles.js';
import type { TrainingController } from './controller.js';
import { makeNonce, webviewHtml } from './webviewHtml.js';

export const DASHBOARD_VIEW_TYPE = 'durian.dashboard';
const LAST_RUN_KEY = 'durian.dashboard.runDir';

export class DashboardPanel implements vscode.Disposable {
  private static current: DashboardPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private runDir: string | undefined;

  static show(context: vscode.ExtensionContext, controller: TrainingController, runDir?: string): DashboardPanel {
    const target = runDir ?? controller.runDir ?? context.workspaceState.get<string>(LAST_RUN_KEY);
    if (DashboardPanel.current) {
      DashboardPanel.current.panel.reveal(vscode.ViewColumn.Active);
      if (target && target !== DashboardPanel.current.runDir) DashboardPanel.current.showRun(target);
      return DashboardPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, 'Durian Dashboard', vscode.ViewColumn.Active, DashboardPanel.options(context, target));
    return new DashboardPanel(panel, context, controller, target);
  }

  /** Reopens the panel after a reload, on the run it showed. */
  static revive(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, controller: TrainingController): DashboardPanel {
    const target = controller.runDir ?? context.workspaceState.get<string>(LAST_RUN_KEY);
    panel.webview.options = DashboardPanel.options(context, target);
    return new DashboardPanel(panel, context, controller, target);
  }

  private static options(context: vscode.ExtensionContext, runDir: string | undefined): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    const roots = [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(context.extensionUri, 'media')];
    if (runDir) roots.push(vscode.Uri.file(runDir));
    return { enableScripts: true, localResourceRoots: roots };
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
    private readonly controller: TrainingController,
    runDir: string | undefined,
  ) {
    DashboardPanel.current = this;
    this.runDir = runDir;
    this.panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'durian.svg');
    this.panel.webview.html = this.html();
    this.disposables.push(
      this.panel.onDidDispose(() => this.dispose()),
      this.panel.onDidChangeViewState(() => {
        // A hidden webview is torn down; it says `ready` again when shown and gets the history anew.
        if (!this.panel.visible) this.ready = false;
      }),
      this.panel.webview.onDidReceiveMessage((message) => this.receive(message)),
      this.controller.onEvent((event) => this.relay(event)),
      this.controller.onState(() => this.postState()),
    );
  }

  private html(): string {
    const webview = this.panel.webview;
    const asset = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview', file)).toString();
    return webviewHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asset('dashboard.js'),
      styleUris: [asset('dashboard.css')],
      title: 'Durian Dashboard',
    });
  }

  private showRun(runDir: string): void {
    this.runDir = runDir;
    void this.context.workspaceState.update(LAST_RUN_KEY, runDir);
    this.panel.webview.options = DashboardPanel.options(this.context, runDir);
    this.panel.title = `Durian: ${path.basename(runDir)}`;
    if (this.ready) this.postHistory();
  }

  private receive(raw: unknown): void {
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
        if (this.runDir) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(this.runDir));
        break;
    }
  }

  private runState(): { state: DashboardRunState; message?: string } {
    if (this.runDir && this.runDir === this.controller.runDir) {
      const session = this.controller.snapshot;
      if (session) {
        const state: DashboardRunState = session.state === 'stopping' ? 'running' : session.state;
        return { state, ...(session.lastError && state === 'crashed' ? { message: session.lastError } : {}) };
      }
    }
    const status = this.runDir ? readRunStatus(this.runDir) : undefined;
    const known = ['running', 'paused', 'stopped', 'completed', 'crashed'];
    const state = (status && known.includes(status.state) ? status.state : 'stopped') as DashboardRunState;
    return { state, ...(status?.message ? { message: status.message } : {}) };
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
      ...(typeof config?.estimator === 'string' ? { estimator: config.estimator } : {}),
      ...(session?.backend ? { backend: session.backend } : {}),
      ...(session?.device ? { device: session.device } : {}),
      ...(typeof config?.steps === 'number' ? { totalSteps: config.steps } : {}),
      metrics: history.metrics,
      validations: history.validations,
    });
  }

  private postState(): void {
    if (!this.ready || !this.runDir) return;
    // A new session on another run takes over the panel.
    if (this.controller.runDir && this.controller.runDir !== this.runDir) {
      this.showRun(this.controller.runDir);
      return;
    }
    this.post({ type: DASHBOARD.state, runName: path.basename(this.runDir), runDir: this.runDir, ...this.runState() });
  }

  private relay(event: TrainerEvent): void {
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
    const checked = parseHostToWebview(message);
    if (!checked.ok) {
      this.controller.log(`dashboard: not sent, invalid: ${checked.error}`);
      return;
    }
    void this.panel.webview.postMessage(checked.value);
  }

  dispose(): void {
    if (DashboardPanel.current === this) DashboardPanel.current = undefined;
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    this.panel.dispose();
  }
}
