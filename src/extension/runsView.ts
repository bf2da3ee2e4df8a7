/**
 * The Runs view: one item per run directory in the runs folder, with its state and step read from the
 * run's `status.json` (written by the trainer) when there is one.
 */
import * as vscode from 'vscode';
import { type RunSummary, listRunSummaries } from './runFiles.js';

export class RunsViewProvider implements vscode.TreeDataProvider<RunSummary> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly runsFolder: () => string) {}

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(run: RunSummary): vscode.TreeItem {
    const item = new vscode.TreeItem(run.name, vscode.TreeItemCollapsibleState.None);
    const progress = run.step === undefined ? '' : ` · step ${run.step}${run.totalSteps ? `/${run.totalSteps}` : ''}`;
    item.description = `${run.state}${progress}`;
    item.tooltip = run.dir;
    item.resourceUri = vscode.Uri.file(run.dir);
    item.contextValue = run.state === 'running' || run.state === 'paused' ? 'durianRunActive' : 'durianRun';
    if (run.estimator) item.description = `${item.description} · ${run.estimator}`;
    item.iconPath = new vscode.ThemeIcon(run.state === 'running' ? 'sync~spin' : run.state === 'crashed' ? 'error' : 'history');
    item.command = { command: 'durian.openDashboard', title: 'Open Dashboard', arguments: [run] };
    return item;
  }

  getChildren(): RunSummary[] {
    return listRunSummaries(this.runsFolder());
  }
}
