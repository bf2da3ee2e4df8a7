/** JSON Lines framing: lines split anywhere, bytes split inside characters, malformed and over-long lines. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LineDecoder, encodeLine, parseEvent } from '../../src/protocol/index.js';
import { SAMPLE_EVENTS } from './samples.js';

describe('encodeLine', () => {
  it('writes one line even when strings hold newlines', () => {
    const line = encodeLine({ ...SAMPLE_EVENTS.log, message: 'two\nlines\r\n' });
    assert.equal(line.indexOf('\n'), line.length - 1);
  });

  it('refuses values that are not JSON', () => {
    assert.throws(() => encodeLine(undefined), /not JSON data/);
  });
});

describe('LineDecoder', () => {
  it('reassembles lines split at any point, in strings or UTF-8 bytes', () => {
    const messages = [SAMPLE_EVENTS.step, { ...SAMPLE_EVENTS.log, message: 'héllo ✓ 日本 🚀' }, SAMPLE_EVENTS.groups];
    const text = messages.map(encodeLine).join('');
    const bytes = new TextEncoder().encode(text);
    fc.assert(
      fc.property(fc.array(fc.nat(bytes.length), { maxLength: 12 }), fc.boolean(), (cuts, asBytes) => {
        const points = [0, ...[...new Set(cuts)].sort((a, b) => a - b), asBytes ? bytes.length : text.length];
        const decoder = new LineDecoder({ parse: parseEvent });
        const out = [];
        for (let i = 0; i + 1 < points.length; i++) {
          out.push(...decoder.push(asBytes ? bytes.subarray(points[i], points[i + 1]) : text.slice(points[i], points[i + 1])));
        }
        out.push(...decoder.end());
        assert.deepEqual(
          out.map((line) => (line.ok ? line.value : line.error)),
          messages,
        );
        assert.deepEqual(out.map((line) => line.line), [1, 2, 3]);
      }),
      { numRuns: 300 },
    );
  });

  it('reports malformed lines and keeps going', () => {
    const decoder = new LineDecoder({ parse: parseEvent });
    const out = decoder.push(`{"type":"trainer/paused","step":1}\nnot json\n\n{"type":"trainer/paused","step":-1}\r\n{"type":"trainer/resumed","step":2}\r\n`);
    assert.deepEqual(out[0], { ok: true, value: { type: 'trainer/paused', step: 1 }, line: 1 });
    assert.equal(out[1].ok, false);
    assert.match((out[1] as { error: string }).error, /^line 2: not valid JSON/);
    assert.deepEqual(out[2], { ok: false, error: 'line 4: paused.step: must be a whole number >= 0 and <= 1000000000, got -1', line: 4 });
    assert.deepEqual(out[3], { ok: true, value: { type: 'trainer/resumed', step: 2 }, line: 5 });
    assert.equal(out.length, 4);
  });

  it('skips over-long lines without buffering them', () => {
    const decoder = new LineDecoder({ maxLineChars: 50 });
    const out = [...decoder.push('{"a":'), ...decoder.push('1'.repeat(100)), ...decoder.push('1'.repeat(1000)), ...decoder.push('}\n{"b":2}\n')];
    assert.deepEqual(out, [
      { ok: false, error: 'line 1: longer than 50 characters (1106); skipped', line: 1 },
      { ok: true, value: { b: 2 }, line: 2 },
    ]);
    assert.equal((decoder as unknown as { pending: string }).pending.length, 0);
  });

  it('flushes a last line without newline on end, and reports a torn one', () => {
    const decoder = new LineDecoder();
    assert.deepEqual(decoder.push('{"a":1}\n{"b":'), [{ ok: true, value: { a: 1 }, line: 1 }]);
    const end = decoder.end();
    assert.equal(end.length, 1);
    assert.match((end[0] as { error: string }).error, /^line 2: not valid JSON/);
    const complete = new LineDecoder();
    complete.push('{"c":3}');
    assert.deepEqual(complete.end(), [{ ok: true, value: { c: 3 }, line: 1 }]);
  });

  it('never throws on random chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 64 })), { maxLength: 20 }), (chunks) => {
        const decoder = new LineDecoder({ parse: parseEvent, maxLineChars: 64 });
        for (const chunk of chunks) for (const line of decoder.push(chunk)) assert.equal(typeof line.ok, 'boolean');
        decoder.end();
      }),
      { numRuns: 500 },
    );
  });
});
