/**
 * The handlers of the "Durian" commands (package.json `contributes.commands`), one method each;
 * extension.ts registers them. Commands given a run (a Runs view row, a path from another command, a
 * folder Uri) check it is a run folder before a panel or the controller touches it.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { ESTIMATOR_NAMES, advantagesForLine } from '../core/index.js';
import { defaultOf, newRunName } from '../protocol/index.js';
import type { TrainingController } from './controller.js';
import { DashboardPanel } from './dashboardPanel.js';
import { RolloutGroupsPanel } from './rolloutGroupsPanel.js';
import { revealFolder } from './revealFolder.js';
import { type RunSummary, listRunSummaries, readRunStatus, runFolderProblem } from './runFiles.js';
import { isResumable, runStateLabel } from './runReports.js';
import type { RunsViewProvider } from './runsView.js';
import { readSettings, trainingConfigFromSettings, validateLaunchConfig } from './settings.js';
import { type DatasetFlags, datasetFlagArgs } from '../protocol/datasetLaunch.js';
import { datasetOfConfig, pickDatasetSplit, workspaceDatasets } from './workspaceDatasets.js';

const UNTRUSTED = 'Durian: training, custom encoders and workspace datasets are disabled in an untrusted workspace. Trust the workspace to use them.';
const TRAINING = 'Durian: a training run is already active. Stop it first.';

/** Config files the user can start from: *.durian.json anywhere in the workspace (not in runs/). */
async function workspaceConfigs(): Promise<vscode.Uri[]> {
  return vscode.workspace.findFiles('**/*.durian.json', '{**/node_modules/**,**/runs/**}', 50);
}

/** The run folder a command was given: a path, a Runs view row (`dir`) or a Uri. */
function runDirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && 'dir' in arg && typeof (arg as { dir: unknown }).dir === 'string') return (arg as { dir: string }).dir;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  return undefined;
}

function report(problem: string | undefined): void {
  if (problem) void vscode.window.showWarningMessage(`Durian: ${problem}`);
}

function requireTrust(): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(UNTRUSTED);
  return false;
}

