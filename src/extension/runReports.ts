/**
 * What the extension tells the user about a run that ended, as plain functions of what is known (no
 * VS Code API, so they are unit-tested): what to do after a crash, the summary of a completed run, and the
 * Runs view's tooltip lines.
 */
import { formatDuration } from '../protocol/index.js';
import type { RunDetails, RunSummary } from './runFiles.js';

/** What is known of a crashed run when the advice is given. */
export interface CrashFacts {
  /** The run folder exists (the trainer created it or it was resumed). */
  runFolderExists: boolean;
  /** It holds a checkpoint (`checkpoints/latest`). */
  hasCheckpoint: boolean;
  /** The last finished step. */
  step: number;
}

/** What to do after a crash, in one or two sentences. */
export function crashAdvice(facts: CrashFacts): string {
  if (!facts.runFolderExists) {
    return 'The trainer stopped before the run started, so no run folder was created. Fix the problem above (a setting or the configuration file) and start again with "Durian: Start Training"; the "Durian RL" output has the trainer\'s log.';
  }
  if (!facts.hasCheckpoint) {
    return 'The run folder holds no checkpoint yet, so there is nothing to resume. Fix the problem above and start a new run with "Durian: Start Training"; the run folder\'s trainer.log and the "Durian RL" output have the details.';
  }
  return `The run folder is intact: "Durian: Resume Run" continues it from its last checkpoint. The "Durian RL" output has the trainer's log.`;
}

/** Validation accuracy `before -> after`, or what is missing. */
function validationChange(details: Pick<RunDetails, 'firstValidation' | 'lastValidation'>): string {
  const { firstValidation: first, lastValidation: last } = details;
  if (!first || !last) return 'no validation was recorded';
  if (first.step === last.step) return `validation accuracy ${first.accuracy.toFixed(3)} (step ${first.step})`;
  return `validation accuracy ${first.accuracy.toFixed(3)} -> ${last.accuracy.toFixed(3)} (step ${first.step} -> ${last.step})`;
}

/** The notification of a completed run: `Durian: run X completed 250 steps in 4 min 10 s; validation accuracy 0.34 -> 0.56 (step 0 -> 250).` */
export function completionMessage(runName: string, steps: number, details: RunDetails): string {
  const took = details.elapsedMs !== undefined ? ` in ${formatDuration(details.elapsedMs)}` : '';
  return `Durian: run ${runName} completed ${steps} steps${took}; ${validationChange(details)}.`;
}

/** What the Runs view knows of a run for its tooltip. */
export interface RunTooltipFacts extends RunDetails, RunSummary {
  /** This window's trainer runs it. */
  trainedHere: boolean;
}

/**
 * A run's name as the Runs view shows it: the extension's `20261202-004037-durian` as `12-02 00:40 durian`
 * (the folder's full name is in the tooltip), so the state next to it fits a narrow side bar; any other
 * name as it is.
 */
export function runDisplayName(name: string): string {
  const match = /^\d{4}(\d{2})(\d{2})-(\d{2})(\d{2})\d{2}-(.+)$/.exec(name);
  return match ? `${match[1]}-${match[2]} ${match[3]}:${match[4]} ${match[5]}` : name;
}

/** The Runs view's short state: what the row's description starts with. */
export function runStateLabel(run: Pick<RunTooltipFacts, 'state' | 'trainer' | 'trainedHere'>): string {
  if (run.trainer === 'gone') return 'interrupted';
  if (run.trainer === 'unknown' && !run.trainedHere) return `${run.state}?`;
  return run.state;
}

/** Whether "Resume Run" is offered: any run this window does not train right now. */
export function isResumable(run: Pick<RunTooltipFacts, 'state' | 'trainedHere'>): boolean {
  return !run.trainedHere && run.state !== 'not a run';
}

/** The tooltip's lines (Markdown-free text; the view renders one per line). */
export function runTooltipLines(run: RunTooltipFacts): string[] {
  const lines = [`${run.name}: ${runStateLabel(run)}`];
  if (run.estimator) lines.push(`estimator ${run.estimator}${run.groupSize !== undefined ? ` · G = ${run.groupSize}` : ''}${run.batchSize !== undefined ? ` · B = ${run.batchSize}` : ''}${run.seed !== undefined ? ` · seed ${run.seed}` : ''}`);
  if (run.step !== undefined) lines.push(`step ${run.step}${run.totalSteps !== undefined ? ` / ${run.totalSteps}` : ''}`);
  const { firstValidation: first, lastValidation: last } = run;
  if (first && last) {
    const before = first.step === last.step ? '' : `; ${first.accuracy.toFixed(3)} at step ${first.step}`;
    lines.push(`final validation accuracy ${last.accuracy.toFixed(3)} (step ${last.step}${before})`);
  }
  if (run.elapsedMs !== undefined) lines.push(`training time ${formatDuration(run.elapsedMs)}`);
  if (run.message) lines.push(run.message);
  if (run.trainer === 'gone') {
    lines.push(`status.json says ${run.state === 'crashed' ? 'running' : run.state}, but its trainer (process ${run.pid ?? '?'}) has exited without saying so (killed, or the machine restarted). Resume Run continues from the last checkpoint.`);
  } else if (run.trainer === 'unknown' && !run.trainedHere) {
    lines.push(
      `status.json says ${run.state} in process ${run.pid ?? '?'}, which is not this window's trainer: another window or terminal may be training it, or that process id now belongs to another program. If no trainer runs it, use Resume Run: a trainer still holding the run refuses to share it.`,
    );
  }
  lines.push(run.dir);
  return lines;
}
