/**
 * The Runs view: one item per run directory in the runs folder, with its state and step read from the
 * run's `status.json` (written by the trainer) when there is one.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';

export interface RunSummary {
  name: string;
  dir: string;
  state: string;
  step?: number;
  totalSteps?: number;
}

export function listRunSummaries(runsFolder: string): RunSummary[] {
  if (!existsSync(runsFolder)) return [];
  const runs: RunSummary[] = [];
  for (const name of readdirSync(runsFolder)) {
    const dir = path.join(runsFolder, name);
    try {
      if (!statSync(dir).isDirectory()) continue;
    } catch {
      continue;
    }
    let state = 'unknown';
    let step: number | undefined;
    let totalSteps: number | undefined;
    try {
      const status = JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')) as { state?: unknown; step?: unknown; totalSteps?: unknown };
      if (typeof status.state === 'string') state = status.state;
      if (typeof status.step === 'number') step = status.step;
      if (typeof status.totalSteps === 'number') totalSteps = status.totalSteps;
    } catch {
      state = existsSync(path.join(dir, 'config.json')) ? 'no status' : 'not a run';
    }
    runs.push({ name, dir, state, step, totalSteps });
  }
  return runs.sort((a, b) => b.name.localeCompare(a.name));
}

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
    item.contextValue = 'durianRun';
    item.iconPath = new vscode.ThemeIcon(run.state === 'running' ? 'sync~spin' : run.state === 'crashed' ? 'error' : 'history');
    item.command = { command: 'revealFileInOS', title: 'Open Run Folder', arguments: [vscode.Uri.file(run.dir)] };
    return item;
  }

  getChildren(): RunSummary[] {
    return listRunSummaries(this.runsFolder());
  }
}
