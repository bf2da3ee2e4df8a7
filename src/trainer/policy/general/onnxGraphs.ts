/**
 * The general policy's two sampling graphs, built with the project's OnnxGraphBuilder. Every weight is a
 * graph INPUT (fed on every call), so each session is created once per run. Both use the grouped layout
 * (layout.ts): P prompt rows, G sequences per row.
 *
 * - prefix: patches [P, N, Dp], padded question ids [P, Lq], question key bias [P, 1, 1, Lq] ->
 *   per layer i, the question positions' self-attention keys (transposed) and values
 *   self_kt_i [P, h, dh, Lq], self_v_i [P, h, Lq, dh], and the patch memory's cross-attention keys and values
 *   cross_kt_i [P, h, dh, N], cross_v_i [P, h, N, dh];
 * - step: the previous tokens [P, G], the position row of text.position, the one-hot slot [Lr, 1] of this
 *   step, its key bias over decoder positions [Lr], the prefix outputs and the decoder KV cache
 *   past_k_i / past_v_i [P, h, G, Lr, dh] -> logits [P G, Vr - 1] and the cache with this step written.
 *
 * The cache has a fixed size (no empty tensors at step 0): a step writes slot t as past (1 - e_t) + new e_t
 * (exact) and masks the slots after t. The ops are those of forward.ts, position by position, so sampled
 * log-probs equal the teacher-forced ones of tfjs.
 */
import { OnnxGraphBuilder } from '../../onnx/builder.js';
import { type GeneralConfig, LAYER_NORM_EPSILON, headWidth, outputClasses } from './config.js';
import { MASKED } from './layout.js';
import { generalParameterSpecs } from './parameters.js';

export interface GeneralGraph {
  bytes: Uint8Array;
  /** The weights the graph takes as inputs (feed exactly these). */
  weights: string[];
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** A builder that declares a weight input the first time the graph uses it, plus the layer helpers. */
class PolicyGraph {
  readonly g: OnnxGraphBuilder;
  private readonly specs: ReturnType<typeof generalParameterSpecs>;
  private readonly used: string[] = [];
  private readonly scale: string;

  constructor(readonly config: GeneralConfig, name: string) {
    this.g = new OnnxGraphBuilder({ name });
    this.specs = generalParameterSpecs(config);
    this.scale = this.g.constant([1 / Math.sqrt(headWidth(config))], [], 'attention_scale');
  }

  weight(name: string): string {
    if (!this.g.has(name)) {
      const spec = this.specs.get(name);
      if (!spec) throw new Error(`general policy graph: no weight '${name}'`);
      this.g.input(name, 'float32', spec.shape);
      this.used.push(name);
    }
    return name;
  }

  get weights(): string[] {
    return [...this.used];
  }

  dense(prefix: string, x: string): string {
    return this.g.op('Add', [this.g.op('MatMul', [x, this.weight(`${prefix}.kernel`)]), this.weight(`${prefix}.bias`)]);
  }

  norm(prefix: string, x: string): string {
    return this.g.op('LayerNormalization', [x, this.weight(`${prefix}.scale`), this.weight(`${prefix}.bias`)], { axis: -1, epsilon: { float: LAYER_NORM_EPSILON } });
  }

  gelu(x: string): string {
    const g = this.g;
    const cube = g.op('Mul', [x, g.op('Mul', [x, x])]);
    const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [cube, g.constant([0.044715], [])])]), g.constant([SQRT_2_OVER_PI], [])]);
    return g.op('Mul', [g.op('Mul', [x, g.constant([0.5], [])]), g.op('Add', [g.op('Tanh', [inner]), g.constant([1], [])])]);
  }

  /** [A, L, d] -> [A, h, L, dh] (perm [0, 2, 1, 3]) or, with keysTransposed, [A, h, dh, L]. */
  heads(x: string, keysTransposed = false): string {
    const { heads } = this.config;
    const split = this.g.op('Reshape', [x, this.g.int64Constant([0, 0, heads, headWidth(this.config)])]);
    return this.g.op('Transpose', [split], { perm: keysTransposed ? [0, 2, 3, 1] : [0, 2, 1, 3] });
  }

  /** [A, h, L, dh] -> [A, L, d]. */
  merge(x: string): string {
    return this.g.op('Reshape', [this.g.op('Transpose', [x], { perm: [0, 2, 1, 3] }), this.g.int64Constant([0, 0, this.config.d])]);
  }

  scaled(scores: string): string {
    return this.g.op('Mul', [scores, this.scale]);
  }

  axes(...values: number[]): string {
    return this.g.int64Constant(values);
  }
}

