/** Temp folders and small builders shared by the run directory tests. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { RunDirectoryError } from '../../../src/trainer/run/index.js';

const made: string[] = [];
after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh runs folder under the OS temp dir, removed after the file's tests. */
export function tempRunsFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'durian-run-test-'));
  made.push(dir);
  return dir;
}

export function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

/** Asserts `action` throws a RunDirectoryError with this code, and returns it. */
export function runError(action: () => unknown, code: string): RunDirectoryError {
  try {
    action();
  } catch (error) {
    if (error instanceof RunDirectoryError && error.code === code) return error;
    throw new Error(`expected RunDirectoryError ${code}, got ${String(error)}`);
  }
  throw new Error(`expected RunDirectoryError ${code}, but nothing was thrown`);
}

/** Names of the entries of a folder, sorted ([] if missing). */
export function entries(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}
