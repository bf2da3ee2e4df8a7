/**
 * A tiny runtime-schema toolkit for the protocol: each `Check<T>` reads an untrusted value and returns
 * a fresh, typed copy, or throws `FieldError` naming the path of the first problem
 * (`setConfig.changes.lr: must be a finite number > 0 and <= 1, got -1`).
 *
 * The toolkit throws internally; `parseEvent`/`parseControl` catch and turn it into a result, so their
 * callers never see an exception. Every check is bounded: strings, arrays and records have caps, objects
 * must be plain (no class instances, no accessors needed), unknown fields are rejected by name, and keys
 * that could pollute a prototype (`__proto__`, `constructor`, `prototype`) are refused everywhere.
 */
import { describeValue } from '../core/errors.js';
import { describeBounds } from '../core/options.js';

/** The first problem found in a message, with its path (`groups.groups[2].rollouts[0].reward`). */
export class FieldError extends Error {
  readonly path: string;
  readonly problem: string;

  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'FieldError';
    this.path = path;
    this.problem = problem;
  }
}

export type Check<T> = (value: unknown, path: string) => T;
export type Checked<C> = C extends Check<infer T> ? T : never;

/** Keys refused in every object and record: copying them could change an object's prototype. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `path.key`, or `path["odd key"]` when the key is not an identifier (truncated for the message). */
export function childPath(path: string, key: string): string {
  if (IDENTIFIER.test(key) && key.length <= 64) return `${path}.${key}`;
  return `${path}[${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key)}]`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === 'object' && !isPlainObject(value)) return 'a non-plain object';
  return describeValue(value);
}

export interface NumberRange {
  min?: number;
  max?: number;
  /** `min` itself is not allowed (e.g. lr > 0). */
  exclusiveMin?: boolean;
  integer?: boolean;
}

/** The human wording of a range: `> 0 and <= 1` (src/core's wording, so both sides say the same). */
export const describeRange: (range: NumberRange) => string = describeBounds;

/** A finite number (never NaN or ±Infinity) within `range`. */
export function finite(range: NumberRange = {}): Check<number> {
  const kind = range.integer ? 'a whole number' : 'a finite number';
  const bounds = describeRange(range);
  const expected = bounds ? `${kind} ${bounds}` : kind;
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || (range.integer && !Number.isInteger(value))) {
      throw new FieldError(path, `must be ${expected}, got ${describe(value)}`);
    }
    const tooLow = range.min !== undefined && (range.exclusiveMin ? value <= range.min : value < range.min);
    if (tooLow || (range.max !== undefined && value > range.max)) {
      throw new FieldError(path, `must be ${expected}, got ${value}`);
    }
    return value;
  };
}

export interface StringRule {
  /** Most UTF-16 code units allowed. */
  max: number;
  min?: number;
  /** A pattern the whole string must match, with a wording for the error. */
  pattern?: { regex: RegExp; says: string };
}

export function text(rule: StringRule): Check<string> {
  const min = rule.min ?? 0;
  return (value, path) => {
    if (typeof value !== 'string') throw new FieldError(path, `must be a string, got ${describe(value)}`);
    if (value.length > rule.max) throw new FieldError(path, `must be at most ${rule.max} characters, got ${value.length}`);
    if (value.length < min) {
      throw new FieldError(path, min === 1 ? 'must not be empty' : `must be at least ${min} characters, got ${value.length}`);
    }
    if (rule.pattern && !rule.pattern.regex.test(value)) {
      throw new FieldError(path, `must be ${rule.pattern.says}, got ${describe(value)}`);
    }
    return value;
  };
}

export const bool: Check<boolean> = (value, path) => {
  if (typeof value !== 'boolean') throw new FieldError(path, `must be true or false, got ${describe(value)}`);
  return value;
};

export function oneOf<T extends string>(choices: readonly T[]): Check<T> {
  const list = choices.map((c) => JSON.stringify(c)).join(', ');
  return (value, path) => {
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      throw new FieldError(path, `must be one of ${list}, got ${describe(value)}`);
    }
    return value as T;
  };
}

export function arrayOf<T>(item: Check<T>, limits: { max: number; min?: number }): Check<T[]> {
  const min = limits.min ?? 0;
  return (value, path) => {
    if (!Array.isArray(value)) throw new FieldError(path, `must be an array, got ${describe(value)}`);
    if (value.length > limits.max) throw new FieldError(path, `must hold at most ${limits.max} entries, got ${value.length}`);
    if (value.length < min) throw new FieldError(path, `must hold at least ${min} entries, got ${value.length}`);
    const out = new Array<T>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = item(value[i], `${path}[${i}]`);
    return out;
  };
}

/** A fixed-length tuple of one item type (e.g. the three Durian weights). */
export function tuple<T>(item: Check<T>, names: readonly string[]): Check<T[]> {
  return (value, path) => {
    if (!Array.isArray(value) || value.length !== names.length) {
      throw new FieldError(path, `must be an array of ${names.length} [${names.join(', ')}], got ${describe(value)}`);
    }
    return value.map((entry: unknown, i) => item(entry, `${path}[${i}]`));
  };
}

function checkKey(key: string, path: string, maxKeyLength: number): void {
  if (FORBIDDEN_KEYS.has(key)) throw new FieldError(childPath(path, key), 'is a forbidden key');
  if (key.length > maxKeyLength) {
    throw new FieldError(childPath(path, key), `key must be at most ${maxKeyLength} characters, got ${key.length}`);
  }
}

