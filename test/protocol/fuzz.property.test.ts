/**
 * Fuzzing the validators with fast-check: thousands of random, malformed, mutated and oversized values.
 * parseControl and parseEvent must never throw, must accept only what survives a JSON round trip, and
 * must reject a valid message with one wrong-typed field with an error naming exactly that field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { computeAdvantages } from '../../src/core/index.js';
import {
  CONTROL,
  ESTIMATOR_CHOICES,
  EVENT,
  LIVE_RANGES,
  type ParseResult,
  parseControl,
  parseEvent,
} from '../../src/protocol/index.js';
import { SAMPLE_CONTROLS, SAMPLE_EVENTS } from './samples.js';

const ALL_TYPES = [...Object.values(EVENT), ...Object.values(CONTROL)];
const ERROR_SHAPE = /^(message|type|[A-Za-z]+)((\.[A-Za-z_$][\w$]*)|(\[\d+\])|(\["[^"]*"\]))*: \S/;
const PARSERS: [string, (input: unknown) => ParseResult<unknown>][] = [
  ['parseControl', parseControl],
  ['parseEvent', parseEvent],
];

function checkResult(name: string, input: unknown, result: ParseResult<unknown>): void {
  assert.equal(typeof result.ok, 'boolean');
  if (result.ok) {
    // Whatever is accepted is plain JSON data that reads back the same.
    const copy = JSON.parse(JSON.stringify(result.value)) as unknown;
    assert.deepEqual(copy, result.value);
    const again = name === 'parseControl' ? parseControl(copy) : parseEvent(copy);
    assert.ok(again.ok);
  } else {
    assert.match(result.error, ERROR_SHAPE, `${name} error without a field: ${result.error}`);
  }
}

/** A random value with every odd thing fast-check knows (NaN, -0, sparse arrays, __proto__ keys, ...). */
const hostile = fc.anything({
  maxDepth: 6,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
});

/** Random fields around a real type, so the validators get past the type check. */
const typed = fc
  .tuple(fc.constantFrom(...ALL_TYPES), fc.dictionary(fc.constantFrom('controlId', 'step', 'changes', 'metrics', 'groups', 'promptId', 'weight', 'x', '__proto__'), hostile))
  .map(([type, fields]) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    out.type = type;
    return out;
  });

describe('validators under random input', () => {
  for (const [name, parse] of PARSERS) {
    it(`${name} never throws on arbitrary values`, () => {
      fc.assert(
        fc.property(hostile, (input) => {
          checkResult(name, input, parse(input));
        }),
        { numRuns: 3000 },
      );
    });

    it(`${name} never throws on random fields of a real type`, () => {
      fc.assert(
        fc.property(typed, (input) => {
          checkResult(name, input, parse(input));
        }),
        { numRuns: 3000 },
      );
    });

    it(`${name} never throws on random JSON text parsed as a message`, () => {
      fc.assert(
        fc.property(fc.json({ maxDepth: 8 }), (text) => {
          checkResult(name, JSON.parse(text), parse(JSON.parse(text)));
        }),
        { numRuns: 1000 },
      );
    });
  }
});

// ---- one wrong field in a valid message ----

type Segment = string | number;
interface Node {
  segments: Segment[];
  value: unknown;
}

const RECORD_FIELDS = new Set(['metrics', 'perLevel', 'summary']);

function display(root: string, segments: Segment[]): string {
  return segments.reduce<string>((out, segment) => {
    if (typeof segment === 'number') return `${out}[${segment}]`;
    return /^[A-Za-z_$][\w$]*$/.test(segment) ? `${out}.${segment}` : `${out}[${JSON.stringify(segment)}]`;
  }, root);
}

/** Every node of a sample except its `type` and the free-form config. */
function nodes(value: unknown, segments: Segment[] = []): Node[] {
  const out: Node[] = segments.length > 0 ? [{ segments, value }] : [];
  if (segments.length === 1 && (segments[0] === 'type' || segments[0] === 'config')) return [];
  if (Array.isArray(value)) value.forEach((entry, i) => out.push(...nodes(entry, [...segments, i])));
  else if (value !== null && typeof value === 'object') {
    for (const [key, entry] of Object.entries(value)) out.push(...nodes(entry, [...segments, key]));
  }
  return out;
}

