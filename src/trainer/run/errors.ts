/**
 * `RunDirectoryError`: every failure of the run directory, naming the file and the cause in words a user
 * can act on ("the disk is full (ENOSPC)"), so the trainer can send it as a `trainer/error` event as is.
 */

/** Codes beside the file-system errno codes (ENOSPC, EACCES, EROFS, ...). */
export type RunDirectoryProblem = 'UNSAFE_PATH' | 'INVALID_INPUT' | 'NOT_A_RUN' | 'RUN_EXISTS' | 'IN_USE' | 'CORRUPT' | 'NO_CHECKPOINT' | 'SYMLINK' | 'LOCK';

/** Problems with what the user asked for (a folder that is not a run, a run in use, ...): one line, exit code 2. */
const USER_PROBLEMS: ReadonlySet<string> = new Set<RunDirectoryProblem>(['UNSAFE_PATH', 'INVALID_INPUT', 'NOT_A_RUN', 'RUN_EXISTS', 'IN_USE', 'NO_CHECKPOINT', 'SYMLINK']);

/** Whether `error` is a RunDirectoryError about the user's request rather than a failure of the disk or a bug. */
export function isUserRunProblem(error: unknown): boolean {
  return error instanceof RunDirectoryError && USER_PROBLEMS.has(error.code);
}

export class RunDirectoryError extends Error {
  /** The file or folder concerned. */
  readonly file: string;
  /** An errno code (`ENOSPC`, `EACCES`, `EROFS`, ...) or a RunDirectoryProblem. */
  readonly code: string;

  constructor(file: string, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunDirectoryError';
    this.file = file;
    this.code = code;
  }
}

const CAUSES: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a parent of this path is a file, not a folder',
  EISDIR: 'it is a folder, not a file',
  ENOENT: 'it does not exist',
  EEXIST: 'it already exists',
  EMFILE: 'too many files are open',
  EIO: 'the disk reported an input/output error',
  ELOOP: 'it is a symbolic link, which a run folder may not hold',
};

const HINTS: Readonly<Record<string, string>> = {
  ENOSPC: ' Free some disk space, then resume the run from its last checkpoint.',
  EDQUOT: ' Free some space, then resume the run from its last checkpoint.',
  EACCES: ' Choose a runs folder you can write to (setting durian.runsFolder / --runs-folder).',
  EROFS: ' Choose a runs folder on a writable disk (setting durian.runsFolder / --runs-folder).',
};

/** Wraps a file-system error as a RunDirectoryError: `Could not write /runs/a/config.json: the disk is full (ENOSPC).` */
export function fsFailure(action: string, file: string, error: unknown): RunDirectoryError {
  if (error instanceof RunDirectoryError) return error;
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'EUNKNOWN';
  const cause = CAUSES[code] ?? (error instanceof Error ? error.message : String(error));
  return new RunDirectoryError(file, code, `Could not ${action} ${file}: ${cause} (${code}).${HINTS[code] ?? ''}`, { cause: error });
}

/** Runs a file-system action, turning any failure into a RunDirectoryError naming `file`. */
export function guardFs<T>(action: string, file: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw fsFailure(action, file, error);
  }
}
