/**
 * A small typed ONNX graph builder over `onnx-proto`: build a model in code, serialise it to bytes,
 * hand the bytes to `InferenceSession.create(bytes)` of onnxruntime-node.
 *
 * ```ts
 * const g = new OnnxGraphBuilder({ name: 'tiny' });          // opset 17, ir_version 8
 * const x = g.input('x', 'float32', ['batch', 4]);            // strings are symbolic dims
 * const w = g.initializer('w', new Float32Array(12), [4, 3]); // or g.constant(values, dims) for an auto name
 * const [y] = g.node('MatMul', [x, w]);                       // output names are made unique automatically
 * const [z] = g.node('Gemm', [y, w2, b], { outputs: ['z'], attributes: { transB: 1, alpha: { float: 0.5 } } });
 * g.output(z, 'float32', ['batch', 3]);
 * const bytes = g.toBytes();                                  // Uint8Array, checked for dangling names first
 * ```
 *
 * Attributes: a plain integer is an INT, an array of integers INTS, a string STRING. Floats must be
 * explicit (`{ float: 1 }`, `{ floats: [...] }`) because `1` and `1.0` are the same JS number and ORT
 * rejects an INT where the operator wants a FLOAT. `{ tensor: { data, dims } }` gives a TENSOR attribute
 * (e.g. for `Constant`, `ConstantOfShape`). `{ int: 3n }` / `{ ints: [...] }` accept bigints for int64 limits.
 *
 * Weights fed per call (the policy's decoder-step graph) are ordinary `input(...)`s; initializers are baked in.
 * Tensor data is stored as little-endian `raw_data`, exactly (float32 bits, int64 via BigInt64Array).
 */
import { onnx } from 'onnx-proto';

/** Element types the builder can declare. */
export type OnnxElementType = 'float32' | 'int64' | 'int32' | 'uint8' | 'bool' | 'float64';

/** A dimension: a fixed size, or a symbolic name such as 'batch' (same name = same size). */
export type OnnxDim = number | string;

/** Tensor data the builder can store; the element type follows from the array type. */
export type OnnxTensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

/** Tensor value for initializers and TENSOR attributes. `type` overrides the inferred type of a Uint8Array (bool). */
export interface OnnxTensorValue {
  data: OnnxTensorData;
  dims: readonly number[];
  type?: OnnxElementType;
}

/** One attribute value; see the module comment for how plain values map to ONNX attribute types. */
export type OnnxAttributeValue =
  | number
  | readonly number[]
  | string
  | { int: number | bigint }
  | { ints: readonly (number | bigint)[] }
  | { float: number }
  | { floats: readonly number[] }
  | { string: string }
  | { tensor: OnnxTensorValue };

export interface OnnxNodeOptions {
  /** Output names, or how many auto-named outputs to create (default 1). */
  outputs?: readonly string[] | number;
  attributes?: Record<string, OnnxAttributeValue>;
  /** Node name (default: unique from the op type). */
  name?: string;
  /** Operator domain (default '' = ai.onnx). Other domains must be listed in `opsetImports`. */
  domain?: string;
}

export interface OnnxGraphBuilderOptions {
  /** Graph name (default 'graph'). */
  name?: string;
  /** ai.onnx opset version (default 17). */
  opset?: number;
  /** ONNX IR version (default 8). */
  irVersion?: number;
  /** Extra operator sets, e.g. { 'com.microsoft': 1 }. */
  opsetImports?: Record<string, number>;
  producerName?: string;
  docString?: string;
}

const ELEMENT_TYPE_CODES: Record<OnnxElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  uint8: onnx.TensorProto.DataType.UINT8,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
  float64: onnx.TensorProto.DataType.DOUBLE,
};

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Error raised for a malformed graph (bad dims, duplicate or undefined names, bad attributes). */
export class OnnxBuilderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxBuilderError';
  }
}

/** The ONNX element type a typed array stores. */
function elementTypeOf(data: OnnxTensorData): OnnxElementType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  return 'uint8';
}

