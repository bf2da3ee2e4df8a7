/**
 * The reducer of the Rollout Groups panel's model (./stateModel.ts): folds host messages into it, with no
 * DOM. The rest of the panel's logic has one module per job, all re-exported here: the steps and navigation
 * (./stateSteps.ts), the list's filters and sort (./stateFilters.ts), the configuration and the editor's draft
 * (./stateConfig.ts), the advantages preview (./statePreview.ts), the controls and interventions
 * (./stateInterventions.ts), and what the webview saves (./stateSaved.ts).
 *
 * The configuration in force is the trainer's report (`trainer/applied`'s and the run message's
 * `reportedConfig`); the log is replayed only for past steps. An `applied` of a control this webview sent adds
 * it to the interventions as the trainer logged it, without the host reading interventions.jsonl again.
 *
 * `applyMessage` updates the model in place and bumps `revision`; the view redraws when it changes.
 */
import type { Control } from '../../src/protocol/controls.js';
import { EVENT, type TrainerEvent } from '../../src/protocol/events.js';
import { type InterventionLine, ROLLOUTS, type RolloutsHostToWebviewMessage } from '../../src/protocol/rolloutsWebview.js';
import { reportedConfigOf } from '../../src/protocol/webview.js';
import { configAt } from './stateConfig.js';
import { type RolloutsModel, addNotice, createModel } from './stateModel.js';
import { insertStep, removeStep } from './stateSteps.js';

export * from './stateConfig.js';
export * from './stateFilters.js';
export * from './stateInterventions.js';
export * from './stateModel.js';
export * from './statePreview.js';
export * from './stateSaved.js';
export * from './stateSteps.js';

/** Folds messages, in order, into `model` (a new one by default). */
export function reduce(messages: Iterable<RolloutsHostToWebviewMessage>, model: RolloutsModel = createModel()): RolloutsModel {
  for (const message of messages) applyMessage(model, message);
  return model;
}

