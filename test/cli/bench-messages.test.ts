/**
 * `durian bench --suite messages`: the rows exist with finite positive numbers, the payloads have the
 * trainer's shapes, and the timed paths really validate (a corrupted message is refused), so the bench
 * never measures a no-op.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  CHUNK_BYTES,
  checkValidators,
  corruptGroups,
  decodeStream,
  encodeStream,
  eventsAtSteps,
  messagesFixture,
  messagesSuite,
} from '../../src/cli/bench/messages.js';
import type { BenchRow } from '../../src/cli/bench/types.js';
import { parseControl, parseEvent, parseRolloutsHostToWebview } from '../../src/protocol/index.js';

const cli = path.resolve(__dirname, '../../dist/cli.js');

const EXPECTED_ROWS = [
  /^trainer: encodeLine, step event/,
  /^trainer: encodeLine, groups event \(32 x 8\)/,
  /^host: LineDecoder \+ parseEvent, step events/,
  /^host: LineDecoder \+ parseEvent, groups events \(32 x 8\)/,
  /^host: the trainer stream/,
  /^host: training steps\/s/,
  /^webview: parseHostToWebview, dashboard\/event/,
  /^webview: parseRolloutsHostToWebview, rollouts\/live/,
  /^control: parseControl, setConfig/,
  /^control: parseControl, setGroupWeight/,
  /^control: parseRolloutsWebviewToHost, rollouts\/control/,
];

function assertRows(rows: BenchRow[]): void {
  assert.equal(rows.length, EXPECTED_ROWS.length, rows.map((r) => r.name).join('\n'));
  EXPECTED_ROWS.forEach((pattern, i) => assert.match(rows[i].name, pattern));
  for (const row of rows) {
    assert.equal(row.suite, 'messages');
    assert.ok(Number.isFinite(row.value) && row.value > 0, `${row.name}: value ${row.value}`);
    assert.ok(row.unit.length > 0);
    assert.ok(row.baseline && Number.isFinite(row.baseline.value) && row.baseline.value > 0, `${row.name}: baseline ${JSON.stringify(row.baseline)}`);
    assert.ok(row.ratio !== undefined && Number.isFinite(row.ratio) && row.ratio > 0, `${row.name}: ratio ${row.ratio}`);
    assert.ok(Math.abs((row.ratio as number) - row.value / (row.baseline as { value: number }).value) < 1e-9 * Math.max(1, row.ratio as number));
  }
  const headroom = rows.find((r) => r.unit === 'steps/s') as BenchRow;
  assert.equal(headroom.baseline?.value, 10);
  assert.equal(typeof headroom.pass, 'boolean');
}

describe('bench suite messages', () => {
  it('builds a default step of the trainer: 32 x 8 groups under durian with grpo beside, verl-named metrics', () => {
    const fixture = messagesFixture();
    assert.equal(fixture.groups.estimator, 'durian');
    assert.equal(fixture.groups.groups.length, 32);
    for (const group of fixture.groups.groups) {
      assert.equal(group.rollouts.length, 8);
      assert.match(group.image, /^images\/train-\d{6}\.png$/);
      assert.ok(['low', 'mid', 'high'].includes(group.perceptualBucket));
      for (const rollout of group.rollouts) {
        assert.ok(rollout.response.length > 0 && (rollout.tokens?.length ?? 0) > 0);
        assert.ok(rollout.components && Number.isFinite(rollout.components.perceptual));
        assert.ok(Number.isFinite(rollout.advantage) && Number.isFinite(rollout.advantageGrpo));
      }
    }
    const rewards = fixture.groups.groups.flatMap((g) => g.rollouts.map((r) => r.reward));
    assert.ok(new Set(rewards).size > 1, 'rewards must vary (right and wrong answers)');
    assert.ok(fixture.groups.groups.some((g) => g.excluded), 'a group with weight 0 is excluded');
    for (const name of ['reward/mean', 'critic/advantages/mean', 'critic/advantages/frac_abs_gt_2', 'response_length/mean', 'timing_s/step', 'actor/pg_loss', 'actor/ppo_kl', 'actor/grad_norm']) {
      assert.ok(Number.isFinite(fixture.step.metrics[name]), name);
    }
    assert.equal(fixture.step.metrics['actor/loss'], undefined);
    assert.doesNotThrow(() => checkValidators(fixture));
  });

  it('decodes the host stream in 64 KiB chunks through parseEvent, and refuses a corrupted event in it', () => {
    const fixture = messagesFixture();
    const events = [fixture.step, fixture.groups, ...eventsAtSteps(fixture.step, 3), corruptGroups(fixture.groups), fixture.groups];
    const stream = encodeStream(events);
    assert.ok(stream.chunks.length >= 3, 'groups events span several chunks');
    assert.ok(stream.chunks.slice(0, -1).every((chunk) => chunk.length === CHUNK_BYTES));
    const validated = decodeStream(stream.chunks);
    assert.equal(validated.ok, events.length - 1);
    assert.equal(validated.errors.length, 1);
    assert.match(validated.errors[0], /^line 6: groups\.groups\[31\]\.rollouts\[7\]\.accuracy: /);
    // Framing alone takes it: the refusal comes from parseEvent, which the timed path runs.
    assert.deepEqual(decodeStream(stream.chunks, false), { ok: events.length, errors: [] });
    // Invalid JSON in the stream is refused too, and the lines around it still decode.
    const broken = encodeStream([fixture.step, fixture.groups]);
    const bytes = Buffer.concat(broken.chunks);
    bytes[bytes.indexOf('"rollouts"')] = 0x7b;
    const decoded = decodeStream([bytes]);
    assert.equal(decoded.ok, 1);
    assert.match(decoded.errors[0], /not valid JSON/);
  });

  it('the webview and control validators refuse corrupted messages', () => {
    const fixture = messagesFixture();
    assert.equal(parseEvent(corruptGroups(fixture.groups)).ok, false);
    assert.equal(parseRolloutsHostToWebview({ ...fixture.rolloutsLive, groups: corruptGroups(fixture.groups).groups }).ok, false);
    assert.equal(parseControl({ ...fixture.setGroupWeight, weight: -1 }).ok, false);
    assert.equal(parseControl({ ...fixture.setConfig, changes: { lr: 0 } }).ok, false);
  });

  it('runs with few repeats: every row finite and positive, with its same-process baseline', async () => {
    const rows = await messagesSuite.run({ repeats: 3, quick: false, log: () => undefined });
    assertRows(rows);
  });

  it('is a suite of `durian bench`: table printed, rows written to the JSON file', () => {
    const json = path.join(mkdtempSync(path.join(os.tmpdir(), 'durian-bench-')), 'bench.json');
    const result = spawnSync(process.execPath, [cli, 'bench', '--suite', 'messages', '--repeats', '3', '--json', json], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /messages\s+host: training steps\/s/);
    const record = JSON.parse(readFileSync(json, 'utf8')) as { repeats: number; rows: BenchRow[] };
    assert.equal(record.repeats, 3);
    assertRows(record.rows);
  });
});
