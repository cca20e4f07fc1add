/**
 * Rewrites of an ONNX ModelProto that `nn.quantize` needs before it places
 * Q/DQ nodes: Constant nodes made initializers, BatchNormalization folded
 * into the Conv before it, and the default-domain opset moved up to 13 (the
 * first with per-axis QuantizeLinear/DequantizeLinear) with the nodes whose
 * form changed on the way rewritten into their opset-13 form.
 * Every rewrite keeps the names of the tensors it does not remove.
 * @internal
 */
import { Tensor } from '../tensor';
import { attrFloat, attrInt, attrInts, attrTensor, intsFromProto, onnx, opsetVersion, tensorFromProto, toInt } from '../onnx/proto';

const DT = onnx.TensorProto.DataType;

/** The opset the quantized model imports (per-axis Q/DQ). */
export const QUANT_OPSET = 13;
/** IR version 7 goes with opset 13. */
export const QUANT_IR_VERSION = 7;

/** A failure to rewrite the model into a form that can be quantized. */
export function quantizeError(message: string): RangeError {
  return new RangeError(`quantize: ${message}`);
}

/** Little-endian bytes of a typed array (ONNX raw_data). */
function rawBytes(data: Float32Array | Int32Array | BigInt64Array | Int8Array | Uint8Array): Uint8Array {
  const n = data.length;
  const bytes = new Uint8Array(data.byteLength);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    if (data instanceof Float32Array) view.setFloat32(i * 4, data[i], true);
    else if (data instanceof Int32Array) view.setInt32(i * 4, data[i], true);
    else if (data instanceof BigInt64Array) view.setBigInt64(i * 8, data[i], true);
    else if (data instanceof Int8Array) view.setInt8(i, data[i]);
    else view.setUint8(i, data[i]);
  }
  return bytes;
}

const DTYPE_OF = new Map<unknown, number>([
  [Float32Array, DT.FLOAT],
  [Int32Array, DT.INT32],
  [BigInt64Array, DT.INT64],
  [Int8Array, DT.INT8],
  [Uint8Array, DT.UINT8],
]);

/** An initializer TensorProto with raw_data. */
export function makeTensor(name: string, data: Float32Array | Int32Array | BigInt64Array | Int8Array | Uint8Array, dims: readonly number[]): onnx.TensorProto {
  return onnx.TensorProto.create({ name, dataType: DTYPE_OF.get(data.constructor), dims: [...dims], rawData: rawBytes(data) });
}

/** An int64 initializer from numbers or bigints. */
export function int64Tensor(name: string, values: readonly (number | bigint)[]): onnx.TensorProto {
  return makeTensor(name, BigInt64Array.from(values.map((v) => BigInt(v))), [values.length]);
}

/**
 * Slice's starts/ends as int32-saturated numbers: exporters write INT64_MAX
 * for "to the end", which Slice clamps to the dim anyway (and which neonn's
 * loader refuses as an int64 initializer past 2^53).
 */
function sliceInts(node: onnx.INodeProto, name: string): number[] | undefined {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  const lim = 2n ** 31n - 1n;
  return a ? (a.ints ?? []).map((v) => { const b = BigInt(String(v)); return Number(b > lim ? lim : b < -lim ? -lim : b); }) : undefined;
}

/**
 * The model as a mutable graph: nodes, initializers by name, fresh names.
 */
export class Editor {
  readonly model: onnx.ModelProto;
  readonly graph: onnx.GraphProto;
  readonly inits = new Map<string, onnx.ITensorProto>();
  private readonly names = new Set<string>();
  private serial = 0;

  constructor(model: onnx.ModelProto) {
    this.model = model;
    this.graph = model.graph as onnx.GraphProto;
    for (const t of this.graph.initializer ?? []) this.inits.set(t.name ?? '', t);
    for (const n of this.graph.node ?? []) {
      if (n.name) this.names.add(n.name);
      for (const o of n.output ?? []) this.names.add(o);
    }
    for (const v of [...(this.graph.input ?? []), ...(this.graph.output ?? [])]) this.names.add(v.name ?? '');
    for (const k of this.inits.keys()) this.names.add(k);
  }

