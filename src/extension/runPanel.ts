/**
 * What the run-scoped webview panels (Dashboard, Rollout Groups) share on the host side: one panel per
 * kind, revealed or created on a run (the one asked for, else the session's, else the last one shown),
 * revived by a serializer after a reload, the strict-CSP page of `webviewHtml`, `localResourceRoots` of
 * the extension's dist/webview and media plus, for a panel that shows the run's files, the run directory
 * once it is a run folder (`runFolderProblem`: never `/`, the home folder or any other folder), the run's
 * state for the header (a new
 * session on another run takes the panel over), messages checked before they are posted, and the dispose
 * bookkeeping. A hidden webview is torn down: it says `ready` again when shown. A panel class gives its
 * `kind` and a `create` (its constructor stays private); `show` and `revive` are inherited.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { type DashboardRunState, type ParseResult, type ReportedConfig, type TrainerEvent, reportedConfigOf } from '../protocol/index.js';
import type { TrainingController } from './controller.js';
import { readRunDetails, readRunStatus, runFolderProblem } from './runFiles.js';
import { crashAdvice } from './runReports.js';
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
  /** The webview loads files of the run directory (images): it is among the `localResourceRoots`. */
  showsRunFiles: boolean;
}

/** A run panel class: its kind and how it builds an instance (its constructor is its own). */
export interface RunPanelClass<P extends RunPanel> {
  readonly kind: RunPanelKind;
  create(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, controller: TrainingController, runDir: string | undefined): P;
}


/** The run directory the webview may load files from: only a run folder, and only for a panel that shows its files. */
function runFilesRoot(kind: RunPanelKind, runDir: string | undefined): string | undefined {
  return kind.showsRunFiles && runDir !== undefined && runFolderProblem(runDir) === undefined ? runDir : undefined;
}

/** Scripts on; the extension's dist/webview and media, and `runFilesRoot` when there is one. */
function runPanelOptions(context: vscode.ExtensionContext, runFiles: string | undefined): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  const roots = [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(context.extensionUri, 'media')];
  if (runFiles) roots.push(vscode.Uri.file(runFiles));
  return { enableScripts: true, localResourceRoots: roots };
}

/** The run a panel opens on when none is asked for: the session's, else the last one shown if it is still a run folder. */
function defaultRun(kind: RunPanelKind, context: vscode.ExtensionContext, controller: TrainingController): string | undefined {
  const last = context.workspaceState.get<string>(kind.lastRunKey);
  return controller.runDir ?? (last !== undefined && runFolderProblem(last) === undefined ? last : undefined);
}

export abstract class RunPanel implements vscode.Disposable {
  /** The open panel of each kind, by view type. */
  private static readonly open = new Map<string, RunPanel>();
  protected readonly disposables: vscode.Disposable[] = [];
  protected ready = false;
  protected runDir: string | undefined;
  /** The run directory among the webview's `localResourceRoots`, if any. */
  private runFilesRootShown: string | undefined;

  /** Reveals the open panel of this kind (moved to `runDir` when given and another), or creates one. */
  static show<P extends RunPanel>(this: RunPanelClass<P>, context: vscode.ExtensionContext, controller: TrainingController, runDir?: string): P {
    const target = runDir ?? defaultRun(this.kind, context, controller);
    const current = RunPanel.open.get(this.kind.viewType) as P | undefined;
    if (current) {
      current.panel.reveal(vscode.ViewColumn.Active);
      if (target && target !== current.runDir) current.showRun(target);
      return current;
    }
    const panel = vscode.window.createWebviewPanel(this.kind.viewType, this.kind.title, vscode.ViewColumn.Active, runPanelOptions(context, runFilesRoot(this.kind, target)));
    return this.create(panel, context, controller, target);
  }

