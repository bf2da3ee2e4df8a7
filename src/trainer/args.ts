/**
 * Command-line options of a training run, shared by `durian train` and the trainer process it starts
 * (the CLI checks them before spawning, the trainer reads the same ones).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DurianInputError } from '../core/index.js';
import { BACKEND_CHOICES } from '../protocol/index.js';
import { type TrainConfig, parseTrainConfig } from './config.js';
import { RunDirectory } from './run/runDirectory.js';

export interface TrainInvocation {
  config: TrainConfig;
  runsFolder: string;
  runName?: string;
  resumeDir?: string;
  /** With --resume: start again from step 0 when no checkpoint is intact (else the resume is refused). */
  fromScratch?: boolean;
  cacheDir: string;
}

const TRAIN_OPTIONS = {
  config: { type: 'string' },
  estimator: { type: 'string' },
  steps: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'string' },
  'from-scratch': { type: 'boolean' },
  backend: { type: 'string' },
  seed: { type: 'string' },
  'runs-folder': { type: 'string' },
  'cache-dir': { type: 'string' },
  help: { type: 'boolean' },
} as const;

export const TRAIN_HELP = `durian train [--config FILE] [--estimator durian] [--steps N] [--out DIR] [--resume DIR] [--backend NAME] [--seed S]

  --config FILE     JSON training config (every field optional; fields, ranges and defaults: src/protocol/settings.ts)
  --estimator NAME  durian | grpo | dr_grpo | rloo | batch_std (overrides the config)
  --steps N         total RL steps (with --resume: continue up to N in total)
  --out DIR         the run directory to create (default runs/<date>-<estimator>-s<seed>)
  --resume DIR      continue the run in DIR from its latest checkpoint
  --from-scratch    with --resume, when no checkpoint is intact: start the run over from step 0 (deletes its history)
  --backend NAME    ${BACKEND_CHOICES.join(' | ')}
  --seed S          seed of everything random
  --runs-folder F   where new runs go when --out is not given (default ./runs)
  --cache-dir D     base-policy and feature cache (default $DURIAN_CACHE_DIR or ~/.cache/durian-rl)

Ctrl+C stops after the current step with a checkpoint. A running run is steerable from anywhere: append controls
(JSON lines of src/protocol/controls.ts) to DIR/inbox.jsonl; each is acknowledged in DIR/interventions.jsonl.`;

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
  } else if (values.config) {
    raw = readJson(values.config, '--config') as Record<string, unknown>;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new DurianInputError('config', 'must be a JSON object');
  const overrides: Record<string, unknown> = {};
  if (values.estimator !== undefined) {
    overrides.estimator = values.estimator;
    // Options belong to an estimator: switching estimator on the command line starts from its defaults.
    if (values.estimator !== raw.estimator) overrides.estimatorOptions = {};
  }
  if (values.steps !== undefined) overrides.steps = integer(values.steps, 'steps');
  if (values.seed !== undefined) overrides.seed = integer(values.seed, 'seed');
  if (values.backend !== undefined) overrides.backend = values.backend;
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
  };
}
