/**
 * Entry of the Rollout Groups webview (bundled to dist/webview/rollouts.js): restores the saved view
 * state, announces `webview/ready`, checks every host message with `parseRolloutsHostToWebview` (a bad
 * one becomes a notice), folds the good ones into the model and redraws on the next frame. The list is
 * virtualised (list.ts); the preview and the detail chart recompute advantages with src/core, cached
 * per step and configuration.
 */
import { CONTROL } from '../../src/protocol/controls.js';
import type { LiveConfig } from '../../src/protocol/liveConfig.js';
import { ROLLOUTS, type RolloutsWebviewToHostMessage, parseRolloutsHostToWebview } from '../../src/protocol/rolloutsWebview.js';
import { WEBVIEW } from '../../src/protocol/webview.js';
import type { GroupsExportMessage } from '../../src/protocol/compareExport.js';
import { frameCoalescer } from '../shared/frame.js';
import { vscodeApi } from '../shared/vscodeApi.js';
import { detailResizer, renderDetail } from './detail.js';
import { element, isField } from './dom.js';
import { VirtualList } from './list.js';
import {
  type ConfigTimeline,
  type DraftCheck,
  type PanelControl,
  type RewardOverride,
  type ShownStep,
  type StepAdvantages,
  addNotice,
  allEstimatorAdvantages,
  applyMessage,
  checkDraft,
  configAt,
  createModel,
  currentConfigTimeline,
  dismissFailed,
  interventionRows,
  intervenedPrompts,
  navigate,
  newControlId,
  rewardOverridesAt,
  savedState,
  sendControl,
  setFollowLive,
  visibleGroups,
  computeStepAdvantages,
} from './state.js';
import { type ShownGroups, groupsExportButtons } from './exportGroups.js';
import { InterventionsSection, RolloutsHeader } from './view.js';
import './rollouts.css';

const MAX_NOTICE_CHARS = 400;
/**
 * While following live, the list moves on to a newer step at most this often (a person cannot read faster),
 * and not before the thumbnails in view have loaded, up to LIVE_LIST_MAX_WAIT_MS (a busy machine may take
 * longer than a step to load them: at ~20 steps a second they would never show).
 */
export const LIVE_LIST_INTERVAL_MS = 1000;
export const LIVE_LIST_MAX_WAIT_MS = 5000;
/** How often a step waiting for its thumbnails looks again. */
const THUMBNAIL_CHECK_MS = 100;

const api = vscodeApi<RolloutsWebviewToHostMessage | GroupsExportMessage>();
const model = createModel(api.getState());

function request(step: number | undefined): void {
  if (step !== undefined) api.postMessage({ type: ROLLOUTS.requestStep, step });
}

function send(control: PanelControl): void {
  api.postMessage(sendControl(model, control));
  scheduleRender();
}

/** Stops following live on the step drawn (a newer one may be waiting for LIVE_LIST_INTERVAL_MS). */
function stopFollowingHere(): void {
  model.followLive = false;
  if (drawn && model.shown !== drawn && drawn.source === 'live') model.shown = drawn;
}

function select(promptId: string | undefined): void {
  // Stay on this step while the details are open: a live step would replace the group under the user.
  if (promptId) stopFollowingHere();
  model.selectedPromptId = promptId;
  model.history = undefined;
  model.revision++;
  if (promptId) api.postMessage({ type: ROLLOUTS.requestPromptHistory, promptId });
  scheduleRender();
}

const header = new RolloutsHeader(
  {
    navigate: (target) => {
      request(navigate(model, target));
      scheduleRender();
    },
    followLive: (follow) => {
      if (!follow) stopFollowingHere();
      request(setFollowLive(model, follow));
      scheduleRender();
    },
    filtersChanged: (change) => {
      model.filters = { ...model.filters, ...change };
      model.revision++;
      scheduleRender();
    },
    draftChanged: (field, value) => {
      const draft = { ...model.draft };
      if (value === undefined) delete draft[field];
      else draft[field] = value;
      model.draft = draft;
      model.revision++;
      scheduleRender();
    },
    togglePreview: () => {
      model.previewOn = !model.previewOn;
      model.revision++;
      scheduleRender();
    },
    applyDraft: () => {
      const check = currentCheck();
      if (!check || Object.keys(check.errors).length > 0 || Object.keys(check.changes).length === 0) return;
      send({ type: CONTROL.setConfig, controlId: newControlId('config'), changes: check.changes });
      model.draft = {};
    },
    resetDraft: () => {
      model.draft = {};
      model.revision++;
      scheduleRender();
    },
    undo: (targetControlId) => send({ type: CONTROL.undo, controlId: newControlId('undo'), targetControlId }),
    dismissNotices: () => {
      model.notices = [];
      model.revision++;
      scheduleRender();
    },
  },
  model.filters,
);

/** The groups on screen (step, filter and sort applied), for Export CSV / Parquet. */
let shownForExport: ShownGroups | undefined;
header.root.querySelector('.toolbar')?.append(groupsExportButtons(() => shownForExport, (message) => api.postMessage(message)));

