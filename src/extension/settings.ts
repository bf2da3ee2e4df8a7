/**
 * The extension's settings (`contributes.configuration` in package.json, generated from the settings table
 * in src/protocol/settings.ts), read in one place. Training settings reach the trainer only when the user
 * set them (launchConfig.ts): the trainer's defaults are the only defaults.
 */
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { defaultOf } from '../protocol/index.js';
import { launchConfigFromSettings } from './launchConfig.js';

export { type LaunchProblem, validateLaunchConfig } from './launchConfig.js';

export interface DurianSettings {
  runsFolder: string;
  /** The estimator Durian: Start Training offers first (and Compute Advantages uses). */
  estimator: string;
  /** Its options the user set (src/core fills the others with their defaults). */
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
  const estimator = config.get<string>('estimator', defaultOf('estimator') as string);
  return { runsFolder, estimator, estimatorOptions: trainingConfigFromSettings(estimator, false).estimatorOptions as Record<string, unknown> };
}

/**
 * A training config from the settings the user set: the estimator with its options, the `durian.training.*`
 * values, the backend and (in a trusted workspace only) a custom encoder. Check it with
 * `validateLaunchConfig` before launch; the trainer checks it again.
 */
export function trainingConfigFromSettings(estimator: string, trusted: boolean): Record<string, unknown> {
  const configuration = vscode.workspace.getConfiguration();
  return launchConfigFromSettings((key) => configuration.inspect(key), estimator, trusted);
}
