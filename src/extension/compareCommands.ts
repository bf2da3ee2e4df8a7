/**
 * The commands of the Compare Runs panel and of exports:
 * - `durian.compareRuns`: from the Runs view, the selected runs (canSelectMany: VS Code passes the clicked row
 *   and the selection); from the palette, a quick pick of the runs folder's runs (several) or a `durian study`
 *   folder; from a script, an array of run folders or one study folder.
 * - `durian.exportTo <path>`: the next chart or groups export is saved to `path` without a dialog.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { ComparePanel, type CompareSource } from './comparePanel.js';
import { isStudyFolder } from './compareRuns.js';
import { listRunSummaries, runFolderProblem } from './runFiles.js';
import { readSettings } from './settings.js';

const PICK_STUDY = 'Compare a study folder…';

/** A run folder named by a command argument: a path, a Uri or a Runs-view item (`{ dir }`). */
function dirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (arg && typeof arg === 'object' && typeof (arg as { dir?: unknown }).dir === 'string') return (arg as { dir: string }).dir;
  return undefined;
}

/**
 * What the arguments name: a study folder, or run folders (the clicked row and the selection, or an array);
 * undefined when nothing usable (the palette). Folders that are not runs are refused with one line each.
 */
export function sourceOfArguments(clicked: unknown, selected: unknown): CompareSource | string | undefined {
  const given = Array.isArray(selected) && selected.length > 0 ? selected : Array.isArray(clicked) ? clicked : clicked !== undefined ? [clicked] : [];
  const dirs = [...new Set(given.map(dirOf).filter((dir): dir is string => dir !== undefined).map((dir) => path.resolve(dir)))];
  if (dirs.length === 0) return undefined;
  if (dirs.length === 1 && isStudyFolder(dirs[0])) return { studyDir: dirs[0] };
  const problems = dirs.map((dir) => runFolderProblem(dir)).filter((problem): problem is string => problem !== undefined);
  if (problems.length > 0) return problems.join('; ');
  return { runDirs: dirs };
}

async function pickSource(): Promise<CompareSource | undefined> {
  const runsFolder = readSettings().runsFolder;
  const runs = listRunSummaries(runsFolder).filter((run) => runFolderProblem(run.dir) === undefined);
  const items: (vscode.QuickPickItem & { dir?: string })[] = [
    { label: PICK_STUDY, description: 'a folder written by `durian study` (its cells grouped by arm)', alwaysShow: true },
    ...runs.map((run) => ({ label: run.name, description: [run.estimator, run.state, run.step !== undefined ? `step ${run.step}` : undefined].filter(Boolean).join(' · '), dir: run.dir })),
  ];
  const picked = await vscode.window.showQuickPick(items, { canPickMany: true, title: 'Durian: Compare Runs', placeHolder: `Pick two or more runs of ${runsFolder}, or a study folder` });
  if (!picked || picked.length === 0) return undefined;
  if (picked.some((item) => item.label === PICK_STUDY && item.dir === undefined)) {
    const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Compare', title: 'Durian: a `durian study` folder' });
    if (!folder?.[0]) return undefined;
    if (!isStudyFolder(folder[0].fsPath)) {
      void vscode.window.showErrorMessage(`Durian: ${folder[0].fsPath} is not a study folder (it has no study.json and runs/ as \`durian study --out\` writes them). Nothing was compared.`);
      return undefined;
    }
    return { studyDir: folder[0].fsPath };
  }
  return { runDirs: picked.flatMap((item) => (item.dir ? [item.dir] : [])) };
}

/** The handler of `durian.compareRuns`: the arguments' runs or study, else what the user picks. */
export function compareRunsCommand(context: vscode.ExtensionContext, log: (line: string) => void): (clicked?: unknown, selected?: unknown) => Promise<void> {
  return async (clicked?: unknown, selected?: unknown) => {
    const fromArguments = sourceOfArguments(clicked, selected);
    if (typeof fromArguments === 'string') {
      void vscode.window.showErrorMessage(`Durian: ${fromArguments}. Nothing was compared.`);
      return;
    }
    const source = fromArguments ?? (await pickSource());
    if (source) ComparePanel.show(context, log, source);
  };
}

/** The handler of `durian.exportTo <path>`. */
export { setNextExportTarget as exportToCommand } from './exportSave.js';
