/**
 * Atomic checkpoints. A checkpoint is a folder `checkpoints/step-000010/` holding its parts (raw bytes,
 * e.g. weights, or JSON objects, e.g. optimiser and live config) and a `manifest.json` listing every
 * part with its size and SHA-256. It is written as a whole:
 *   1. write the parts and then the manifest into `checkpoints/.tmp-step-000010/`, fsync each file and
 *      the folder;
 *   2. rename the folder to `step-000010` (atomic) and fsync `checkpoints/`;
 *   3. replace `checkpoints/latest` (atomically) with the folder's name;
 *   4. delete all but the newest K checkpoints (never the one `latest` names).
 * A crash before 2 leaves only a `.tmp-` folder, which is ignored and removed on open; a crash between 2
 * and 3 leaves `latest` naming the previous checkpoint, still intact, and the run resumes from there
 * (`truncateAfterStep` then removes the newer folder). `latest` is the commit record: to resume from an
 * older checkpoint, write its name into it. Reading verifies the manifest (sizes and SHA-256) and, if
 * the named checkpoint is missing or damaged, falls back to the newest intact one.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDirectory, removeQuietly, writeBytesAtomic, writeFileDurably } from './atomic.js';
import { RunDirectoryError, fsFailure, guardFs } from './errors.js';
import { CHECKPOINTS_DIR, CHECKPOINT_MANIFEST, LATEST_POINTER, TMP_PREFIX, stepName, stepOfName } from './layout.js';
import { checkName } from './paths.js';

/** A part is raw bytes (written as is) or a JSON-serialisable object (written as JSON). */
export type CheckpointPart = Uint8Array | object;

export interface CheckpointManifest {
  step: number;
  createdAt: string;
  parts: Record<string, { kind: 'bytes' | 'json'; bytes: number; sha256: string }>;
}

export interface CheckpointInfo {
  step: number;
  /** Absolute path of the checkpoint folder. */
  path: string;
  /** Path relative to the run directory (`checkpoints/step-000010`), as sent in `trainer/checkpoint`. */
  relativePath: string;
}

