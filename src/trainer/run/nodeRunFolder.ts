/**
 * The protocol's run-folder reader (src/protocol/runFolderReader.ts) on this machine's file system, for the
 * CLI and the study: files are read through the trainer's regular-file helper (a FIFO or device in a run
 * folder is never waited on), and nothing throws for a missing or unreadable file.
 */
import { closeSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { RunFolderFs } from '../../protocol/index.js';
import { openRegularFile, readRange, readRegularFile } from '../regularFile.js';
import { isProcessAlive } from './status.js';

function quietly<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function readTail(file: string, bytes: number): string {
  const { fd, size } = openRegularFile(file, 'run file');
  try {
    return readRange(fd, Math.max(0, size - bytes), Math.min(size, bytes)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export const NODE_RUN_FOLDER: RunFolderFs = {
  readText: (file) => quietly(() => readRegularFile(file, 'run file').toString('utf8')),
  readTail: (file, bytes) => quietly(() => readTail(file, bytes)),
  listFolders: (folder) => quietly(() => readdirSync(folder, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name)) ?? [],
  join: (folder, name) => path.join(folder, name),
  isProcessAlive,
};
