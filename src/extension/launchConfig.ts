/**
 * The training config the extension launches, from the VS Code settings, without VS Code: it holds only the
 * settings the user set (any scope, language-specific ones included), so that with no settings changed the
 * extension starts exactly the CLI's default session (`durian train`). The trainer fills every default from
 * the settings table. `validateLaunchConfig` runs the trainer's own session check before launch and names
 * the VS Code setting at fault.
 */
import { DurianInputError } from '../core/errors.js';
import { type SettingSpec, SETTINGS, parseSessionSettings } from '../protocol/index.js';

/** What `WorkspaceConfiguration.inspect(key)` returns, in the parts read here. */
export interface InspectedSetting {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
  globalLanguageValue?: unknown;
  workspaceLanguageValue?: unknown;
  workspaceFolderLanguageValue?: unknown;
}

/** Inspects a full setting key (`durian.training.batchSize`), as `getConfiguration().inspect(key)` does. */
export type SettingsInspector = (key: string) => InspectedSetting | undefined;

/** The value the user set for a setting, most specific scope first; undefined when only the default applies. */
export function userValue(inspected: InspectedSetting | undefined): unknown {
  if (!inspected) return undefined;
  const scopes = [
    inspected.workspaceFolderLanguageValue,
    inspected.workspaceLanguageValue,
    inspected.globalLanguageValue,
    inspected.workspaceFolderValue,
    inspected.workspaceValue,
    inspected.globalValue,
  ];
  // `null` is how the settings used to say "the trainer's default".
  return scopes.find((value) => value !== undefined && value !== null);
}

/** Settings the extension passes to the trainer: those with a VS Code key, except the estimator (picked at start). */
const LAUNCHED = SETTINGS.filter((setting) => setting.vscode && setting.name !== 'estimator');

/**
 * The config to launch with `estimator`: every training setting and `estimator`'s options that the user
 * set. The encoder path only in a trusted workspace.
 */
export function launchConfigFromSettings(inspect: SettingsInspector, estimator: string, trusted: boolean): Record<string, unknown> {
  const config: Record<string, unknown> = { estimator };
  const estimatorOptions: Record<string, unknown> = {};
  for (const setting of LAUNCHED) {
    let value = userValue(inspect((setting.vscode as { key: string }).key));
    if (value === undefined) continue;
    if (setting.name === 'encoderPath') {
      value = typeof value === 'string' ? value.trim() : value;
      if (!trusted || value === '') continue;
    }
    if (setting.feeds === 'config') config[setting.name] = value;
    else if ((setting.estimators as readonly string[]).includes(estimator)) estimatorOptions[setting.name] = value;
  }
  config.estimatorOptions = estimatorOptions;
  return config;
}

/** Why a launch config would be refused: the message and, when a VS Code setting is at fault, its key. */
export interface LaunchProblem {
  /** The VS Code setting to open (`durian.training.groupSize`), when the problem is one. */
  setting?: string;
  /** One line: the setting (or config field), what is wrong and what is allowed. */
  message: string;
}

/** The table's setting behind a config path (`config.estimatorOptions.weights[0]` -> weights). */
function settingAt(where: string): SettingSpec | undefined {
  const match = /^config\.(?:estimatorOptions\.)?([A-Za-z]+)/.exec(where);
  return match ? SETTINGS.find((setting) => setting.name === match[1]) : undefined;
}

/**
 * Checks a config before launch with the trainer's own session check (ranges from the settings table,
 * the estimator's options, conflicting settings). Undefined when the trainer will accept it.
 */
export function validateLaunchConfig(config: Record<string, unknown>): LaunchProblem | undefined {
  try {
    parseSessionSettings(config, 'config');
    return undefined;
  } catch (error) {
    if (!(error instanceof DurianInputError)) throw error;
    const key = settingAt(error.where)?.vscode?.key;
    if (!key) return { message: error.message };
    const problem = error.message.slice(error.where.length + 2);
    const index = /^config\.(?:estimatorOptions\.)?[A-Za-z]+(.*)$/.exec(error.where)?.[1] ?? '';
    return { setting: key, message: `${key}${index}: ${problem}` };
  }
}