/** Builds one ONNX model. Every name (input, initializer, node output, node) is unique within it. */
export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  /** Tensor names defined so far (inputs, initializers, node outputs). */
  private readonly values = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly options: Required<Omit<OnnxGraphBuilderOptions, 'opsetImports' | 'docString'>> & OnnxGraphBuilderOptions;

  constructor(options: OnnxGraphBuilderOptions = {}) {
    this.options = { name: 'graph', opset: 17, irVersion: 8, producerName: 'durian-rl', ...options };
  }

  /** A tensor name not used yet, derived from `prefix` (`prefix`, then `prefix_1`, `prefix_2`, ...). */
  uniqueName(prefix: string): string {
    return this.freshName(prefix, this.values);
  }

  /** Whether a tensor of this name has been defined. */
  has(name: string): boolean {
    return this.values.has(name);
  }

  /** Declares a graph input. Returns its name. */
  input(name: string, type: OnnxElementType, shape: readonly OnnxDim[]): string {
    this.define(name);
    this.inputs.push(valueInfo(name, type, shape));
    return name;
  }

  /** Declares an existing tensor as a graph output. Returns its name. */
  output(name: string, type: OnnxElementType, shape: readonly OnnxDim[]): string {
    if (!this.values.has(name)) throw new OnnxBuilderError(`output '${name}' is not produced by any input, initializer or node`);
    if (this.outputs.some((o) => o.name === name)) throw new OnnxBuilderError(`output '${name}' is declared twice`);
    this.outputs.push(valueInfo(name, type, shape));
    return name;
  }

  /** Adds a constant tensor baked into the model. Returns its name. */
  initializer(name: string, data: OnnxTensorData, dims: readonly number[], type?: OnnxElementType): string {
    this.define(name);
    this.initializers.push(tensorProto({ data, dims, type }, name));
    return name;
  }

  /** Adds an auto-named float32 initializer. */
  constant(values: ArrayLike<number>, dims: readonly number[], prefix = 'const'): string {
    return this.initializer(this.uniqueName(prefix), Float32Array.from(values), dims);
  }

  /** Adds an auto-named int64 initializer (shapes, axes, indices). */
  int64Constant(values: readonly (number | bigint)[], dims: readonly number[] = [values.length], prefix = 'shape'): string {
    return this.initializer(this.uniqueName(prefix), BigInt64Array.from(values, (v) => BigInt(v)), dims);
  }

  /**
   * Adds a node. Inputs must already be defined ('' marks a skipped optional input).
   * Returns the output names (auto-named from the op type unless given).
   */
  node(opType: string, inputs: readonly string[], options: OnnxNodeOptions = {}): string[] {
    for (const name of inputs) {
      if (name !== '' && !this.values.has(name)) {
        throw new OnnxBuilderError(`${opType} node: input '${name}' is not defined (declare it as an input, initializer or earlier node output)`);
      }
    }
    const requested = options.outputs ?? 1;
    const outputs = typeof requested === 'number'
      ? Array.from({ length: requested }, () => this.uniqueName(opType.toLowerCase()))
      : [...requested];
    for (const name of outputs) this.define(name);
    const nodeName = options.name ?? this.freshName(`${opType}`, this.nodeNames);
    if (options.name !== undefined) {
      if (this.nodeNames.has(nodeName)) throw new OnnxBuilderError(`node name '${nodeName}' is used twice`);
      this.nodeNames.add(nodeName);
    }
    if (options.domain && options.domain !== '' && !(options.domain in (this.options.opsetImports ?? {}))) {
      throw new OnnxBuilderError(`${opType} node: domain '${options.domain}' is not in opsetImports`);
    }
    const attribute = Object.entries(options.attributes ?? {}).map(([key, value]) => attributeProto(opType, key, value));
    this.nodes.push({ opType, input: [...inputs], output: outputs, name: nodeName, domain: options.domain ?? '', attribute });
    return outputs;
  }

  /** Shorthand for a single-output node: returns the output name. */
  op(opType: string, inputs: readonly string[], attributes?: Record<string, OnnxAttributeValue>, output?: string): string {
    return this.node(opType, inputs, { attributes, outputs: output === undefined ? 1 : [output] })[0];
  }

  /** The model as an onnx-proto message. */
  toModel(): onnx.ModelProto {
    if (this.outputs.length === 0) throw new OnnxBuilderError('the graph has no outputs');
    const opsetImport: onnx.IOperatorSetIdProto[] = [{ domain: '', version: this.options.opset }];
    for (const [domain, version] of Object.entries(this.options.opsetImports ?? {})) opsetImport.push({ domain, version });
    return onnx.ModelProto.create({
      irVersion: this.options.irVersion,
      producerName: this.options.producerName,
      docString: this.options.docString ?? '',
      opsetImport,
      graph: {
        name: this.options.name,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
      },
    });
  }

  /** Serialised model bytes (deterministic: the same calls give the same bytes). */
  toBytes(): Uint8Array {
    return onnx.ModelProto.encode(this.toModel()).finish();
  }

  private define(name: string): void {
    if (name === '') throw new OnnxBuilderError('tensor names must not be empty');
    if (this.values.has(name)) throw new OnnxBuilderError(`tensor name '${name}' is defined twice`);
    this.values.add(name);
  }

  private freshName(prefix: string, used: Set<string>): string {
    let count = this.counters.get(prefix) ?? 0;
    let name = count === 0 ? prefix : `${prefix}_${count}`;
    while (used.has(name)) name = `${prefix}_${++count}`;
    this.counters.set(prefix, count + 1);
    if (used === this.nodeNames) used.add(name);
    return name;
  }
}

