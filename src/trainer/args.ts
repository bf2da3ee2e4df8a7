/**
 * Command-line options of a training run, shared by `durian train` and the trainer process it starts
 * (the CLI checks them before spawning, the trainer reads the same ones).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DurianInputError } from '../core/index.js';
import { BACKEND_CHOICES, POLICY_KINDS, SUITE_CHOICES, settingNamed } from '../protocol/index.js';
import { type TrainConfig, parseTrainConfig } from './config.js';
import { type DatasetFlags, datasetKeysOfConfig } from '../protocol/datasetLaunch.js';
import { type DatasetSettings, datasetSettingsFromFlags } from './datasetTasksRun.js';
import { RunDirectory } from './run/runDirectory.js';

export interface TrainInvocation {
  config: TrainConfig;
  runsFolder: string;
  runName?: string;
  resumeDir?: string;
  /** With --resume: start again from step 0 when no checkpoint is intact (else the resume is refused). */
  fromScratch?: boolean;
  cacheDir: string;
  /** --dataset: train on a user's dataset (with the general policy) instead of the built-in tasks. */
  dataset?: DatasetSettings;
  /** --allow-changed-dataset: resume on a dataset whose content changed since the run started. */
  allowChangedDataset?: boolean;
}

const TRAIN_OPTIONS = {
  config: { type: 'string' },
  estimator: { type: 'string' },
  steps: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'string' },
  'from-scratch': { type: 'boolean' },
  backend: { type: 'string' },
  policy: { type: 'string' },
  suite: { type: 'string' },
  seed: { type: 'string' },
  'runs-folder': { type: 'string' },
  'cache-dir': { type: 'string' },
  dataset: { type: 'string' },
  'split-column': { type: 'string' },
  'val-fraction': { type: 'string' },
  reward: { type: 'string' },
  'allow-changed-dataset': { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

export const TRAIN_HELP = `durian train [--config FILE] [--estimator durian] [--steps N] [--out DIR] [--resume DIR] [--backend NAME] [--policy KIND] [--suite V] [--seed S]

  --config FILE     JSON training config (every field optional; fields, ranges and defaults: src/protocol/settings.ts)
  --estimator NAME  durian | grpo | dr_grpo | rloo | batch_std (overrides the config)
  --steps N         total RL steps (with --resume: continue up to N in total)
  --out DIR         the run directory to create (default runs/<date>-<estimator>-s<seed>)
  --resume DIR      continue the run in DIR from its latest checkpoint
  --from-scratch    with --resume, when no checkpoint is intact: start the run over from step 0 (deletes its history)
  --backend NAME    ${BACKEND_CHOICES.join(' | ')}
  --policy KIND     ${POLICY_KINDS.join(' | ')} (default ${String(settingNamed('policy')?.option.default)}; a resumed run keeps its own)
  --suite V         built-in task suite ${SUITE_CHOICES.join(' | ')} (default ${String(settingNamed('suite')?.option.default)}; a resumed run keeps its own)
  --seed S          seed of everything random
  --runs-folder F   where new runs go when --out is not given (default ./runs)
  --cache-dir D     base-policy and feature cache (default $DURIAN_CACHE_DIR or ~/.cache/durian-rl)
  --dataset FILE    train on your dataset (.json, .jsonl, .parquet rows of images, problem, answer) with the
                    general policy, instead of the built-in tasks
  --split-column C  with --dataset: the column naming each row's split (train / validation, val, test, ...)
  --val-fraction F  with --dataset and no split column: rows held out for validation, by seed and row id (0.1)
  --reward KIND     with --dataset: exact | numeric | boxed | choice | auto (default auto)
  --allow-changed-dataset  with --resume: go on although the run's dataset changed since it started

Ctrl+C stops after the current step with a checkpoint. A running run is steerable from anywhere: append controls
(JSON lines of src/protocol/controls.ts) to DIR/inbox.jsonl; each is acknowledged in DIR/interventions.jsonl.`;

/** The policy and suite of a run whose config.json names none (made before the setting existed). */
const LEGACY_POLICY_KIND = 'counting';
const LEGACY_SUITE = 'v1';

/**
 * A run's config.json as written, with the settings a run made before they existed trained on (whatever the
 * defaults are now): the counting policy and suite v1.
 */
export function withLegacyRunSettings(raw: Record<string, unknown>): Record<string, unknown> {
  return { ...raw, ...(raw.policy === undefined ? { policy: LEGACY_POLICY_KIND } : {}), ...(raw.suite === undefined ? { suite: LEGACY_SUITE } : {}) };
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DurianInputError(what, `cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DurianInputError(what, `${file} is not valid JSON: ${(error as Error).message}`);
  }
}

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw new DurianInputError(`--${name}`, `must be a whole number, got ${JSON.stringify(value)}`);
  return parsed;
}

export function parseTrainInvocation(argv: string[]): TrainInvocation & { help: boolean } {
  const { values } = parseArgs({ args: argv, options: TRAIN_OPTIONS, strict: true });
  if (values.help) return { help: true, config: parseTrainConfig({}), runsFolder: 'runs', cacheDir: '' };
  if (values.resume && values.out) throw new DurianInputError('--out', 'cannot be combined with --resume (the resumed run stays in its directory)');
  let raw: Record<string, unknown> = {};
  if (values['from-scratch'] && !values.resume) throw new DurianInputError('--from-scratch', 'only applies with --resume DIR');
  if (values.resume) {
    try {
      RunDirectory.checkIsRun(values.resume);
    } catch (error) {
      throw new DurianInputError('--resume', (error as Error).message);
    }
    raw = readJson(path.join(values.resume, 'config.json'), '--resume') as Record<string, unknown>;
    if (values.config) throw new DurianInputError('--config', 'cannot be combined with --resume (the run keeps its config.json)');
    // Runs made before the policy and suite settings existed trained the counting policy on suite v1.
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) raw = withLegacyRunSettings(raw);
    if (values.policy !== undefined && values.policy !== raw.policy) {
      throw new DurianInputError('--policy', `the run in ${values.resume} trains the ${JSON.stringify(raw.policy)} policy and a resume keeps it; drop --policy, or start a new run for ${JSON.stringify(values.policy)}`);
    }
    if (values.suite !== undefined && values.suite !== raw.suite) {
      throw new DurianInputError('--suite', `the run in ${values.resume} trains on suite ${JSON.stringify(raw.suite)} and a resume keeps it; drop --suite, or start a new run for ${JSON.stringify(values.suite)}`);
    }
  } else if (values.config) {
    raw = readJson(values.config, '--config') as Record<string, unknown>;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new DurianInputError('config', 'must be a JSON object');
  // A config file may name a dataset (dataset, splitColumn, valFraction, reward); the flags override it.
  let datasetFlags: DatasetFlags = {};
  if (values.config && !values.resume) {
    ({ config: raw, flags: datasetFlags } = datasetKeysOfConfig(raw));
    if (datasetFlags.dataset !== undefined) datasetFlags.dataset = path.resolve(path.dirname(values.config), datasetFlags.dataset);
  }
  const overrides: Record<string, unknown> = {};
  if (values.estimator !== undefined) {
    overrides.estimator = values.estimator;
    // Options belong to an estimator: switching estimator on the command line starts from its defaults.
    if (values.estimator !== raw.estimator) overrides.estimatorOptions = {};
  }
  if (values.steps !== undefined) overrides.steps = integer(values.steps, 'steps');
  if (values.seed !== undefined) overrides.seed = integer(values.seed, 'seed');
  if (values.backend !== undefined) overrides.backend = values.backend;
  if (values.policy !== undefined) overrides.policy = values.policy;
  if (values.suite !== undefined) overrides.suite = values.suite;
  const dataset = datasetSettingsFromFlags({ ...datasetFlags, ...values });
  if (dataset) {
    // A dataset's questions and answers are free text: only the general policy can learn them.
    const asked = values.policy ?? raw.policy;
    if (asked !== undefined && asked !== 'general') throw new DurianInputError('--policy', `a --dataset run trains the general policy (the ${JSON.stringify(asked)} policy knows only the built-in tasks); drop --policy or use --policy general`);
    overrides.policy = 'general';
    if (values.suite !== undefined) throw new DurianInputError('--suite', 'picks a version of the built-in tasks; a --dataset run trains on the dataset instead: drop --suite');
  }
  if (values['allow-changed-dataset'] && !values.resume) throw new DurianInputError('--allow-changed-dataset', 'only applies with --resume DIR');
  const config = parseTrainConfig({ ...raw, ...overrides });
  const out = values.out ? path.resolve(values.out) : undefined;
  return {
    help: false,
    config,
    runsFolder: out ? path.dirname(out) : path.resolve(values['runs-folder'] ?? 'runs'),
    runName: out ? path.basename(out) : undefined,
    resumeDir: values.resume ? path.resolve(values.resume) : undefined,
    ...(values['from-scratch'] ? { fromScratch: true } : {}),
    cacheDir: path.resolve(values['cache-dir'] ?? process.env.DURIAN_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'durian-rl')),
    ...(dataset ? { dataset } : {}),
    ...(values['allow-changed-dataset'] ? { allowChangedDataset: true } : {}),
  };
}