/** Prefix graph: patch memory and the question positions' keys and values, per layer. */
export function buildGeneralPrefixGraph(config: GeneralConfig): GeneralGraph {
  const p = new PolicyGraph(config, 'general_prefix');
  const g = p.g;
  const lq = config.maxQuestionLength;
  const patches = g.input('patches', 'float32', ['prompts', config.patchCount, config.patchDim]);
  const questions = g.input('questions', 'int64', ['prompts', lq]);
  const keyBias = g.input('key_bias', 'float32', ['prompts', 1, 1, lq]);
  const causal = new Float32Array(lq * lq);
  for (let i = 0; i < lq; i++) for (let j = i + 1; j < lq; j++) causal[i * lq + j] = MASKED;
  const selfBias = g.op('Add', [g.constant(causal, [lq, lq], 'causal'), keyBias]);

  const memory = g.op('Add', [p.dense('patch.proj', p.norm('patch.norm', patches)), p.weight('patch.position')]);
  const positions = g.op('Slice', [p.weight('text.position'), p.axes(0), p.axes(lq), p.axes(0)]);
  let x = g.op('Add', [g.op('Gather', [p.weight('question.embedding'), questions], { axis: 0 }), positions]);
  for (let i = 0; i < config.layers; i++) {
    const last = i === config.layers - 1;
    const selfIn = p.norm(`layer${i}.self.norm`, x);
    const keys = g.op('Identity', [p.heads(p.dense(`layer${i}.self.k`, selfIn), true)], undefined, `self_kt_${i}`);
    const values = g.op('Identity', [p.heads(p.dense(`layer${i}.self.v`, selfIn))], undefined, `self_v_${i}`);
    const crossKeys = g.op('Identity', [p.heads(p.dense(`layer${i}.cross.k`, memory), true)], undefined, `cross_kt_${i}`);
    const crossValues = g.op('Identity', [p.heads(p.dense(`layer${i}.cross.v`, memory))], undefined, `cross_v_${i}`);
    g.output(keys, 'float32', ['prompts', config.heads, headWidth(config), lq]);
    g.output(values, 'float32', ['prompts', config.heads, lq, headWidth(config)]);
    g.output(crossKeys, 'float32', ['prompts', config.heads, headWidth(config), config.patchCount]);
    g.output(crossValues, 'float32', ['prompts', config.heads, config.patchCount, headWidth(config)]);
    if (last) break; // the last layer's question outputs feed nothing
    const queries = p.heads(p.dense(`layer${i}.self.q`, selfIn));
    const weights = g.op('Softmax', [g.op('Add', [p.scaled(g.op('MatMul', [queries, keys])), selfBias])], { axis: -1 });
    x = g.op('Add', [x, p.dense(`layer${i}.self.o`, p.merge(g.op('MatMul', [weights, values])))]);
    const crossQueries = p.heads(p.dense(`layer${i}.cross.q`, p.norm(`layer${i}.cross.norm`, x)));
    const crossWeights = g.op('Softmax', [p.scaled(g.op('MatMul', [crossQueries, crossKeys]))], { axis: -1 });
    x = g.op('Add', [x, p.dense(`layer${i}.cross.o`, p.merge(g.op('MatMul', [crossWeights, crossValues])))]);
    x = g.op('Add', [x, p.dense(`layer${i}.mlp.down`, p.gelu(p.dense(`layer${i}.mlp.up`, p.norm(`layer${i}.mlp.norm`, x))))]);
  }
  return { bytes: g.toBytes(), weights: p.weights };
}

