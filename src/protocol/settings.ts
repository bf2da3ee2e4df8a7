/**
 * The one table of tunable settings. For each: its name (the training config's field, or the estimator
 * option's name: one name everywhere), the values it takes and its default (a src/core option spec, which
 * also checks a value), what it means, what it feeds (a config field or the options of some estimators),
 * whether it can change while training runs (its `LiveConfig` key) and its VS Code setting.
 *
 * Derived from it: the trainer's config schema (src/trainer/config.ts), the live-config ranges
 * (`LIVE_RANGES`), the session check shared by the trainer and the extension (sessionConfig.ts) and
 * package.json's `contributes.configuration` (`vscodeConfiguration`, checked equal by
 * test/protocol/settings.test.ts). Estimator options take their range, default and meaning from the
 * estimator's own schema in src/core.
 */
import { ESTIMATORS, ESTIMATOR_NAMES, type EstimatorName } from '../core/estimators/registry.js';
import { DurianInputError, describeValue } from '../core/errors.js';
import { type NumberBounds, type OptionShape, type OptionSpec, bandOption, booleanOption, choiceOption, numberOption } from '../core/options.js';

/** The trainer's tfjs backends, in the order `auto` tries them. */
export const BACKEND_NAMES = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
/** What the `backend` setting accepts. */
export const BACKEND_CHOICES = ['auto', ...BACKEND_NAMES] as const;

