/**
 * `durian study` options: parsing and validation (every error names its flag), and the grid they define:
 * one cell per (seed, G, estimator), plus Durian's sensitivity cells (weights and reasoning bins) at one
 * G. Every cell shares the same training config except estimator, G, seed and the one Durian option a
 * sensitivity cell varies.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DURIAN_DEFAULT_WEIGHTS, DurianInputError, ESTIMATORS, ESTIMATOR_NAMES } from '../../core/index.js';
import { BACKEND_CHOICES, type SessionSettings, requireReasoningBinsFilled } from '../../protocol/index.js';
import { type TrainConfig, parseTrainConfig } from '../../trainer/config.js';

export const STUDY_HELP = `durian study [--config FILE] [--estimators durian,grpo,dr_grpo,batch_std,rloo] [--seeds 5]
             [--group-sizes 2,4,8,16] [--steps N] [--out DIR] [options]

Runs a grid of real training runs (one per estimator x G x seed, plus Durian's sensitivity cells) and
writes DIR/report.md (plots in DIR/plots/*.svg) and DIR/results.json. Each cell is a run directory
DIR/runs/<estimator>-G<g>-s<seed>. Re-running the same command skips finished cells and resumes an
interrupted one from its checkpoint; Ctrl+C stops after the current step (Ctrl+C again kills the trainer).

  --config FILE            training config shared by every cell (as for durian train); its estimator,
                           groupSize and seed are set by the grid; estimatorOptions may hold only band
  --estimators LIST        estimators to compare (default durian,grpo,dr_grpo,batch_std,rloo)
  --seeds N|LIST           N seeds 1..N, or an explicit list such as 3,7 (default 5)
  --group-sizes LIST       rollouts per prompt G, each >= 2 (default 2,4,8,16)
  --steps N                RL steps per cell (default: the config's, else the trainer's)
  --batch-size B           prompts per step (default: the config's, else the trainer's)
  --validation-every N     validation interval (default: the config's, else steps/10 rounded up)
  --validation-size N      held-out validation prompts (default: the config's, else the trainer's)
  --backend NAME           ${BACKEND_CHOICES.join(' | ')} (default: the config's, else auto)
  --sensitivity on|off     Durian's weight and reasoning-bin sweep (default on; needs durian in --estimators)
  --sensitivity-g G        the G of the sweep (default 8 if among --group-sizes, else the largest)
  --sensitivity-weights L  weight triples a_ori,a_perc,a_reas separated by ';', or none
                           (default 0.1,0.2,0.7;1,0,0;0.2,0.3,0.5;0.1,0.7,0.2)
  --sensitivity-bins LIST  reasoning bins b, or none (default 4,12,16; each <= batch size / 2)
  --jobs N                 cells trained at once (default 1; each trainer's update runs on one thread,
                           so 2 on a 2-core machine can finish sooner; timings then share the CPU);
                           with --slurm: array tasks running at once (default: as Slurm schedules them)
  --out DIR                the study folder (default ./study)
  --cache-dir D            base-policy and feature cache (default $DURIAN_CACHE_DIR or ~/.cache/durian-rl)
  --report-only            rewrite report.md, results.json and the plots from DIR without training
  --slurm                  submit the unfinished cells as one Slurm array job (one task per cell) instead
                           of training here; each task rebuilds the report as it finishes; re-run to
                           submit what is neither finished nor still queued/running (see DIR/slurm/)
  --sbatch-arg ARG         an extra sbatch argument for --slurm, repeatable (e.g. --sbatch-arg=--time=4:00:00)
  --cell NAME              train one cell of the study in DIR (what each Slurm array task runs)
  --help                   this text

Cells whose settings (steps, config, grid) differ from those recorded in DIR/study.json are refused
with the differences named; use another --out for a different study.`;

const STUDY_OPTIONS = {
  config: { type: 'string' },
  estimators: { type: 'string' },
  seeds: { type: 'string' },
  'group-sizes': { type: 'string' },
  steps: { type: 'string' },
  'batch-size': { type: 'string' },
  'validation-every': { type: 'string' },
  'validation-size': { type: 'string' },
  backend: { type: 'string' },
  sensitivity: { type: 'string' },
  'sensitivity-g': { type: 'string' },
  'sensitivity-weights': { type: 'string' },
  'sensitivity-bins': { type: 'string' },
  out: { type: 'string' },
  jobs: { type: 'string' },
  'cache-dir': { type: 'string' },
  'report-only': { type: 'boolean' },
  slurm: { type: 'boolean' },
  'sbatch-arg': { type: 'string', multiple: true },
  cell: { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** Everything that defines a study's cells; stored in DIR/study.json and compared on every re-run. */
