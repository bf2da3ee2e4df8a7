/**
 * The JSON Lines form of the maths, shared by `durian advantages` and the extension's command:
 * one batch object per line in, one result object (or `{"error": "line N: ..."}`) out. Never throws.
 */
import { DurianInputError } from './errors.js';
import { type AdvantageResult, ESTIMATOR_NAMES, computeAdvantages } from './estimators/registry.js';

/** The output line of one batch: advantages first, then whatever the estimator explains. */
function resultToJson(result: AdvantageResult): Record<string, unknown> {
  const components = Object.keys(result.perSequence).length > 0
    ? { components: Object.fromEntries(Object.entries(result.perSequence).map(([key, values]) => [key, Array.from(values)])) }
    : {};
  return {
    advantages: Array.from(result.advantages),
    estimator: result.estimator,
    kept: result.kept,
    groups: result.groups,
    ...components,
    ...result.explanation,
  };
}

/** Computes one input line; never throws. */
export function advantagesForLine(
  line: string,
  lineNumber: number,
  defaults: { estimator?: string; options?: Record<string, unknown> } = {},
): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    return { error: `line ${lineNumber}: invalid JSON (${(error as Error).message})` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { error: `line ${lineNumber}: expected a JSON object {"estimator", "index", "scores", ...}` };
  }
  const { estimator: named, options: given, ...batch } = parsed as Record<string, unknown>;
  const estimator = named ?? defaults.estimator;
  // Default options belong to the default estimator: a line naming another estimator gets that one's defaults.
  const options = given ?? (named === undefined || named === defaults.estimator ? defaults.options : undefined);
  try {
    if (estimator === undefined) throw new DurianInputError('estimator', `is missing (known: ${ESTIMATOR_NAMES.join(', ')})`);
    return resultToJson(computeAdvantages(estimator as string, batch as never, options));
  } catch (error) {
    if (error instanceof DurianInputError) return { error: `line ${lineNumber}: ${error.message}` };
    return { error: `line ${lineNumber}: internal error: ${(error as Error).message}` };
  }
}

