/**
 * How a training config names a user's dataset, shared by the trainer's `--config` reader and the extension's
 * Start Training: a config file (`--config`, a `*.durian.json`) may hold `dataset` (a path, relative to the
 * config file), `splitColumn`, `valFraction` and `reward`, each standing for the `durian train` flag of the
 * same meaning (--dataset, --split-column, --val-fraction, --reward). They are not session settings: they are
 * taken out of the config and passed as flags.
 */
import { DurianInputError } from '../core/errors.js';

/** Config keys naming a dataset, by the flag each stands for. */
export const DATASET_CONFIG_KEYS = { dataset: 'dataset', splitColumn: 'split-column', valFraction: 'val-fraction', reward: 'reward' } as const;

/** The dataset flags of `durian train`, as text (what parseArgs gives). */
export type DatasetFlags = { dataset?: string; 'split-column'?: string; 'val-fraction'?: string; reward?: string };

/** A config's dataset keys as flags (the dataset path as written), and the config without them. */
export function datasetKeysOfConfig(raw: Record<string, unknown>, where = 'config'): { config: Record<string, unknown>; flags: DatasetFlags } {
  const config = { ...raw };
  const flags: DatasetFlags = {};
  for (const [key, flag] of Object.entries(DATASET_CONFIG_KEYS) as [keyof typeof DATASET_CONFIG_KEYS, keyof DatasetFlags][]) {
    if (!Object.prototype.hasOwnProperty.call(config, key)) continue;
    const value = config[key];
    delete config[key];
    const ok = typeof value === 'string' || (key === 'valFraction' && typeof value === 'number');
    if (!ok) throw new DurianInputError(`${where}.${key}`, `must be ${key === 'valFraction' ? 'a number' : 'text'}, got ${JSON.stringify(value)}`);
    flags[flag] = String(value);
  }
  return { config, flags };
}

/** The flags as `durian train` arguments. */
export function datasetFlagArgs(flags: DatasetFlags): string[] {
  return (Object.keys(flags) as (keyof DatasetFlags)[]).flatMap((flag) => (flags[flag] === undefined ? [] : [`--${flag}`, flags[flag] as string]));
}
