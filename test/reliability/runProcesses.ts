/**
 * The real `durian` CLI (dist/cli.js) and trainer (dist/trainer.js) as child processes, on tiny sessions, for
 * the tests that attack run folders and parents: a temp work folder with its own cache, a tiny config, and
 * helpers to run a command to its end or to drive a trainer over its stdio.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { type TrainerEvent, parseEvent } from '../../src/protocol/index.js';

export const root = path.resolve(__dirname, '../..');
export const cliBundle = path.join(root, 'dist/cli.js');
export const trainerBundle = path.join(root, 'dist/trainer.js');

/** Small but real: the built-in tasks, the frozen encoder, a 5-step warm-up, B = 8 prompts x G = 4. */
export const TINY = { batchSize: 8, groupSize: 4, trainSize: 64, validationSize: 16, validationEvery: 1000, checkpointEvery: 2, warmupSteps: 5, estimatorOptions: { reasoningBins: 4 } };

export interface Work {
  dir: string;
  cacheDir: string;
  env: NodeJS.ProcessEnv;
  /** Writes a config file with TINY + `extra`, returns its path. */
  config(extra?: Record<string, unknown>): string;
}

const made: string[] = [];
after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

export function workFolder(name: string): Work {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `durian-${name}-`));
  made.push(dir);
  const cacheDir = path.join(dir, 'cache');
  let configs = 0;
  return {
    dir,
    cacheDir,
    env: { ...process.env, DURIAN_CACHE_DIR: cacheDir },
    config(extra = {}) {
      const file = path.join(dir, `config-${++configs}.json`);
      fs.writeFileSync(file, JSON.stringify({ ...TINY, ...extra }));
      return file;
    },
  };
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <bundle> args` to its end. */
export function runToEnd(bundle: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(bundle)} ${args.join(' ')} still ran after ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface TrainerSession {
  child: ChildProcessWithoutNullStreams;
  events: TrainerEvent[];
  stderr(): string;
  exit: Promise<number | null>;
  waitFor<T extends TrainerEvent>(predicate: (event: TrainerEvent) => event is T, what: string, timeoutMs?: number): Promise<T>;
  waitFor(predicate: (event: TrainerEvent) => boolean, what: string, timeoutMs?: number): Promise<TrainerEvent>;
  send(control: unknown): void;
}

/** The trainer run from its sources (through tsx), for tests that must not depend on a fresh dist/. */
export const trainerSource = ['--import', 'tsx', path.join(root, 'src/trainer/main.ts')];

/** Starts the trainer bundle (or `entry`, e.g. trainerSource) over stdio (as `durian train` does), decoding its events. */
export function startTrainer(args: string[], env: NodeJS.ProcessEnv, entry: readonly string[] = [trainerBundle]): TrainerSession {
  const child = spawn(process.execPath, [...entry, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const events: TrainerEvent[] = [];
  const waiters: { predicate: (event: TrainerEvent) => boolean; resolve: (event: TrainerEvent) => void }[] = [];
  let buffer = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const parsed = parseEvent(JSON.parse(buffer.slice(0, newline)));
      buffer = buffer.slice(newline + 1);
      assert.ok(parsed.ok, `every event the trainer writes is valid: ${parsed.ok ? '' : parsed.error}`);
      events.push(parsed.value);
      for (const waiter of [...waiters]) {
        if (waiter.predicate(parsed.value)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(parsed.value);
        }
      }
    }
  });
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    events,
    stderr: () => stderr,
    exit,
    waitFor(predicate: (event: TrainerEvent) => boolean, what: string, timeoutMs = 120_000): Promise<TrainerEvent> {
      const seen = events.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`)), timeoutMs);
        waiters.push({
          predicate,
          resolve: (event) => {
            clearTimeout(timer);
            resolve(event);
          },
        });
        void exit.then(() => {
          clearTimeout(timer);
          reject(new Error(`the trainer exited before ${what}; stderr: ${stderr.slice(-2000)}`));
        });
      });
    },
    send(control) {
      child.stdin.write(`${JSON.stringify(control)}\n`);
    },
  } as TrainerSession;
}

/** Every file under `dir` with its bytes and mode (folders and links as such), for "nothing changed" checks. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const name = path.join(relative, entry.name);
      const full = path.join(dir, name);
      if (entry.isSymbolicLink()) out[name] = `link -> ${fs.readlinkSync(full)}`;
      else if (entry.isDirectory()) {
        out[`${name}/`] = '';
        walk(name);
      } else out[name] = `${fs.statSync(full).mtimeMs} ${fs.readFileSync(full).toString('base64')}`;
    }
  };
  walk('');
  return out;
}

/** Waits until `check` holds, polling. */
export async function until(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const started = Date.now();
  while (!check()) {
    assert.ok(Date.now() - started < timeoutMs, `timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The parsed lines of a JSONL file ([] if missing). */
export function readJsonl(file: string): Record<string, unknown>[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}
