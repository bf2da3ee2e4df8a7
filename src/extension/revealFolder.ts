/**
 * "Open Run Folder" and "Open Runs Folder" wherever the extension runs. On a desktop window whose
 * extension host is local, the OS file manager shows the folder (`revealFileInOS`). In a remote window
 * (Remote-SSH, WSL, containers) or a browser (code-server, vscode.dev) that file manager is not the
 * machine's that holds the folder, and the command may not exist at all: the folder is revealed in the
 * Explorer when it is inside the workspace, or the user may open it in a new window or copy its path.
 * A folder that does not exist is said so, never silently ignored.
 */
import { existsSync, statSync } from 'node:fs';
import * as vscode from 'vscode';

/** Whether the OS file manager of the machine holding the files can be used from here. */
function hasLocalFileManager(): boolean {
  return vscode.env.remoteName === undefined && vscode.env.uiKind === vscode.UIKind.Desktop;
}

/** The workspace folder that holds `dir`, if any. */
function workspaceFolderOf(dir: string): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dir));
}

/**
 * Shows `dir` to the user. `missing` is what to say when it does not exist (e.g. why a run folder was
 * never created). Resolves when it is shown or the user was told why not.
 */
export async function revealFolder(dir: string, missing: string): Promise<void> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    void vscode.window.showWarningMessage(`Durian: ${missing}`);
    return;
  }
  const uri = vscode.Uri.file(dir);
  if (hasLocalFileManager()) {
    try {
      await vscode.commands.executeCommand('revealFileInOS', uri);
      return;
    } catch {
      // No OS file manager after all (an unusual build): fall back to the Explorer below.
    }
  }
  if (workspaceFolderOf(dir)) {
    await vscode.commands.executeCommand('workbench.view.explorer');
    await vscode.commands.executeCommand('revealInExplorer', uri);
    return;
  }
  const choice = await vscode.window.showInformationMessage(
    `Durian: ${dir} is outside the workspace and this window has no file manager of its machine${vscode.env.remoteName ? ` (${vscode.env.remoteName})` : ''}.`,
    'Open in New Window',
    'Copy Path',
  );
  if (choice === 'Open in New Window') await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: true });
  if (choice === 'Copy Path') await vscode.env.clipboard.writeText(dir);
}
