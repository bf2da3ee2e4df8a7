/**
 * Extension entry point: the commands of the "Durian" category, the Runs view, the Dashboard panel (with
 * its serializer), the training controller and its status bar. The host never loads ML runtimes: it forks
 * the trainer bundle and talks to it through src/protocol.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { ESTIMATOR_NAMES, advantagesForLine } from '../core/index.js';
import { TrainingController } from './controller.js';
import { DASHBOARD_VIEW_TYPE, DashboardPanel } from './dashboardPanel.js';
import { ROLLOUT_GROUPS_VIEW_TYPE, RolloutGroupsPanel } from './rolloutGroupsPanel.js';
import { revealFolder } from './revealFolder.js';
import { type RunSummary, listRunSummaries, readRunStatus, runFolderProblem } from './runFiles.js';
import { isResumable, runStateLabel } from './runReports.js';
import { RunsViewProvider } from './runsView.js';
import { readSettings, trainingConfigFromSettings, validateLaunchConfig } from './settings.js';

let controller: TrainingController | undefined;

const UNTRUSTED = 'Durian: training, custom encoders and workspace datasets are disabled in an untrusted workspace. Trust the workspace to use them.';

function runNameNow(estimator: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
  return `${stamp}-${estimator}`;
}

/** Config files the user can start from: *.durian.json anywhere in the workspace (not in runs/). */
async function workspaceConfigs(): Promise<vscode.Uri[]> {
  return vscode.workspace.findFiles('**/*.durian.json', '{**/node_modules/**,**/runs/**}', 50);
}

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Durian RL');
  const runs = new RunsViewProvider(
    () => readSettings().runsFolder,
    () => (controller?.active ? controller.runDir : undefined),
  );
  controller = new TrainingController(context, output, () => runs.refresh());
  const trainer = controller;

  const requireTrust = (): boolean => {
    if (vscode.workspace.isTrusted) return true;
    void vscode.window.showWarningMessage(UNTRUSTED);
    return false;
  };
  const report = (problem: string | undefined) => {
    if (problem) void vscode.window.showWarningMessage(`Durian: ${problem}`);
  };

  const startTraining = async () => {
    if (!requireTrust()) return;
    if (trainer.active) {
      void vscode.window.showWarningMessage('Durian: a training run is already active. Stop it first.');
      return;
    }
    const configs = await workspaceConfigs();
    const settings = readSettings();
    const sourcePick = await vscode.window.showQuickPick(
      [
        { label: 'Built-in default', description: 'the built-in task suite with the durian.training.* settings', uri: undefined as vscode.Uri | undefined },
        ...configs.map((uri) => ({ label: path.basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri), uri })),
      ],
      { title: 'Durian: Start Training (1/2) — configuration', placeHolder: 'Choose a training configuration' },
    );
    if (!sourcePick) return;
    const estimatorPick = await vscode.window.showQuickPick(
      ESTIMATOR_NAMES.map((name) => ({ label: name, description: name === settings.estimator ? 'default (setting durian.estimator)' : '' })).sort((a, b) => (b.description ? 1 : 0) - (a.description ? 1 : 0)),
      { title: 'Durian: Start Training (2/2) — advantage estimator', placeHolder: 'Choose the advantage estimator' },
    );
    if (!estimatorPick) return;
    let config = trainingConfigFromSettings(estimatorPick.label, vscode.workspace.isTrusted);
    if (sourcePick.uri) {
      try {
        const fromFile = JSON.parse(readFileSync(sourcePick.uri.fsPath, 'utf8')) as Record<string, unknown>;
        config = { ...config, ...fromFile, estimator: estimatorPick.label };
        if (fromFile.estimator !== estimatorPick.label) config.estimatorOptions = trainingConfigFromSettings(estimatorPick.label, true).estimatorOptions;
      } catch (error) {
        void vscode.window.showErrorMessage(`Durian: ${sourcePick.uri.fsPath} is not valid JSON: ${(error as Error).message}`);
        return;
      }
    }
    // A setting that conflicts with the session (bins vs prompts per step, ...) is refused here, with the
    // setting's name and its allowed range, before a trainer or a run folder exists.
    const problem = validateLaunchConfig(config);
    if (problem) {
      const where = sourcePick.uri ? ` (settings and ${vscode.workspace.asRelativePath(sourcePick.uri)})` : '';
      const actions = [...(problem.setting ? ['Open Setting'] : []), ...(sourcePick.uri ? ['Open Configuration File'] : [])];
      void vscode.window.showErrorMessage(`Durian: ${problem.message}${where}. Training was not started.`, ...actions).then((choice) => {
        if (choice === 'Open Setting' && problem.setting) void vscode.commands.executeCommand('workbench.action.openSettings', problem.setting);
        if (choice === 'Open Configuration File' && sourcePick.uri) void vscode.window.showTextDocument(sourcePick.uri);
      });
      return;
    }
    const runDir = path.join(settings.runsFolder, runNameNow(estimatorPick.label));
    try {
      trainer.start({ config, runDir });
      DashboardPanel.show(context, trainer, runDir);
    } catch (error) {
      void vscode.window.showErrorMessage(`Durian: ${(error as Error).message}`);
    }
  };

  const pickRun = async (title: string, filter: (run: RunSummary) => boolean): Promise<string | undefined> => {
    const candidates = listRunSummaries(readSettings().runsFolder).filter(filter);
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage(`Durian: no matching runs in ${readSettings().runsFolder}.`);
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      candidates.map((run) => ({ label: run.name, description: `${runStateLabel({ ...run, trainedHere: false })} · step ${run.step ?? 0}/${run.totalSteps ?? '?'}${run.estimator ? ` · ${run.estimator}` : ''}`, dir: run.dir })),
      { title },
    );
    return pick?.dir;
  };

  const runDirOf = (arg: unknown): string | undefined => {
    if (typeof arg === 'string') return arg;
    if (arg && typeof arg === 'object' && 'dir' in arg && typeof (arg as { dir: unknown }).dir === 'string') return (arg as { dir: string }).dir;
    if (arg instanceof vscode.Uri) return arg.fsPath;
    return undefined;
  };

  /**
   * The run a panel command was given (a tree item, a path from another command), checked: a panel only
   * opens on a run folder (its webview may load the folder's files). `undefined` with no argument (the
   * panel picks the session's run or the last one); `null` after telling the user why not.
   */
  const panelRunOf = (arg: unknown): string | undefined | null => {
    if (arg === undefined) return undefined;
    const dir = runDirOf(arg);
    if (dir !== undefined && path.isAbsolute(dir) && path.resolve(dir) === trainer.runDir) return trainer.runDir;
    const problem = runFolderProblem(dir ?? arg);
    if (problem === undefined) return path.resolve(dir as string);
    void vscode.window.showErrorMessage(`Durian: ${problem}. Nothing was opened.`);
    return null;
  };

  context.subscriptions.push(
    output,
    controller,
    runs,
    vscode.window.registerTreeDataProvider('durian.runs', runs),
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      async deserializeWebviewPanel(panel) {
        DashboardPanel.revive(panel, context, trainer);
      },
    }),
    vscode.window.registerWebviewPanelSerializer(ROLLOUT_GROUPS_VIEW_TYPE, {
      async deserializeWebviewPanel(panel) {
        RolloutGroupsPanel.revive(panel, context, trainer);
      },
    }),
    vscode.commands.registerCommand('durian.startTraining', startTraining),
    vscode.commands.registerCommand('durian.stopTraining', () => report(trainer.stop())),
    vscode.commands.registerCommand('durian.pauseTraining', () => report(trainer.pause())),
    vscode.commands.registerCommand('durian.resumeTraining', () => report(trainer.resume())),
    vscode.commands.registerCommand('durian.openDashboard', (arg?: unknown) => {
      const dir = panelRunOf(arg);
      if (dir !== null) DashboardPanel.show(context, trainer, dir);
    }),
    vscode.commands.registerCommand('durian.openRolloutGroups', (arg?: unknown, step?: unknown) => {
      const dir = panelRunOf(arg);
      if (dir === null) return;
      const panel = RolloutGroupsPanel.show(context, trainer, dir);
      // A click on a Dashboard chart opens the groups of its step.
      if (typeof step === 'number' && Number.isSafeInteger(step) && step >= 0) panel.showStep(step);
    }),
    vscode.commands.registerCommand('durian.openRunFolder', async (arg?: unknown) => {
      const dir = runDirOf(arg) ?? trainer.runDir ?? (await pickRun('Durian: Open Run Folder', () => true));
      if (dir) {
        await revealFolder(dir, `the run folder ${dir} was never created: the trainer stopped before the run started (the Dashboard and the "Durian RL" output say why). There is nothing to open.`);
      }
    }),
    vscode.commands.registerCommand('durian.resumeRun', async (arg?: unknown) => {
      if (!requireTrust()) return;
      if (trainer.active) {
        void vscode.window.showWarningMessage('Durian: a training run is already active. Stop it first.');
        return;
      }
      // Any run this window does not train: a status.json that says `running` may be stale (its trainer
      // killed, its process id reused); a trainer that really holds the run refuses to share it.
      const given = arg === undefined ? undefined : panelRunOf(arg);
      if (given === null) return;
      const dir = given ?? (await pickRun('Durian: Resume Run', (run) => isResumable({ ...run, trainedHere: false })));
      if (!dir) return;
      try {
        trainer.start({ resumeDir: dir });
        DashboardPanel.show(context, trainer, dir);
      } catch (error) {
        void vscode.window.showErrorMessage(`Durian: ${(error as Error).message}`);
      }
    }),
    vscode.commands.registerCommand('durian.deleteRun', async (arg?: unknown) => {
      const dir = runDirOf(arg);
      if (!dir) return;
      const runsFolder = path.resolve(readSettings().runsFolder);
      const resolved = path.resolve(dir);
      if (path.dirname(resolved) !== runsFolder || !existsSync(path.join(resolved, 'config.json'))) {
        void vscode.window.showErrorMessage(`Durian: ${dir} is not a run of the runs folder ${runsFolder}; nothing was deleted.`);
        return;
      }
      if (trainer.active && trainer.runDir === resolved) {
        void vscode.window.showWarningMessage('Durian: this run is training; stop it first.');
        return;
      }
      const status = readRunStatus(resolved);
      if (status?.trainer === 'unknown') {
        void vscode.window.showWarningMessage(`Durian: status.json says process ${status.pid ?? '?'} is training ${path.basename(resolved)}; nothing was deleted. If it is not, resume the run first (a live trainer refuses), then delete it.`);
        return;
      }
      const answer = await vscode.window.showWarningMessage(`Delete the run ${path.basename(resolved)} and all its checkpoints?`, { modal: true }, 'Delete');
      if (answer !== 'Delete') return;
      rmSync(resolved, { recursive: true, force: true });
      runs.refresh();
    }),
    vscode.commands.registerCommand('durian.refreshRuns', () => runs.refresh()),
    vscode.commands.registerCommand('durian.openRunsFolder', async () => {
      const folder = readSettings().runsFolder;
      await vscode.workspace.fs.createDirectory(vscode.Uri.file(folder));
      await revealFolder(folder, `the runs folder ${folder} could not be created.`);
    }),
    vscode.commands.registerCommand('durian.computeAdvantages', async (uri?: vscode.Uri) => {
      const target =
        uri ??
        (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'JSON Lines': ['jsonl', 'json'] }, openLabel: 'Compute advantages' }))?.[0];
      if (!target) return;
      const settings = readSettings();
      const lines = readFileSync(target.fsPath, 'utf8').split('\n');
      const results: string[] = [];
      let failed = 0;
      lines.forEach((line, i) => {
        if (line.trim() === '') return;
        const result = advantagesForLine(line, i + 1, { estimator: settings.estimator, options: settings.estimatorOptions });
        if ('error' in result) {
          failed++;
          output.appendLine(`${target.fsPath}: ${String(result.error)}`);
        }
        results.push(JSON.stringify(result));
      });
      const document = await vscode.workspace.openTextDocument({ language: 'jsonl', content: `${results.join('\n')}\n` });
      await vscode.window.showTextDocument(document);
      if (failed > 0) {
        const choice = await vscode.window.showWarningMessage(`Durian: ${failed} of ${results.length} lines failed; see the Durian RL output.`, 'Show Output');
        if (choice) output.show();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => runs.refresh()),
  );
  // Keep the Runs view fresh while runs are written by the trainer.
  const refresh = setInterval(() => {
    if (trainer.active) runs.refresh();
  }, 5000);
  context.subscriptions.push({ dispose: () => clearInterval(refresh) });
}

export async function deactivate(): Promise<void> {
  // Closing the window or quitting VS Code stops the trainer cleanly (checkpoint, exit 0).
  await controller?.shutdown();
}
