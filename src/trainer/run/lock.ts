/**
 * The run lock: whether a trainer is alive on a run is decided by a socket that trainer listens on, not by
 * the pid in status.json (a pid can be reused by another process, and a trainer killed with SIGKILL stays
 * "alive" to kill(pid, 0) until its parent reaps it, which an init that never reaps never does). The kernel
 * closes the socket the moment the process exits, however it exits, so the lock can never go stale.
 *
 * The socket's address is keyed by a hash of the run folder's real path: an abstract unix socket on Linux
 * (no file at all), a named pipe on Windows, and a socket file under the OS temp folder elsewhere (a file
 * left by a dead trainer refuses connections and is replaced). Nothing is written inside the run folder.
 * A connection to a held lock is answered with the holder's pid, for the error message.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RunDirectoryError } from './errors.js';

export interface RunLock {
  /** The socket address (for diagnostics). */
  readonly address: string;
  /** Releases the lock (the kernel does so anyway when the process exits). */
  release(): void;
}

/** The run folder's canonical path: its real path, or its parent's real path + its name when it does not exist yet. */
function canonicalRunPath(runDir: string): string {
  const absolute = path.resolve(runDir);
  try {
    return fs.realpathSync(absolute);
  } catch {
    try {
      return path.join(fs.realpathSync(path.dirname(absolute)), path.basename(absolute));
    } catch {
      return absolute;
    }
  }
}

/** The lock's socket address for a run folder. */
export function lockAddress(runDir: string): string {
  const key = createHash('sha256').update(canonicalRunPath(runDir)).digest('hex').slice(0, 32);
  if (process.platform === 'win32') return `\\\\?\\pipe\\durian-run-${key}`;
  if (process.platform === 'linux') return `\0durian-run-${key}`;
  return path.join(os.tmpdir(), `durian-run-${key}.sock`);
}

function isFileSocket(address: string): boolean {
  return !address.startsWith('\0') && !address.startsWith('\\\\');
}

function listen(server: net.Server, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(address, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** The pid of the process holding the lock at `address`, 0 when it answers without one, null when none holds it. */
function probe(address: string, timeoutMs = 2000): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = net.connect(address);
    let answer = '';
    const finish = (value: number | null) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => finish(0));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('end', () => finish(Number.parseInt(answer, 10) || 0));
    socket.on('error', () => finish(null));
  });
}

/** The pid of the live trainer holding the run's lock (0 if it did not say), or null when no trainer holds it. */
export function runLockHolder(runDir: string): Promise<number | null> {
  return probe(lockAddress(runDir));
}

/**
 * Takes the run's lock; throws RunDirectoryError IN_USE when a live trainer holds it. The socket does not
 * keep the process alive (unref).
 */
export async function acquireRunLock(runDir: string): Promise<RunLock> {
  const address = lockAddress(runDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(`${process.pid}\n`);
    });
    try {
      await listen(server, address);
      server.unref();
      return {
        address,
        release: () => {
          server.close();
        },
      };
    } catch (error) {
      server.close();
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
        throw new RunDirectoryError(runDir, 'LOCK', `Could not lock the run ${runDir} (socket ${JSON.stringify(address)}): ${(error as Error).message}`, { cause: error });
      }
      const holder = await probe(address);
      if (holder !== null) {
        const who = holder > 0 ? `process ${holder}` : 'another process';
        throw new RunDirectoryError(runDir, 'IN_USE', `Run ${path.basename(runDir)} is being trained by ${who} right now (it holds the run's lock); stop that trainer first, or wait for it to finish`);
      }
      // A socket file left by a trainer that died: nobody answers on it, so it is replaced.
      if (isFileSocket(address)) fs.rmSync(address, { force: true });
    }
  }
  throw new RunDirectoryError(runDir, 'LOCK', `Could not lock the run ${runDir}: its lock socket ${JSON.stringify(address)} is in use but does not answer`);
}
