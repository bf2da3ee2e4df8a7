/**
 * The run-folder schemas under schemas/ (JSON Schema draft 2020-12) and a minimal validator for them, shared
 * by the tests that check what a trainer writes (test/unit/schemas.test.ts, test/reliability/inbox.test.ts).
 *
 * The validator covers exactly the JSON Schema keywords schemas/ uses and refuses any other keyword, so a
 * schema cannot silently rely on something unchecked (python/tests validates the same files with
 * python3-jsonschema, a full draft 2020-12 implementation).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const schemasDir = path.join(root, 'schemas');

export type Schema = Record<string, unknown>;
export const schemas = new Map<string, Schema>();
for (const name of readdirSync(schemasDir).filter((n) => n.endsWith('.schema.json'))) {
  schemas.set(name, JSON.parse(readFileSync(path.join(schemasDir, name), 'utf8')) as Schema);
}

// ---- a minimal JSON Schema validator (the keywords schemas/ uses) ----

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', '$defs']);
const KEYWORDS = new Set([
  '$ref', 'type', 'const', 'enum', 'oneOf', 'properties', 'required', 'additionalProperties', 'minProperties',
  'items', 'minItems', 'maxItems', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function resolveRef(ref: string, file: string): { schema: Schema; file: string } {
  const [target, pointer = ''] = ref.split('#');
  const targetFile = target === '' ? file : target;
  let schema = schemas.get(targetFile);
  assert.ok(schema, `$ref ${ref} in ${file}: no schema file ${targetFile}`);
  for (const part of pointer.split('/').filter(Boolean)) schema = (schema as Record<string, Schema>)[part];
  assert.ok(schema, `$ref ${ref} in ${file} names nothing`);
  return { schema, file: targetFile };
}

/** The problems of `value` under `schema` (empty: valid), each `path: problem`. */
function validate(value: unknown, schema: Schema, file: string, at = '$'): string[] {
  for (const key of Object.keys(schema)) {
    if (!KEYWORDS.has(key) && !ANNOTATIONS.has(key)) throw new Error(`${file}: keyword ${key} is not supported by this test's validator`);
  }
  const problems: string[] = [];
  const fail = (problem: string) => problems.push(`${at}: ${problem}`);
  if (typeof schema.$ref === 'string') {
    const target = resolveRef(schema.$ref, file);
    problems.push(...validate(value, target.schema, target.file, at));
  }
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const allowed = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!allowed.includes(actual) && !(actual === 'integer' && allowed.includes('number'))) return [...problems, `${at}: must be ${allowed.join(' or ')}, got ${actual}`];
  }
  if ('const' in schema && JSON.stringify(value) !== JSON.stringify(schema.const)) fail(`must be ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.some((choice) => JSON.stringify(choice) === JSON.stringify(value))) fail(`must be one of ${JSON.stringify(schema.enum)}`);
  if (Array.isArray(schema.oneOf)) {
    const matching = (schema.oneOf as Schema[]).filter((option) => validate(value, option, file, at).length === 0).length;
    if (matching !== 1) fail(`must match exactly one of ${schema.oneOf.length} alternatives, matches ${matching}`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) fail(`must be >= ${schema.minimum}`);
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) fail(`must be > ${schema.exclusiveMinimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) fail(`must be <= ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (typeof schema.minLength === 'number' && length < schema.minLength) fail(`must have >= ${schema.minLength} characters`);
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) fail(`must have <= ${schema.maxLength} characters`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) fail(`must match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) fail(`must have >= ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) fail(`must have <= ${schema.maxItems} items`);
    if (schema.items) value.forEach((item, i) => problems.push(...validate(item, schema.items as Schema, file, `${at}[${i}]`)));
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) if (!(key in object)) fail(`misses the required field ${key}`);
    if (typeof schema.minProperties === 'number' && Object.keys(object).length < schema.minProperties) fail(`must have >= ${schema.minProperties} fields`);
    for (const [key, item] of Object.entries(object)) {
      if (properties[key]) problems.push(...validate(item, properties[key], file, `${at}.${key}`));
      else if (schema.additionalProperties === false) fail(`has the undeclared field ${key}`);
      else if (typeof schema.additionalProperties === 'object') problems.push(...validate(item, schema.additionalProperties as Schema, file, `${at}.${key}`));
    }
  }
  return problems;
}

export function problemsOf(value: unknown, file: string): string[] {
  const schema = schemas.get(file);
  assert.ok(schema, `schemas/${file} exists`);
  return validate(value, schema, file);
}

export function assertValid(value: unknown, file: string, what: string): void {
  const problems = problemsOf(value, file);
  assert.deepEqual(problems, [], `${what} does not match schemas/${file}:\n${problems.slice(0, 5).join('\n')}`);
}