const list = new VirtualList({
  select: (promptId) => select(promptId),
  setWeight: (promptId, weight) => send({ type: CONTROL.setGroupWeight, controlId: newControlId('weight'), promptId, weight }),
  exclude: (promptId) => send({ type: CONTROL.excludePrompt, controlId: newControlId('exclude'), promptId }),
});
const detail = element('aside', 'group-detail');
detail.hidden = true;
detail.addEventListener('focusout', () => setTimeout(scheduleRender, 0));
const resizer = detailResizer(detail);
const empty = element('p', 'empty-message');
const body = element('main', 'rollouts-body');
body.append(list.root, resizer, detail);
const interventions = new InterventionsSection(
  (targetControlId) => send({ type: CONTROL.undo, controlId: newControlId('undo'), targetControlId }),
  () => {
    dismissFailed(model);
    scheduleRender();
  },
);
document.body.append(header.root, empty, body, interventions.root);

// ---- caches of derived data ----

let timelineKey: unknown[] = [];
let timeline: ConfigTimeline | undefined;
function currentTimeline(): ConfigTimeline | undefined {
  const key = [model.baseConfig, model.interventions, model.reportedConfig];
  if (key.some((part, i) => part !== timelineKey[i])) {
    timeline = currentConfigTimeline(model);
    timelineKey = key;
  }
  return timeline;
}

function currentCheck(): DraftCheck | undefined {
  const config = currentTimeline()?.config;
  return config ? checkDraft(model.draft, config) : undefined;
}

function configKey(config: LiveConfig): string {
  return JSON.stringify(config);
}

let previewKey = '';
let previewGroups: unknown;
let previewLength = -1;
let preview: StepAdvantages | undefined;
function currentPreview(shown: ShownStep | undefined, check: DraftCheck | undefined): StepAdvantages | undefined {
  if (!model.previewOn || !check || !shown || Object.keys(check.errors).length > 0) return undefined;
  const key = configKey(check.config);
  if (key !== previewKey || previewGroups !== shown.groups || previewLength !== shown.groups.length) {
    const result = computeStepAdvantages(shown.groups, check.config.estimator, check.config, model.fixedOptions);
    if ('error' in result) {
      addNotice(model, `Preview: ${result.error}`.slice(0, MAX_NOTICE_CHARS), 'warning');
      preview = undefined;
    } else {
      preview = result;
    }
    previewKey = key;
    previewGroups = shown.groups;
    previewLength = shown.groups.length;
  }
  return preview;
}

let estimatorsKey: unknown[] = [];
let estimators: ReturnType<typeof allEstimatorAdvantages> = {};
function stepEstimators(shown: ShownStep): ReturnType<typeof allEstimatorAdvantages> {
  const key = [shown.groups, shown.groups.length, model.baseConfig, model.interventions, model.reportedConfig, shown.step];
  if (key.some((part, i) => part !== estimatorsKey[i])) {
    const config = configAt(model, shown.step);
    if (!config) return {};
    estimators = allEstimatorAdvantages(shown.groups, config, model.fixedOptions);
    estimatorsKey = key;
  }
  return estimators;
}

// ---- rendering ----

const scheduleRender = frameCoalescer(render);
let listKey: unknown[] = [];
let detailKey: unknown[] = [];
let detailPrompt = '';
/** The step drawn last, and when it replaced the one before (for LIVE_LIST_INTERVAL_MS). */
let drawn: ShownStep | undefined;
let drawnAt = -Infinity;
let liveTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * The step to draw: the model's, except that while following live a newer live step waits until the one
 * drawn has been shown LIVE_LIST_INTERVAL_MS and its thumbnails have loaded (a timer looks again).
 */
function stepToDraw(now: number): ShownStep | undefined {
  const shown = model.shown;
  const newerLive = shown?.source === 'live' && drawn?.source === 'live' && model.followLive && shown.step > drawn.step;
  const shownFor = now - drawnAt;
  const loading = shownFor < LIVE_LIST_MAX_WAIT_MS && !list.thumbnailsSettled();
  const wait = loading ? Math.max(THUMBNAIL_CHECK_MS, LIVE_LIST_INTERVAL_MS - shownFor) : LIVE_LIST_INTERVAL_MS - shownFor;
  if (newerLive && (wait > 0 || loading)) {
    liveTimer ??= setTimeout(() => {
      liveTimer = undefined;
      scheduleRender();
    }, wait);
    return drawn;
  }
  if (shown?.step !== drawn?.step || shown?.source !== drawn?.source) drawnAt = now;
  drawn = shown;
  return shown;
}

