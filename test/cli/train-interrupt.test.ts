/** Ctrl+C during `durian train` (the real CLI bundle and trainer): the progress bar ends where the run stopped. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');

describe('durian train, interrupted', () => {
  it('stops after the current step on SIGINT and its last bar line shows that step of 200, not 200/200', { timeout: 300_000 }, async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'durian-interrupt-'));
    const out = path.join(work, 'run');
    // The small example session, with a short base-policy warm-up in a cache of its own: the subject is Ctrl+C.
    const config = path.join(work, 'small-session.durian.json');
    writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(path.join(root, 'examples/small-session.durian.json'), 'utf8')), warmupSteps: 10 }));
    try {
      const env = { ...process.env, DURIAN_CACHE_DIR: path.join(work, 'cache') };
      const child = spawn(process.execPath, [cli, 'train', '--config', config, '--steps', '200', '--out', out], { cwd: root, env });
      let stdout = '';
      let stderr = '';
      let interrupted = false;
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        // The first bar line comes with the first step: interrupt then, like a user pressing Ctrl+C.
        if (!interrupted && /train \[[#-]+\] \d+\/200/.test(stderr)) {
          interrupted = true;
          child.kill('SIGINT');
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.ok(interrupted, `the trainer never reached its first step:\n${stderr}`);
      assert.equal(code, 0, stderr);
      const stopped = /run stopped at step (\d+)/.exec(stdout);
      assert.ok(stopped, stdout);
      const step = Number(stopped[1]);
      assert.ok(step < 200, `stopped at ${step}`);
      const bars = [...stderr.matchAll(/train \[[#-]+\] (\d+)\/200/g)].map((m) => Number(m[1]));
      assert.equal(bars[bars.length - 1], step, `the last bar line says ${bars[bars.length - 1]}/200, the run stopped at ${step}`);
      assert.ok(!stderr.includes('200/200'), 'the bar never claims the whole run');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
