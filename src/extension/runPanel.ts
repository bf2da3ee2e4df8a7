/**
 * What the run-scoped webview panels (Dashboard, Rollout Groups) share on the host side: one panel per
 * kind, revealed or created on a run (the one asked for, else the session's, else the last one shown),
 * revived by a serializer after a reload, the strict-CSP page of `webviewHtml`, `localResourceRoots` of
 * the extension's dist/webview and media plus the run directory, the run's state for the header (a new
 * session on another run takes the panel over), messages checked before they are posted, and the dispose
 * bookkeeping. A hidden webview is torn down: it says `ready` again when shown. A panel class gives its
 * `kind` and a `create` (its constructor stays private); `show` and `revive` are inherited.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import type { DashboardRunState, ParseResult, TrainerEvent } from '../protocol/index.js';
import type { TrainingController } from './controller.js';
import { readRunStatus } from './runFiles.js';
import { makeNonce, webviewHtml } from './webviewHtml.js';

/** One kind of run panel. */
export interface RunPanelKind {
  viewType: string;
  /** The panel's title before a run is shown, and the page's title. */
  title: string;
  /** The title with a run shown is `${runTitle}: <run folder name>`. */
  runTitle: string;
  /** The workspace-state key of the last run shown. */
  lastRunKey: string;
  /** The webview bundle: dist/webview/<bundle>.js and .css. */
  bundle: string;
  /** How the output channel names the panel (`dashboard: not sent, ...`). */
  logName: string;
}

/** A run panel class: its kind and how it builds an instance (its constructor is its own). */
export interface RunPanelClass<P extends RunPanel> {
  readonly kind: RunPanelKind;
  create(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, controller: TrainingController, runDir: string | undefined): P;
}

const KNOWN_STATES: readonly string[] = ['running', 'paused', 'stopped', 'completed', 'crashed'];

/** Scripts on; the extension's dist/webview and media, and the run directory when there is one. */
export function runPanelOptions(context: vscode.ExtensionContext, runDir: string | undefined): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  const roots = [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(context.extensionUri, 'media')];
  if (runDir) roots.push(vscode.Uri.file(runDir));
  return { enableScripts: true, localResourceRoots: roots };
}

export abstract class RunPanel implements vscode.Disposable {
  /** The open panel of each kind, by view type. */
  private static readonly open = new Map<string, RunPanel>();
  protected readonly disposables: vscode.Disposable[] = [];
  protected ready = false;
  protected runDir: string | undefined;

  /** Reveals the open panel of this kind (moved to `runDir` when given and another), or creates one. */
  static show<P extends RunPanel>(this: RunPanelClass<P>, context: vscode.ExtensionContext, controller: TrainingController, runDir?: string): P {
    const target = runDir ?? controller.runDir ?? context.workspaceState.get<string>(this.kind.lastRunKey);
    const current = RunPanel.open.get(this.kind.viewType) as P | undefined;
    if (current) {
      current.panel.reveal(vscode.ViewColumn.Active);
      if (target && target !== current.runDir) current.showRun(target);
      return current;
    }
    const panel = vscode.window.createWebviewPanel(this.kind.viewType, this.kind.title, vscode.ViewColumn.Active, runPanelOptions(context, target));
    return this.create(panel, context, controller, target);
  }

  /** Reopens a panel of this kind after a reload, on the run it showed. */
  static revive<P extends RunPanel>(this: RunPanelClass<P>, panel: vscode.WebviewPanel, context: vscode.ExtensionContext, controller: TrainingController): P {
    const target = controller.runDir ?? context.workspaceState.get<string>(this.kind.lastRunKey);
    panel.webview.options = runPanelOptions(context, target);
    return this.create(panel, context, controller, target);
  }

  protected constructor(
    private readonly kind: RunPanelKind,
    protected readonly panel: vscode.WebviewPanel,
    protected readonly context: vscode.ExtensionContext,
    protected readonly controller: TrainingController,
    runDir: string | undefined,
  ) {
    RunPanel.open.set(kind.viewType, this);
    this.runDir = runDir;
    this.panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'durian.svg');
    this.panel.webview.html = this.html();
    this.disposables.push(
      this.panel.onDidDispose(() => this.dispose()),
      this.panel.onDidChangeViewState(() => {
        // A hidden webview is torn down; it says `ready` again when shown.
        if (!this.panel.visible) this.ready = false;
      }),
      this.panel.webview.onDidReceiveMessage((message) => void this.receive(message)),
      this.controller.onEvent((event) => void this.relay(event)),
      this.controller.onState(() => this.postState()),
    );
  }

  /** A message from the webview, unchecked. */
  protected abstract receive(raw: unknown): void | Promise<void>;
  /** An event of the training session. */
  protected abstract relay(event: TrainerEvent): void | Promise<void>;
  /** Posts the run's state to the webview. */
  protected abstract postRunState(): void;

  /** The session changed state: a new session on another run takes over the panel, else the state is posted. */
  private postState(): void {
    if (!this.ready || !this.runDir) return;
    if (this.controller.runDir && this.controller.runDir !== this.runDir) {
      this.showRun(this.controller.runDir);
      return;
    }
    this.postRunState();
  }

  /** Posts `message` when `check` accepts it; logs it otherwise. */
  protected postChecked<M>(message: M, check: (message: unknown) => ParseResult<M>): void {
    const checked = check(message);
    if (!checked.ok) {
      this.controller.log(`${this.kind.logName}: not sent, invalid: ${checked.error}`);
      return;
    }
    void this.panel.webview.postMessage(checked.value);
  }

  private html(): string {
    const webview = this.panel.webview;
    const asset = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview', file)).toString();
    return webviewHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asset(`${this.kind.bundle}.js`),
      styleUris: [asset(`${this.kind.bundle}.css`)],
      title: this.kind.title,
    });
  }

  /** Shows another run (or the same one again, after `ready`). */
  protected abstract showRun(runDir: string): void;

  /** The bookkeeping of `showRun`: remembers the run, lets the webview load its files, titles the panel. */
  protected setRun(runDir: string): void {
    this.runDir = runDir;
    void this.context.workspaceState.update(this.kind.lastRunKey, runDir);
    this.panel.webview.options = runPanelOptions(this.context, runDir);
    this.panel.title = `${this.kind.runTitle}: ${path.basename(runDir)}`;
  }

  /** The shown run's state: the session's when it trains this run, else status.json's. */
  protected runState(): { state: DashboardRunState; message?: string } {
    if (this.runDir && this.runDir === this.controller.runDir) {
      const session = this.controller.snapshot;
      if (session) {
        const state: DashboardRunState = session.state === 'stopping' ? 'running' : session.state;
        return { state, ...(session.lastError && state === 'crashed' ? { message: session.lastError } : {}) };
      }
    }
    const status = this.runDir ? readRunStatus(this.runDir) : undefined;
    const state = (status && KNOWN_STATES.includes(status.state) ? status.state : 'stopped') as DashboardRunState;
    return { state, ...(status?.message ? { message: status.message } : {}) };
  }

  dispose(): void {
    if (RunPanel.open.get(this.kind.viewType) === this) RunPanel.open.delete(this.kind.viewType);
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    this.panel.dispose();
  }
}