/** Values that are wrong for a field currently holding `value`, whatever its range. */
function wrongFor(value: unknown): fc.Arbitrary<unknown> {
  if (typeof value === 'number') return fc.constantFrom(Number.NaN, Infinity, -Infinity, '1', null, true, {}, [1]);
  if (typeof value === 'string') return fc.constantFrom(1, null, false, {}, [], Number.NaN, 'x'.repeat(20_000));
  if (typeof value === 'boolean') return fc.constantFrom(0, 1, 'true', null, {});
  if (Array.isArray(value)) return fc.constantFrom({}, 'x', 3, null, true);
  return fc.constantFrom([], 'x', 3, null, false);
}

function withChange(sample: unknown, segments: Segment[], change: (parent: Record<Segment, unknown>, key: Segment) => void): unknown {
  const copy = structuredClone(sample) as Record<Segment, unknown>;
  let parent = copy;
  for (const segment of segments.slice(0, -1)) parent = parent[segment] as Record<Segment, unknown>;
  change(parent, segments[segments.length - 1]);
  return copy;
}

const samples: { root: string; sample: unknown; parse: (input: unknown) => ParseResult<unknown> }[] = [
  ...Object.entries(SAMPLE_EVENTS).map(([root, sample]) => ({ root, sample, parse: parseEvent })),
  ...Object.entries(SAMPLE_CONTROLS).map(([root, sample]) => ({ root, sample, parse: parseControl })),
];

const wrongTyped = fc
  .constantFrom(...samples)
  .chain(({ root, sample, parse }) =>
    fc.constantFrom(...nodes(sample)).chain((node) => fc.record({ wrong: wrongFor(node.value) }).map(({ wrong }) => ({ root, sample, parse, node, wrong }))),
  );

const unknownField = fc
  .constantFrom(...samples)
  .chain(({ root, sample, parse }) => {
    const objects = [{ segments: [] as Segment[], value: sample }, ...nodes(sample)].filter(
      (node) => node.value !== null && typeof node.value === 'object' && !Array.isArray(node.value),
    );
    return fc.record({
      node: fc.constantFrom(...objects),
      key: fc.constantFrom('extra', 'Lr', '__proto__', 'constructor', 'prototype', 'toString'),
    }).map(({ node, key }) => ({ root, sample, parse, node, key }));
  });

