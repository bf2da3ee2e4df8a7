/** Every message kind round-trips, and the validators name the field and the problem. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CONTROL,
  CONTROL_KINDS,
  EVENT,
  EVENT_KINDS,
  LIVE_CONFIG_KEYS,
  LineDecoder,
  MAX_CONTROL_CHARS,
  PROTOCOL_VERSION,
  controlKindOf,
  encodeLine,
  groupsEvents,
  isSupportedProtocolVersion,
  parseControl,
  parseEvent,
  parseRolloutGroup,
  splitFiniteMetrics,
} from '../../src/protocol/index.js';
import { SAMPLE_CONTROLS, SAMPLE_EVENTS, sampleGroup } from './samples.js';

function rejected(result: { ok: boolean; error?: string }): string {
  assert.equal(result.ok, false, 'expected a rejection');
  return (result as { error: string }).error;
}

describe('round trips', () => {
  it('has a sample for every event and control kind', () => {
    assert.deepEqual(Object.keys(SAMPLE_EVENTS).sort(), [...EVENT_KINDS].sort());
    assert.deepEqual(Object.keys(SAMPLE_CONTROLS).sort(), [...CONTROL_KINDS].sort());
    assert.deepEqual(Object.keys(SAMPLE_CONTROLS.setConfig.changes).sort(), [...LIVE_CONFIG_KEYS].sort());
  });

  for (const kind of EVENT_KINDS) {
    it(`event ${EVENT[kind]} survives encodeLine -> LineDecoder -> parseEvent`, () => {
      const decoder = new LineDecoder({ parse: parseEvent });
      const lines = decoder.push(encodeLine(SAMPLE_EVENTS[kind]));
      assert.equal(lines.length, 1);
      assert.ok(lines[0].ok, lines[0].ok ? '' : lines[0].error);
      assert.deepEqual(lines[0].value, SAMPLE_EVENTS[kind]);
      assert.notEqual(lines[0].value, SAMPLE_EVENTS[kind]);
    });
  }

  for (const kind of CONTROL_KINDS) {
    it(`control ${CONTROL[kind]} survives encodeLine -> LineDecoder -> parseControl`, () => {
      const decoder = new LineDecoder({ parse: parseControl });
      const lines = decoder.push(encodeLine(SAMPLE_CONTROLS[kind]));
      assert.equal(lines.length, 1);
      assert.ok(lines[0].ok, lines[0].ok ? '' : lines[0].error);
      assert.deepEqual(lines[0].value, SAMPLE_CONTROLS[kind]);
      assert.equal(controlKindOf(SAMPLE_CONTROLS[kind]), kind);
    });
  }

  it('parses objects directly too (Node IPC delivers them parsed) and returns a copy', () => {
    const input = structuredClone(SAMPLE_EVENTS.groups);
    const result = parseEvent(input);
    assert.ok(result.ok);
    assert.deepEqual(result.value, input);
    input.groups[0].rollouts[0].reward = 42;
    assert.equal((result.value as typeof input).groups[0].rollouts[0].reward, 1);
  });

  it('treats optional fields given as undefined as absent', () => {
    const result = parseEvent({ ...SAMPLE_EVENTS.hello, resumedFromStep: undefined });
    assert.ok(result.ok);
    assert.equal('resumedFromStep' in result.value, false);
  });

  it('checks one rollout group alone (run directory lines)', () => {
    assert.deepEqual(parseRolloutGroup(sampleGroup()), { ok: true, value: sampleGroup() });
    assert.equal(rejected(parseRolloutGroup({ ...sampleGroup(), weight: -1 }, 'line 3')), 'line 3.weight: must be a finite number >= 0 and <= 100, got -1');
  });

  it('knows its version', () => {
    assert.equal(Number.isInteger(PROTOCOL_VERSION), true);
    assert.equal(isSupportedProtocolVersion(PROTOCOL_VERSION), true);
    assert.equal(isSupportedProtocolVersion(PROTOCOL_VERSION + 1), false);
  });
});

describe('error messages name the field and the problem', () => {
  const setConfig = (changes: unknown) => parseControl({ type: CONTROL.setConfig, controlId: 'c1', changes });

  it('reports ranges of the live settings', () => {
    assert.equal(rejected(setConfig({ lr: -1 })), 'setConfig.changes.lr: must be a finite number > 0 and <= 1, got -1');
    assert.equal(rejected(setConfig({ lr: 0 })), 'setConfig.changes.lr: must be a finite number > 0 and <= 1, got 0');
    assert.equal(rejected(setConfig({ klBeta: 11 })), 'setConfig.changes.klBeta: must be a finite number >= 0 and <= 10, got 11');
    assert.equal(rejected(setConfig({ clipHigh: 1.5 })), 'setConfig.changes.clipHigh: must be a finite number >= 0 and <= 1, got 1.5');
    assert.equal(rejected(setConfig({ temperature: 0 })), 'setConfig.changes.temperature: must be a finite number > 0 and <= 10, got 0');
    assert.equal(rejected(setConfig({ groupSize: 1 })), 'setConfig.changes.groupSize: must be a whole number >= 2 and <= 64, got 1');
    assert.equal(rejected(setConfig({ groupSize: 8.5 })), 'setConfig.changes.groupSize: must be a whole number >= 2 and <= 64, got 8.5');
    assert.equal(rejected(setConfig({ batchSize: 1025 })), 'setConfig.changes.batchSize: must be a whole number >= 1 and <= 1024, got 1025');
    assert.equal(rejected(setConfig({ reasoningBins: 0 })), 'setConfig.changes.reasoningBins: must be a whole number >= 1 and <= 4096, got 0');
  });

  it('reports NaN, Infinity and wrong types', () => {
    assert.equal(rejected(setConfig({ lr: Number.NaN })), 'setConfig.changes.lr: must be a finite number > 0 and <= 1, got NaN');
    assert.equal(rejected(setConfig({ klBeta: Infinity })), 'setConfig.changes.klBeta: must be a finite number >= 0 and <= 10, got Infinity');
    assert.equal(rejected(setConfig({ lr: '0.1' })), 'setConfig.changes.lr: must be a finite number > 0 and <= 1, got "0.1"');
    assert.equal(rejected(setConfig({ poolZeroVariance: 1 })), 'setConfig.changes.poolZeroVariance: must be true or false, got 1');
    assert.equal(
      rejected(setConfig({ durianWeights: [0.1, -0.2, 0.7] })),
      'setConfig.changes.durianWeights[1]: must be a finite number >= 0 and <= 1000000, got -0.2',
    );
    assert.equal(rejected(setConfig({ durianWeights: [1, 2] })), 'setConfig.changes.durianWeights: must be an array of 3 [a_ori, a_perc, a_reas], got an array of 2');
    assert.match(rejected(setConfig({ estimator: 'ppo' })), /^setConfig\.changes\.estimator: must be one of "grpo", "dr_grpo", "rloo", "batch_std", "durian", got "ppo"$/);
  });

  it('rejects unknown fields, unknown kinds, missing fields and empty changes', () => {
    assert.match(rejected(setConfig({ learningRate: 0.1 })), /^setConfig\.changes\.learningRate: is not a field here \(known: estimator, /);
    assert.equal(rejected(setConfig({})), 'setConfig.changes: must change at least one setting');
    assert.match(rejected(parseControl({ type: 'control/launch', controlId: 'c' })), /^type: unknown control type "control\/launch" \(known: control\/pause, /);
    assert.match(rejected(parseControl({ controlId: 'c' })), /^type: unknown control type undefined/);
    assert.match(rejected(parseEvent({ type: 'control/pause', controlId: 'c' })), /^type: unknown event type "control\/pause"/);
    assert.equal(rejected(parseControl({ type: CONTROL.pause })), 'pause.controlId: is required');
    assert.match(rejected(parseControl({ type: CONTROL.pause, controlId: 'c', extra: 1 })), /^pause\.extra: is not a field here/);
    assert.equal(rejected(parseControl([1, 2])), 'message: must be an object with a "type", got an array');
    assert.equal(rejected(parseControl(null)), 'message: must be an object with a "type", got null');
    assert.equal(rejected(parseControl('{"type":"control/pause"}')), 'message: must be an object with a "type", got string');
  });

  it('checks the other controls', () => {
    assert.equal(
      rejected(parseControl({ ...SAMPLE_CONTROLS.setGroupWeight, weight: 101 })),
      'setGroupWeight.weight: must be a finite number >= 0 and <= 100, got 101',
    );
    assert.equal(rejected(parseControl({ ...SAMPLE_CONTROLS.relabel, reward: Number.NaN })), 'relabel.reward: must be a finite number >= -1000000 and <= 1000000, got NaN');
    assert.equal(rejected(parseControl({ ...SAMPLE_CONTROLS.relabel, rollout: -1 })), 'relabel.rollout: must be a whole number >= 0 and <= 63, got -1');
    assert.equal(rejected(parseControl({ ...SAMPLE_CONTROLS.excludePrompt, promptId: '' })), 'excludePrompt.promptId: must not be empty');
    assert.equal(
      rejected(parseControl({ ...SAMPLE_CONTROLS.undo, targetControlId: 'a b' })),
      'undo.targetControlId: must be letters, digits and . _ : # - only, got "a b"',
    );
    assert.equal(rejected(parseControl({ ...SAMPLE_CONTROLS.pause, controlId: 'x'.repeat(201) })), 'pause.controlId: must be at most 200 characters, got 201');
  });

  it('points into nested event data', () => {
    const groups = structuredClone(SAMPLE_EVENTS.groups);
    (groups.groups[1].rollouts[0] as { reward: number }).reward = Number.NaN;
    assert.equal(rejected(parseEvent(groups)), 'groups.groups[1].rollouts[0].reward: must be a finite number, got NaN');
    const bucket = structuredClone(SAMPLE_EVENTS.groups);
    (bucket.groups[0] as { perceptualBucket: string }).perceptualBucket = 'medium';
    assert.equal(rejected(parseEvent(bucket)), 'groups.groups[0].perceptualBucket: must be one of "low", "mid", "high", got "medium"');
    assert.equal(
      rejected(parseEvent({ ...SAMPLE_EVENTS.step, metrics: { 'actor/pg_loss': null } })),
      'step.metrics["actor/pg_loss"]: must be a finite number, got null',
    );
    assert.equal(rejected(parseEvent({ ...SAMPLE_EVENTS.step, step: -1 })), 'step.step: must be a whole number >= 0 and <= 1000000000, got -1');
    assert.equal(rejected(parseEvent({ ...SAMPLE_EVENTS.done, reason: 'crashed' })), 'done.reason: must be one of "completed", "stopped", got "crashed"');
    assert.equal(rejected(parseEvent({ ...SAMPLE_EVENTS.applied, kind: 'launch' })).startsWith('applied.kind: must be one of "pause"'), true);
  });

  it('keeps image and checkpoint paths inside the run directory', () => {
    const withImage = (image: string) => parseEvent({ ...SAMPLE_EVENTS.groups, groups: [{ ...sampleGroup(), image }] });
    assert.match(rejected(withImage('../../etc/passwd')), /^groups\.groups\[0\]\.image: must stay inside the run directory/);
    assert.match(rejected(withImage('/etc/passwd')), /^groups\.groups\[0\]\.image: must be relative to the run directory/);
    assert.match(rejected(withImage('C:/x.png')), /must be relative to the run directory/);
    assert.match(rejected(withImage('images\\..\\x.png')), /must use forward slashes/);
    assert.match(rejected(withImage('images/a\0.png')), /must not contain a NUL character/);
    assert.match(rejected(parseEvent({ ...SAMPLE_EVENTS.checkpoint, path: 'checkpoints/../../x' })), /^checkpoint\.path: must stay inside/);
  });

  it('refuses prototype-polluting keys', () => {
    const proto = JSON.parse('{"type":"control/pause","controlId":"c","__proto__":{"polluted":true}}') as unknown;
    assert.match(rejected(parseControl(proto)), /^pause\.__proto__: is not a field here/);
    const metrics = JSON.parse('{"type":"trainer/step","step":1,"totalSteps":2,"elapsedMs":0,"metrics":{"__proto__":1}}') as unknown;
    assert.equal(rejected(parseEvent(metrics)), 'step.metrics.__proto__: is a forbidden key');
    const config = JSON.parse(JSON.stringify({ ...SAMPLE_EVENTS.hello, config: { a: { constructor: { prototype: 1 } } } })) as unknown;
    assert.equal(rejected(parseEvent(config)), 'hello.config.a.constructor: is a forbidden key');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('refuses oversized and deeply nested messages quickly', () => {
    const big = { ...SAMPLE_CONTROLS.excludePrompt, promptId: 'x'.repeat(MAX_CONTROL_CHARS) };
    assert.match(rejected(parseControl(big)), /^message: is larger than the 65536 characters of JSON allowed for a control$/);
    const started = Date.now();
    assert.match(rejected(parseEvent({ ...SAMPLE_EVENTS.groups, groups: new Array(1e8) })), /^message: is larger than/);
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = { a: deep };
    assert.equal(rejected(parseEvent({ ...SAMPLE_EVENTS.hello, config: deep })), 'message: is nested deeper than 32 levels');
    const cyclic: Record<string, unknown> = { ...SAMPLE_EVENTS.step };
    cyclic.metrics = cyclic;
    assert.match(rejected(parseEvent(cyclic)), /^message: is (nested deeper|larger)/);
    assert.ok(Date.now() - started < 2000, 'hostile inputs must be refused fast');
  });

  it('turns hostile objects into errors instead of exceptions', () => {
    const throwing = new Proxy({}, { ownKeys: () => { throw new Error('boom'); } });
    assert.equal(rejected(parseEvent(throwing)), 'message: could not be read (boom)');
    const getter = { type: CONTROL.pause, get controlId(): string { throw new Error('nope'); } };
    assert.match(rejected(parseControl(getter)), /could not be read \(nope\)/);
    assert.equal(rejected(parseControl({ type: CONTROL.pause, controlId: 'c', when: new Date() })).startsWith('pause.when:'), true);
    assert.equal(rejected(parseEvent({ ...SAMPLE_EVENTS.hello, config: { f: () => 1 } })), 'hello.config.f: must be JSON data, got function');
    class Custom {}
    assert.equal(rejected(parseEvent({ ...SAMPLE_EVENTS.hello, config: new Custom() })), 'hello.config: must be an object, got a non-plain object');
  });
});

describe('splitFiniteMetrics', () => {
  it('keeps finite metrics and names the others', () => {
    assert.deepEqual(splitFiniteMetrics({ a: 1, b: Number.NaN, c: -Infinity }), { finite: { a: 1 }, nonFinite: ['b', 'c'] });
  });
});

describe('groupsEvents', () => {
  it('splits a batch too large for one event into events that each parse', () => {
    const base = sampleGroup();
    const groups = Array.from({ length: 1024 }, (_, i) => ({
      ...base,
      promptId: `p-${i}`,
      rollouts: Array.from({ length: 64 }, () => ({ ...base.rollouts[0], response: 'r'.repeat(60) })),
    }));
    assert.equal(parseEvent({ type: EVENT.groups, step: 3, estimator: 'durian', groups }).ok, false);
    const { events, tooLarge } = groupsEvents(3, 'durian', groups);
    assert.deepEqual(tooLarge, []);
    assert.ok(events.length >= 2);
    for (const event of events) assert.ok(parseEvent(event).ok);
    assert.deepEqual(events.flatMap((event) => event.groups.map((g) => g.promptId)), groups.map((g) => g.promptId));
  });

  it('reports a single group larger than the cap', () => {
    const huge = { ...sampleGroup('big'), question: 'q'.repeat(5000) };
    const { events, tooLarge } = groupsEvents(1, 'grpo', [sampleGroup('a'), huge, sampleGroup('b')], 4000);
    assert.deepEqual(tooLarge, [1]);
    assert.deepEqual(events.flatMap((event) => event.groups.map((g) => g.promptId)), ['a', 'b']);
  });
});
