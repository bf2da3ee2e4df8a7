/**
 * What the Rollout Groups webview saves with `setState` and reads back after being hidden or reloaded.
 */
import { type ConfigDraft, DRAFT_FIELDS } from './stateConfig.js';
import { DEFAULT_FILTERS, type Filters, SORT_KEYS } from './stateFilters.js';
import type { PendingControl, RolloutsModel } from './stateModel.js';

/** What the webview saves with `setState` (and restores after being hidden or reloaded). */
export interface SavedState {
  followLive: boolean;
  lastStep?: number;
  filters: Filters;
  draft: ConfigDraft;
  pending: PendingControl[];
  selectedPromptId?: string;
}

export function savedState(model: RolloutsModel): SavedState {
  return {
    followLive: model.followLive,
    ...(model.shown ? { lastStep: model.shown.step } : {}),
    filters: model.filters,
    draft: model.draft,
    pending: model.pending,
    ...(model.selectedPromptId ? { selectedPromptId: model.selectedPromptId } : {}),
  };
}

/** Reads back a saved state, keeping only well-formed parts (it was written by an older version, maybe). */
export function restoreSavedState(raw: unknown): SavedState {
  const saved = (raw && typeof raw === 'object' ? raw : {}) as Partial<SavedState>;
  const filters = { ...DEFAULT_FILTERS };
  const f = (saved.filters && typeof saved.filters === 'object' ? saved.filters : {}) as Partial<Filters>;
  if (typeof f.search === 'string') filters.search = f.search.slice(0, 500);
  if (f.bucket && ['all', 'low', 'mid', 'high'].includes(f.bucket)) filters.bucket = f.bucket;
  if (f.accuracy && ['all', 'all-wrong', 'mixed', 'all-right'].includes(f.accuracy)) filters.accuracy = f.accuracy;
  if (typeof f.extremesOnly === 'boolean') filters.extremesOnly = f.extremesOnly;
  if (typeof f.intervenedOnly === 'boolean') filters.intervenedOnly = f.intervenedOnly;
  if (f.sort && SORT_KEYS.includes(f.sort)) filters.sort = f.sort;
  if (typeof f.descending === 'boolean') filters.descending = f.descending;
  const draft: ConfigDraft = {};
  if (saved.draft && typeof saved.draft === 'object') {
    for (const field of DRAFT_FIELDS) {
      const value = (saved.draft as Record<string, unknown>)[field];
      if (typeof value === 'string') draft[field] = value.slice(0, 100);
    }
  }
  const pending = Array.isArray(saved.pending)
    ? saved.pending.filter((p): p is PendingControl => !!p && typeof p === 'object' && !!p.control && typeof p.control.controlId === 'string').slice(-200)
    : [];
  return {
    followLive: typeof saved.followLive === 'boolean' ? saved.followLive : true,
    ...(typeof saved.lastStep === 'number' && Number.isInteger(saved.lastStep) && saved.lastStep >= 0 ? { lastStep: saved.lastStep } : {}),
    filters,
    draft,
    pending,
    ...(typeof saved.selectedPromptId === 'string' ? { selectedPromptId: saved.selectedPromptId } : {}),
  };
}

