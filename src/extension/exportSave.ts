/**
 * Saving an export a panel asked for: a save dialog offers the file name (in the workspace's first folder),
 * the file is written, and a notification says where (with Reveal). Panels hand their raw messages to
 * `handleExportMessage` before their own parser: it takes `chart/export` and `groups/export` and leaves the
 * rest. The `durian.exportTo` command saves the next export to a given path without a dialog (scripts, tests).
 */
import os from 'node:os';
import * as vscode from 'vscode';
import { CHART_EXPORT, isExportMessage, parseChartExport, parseGroupsExport } from '../protocol/compareExport.js';
import { type ExportFile, chartExportFile, groupsExportFile, writeExport } from './exportFiles.js';

/** A path given by `durian.exportTo`: the next export goes there instead of asking. */
let nextTarget: string | undefined;

/** `durian.exportTo <path>`: the next export is saved to `path` without a dialog. */
export function setNextExportTarget(target: unknown): void {
  nextTarget = typeof target === 'string' && target !== '' ? target : undefined;
}

async function askTarget(file: ExportFile): Promise<string | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
  const uri = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(folder, file.defaultName), filters: file.filters, saveLabel: 'Export', title: `Durian: Export ${file.defaultName}` });
  return uri?.fsPath;
}

/** Asks where (unless `durian.exportTo` named a path), writes, and says what happened. */
export async function saveExport(file: ExportFile, log: (line: string) => void): Promise<string | undefined> {
  const target = nextTarget ?? (await askTarget(file));
  nextTarget = undefined;
  if (!target) return undefined;
  const problem = writeExport(file, target);
  if (problem) {
    log(`export: ${problem}`);
    void vscode.window.showErrorMessage(`Durian: ${problem}`);
    return undefined;
  }
  log(`export: saved ${target} (${file.bytes.length} bytes)`);
  void vscode.window.showInformationMessage(`Durian: saved ${target}`, 'Reveal').then((choice) => {
    if (choice === 'Reveal') void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(target));
  });
  return target;
}

/**
 * Handles `raw` when it is an export message (returns true: the panel ignores it), else returns false.
 * An invalid export is logged and dropped.
 */
export function handleExportMessage(raw: unknown, log: (line: string) => void): boolean {
  if (!isExportMessage(raw)) return false;
  const chart = (raw as { type: unknown }).type === CHART_EXPORT.save;
  const parsed = chart ? parseChartExport(raw) : parseGroupsExport(raw);
  if (!parsed.ok) {
    log(`export: ignored an invalid message from the webview: ${parsed.error}`);
    return true;
  }
  const file = 'groups' in parsed.value ? groupsExportFile(parsed.value) : chartExportFile(parsed.value);
  void saveExport(file, log);
  return true;
}
