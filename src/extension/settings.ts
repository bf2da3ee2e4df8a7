/** The extension's settings (`contributes.configuration` in package.json), read in one place. */
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';

export interface DurianSettings {
  runsFolder: string;
  estimator: string;
  estimatorOptions: Record<string, unknown>;
}

export function readSettings(): DurianSettings {
  const config = vscode.workspace.getConfiguration('durian');
  const configured = config.get<string>('runsFolder', '').trim();
  const workspace = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const runsFolder = configured
    ? path.resolve(workspace ?? os.homedir(), configured.replace(/^~(?=$|\/)/, os.homedir()))
    : workspace
      ? path.join(workspace, 'runs')
      : path.join(os.homedir(), '.durian', 'runs');
  const estimator = config.get<string>('estimator', 'durian');
  const estimatorOptions: Record<string, unknown> =
    estimator === 'durian'
      ? {
          weights: config.get<number[]>('durian.weights', [0.1, 0.2, 0.7]),
          reasoningBins: config.get<number>('durian.reasoningBins', 12),
          minPromptsPerBin: config.get<number>('durian.minPromptsPerBin', 2),
          poolZeroVariance: config.get<boolean>('durian.poolZeroVariance', true),
          eps: config.get<number>('eps', 1e-6),
        }
      : estimator === 'grpo'
        ? { eps: config.get<number>('eps', 1e-6) }
        : {};
  return { runsFolder, estimator, estimatorOptions };
}