export interface StudySettings {
  estimators: string[];
  seeds: number[];
  groupSizes: number[];
  steps: number;
  sensitivity: { enabled: boolean; groupSize: number; weights: number[][]; reasoningBins: number[] };
  /** The training config every cell shares (estimator, groupSize, seed and estimatorOptions left out). */
  config: Omit<TrainConfig, 'estimator' | 'groupSize' | 'seed' | 'estimatorOptions'>;
  /** Estimator options every cell shares (only `band`). */
  commonEstimatorOptions: Record<string, unknown>;
}

export interface StudyInvocation {
  help: boolean;
  reportOnly: boolean;
  out: string;
  /** Cells trained at once (not part of the settings: it changes no result). */
  jobs: number;
  cacheDir?: string;
  /** Submit the cells to Slurm (extra sbatch arguments) instead of training them here. */
  slurm?: { sbatchArgs: string[]; concurrent: number };
  /** Train this one cell of the study recorded in `out` (a Slurm array task). */
  cell?: string;
  settings: StudySettings;
  /** Things worth telling the user (ignored config fields). */
  notes: string[];
}

export type Variant = { kind: 'main' } | { kind: 'weights'; weights: number[] } | { kind: 'bins'; reasoningBins: number };

export interface CellSpec {
  /** Run directory name under DIR/runs/. */
  name: string;
  estimator: string;
  groupSize: number;
  seed: number;
  variant: Variant;
  /** Arm = estimator (or Durian variant) independent of G and seed: `durian`, `durian-w1_0_0`, `durian-b4`. */
  arm: string;
  /** The cell's config file as given to the trainer (only the estimator options it sets; the trainer fills the rest). */
  raw: Record<string, unknown>;
  /** The same config parsed, with every default filled in (what the run's config.json holds). */
  config: TrainConfig;
}

const DEFAULT_SENSITIVITY_WEIGHTS = '0.1,0.2,0.7;1,0,0;0.2,0.3,0.5;0.1,0.7,0.2';
const DEFAULT_SENSITIVITY_BINS = '4,12,16';

const DURIAN_DEFAULTS = {
  weights: [...DURIAN_DEFAULT_WEIGHTS] as number[],
  reasoningBins: (ESTIMATORS.durian.options as unknown as Record<string, { default: unknown }>).reasoningBins.default as number,
};

function fail(flag: string, problem: string): never {
  throw new DurianInputError(flag, problem);
}

function wholeNumber(value: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const trimmed = value.trim();
  const parsed = /^[+]?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isInteger(parsed)) fail(flag, `must be a whole number, got ${JSON.stringify(value)}`);
  if (parsed < min || parsed > max) fail(flag, `must be between ${min} and ${max}, got ${parsed}`);
  return parsed;
}

function list(value: string, flag: string): string[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) fail(flag, `must be a comma-separated list without empty items, got ${JSON.stringify(value)}`);
  return items;
}

function noDuplicates<T>(items: T[], flag: string): T[] {
  const seen = new Set<string>();
  for (const item of items) {
    const key = JSON.stringify(item);
    if (seen.has(key)) fail(flag, `lists ${key} twice`);
    seen.add(key);
  }
  return items;
}

