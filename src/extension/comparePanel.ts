/**
 * The Compare Runs panel (host side): one webview overlaying the curves of several runs, or of a `durian study`
 * folder's cells. It posts nothing until the webview says `ready`, then every run (compareRuns.ts) in one
 * `compare/runs`. While it is open it watches the run folders (and a study's runs/ folder, for cells that start
 * later): a change is read again a second later (at most once a second per run) and posted as `compare/run`, so a live run or a running
 * study grows on the charts without polling. A click on a chart opens Rollout Groups on that run at that step;
 * a chart's export is saved through exportSave.ts. What it compares is kept in the workspace state: after
 * Reload Window its serializer (extension.ts) reopens it on the same runs (those still there).
 */
import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { COMPARE, type CompareHostToWebviewMessage, parseCompareHostToWebview, parseCompareWebviewToHost } from '../protocol/compare.js';
import { type CompareSource, isStudyFolder, readCompareRun, restorableSource, studyRunDirs } from './compareRuns.js';
import { handleExportMessage } from './exportSave.js';
import { makeNonce, webviewHtml } from './webviewHtml.js';

export const COMPARE_VIEW_TYPE = 'durian.compare';
/** The workspace-state key of what the Compare panel shows, so that it comes back after Reload Window. */
const SOURCE_KEY = 'durian.compare.source';
/** A run's files are read again this long after a change (a step writes several files; a fast run many a second). */
const QUIET_MS = 1000;

export type { CompareSource } from './compareRuns.js';

export class ComparePanel implements vscode.Disposable {
  private static current: ComparePanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly context: vscode.ExtensionContext;
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();
  private ready = false;
  private runDirs: string[] = [];

  /** Shows `source` in the open Compare panel, or in a new one. */
  static show(context: vscode.ExtensionContext, log: (line: string) => void, source: CompareSource): ComparePanel {
    const current = ComparePanel.current;
    if (current) {
      current.panel.reveal(vscode.ViewColumn.Active);
      current.setSource(source);
      return current;
    }
    const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, 'Durian: Compare Runs', vscode.ViewColumn.Active, comparePanelOptions(context));
    ComparePanel.current = new ComparePanel(panel, context, log, source);
    return ComparePanel.current;
  }

  /**
   * Reopens the panel after a reload on what it compared (saved in the workspace state): the study folder if
   * it still is one, else the run folders that still are runs. With nothing left to show the panel closes
   * (one line in the output channel says why).
   */
  static revive(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, log: (line: string) => void): void {
    const source = restorableSource(context.workspaceState.get<unknown>(SOURCE_KEY));
    if (!source) {
      log('compare: the panel was not restored after the reload: the runs it compared are gone');
      panel.dispose();
      return;
    }
    panel.webview.options = comparePanelOptions(context);
    ComparePanel.current?.dispose();
    ComparePanel.current = new ComparePanel(panel, context, log, source);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    context: vscode.ExtensionContext,
    private readonly log: (line: string) => void,
    private source: CompareSource,
  ) {
    this.context = context;
    const asset = (file: string) => panel.webview.asWebviewUri(vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview', file)).toString();
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'durian.svg');
    panel.webview.html = webviewHtml({ cspSource: panel.webview.cspSource, nonce: makeNonce(), scriptUri: asset('compare.js'), styleUris: [asset('compare.css')], title: 'Durian: Compare Runs' });
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState(() => {
        // A hidden webview is torn down; it says `ready` again when shown.
        if (!panel.visible) this.ready = false;
      }),
      panel.webview.onDidReceiveMessage((message: unknown) => this.receive(message)),
    );
    this.setSource(source);
  }

  private setSource(source: CompareSource): void {
    this.source = source;
    this.runDirs = 'studyDir' in source ? studyRunDirs(source.studyDir) : [...source.runDirs];
    void this.context.workspaceState.update(SOURCE_KEY, source);
    this.panel.title = `Compare: ${this.title()}`;
    this.watch();
    if (this.ready) this.postAll();
  }

  private title(): string {
    return 'studyDir' in this.source ? path.basename(this.source.studyDir) : `${this.runDirs.length} runs`;
  }

  private receive(raw: unknown): void {
    if (handleExportMessage(raw, this.log)) return;
    const parsed = parseCompareWebviewToHost(raw);
    if (!parsed.ok) {
      this.log(`compare: ignored an invalid message from the webview: ${parsed.error}`);
      return;
    }
    const message = parsed.value;
    if (message.type === 'webview/ready') {
      this.ready = true;
      this.postAll();
    } else if (message.type === COMPARE.openStep) {
      // Only a run of this comparison: the webview names one, it does not choose any folder.
      if (this.runDirs.includes(message.runDir)) void vscode.commands.executeCommand('durian.openRolloutGroups', message.runDir, message.step);
    }
  }

  private postAll(): void {
    const study = 'studyDir' in this.source && isStudyFolder(this.source.studyDir);
    this.post({ type: COMPARE.runs, title: this.title(), study, runs: this.runDirs.map((dir) => readCompareRun(dir)) });
  }

  /** Watches each run folder, and a study's runs/ folder for new cells. */
  private watch(): void {
    const wanted = new Set(this.runDirs);
    if ('studyDir' in this.source) wanted.add(path.join(this.source.studyDir, 'runs'));
    for (const [dir, watcher] of this.watchers) {
      if (wanted.has(dir)) continue;
      watcher.close();
      this.watchers.delete(dir);
    }
    for (const dir of wanted) {
      if (this.watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, () => this.changed(dir));
        watcher.on('error', () => {
          watcher.close();
          this.watchers.delete(dir);
        });
        this.watchers.set(dir, watcher);
      } catch (error) {
        this.log(`compare: cannot watch ${dir}: ${(error as Error).message}; it is shown as it is now`);
      }
    }
  }

  /** A file changed under `dir`: read it again a second later (at most once a second, however fast it is written). */
  private changed(dir: string): void {
    if (this.pending.has(dir)) return;
    this.pending.set(
      dir,
      setTimeout(() => {
        this.pending.delete(dir);
        this.refresh(dir);
      }, QUIET_MS),
    );
  }

  private refresh(dir: string): void {
    if ('studyDir' in this.source && dir === path.join(this.source.studyDir, 'runs')) {
      const added = studyRunDirs(this.source.studyDir).filter((runDir) => !this.runDirs.includes(runDir));
      if (added.length === 0) return;
      this.runDirs.push(...added);
      this.watch();
      if (this.ready) for (const runDir of added) this.post({ type: COMPARE.run, run: readCompareRun(runDir) });
      return;
    }
    if (this.ready && this.runDirs.includes(dir)) this.post({ type: COMPARE.run, run: readCompareRun(dir) });
  }

  private post(message: CompareHostToWebviewMessage): void {
    const checked = parseCompareHostToWebview(message);
    if (!checked.ok) {
      this.log(`compare: not sent, invalid: ${checked.error}`);
      return;
    }
    void this.panel.webview.postMessage(checked.value);
  }

  dispose(): void {
    if (ComparePanel.current === this) ComparePanel.current = undefined;
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    this.panel.dispose();
  }
}

/** Scripts on; the extension's dist/webview and media (the panel shows no run files). */
function comparePanelOptions(context: vscode.ExtensionContext): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(context.extensionUri, 'media')] };
}
