/**
 * The grouped layout both the tfjs forward pass and the ONNX sampler use. The G sequences of a prompt share
 * its patches and question, and (the attention being causal) the question positions do not depend on the
 * response: so each prompt row holds ONE text stream of length R = Lq + G Lr, the question positions once,
 * then the G decoder blocks one after another. Block g attends to the (non-pad) question and to its own
 * earlier positions only, which is exactly the per-sequence causal stream of the architecture.
 * Sequences whose prompt rows are not contiguous groups of equal size (s -> floor(s / G)) are handled by
 * giving every sequence its own copy of its prompt (G = 1): the same result, at more cost.
 */
import type { GeneralConfig } from './config.js';

/** Additive attention bias of a masked key (exp underflows to exactly 0 after the softmax's max shift). */
export const MASKED = -1e9;

export interface GroupedPrompts {
  /** Prompt rows P' (P, or B when the sequences had to be ungrouped). */
  prompts: number;
  /** Sequences per prompt row; sequence s is row floor(s / G), block s mod G. */
  group: number;
  /** [P', patchCount, patchDim]. */
  patches: Float32Array;
  /** [P', maxQuestionLength], right-padded with 0. */
  questions: Int32Array;
}

/** Whether sequence s uses prompt floor(s / G) for G = B / P (the layout of repeatPrompts(P, G)). */
function contiguousGroups(promptIndex: Int32Array, prompts: number): number | null {
  if (promptIndex.length % prompts !== 0) return null;
  const group = promptIndex.length / prompts;
  for (let s = 0; s < promptIndex.length; s++) if (promptIndex[s] !== Math.floor(s / group)) return null;
  return group;
}

/** Groups the sequences by prompt (see the module comment); `promptIndex` undefined means one sequence per prompt. */
export function groupPrompts(
  config: GeneralConfig,
  input: { patches: Float32Array; questions: Int32Array; questionLength: number },
  promptIndex: Int32Array | undefined,
): GroupedPrompts {
  const lq = config.maxQuestionLength;
  const prompts = input.questions.length / input.questionLength;
  const perPrompt = config.patchCount * config.patchDim;
  const pad = (rows: Int32Array) => {
    const out = new Int32Array(rows.length * lq);
    rows.forEach((p, row) => out.set(input.questions.subarray(p * input.questionLength, (p + 1) * input.questionLength), row * lq));
    return out;
  };
  const identity = Int32Array.from({ length: prompts }, (_, p) => p);
  const group = promptIndex ? contiguousGroups(promptIndex, prompts) : 1;
  if (group !== null) return { prompts, group, patches: input.patches, questions: pad(identity) };
  const rows = promptIndex as Int32Array;
  const patches = new Float32Array(rows.length * perPrompt);
  rows.forEach((p, row) => patches.set(input.patches.subarray(p * perPrompt, (p + 1) * perPrompt), row * perPrompt));
  return { prompts: rows.length, group: 1, patches, questions: pad(rows) };
}

/** Key bias [P', Lq]: MASKED at pad question positions, 0 elsewhere. */
export function questionKeyBias(config: GeneralConfig, grouped: GroupedPrompts): Float32Array {
  const lq = config.maxQuestionLength;
  const out = new Float32Array(grouped.prompts * lq);
  for (let i = 0; i < out.length; i++) if (grouped.questions[i] === 0) out[i] = MASKED;
  return out;
}

/** One-hot rows [ids.length, depth] of ids. */
export function oneHot(ids: ArrayLike<number>, depth: number): Float32Array {
  const out = new Float32Array(ids.length * depth);
  for (let i = 0; i < ids.length; i++) out[i * depth + ids[i]] = 1;
  return out;
}

/** Each decoder position's input token, batch-major [B * Lr]: 0 (BOS) at t = 0, else the previous response token. */
export function decoderInputs(responses: Int32Array, responseLength: number): Int32Array {
  const out = new Int32Array(responses.length);
  for (let s = 0; s < responses.length / responseLength; s++) {
    for (let t = 1; t < responseLength; t++) out[s * responseLength + t] = responses[s * responseLength + t - 1];
  }
  return out;
}

/** Target class (token - 1) one-hot, batch-major [B * Lr, Vr - 1]; zero rows on padding. */
export function targetClasses(responses: Int32Array, classes: number): Float32Array {
  const out = new Float32Array(responses.length * classes);
  for (let i = 0; i < responses.length; i++) if (responses[i] > 0) out[i * classes + responses[i] - 1] = 1;
  return out;
}
