/** Process helpers shared by the tests that watch a trainer go away (reliability and e2e). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isProcessAlive } from '../../src/trainer/run/status.js';

/**
 * Whether the process still runs: a zombie (exited, waiting for its new parent, PID 1 here, to reap it,
 * which takes up to ~2 s in this sandbox) counts as gone.
 */
export function running(pid: number): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return isProcessAlive(pid);
  }
}

/** Waits until `pid` is gone (see `running`); returns how long that took, fails after `timeoutMs`. */
export async function waitUntilGone(pid: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (running(pid)) {
    assert.ok(Date.now() - started < timeoutMs, `the trainer (pid ${pid}) still runs ${timeoutMs} ms after its host went away`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

/** The step of a status text such as "Durian: step 12/1000". */
export function stepOf(text: string): number {
  const match = /step (\d+)\//.exec(text);
  assert.ok(match, `no step in ${JSON.stringify(text)}`);
  return Number(match[1]);
}
