/**
 * Declarative option schemas for the estimators: each option has a default, a check and a one-line
 * description (shown by `durian advantages --help` and the UI). Unknown options are rejected by name,
 * so a typo such as `reasoningBin` never silently falls back to a default.
 */
import { DurianInputError, describeValue } from './errors.js';

export interface OptionSpec<T> {
  description: string;
  default: T;
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

export function numberOption(
  description: string,
  defaultValue: number,
  range: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean },
): OptionSpec<number> {
  return {
    description,
    default: defaultValue,
    parse(value, where) {
      const kind = range.integer ? 'a whole number' : 'a finite number';
      if (typeof value !== 'number' || !Number.isFinite(value) || (range.integer && !Number.isInteger(value))) {
        throw new DurianInputError(where, `must be ${kind}, got ${describeValue(value)}`);
      }
      const tooLow = range.min !== undefined && (range.exclusiveMin ? value <= range.min : value < range.min);
      if (tooLow || (range.max !== undefined && value > range.max)) {
        const low = range.min === undefined ? '' : `${range.exclusiveMin ? '>' : '>='} ${range.min}`;
        const high = range.max === undefined ? '' : `<= ${range.max}`;
        throw new DurianInputError(where, `must be ${[low, high].filter(Boolean).join(' and ')}, got ${value}`);
      }
      return value;
    },
  };
}

export function booleanOption(description: string, defaultValue: boolean): OptionSpec<boolean> {
  return {
    description,
    default: defaultValue,
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
    parse(value, where) {
      if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
        throw new DurianInputError(where, `must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}, got ${describeValue(value)}`);
      }
      return value as T;
    },
  };
}

/** A fixed-length tuple of finite numbers, each >= min. */
export function tupleOption(
  description: string,
  defaultValue: number[],
  names: readonly string[],
  min: number,
): OptionSpec<number[]> {
  return {
    description,
    default: defaultValue,
    parse(value, where) {
      if (!Array.isArray(value) || value.length !== names.length) {
        throw new DurianInputError(where, `must be an array of ${names.length} numbers [${names.join(', ')}], got ${describeValue(value)}`);
      }
      return value.map((v: unknown, i) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw new DurianInputError(`${where}[${i}]`, `(${names[i]}) must be a finite number, got ${describeValue(v)}`);
        }
        if (v < min) throw new DurianInputError(`${where}[${i}]`, `(${names[i]}) must be >= ${min}, got ${v}`);
        return v;
      });
    },
  };
}

/** The band filter's [low, high] (or null for none). */
export const bandOption: OptionSpec<[number, number] | null> = {
  description:
    'Keep only groups whose mean accuracy lies in [low, high] (DAPO dynamic sampling / EasyR1 online filtering); null = keep all.',
  default: null,
  parse(value, where) {
    if (value === null) return null;
    if (!Array.isArray(value) || value.length !== 2) {
      throw new DurianInputError(where, `must be [low, high] or null, got ${describeValue(value)}`);
    }
    const [low, high] = value as unknown[];
    if (typeof low !== 'number' || typeof high !== 'number' || !Number.isFinite(low) || !Number.isFinite(high)) {
      throw new DurianInputError(where, `must hold two finite numbers, got [${describeValue(low)}, ${describeValue(high)}]`);
    }
    if (low > high) throw new DurianInputError(where, `low (${low}) must not exceed high (${high})`);
    return [low, high];
  },
};
