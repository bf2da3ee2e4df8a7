/**
 * Every cap and range of the protocol in one place, so the UI can show them and the trainer can clamp
 * to them. Sizes are in characters of JSON text (UTF-16 code units), the unit JSON.stringify measures.
 */
import type { NumberRange } from './schema.js';

/** Largest control message (host -> trainer): a control is a few fields, never bulk data. */
export const MAX_CONTROL_CHARS = 64 * 1024;
/** Largest event (trainer -> host): a `groups` event of a full batch with its rollout texts. */
export const MAX_EVENT_CHARS = 8 * 1024 * 1024;
/** Deepest nesting anywhere in a message (the free-form config included). */
export const MAX_DEPTH = 32;

export const MAX_ID_CHARS = 200;
/** A question, a response, a log line or an error message. */
export const MAX_TEXT_CHARS = 16 * 1024;
export const MAX_LABEL_CHARS = 200;
export const MAX_PATH_CHARS = 4096;
export const MAX_METRICS = 1024;
export const MAX_GROUPS = 1024;
export const MAX_TOKENS_PER_ROLLOUT = 8192;

/** Ids of controls: printable and safe to log (`ctl-1`, a UUID, `2026-05-01T10:00:00Z#3`). */
export const CONTROL_ID_PATTERN = /^[A-Za-z0-9._:#-]+$/;

/** The ranges of the live-tunable settings (see `LiveConfig`), from the settings table. */
export { LIVE_RANGES } from './settings.js';

/** A prompt's weight (0 excludes it from the update). */
export const GROUP_WEIGHT_RANGE = { min: 0, max: 100 } as const satisfies NumberRange;
/** A relabelled reward: finite and of a sane magnitude (task rewards lie in [0, 1]). */
export const RELABEL_REWARD_RANGE = { min: -1e6, max: 1e6 } as const satisfies NumberRange;
/** Steps are counted from 0 (before the first update) up to this. */
export const STEP_RANGE = { min: 0, max: 1e9, integer: true } as const satisfies NumberRange;
