/** The extension's settings (`contributes.configuration` in package.json), read in one place. */
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';

export interface DurianSettings {
  runsFolder: string;
  estimator: string;
  estimatorOptions: Record<string, unknown>;
}

/** Training settings under `durian.training.*`, passed to the trainer as config fields of the same name. */
export const TRAINING_SETTINGS = [
  'steps', 'batchSize', 'groupSize', 'algorithm', 'lr', 'klBeta', 'clipLow', 'clipHigh', 'temperature', 'ppoEpochs',
  'validationEvery', 'validationSize', 'trainSize', 'checkpointEvery', 'warmupSteps', 'seed',
] as const;

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
  return { runsFolder, estimator, estimatorOptions: estimatorOptionsFor(estimator) };
}

export function estimatorOptionsFor(estimator: string): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration('durian');
  if (estimator === 'durian') {
    return {
      weights: config.get<number[]>('durian.weights', [0.1, 0.2, 0.7]),
      reasoningBins: config.get<number>('durian.reasoningBins', 12),
      minPromptsPerBin: config.get<number>('durian.minPromptsPerBin', 2),
      poolZeroVariance: config.get<boolean>('durian.poolZeroVariance', true),
      eps: config.get<number>('eps', 1e-6),
    };
  }
  return estimator === 'grpo' ? { eps: config.get<number>('eps', 1e-6) } : {};
}

/**
 * A training config from the settings: the estimator with its options, every `durian.training.*` value,
 * the backend and (in a trusted workspace only) a custom encoder. The trainer validates it and answers a
 * bad value with the field and its range before anything starts.
 */
export function trainingConfigFromSettings(estimator: string, trusted: boolean): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration('durian');
  const out: Record<string, unknown> = { estimator, estimatorOptions: estimatorOptionsFor(estimator) };
  for (const key of TRAINING_SETTINGS) {
    const value = config.get(`training.${key}`);
    if (value !== undefined && value !== null) out[key] = value;
  }
  out.backend = config.get<string>('backend', 'auto');
  const encoder = config.get<string>('encoderPath', '').trim();
  if (encoder && trusted) out.encoderPath = encoder;
  return out;
}
