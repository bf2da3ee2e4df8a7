/**
 * Declarative option schemas for the estimators: each option has a default, a check and a one-line
 * description (shown by `durian advantages --help` and the UI). Unknown options are rejected by name,
 * so a typo such as `reasoningBin` never silently falls back to a default.
 */
import { DurianInputError, describeValue } from './errors.js';

/** Bounds of a number: `min`/`max` inclusive unless `exclusiveMin`; `integer` for whole numbers. */
export interface NumberBounds {
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  integer?: boolean;
}

/** What values an option takes, for tables built from a schema (the settings table, help texts). */
export type OptionShape =
  | { kind: 'number'; range: NumberBounds }
  | { kind: 'boolean' }
  | { kind: 'choice'; choices: readonly string[] }
  | { kind: 'tuple'; names: readonly string[]; range: NumberBounds }
  | { kind: 'interval'; range: NumberBounds; nullable: boolean }
  | { kind: 'string' };

export interface OptionSpec<T> {
  description: string;
  default: T;
  /** The values it takes (absent for free-form options). */
  shape?: OptionShape;
  /** Returns the parsed value or throws DurianInputError at `where`. */
  parse(value: unknown, where: string): T;
}

export type OptionSchema<O> = { [K in keyof O]: OptionSpec<O[K]> };

export function parseOptions<O>(schema: OptionSchema<O>, raw: unknown, where: string, context: string): O {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new DurianInputError(where, `must be an object of options, got ${describeValue(raw)}`);
  }
  const given = raw as Record<string, unknown>;
  const known = Object.keys(schema);
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) {
      throw new DurianInputError(
        `${where}.${key}`,
        `is not an option of ${context} (known: ${known.length > 0 ? known.join(', ') : 'none'})`,
      );
    }
  }
  const out = {} as O;
  for (const key of known as (keyof O & string)[]) {
    const spec = schema[key];
    out[key] = given[key] === undefined ? spec.default : spec.parse(given[key], `${where}.${key}`);
  }
  return out;
}

/** The wording of bounds: `> 0 and <= 1`. */
export function describeBounds(range: NumberBounds): string {
  const low = range.min === undefined ? '' : `${range.exclusiveMin ? '>' : '>='} ${range.min}`;
  const high = range.max === undefined ? '' : `<= ${range.max}`;
  return [low, high].filter(Boolean).join(' and ');
}

/** `value` as a number within `range`, or a DurianInputError at `where` (`label` names a tuple's element). */
function boundedNumber(value: unknown, range: NumberBounds, where: string, label = ''): number {
  const kind = range.integer ? 'a whole number' : 'a finite number';
  if (typeof value !== 'number' || !Number.isFinite(value) || (range.integer && !Number.isInteger(value))) {
    throw new DurianInputError(where, `${label}must be ${kind}, got ${describeValue(value)}`);
  }
  const tooLow = range.min !== undefined && (range.exclusiveMin ? value <= range.min : value < range.min);
  if (tooLow || (range.max !== undefined && value > range.max)) {
    throw new DurianInputError(where, `${label}must be ${describeBounds(range)}, got ${value}`);
  }
  return value;
}

export function numberOption(description: string, defaultValue: number, range: NumberBounds): OptionSpec<number> {
  return {
    description,
    default: defaultValue,
    shape: { kind: 'number', range },
    parse: (value, where) => boundedNumber(value, range, where),
  };
}

export function booleanOption(description: string, defaultValue: boolean): OptionSpec<boolean> {
  return {
    description,
    default: defaultValue,
    shape: { kind: 'boolean' },
    parse(value, where) {
      if (typeof value !== 'boolean') throw new DurianInputError(where, `must be true or false, got ${describeValue(value)}`);
      return value;
    },
  };
}

export function choiceOption<T extends string>(description: string, defaultValue: T, choices: readonly T[]): OptionSpec<T> {
  return {
    description,
    default: defaultValue,
    shape: { kind: 'choice', choices },
    parse(value, where) {
      if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
        throw new DurianInputError(where, `must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}, got ${describeValue(value)}`);
      }
      return value as T;
    },
  };
}

/** A fixed-length tuple of numbers, each within `range`. */
export function tupleOption(
  description: string,
  defaultValue: number[],
  names: readonly string[],
  range: NumberBounds,
): OptionSpec<number[]> {
  return {
    description,
    default: defaultValue,
    shape: { kind: 'tuple', names, range },
    parse(value, where) {
      if (!Array.isArray(value) || value.length !== names.length) {
        throw new DurianInputError(where, `must be an array of ${names.length} numbers [${names.join(', ')}], got ${describeValue(value)}`);
      }
      return value.map((v: unknown, i) => boundedNumber(v, range, `${where}[${i}]`, `(${names[i]}) `));
    },
  };
}

/** Mean accuracies lie in [0, 1]. */
const BAND_RANGE: NumberBounds = { min: 0, max: 1 };

/** The band filter's [low, high] (or null for none). */
export const bandOption: OptionSpec<[number, number] | null> = {
  description:
    'Keep only groups whose mean accuracy lies in [low, high] (DAPO dynamic sampling / EasyR1 online filtering); null = keep all.',
  default: null,
  shape: { kind: 'interval', range: BAND_RANGE, nullable: true },
  parse(value, where) {
    if (value === null) return null;
    if (!Array.isArray(value) || value.length !== 2) {
      throw new DurianInputError(where, `must be [low, high] or null, got ${describeValue(value)}`);
    }
    const low = boundedNumber(value[0], BAND_RANGE, `${where}[0]`, '(low) ');
    const high = boundedNumber(value[1], BAND_RANGE, `${where}[1]`, '(high) ');
    if (low > high) throw new DurianInputError(where, `low (${low}) must not exceed high (${high})`);
    return [low, high];
  },
};
