/**
 * The Rollout Groups panel's model: what it knows of the run, the steps, the step shown, the controls sent,
 * the editor's draft, the filters and the notices (the reducer is ./state.ts).
 */
import type { EstimatorName } from '../../src/core/estimators/registry.js';
import type { RolloutGroup } from '../../src/protocol/events.js';
import type { FixedEstimatorOptions, LiveConfig } from '../../src/protocol/liveConfig.js';
import type { InterventionLine, PromptHistoryPoint, RolloutsControlMessage } from '../../src/protocol/rolloutsWebview.js';
import type { DashboardRunState, ReportedConfig } from '../../src/protocol/webview.js';
import type { ConfigDraft } from './stateConfig.js';
import type { Filters } from './stateFilters.js';
import { restoreSavedState } from './stateSaved.js';

/** A control the panel sends. */
export type PanelControl = RolloutsControlMessage['control'];

export type RunState = DashboardRunState | 'waiting';
export const MAX_NOTICES = 6;

export interface RunInfo {
  runName: string;
  runDir: string;
  state: RunState;
  message?: string;
  imageBase: string;
  totalSteps?: number;
  /** A trainer is running on this run: controls can be sent. */
  live: boolean;
}

export interface ShownStep {
  step: number;
  /** The estimator of the step's update (live: from the event; a file: from the configuration timeline). */
  estimator?: EstimatorName;
  groups: RolloutGroup[];
  source: 'file' | 'live';
  /** Unreadable lines of the file. */
  skipped: number;
  /** No rollouts were found for this step. */
  missing?: boolean;
}

/** `sending`: posted to the host; `sent`: the host forwarded it; `refused`: the host did not; `rejected`: the trainer did not. */
export type PendingStatus = 'sending' | 'sent' | 'refused' | 'rejected';

export interface PendingControl {
  control: PanelControl;
  status: PendingStatus;
  /** The step from which it holds, once the trainer acknowledged it. */
  appliedStep?: number;
  error?: string;
}

export interface Notice {
  level: 'error' | 'warning' | 'info';
  text: string;
}

export interface RolloutsModel {
  run: RunInfo;
  /** Steps that have rollouts (on disk or live), ascending. */
  steps: number[];
  /** The newest step known. */
  latestStep?: number;
  /** Show each new step as it arrives. */
  followLive: boolean;
  /** The step asked for (its groups may still be on the way). */
  wantedStep?: number;
  shown?: ShownStep;
  /** The latest live step, its chunks joined. */
  live?: { step: number; estimator: EstimatorName; groups: RolloutGroup[] };
  baseConfig?: LiveConfig;
  /** The live configuration the trainer last reported (hello, applied): in force from its step on. */
  reportedConfig?: ReportedConfig;
  fixedOptions: FixedEstimatorOptions;
  interventions: InterventionLine[];
  /** Controls sent from this webview that are not in the interventions log yet (or failed). */
  pending: PendingControl[];
  filters: Filters;
  draft: ConfigDraft;
  /** Show the preview (edited coefficients) beside the trainer's advantages. */
  previewOn: boolean;
  selectedPromptId?: string;
  history?: { promptId: string; points: PromptHistoryPoint[] };
  notices: Notice[];
  revision: number;
}

export function createModel(saved?: unknown): RolloutsModel {
  const restored = restoreSavedState(saved);
  return {
    run: { runName: '', runDir: '', state: 'waiting', imageBase: '', live: false },
    steps: [],
    followLive: restored.followLive,
    ...(restored.followLive || restored.lastStep === undefined ? {} : { wantedStep: restored.lastStep }),
    fixedOptions: {},
    interventions: [],
    pending: restored.pending,
    filters: restored.filters,
    draft: restored.draft,
    previewOn: false,
    ...(restored.selectedPromptId ? { selectedPromptId: restored.selectedPromptId } : {}),
    notices: [],
    revision: 0,
  };
}

export function addNotice(model: RolloutsModel, text: string, level: Notice['level'] = 'error'): void {
  model.notices.push({ level, text });
  if (model.notices.length > MAX_NOTICES) model.notices.splice(0, model.notices.length - MAX_NOTICES);
  model.revision++;
}

