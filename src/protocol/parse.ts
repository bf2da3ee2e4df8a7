/**
 * `parseEvent` and `parseControl`: the one place an incoming message is checked. They never throw and
 * never run long: the size is measured first (bounded, iterative), then the message's own schema runs,
 * and anything unexpected inside (a hostile getter, a Proxy) becomes an error result. Errors name the
 * field: `setConfig.changes.lr: must be a finite number > 0 and <= 1, got -1`, where the first segment is
 * the message kind (or `message` when the kind itself is unknown).
 */
import { CONTROL, CONTROL_SCHEMAS, type Control } from './controls.js';
import { EVENT, EVENT_SCHEMAS, type RolloutGroup, type TrainerEvent, rolloutGroup } from './events.js';
import { MAX_CONTROL_CHARS, MAX_DEPTH, MAX_EVENT_CHARS } from './limits.js';
import { type Check, FieldError, isPlainObject, measureJson } from './schema.js';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

interface Family {
  /** `event` or `control`, for messages. */
  noun: string;
  maxChars: number;
  kindOf: ReadonlyMap<string, string>;
  schemas: Record<string, Check<unknown>>;
}

function family(noun: string, maxChars: number, types: Record<string, string>, schemas: Record<string, Check<unknown>>): Family {
  return { noun, maxChars, kindOf: new Map(Object.entries(types).map(([kind, type]) => [type, kind])), schemas };
}

const EVENTS = family('event', MAX_EVENT_CHARS, EVENT, EVENT_SCHEMAS);
const CONTROLS = family('control', MAX_CONTROL_CHARS, CONTROL, CONTROL_SCHEMAS);

function parseWith<T>(input: unknown, messages: Family): ParseResult<T> {
  try {
    if (!isPlainObject(input)) {
      const got = Array.isArray(input) ? 'an array' : input === null ? 'null' : typeof input;
      return { ok: false, error: `message: must be an object with a "type", got ${got}` };
    }
    const size = measureJson(input, messages.maxChars, MAX_DEPTH);
    if ('tooLarge' in size) {
      return { ok: false, error: `message: is larger than the ${messages.maxChars} characters of JSON allowed for ${/^[aeiou]/.test(messages.noun) ? 'an' : 'a'} ${messages.noun}` };
    }
    if ('tooDeep' in size) return { ok: false, error: `message: is nested deeper than ${MAX_DEPTH} levels` };
    const type: unknown = input.type;
    const kind = typeof type === 'string' ? messages.kindOf.get(type) : undefined;
    if (kind === undefined) {
      const known = [...messages.kindOf.keys()].join(', ');
      const got = typeof type === 'string' ? JSON.stringify(type.slice(0, 80)) : String(type === null ? 'null' : typeof type);
      return { ok: false, error: `type: unknown ${messages.noun} type ${got} (known: ${known})` };
    }
    return { ok: true, value: messages.schemas[kind](input, kind) as T };
  } catch (error) {
    if (error instanceof FieldError) return { ok: false, error: error.message };
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, error: `message: could not be read (${reason.slice(0, 200)})` };
  }
}

/**
 * Checks a message of a webview contract: an object of at most `maxChars` characters of JSON whose `type`
 * names one of `schemas`. `direction` ends the errors (`... allowed from a webview`). Returns a fresh copy.
 */
export function parseTypedMessage<T>(input: unknown, schemas: Record<string, Check<unknown>>, maxChars: number, direction: string): ParseResult<T> {
  try {
    if (!isPlainObject(input)) {
      const got = Array.isArray(input) ? 'an array' : input === null ? 'null' : typeof input;
      return { ok: false, error: `message: must be an object with a "type", got ${got}` };
    }
    const size = measureJson(input, maxChars, MAX_DEPTH);
    if ('tooLarge' in size) return { ok: false, error: `message: is larger than the ${maxChars} characters of JSON allowed ${direction}` };
    if ('tooDeep' in size) return { ok: false, error: `message: is nested deeper than ${MAX_DEPTH} levels` };
    const type: unknown = input.type;
    if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(schemas, type)) {
      const got = typeof type === 'string' ? JSON.stringify(type.slice(0, 80)) : type === null ? 'null' : typeof type;
      return { ok: false, error: `type: unknown message type ${got} ${direction} (known: ${Object.keys(schemas).join(', ')})` };
    }
    return { ok: true, value: schemas[type](input, type) as T };
  } catch (error) {
    if (error instanceof FieldError) return { ok: false, error: error.message };
    return { ok: false, error: `message: could not be read (${describeThrown(error)})` };
  }
}

/** What was thrown, in at most 200 characters, even when it is a hostile object whose toString throws. */
export function describeThrown(error: unknown): string {
  try {
    return (error instanceof Error ? error.message : String(error)).slice(0, 200);
  } catch {
    return 'an unreadable error';
  }
}

/** Checks a trainer -> host event (at most MAX_EVENT_CHARS of JSON). Returns a fresh, typed copy. */
export function parseEvent(input: unknown): ParseResult<TrainerEvent> {
  return parseWith<TrainerEvent>(input, EVENTS);
}

/** Checks a host -> trainer control (at most MAX_CONTROL_CHARS of JSON). Returns a fresh, typed copy. */
export function parseControl(input: unknown): ParseResult<Control> {
  return parseWith<Control>(input, CONTROLS);
}

/** Checks one rollout group on its own (a line of `rollouts/step-N.jsonl`); errors start with `path`. */
export function parseRolloutGroup(input: unknown, path = 'group'): ParseResult<RolloutGroup> {
  try {
    const size = measureJson(input, MAX_EVENT_CHARS, MAX_DEPTH);
    if (!('size' in size)) return { ok: false, error: `${path}: is too large or too deeply nested` };
    return { ok: true, value: rolloutGroup(input, path) };
  } catch (error) {
    if (error instanceof FieldError) return { ok: false, error: error.message };
    return { ok: false, error: `${path}: could not be read (${String(error).slice(0, 200)})` };
  }
}
