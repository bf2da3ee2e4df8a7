/**
 * The check of a training session's settings, shared by the trainer (before it starts) and the extension
 * (before it launches one): every value within its range from the settings table, the estimator's options
 * by the estimator's own schema, and the settings that conflict with each other. Errors name the field
 * (`config.groupSize`) and what is allowed.
 */
import { effectiveReasoningBins } from '../core/difficulty/binning.js';
import { DurianInputError, describeValue } from '../core/errors.js';
import { validateEstimatorOptions } from '../core/estimators/registry.js';
import { type OptionSchema, type OptionSpec, parseOptions } from '../core/options.js';
import { CONFIG_SETTINGS } from './settings.js';

/** A checked session: every config field of the table, with defaults, and the estimator's options. */
export type SessionSettings = Record<string, unknown> & {
  estimator: string;
  algorithm: string;
  batchSize: number;
  groupSize: number;
  estimatorOptions: Record<string, unknown>;
};

const schema = Object.fromEntries(CONFIG_SETTINGS.map((setting) => [setting.name, setting.option])) as OptionSchema<Record<string, unknown>>;

/** Defaults that differ per algorithm: DAPO uses clip-higher and drops all-same groups (dynamic sampling). */
const ALGORITHM_DEFAULTS = new Map<unknown, { config: Record<string, unknown>; estimatorOptions: Record<string, unknown> }>([
  ['dapo', { config: { clipHigh: 0.28 }, estimatorOptions: { band: [0.01, 0.99] } }],
]);

/**
 * Validates a raw training config (from a file, the CLI or the extension) against the settings table and
 * fills the defaults; throws DurianInputError at `where.<field>` for the first problem.
 */
export function parseSessionSettings(raw: unknown, where = 'config'): SessionSettings {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new DurianInputError(where, `must be a JSON object, got ${describeValue(raw)}`);
  const { estimatorOptions: rawOptions, ...rest } = raw as Record<string, unknown>;
  const algorithmDefaults = ALGORITHM_DEFAULTS.get(rest.algorithm ?? (schema.algorithm as OptionSpec<unknown>).default);
  const config = parseOptions(schema, { ...algorithmDefaults?.config, ...rest }, where, 'the training config') as SessionSettings;
  const given = rawOptions === undefined || rawOptions === null ? {} : rawOptions;
  const withDefaults = typeof given === 'object' && !Array.isArray(given) ? { ...algorithmDefaults?.estimatorOptions, ...given } : given;
  const options = validateEstimatorOptions(config.estimator, withDefaults, `${where}.estimatorOptions`);
  const { band, ...own } = options;
  const estimatorOptions = band === null || band === undefined ? own : { ...own, band };
  const session = { ...config, estimatorOptions };
  checkConflicts(session, where);
  return session;
}

/** Settings whose values are each in range but cannot go together. */
function checkConflicts(session: SessionSettings, where: string): void {
  if (session.estimator === 'durian') {
    const minPerBin = session.estimatorOptions.minPromptsPerBin as number;
    if (session.batchSize < minPerBin) {
      throw new DurianInputError(
        `${where}.batchSize`,
        `must be >= estimatorOptions.minPromptsPerBin (${minPerBin}) so that a reasoning bin can be filled, got ${session.batchSize}`,
      );
    }
  }
}

/** Durian's reasoning bins of a full step: b capped so that each bin holds at least minPromptsPerBin prompts. */
function reasoningBinsInUse(session: SessionSettings): { requested: number; used: number } | undefined {
  if (session.estimator !== 'durian') return undefined;
  const requested = session.estimatorOptions.reasoningBins as number;
  const used = effectiveReasoningBins(session.batchSize, requested, session.estimatorOptions.minPromptsPerBin as number, (session.estimatorOptions.maxPromptsPerBin as number | undefined) ?? 0);
  return { requested, used };
}

/**
 * Refuses reasoning bins a full step cannot fill, for callers where a capped b would silently repeat a
 * smaller one (e.g. `durian study`'s sweep over b).
 */
export function requireReasoningBinsFilled(session: SessionSettings, where = 'config'): void {
  const bins = reasoningBinsInUse(session);
  if (!bins || bins.used >= bins.requested) return;
  const minPerBin = session.estimatorOptions.minPromptsPerBin as number;
  throw new DurianInputError(
    `${where}.estimatorOptions.reasoningBins`,
    `${bins.requested} bins need at least ${bins.requested * minPerBin} prompts per batch at minPromptsPerBin ${minPerBin}, but batchSize is ${session.batchSize} (allowed: 1..${bins.used})`,
  );
}

/** What a session applies differently from what was asked, in words (logged when training starts). */
export function sessionNotes(session: SessionSettings): string[] {
  const notes: string[] = [];
  const bins = reasoningBinsInUse(session);
  if (bins && bins.used !== bins.requested) {
    const minPerBin = session.estimatorOptions.minPromptsPerBin as number;
    notes.push(`durian uses ${bins.used} reasoning bins, not the ${bins.requested} of estimatorOptions.reasoningBins: ${session.batchSize} prompts per step fill at most ${bins.used} bins of minPromptsPerBin ${minPerBin}`);
  }
  const miniBatchSize = session.miniBatchSize;
  if (typeof miniBatchSize === 'number' && miniBatchSize > session.batchSize) {
    notes.push(`miniBatchSize ${miniBatchSize} is more than the ${session.batchSize} prompts per step: each PPO epoch updates on the whole batch in one optimiser step`);
  }
  return notes;
}
