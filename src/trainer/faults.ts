/**
 * TEST-ONLY fault injection, so the reliability tests can drive the trainer's non-finite guards through a
 * real trainer process (the built-in tasks, relabels and configs cannot produce NaN on purpose: every
 * input is validated). Inert unless the environment variable DURIAN_FAULT is set; when it is, the trainer
 * says so in its log. Never set it outside tests.
 *
 *   DURIAN_FAULT="nan-reward@3,inf-logprob@5,nan-gradient@7"
 *
 * Each entry is `<nan|inf>-<reward|logprob|gradient>@<step>`:
 * - reward: rollout 0's reward of that step becomes NaN / +Infinity (as a broken reward function would);
 * - logprob: rollout 0's first token log-prob (and so its sequence log-prob) from the sampler becomes
 *   NaN / -Infinity (as a numerically broken sampler would);
 * - gradient: the update's loss sees a NaN / +Infinity advantage for its first sequence, so autodiff's
 *   gradients turn non-finite (the recorded advantages stay as computed).
 */

export const FAULT_ENV = 'DURIAN_FAULT';

export type FaultTarget = 'reward' | 'logprob' | 'gradient';

export interface Fault {
  target: FaultTarget;
  value: number;
  step: number;
}

/** The faults of a DURIAN_FAULT value; an empty list when unset; throws on a malformed entry. */
export function parseFaults(spec: string | undefined): Fault[] {
  if (spec === undefined || spec.trim() === '') return [];
  return spec.split(',').map((entry) => {
    const match = /^\s*(nan|inf)-(reward|logprob|gradient)@(\d{1,9})\s*$/.exec(entry);
    if (!match) throw new Error(`${FAULT_ENV}: ${JSON.stringify(entry)} is not <nan|inf>-<reward|logprob|gradient>@<step>`);
    const [, kind, target, step] = match;
    const sign = target === 'logprob' ? -1 : 1;
    return { target: target as FaultTarget, value: kind === 'nan' ? Number.NaN : sign * Number.POSITIVE_INFINITY, step: Number(step) };
  });
}

/**
 * The one fault hook the loop calls at its named points (after the rollout: 'logprob' with the token and
 * sequence log-probs; after the reward: 'reward' with the rewards; before the update: 'gradient' with the
 * loss's advantages): when a fault targets that point at that step, element 0 of each array becomes its value.
 */
export type FaultHook = (point: FaultTarget, step: number, ...values: { [index: number]: number }[]) => void;

export function faultHook(faults: readonly Fault[]): FaultHook {
  return (point, step, ...values) => {
    const fault = faults.find((f) => f.target === point && f.step === step);
    if (fault) for (const array of values) array[0] = fault.value;
  };
}