/** The policy kinds the trainer registers (src/trainer/policy/kinds.ts; test/trainer/policy/kinds.test.ts checks both agree). */
export const POLICY_KINDS = ['counting', 'general'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

/** Versions of the built-in task suite (src/trainer/tasks/types.ts takes its list from here). */
export const SUITE_CHOICES = ['v1', 'v2'] as const;
export type SuiteChoice = (typeof SUITE_CHOICES)[number];
const POLICY_DESCRIPTIONS: Record<PolicyKind, string> = {
  counting: 'The hand-wired counting policy: splits the question at plus/minus/than and reads counts with a count pointer (it knows the built-in tasks; its recipe: examples/counting-policy.durian.json).',
  general: 'The default: a small transformer decoder over the image patches and the question tokens, with no task knowledge wired in.',
};

export interface SettingSpec {
  /** The config field or estimator option it is (`batchSize`, `reasoningBins`). */
  name: string;
  /** Where it goes in a training config: a top-level field or `estimatorOptions.<name>`. */
  feeds: 'config' | 'estimatorOptions';
  /** For estimator options: the estimators that take it. */
  estimators?: readonly EstimatorName[];
  /** Default, values (shape) and check: a src/core option spec. */
  option: OptionSpec<unknown>;
  /** Its key in `LiveConfig` when it can change while training runs. */
  live?: string;
  /** Its VS Code setting. */
  vscode?: {
    key: string;
    /** What the setting adds to the description (e.g. how it interacts with others). */
    note?: string;
    enumDescriptions?: readonly string[];
  };
}

type Extra = Pick<SettingSpec, 'live' | 'vscode'>;

const whole = (min: number, max: number): NumberBounds => ({ min, max, integer: true });

function config(name: string, option: OptionSpec<unknown>, extra: Extra = {}): SettingSpec {
  return { name, feeds: 'config', option, ...extra };
}

/** An estimator option, read from the first estimator's own schema (the others must agree: tested). */
function estimatorOption(name: string, estimators: readonly EstimatorName[], extra: Extra = {}): SettingSpec {
  const option = (ESTIMATORS[estimators[0]].options as Record<string, OptionSpec<unknown>>)[name];
  if (!option) throw new Error(`estimator ${estimators[0]} has no option ${name}`);
  return { name, feeds: 'estimatorOptions', estimators, option, ...extra };
}

/** A file path: a string of at most 4096 characters without NUL. */
function pathOption(description: string): OptionSpec<unknown> {
  return {
    description,
    default: '',
    shape: { kind: 'string' },
    parse(value, where) {
      if (typeof value !== 'string' || value.length > 4096 || value.includes('\0')) {
        throw new DurianInputError(where, `must be a file path, got ${describeValue(value)}`);
      }
      return value;
    },
  };
}

const training = (name: string, note?: string): Extra['vscode'] => ({ key: `durian.training.${name}`, ...(note ? { note } : {}) });

/** Every tunable setting, in the order the VS Code settings list shows them. */
export const SETTINGS: readonly SettingSpec[] = [
  config('estimator', choiceOption('Advantage estimator of a new run.', 'durian', ESTIMATOR_NAMES), {
    live: 'estimator',
    vscode: {
      key: 'durian.estimator',
      note: 'Durian: Start Training offers it first; Compute Advantages uses it (with the options below) for lines that name no estimator.',
      enumDescriptions: ESTIMATOR_NAMES.map((name) => ESTIMATORS[name].summary),
    },
  }),
  estimatorOption('weights', ['durian'], {
    live: 'durianWeights',
    vscode: { key: 'durian.durian.weights', note: "The paper's best: 0.1, 0.2, 0.7." },
  }),
  estimatorOption('reasoningBins', ['durian'], {
    live: 'reasoningBins',
    vscode: {
      key: 'durian.durian.reasoningBins',
      note: 'Capped so that every bin holds at least `minPromptsPerBin` prompts of a step: the default 128 prompts per step fill 12 bins with 10-11 prompts each, while 16 prompts per step at 2 per bin use at most 8 bins (the trainer logs the bins it uses).',
    },
  }),
  estimatorOption('minPromptsPerBin', ['durian'], { live: 'minPromptsPerBin', vscode: { key: 'durian.durian.minPromptsPerBin' } }),
  estimatorOption('maxPromptsPerBin', ['durian'], { vscode: { key: 'durian.durian.maxPromptsPerBin' } }),
  estimatorOption('poolZeroVariance', ['durian'], { live: 'poolZeroVariance', vscode: { key: 'durian.durian.poolZeroVariance' } }),
  estimatorOption('eps', ['durian', 'grpo'], { live: 'eps', vscode: { key: 'durian.eps', note: "verl's 1e-6." } }),
  estimatorOption('confidence', ['durian']),
  { name: 'band', feeds: 'estimatorOptions', estimators: ESTIMATOR_NAMES, option: bandOption as OptionSpec<unknown> },
  config('seed', numberOption('Seed of everything random; a fixed seed reproduces a run bit for bit on the same backend.', 1, whole(0, 2 ** 31 - 1)), { vscode: training('seed') }),
  config('steps', numberOption('Total RL steps (one batch of prompts x rollouts and one update each).', 80, whole(1, 1_000_000)), { vscode: training('steps') }),
  config('batchSize', numberOption('Prompts per step (B).', 128, whole(1, 1024)), { live: 'batchSize', vscode: training('batchSize') }),
  config('groupSize', numberOption('Rollouts per prompt (G).', 8, whole(2, 64)), { live: 'groupSize', vscode: training('groupSize') }),
  config('miniBatchSize', numberOption('Prompts per mini-batch of the update: each PPO epoch shuffles the prompt groups and makes ceil(prompts / miniBatchSize) optimiser steps, a group\'s rollouts staying together (0, or more than batchSize: the whole batch in one step). The paper: 512 prompts a step in mini-batches of 128.', 16, whole(0, 1024)), {
    vscode: training('miniBatchSize'),
  }),
  config('algorithm', choiceOption('Policy objective: grpo (symmetric clip, KL to the base policy) or dapo (clip-higher 0.28, token-mean loss, dynamic sampling with band [0.01, 0.99]).', 'grpo', ['grpo', 'dapo']), {
    vscode: training('algorithm'),
  }),
  config('lr', numberOption('Adam learning rate of the RL updates (peak of the schedule).', 3e-4, { min: 0, exclusiveMin: true, max: 1 }), { live: 'lr', vscode: training('lr') }),
  config('lrSchedule', choiceOption('Learning-rate schedule: cosine decays lr to lr * minLrRatio by the last step; constant keeps it.', 'cosine', ['constant', 'cosine'])),
  config('minLrRatio', numberOption('Final lr as a fraction of lr under the cosine schedule.', 0.1, { min: 0, max: 1 })),
  config('lrWarmupSteps', numberOption('Linear lr warm-up over the first N steps (0: none).', 0, whole(0, 1_000_000))),
  config('klBeta', numberOption('KL coefficient beta (k3 estimator, to the base policy).', 0.01, { min: 0, max: 10 }), { live: 'klBeta', vscode: training('klBeta') }),
  config('clipLow', numberOption('PPO ratio clip below 1 (eps_low).', 0.2, { min: 0, max: 1 }), { live: 'clipLow', vscode: training('clipLow') }),
  config('clipHigh', numberOption('PPO ratio clip above 1 (eps_high; DAPO clip-higher, whose default is 0.28).', 0.2, { min: 0, max: 1 }), { live: 'clipHigh', vscode: training('clipHigh') }),
  config('temperature', numberOption('Sampling temperature of rollouts.', 1, { min: 0, exclusiveMin: true, max: 10 }), { live: 'temperature', vscode: training('temperature') }),
  config('ppoEpochs', numberOption('Optimisation passes over each batch (PPO epochs).', 2, whole(1, 16)), { vscode: training('ppoEpochs') }),
  config('maxGradNorm', numberOption('Global gradient-norm clip.', 1, { min: 0, exclusiveMin: true, max: 1e6 })),
  config('validationEvery', numberOption('Validate on the held-out set every N steps (and at the start and end).', 10, whole(1, 1_000_000)), { vscode: training('validationEvery') }),
  config('validationSize', numberOption('Held-out validation prompts.', 512, whole(1, 100_000)), { vscode: training('validationSize') }),
  config('trainSize', numberOption('Training prompts in the pool the batches are drawn from.', 16384, whole(1, 1_000_000)), { vscode: training('trainSize') }),
  config('checkpointEvery', numberOption('Checkpoint every N steps (and at the end or on stop).', 20, whole(1, 1_000_000)), { vscode: training('checkpointEvery') }),
  config('keepCheckpoints', numberOption('Checkpoints kept on disk.', 3, whole(1, 1000))),
  config('writeRollouts', booleanOption("Write every step's rollout groups to rollouts/ and their images to images/.", true)),
  config('rolloutsEvery', numberOption("Keep every N-th step's rollout groups (and their images) in rollouts/, plus the last step and any step intervened on; every step still streams live.", 10, whole(1, 1_000_000))),
  config('policy', choiceOption('Policy model of a new run: general (a small transformer decoder that learns the tasks from data) or counting (hand-wired, knows the built-in tasks). A resumed run keeps its own.', 'general', POLICY_KINDS), {
    vscode: { key: 'durian.training.policy', enumDescriptions: POLICY_KINDS.map((kind) => POLICY_DESCRIPTIONS[kind]) },
  }),
  config('suite', choiceOption('Built-in task suite of a new run: v1 (the original) or v2 (objects share patches, confusable decoy hues, occlusion; more reasoning steps). A resumed run keeps its own.', 'v1', SUITE_CHOICES), {
    vscode: training('suite'),
  }),
  config('warmupSteps', numberOption('Most supervised warm-up steps of the base policy (built once and cached by its settings).', 1000, whole(0, 100_000)), { vscode: training('warmupSteps') }),
  config('backend', choiceOption('tfjs backend of the trainer: auto tries tfjs-node-gpu, tfjs-node, wasm, then cpu, and takes the first that loads and passes a self-check.', 'auto', BACKEND_CHOICES), {
    vscode: { key: 'durian.backend', note: 'The chosen backend shows in the status bar and the dashboard.' },
  }),
  config('encoderPath', pathOption('ONNX vision encoder for perceptual difficulty; empty: the bundled encoder.'), {
    vscode: { key: 'durian.encoderPath', note: 'Ignored in untrusted workspaces.' },
  }),
];

/** VS Code settings of the extension itself (not training settings). */
const EXTENSION_SETTINGS = {
  'durian.runsFolder': {
    type: 'string',
    default: '',
    markdownDescription: 'Folder that holds training runs (one sub-folder per run). Empty: `runs/` in the first workspace folder, or ~/.durian/runs without a workspace.',
  },
} as const;

const byName = new Map(SETTINGS.map((setting) => [setting.name, setting]));

/** The setting of this name (a config field or an estimator option). */
export function settingNamed(name: string): SettingSpec | undefined {
  return byName.get(name);
}

export const CONFIG_SETTINGS = SETTINGS.filter((setting) => setting.feeds === 'config');

/** A number setting's bounds (min and max always given for the live settings). */
export type LiveRange = NumberBounds & { readonly min: number; readonly max: number };

function boundsOf(name: string): LiveRange {
  const shape = settingNamed(name)?.option.shape;
  const range = shape?.kind === 'number' || shape?.kind === 'tuple' ? shape.range : undefined;
  if (!range || range.min === undefined || range.max === undefined) throw new Error(`setting ${name} has no bounded number range`);
  return range as LiveRange;
}

/** The ranges of the live-tunable numbers (see `LiveConfig`), from the table. */
export const LIVE_RANGES = {
  lr: boundsOf('lr'),
  klBeta: boundsOf('klBeta'),
  clipLow: boundsOf('clipLow'),
  clipHigh: boundsOf('clipHigh'),
  temperature: boundsOf('temperature'),
  groupSize: boundsOf('groupSize'),
  batchSize: boundsOf('batchSize'),
  reasoningBins: boundsOf('reasoningBins'),
  minPromptsPerBin: boundsOf('minPromptsPerBin'),
  eps: boundsOf('eps'),
  /** Each of the three Durian weights [a_ori, a_perc, a_reas]. */
  durianWeight: boundsOf('weights'),
} as const;

/** The default of a setting, by name. */
export function defaultOf(name: string): unknown {
  const setting = settingNamed(name);
  if (!setting) throw new Error(`no setting ${name}`);
  return setting.option.default;
}

type JsonSchema = Record<string, unknown>;

function schemaOf(shape: OptionShape | undefined): JsonSchema {
  switch (shape?.kind) {
    case 'number': {
      const { min, max, exclusiveMin, integer } = shape.range;
      return {
        type: integer ? 'integer' : 'number',
        ...(min === undefined ? {} : exclusiveMin ? { exclusiveMinimum: min } : { minimum: min }),
        ...(max === undefined ? {} : { maximum: max }),
      };
    }
    case 'boolean':
      return { type: 'boolean' };
    case 'choice':
      return { type: 'string', enum: [...shape.choices] };
    case 'tuple':
      return { type: 'array', items: schemaOf({ kind: 'number', range: shape.range }), minItems: shape.names.length, maxItems: shape.names.length };
    case 'interval': {
      const pair = { type: 'array', minItems: 2, maxItems: 2, items: schemaOf({ kind: 'number', range: shape.range }) };
      return shape.nullable ? { oneOf: [{ type: 'null' }, pair] } : pair;
    }
    default:
      return { type: 'string' };
  }
}

/**
 * The settings' fields of schemas/config.schema.json (the top-level ones and those of `estimatorOptions`), as
 * the table defines them; scripts/settings-manifest.ts writes them there and test/unit/schemas.test.ts fails on drift.
 */
export function runConfigSchemaFields(): { config: Record<string, JsonSchema>; estimatorOptions: Record<string, JsonSchema> } {
  const fields = { config: {} as Record<string, JsonSchema>, estimatorOptions: {} as Record<string, JsonSchema> };
  for (const setting of SETTINGS) fields[setting.feeds][setting.name] = { ...schemaOf(setting.option.shape), description: setting.option.description };
  return fields;
}

/** package.json's `contributes.configuration`, as the table defines it. */
export function vscodeConfiguration(): { title: string; properties: Record<string, JsonSchema> } {
  const properties: Record<string, JsonSchema> = { ...EXTENSION_SETTINGS };
  for (const setting of SETTINGS) {
    if (!setting.vscode) continue;
    const { key, note, enumDescriptions } = setting.vscode;
    properties[key] = {
      ...schemaOf(setting.option.shape),
      default: setting.option.default,
      markdownDescription: note ? `${setting.option.description} ${note}` : setting.option.description,
      ...(enumDescriptions ? { enumDescriptions: [...enumDescriptions] } : {}),
    };
  }
  return { title: 'Durian RL', properties };
}
