/**
 * The sampler's two ONNX graphs, built with the project's OnnxGraphBuilder. Every weight is a graph INPUT,
 * so each session is created once and the current tfjs weights are fed on every call (no rebuild per step).
 *
 * - prefix: patches [P, n, D] + question features [P, Wq] -> initial GRU state [P, H], the context's
 *   input-gate term [P, 3H] and the count slots [P, K + 1] (steps 1-4 of forward.ts);
 * - step: previous-token one-hot [B, Vr], state [B, H], context gates [B, 3H], count slots [B, K + 1] ->
 *   logits [B, Vr - 1] and the next state (one GRU step, the output layer and the count pointer).
 *
 * The ops mirror forward.ts one for one, so sampled log-probs equal the teacher-forced ones of tfjs.
 */
import { OnnxGraphBuilder } from '../onnx/builder.js';
import { type PolicyConfig, outputSize, pointerSlots, questionCodeSize, questionFeatureSize } from './config.js';
import { COMPARE_GAIN, GATE_GAIN, pointerMatrix } from './forward.js';
import { type ParameterName, parameterSpecs } from './parameters.js';

export const PREFIX_PARAMETERS: readonly ParameterName[] = [
  'question.embedding', 'question.bias', 'term.embedding', 'term.bias', 'term.objectness', 'term.offset',
  'result.kernel', 'result.bias', 'decoder.init.kernel', 'decoder.init.bias', 'decoder.context.kernel', 'decoder.input.bias',
];

export const STEP_PARAMETERS: readonly ParameterName[] = [
  'decoder.embedding', 'decoder.recurrent.kernel', 'decoder.recurrent.bias', 'pointer.kernel', 'pointer.bias', 'output.kernel', 'output.bias',
];

function weightInputs(g: OnnxGraphBuilder, config: PolicyConfig, names: readonly ParameterName[]): Record<string, string> {
  const specs = parameterSpecs(config);
  const out: Record<string, string> = {};
  for (const name of names) out[name] = g.input(name, 'float32', specs[name].shape);
  return out;
}

/** Dense layer x W + b (optionally with a fixed output name). */
function dense(g: OnnxGraphBuilder, x: string, w: string, b: string, output?: string): string {
  return g.op('Add', [g.op('MatMul', [x, w]), b], undefined, output);
}

export function buildPrefixGraph(config: PolicyConfig): Uint8Array {
  const g = new OnnxGraphBuilder({ name: 'policy_prefix' });
  const h = config.hiddenSize;
  const n = config.patchCount;
  const d = config.patchDim;
  const terms = config.sumSlots;
  const vocab = config.questionVocabSize;
  const codeWidth = questionCodeSize(config);
  const patches = g.input('patches', 'float32', ['prompts', n, d]);
  const questions = g.input('questions', 'float32', ['prompts', questionFeatureSize(config)]);
  const w = weightInputs(g, config, PREFIX_PARAMETERS);
  const axis1 = g.int64Constant([1]);

  const code = g.op('Slice', [questions, g.int64Constant([0]), g.int64Constant([codeWidth]), axis1]);
  const clauses = g.op('Reshape', [g.op('Slice', [questions, g.int64Constant([codeWidth]), g.int64Constant([codeWidth + terms * vocab]), axis1]), g.int64Constant([-1, vocab])]);
  const question = g.op('Tanh', [dense(g, code, w['question.embedding'], w['question.bias'])]);
  const directions = g.op('Transpose', [g.op('Reshape', [g.op('MatMul', [clauses, w['term.embedding']]), g.int64Constant([-1, terms, d])])], { perm: [0, 2, 1] });
  const matches = g.op('MatMul', [patches, directions]);
  const flat = g.op('Reshape', [patches, g.int64Constant([-1, d])]);
  const objectness = g.op('Reshape', [g.op('MatMul', [flat, w['term.objectness']]), g.int64Constant([-1, n, 1])]);
  const clauseBias = g.op('Reshape', [g.op('MatMul', [clauses, w['term.bias']]), g.int64Constant([-1, 1, terms])]);
  const logits = g.op('Add', [g.op('Mul', [g.op('Add', [g.op('Add', [matches, objectness]), clauseBias]), g.constant([GATE_GAIN], [])]), w['term.offset']]);
  const counts = g.op('ReduceSum', [g.op('Sigmoid', [logits]), axis1], { keepdims: 0 });
  const weights = g.op('Add', [g.op('Reshape', [g.op('MatMul', [clauses, w['result.kernel']]), g.int64Constant([-1, terms])]), w['result.bias']]);
  const result = g.op('ReduceSum', [g.op('Mul', [counts, weights]), axis1], { keepdims: 1 });
  const first = g.op('Slice', [counts, g.int64Constant([0]), g.int64Constant([1]), axis1]);
  const second = g.op('Slice', [counts, g.int64Constant([1]), g.int64Constant([2]), axis1]);
  const difference = g.op('Sub', [first, second]);
  const both = g.op('Concat', [difference, g.op('Neg', [difference])], { axis: 1 });
  const comparison = g.op('Sigmoid', [g.op('Mul', [g.op('Sub', [both, g.constant([0.5], [])]), g.constant([COMPARE_GAIN], [])])]);
  const context = g.op('Concat', [question, comparison], { axis: 1 });
  g.output(g.op('Tanh', [dense(g, context, w['decoder.init.kernel'], w['decoder.init.bias'])], undefined, 'state'), 'float32', ['prompts', h]);
  g.output(dense(g, context, w['decoder.context.kernel'], w['decoder.input.bias'], 'context_gates'), 'float32', ['prompts', 3 * h]);
  g.output(g.op('Concat', [counts, result], { axis: 1 }, 'slots'), 'float32', ['prompts', pointerSlots(config)]);
  return g.toBytes();
}

