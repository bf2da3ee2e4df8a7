/**
 * The Runs view: one item per run directory in the runs folder. The row says the state first (so a narrow
 * side bar cuts the step count, not the state) and the step; the tooltip, resolved on hover, has the
 * estimator, G, B, seed, step/total, the validation accuracy and the training time, and explains a
 * status.json that says `running` with no trainer of this window behind it (its trainer killed, or its
 * process id reused), which stays resumable. The context menu offers Resume, Attach (a run another process
 * may be writing), Open Dashboard, Open Rollout Groups, Open Run Folder and Delete (package.json,
 * `view/item/context`). The list follows the runs folder through a FileSystemWatcher on its runs' status.json
 * (a run appears, steps, changes state or is deleted), one refresh per burst of changes.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { STATUS_FILE } from '../protocol/index.js';
import { type RunSummary, listRunSummaries, readRunDetails } from './runFiles.js';
import { isResumable, runDisplayName, runStateLabel, runTooltipLines } from './runReports.js';

/**
 * `contextValue` of a run this window trains (no Resume, no Delete), of a run whose status.json names a live
 * process that is not this window's trainer (Resume, which a trainer still holding it refuses; no Delete),
 * and of any other run.
 */
const RUN_ACTIVE_CONTEXT = 'durianRunActive';
const RUN_MAYBE_ACTIVE_CONTEXT = 'durianRunMaybeActive';
const RUN_CONTEXT = 'durianRun';

/** Changes closer than this are one refresh (a trainer rewrites status.json up to once a second). */
const REFRESH_SETTLE_MS = 500;

/** How long a new file watcher may take to start before a change is surely reported. */
const WATCHER_START_MS = 2000;

/**
 * What to watch for `runsFolder`: its run folders and their status.json. Inside a workspace folder the
 * pattern is relative to it (the workspace's own recursive watcher serves it, and a runs folder created
 * later is seen); elsewhere VS Code starts a watcher on the folder itself. The runs folder and each folder
 * above it are watched too: a writer that creates `runs/<run>/` in one go may be reported as the creation of
 * the topmost new folder only, with no event for what it holds.
 */
export function runsGlob(relative: string): string {
  const parts = relative.split('/');
  const ancestors = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  return `{${[...ancestors, `${relative}/*`, `${relative}/*/status.json`].join(',')}}`;
}

function runsPattern(runsFolder: string): vscode.RelativePattern {
  const workspace = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(runsFolder));
  const relative = workspace ? path.relative(workspace.uri.fsPath, runsFolder).split(path.sep).join('/') : '';
  if (workspace && relative !== '' && !relative.startsWith('..')) return new vscode.RelativePattern(workspace, runsGlob(relative));
  return new vscode.RelativePattern(vscode.Uri.file(runsFolder), '{*,*/status.json}');
}

export class RunsViewProvider implements vscode.TreeDataProvider<RunSummary>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private watcher: vscode.Disposable | undefined;
  /**
   * One watcher per run that is running or paused, on its own status.json: the runs folder's recursive watcher
   * may miss changes inside a run folder created after it started (reported as one creation), and live runs are
   * the ones whose step and state change.
   */
  private readonly liveWatchers = new Map<string, vscode.Disposable>();
  private settle: NodeJS.Timeout | undefined;

  constructor(
    private readonly runsFolder: () => string,
    /** The run directory shown live now (trained by this window or attached), if any. */
    private readonly activeRunDir: () => string | undefined,
  ) {
    this.watch();
  }

  /** (Re)starts watching the runs folder: call when the `durian.runsFolder` setting changes. */
  watch(): void {
    this.watcher?.dispose();
    const watcher = vscode.workspace.createFileSystemWatcher(runsPattern(this.runsFolder()));
    const changed = () => this.refreshSoon();
    this.watcher = vscode.Disposable.from(watcher, watcher.onDidCreate(changed), watcher.onDidChange(changed), watcher.onDidDelete(changed));
  }

  refresh(): void {
    this.changed.fire();
  }

  private refreshSoon(): void {
    if (this.settle) return;
    this.settle = setTimeout(() => {
      this.settle = undefined;
      this.refresh();
    }, REFRESH_SETTLE_MS);
  }

  private trainedHere(run: RunSummary): boolean {
    return this.activeRunDir() === run.dir;
  }

  getTreeItem(run: RunSummary): vscode.TreeItem {
    const item = new vscode.TreeItem(runDisplayName(run.name), vscode.TreeItemCollapsibleState.None);
    item.id = run.dir;
    const trainedHere = this.trainedHere(run);
    const state = runStateLabel({ ...run, trainedHere });
    const progress = run.step === undefined ? '' : ` · ${run.step}${run.totalSteps ? `/${run.totalSteps}` : ''}`;
    item.description = `${state}${progress}`;
    item.resourceUri = vscode.Uri.file(run.dir);
    item.contextValue = !isResumable({ ...run, trainedHere }) ? RUN_ACTIVE_CONTEXT : run.trainer === 'unknown' ? RUN_MAYBE_ACTIVE_CONTEXT : RUN_CONTEXT;
    const live = trainedHere && (run.state === 'running' || run.state === 'paused');
    item.iconPath = new vscode.ThemeIcon(live ? (run.state === 'paused' ? 'debug-pause' : 'sync~spin') : run.state === 'crashed' ? 'error' : run.state === 'completed' ? 'pass' : 'history');
    item.command = { command: 'durian.openDashboard', title: 'Open Dashboard', arguments: [run] };
    return item;
  }

  /** The tooltip, read from the run's files when the user hovers the row. */
  resolveTreeItem(item: vscode.TreeItem, run: RunSummary): vscode.TreeItem {
    // Plain text, one fact a line (it wraps; nothing in a run's files is read as Markdown).
    item.tooltip = runTooltipLines({ ...run, ...readRunDetails(run.dir), trainedHere: this.trainedHere(run) }).join('\n');
    return item;
  }

  getChildren(): RunSummary[] {
    const runs = listRunSummaries(this.runsFolder());
    this.watchLiveRuns(runs);
    return runs;
  }

  private watchLiveRuns(runs: readonly RunSummary[]): void {
    const live = new Set(runs.filter((run) => run.state === 'running' || run.state === 'paused').map((run) => run.dir));
    for (const [dir, watcher] of this.liveWatchers) {
      if (!live.has(dir)) {
        watcher.dispose();
        this.liveWatchers.delete(dir);
      }
    }
    for (const dir of live) {
      if (this.liveWatchers.has(dir)) continue;
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), STATUS_FILE));
      const changed = () => this.refreshSoon();
      this.liveWatchers.set(dir, vscode.Disposable.from(watcher, watcher.onDidCreate(changed), watcher.onDidChange(changed), watcher.onDidDelete(changed)));
      // A watcher starts asynchronously (a round trip to the file service): one more read once it surely runs
      // catches a change made between this listing and its start.
      const catchUp = setTimeout(changed, WATCHER_START_MS);
      this.liveWatchers.set(dir, vscode.Disposable.from(this.liveWatchers.get(dir)!, { dispose: () => clearTimeout(catchUp) }));
    }
  }

  dispose(): void {
    if (this.settle) clearTimeout(this.settle);
    for (const watcher of this.liveWatchers.values()) watcher.dispose();
    this.liveWatchers.clear();
    this.watcher?.dispose();
    this.changed.dispose();
  }
}