/** `{name: value}` with free names (e.g. metric names); returns a copy. */
export function recordOf<T>(item: Check<T>, limits: { maxKeys: number; maxKeyLength: number }): Check<Record<string, T>> {
  return (value, path) => {
    if (!isPlainObject(value)) throw new FieldError(path, `must be an object, got ${describe(value)}`);
    const keys = Object.keys(value);
    if (keys.length > limits.maxKeys) throw new FieldError(path, `must hold at most ${limits.maxKeys} entries, got ${keys.length}`);
    // A plain object is safe: the keys that could reach a prototype were refused above.
    const out: Record<string, T> = {};
    for (const key of keys) {
      checkKey(key, path, limits.maxKeyLength);
      if (key.length === 0) throw new FieldError(childPath(path, key), 'key must not be empty');
      out[key] = item(value[key], childPath(path, key));
    }
    return out;
  };
}

type Shape = Record<string, Check<unknown>>;
type Optionalize<R extends Shape, O extends Shape> = { [K in keyof R]: Checked<R[K]> } & { [K in keyof O]?: Checked<O[K]> };

/**
 * A plain object with exactly these fields: `required` must be present, `optional` may be absent
 * (an optional field given as `undefined` counts as absent). Any other field is an error.
 */
export function object<R extends Shape, O extends Shape = Record<never, never>>(
  required: R,
  optional?: O,
): Check<Optionalize<R, O>> {
  const requiredKeys = Object.keys(required);
  const optionalKeys = optional ? Object.keys(optional) : [];
  const known = new Set([...requiredKeys, ...optionalKeys]);
  const knownList = [...known].join(', ');
  return (value, path) => {
    if (!isPlainObject(value)) throw new FieldError(path, `must be an object, got ${describe(value)}`);
    for (const key of Object.keys(value)) {
      if (!known.has(key)) {
        throw new FieldError(childPath(path, key), `is not a field here (known: ${knownList || 'none'})`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const key of requiredKeys) {
      if (!Object.prototype.hasOwnProperty.call(value, key) || value[key] === undefined) {
        throw new FieldError(childPath(path, key), 'is required');
      }
      out[key] = required[key](value[key], childPath(path, key));
    }
    for (const key of optionalKeys) {
      if (value[key] === undefined) continue;
      out[key] = (optional as O)[key](value[key], childPath(path, key));
    }
    return out as Optionalize<R, O>;
  };
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface JsonLimits {
  maxDepth: number;
  maxStringLength: number;
  maxKeyLength: number;
}

/** Free-form JSON data (e.g. the trainer config in `hello`), deep-copied with bounded depth. */
export function json(limits: JsonLimits): Check<JsonValue> {
  const visit = (value: unknown, path: string, depth: number): JsonValue => {
    if (value === null || typeof value === 'boolean') return value;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new FieldError(path, `must be a finite number, got ${describe(value)}`);
      return value;
    }
    if (typeof value === 'string') {
      if (value.length > limits.maxStringLength) {
        throw new FieldError(path, `must be at most ${limits.maxStringLength} characters, got ${value.length}`);
      }
      return value;
    }
    if (depth >= limits.maxDepth) throw new FieldError(path, `is nested deeper than ${limits.maxDepth} levels`);
    if (Array.isArray(value)) return value.map((entry: unknown, i) => visit(entry, `${path}[${i}]`, depth + 1));
    if (isPlainObject(value)) {
      const out: Record<string, JsonValue> = {};
      for (const key of Object.keys(value)) {
        checkKey(key, path, limits.maxKeyLength);
        out[key] = visit(value[key], childPath(path, key), depth + 1);
      }
      return out;
    }
    throw new FieldError(path, `must be JSON data, got ${describe(value)}`);
  };
  return (value, path) => visit(value, path, 0);
}

/** A free-form JSON object (not an array or a scalar). */
export function jsonObject(limits: JsonLimits): Check<Record<string, JsonValue>> {
  const anyJson = json(limits);
  return (value, path) => {
    if (!isPlainObject(value)) throw new FieldError(path, `must be an object, got ${describe(value)}`);
    return anyJson(value, path) as Record<string, JsonValue>;
  };
}

/**
 * The length of `value`'s JSON text, measured without building it, or the reason it cannot be measured
 * within `cap` characters and `maxDepth` levels. Iterative (no recursion), and it stops as soon as the
 * cap is passed, so a billion-entry array, a cycle or 100 000 levels of nesting cost almost nothing.
 * Non-JSON leaves (undefined, functions) count as `null`; the schema rejects them later by path.
 */
export function measureJson(value: unknown, cap: number, maxDepth: number): { size: number } | { tooLarge: true } | { tooDeep: true } {
  let size = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof current === 'string') {
      // A string's JSON is at least its length + 2 quotes; escapes only add.
      if (current.length + 2 > cap - size) return { tooLarge: true };
      size += JSON.stringify(current).length;
    } else if (typeof current === 'number') {
      size += Number.isFinite(current) ? String(current).length : 4;
    } else if (typeof current === 'boolean') {
      size += current ? 4 : 5;
    } else if (current !== null && typeof current === 'object') {
      if (depth >= maxDepth) return { tooDeep: true };
      if (Array.isArray(current)) {
        // Brackets, and at least one character plus a comma per entry.
        if (2 + Math.max(0, 2 * current.length - 1) > cap - size) return { tooLarge: true };
        size += 2 + Math.max(0, current.length - 1);
        for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], depth: depth + 1 });
      } else {
        const keys = Object.keys(current);
        if (2 + 5 * keys.length > cap - size) return { tooLarge: true };
        size += 2 + Math.max(0, keys.length - 1);
        for (const key of keys) {
          if (key.length + 3 > cap - size) return { tooLarge: true };
          size += JSON.stringify(key).length + 1;
          stack.push({ value: (current as Record<string, unknown>)[key], depth: depth + 1 });
        }
      }
    } else {
      size += 4;
    }
    if (size > cap) return { tooLarge: true };
  }
  return { size };
}
