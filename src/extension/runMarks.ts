/**
 * The marks of a run the Dashboard draws on its charts besides interventions, as the host finds them: the
 * checkpoints on disk, the steps trainer.log says were skipped (non-finite), and the pauses, resumes and
 * resume boundaries this window saw (no file records those). No VS Code API: tested with real folders.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { CHECKPOINTS_DIR, LOG_FILE, MAX_RUN_MARKS, type RunMark, skippedStepOf, stepOfName } from '../protocol/index.js';

/** trainer.log is scanned for skipped steps only up to this size. */
const MAX_LOG_SCAN_BYTES = 64 * 1024 * 1024;

/** Pauses, resumes and resume boundaries seen in this window, by run directory (no file records them). */
const sessionMarks = new Map<string, RunMark[]>();

/** Keeps a pause, resume or resume boundary of `runDir`; a resume boundary forgets the marks after its step (redone). */
export function rememberMark(runDir: string, mark: RunMark): void {
  let marks = sessionMarks.get(runDir) ?? [];
  if (mark.kind === 'resumedFrom') marks = marks.filter((kept) => kept.step <= mark.step);
  if (marks.length < MAX_RUN_MARKS) marks.push(mark);
  sessionMarks.set(runDir, marks);
}

/** Checkpoints on disk (checkpoints/step-NNNNNN) and the steps trainer.log says were skipped. */
export function readRunMarks(runDir: string): RunMark[] {
  const marks: RunMark[] = [];
  try {
    for (const name of readdirSync(path.join(runDir, CHECKPOINTS_DIR))) {
      const step = stepOfName(name);
      if (step !== undefined) marks.push({ kind: 'checkpoint', step });
    }
  } catch {
    // no checkpoints yet
  }
  const log = path.join(runDir, LOG_FILE);
  try {
    if (existsSync(log) && statSync(log).size <= MAX_LOG_SCAN_BYTES) {
      for (const line of readFileSync(log, 'utf8').split('\n')) {
        if (!line.includes(' skipped: ')) continue;
        // `<ISO time> <LEVEL> <message>`
        const skipped = skippedStepOf(line.replace(/^\S+\s+\S+\s+/, ''));
        if (skipped) marks.push(skipped);
      }
    }
  } catch {
    // an unreadable log: no skipped steps shown
  }
  return marks.slice(0, MAX_RUN_MARKS);
}

/** The marks `rememberMark` kept for `runDir`. */
export function sessionMarksOf(runDir: string): readonly RunMark[] {
  return sessionMarks.get(runDir) ?? [];
}
