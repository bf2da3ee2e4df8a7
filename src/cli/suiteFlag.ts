/**
 * `--suite v1|v2` of the commands that draw built-in tasks without a run (export-tasks, proxy): the version of
 * the built-in suite (src/trainer/tasks, README "Version 2"), from the protocol's list of suite choices.
 */
import { DurianInputError } from '../core/index.js';
import { SUITE_CHOICES, type SuiteChoice } from '../protocol/index.js';

/** The suite a command line names; `fallback` when it names none. */
export function suiteFlag(value: string | undefined, fallback: SuiteChoice = 'v1'): SuiteChoice {
  if (value === undefined) return fallback;
  if (!(SUITE_CHOICES as readonly string[]).includes(value)) throw new DurianInputError('--suite', `must be one of ${SUITE_CHOICES.join(', ')}, got ${JSON.stringify(value)}`);
  return value as SuiteChoice;
}
