/**
 * Extension entry point: wires the commands of the "Durian" category (./commands.ts), the Runs view, the
 * Dashboard, Rollout Groups and Compare Runs panels (with their serializers: each comes back after Reload
 * Window) and the training controller. The host never loads ML runtimes: it forks the trainer bundle and
 * talks to it through src/protocol, or follows a run folder another process writes.
 */
import * as vscode from 'vscode';
import { DurianCommands } from './commands.js';
import { compareRunsCommand, exportToCommand } from './compareCommands.js';
import { COMPARE_VIEW_TYPE, ComparePanel } from './comparePanel.js';
import { TrainingController } from './controller.js';
import { DASHBOARD_VIEW_TYPE, DashboardPanel } from './dashboardPanel.js';
import { ROLLOUT_GROUPS_VIEW_TYPE, RolloutGroupsPanel } from './rolloutGroupsPanel.js';
import { RunsViewProvider } from './runsView.js';
import { readSettings } from './settings.js';

let controller: TrainingController | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Durian RL');
  const trainer = new TrainingController(context, output);
  controller = trainer;
  const runs = new RunsViewProvider(
    () => readSettings().runsFolder,
    () => (trainer.active ? trainer.runDir : undefined),
  );
  const commands = new DurianCommands(context, trainer, runs, output);
  const handlers: Record<string, (...args: never[]) => unknown> = {
    'durian.startTraining': () => commands.startTraining(),
    'durian.stopTraining': () => commands.stopTraining(),
    'durian.pauseTraining': () => commands.pauseTraining(),
    'durian.resumeTraining': () => commands.resumeTraining(),
    'durian.openDashboard': (arg?: unknown) => commands.openDashboard(arg),
    'durian.openRolloutGroups': (arg?: unknown, step?: unknown) => commands.openRolloutGroups(arg, step),
    'durian.openRunFolder': (arg?: unknown) => commands.openRunFolder(arg),
    'durian.resumeRun': (arg?: unknown) => commands.resumeRun(arg),
    'durian.attachRun': (arg?: unknown) => commands.attachRun(arg),
    'durian.detachRun': () => commands.detachRun(),
    'durian.deleteRun': (arg?: unknown) => commands.deleteRun(arg),
    'durian.refreshRuns': () => commands.refreshRuns(),
    'durian.openRunsFolder': () => commands.openRunsFolder(),
    'durian.computeAdvantages': (uri?: vscode.Uri) => commands.computeAdvantages(uri),
    'durian.compareRuns': compareRunsCommand(context, (line) => output.appendLine(line)),
    'durian.exportTo': (target?: unknown) => exportToCommand(target),
  };

  context.subscriptions.push(
    output,
    trainer,
    runs,
    // canSelectMany: Compare Runs gets the selected runs.
    vscode.window.createTreeView('durian.runs', { treeDataProvider: runs, canSelectMany: true }),
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      async deserializeWebviewPanel(panel) {
        DashboardPanel.revive(panel, context, trainer);
      },
    }),
    vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
      async deserializeWebviewPanel(panel) {
        ComparePanel.revive(panel, context, (line) => output.appendLine(line));
      },
    }),
    vscode.window.registerWebviewPanelSerializer(ROLLOUT_GROUPS_VIEW_TYPE, {
      async deserializeWebviewPanel(panel) {
        RolloutGroupsPanel.revive(panel, context, trainer);
      },
    }),
    ...Object.entries(handlers).map(([id, handler]) => vscode.commands.registerCommand(id, handler)),
    trainer.onRunsChanged(() => runs.refresh()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => runs.refresh()),
    vscode.workspace.onDidChangeConfiguration((change) => {
      if (!change.affectsConfiguration('durian.runsFolder')) return;
      runs.watch();
      runs.refresh();
    }),
  );
}

export async function deactivate(): Promise<void> {
  // Closing the window or quitting VS Code stops the trainer cleanly (checkpoint, exit 0); an attached run's writer goes on.
  await controller?.shutdown();
}