/** Applies one checked host message, in place; returns the model. */
export function applyMessage(model: RolloutsModel, message: RolloutsHostToWebviewMessage): RolloutsModel {
  switch (message.type) {
    case ROLLOUTS.run: {
      // The first run message after a reload is the same run the saved state was about.
      const sameRun = model.run.runDir === message.runDir || model.run.state === 'waiting';
      model.run = {
        runName: message.runName,
        runDir: message.runDir,
        state: message.state,
        ...(message.message ? { message: message.message } : {}),
        imageBase: message.imageBase,
        ...(message.totalSteps !== undefined ? { totalSteps: message.totalSteps } : {}),
        live: message.live,
      };
      model.steps = [...message.steps];
      model.latestStep = message.steps.length > 0 ? message.steps[message.steps.length - 1] : undefined;
      model.baseConfig = message.baseConfig;
      model.reportedConfig = message.reportedConfig;
      model.fixedOptions = message.fixedOptions ?? {};
      model.shown = undefined;
      model.history = undefined;
      if (!sameRun) {
        model.live = undefined;
        model.pending = [];
        model.wantedStep = undefined;
        model.selectedPromptId = undefined;
      } else if (model.live && model.live.step >= (model.latestStep ?? -1)) {
        insertStep(model.steps, model.live.step);
        model.latestStep = model.live.step;
      }
      setInterventions(model, message.interventions);
      break;
    }
    case ROLLOUTS.state:
      model.run.runName = message.runName;
      model.run.runDir = message.runDir;
      model.run.state = message.state;
      model.run.message = message.message;
      model.run.live = message.live;
      break;
    case ROLLOUTS.step:
      if (!message.missing) insertStep(model.steps, message.step);
      // A step seen live whose groups were not kept on disk (the trainer keeps every rolloutsEvery-th step, the
      // last one and the steps intervened on) leaves the list, so stepping back lands on kept steps.
      else if (message.step !== model.live?.step) removeStep(model.steps, message.step);
      if (model.latestStep === undefined || message.step > model.latestStep) model.latestStep = message.step;
      // A step asked for elsewhere (a click on a Dashboard chart) is shown and stays: following live stops.
      if (message.reveal) {
        model.followLive = false;
        model.wantedStep = message.step;
      }
      // Show it if it is the step asked for, or nothing was asked and we follow the newest.
      if (message.step === model.wantedStep || (model.wantedStep === undefined && (model.followLive || !model.shown))) {
        const estimator = configAt(model, message.step)?.estimator;
        model.shown = { step: message.step, ...(estimator ? { estimator } : {}), groups: message.groups, source: 'file', skipped: message.skipped, ...(message.missing ? { missing: true } : {}) };
        if (message.step === model.wantedStep) model.wantedStep = undefined;
      }
      break;
    case ROLLOUTS.live: {
      if (model.live?.step === message.step) model.live.groups.push(...message.groups);
      else model.live = { step: message.step, estimator: message.estimator, groups: [...message.groups] };
      insertStep(model.steps, message.step);
      if (model.latestStep === undefined || message.step >= model.latestStep) model.latestStep = message.step;
      const live = model.live;
      if ((model.followLive && model.wantedStep === undefined) || model.shown?.step === message.step) {
        model.shown = { step: live.step, estimator: live.estimator, groups: live.groups, source: 'live', skipped: 0 };
      }
      break;
    }
    case ROLLOUTS.event:
      applyEvent(model, message.event);
      break;
    case ROLLOUTS.interventions:
      setInterventions(model, message.interventions);
      break;
    case ROLLOUTS.promptHistory:
      if (message.promptId === model.selectedPromptId) model.history = { promptId: message.promptId, points: message.points };
      break;
    case ROLLOUTS.controlResult: {
      const pending = model.pending.find((p) => p.control.controlId === message.controlId);
      if (pending) {
        if (message.error) {
          pending.status = 'refused';
          pending.error = message.error;
        } else if (pending.status === 'sending') {
          pending.status = 'sent';
        }
      }
      break;
    }
  }
  model.revision++;
  return model;
}

function setInterventions(model: RolloutsModel, lines: InterventionLine[]): void {
  model.interventions = lines;
  const logged = new Set(lines.map((line) => line.controlId));
  // Applied controls are in the log now; failed ones stay listed until dismissed.
  model.pending = model.pending.filter((p) => !logged.has(p.control.controlId));
}

export function applyEvent(model: RolloutsModel, event: TrainerEvent): void {
  switch (event.type) {
    case EVENT.applied: {
      const reported = reportedConfigOf(event);
      if (reported) model.reportedConfig = reported;
      const pending = model.pending.find((p) => p.control.controlId === event.controlId);
      if (pending) {
        // The control is this webview's: it joins the log as the trainer wrote it (no need to read the file again).
        const line: InterventionLine = { step: event.step, at: new Date().toISOString(), kind: event.kind, controlId: event.controlId, control: pending.control as Control };
        setInterventions(model, [...model.interventions, line]);
      }
      break;
    }
    case EVENT.error: {
      const pending = event.controlId ? model.pending.find((p) => p.control.controlId === event.controlId) : undefined;
      if (pending) {
        pending.status = 'rejected';
        pending.error = event.message;
      } else {
        addNotice(model, `Trainer ${event.fatal ? 'error' : 'warning'}${event.where ? ` (${event.where})` : ''}: ${event.message}`, event.fatal ? 'error' : 'warning');
      }
      break;
    }
    case EVENT.step:
      break;
    case EVENT.paused:
      model.run.state = 'paused';
      break;
    case EVENT.resumed:
      model.run.state = 'running';
      break;
    case EVENT.done:
      model.run.state = event.reason === 'completed' ? 'completed' : 'stopped';
      model.run.live = false;
      break;
    default:
      break;
  }
}

