/**
 * Path safety: every path built from input (a run name, an image path from a message, a checkpoint part
 * name) is checked and resolved so it stays inside its root. Rejected: empty names, NUL bytes, absolute
 * paths (POSIX or Windows), `..` segments, and anything whose resolved form leaves the root.
 */
import path from 'node:path';
import { RunDirectoryError } from './errors.js';

const MAX_NAME_CHARS = 100;
/** Run names and file names: a letter or digit first and last, then letters, digits, space, `. _ + -`. */
const SAFE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9 ._+-]*[A-Za-z0-9_+-])?$/;

function unsafe(what: string, given: string, problem: string): RunDirectoryError {
  const shown = JSON.stringify(given.length > 80 ? `${given.slice(0, 80)}...` : given);
  return new RunDirectoryError(given, 'UNSAFE_PATH', `${what} ${shown} ${problem}`);
}

function checkCommon(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new RunDirectoryError(String(value), 'UNSAFE_PATH', `${what} must be a non-empty string, got ${typeof value === 'string' ? 'an empty string' : typeof value}`);
  }
  if (value.includes('\0')) throw unsafe(what, value, 'contains a NUL byte');
  if (path.posix.isAbsolute(value) || path.win32.isAbsolute(value)) throw unsafe(what, value, 'is an absolute path; it must be relative');
  if (value.split(/[\\/]/).includes('..')) throw unsafe(what, value, 'contains a ".." segment; it must stay inside its folder');
  return value;
}

/** A single path segment: a run name, an image file name, a checkpoint part name. */
export function checkName(value: unknown, what = 'name'): string {
  const name = checkCommon(what, value);
  if (/[\\/]/.test(name)) throw unsafe(what, name, 'must be a single name, without "/" or "\\"');
  if (name.length > MAX_NAME_CHARS) throw unsafe(what, name, `is longer than ${MAX_NAME_CHARS} characters`);
  if (!SAFE_NAME.test(name)) {
    throw unsafe(what, name, 'may hold only letters, digits, spaces and . _ + -, and must start and end with a letter or digit');
  }
  return name;
}

/**
 * `root/relative`, resolved, after checking that it stays strictly inside `root`. `relative` may hold
 * several segments (`images/p-1.png`).
 */
export function resolveInside(root: string, relative: unknown, what = 'path'): string {
  const checked = checkCommon(what, relative);
  const base = path.resolve(root);
  const full = path.resolve(base, checked);
  if (!full.startsWith(base + path.sep)) throw unsafe(what, checked, `does not name a file inside ${base}`);
  return full;
}