export interface LoadedCheckpoint extends CheckpointInfo {
  createdAt: string;
  /** Parts written as bytes. */
  bytes: Record<string, Uint8Array>;
  /** Parts written as objects, parsed. */
  json: Record<string, unknown>;
  /** Newer checkpoints that were skipped as damaged, with the reason (for a log line). */
  skipped: string[];
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function partBytes(name: string, part: CheckpointPart): { kind: 'bytes' | 'json'; bytes: Uint8Array } {
  if (part instanceof Uint8Array) return { kind: 'bytes', bytes: part };
  if (ArrayBuffer.isView(part) || part instanceof ArrayBuffer) {
    throw new RunDirectoryError(name, 'INVALID_INPUT', `checkpoint part ${JSON.stringify(name)} is a typed array other than Uint8Array; pass new Uint8Array(x.buffer, x.byteOffset, x.byteLength)`);
  }
  const json = JSON.stringify(part);
  if (json === undefined) throw new RunDirectoryError(name, 'INVALID_INPUT', `checkpoint part ${JSON.stringify(name)} is not JSON data`);
  return { kind: 'json', bytes: Buffer.from(json, 'utf8') };
}

/** Steps of the complete-looking checkpoint folders (`step-N`), newest first. */
export function listCheckpointSteps(checkpointsDir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(checkpointsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fsFailure('list', checkpointsDir, error);
  }
  return names.flatMap((name) => {
    const step = stepOfName(name);
    return step === undefined ? [] : [step];
  }).sort((a, b) => b - a);
}

function info(checkpointsDir: string, step: number): CheckpointInfo {
  const name = stepName(step);
  return { step, path: path.join(checkpointsDir, name), relativePath: `${CHECKPOINTS_DIR}/${name}` };
}

/** The step named by `latest`, if the pointer exists and holds a checkpoint name. */
export function readLatestPointer(checkpointsDir: string): number | undefined {
  try {
    return stepOfName(fs.readFileSync(path.join(checkpointsDir, LATEST_POINTER), 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** Writes a checkpoint as a whole (see the module comment) and keeps the newest `keep` ones. */
export function writeCheckpoint(checkpointsDir: string, step: number, parts: Record<string, CheckpointPart>, keep: number): CheckpointInfo {
  const target = info(checkpointsDir, step);
  const name = stepName(step);
  const staging = path.join(checkpointsDir, `${TMP_PREFIX}${name}`);
  const encoded = Object.entries(parts).map(([partName, part]) => {
    checkName(partName, 'checkpoint part name');
    if (partName === CHECKPOINT_MANIFEST) {
      throw new RunDirectoryError(partName, 'INVALID_INPUT', `checkpoint part name ${CHECKPOINT_MANIFEST} is reserved`);
    }
    return { partName, ...partBytes(partName, part) };
  });

  let current = staging;
  try {
    fs.mkdirSync(checkpointsDir, { recursive: true });
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging);
    const manifest: CheckpointManifest = { step, createdAt: new Date().toISOString(), parts: {} };
    for (const { partName, kind, bytes } of encoded) {
      current = path.join(staging, partName);
      writeFileDurably(current, bytes);
      manifest.parts[partName] = { kind, bytes: bytes.length, sha256: sha256(bytes) };
    }
    current = path.join(staging, CHECKPOINT_MANIFEST);
    writeFileDurably(current, `${JSON.stringify(manifest, null, 2)}\n`);
    fsyncDirectory(staging);
    current = target.path;
    if (fs.existsSync(target.path)) {
      // Re-writing a step (e.g. a resumed run checkpoints its first step again): move the old one aside.
      const old = path.join(checkpointsDir, `${TMP_PREFIX}old-${name}`);
      fs.rmSync(old, { recursive: true, force: true });
      fs.renameSync(target.path, old);
      fs.renameSync(staging, target.path);
      removeQuietly(old);
    } else {
      fs.renameSync(staging, target.path);
    }
    fsyncDirectory(checkpointsDir);
  } catch (error) {
    removeQuietly(staging);
    throw fsFailure('write checkpoint', current, error);
  }
  writeBytesAtomic(path.join(checkpointsDir, LATEST_POINTER), `${name}\n`);
  pruneCheckpoints(checkpointsDir, keep);
  return target;
}

/** Deletes all but the newest `keep` checkpoints; the one `latest` names is always kept. */
function pruneCheckpoints(checkpointsDir: string, keep: number): number[] {
  const latest = readLatestPointer(checkpointsDir);
  const removed = listCheckpointSteps(checkpointsDir)
    .slice(Math.max(1, keep))
    .filter((step) => step !== latest);
  for (const step of removed) guardFs('delete old checkpoint', info(checkpointsDir, step).path, () => fs.rmSync(info(checkpointsDir, step).path, { recursive: true, force: true }));
  return removed;
}

/** Loads and verifies one checkpoint; throws RunDirectoryError (code CORRUPT) when it is damaged. */
export function loadCheckpoint(checkpointsDir: string, step: number): Omit<LoadedCheckpoint, 'skipped'> {
  const where = info(checkpointsDir, step);
  const manifestFile = path.join(where.path, CHECKPOINT_MANIFEST);
  const corrupt = (file: string, problem: string) => new RunDirectoryError(file, 'CORRUPT', `checkpoint ${where.relativePath} is damaged: ${problem}`);
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as CheckpointManifest;
  } catch (error) {
    throw corrupt(manifestFile, `its manifest cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
  if (manifest === null || typeof manifest !== 'object' || manifest.step !== step || manifest.parts === null || typeof manifest.parts !== 'object') {
    throw corrupt(manifestFile, 'its manifest does not describe this step');
  }
  const bytes: Record<string, Uint8Array> = {};
  const json: Record<string, unknown> = {};
  for (const [partName, entry] of Object.entries(manifest.parts)) {
    checkName(partName, 'checkpoint part name');
    const file = path.join(where.path, partName);
    let content: Buffer;
    try {
      content = fs.readFileSync(file);
    } catch {
      throw corrupt(file, `part ${partName} is missing`);
    }
    if (content.length !== entry.bytes || sha256(content) !== entry.sha256) throw corrupt(file, `part ${partName} does not match its manifest`);
    if (entry.kind === 'json') {
      try {
        json[partName] = JSON.parse(content.toString('utf8')) as unknown;
      } catch {
        throw corrupt(file, `part ${partName} is not valid JSON`);
      }
    }
    else bytes[partName] = new Uint8Array(content.buffer, content.byteOffset, content.byteLength);
  }
  return { ...where, createdAt: String(manifest.createdAt), bytes, json };
}

/**
 * The newest intact checkpoint: the one `latest` names if intact, else the newest intact `step-N`
 * folder; null when there is none. Damaged ones are listed in `skipped`. Read-only.
 *
 * `decode` (optional) turns a checkpoint into what its user needs (weights, optimiser state, ...); a
 * checkpoint whose parts match the manifest but that `decode` rejects (throws) counts as damaged too, so
 * the next older intact one is used instead.
 */
export function readLatestCheckpoint<T = undefined>(checkpointsDir: string, decode?: (checkpoint: Omit<LoadedCheckpoint, 'skipped'>) => T): (LoadedCheckpoint & { decoded: T }) | null {
  return findLatestCheckpoint(checkpointsDir, decode).found;
}

/** `readLatestCheckpoint`, also telling why each passed-over checkpoint was skipped when none was intact. */
export function findLatestCheckpoint<T = undefined>(
  checkpointsDir: string,
  decode?: (checkpoint: Omit<LoadedCheckpoint, 'skipped'>) => T,
): { found: (LoadedCheckpoint & { decoded: T }) | null; skipped: string[] } {
  const pointer = readLatestPointer(checkpointsDir);
  const steps = listCheckpointSteps(checkpointsDir);
  const order = pointer !== undefined && steps.includes(pointer) ? [pointer, ...steps.filter((s) => s !== pointer)] : steps;
  const skipped: string[] = [];
  if (pointer !== undefined && !steps.includes(pointer)) skipped.push(`${LATEST_POINTER} names ${stepName(pointer)}, which does not exist`);
  for (const step of order) {
    let loaded: Omit<LoadedCheckpoint, 'skipped'>;
    try {
      loaded = loadCheckpoint(checkpointsDir, step);
    } catch (error) {
      if (!(error instanceof RunDirectoryError)) throw error;
      skipped.push(error.message);
      continue;
    }
    try {
      const decoded = decode ? decode(loaded) : (undefined as T);
      return { found: { ...loaded, skipped, decoded }, skipped };
    } catch (error) {
      skipped.push(`checkpoint ${loaded.relativePath} matches its manifest but cannot be loaded: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { found: null, skipped };
}