  /** A name no tensor or node has yet: `base`, else `base_1`, `base_2`, … */
  fresh(base: string): string {
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.serial}`;
    this.names.add(name);
    return name;
  }

  get nodes(): onnx.INodeProto[] {
    return this.graph.node as onnx.INodeProto[];
  }

  set nodes(nodes: onnx.INodeProto[]) {
    this.graph.node = nodes as onnx.NodeProto[];
  }

  addInit(t: onnx.ITensorProto): string {
    this.inits.set(t.name ?? '', t);
    this.names.add(t.name ?? '');
    return t.name ?? '';
  }

  /** Adds a node, named `opType_<fresh>`. */
  node(opType: string, inputs: string[], outputs: string[], attrs: onnx.IAttributeProto[] = [], domain = ''): onnx.NodeProto {
    return onnx.NodeProto.create({ opType, input: inputs, output: outputs, attribute: attrs, name: this.fresh(`${outputs[0]}_${opType}`), domain });
  }

  /** A float initializer's values, or undefined if `name` is no float initializer. */
  floatInit(name: string | undefined): Tensor | undefined {
    const t = name ? this.inits.get(name) : undefined;
    if (!t || (t.dataType !== DT.FLOAT && t.dataType !== DT.DOUBLE)) return undefined;
    return tensorFromProto(t);
  }

  /** How many nodes read `name` (and whether a graph output is it). */
  uses(name: string): number {
    let n = 0;
    for (const node of this.nodes) for (const i of node.input ?? []) if (i === name) n++;
    if ((this.graph.output ?? []).some((o) => o.name === name)) n++;
    return n;
  }

  isGraphOutput(name: string): boolean {
    return (this.graph.output ?? []).some((o) => o.name === name);
  }

  /** Writes the initializers back and the nodes in topological order; returns the bytes. */
  finish(): Uint8Array {
    const used = new Set<string>();
    for (const n of this.nodes) for (const i of n.input ?? []) used.add(i);
    for (const o of this.graph.output ?? []) used.add(o.name ?? '');
    this.graph.initializer = [...this.inits.values()].filter((t) => used.has(t.name ?? '')) as onnx.TensorProto[];
    this.nodes = topoSort(this.nodes, new Set([...this.inits.keys(), ...(this.graph.input ?? []).map((i) => i.name ?? '')]));
    return onnx.ModelProto.encode(this.model).finish();
  }
}

/** Nodes in an order where every input is produced before it is read. */
export function topoSort(nodes: onnx.INodeProto[], available: Set<string>): onnx.INodeProto[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => o && producer.set(o, i)));
  const done = new Set<number>();
  const out: onnx.INodeProto[] = [];
  const visit = (i: number, depth: number): void => {
    if (done.has(i)) return;
    if (depth > nodes.length) throw quantizeError('the graph has a cycle');
    done.add(i);
    for (const name of nodes[i].input ?? []) {
      if (name === '' || available.has(name)) continue;
      const p = producer.get(name);
      if (p !== undefined) visit(p, depth + 1);
    }
    out.push(nodes[i]);
  };
  // Iterative over the roots; recursion depth is bounded by the longest chain.
  nodes.forEach((_, i) => visit(i, 0));
  return out;
}

const AT = onnx.AttributeProto.AttributeType;

export function intAttr(name: string, i: number): onnx.IAttributeProto {
  return { name, type: AT.INT, i };
}

/** Constant nodes holding a `value` tensor become initializers; initializers leave the graph inputs. */
export function constantsToInitializers(ed: Editor): void {
  const kept: onnx.INodeProto[] = [];
  for (const n of ed.nodes) {
    const t = n.opType === 'Constant' && (n.domain ?? '') === '' && (n.attribute ?? []).length === 1 ? attrTensor(n, 'value') : undefined;
    if (t && n.output?.[0]) {
      ed.addInit(onnx.TensorProto.create({ ...t, name: n.output[0] }));
      continue;
    }
    kept.push(n);
  }
  ed.nodes = kept;
  ed.graph.input = (ed.graph.input ?? []).filter((i) => !ed.inits.has(i.name ?? '')) as onnx.ValueInfoProto[];
}

/**
 * Identity, and Dropout as inference runs it (no training_mode input, its mask unread), pass their input on:
 * removed, their readers reading that input, so the quantized ops on either side meet (SqueezeNet's last
 * Concat → Dropout → Conv: the Concat's output is then quantized for the Conv and becomes a QLinearConcat).
 * One whose output is a graph output stays.
 */
export function dropIdentities(ed: Editor): void {
  const source = new Map<string, string>();
  const kept: onnx.INodeProto[] = [];
  for (const n of ed.nodes) {
    const out = n.output?.[0];
    const x = n.input?.[0];
    const inference =
      n.opType === 'Identity' ||
      (n.opType === 'Dropout' && (n.input ?? []).slice(2).every((i) => i === '') && (n.output ?? []).slice(1).every((o) => o === '' || ed.uses(o) === 0));
    if ((n.domain ?? '') === '' && inference && out && x && !ed.isGraphOutput(out)) {
      source.set(out, x);
      continue;
    }
    kept.push(n);
  }
  const resolve = (name: string): string => {
    let v = name;
    for (let hops = 0; source.has(v) && hops <= source.size; hops++) v = source.get(v)!;
    return v;
  };
  for (const n of kept) n.input = (n.input ?? []).map(resolve);
  ed.nodes = kept;
}

/** Conv → BatchNormalization (constant parameters, nothing else reads the Conv) becomes one Conv. */
export function foldBatchNorm(ed: Editor): void {
  const removed = new Set<onnx.INodeProto>();
  for (const bn of ed.nodes) {
    if (bn.opType !== 'BatchNormalization' || (bn.output ?? []).slice(1).some((o) => o !== '')) continue;
    const conv = ed.nodes.find((n) => n.opType === 'Conv' && n.output?.[0] === bn.input?.[0]);
    if (!conv || ed.uses(conv.output![0]) !== 1) continue;
    const w = ed.floatInit(conv.input?.[1]);
    const [scale, beta, mean, variance] = [1, 2, 3, 4].map((i) => ed.floatInit(bn.input?.[i]));
    if (!w || !scale || !beta || !mean || !variance) continue;
    const cout = w.shape[0];
    const b = conv.input?.[2] ? ed.floatInit(conv.input[2]) : undefined;
    if ((conv.input?.[2] && !b) || [scale, beta, mean, variance].some((t) => t.data.length !== cout)) continue;
    const eps = attrFloat(bn, 'epsilon', 1e-5);
    const per = w.data.length / cout;
    const nw = new Float32Array(w.data.length);
    const nb = new Float32Array(cout);
    for (let o = 0; o < cout; o++) {
      const k = scale.data[o] / Math.sqrt(variance.data[o] + eps);
      for (let j = 0; j < per; j++) nw[o * per + j] = w.data[o * per + j] * k;
      nb[o] = ((b ? b.data[o] : 0) - mean.data[o]) * k + beta.data[o];
    }
    const wName = ed.addInit(makeTensor(ed.fresh(`${conv.input![1]}_folded`), nw, w.shape));
    const bName = ed.addInit(makeTensor(ed.fresh(`${bn.output![0]}_bias_folded`), nb, [cout]));
    conv.input = [conv.input![0], wName, bName];
    conv.output = [bn.output![0]];
    removed.add(bn);
  }
  ed.nodes = ed.nodes.filter((n) => !removed.has(n));
}

/**
 * Conv → Add of a constant that is one value per output channel ([C,1,1] or
 * [1,C,1,1], as CNTK and early exporters write the bias) becomes the Conv's
 * bias: the Relu after it can then fold into the quantized output range.
 */
export function foldConvAdd(ed: Editor): void {
  const removed = new Set<onnx.INodeProto>();
  for (const add of ed.nodes) {
    if (add.opType !== 'Add' || (add.domain ?? '') !== '') continue;
    const [a, b] = add.input ?? [];
    const conv = ed.nodes.find((n) => n.opType === 'Conv' && !removed.has(n) && (n.output?.[0] === a || n.output?.[0] === b));
    if (!conv || ed.uses(conv.output![0]) !== 1 || (a === b)) continue;
    const w = ed.floatInit(conv.input?.[1]);
    const c = ed.floatInit(conv.output![0] === a ? b : a);
    if (!w || !c) continue;
    const cout = w.shape[0];
    const dims = c.shape;
    const lead = dims.length - (w.shape.length - 1);
    const perChannel = c.data.length === cout && dims.length >= w.shape.length - 1 && dims.every((d, i) => (i === lead ? d === cout : d === 1)) && dims.length <= w.shape.length;
    const old = conv.input?.[2] ? ed.floatInit(conv.input[2]) : undefined;
    if (!perChannel || (conv.input?.[2] && !old)) continue;
    const nb = new Float32Array(cout);
    for (let o = 0; o < cout; o++) nb[o] = (old ? old.data[o] : 0) + c.data[o];
    const bName = ed.addInit(makeTensor(ed.fresh(`${add.output![0]}_bias`), nb, [cout]));
    conv.input = [conv.input![0], conv.input![1], bName];
    conv.output = [add.output![0]];
    removed.add(add);
  }
  ed.nodes = ed.nodes.filter((n) => !removed.has(n));
}

/**
 * Reshape of a float initializer by a constant shape (old exporters write
 * weights so) becomes the reshaped initializer: the weight is then seen as
 * one, and quantized as a weight rather than as an activation.
 */
export function foldConstantReshape(ed: Editor): void {
  ed.nodes = ed.nodes.filter((n) => {
    if (n.opType !== 'Reshape' || (n.domain ?? '') !== '' || !n.output?.[0]) return true;
    const w = ed.floatInit(n.input?.[0]);
    const shape = n.input?.[1] ? intInit(ed, n.input[1]) : attrInts(n, 'shape');
    if (!w || !shape || attrInt(n, 'allowzero', 0) !== 0) return true;
    const dims = shape.map((d, i) => (d === 0 ? w.shape[i] : d));
    const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const free = dims.filter((d) => d === -1).length;
    if (free > 1 || dims.some((d) => d === undefined || d < -1) || (free === 1 ? w.data.length % known !== 0 : known !== w.data.length)) return true;
    ed.addInit(makeTensor(n.output[0], w.data, dims.map((d) => (d === -1 ? w.data.length / known : d))));
    return false;
  });
}

/** Ops whose opset-13 form reads an opset 7-12 node unchanged. */
const SAME_FORM = new Set([
  'Abs', 'Acos', 'Add', 'And', 'ArgMax', 'ArgMin', 'Asin', 'Atan', 'AveragePool', 'Cast', 'Ceil', 'Concat', 'Constant', 'ConstantOfShape',
  'Conv', 'ConvTranspose', 'Cos', 'DepthToSpace', 'Div', 'Elu', 'Equal', 'Erf', 'Exp', 'Expand', 'Flatten', 'Floor', 'Gather', 'Gemm',
  'GlobalAveragePool', 'GlobalMaxPool', 'Greater', 'HardSigmoid', 'Identity', 'InstanceNormalization', 'LRN', 'LeakyRelu', 'Less', 'Log',
  'MatMul', 'Max', 'MaxPool', 'Mean', 'Min', 'Mul', 'Neg', 'Not', 'Or', 'PRelu', 'Pow', 'Reciprocal', 'ReduceL1', 'ReduceL2', 'ReduceLogSumExp',
  'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare', 'Relu', 'Reshape', 'Selu', 'Shape', 'Sigmoid', 'Sign', 'Sin', 'Size',
  'Softplus', 'Softsign', 'SpaceToDepth', 'Sqrt', 'Sub', 'Sum', 'Tan', 'Tanh', 'Tile', 'Transpose', 'Where', 'Xor', 'BatchNormalization',
]);

/** Attributes opsets before 7/9 had that opset 13 refuses (hints with no effect on inference). */
const LEGACY_ATTRS = new Set(['consumed_inputs', 'is_test', 'spatial']);

/**
 * Moves the default-domain opset to 13: each node whose form changed since
 * the model's opset is rewritten (attributes that became inputs, Softmax's
 * per-axis semantics). `shapes` gives tensor shapes seen while calibrating
 * (for Softmax). A node that cannot be moved is an error naming it.
 */
export function upgradeOpset(ed: Editor, shapes: ReadonlyMap<string, readonly number[]>): void {
  const from = opsetVersion(ed.model);
  if (from >= QUANT_OPSET) return;
  if (from < 7) throw quantizeError(`the model imports opset ${from}; quantize needs opset >= 7 (re-export the model)`);
  const out: onnx.INodeProto[] = [];
  const bad: string[] = [];
  const constInput = (node: onnx.INodeProto, what: string, values: (number | bigint)[] | undefined): string => {
    if (values === undefined) return '';
    return ed.addInit(int64Tensor(ed.fresh(`${node.output?.[0] ?? 'node'}_${what}`), values));
  };
  const drop = (node: onnx.INodeProto, names: string[]): void => {
    node.attribute = (node.attribute ?? []).filter((a) => !names.includes(a.name ?? '')) as onnx.AttributeProto[];
  };
  for (const node of ed.nodes) {
    const op = node.opType ?? '';
    if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') {
      out.push(node);
      continue;
    }
    drop(node, [...LEGACY_ATTRS].filter((a) => !(op === 'BatchNormalization' && a === 'spatial' && attrInt(node, 'spatial', 1) !== 1)));
    if (op === 'BatchNormalization' && attrInt(node, 'spatial', 1) !== 1) bad.push(`${op} "${node.name ?? ''}" (spatial=0)`);
    else if (SAME_FORM.has(op)) out.push(node);
    else if (op === 'Clip' && from < 11) {
      const lo = attrFloat(node, 'min', -3.4028234663852886e38);
      const hi = attrFloat(node, 'max', 3.4028234663852886e38);
      drop(node, ['min', 'max']);
      const lname = ed.addInit(makeTensor(ed.fresh(`${node.output![0]}_min`), Float32Array.of(lo), []));
      const hname = ed.addInit(makeTensor(ed.fresh(`${node.output![0]}_max`), Float32Array.of(hi), []));
      node.input = [node.input![0], lname, hname];
      out.push(node);
    } else if (op === 'Clip') out.push(node);
    else if (op === 'Slice' && from < 10) {
      const starts = sliceInts(node, 'starts') ?? [];
      const ends = sliceInts(node, 'ends') ?? [];
      const axes = sliceInts(node, 'axes');
      drop(node, ['starts', 'ends', 'axes']);
      node.input = [node.input![0], constInput(node, 'starts', starts), constInput(node, 'ends', ends), ...(axes ? [constInput(node, 'axes', axes)] : [])];
      out.push(node);
    } else if (op === 'Slice') out.push(node);
    else if (op === 'Unsqueeze' || op === 'Squeeze' || op === 'ReduceSum') {
      const axes = attrInts(node, 'axes');
      drop(node, ['axes']);
      if (axes !== undefined) node.input = [node.input![0], constInput(node, 'axes', axes)];
      out.push(node);
    } else if (op === 'Split') {
      const split = attrInts(node, 'split');
      drop(node, ['split']);
      if (split !== undefined) node.input = [node.input![0], constInput(node, 'split', split)];
      out.push(node);
    } else if (op === 'Dropout' && (node.output ?? []).slice(1).every((o) => o === '' || ed.uses(o) === 0)) {
      out.push(ed.node('Identity', [node.input![0]], [node.output![0]]));
    } else if (op === 'Pad' && from < 11) {
      const pads = attrInts(node, 'pads', attrInts(node, 'paddings', []));
      const value = attrFloat(node, 'value', 0);
      drop(node, ['pads', 'paddings', 'value']);
      const v = ed.addInit(makeTensor(ed.fresh(`${node.output![0]}_value`), Float32Array.of(value), []));
      node.input = [node.input![0], constInput(node, 'pads', pads), v];
      out.push(node);
    } else if (op === 'TopK' && from < 10) {
      const k = attrInt(node, 'k', 1);
      drop(node, ['k']);
      node.input = [node.input![0], constInput(node, 'k', [k])];
      out.push(node);
    } else if (op === 'Pad' || op === 'TopK') out.push(node);
    else if (op === 'Softmax' || op === 'LogSoftmax' || op === 'Hardmax') out.push(...softmax13(ed, node, shapes));
    else bad.push(`${op} "${node.name ?? node.output?.[0] ?? ''}"`);
  }
  if (bad.length > 0) {
    throw quantizeError(`the model imports opset ${from}, and per-axis Q/DQ needs opset ${QUANT_OPSET}; these nodes cannot be moved there: ${bad.slice(0, 8).join(', ')}${bad.length > 8 ? ', ...' : ''} (re-export the model with opset >= ${QUANT_OPSET})`);
  }
  ed.nodes = out;
  for (const o of ed.model.opsetImport ?? []) if ((o.domain ?? '') === '' || o.domain === 'ai.onnx') o.version = QUANT_OPSET;
  if (toInt(ed.model.irVersion) < QUANT_IR_VERSION) ed.model.irVersion = QUANT_IR_VERSION;
}

/**
 * Softmax before opset 13 coerces its input to 2-D at `axis` (default 1);
 * from 13 it runs along `axis` alone. Where the axis is the last one the two
 * agree; otherwise Flatten → Softmax(axis=1) → Reshape(Shape(x)) keeps the old meaning.
 */
function softmax13(ed: Editor, node: onnx.INodeProto, shapes: ReadonlyMap<string, readonly number[]>): onnx.INodeProto[] {
  const x = node.input![0];
  const axis = attrInt(node, 'axis', 1);
  const rank = shapes.get(x)?.length;
  if (rank !== undefined && (axis === rank - 1 || axis === -1)) {
    node.attribute = [intAttr('axis', -1)] as onnx.AttributeProto[];
    return [node];
  }
  const y = node.output![0];
  const flat = ed.fresh(`${y}_flat`);
  const shape = ed.fresh(`${y}_shape`);
  const soft = ed.fresh(`${y}_2d`);
  return [
    ed.node('Shape', [x], [shape]),
    ed.node('Flatten', [x], [flat], [intAttr('axis', axis)]),
    ed.node(node.opType!, [flat], [soft], [intAttr('axis', 1)]),
    ed.node('Reshape', [soft, shape], [y]),
  ];
}

/** The values of an int64 initializer, or undefined. */
export function intInit(ed: Editor, name: string | undefined): number[] | undefined {
  const t = name ? ed.inits.get(name) : undefined;
  return t && (t.dataType === DT.INT64 || t.dataType === DT.INT32) ? intsFromProto(t) : undefined;
}
