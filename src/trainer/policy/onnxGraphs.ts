/**
 * The sampler's two ONNX graphs, built with the project's OnnxGraphBuilder. Every weight is a graph INPUT,
 * so each session is created once and the current tfjs weights are fed on every call (no rebuild per step).
 *
 * - prefix: patches [P, n, D] + question multi-hot [P, Wq] -> initial GRU state [P, H] and the context's
 *   input-gate term [P, 3H] (steps 1-5 of forward.ts);
 * - step: previous-token one-hot [B, Vr], state [B, H], context gates [B, 3H] -> logits [B, Vr - 1] and
 *   the next state (one GRU step and the output layer).
 *
 * The ops mirror forward.ts one for one, so sampled log-probs equal the teacher-forced ones of tfjs.
 */
import { OnnxGraphBuilder } from '../onnx/builder.js';
import { type PolicyConfig, outputSize, questionFeatureSize } from './config.js';
import { COUNT_GAIN, PATCH_SUM_SCALE, countThresholds } from './forward.js';
import { type ParameterName, parameterSpecs } from './parameters.js';

export const PREFIX_PARAMETERS: readonly ParameterName[] = [
  'question.embedding', 'question.bias', 'patch.kernel', 'patch.condition', 'patch.bias', 'attention.kernel',
  'attention.direct', 'attention.bias', 'count.mix', 'count.bias', 'decoder.init.kernel', 'decoder.init.bias',
  'decoder.context.kernel', 'decoder.input.bias',
];

export const STEP_PARAMETERS: readonly ParameterName[] = [
  'decoder.embedding', 'decoder.recurrent.kernel', 'decoder.recurrent.bias', 'output.kernel', 'output.bias',
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
  const slots = config.sumSlots + config.softmaxSlots;
  const patches = g.input('patches', 'float32', ['prompts', n, config.patchDim]);
  const questions = g.input('questions', 'float32', ['prompts', questionFeatureSize(config)]);
  const w = weightInputs(g, config, PREFIX_PARAMETERS);
  const axis1 = g.int64Constant([1]);

  const question = g.op('Tanh', [dense(g, questions, w['question.embedding'], w['question.bias'])]);
  const condition = g.op('Unsqueeze', [dense(g, question, w['patch.condition'], w['patch.bias']), axis1]);
  const flat = g.op('Reshape', [patches, g.int64Constant([-1, config.patchDim])]);
  const projected = g.op('Reshape', [g.op('MatMul', [flat, w['patch.kernel']]), g.int64Constant([-1, n, h])]);
  const gated = g.op('Relu', [g.op('Add', [projected, condition])]);
  const direct = dense(g, flat, w['attention.direct'], w['attention.bias']);
  const flatGated = g.op('Reshape', [gated, g.int64Constant([-1, h])]);
  const scores = g.op('Reshape', [g.op('Add', [g.op('MatMul', [flatGated, w['attention.kernel']]), direct]), g.int64Constant([-1, n, slots])]);
  const parts = [question, g.op('Mul', [g.op('ReduceSum', [gated, axis1], { keepdims: 0 }), g.constant([PATCH_SUM_SCALE], [])])];

  const axis2 = g.int64Constant([2]);
  if (config.sumSlots > 0) {
    const gateScores = g.op('Slice', [scores, g.int64Constant([0]), g.int64Constant([config.sumSlots]), axis2]);
    const slotCounts = g.op('ReduceSum', [g.op('Sigmoid', [gateScores]), axis1], { keepdims: 0 });
    const counts = dense(g, slotCounts, w['count.mix'], w['count.bias']);
    const thresholds = g.constant(countThresholds(config.countLevels), [1, 1, config.countLevels]);
    const shifted = g.op('Sub', [g.op('Unsqueeze', [counts, axis2]), thresholds]);
    const thermometer = g.op('Sigmoid', [g.op('Mul', [shifted, g.constant([COUNT_GAIN], [])])]);
    parts.push(g.op('Reshape', [thermometer, g.int64Constant([-1, config.sumSlots * config.countLevels])]));
  }
  if (config.softmaxSlots > 0) {
    const poolScores = g.op('Slice', [scores, g.int64Constant([config.sumSlots]), g.int64Constant([slots]), axis2]);
    const weights = g.op('Softmax', [g.op('Transpose', [poolScores], { perm: [0, 2, 1] })], { axis: -1 });
    parts.push(g.op('Reshape', [g.op('MatMul', [weights, gated]), g.int64Constant([-1, config.softmaxSlots * h])]));
  }
  const context = g.op('Concat', parts, { axis: 1 });
  g.output(g.op('Tanh', [dense(g, context, w['decoder.init.kernel'], w['decoder.init.bias'])], undefined, 'state'), 'float32', ['prompts', h]);
  g.output(dense(g, context, w['decoder.context.kernel'], w['decoder.input.bias'], 'context_gates'), 'float32', ['prompts', 3 * h]);
  return g.toBytes();
}

export function buildStepGraph(config: PolicyConfig): Uint8Array {
  const g = new OnnxGraphBuilder({ name: 'policy_step' });
  const h = config.hiddenSize;
  const previous = g.input('previous', 'float32', ['batch', config.responseVocabSize]);
  const state = g.input('state', 'float32', ['batch', h]);
  const contextGates = g.input('context_gates', 'float32', ['batch', 3 * h]);
  const w = weightInputs(g, config, STEP_PARAMETERS);
  const split = g.int64Constant([h, h, h]);
  const inputGates = g.op('Add', [g.op('MatMul', [previous, w['decoder.embedding']]), contextGates]);
  const hiddenGates = dense(g, state, w['decoder.recurrent.kernel'], w['decoder.recurrent.bias']);
  const [xr, xz, xn] = g.node('Split', [inputGates, split], { outputs: 3, attributes: { axis: 1 } });
  const [hr, hz, hn] = g.node('Split', [hiddenGates, split], { outputs: 3, attributes: { axis: 1 } });
  const reset = g.op('Sigmoid', [g.op('Add', [xr, hr])]);
  const update = g.op('Sigmoid', [g.op('Add', [xz, hz])]);
  const candidate = g.op('Tanh', [g.op('Add', [xn, g.op('Mul', [reset, hn])])]);
  const next = g.op('Add', [candidate, g.op('Mul', [update, g.op('Sub', [state, candidate])])], undefined, 'next_state');
  g.output(dense(g, next, w['output.kernel'], w['output.bias'], 'logits'), 'float32', ['batch', outputSize(config)]);
  g.output(next, 'float32', ['batch', h]);
  return g.toBytes();
}