function parseNumberText(text: string, flag: string): number {
  const value = Number(text);
  if (text === '' || !Number.isFinite(value)) fail(flag, `${JSON.stringify(text)} is not a finite number`);
  return value;
}

/** "a,b,c;d,e,f" -> [[a,b,c],[d,e,f]]; "none" -> []. */
function parseWeightList(value: string, flag = '--sensitivity-weights'): number[][] {
  if (value.trim() === 'none') return [];
  const triples = value.split(';').map((t) => t.trim());
  return noDuplicates(
    triples.map((triple) => {
      const parts = triple.split(',').map((s) => s.trim());
      if (parts.length !== 3) fail(flag, `each entry must be three weights a_ori,a_perc,a_reas; ${JSON.stringify(triple)} has ${parts.length}`);
      const weights = parts.map((p) => parseNumberText(p, flag));
      if (weights.some((w) => w < 0)) fail(flag, `weights must be >= 0, got ${JSON.stringify(triple)}`);
      if (weights.every((w) => w === 0)) fail(flag, `weights ${JSON.stringify(triple)} are all 0 (every advantage would be 0)`);
      return weights;
    }),
    flag,
  );
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    fail('--config', `cannot read ${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    fail('--config', `${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('--config', `${file} must hold a JSON object`);
  return raw as Record<string, unknown>;
}

const FLAG_OF_FIELD: Record<string, string> = {
  steps: '--steps',
  batchSize: '--batch-size',
  validationEvery: '--validation-every',
  validationSize: '--validation-size',
  backend: '--backend',
  groupSize: '--group-sizes',
  'estimatorOptions.reasoningBins': '--sensitivity-bins',
  'estimatorOptions.weights': '--sensitivity-weights',
};

/**
 * parseTrainConfig, with errors about a value that came from a flag renamed to that flag. A cell of the b
 * sweep must fill its bins (a capped b would repeat a smaller one).
 */
function parseCellConfig(raw: Record<string, unknown>, fromFlags: Set<string>, binsMustFill: boolean): TrainConfig {
  try {
    const config = parseTrainConfig(raw);
    if (binsMustFill) requireReasoningBinsFilled(config as unknown as SessionSettings);
    return config;
  } catch (error) {
    if (error instanceof DurianInputError) {
      const field = error.where.replace(/^config\./, '');
      const flag = Object.entries(FLAG_OF_FIELD).find(([key]) => field === key || field.startsWith(`${key}[`))?.[1];
      const problem = error.message.slice(error.where.length + 2);
      if (flag && fromFlags.has(flag)) throw new DurianInputError(flag, problem);
      throw new DurianInputError(`--config (${error.where})`, problem);
    }
    throw error;
  }
}

export function parseStudyInvocation(argv: string[]): StudyInvocation {
  const { values, positionals } = parseArgs({ args: argv, options: STUDY_OPTIONS, strict: true, allowPositionals: true });
  if (positionals.length > 0) fail('durian study', `takes no positional arguments, got ${JSON.stringify(positionals[0])} (options start with --)`);
  const out = path.resolve(values.out ?? 'study');
  const cacheDir = values['cache-dir'] !== undefined ? path.resolve(values['cache-dir']) : undefined;
  const notes: string[] = [];
  const emptySettings = () => settingsFromConfig({}, [], [], [], 1, { enabled: false, groupSize: 2, weights: [], reasoningBins: [] }, new Set(), {});
  const jobs = values.jobs === undefined ? 1 : wholeNumber(values.jobs, '--jobs', 1, 64);
  if (values.help) return { help: true, reportOnly: false, out, jobs, cacheDir, settings: emptySettings(), notes };
  if (values['report-only']) {
    const extra = Object.keys(values).filter((k) => k !== 'report-only' && k !== 'out');
    if (extra.length > 0) fail('--report-only', `takes only --out (the settings come from DIR/study.json), got --${extra[0]}`);
    return { help: false, reportOnly: true, out, jobs, settings: emptySettings(), notes };
  }
  if (values.cell !== undefined) {
    const extra = Object.keys(values).filter((k) => !['cell', 'out', 'cache-dir'].includes(k));
    if (extra.length > 0) fail('--cell', `takes only --out and --cache-dir (the settings come from DIR/study.json), got --${extra[0]}`);
    if (!/^[A-Za-z0-9_.-]+$/.test(values.cell)) fail('--cell', `${JSON.stringify(values.cell)} is not a cell name (see DIR/configs/)`);
    return { help: false, reportOnly: false, out, jobs, cacheDir, cell: values.cell, settings: emptySettings(), notes };
  }
  if (values['sbatch-arg'] !== undefined && !values.slurm) fail('--sbatch-arg', 'is for --slurm only');

  const fromFlags = new Set<string>();
  const raw: Record<string, unknown> = values.config ? readConfigFile(values.config) : {};
  for (const key of ['estimator', 'groupSize', 'seed'] as const) {
    if (raw[key] !== undefined) {
      notes.push(`--config sets ${key} = ${JSON.stringify(raw[key])}; the study's grid sets it per cell instead`);
      delete raw[key];
    }
  }
  let commonEstimatorOptions: Record<string, unknown> = {};
  if (raw.estimatorOptions !== undefined) {
    const options = raw.estimatorOptions;
    if (options === null || typeof options !== 'object' || Array.isArray(options)) fail('--config (estimatorOptions)', 'must be an object');
    const own = Object.keys(options as object).filter((k) => k !== 'band');
    if (own.length > 0) {
      fail(
        '--config (estimatorOptions)',
        `holds ${own.map((k) => JSON.stringify(k)).join(', ')}, an option of one estimator; every cell shares the same config, so only band (common to all) is allowed. Durian's weights and reasoningBins are swept with --sensitivity-weights / --sensitivity-bins`,
      );
    }
    commonEstimatorOptions = { ...(options as Record<string, unknown>) };
    delete raw.estimatorOptions;
  }

  const estimators = values.estimators === undefined ? ['durian', 'grpo', 'dr_grpo', 'batch_std', 'rloo'] : noDuplicates(list(values.estimators, '--estimators'), '--estimators');
  for (const name of estimators) {
    if (!(ESTIMATOR_NAMES as string[]).includes(name)) fail('--estimators', `unknown estimator ${JSON.stringify(name)} (allowed: ${ESTIMATOR_NAMES.join(', ')})`);
  }
  let seeds: number[];
  const seedText = values.seeds ?? '5';
  if (/^\s*\d+\s*$/.test(seedText)) {
    const count = wholeNumber(seedText, '--seeds', 1, 1000);
    seeds = Array.from({ length: count }, (_, i) => i + 1);
  } else {
    seeds = noDuplicates(list(seedText, '--seeds').map((s) => wholeNumber(s, '--seeds', 0, 2 ** 31 - 1)), '--seeds');
  }
  const groupSizes = noDuplicates(
    list(values['group-sizes'] ?? '2,4,8,16', '--group-sizes').map((g) => {
      const value = wholeNumber(g, '--group-sizes', 1, 64);
      if (value < 2) fail('--group-sizes', `every G must be >= 2 (a group of one rollout has no baseline for the group estimators), got ${value}`);
      return value;
    }),
    '--group-sizes',
  );
  if (values['group-sizes'] !== undefined) fromFlags.add('--group-sizes');

  if (values.steps !== undefined) {
    raw.steps = wholeNumber(values.steps, '--steps', 1, 1_000_000);
    fromFlags.add('--steps');
  }
  const steps = (raw.steps as number | undefined) ?? parseTrainConfig({}).steps;
  if (values['batch-size'] !== undefined) {
    raw.batchSize = wholeNumber(values['batch-size'], '--batch-size', 1, 1024);
    fromFlags.add('--batch-size');
  }
  if (values['validation-every'] !== undefined) {
    raw.validationEvery = wholeNumber(values['validation-every'], '--validation-every', 1);
    fromFlags.add('--validation-every');
  } else if (raw.validationEvery === undefined && typeof steps === 'number') {
    raw.validationEvery = Math.max(1, Math.ceil(steps / 10));
  }
  if (values['validation-size'] !== undefined) {
    raw.validationSize = wholeNumber(values['validation-size'], '--validation-size', 1, 100_000);
    fromFlags.add('--validation-size');
  }
  if (values.backend !== undefined) {
    raw.backend = values.backend;
    fromFlags.add('--backend');
  }
  // Rollout files are for inspecting one run; a study reads metrics and validation only.
  if (raw.writeRollouts === undefined) raw.writeRollouts = false;

  const sensitivityText = values.sensitivity ?? 'on';
  if (sensitivityText !== 'on' && sensitivityText !== 'off') fail('--sensitivity', `must be on or off, got ${JSON.stringify(sensitivityText)}`);
  const enabled = sensitivityText === 'on';
  const sensitivityFlags = (['sensitivity-g', 'sensitivity-weights', 'sensitivity-bins'] as const).filter((k) => values[k] !== undefined);
  if (!enabled && sensitivityFlags.length > 0) fail(`--${sensitivityFlags[0]}`, 'has no effect with --sensitivity off');
  let sensitivityG = groupSizes.includes(8) ? 8 : Math.max(...groupSizes);
  if (values['sensitivity-g'] !== undefined) {
    sensitivityG = wholeNumber(values['sensitivity-g'], '--sensitivity-g', 2, 64);
    if (!groupSizes.includes(sensitivityG)) fail('--sensitivity-g', `must be one of --group-sizes (${groupSizes.join(', ')}) so that the sweep has its durian and grpo cells to compare with, got ${sensitivityG}`);
  }
  let weights: number[][] = [];
  let bins: number[] = [];
  if (enabled) {
    if (!estimators.includes('durian')) fail('--sensitivity', 'needs durian among --estimators (the sweep varies its options); add durian or pass --sensitivity off');
    weights = parseWeightList(values['sensitivity-weights'] ?? DEFAULT_SENSITIVITY_WEIGHTS);
    const binsText = values['sensitivity-bins'] ?? DEFAULT_SENSITIVITY_BINS;
    bins = binsText.trim() === 'none' ? [] : noDuplicates(list(binsText, '--sensitivity-bins').map((b) => wholeNumber(b, '--sensitivity-bins', 1, 4096)), '--sensitivity-bins');
    fromFlags.add('--sensitivity-bins');
    fromFlags.add('--sensitivity-weights');
  }
  const settings = settingsFromConfig(raw, estimators, seeds, groupSizes, steps, { enabled, groupSize: sensitivityG, weights, reasoningBins: bins }, fromFlags, commonEstimatorOptions);
  // Every cell's config is validated now, so that a bad value fails before the first run.
  studyCells(settings, fromFlags);
  const slurm = values.slurm ? { sbatchArgs: values['sbatch-arg'] ?? [], concurrent: values.jobs === undefined ? 0 : jobs } : undefined;
  return { help: false, reportOnly: false, out, jobs, cacheDir, slurm, settings, notes };
}

function settingsFromConfig(
  raw: Record<string, unknown>,
  estimators: string[],
  seeds: number[],
  groupSizes: number[],
  steps: number,
  sensitivity: StudySettings['sensitivity'],
  fromFlags: Set<string>,
  commonEstimatorOptions: Record<string, unknown>,
): StudySettings {
  const parsed = parseCellConfig({ ...raw, estimator: 'grpo', groupSize: 2, seed: 1, estimatorOptions: { ...commonEstimatorOptions } }, fromFlags, false);
  const { estimator: _e, groupSize: _g, seed: _s, estimatorOptions, ...config } = parsed;
  return { estimators, seeds, groupSizes, steps: config.steps, sensitivity, config, commonEstimatorOptions: estimatorOptions.band ? { band: estimatorOptions.band } : {} };
}

const SAME = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Run-directory-safe text of a number (no commas: `0.2`, `1`, `1e-7`). */
function numberLabel(value: number): string {
  return String(value).replace('+', '');
}

function armOf(estimator: string, variant: Variant): string {
  if (variant.kind === 'weights') return `${estimator}-w${variant.weights.map(numberLabel).join('_')}`;
  if (variant.kind === 'bins') return `${estimator}-b${variant.reasoningBins}`;
  return estimator;
}

export function armLabel(estimator: string, variant: Variant): string {
  if (variant.kind === 'weights') return `${estimator} w=(${variant.weights.join(', ')})`;
  if (variant.kind === 'bins') return `${estimator} b=${variant.reasoningBins}`;
  return estimator;
}

/** The sensitivity variants that differ from Durian's defaults (the default point is the main durian cell). */
export function sensitivityVariants(settings: StudySettings): Variant[] {
  if (!settings.sensitivity.enabled) return [];
  return [
    ...settings.sensitivity.weights.filter((w) => !SAME(w, DURIAN_DEFAULTS.weights)).map((weights): Variant => ({ kind: 'weights', weights })),
    ...settings.sensitivity.reasoningBins.filter((b) => b !== DURIAN_DEFAULTS.reasoningBins).map((reasoningBins): Variant => ({ kind: 'bins', reasoningBins })),
  ];
}

export function durianDefaults(): { weights: number[]; reasoningBins: number } {
  return { weights: [...DURIAN_DEFAULTS.weights], reasoningBins: DURIAN_DEFAULTS.reasoningBins };
}

/**
 * The cells in run order: seed by seed (so an interrupted study holds whole seeds for the paired tests),
 * within a seed every G and estimator, then the sensitivity cells of that seed.
 */
export function studyCells(settings: StudySettings, fromFlags: Set<string> = new Set()): CellSpec[] {
  const cells: CellSpec[] = [];
  const make = (estimator: string, groupSize: number, seed: number, variant: Variant): CellSpec => {
    const options: Record<string, unknown> = { ...settings.commonEstimatorOptions };
    if (variant.kind === 'weights') options.weights = variant.weights;
    if (variant.kind === 'bins') options.reasoningBins = variant.reasoningBins;
    const raw = { ...settings.config, estimator, groupSize, seed, estimatorOptions: options };
    const config = parseCellConfig(raw, fromFlags, variant.kind === 'bins');
    const arm = armOf(estimator, variant);
    return { name: `${arm}-G${groupSize}-s${seed}`, estimator, groupSize, seed, variant, arm, raw, config };
  };
  const variants = sensitivityVariants(settings);
  for (const seed of settings.seeds) {
    for (const groupSize of settings.groupSizes) {
      for (const estimator of settings.estimators) cells.push(make(estimator, groupSize, seed, { kind: 'main' }));
    }
    for (const variant of variants) cells.push(make('durian', settings.sensitivity.groupSize, seed, variant));
  }
  return cells;
}

/** Canonical JSON (sorted keys) for comparing settings and configs. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/** Human-readable differences between two settings objects (`steps: 300 -> 200`), flattened by path. */
export function settingsDifferences(before: unknown, after: unknown, prefix = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => settingsDifferences(before[key], after[key], prefix ? `${prefix}.${key}` : key));
  }
  if (canonicalJson(before) === canonicalJson(after)) return [];
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 120));
  return [`${prefix || '(settings)'}: ${show(before)} in the study, ${show(after)} now`];
}