export function buildStepGraph(config: PolicyConfig): Uint8Array {
  const g = new OnnxGraphBuilder({ name: 'policy_step' });
  const h = config.hiddenSize;
  const previous = g.input('previous', 'float32', ['batch', config.responseVocabSize]);
  const state = g.input('state', 'float32', ['batch', h]);
  const contextGates = g.input('context_gates', 'float32', ['batch', 3 * h]);
  const slots = g.input('slots', 'float32', ['batch', pointerSlots(config)]);
  const w = weightInputs(g, config, STEP_PARAMETERS);
  const split = g.int64Constant([h, h, h]);
  const axis1 = g.int64Constant([1]);
  const inputGates = g.op('Add', [g.op('MatMul', [previous, w['decoder.embedding']]), contextGates]);
  const hiddenGates = dense(g, state, w['decoder.recurrent.kernel'], w['decoder.recurrent.bias']);
  const [xr, xz, xn] = g.node('Split', [inputGates, split], { outputs: 3, attributes: { axis: 1 } });
  const [hr, hz, hn] = g.node('Split', [hiddenGates, split], { outputs: 3, attributes: { axis: 1 } });
  const reset = g.op('Sigmoid', [g.op('Add', [xr, hr])]);
  const update = g.op('Sigmoid', [g.op('Add', [xz, hz])]);
  const candidate = g.op('Tanh', [g.op('Add', [xn, g.op('Mul', [reset, hn])])]);
  const next = g.op('Add', [candidate, g.op('Mul', [update, g.op('Sub', [state, candidate])])], undefined, 'next_state');
  const base = dense(g, next, w['output.kernel'], w['output.bias']);
  const weights = g.op('Softplus', [dense(g, next, w['pointer.kernel'], w['pointer.bias'])]);
  const weighted = g.op('Mul', [weights, slots]);
  const moments = g.op('Concat', [
    g.op('ReduceSum', [g.op('Mul', [weighted, slots]), axis1], { keepdims: 1 }),
    g.op('ReduceSum', [weighted, axis1], { keepdims: 1 }),
    g.op('ReduceSum', [weights, axis1], { keepdims: 1 }),
  ], { axis: 1 });
  const map = g.constant(pointerMatrix(config), [3, outputSize(config)]);
  g.output(g.op('Add', [base, g.op('MatMul', [moments, map])], undefined, 'logits'), 'float32', ['batch', outputSize(config)]);
  g.output(next, 'float32', ['batch', h]);
  return g.toBytes();
}