function valueInfo(name: string, type: OnnxElementType, shape: readonly OnnxDim[]): onnx.IValueInfoProto {
  const dim = shape.map((d, axis) => {
    if (typeof d === 'string') {
      if (d === '') throw new OnnxBuilderError(`'${name}': symbolic dim ${axis} needs a name`);
      return { dimParam: d };
    }
    if (!Number.isInteger(d) || d < 0) throw new OnnxBuilderError(`'${name}': dim ${axis} must be a whole number >= 0 or a name, got ${d}`);
    return { dimValue: d };
  });
  return { name, type: { tensorType: { elemType: ELEMENT_TYPE_CODES[type], shape: { dim } } } };
}

function tensorProto(value: OnnxTensorValue, name?: string): onnx.ITensorProto {
  const { data, dims } = value;
  const type = value.type ?? elementTypeOf(data);
  const expected = dims.reduce((a, b) => a * b, 1);
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) throw new OnnxBuilderError(`tensor '${name ?? '(attribute)'}': dims must be whole numbers >= 0, got [${dims.join(', ')}]`);
  }
  if (data.length !== expected) {
    throw new OnnxBuilderError(`tensor '${name ?? '(attribute)'}': ${data.length} values do not fill dims [${dims.join(', ')}] (${expected} values)`);
  }
  if (type !== elementTypeOf(data) && !(type === 'bool' && data instanceof Uint8Array)) {
    throw new OnnxBuilderError(`tensor '${name ?? '(attribute)'}': a ${data.constructor.name} cannot hold ${type}`);
  }
  return { name: name ?? '', dims: [...dims], dataType: ELEMENT_TYPE_CODES[type], rawData: littleEndianBytes(data) };
}

function littleEndianBytes(data: OnnxTensorData): Uint8Array {
  if (LITTLE_ENDIAN || data instanceof Uint8Array) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let k = 0; k < data.length; k++) {
    if (data instanceof Float32Array) view.setFloat32(k * 4, data[k], true);
    else if (data instanceof Float64Array) view.setFloat64(k * 8, data[k], true);
    else if (data instanceof BigInt64Array) view.setBigInt64(k * 8, data[k], true);
    else view.setInt32(k * 4, data[k], true);
  }
  return out;
}

/** protobufjs takes int64 fields as numbers or {low, high} pairs; bigints beyond 2^53 need the pair. */
function int64Field(value: number | bigint, where: string): number {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new OnnxBuilderError(`${where}: ${value} is not a whole number (use { float } / { floats } for floats)`);
    return value;
  }
  const bits = BigInt.asUintN(64, value);
  const pair = { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned: false };
  return pair as unknown as number;
}

const encoder = new TextEncoder();

function attributeProto(opType: string, name: string, value: OnnxAttributeValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  const where = `${opType} attribute '${name}'`;
  if (typeof value === 'number') return { name, type: T.INT, i: int64Field(value, where) };
  if (typeof value === 'string') return { name, type: T.STRING, s: encoder.encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: (value as readonly number[]).map((v) => int64Field(v, where)) };
  const tagged = value as Exclude<OnnxAttributeValue, number | string | readonly number[]>;
  if ('int' in tagged) return { name, type: T.INT, i: int64Field(tagged.int, where) };
  if ('ints' in tagged) return { name, type: T.INTS, ints: tagged.ints.map((v) => int64Field(v, where)) };
  if ('float' in tagged) return { name, type: T.FLOAT, f: tagged.float };
  if ('floats' in tagged) return { name, type: T.FLOATS, floats: [...tagged.floats] };
  if ('string' in tagged) return { name, type: T.STRING, s: encoder.encode(tagged.string) };
  if ('tensor' in tagged) return { name, type: T.TENSOR, t: tensorProto(tagged.tensor) };
  throw new OnnxBuilderError(`${where}: unsupported value`);
}