  /** Reopens a panel of this kind after a reload, on the run it showed. */
  static revive<P extends RunPanel>(this: RunPanelClass<P>, panel: vscode.WebviewPanel, context: vscode.ExtensionContext, controller: TrainingController): P {
    const target = defaultRun(this.kind, context, controller);
    panel.webview.options = runPanelOptions(context, runFilesRoot(this.kind, target));
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
    this.runFilesRootShown = runFilesRoot(kind, runDir);
    this.panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'durian.svg');
    this.panel.webview.html = this.html();
    this.disposables.push(
      this.panel.onDidDispose(() => this.dispose()),
      this.panel.onDidChangeViewState(() => {
        // A hidden webview is torn down; it says `ready` again when shown.
        if (!this.panel.visible) this.ready = false;
      }),
      this.panel.webview.onDidReceiveMessage((message) => void this.receive(message)),
      this.controller.onEvent((event) => {
        this.noteReportedConfig(event);
        void this.relay(event);
      }),
      this.controller.onState(() => this.postState()),
    );
  }

  /** The live configuration the trainer last reported (hello, applied), and for which run. */
  private reported: { runDir: string; config: ReportedConfig } | undefined;

  private noteReportedConfig(event: TrainerEvent): void {
    const config = reportedConfigOf(event);
    const runDir = event.type === 'trainer/hello' ? event.runDir : this.controller.runDir;
    if (config && runDir) this.reported = { runDir, config };
  }

  /** What the trainer last reported to be in force on the run shown, when this panel saw a report: sent instead of a replay of the log. */
  protected reportedConfig(): { reportedConfig?: ReportedConfig } {
    return this.reported && this.reported.runDir === this.runDir ? { reportedConfig: this.reported.config } : {};
  }

  /** A message from the webview, unchecked. */
  protected abstract receive(raw: unknown): void | Promise<void>;
  /** An event of the training session. */
  protected abstract relay(event: TrainerEvent): void | Promise<void>;
  /** Posts the run's state to the webview. */
  protected abstract postRunState(): void;

  /** The session changed state: a new session on another run takes over the panel, else the state is posted. */
  private postState(): void {
    // A new run's folder appears after its panel opened: let the webview load its files from then on.
    if (this.runDir && this.kind.showsRunFiles && this.runFilesRootShown !== this.runDir && runFilesRoot(this.kind, this.runDir)) this.updateRoots();
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
    this.updateRoots();
    this.panel.title = `${this.kind.runTitle}: ${path.basename(runDir)}`;
  }

  private updateRoots(): void {
    this.runFilesRootShown = runFilesRoot(this.kind, this.runDir);
    this.panel.webview.options = runPanelOptions(this.context, this.runFilesRootShown);
  }

  /** What to do about the shown run when it crashed (the session's advice when it trains this run). */
  protected crashAdvice(): string | undefined {
    if (!this.runDir || this.runState().state !== 'crashed') return undefined;
    const session = this.runDir === this.controller.runDir ? this.controller.snapshot : undefined;
    if (session) return this.controller.crashAdvice(session);
    return crashAdvice({ runFolderExists: true, hasCheckpoint: readRunDetails(this.runDir).hasCheckpoint, step: readRunStatus(this.runDir)?.step ?? 0 });
  }

  /** The shown run's state: the session's when it trains this run, else status.json's. */
  protected runState(): { state: DashboardRunState; message?: string } {
    if (this.runDir && this.runDir === this.controller.runDir) {
      const session = this.controller.snapshot;
      if (session) {
        const state: DashboardRunState = session.state === 'stopping' ? 'running' : session.state;
        // A crash says why; an attached run also says what its folder shows (a writer gone quiet, a folder gone).
        const crash = session.lastError && state === 'crashed' ? session.lastError : undefined;
        const message = crash && session.notice ? `${crash}; ${session.notice}` : (crash ?? session.notice);
        return { state, ...(message ? { message } : {}) };
      }
    }
    const status = this.runDir ? readRunStatus(this.runDir) : undefined;
    const state: DashboardRunState = status?.state ?? 'stopped';
    return { state, ...(status?.message ? { message: status.message } : {}) };
  }

  dispose(): void {
    if (RunPanel.open.get(this.kind.viewType) === this) RunPanel.open.delete(this.kind.viewType);
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    this.panel.dispose();
  }
}
