/** The CLI progress bar: its last line says how far the work really got. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { ProgressBar } from '../../src/cli/progress.js';

/** A stream that records what the bar writes, as a terminal (redraws in place) or as a log (plain lines). */
function recordingStream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  Object.assign(stream, { isTTY, columns: 200 });
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return { stream, text: () => chunks.join('') };
}

/** The last drawn state of the bar: the text after the last carriage return or newline. */
function lastLine(text: string): string {
  const lines = text.split(/[\r\n]/).filter((line) => line.trim() !== '');
  return lines[lines.length - 1].replaceAll('\u001b[K', '');
}

describe('ProgressBar', () => {
  for (const isTTY of [true, false]) {
    const where = isTTY ? 'on a terminal' : 'in a log';
    it(`stop() after step 95 of 200 (Ctrl+C) ends at 95/200, not 200/200, ${where}`, () => {
      const { stream, text } = recordingStream(isTTY);
      const bar = new ProgressBar({ total: 200, label: 'train', stream, plainIntervalMs: 0 });
      for (let step = 1; step <= 95; step++) bar.update(step, { reward: 0.5 });
      bar.stop();
      const last = lastLine(text());
      assert.match(last, /^train \[#+-+\] 95\/200/, last);
      assert.ok(!text().includes('200/200'), 'the bar never claims the whole run');
    });

    it(`finish() marks completed work as total/total, ${where}`, () => {
      const { stream, text } = recordingStream(isTTY);
      const bar = new ProgressBar({ total: 10, label: 'score', stream, plainIntervalMs: 60_000 });
      for (let row = 1; row < 10; row++) bar.update(row);
      bar.finish({ scored: 10 });
      assert.match(lastLine(text()), /^score \[#{24}\] 10\/10 {2}scored 10/);
    });
  }

  it('ends once: after stop(), neither stop() nor finish() draws again', () => {
    const { stream, text } = recordingStream(false);
    const bar = new ProgressBar({ total: 5, label: 'x', stream, plainIntervalMs: 60_000 });
    bar.update(2);
    bar.stop();
    const ended = text();
    assert.match(lastLine(ended), /^x \[#+-+\] 2\/5/);
    bar.stop();
    bar.finish();
    assert.equal(text(), ended);
  });
});
