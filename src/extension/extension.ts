/**
 * Extension entry point. Registers the Runs view and the commands of the "Durian" category.
 * The training session (forking the trainer bundle) arrives with the trainer; the host never loads
 * ML runtimes itself.
 */
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { advantagesForLine } from '../core/index.js';
import { RunsViewProvider } from './runsView.js';
import { readSettings } from './settings.js';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Durian RL');
  const runs = new RunsViewProvider(() => readSettings().runsFolder);

  context.subscriptions.push(
    output,
    vscode.window.registerTreeDataProvider('durian.runs', runs),
    vscode.commands.registerCommand('durian.refreshRuns', () => runs.refresh()),
    vscode.commands.registerCommand('durian.openRunsFolder', async () => {
      const folder = readSettings().runsFolder;
      await vscode.workspace.fs.createDirectory(vscode.Uri.file(folder));
      await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(folder));
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
  );
}

export function deactivate(): void {
  // Nothing to stop yet: no trainer process runs in this version.
}