describe('a single wrong field is always caught and named', () => {
  it('rejects a wrong-typed, non-finite or oversized value at its path', () => {
    fc.assert(
      fc.property(wrongTyped, ({ root, sample, parse, node, wrong }) => {
        const input = withChange(sample, node.segments, (parent, key) => {
          parent[key] = wrong;
        });
        const result = parse(input);
        assert.equal(result.ok, false, `accepted ${display(root, node.segments)} = ${String(wrong)}`);
        assert.ok(
          (result as { error: string }).error.startsWith(`${display(root, node.segments)}: `),
          `expected the error to name ${display(root, node.segments)}, got: ${(result as { error: string }).error}`,
        );
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects an unknown field (or a forbidden key) by name', () => {
    fc.assert(
      fc.property(unknownField, ({ root, sample, parse, node, key }) => {
        const input = withChange(sample, [...node.segments, key], (parent, field) => {
          // defineProperty: assigning __proto__ would change the prototype instead of adding a key.
          Object.defineProperty(parent, field, { value: 'not a number', enumerable: true, writable: true, configurable: true });
        });
        const result = parse(input);
        assert.equal(result.ok, false, `accepted an extra ${key} at ${display(root, node.segments)}`);
        const path = display(root, [...node.segments, key]);
        assert.ok((result as { error: string }).error.startsWith(`${path}: `), `expected ${path}, got: ${(result as { error: string }).error}`);
        const last = node.segments[node.segments.length - 1];
        if (!RECORD_FIELDS.has(String(last))) assert.match((result as { error: string }).error, /is not a field here|forbidden key/);
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects any message over the size caps', () => {
    fc.assert(
      fc.property(fc.constantFrom(...samples), fc.integer({ min: 1, max: 4 }), ({ sample, parse }, copies) => {
        const padding = 'x'.repeat(parse === parseControl ? 64 * 1024 : 8 * 1024 * 1024);
        const input = { ...(sample as object), padding: Array.from({ length: copies }, () => padding) };
        const result = parse(input);
        assert.equal(result.ok, false);
        assert.match((result as { error: string }).error, /^message: is larger than/);
      }),
      { numRuns: 40 },
    );
  });
});

// ---- random valid messages are accepted ----

const range = (r: { min: number; max: number; integer?: boolean; exclusiveMin?: boolean }) =>
  r.integer
    ? fc.integer({ min: r.min, max: r.max })
    : fc.double({ min: r.min, max: r.max, noNaN: true, noDefaultInfinity: true }).filter((v) => !(r.exclusiveMin && v <= r.min));

const liveChanges = fc.record(
  {
    estimator: fc.constantFrom(...ESTIMATOR_CHOICES),
    durianWeights: fc.tuple(range(LIVE_RANGES.durianWeight), range(LIVE_RANGES.durianWeight), range(LIVE_RANGES.durianWeight)),
    reasoningBins: range(LIVE_RANGES.reasoningBins),
    minPromptsPerBin: range(LIVE_RANGES.minPromptsPerBin),
    eps: range(LIVE_RANGES.eps),
    poolZeroVariance: fc.boolean(),
    lr: range(LIVE_RANGES.lr),
    klBeta: range(LIVE_RANGES.klBeta),
    clipLow: range(LIVE_RANGES.clipLow),
    clipHigh: range(LIVE_RANGES.clipHigh),
    temperature: range(LIVE_RANGES.temperature),
    groupSize: range(LIVE_RANGES.groupSize),
    batchSize: range(LIVE_RANGES.batchSize),
  },
  { requiredKeys: [] },
).filter((changes) => Object.keys(changes).length > 0);

const controlIdArb = fc.stringMatching(/^[A-Za-z0-9._:#-]{1,40}$/);

describe('random valid messages are accepted unchanged', () => {
  it('setConfig with any in-range subset of settings', () => {
    fc.assert(
      fc.property(controlIdArb, liveChanges, (controlId, changes) => {
        const control = { type: CONTROL.setConfig, controlId, changes };
        const result = parseControl(JSON.parse(JSON.stringify(control)));
        assert.ok(result.ok, result.ok ? '' : result.error);
        assert.deepEqual(result.value, JSON.parse(JSON.stringify(control)));
      }),
      { numRuns: 1000 },
    );
  });

  it('step events with any metric names', () => {
    const name = fc.string({ minLength: 1, maxLength: 60 }).filter((n) => !['__proto__', 'constructor', 'prototype'].includes(n));
    fc.assert(
      fc.property(fc.dictionary(name, fc.double({ noNaN: true, noDefaultInfinity: true }), { maxKeys: 40, noNullPrototype: true }), fc.nat(1e9), (metrics, step) => {
        const event = { type: EVENT.step, step, totalSteps: 1e9, metrics, elapsedMs: 1 };
        const result = parseEvent(event);
        assert.ok(result.ok, result.ok ? '' : result.error);
        assert.deepEqual(result.value, event);
      }),
      { numRuns: 500 },
    );
  });
});

describe('live settings stay within what src/core accepts', () => {
  it('any valid durian setConfig runs in computeAdvantages', () => {
    const batch = { index: ['a', 'a', 'b', 'b', 'c', 'c'], scores: [0, 1, 1, 1, 0, 0.5], visualEntropy: [1, 1, 2, 2, 3, 3], logprob: [-1, -1, -2, -2, -3, -3] };
    fc.assert(
      fc.property(liveChanges, (changes) => {
        const parsed = parseControl({ type: CONTROL.setConfig, controlId: 'c', changes });
        assert.ok(parsed.ok);
        const live = (parsed.value as { changes: Record<string, unknown> }).changes;
        const options = {
          ...(live.durianWeights ? { weights: live.durianWeights } : {}),
          ...(live.reasoningBins !== undefined ? { reasoningBins: live.reasoningBins } : {}),
          ...(live.minPromptsPerBin !== undefined ? { minPromptsPerBin: live.minPromptsPerBin } : {}),
          ...(live.eps !== undefined ? { eps: live.eps } : {}),
          ...(live.poolZeroVariance !== undefined ? { poolZeroVariance: live.poolZeroVariance } : {}),
        };
        const result = computeAdvantages('durian', batch, options);
        assert.ok(Array.from(result.advantages).every(Number.isFinite));
        computeAdvantages(String(live.estimator ?? 'grpo'), batch);
      }),
      { numRuns: 500 },
    );
  });
});