export class DurianCommands {
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly trainer: TrainingController,
    private readonly runs: RunsViewProvider,
    private readonly output: vscode.OutputChannel,
  ) {}

  async startTraining(): Promise<void> {
    if (!requireTrust()) return;
    if (this.trainer.training) {
      void vscode.window.showWarningMessage(TRAINING);
      return;
    }
    const configs = await workspaceConfigs();
    const datasets = await workspaceDatasets();
    const settings = readSettings();
    const sourcePick = await vscode.window.showQuickPick(
      [
        { label: 'Built-in default', description: 'the built-in task suite with the durian.training.* settings', uri: undefined as vscode.Uri | undefined, dataset: false },
        ...configs.map((uri) => ({ label: path.basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri), uri, dataset: false })),
        ...datasets.map((uri) => ({ label: path.basename(uri.fsPath), description: `dataset, general policy · ${vscode.workspace.asRelativePath(uri)}`, uri, dataset: true })),
      ],
      { title: 'Durian: Start Training (1/2) — configuration', placeHolder: 'Choose a training configuration' },
    );
    if (!sourcePick) return;
    // A dataset (picked, or named by the config file) goes to the trainer as --dataset flags.
    let datasetFlags: DatasetFlags = {};
    if (sourcePick.dataset && sourcePick.uri) {
      const split = await pickDatasetSplit(sourcePick.uri.fsPath);
      if (!split) return;
      datasetFlags = split;
    }
    const estimatorPick = await vscode.window.showQuickPick(
      ESTIMATOR_NAMES.map((name) => ({ label: name, description: name === settings.estimator ? 'default (setting durian.estimator)' : '' })).sort((a, b) => (b.description ? 1 : 0) - (a.description ? 1 : 0)),
      { title: 'Durian: Start Training (2/2) — advantage estimator', placeHolder: 'Choose the advantage estimator' },
    );
    if (!estimatorPick) return;
    let config = trainingConfigFromSettings(estimatorPick.label, vscode.workspace.isTrusted);
    if (sourcePick.uri && !sourcePick.dataset) {
      try {
        const named = datasetOfConfig(JSON.parse(readFileSync(sourcePick.uri.fsPath, 'utf8')) as Record<string, unknown>, sourcePick.uri.fsPath);
        const fromFile = named.config;
        datasetFlags = named.flags;
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
    // The protocol's one run-name format, as `durian train` names a run (estimator and seed).
    const runDir = path.join(settings.runsFolder, newRunName(estimatorPick.label, typeof config.seed === 'number' ? config.seed : (defaultOf('seed') as number)));
    try {
      this.trainer.start({ config, runDir, trainerArgs: datasetFlagArgs(datasetFlags) });
      DashboardPanel.show(this.context, this.trainer, runDir);
    } catch (error) {
      void vscode.window.showErrorMessage(`Durian: ${(error as Error).message}`);
    }
  }

  stopTraining(): void {
    report(this.trainer.stop());
  }

  pauseTraining(): void {
    report(this.trainer.pause());
  }

  resumeTraining(): void {
    report(this.trainer.resume());
  }

  openDashboard(arg?: unknown): void {
    const dir = this.panelRunOf(arg);
    if (dir !== null) DashboardPanel.show(this.context, this.trainer, dir);
  }

  openRolloutGroups(arg?: unknown, step?: unknown): void {
    const dir = this.panelRunOf(arg);
    if (dir === null) return;
    const panel = RolloutGroupsPanel.show(this.context, this.trainer, dir);
    // A click on a Dashboard chart opens the groups of its step.
    if (typeof step === 'number' && Number.isSafeInteger(step) && step >= 0) panel.showStep(step);
  }

  async openRunFolder(arg?: unknown): Promise<void> {
    const dir = runDirOf(arg) ?? this.trainer.runDir ?? (await this.pickRun('Durian: Open Run Folder', () => true));
    if (dir) {
      await revealFolder(dir, `the run folder ${dir} was never created: the trainer stopped before the run started (the Dashboard and the "Durian RL" output say why). There is nothing to open.`);
    }
  }

  async resumeRun(arg?: unknown): Promise<void> {
    if (!requireTrust()) return;
    if (this.trainer.training) {
      void vscode.window.showWarningMessage(TRAINING);
      return;
    }
    // Any run this window does not train: a status.json that says `running` may be stale (its trainer
    // killed, its process id reused); a trainer that really holds the run refuses to share it.
    const given = arg === undefined ? undefined : this.panelRunOf(arg);
    if (given === null) return;
    const dir = given ?? (await this.pickRun('Durian: Resume Run', (run) => isResumable({ ...run, trainedHere: false })));
    if (!dir) return;
    try {
      this.trainer.start({ resumeDir: dir });
      DashboardPanel.show(this.context, this.trainer, dir);
    } catch (error) {
      void vscode.window.showErrorMessage(`Durian: ${(error as Error).message}`);
    }
  }

  /**
   * Follows a run folder another process writes (`durian train` in a terminal, the Python data-parallel
   * trainer): a Runs view row, a path, or a folder picked in a dialog. Opens its Dashboard.
   */
  async attachRun(arg?: unknown): Promise<void> {
    if (this.trainer.training) {
      void vscode.window.showWarningMessage('Durian: this window is training a run; stop it before attaching to another.');
      return;
    }
    const dir = runDirOf(arg) ?? (await this.pickRunToAttach());
    if (dir === undefined) return;
    const problem = runFolderProblem(dir);
    if (problem) {
      void vscode.window.showErrorMessage(`Durian: ${problem}. Nothing was attached.`);
      return;
    }
    const resolved = path.resolve(dir);
    try {
      const run = this.trainer.attach(resolved);
      DashboardPanel.show(this.context, this.trainer, resolved);
      const state = run.state;
      const steer = run.steerable ? 'its controls go through its inbox' : 'read-only: its status.json advertises no inbox, or the run is not running';
      void vscode.window.showInformationMessage(`Durian: attached to ${path.basename(resolved)} (${state.state}, step ${state.step}); ${steer}.`);
    } catch (error) {
      void vscode.window.showErrorMessage(`Durian: ${(error as Error).message}`);
    }
  }

  detachRun(): void {
    report(this.trainer.detach());
  }

  async deleteRun(arg?: unknown): Promise<void> {
    const dir = runDirOf(arg);
    if (!dir) return;
    const runsFolder = path.resolve(readSettings().runsFolder);
    const resolved = path.resolve(dir);
    if (path.dirname(resolved) !== runsFolder || !existsSync(path.join(resolved, 'config.json'))) {
      void vscode.window.showErrorMessage(`Durian: ${dir} is not a run of the runs folder ${runsFolder}; nothing was deleted.`);
      return;
    }
    if (this.trainer.active && this.trainer.runDir === resolved) {
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
    this.runs.refresh();
  }

  refreshRuns(): void {
    this.runs.refresh();
  }

  async openRunsFolder(): Promise<void> {
    const folder = readSettings().runsFolder;
    await vscode.workspace.fs.createDirectory(vscode.Uri.file(folder));
    // A runs folder outside the workspace is watched only once it exists.
    this.runs.watch();
    await revealFolder(folder, `the runs folder ${folder} could not be created.`);
  }

  async computeAdvantages(uri?: vscode.Uri): Promise<void> {
    const target =
      uri ?? (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'JSON Lines': ['jsonl', 'json'] }, openLabel: 'Compute advantages' }))?.[0];
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
        this.output.appendLine(`${target.fsPath}: ${String(result.error)}`);
      }
      results.push(JSON.stringify(result));
    });
    const document = await vscode.workspace.openTextDocument({ language: 'jsonl', content: `${results.join('\n')}\n` });
    await vscode.window.showTextDocument(document);
    if (failed > 0) {
      const choice = await vscode.window.showWarningMessage(`Durian: ${failed} of ${results.length} lines failed; see the Durian RL output.`, 'Show Output');
      if (choice) this.output.show();
    }
  }

  /** A run of the runs folder that another process is writing (running or paused), or any folder picked in a dialog. */
  private async pickRunToAttach(): Promise<string | undefined> {
    const runsFolder = readSettings().runsFolder;
    const writing = listRunSummaries(runsFolder).filter((run) => (run.state === 'running' || run.state === 'paused') && run.dir !== this.trainer.runDir);
    const browse = { label: '$(folder-opened) Another folder…', description: 'a run folder anywhere (status.json and config.json)', dir: undefined as string | undefined };
    const pick = await vscode.window.showQuickPick(
      [...writing.map((run) => ({ label: run.name, description: `${run.state} · step ${run.step ?? 0}/${run.totalSteps ?? '?'} · process ${run.pid ?? '?'}`, dir: run.dir as string | undefined })), browse],
      { title: 'Durian: Attach to Run Folder', placeHolder: writing.length > 0 ? 'A run another process is writing' : `No run of ${runsFolder} is being written: pick another folder` },
    );
    if (!pick) return undefined;
    if (pick.dir !== undefined) return pick.dir;
    const picked = await vscode.window.showOpenDialog({
      canSelectFiles: false,
      canSelectFolders: true,
      canSelectMany: false,
      defaultUri: vscode.Uri.file(runsFolder),
      openLabel: 'Attach',
      title: 'Durian: Attach to Run Folder (a folder holding status.json and config.json)',
    });
    return picked?.[0]?.fsPath;
  }

  private async pickRun(title: string, filter: (run: RunSummary) => boolean): Promise<string | undefined> {
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
  }

  /**
   * The run a panel command was given (a tree item, a path from another command), checked: a panel only
   * opens on a run folder (its webview may load the folder's files). `undefined` with no argument (the
   * panel picks the session's run or the last one); `null` after telling the user why not.
   */
  private panelRunOf(arg: unknown): string | undefined | null {
    if (arg === undefined) return undefined;
    const dir = runDirOf(arg);
    if (dir !== undefined && path.isAbsolute(dir) && path.resolve(dir) === this.trainer.runDir) return this.trainer.runDir;
    const problem = runFolderProblem(dir ?? arg);
    if (problem === undefined) return path.resolve(dir as string);
    void vscode.window.showErrorMessage(`Durian: ${problem}. Nothing was opened.`);
    return null;
  }
}
