/** The host <-> webview contract: every message round-trips, and hostile input is refused, never thrown. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EVENT_KINDS } from '../../src/protocol/index.js';
import {
  DASHBOARD,
  type HostToWebviewMessage,
  WEBVIEW,
  type WebviewToHostMessage,
  parseHostToWebview,
  parseMetricsLine,
  parseValidationLine,
  parseWebviewToHost,
} from '../../src/protocol/webview.js';
import { SAMPLE_EVENTS } from '../protocol/samples.js';

const COMMANDS: WebviewToHostMessage[] = [
  { type: WEBVIEW.ready },
  { type: WEBVIEW.ready, lastStep: 120 },
  { type: DASHBOARD.pause },
  { type: DASHBOARD.resume },
  { type: DASHBOARD.stop },
  { type: DASHBOARD.openRunFolder },
];

const NOTIFICATIONS: HostToWebviewMessage[] = [
  {
    type: DASHBOARD.history,
    runName: 'run-1',
    runDir: '/runs/run-1',
    state: 'crashed',
    message: 'out of memory',
    estimator: 'durian',
    backend: 'tfjs-node',
    device: 'CPU (2 cores)',
    totalSteps: 60,
    metrics: [
      { step: 1, elapsedMs: 812, 'reward/mean': 0.25, 'actor/pg_loss': null },
      { step: 2, elapsedMs: 1604, 'reward/mean': 0.5 },
    ],
    validations: [{ step: 0, accuracy: 0.1, reward: 0.12, perLevel: { easy: 0.3 } }],
  },
  { type: DASHBOARD.history, runName: 'r', runDir: '/r', state: 'starting', metrics: [], validations: [] },
  { type: DASHBOARD.state, runName: 'run-1', runDir: '/runs/run-1', state: 'paused' },
  { type: DASHBOARD.state, runName: 'run-1', runDir: '/runs/run-1', state: 'stopped', message: 'stopped by the user' },
  ...EVENT_KINDS.map((kind): HostToWebviewMessage => ({ type: DASHBOARD.event, event: SAMPLE_EVENTS[kind] })),
];

function rejected(result: { ok: boolean; error?: string }): string {
  assert.equal(result.ok, false, 'expected a rejection');
  return (result as { error: string }).error;
}

describe('webview -> host commands', () => {
  for (const command of COMMANDS) {
    it(`${command.type} round-trips through JSON`, () => {
      assert.deepEqual(parseWebviewToHost(JSON.parse(JSON.stringify(command))), { ok: true, value: command });
    });
  }

  it('names the problem', () => {
    assert.match(rejected(parseWebviewToHost({ type: 'dashboard/format-disk' })), /^type: unknown message type "dashboard\/format-disk" from a webview/);
    assert.match(rejected(parseWebviewToHost({ type: DASHBOARD.pause, force: true })), /^dashboard\/pause\.force: is not a field here/);
    assert.match(rejected(parseWebviewToHost({ type: WEBVIEW.ready, lastStep: -1 })), /^webview\/ready\.lastStep: must be a whole number/);
    assert.match(rejected(parseWebviewToHost({ type: DASHBOARD.history, runName: 'x', runDir: '/x', state: 'running', metrics: [], validations: [] })), /unknown message type/);
    assert.match(rejected(parseWebviewToHost({ type: DASHBOARD.stop, pad: 'x'.repeat(70_000) })), /larger than/);
  });
});

describe('host -> webview notifications', () => {
  for (const message of NOTIFICATIONS) {
    const name = message.type === DASHBOARD.event ? `${message.type} of ${message.event.type}` : message.type;
    it(`${name} round-trips through JSON`, () => {
      assert.deepEqual(parseHostToWebview(JSON.parse(JSON.stringify(message))), { ok: true, value: message });
    });
  }

  it('checks relayed events with parseEvent and says where the problem is', () => {
    const error = rejected(parseHostToWebview({ type: DASHBOARD.event, event: { ...SAMPLE_EVENTS.step, metrics: { 'actor/pg_loss': 'NaN' } } }));
    assert.match(error, /^dashboard\/event\.event: step\.metrics\["actor\/pg_loss"\]: must be a finite number/);
    assert.match(rejected(parseHostToWebview({ type: DASHBOARD.event, event: { type: 'control/pause', controlId: 'x' } })), /unknown event type/);
  });

  it('checks every history line', () => {
    const base = { type: DASHBOARD.history, runName: 'r', runDir: '/r', state: 'running', validations: [] };
    assert.match(rejected(parseHostToWebview({ ...base, metrics: [{ step: 1 }, { elapsedMs: 3 }] })), /^dashboard\/history\.metrics\[1\]\.step: is required/);
    assert.match(rejected(parseHostToWebview({ ...base, metrics: [{ step: 1.5 }] })), /metrics\[0\]\.step: must be a whole number/);
    assert.match(rejected(parseHostToWebview({ ...base, metrics: [{ step: 1, loss: 'big' }] })), /metrics\[0\]\.loss: must be a finite number/);
    assert.match(rejected(parseHostToWebview({ ...base, metrics: [{ step: 1, elapsedMs: -5 }] })), /elapsedMs: must be a finite number >= 0/);
    assert.match(rejected(parseHostToWebview({ ...base, metrics: [], validations: [{ step: 1, accuracy: 2, reward: 0 }] })), /validations\[0\]\.accuracy: must be a finite number >= 0 and <= 1/);
    assert.match(rejected(parseHostToWebview({ ...base, state: 'exploded', metrics: [] })), /state: must be one of/);
  });

  it('offers per-line checks for the host reading a run directory', () => {
    assert.deepEqual(parseMetricsLine({ step: 3, 'reward/mean': null }), { ok: true, value: { step: 3, 'reward/mean': null } });
    assert.match(rejected(parseMetricsLine(JSON.parse('{"step":3,"__proto__":1}'), 'metrics.jsonl:4')), /^metrics\.jsonl:4\.__proto__: is a forbidden key/);
    assert.deepEqual(parseValidationLine({ step: 10, accuracy: 0.5, reward: 0.4 }), { ok: true, value: { step: 10, accuracy: 0.5, reward: 0.4 } });
    assert.match(rejected(parseValidationLine({ type: 'trainer/validation', step: 10, accuracy: 0.5, reward: 0.4 })), /type: is not a field here/);
  });

  it('refuses hostile values without throwing', () => {
    const getter = Object.defineProperty({ type: DASHBOARD.state }, 'runName', { enumerable: true, get: () => { throw new Error('boom'); } });
    const cyclic: Record<string, unknown> = { type: DASHBOARD.history };
    cyclic.self = cyclic;
    const throwing = { toString: () => { throw new Error('no'); } };
    const proxy = new Proxy({}, { ownKeys: () => { throw throwing; } });
    for (const input of [undefined, null, 7, 'dashboard/state', [], getter, cyclic, proxy, { type: { toString: () => 'dashboard/state' } }]) {
      assert.doesNotThrow(() => parseHostToWebview(input));
      assert.equal(parseHostToWebview(input).ok, false);
      assert.doesNotThrow(() => parseWebviewToHost(input));
    }
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ type: fc.constantFrom(...NOTIFICATIONS.map((m) => m.type), ...COMMANDS.map((m) => m.type)) }, { requiredKeys: [] })), (value) => {
        const host = parseHostToWebview(value);
        const webview = parseWebviewToHost(value);
        assert.equal(typeof host.ok, 'boolean');
        assert.equal(typeof webview.ok, 'boolean');
      }),
    );
  });
});
