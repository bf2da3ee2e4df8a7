/**
 * Splitting a step's rollout groups into `trainer/groups` events that each fit MAX_EVENT_CHARS. A large
 * batch (1024 prompts x 64 rollouts with long responses) does not fit one event; the host and panels
 * treat several `groups` events of the same step as one list, in order.
 */
import type { EstimatorName } from '../core/estimators/registry.js';
import { EVENT, type GroupsEvent, type RolloutGroup } from './events.js';
import { MAX_EVENT_CHARS, MAX_GROUPS } from './limits.js';

/** Room for `{"type":"trainer/groups","step":N,"estimator":"...","groups":[]}`. */
const ENVELOPE_CHARS = 200;

/**
 * The groups of one step as the fewest events of at most `maxChars` of JSON each (in order). A single
 * group larger than the cap cannot be sent: it is returned in `tooLarge` (by position) for the caller to
 * trim (e.g. drop `tokens`, shorten responses) or report.
 */
export function groupsEvents(
  step: number,
  estimator: EstimatorName,
  groups: readonly RolloutGroup[],
  maxChars: number = MAX_EVENT_CHARS,
): { events: GroupsEvent[]; tooLarge: number[] } {
  const events: GroupsEvent[] = [];
  const tooLarge: number[] = [];
  let current: RolloutGroup[] = [];
  let size = ENVELOPE_CHARS;
  const flush = () => {
    if (current.length > 0) events.push({ type: EVENT.groups, step, estimator, groups: current });
    current = [];
    size = ENVELOPE_CHARS;
  };
  groups.forEach((group, i) => {
    const groupChars = JSON.stringify(group).length + 1;
    if (groupChars + ENVELOPE_CHARS > maxChars) {
      tooLarge.push(i);
      return;
    }
    if (size + groupChars > maxChars || current.length >= MAX_GROUPS) flush();
    current.push(group);
    size += groupChars;
  });
  flush();
  return { events, tooLarge };
}