function render(): void {
  const shown = stepToDraw(performance.now());
  const check = currentCheck();
  const previewed = currentPreview(shown, check);
  const intervened = intervenedPrompts(model);
  const overrides = shown ? rewardOverridesAt(model, shown.step) : new Map<string, RewardOverride>();
  const groups = shown?.groups ?? [];
  const rows = visibleGroups(groups, model.filters, intervened);
  shownForExport = shown ? { step: shown.step, runName: model.run.runName, groups: [...rows].map((row) => groups[row]) } : undefined;
  header.render(shown === model.shown ? model : { ...model, shown }, currentTimeline(), check, rows.length);

  // Groups and rows first, then what every row depends on (a change there rebuilds every row).
  const key = [
    groups,
    groups.length,
    JSON.stringify(model.filters),
    previewed,
    JSON.stringify([...intervened].map(([id, set]) => [id, [...set]])),
    JSON.stringify([...overrides]),
    model.run.live,
    model.run.imageBase,
    model.selectedPromptId,
  ];
  if (key.some((part, i) => part !== listKey[i])) {
    const contextChanged = key.slice(3).some((part, i) => part !== listKey[i + 3]);
    list.setData(
      groups,
      rows,
      {
        imageBase: model.run.imageBase,
        ...(previewed ? { preview: previewed } : {}),
        intervened,
        live: model.run.live,
        ...(model.selectedPromptId ? { selectedPromptId: model.selectedPromptId } : {}),
        overrides,
      },
      contextChanged,
    );
    listKey = key;
  }

  empty.hidden = groups.length > 0;
  empty.textContent =
    model.run.state === 'waiting'
      ? 'Waiting for the run…'
      : shown?.missing
        ? `Step ${shown.step}'s groups were not kept on disk: a run keeps those of every rolloutsEvery-th step (10 by default), its last step and every step you intervened on.`
        : model.steps.length === 0
          ? 'No rollout groups yet: they appear with the first step.'
          : model.wantedStep !== undefined
            ? `Loading step ${model.wantedStep}…`
            : 'No groups in this step.';

  const selectedIndex = model.selectedPromptId ? groups.findIndex((g) => g.promptId === model.selectedPromptId) : -1;
  const group = selectedIndex >= 0 ? groups[selectedIndex] : undefined;
  detail.hidden = resizer.hidden = !group;
  body.classList.toggle('with-detail', !!group);
  if (group && shown) {
    const all = stepEstimators(shown);
    const overridesKey = JSON.stringify([...overrides].filter(([key]) => key.startsWith(`${group.promptId}\u0000`)));
    const dKey = [group, shown.step, model.history, previewed, all, model.run.live, model.run.imageBase, overridesKey];
    // Typing in one of its fields holds the details still; a focused button (just clicked) does not.
    const editing = isField(document.activeElement) && detail.contains(document.activeElement);
    if (!editing && dKey.some((part, i) => part !== detailKey[i])) {
      const perEstimator: Record<string, number[]> = {};
      for (const [name, values] of Object.entries(all)) if (values) perEstimator[name] = values[selectedIndex];
      renderDetail(
        detail,
        group,
        {
          step: shown.step,
          imageBase: model.run.imageBase,
          live: model.run.live,
          ...(shown.estimator ? { estimator: shown.estimator } : {}),
          estimators: perEstimator,
          ...(previewed ? { preview: previewed.advantages[selectedIndex] } : {}),
          ...(model.history?.promptId === group.promptId ? { history: model.history.points } : {}),
          overrides,
        },
        {
          close: () => select(undefined),
          relabel: (rollout, reward) => send({ type: CONTROL.relabel, controlId: newControlId('relabel'), step: shown.step, promptId: group.promptId, rollout, reward, response: group.rollouts[rollout].response }),
          exclude: () => send({ type: CONTROL.excludePrompt, controlId: newControlId('exclude'), promptId: group.promptId }),
          setWeight: (weight) => send({ type: CONTROL.setGroupWeight, controlId: newControlId('weight'), promptId: group.promptId, weight }),
        },
      );
      if (detailPrompt !== `${shown.step}:${group.promptId}`) detail.scrollTop = 0;
      detailPrompt = `${shown.step}:${group.promptId}`;
      detailKey = dKey;
    }
  } else {
    detailKey = [];
  }

  interventions.render(interventionRows(model));
  api.setState(savedState(model));
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const parsed = parseRolloutsHostToWebview(event.data);
  if (!parsed.ok) {
    addNotice(model, `Ignored a message from the host: ${parsed.error}`.slice(0, MAX_NOTICE_CHARS));
  } else {
    const message = parsed.value;
    applyMessage(model, message);
    // After a new run message, go back to the step shown before a reload (when not following).
    if (message.type === ROLLOUTS.run && !model.followLive && model.wantedStep !== undefined) request(model.wantedStep);
    if (message.type === ROLLOUTS.run && model.selectedPromptId) api.postMessage({ type: ROLLOUTS.requestPromptHistory, promptId: model.selectedPromptId });
  }
  scheduleRender();
});

scheduleRender();
const restored = savedState(model);
api.postMessage({ type: WEBVIEW.ready, ...(restored.lastStep !== undefined ? { lastStep: restored.lastStep } : {}) });