/** Step graph: one decoder position for all P x G sequences, with the KV cache. */
export function buildGeneralStepGraph(config: GeneralConfig): GeneralGraph {
  const p = new PolicyGraph(config, 'general_step');
  const g = p.g;
  const lq = config.maxQuestionLength;
  const lr = config.maxResponseLength;
  const h = config.heads;
  const dh = headWidth(config);
  const tokens = g.input('tokens', 'int64', ['prompts', 'group']);
  const position = g.input('position', 'int64', [1]);
  const slot = g.input('slot', 'float32', [lr, 1]);
  const stepBias = g.input('step_bias', 'float32', [lr]);
  const keyBias = g.input('key_bias', 'float32', ['prompts', 1, 1, lq]);
  const keep = g.op('Sub', [g.constant([1], []), slot]);
  const cacheShape = ['prompts', h, 'group', lr, dh];

  let x = g.op('Add', [g.op('Gather', [p.weight('response.embedding'), tokens], { axis: 0 }), g.op('Gather', [p.weight('text.position'), position], { axis: 0 })]);
  for (let i = 0; i < config.layers; i++) {
    const selfKeys = g.input(`self_kt_${i}`, 'float32', ['prompts', h, dh, lq]);
    const selfValues = g.input(`self_v_${i}`, 'float32', ['prompts', h, lq, dh]);
    const crossKeys = g.input(`cross_kt_${i}`, 'float32', ['prompts', h, dh, config.patchCount]);
    const crossValues = g.input(`cross_v_${i}`, 'float32', ['prompts', h, config.patchCount, dh]);
    const pastKeys = g.input(`past_k_${i}`, 'float32', cacheShape);
    const pastValues = g.input(`past_v_${i}`, 'float32', cacheShape);

    const selfIn = p.norm(`layer${i}.self.norm`, x);
    const queries = p.heads(p.dense(`layer${i}.self.q`, selfIn)); // [P, h, G, dh]
    const write = (past: string, projection: string, output: string) => {
      const fresh = g.op('Unsqueeze', [p.heads(p.dense(`layer${i}.self.${projection}`, selfIn)), p.axes(3)]); // [P, h, G, 1, dh]
      return g.op('Add', [g.op('Mul', [past, keep]), g.op('Mul', [fresh, slot])], undefined, output);
    };
    const presentKeys = write(pastKeys, 'k', `present_k_${i}`);
    const presentValues = write(pastValues, 'v', `present_v_${i}`);
    g.output(presentKeys, 'float32', cacheShape);
    g.output(presentValues, 'float32', cacheShape);
    const questionScores = g.op('Add', [p.scaled(g.op('MatMul', [queries, selfKeys])), keyBias]); // [P, h, G, Lq]
    const ownProduct = g.op('MatMul', [g.op('Unsqueeze', [queries, p.axes(3)]), g.op('Transpose', [presentKeys], { perm: [0, 1, 2, 4, 3] })]);
    const ownScores = g.op('Add', [p.scaled(g.op('Squeeze', [ownProduct, p.axes(3)])), stepBias]); // [P, h, G, Lr]
    const weights = g.op('Softmax', [g.op('Concat', [questionScores, ownScores], { axis: 3 })], { axis: -1 });
    const [questionWeights, ownWeights] = g.node('Split', [weights, g.int64Constant([lq, lr])], { outputs: 2, attributes: { axis: 3 } });
    const ownMixed = g.op('Squeeze', [g.op('MatMul', [g.op('Unsqueeze', [ownWeights, p.axes(3)]), presentValues]), p.axes(3)]);
    const mixed = g.op('Add', [g.op('MatMul', [questionWeights, selfValues]), ownMixed]);
    x = g.op('Add', [x, p.dense(`layer${i}.self.o`, p.merge(mixed))]);

    const crossQueries = p.heads(p.dense(`layer${i}.cross.q`, p.norm(`layer${i}.cross.norm`, x)));
    const crossWeights = g.op('Softmax', [p.scaled(g.op('MatMul', [crossQueries, crossKeys]))], { axis: -1 });
    x = g.op('Add', [x, p.dense(`layer${i}.cross.o`, p.merge(g.op('MatMul', [crossWeights, crossValues])))]);
    x = g.op('Add', [x, p.dense(`layer${i}.mlp.down`, p.gelu(p.dense(`layer${i}.mlp.up`, p.norm(`layer${i}.mlp.norm`, x))))]);
  }
  const logits = p.dense('output', p.norm('final.norm', x));
  g.output(g.op('Reshape', [logits, g.int64Constant([-1, outputClasses(config)])], undefined, 'logits'), 'float32', ['sequences', outputClasses(config)]);
  return { bytes: g.toBytes(), weights: p.weights };
}
