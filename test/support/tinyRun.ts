/**
 * A tiny real training run, from source (so never a stale bundle): the trainer process on a few steps of a
 * small session, with `controls` sent on stdin. Shared by the tests that check what a trainer writes
 * (test/unit/schemas.test.ts: the format; test/protocol/metrics.test.ts: the metrics' meaning).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

/** The session of a tiny run: 3 steps of 4 prompts x 2 rollouts, a validation at steps 0 and 2. */
export const TINY_CONFIG = { steps: 3, batchSize: 4, groupSize: 2, validationSize: 8, trainSize: 64, warmupSteps: 5, validationEvery: 2, checkpointEvery: 2, rolloutsEvery: 2 };

export interface TinyRun {
  /** The run folder. */
  run: string;
  /** The events the trainer streamed on stdout, parsed. */
  events: Record<string, unknown>[];
}

/** Trains a tiny run in a fresh temp folder; resolves with the run folder (its parent is the caller's to delete). */
export function trainTiny(controls: unknown[], config: Record<string, unknown> = TINY_CONFIG): Promise<TinyRun> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'durian-tiny-'));
  const configFile = path.join(work, 'tiny.json');
  writeFileSync(configFile, JSON.stringify(config));
  const out = path.join(work, 'run');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/trainer/main.ts'), '--config', configFile, '--out', out], {
    cwd: root,
    env: { ...process.env, DURIAN_CACHE_DIR: path.join(work, 'cache') },
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdout.on('data', (chunk) => (stdout += chunk));
  // stdin stays open for the whole run: a trainer whose host closes it stops.
  for (const control of controls) child.stdin.write(`${JSON.stringify(control)}\n`);
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 200_000);
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      clearTimeout(watchdog);
      child.stdin.destroy();
      if (code !== 0) {
        reject(new Error(`the trainer exited with ${String(code)}: ${stderr.slice(-3000)}`));
        return;
      }
      const events = stdout.split('\n').flatMap((line) => {
        try {
          const value = JSON.parse(line) as unknown;
          return value !== null && typeof value === 'object' ? [value as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      });
      resolve({ run: out, events });
    });
  });
}
