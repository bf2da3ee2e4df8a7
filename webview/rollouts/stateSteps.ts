/**
 * The steps with rollouts (on disk or live) and moving between them: which step to ask the host for.
 */
import { lowerBound, nearestKeptStep } from '../../src/protocol/webview.js';
import type { RolloutsModel } from './stateModel.js';

export function removeStep(steps: number[], step: number): void {
  const index = steps.indexOf(step);
  if (index >= 0) steps.splice(index, 1);
}

export function insertStep(steps: number[], step: number): void {
  if (steps.length === 0 || steps[steps.length - 1] < step) {
    steps.push(step);
    return;
  }
  const low = lowerBound(steps, step);
  if (steps[low] !== step) steps.splice(low, 0, step);
}

export type NavigationTarget = 'latest' | 'previous' | 'next' | 'first' | number;

/**
 * Moves the view: returns the step whose groups must be asked of the host, or undefined when nothing
 * needs asking (already shown, the live step, or no such step). Leaving the latest step stops following.
 */
export function navigate(model: RolloutsModel, target: NavigationTarget): number | undefined {
  const { steps } = model;
  if (steps.length === 0) return undefined;
  const current = model.wantedStep ?? model.shown?.step ?? steps[steps.length - 1];
  let step: number;
  if (target === 'latest') step = steps[steps.length - 1];
  else if (target === 'first') step = steps[0];
  else if (target === 'previous') step = [...steps].reverse().find((s) => s < current) ?? steps[0];
  else if (target === 'next') step = steps.find((s) => s > current) ?? steps[steps.length - 1];
  else step = nearestKeptStep(steps, target) ?? target;
  model.followLive = target === 'latest' || (model.followLive && step === steps[steps.length - 1]);
  model.revision++;
  if (model.live?.step === step) {
    model.wantedStep = undefined;
    model.shown = { step, estimator: model.live.estimator, groups: model.live.groups, source: 'live', skipped: 0 };
    return undefined;
  }
  if (model.shown?.step === step && model.wantedStep === undefined) return undefined;
  model.wantedStep = step;
  return step;
}

export function setFollowLive(model: RolloutsModel, follow: boolean): number | undefined {
  model.followLive = follow;
  model.revision++;
  return follow ? navigate(model, 'latest') : undefined;
}

