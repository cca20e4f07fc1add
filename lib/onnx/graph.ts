/**
 * An ONNX graph made ready to run: validated (every input defined, no cycle,
 * every op known — all unknown ones listed at once), put in topological
 * order, with initializers and constant subgraphs folded at load (Constant,
 * ConstantOfShape, Shape/Gather/Unsqueeze/Squeeze/Reshape of constants,
 * Identity, Transpose of weights...), Identity and inference Dropout removed,
 * BatchNormalization folded into the preceding Conv and a following Relu
 * fused into it.
 * @internal
 */
import { NeonnError } from '../errors';
import { Tensor } from '../tensor';
import { DType, WIDENED_CODE, WIDENED_HOLDER, WidenedType } from '../dtype';
import { Ctx, IntTensor, SUPPORTED_OPS, Value, attrsOf, evalNode, isHandled, isSupported, typedOf, valueFromProto } from './ops';
import type { NodeView } from '../ir/schema/types';
import { schemaOf } from '../ir/schema';
import { attrFloat, attrInt, checkedCount, onnx, onnxError, opsetVersion, toInt } from './proto';
import { QdqResult, fuseQdq } from './qdq';
import { QOP_FLOAT_REASON, qoperatorToFloat } from './qop-float';
import { constFloat, fuseAffineIntoConv, fuseConvAffine, fuseHardSwish, fuseQuantizeDequantize, scaleRows, setConvWeights, useCounts } from './fuse';

/** Ops whose kernel computes in integers (the QOperator and dynamic-quantization ops). */
const INTEGER_OPS = new Set([
  'QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger', 'QLinearAdd', 'QLinearMul', 'QLinearSigmoid', 'QLinearLeakyRelu',
  'QLinearConcat', 'QLinearGlobalAveragePool', 'QLinearAveragePool',
]);

/** One node still to run when the model runs. */
export interface Step {
  node: onnx.INodeProto;
  label: string;
  inputs: string[];
  outputs: string[];
  activation: 'none' | 'relu';
  /** ONNX op types merged into this step, e.g. `Conv+BatchNormalization+Relu`. */
  ops: string;
  /** How it computes: `int8` for an integer kernel (QOperator as written, or fused from a QDQ chain). */
  precision: 'int8' | 'float';
  /** For a float op between DequantizeLinear and QuantizeLinear that was not fused: why. */
  fallback?: string;
}

/** A graph input or output: name, dtype and declared shape (-1 for a symbolic or unknown dim, named in `symbols`). */
export interface Port {
  name: string;
  shape: number[];
  /** The declared dims with their symbols: a number, or the dim's name (`'N'`, `'height'`; `'?'` when unnamed). */
  dims: (number | string)[];
  /** The dtype the program holds it in. */
  dtype: DType;
  /** A declared element type neonn holds widened in `dtype` (lib/dtype.ts); absent: the type is `dtype`. */
  widened?: WidenedType;
}

export interface Graph {
  opset: number;
  inputs: Port[];
  outputs: Port[];
  consts: Map<string, Value>;
  steps: Step[];
}

function nodeLabel(node: onnx.INodeProto, index: number): string {
  return `${node.opType ?? '?'} node #${index}${node.name ? ` "${node.name}"` : ''}`;
}


const ELEM_DTYPES = new Map<number, DType>([
  [onnx.TensorProto.DataType.FLOAT, 'float32'],
  [onnx.TensorProto.DataType.DOUBLE, 'float32'],
  [onnx.TensorProto.DataType.INT64, 'int64'],
  [onnx.TensorProto.DataType.INT32, 'int32'],
  [onnx.TensorProto.DataType.UINT8, 'uint8'],
  [onnx.TensorProto.DataType.INT8, 'int8'],
  [onnx.TensorProto.DataType.BOOL, 'bool'],
  [onnx.TensorProto.DataType.FLOAT16, 'float16'],
]);

const WIDENED_OF_CODE = new Map<number, WidenedType>(Object.entries(WIDENED_CODE).map(([t, code]) => [code, t as WidenedType]));

/** A value type as ONNX writes it: `tensor(float)`, `sequence(tensor(float))`, `optional(sequence(tensor(int64)))`. */
function typeName(t: onnx.ITypeProto | null | undefined): string {
  const DT = onnx.TensorProto.DataType;
  if (!t) return '?';
  if (t.tensorType) return `tensor(${(DT[t.tensorType.elemType ?? 0] ?? '?').toLowerCase()})`;
  if (t.sequenceType) return `sequence(${typeName(t.sequenceType.elemType)})`;
  if (t.optionalType) return `optional(${typeName(t.optionalType.elemType)})`;
  if (t.mapType) return 'map';
  if (t.sparseTensorType) return 'sparse_tensor';
  return '?';
}

function portOf(v: onnx.IValueInfoProto, what: string): Port {
  const name = v.name ?? '';
  const type = v.type;
  // A port with no type at all is taken as a float tensor (older exporters); any type but a tensor is refused.
  if (type && (type.sequenceType || type.optionalType || type.mapType || type.sparseTensorType)) {
    throw new NeonnError(
      `loadOnnx: ${what} "${name}" has type ${typeName(type)}: neonn's values are tensors (sequence, optional, map and sparse values are not supported)`,
      'ERR_NEONN_ONNX_UNSUPPORTED',
      'loadOnnx',
    );
  }
  const tt = v.type?.tensorType;
  const elem = tt?.elemType ?? 0;
  const DT = onnx.TensorProto.DataType;
  const widened = WIDENED_OF_CODE.get(elem);
  const dtype = elem === 0 ? 'float32' : widened ? WIDENED_HOLDER[widened] : ELEM_DTYPES.get(elem);
  if (dtype === undefined) {
    throw new NeonnError(`loadOnnx: ${what} "${name}" has element type ${DT[elem] ?? elem}, which is not supported`, 'ERR_NEONN_ONNX_UNSUPPORTED', 'loadOnnx');
  }
  const dims: (number | string)[] = [];
  const shape = (tt?.shape?.dim ?? []).map((d) => {
    if (d.dimValue === null || d.dimValue === undefined || d.dimParam) {
      dims.push(d.dimParam || '?');
      return -1;
    }
    const n = toInt(d.dimValue);
    if (n < 0) throw new RangeError(`loadOnnx: ${what} "${name}" has a negative dimension ${n}`);
    dims.push(n === 0 ? '?' : n);
    return n === 0 ? -1 : n;
  });
  if (shape.every((d) => d > 0)) checkedCount(`${what} "${name}"`, shape);
  return { name, shape, dims, dtype, ...(widened ? { widened } : {}) };
}



/**
 * How quantized graphs run: 'fuse' fuses QDQ chains into integer ops and runs
 * every integer op on the integer kernels; 'float' runs the graph as written;
 * 'auto' (the default) fuses, then runs each QLinearConv/QLinearMatMul on the
 * faster of the integer kernel and its bit-identical float form: a 2-D
 * QLinearConv stays integer where the backend runs quantized NHWC regions on
 * XNNPACK's qs8 operators (`integerConvs`: xnnpack; under auto the model's
 * integer path is measured against its float form at load and the faster
 * runs, model.ts measuredQuantizedPath); elsewhere (and QLinearMatMul always)
 * the integer kernels are reference loops, 15-25x slower than the float form
 * (README, int8), so the float form runs.
 */
export type QdqMode = 'auto' | 'fuse' | 'float';

/**
 * Validates `model` and prepares its graph.
 * @throws {NeonnError} ERR_NEONN_ONNX_UNSUPPORTED listing every unknown op, ERR_NEONN_ONNX_INVALID for a broken graph
 * @throws {RangeError} for absurd or negative sizes
 */
export function buildGraph(model: onnx.IModelProto, options: { qdq?: QdqMode; integerConvs?: boolean } = {}): Graph {
  const graph = model.graph;
  if (!graph) throw onnxError('not an ONNX model: it has no graph');
  const opset = opsetVersion(model);
  let nodes = graph.node ?? [];

  const unknown = nodes
    .map((n, i) => (!isSupported(n.opType ?? '', n.domain ?? '') ? `${n.domain ? `${n.domain}.` : ''}${nodeLabel(n, i)}` : null))
    .filter((s): s is string => s !== null);
  // Attributes an op schema entry does not take (or string values it does not
  // implement), every node at once, so that a model that cannot load says
  // everything it lacks in one message.
  const badAttrs = nodes
    .map((n, i) => (unknown.length === 0 || isSupported(n.opType ?? '', n.domain ?? '') ? unsupportedAttrs(n, nodeLabel(n, i), opset) : null))
    .filter((s): s is string => s !== null);
  if (unknown.length > 0 || badAttrs.length > 0) {
    const parts = [
      ...(unknown.length > 0 ? [`unsupported ONNX op(s): ${unknown.join('; ')}`] : []),
      ...(badAttrs.length > 0 ? [`unsupported attribute(s): ${badAttrs.join('; ')}`] : []),
    ];
    throw new NeonnError(`loadOnnx: ${parts.join('; and ')} (supported ops: ${SUPPORTED_OPS.join(', ')})`, 'ERR_NEONN_ONNX_UNSUPPORTED', 'loadOnnx');
  }

  // Labels name each node by its index in the file, whatever the passes below do.
  const labels = new Map(nodes.map((n, i) => [n, nodeLabel(n, i)]));
  const initializers = [...(graph.initializer ?? [])];
  let qdq: QdqResult | undefined;
  const qdqMode = options.qdq ?? 'auto';
  if (qdqMode !== 'float' && nodes.some((n) => n.opType === 'QuantizeLinear') && nodes.some((n) => n.opType === 'DequantizeLinear')) {
    qdq = fuseQdq(nodes, new Map(initializers.map((t) => [t.name ?? '', t])), new Set((graph.output ?? []).map((o) => o.name ?? '')));
    nodes = qdq.nodes;
    initializers.push(...qdq.initializers);
    for (const [n, info] of qdq.fused) {
      labels.set(n, info.nodes.filter((p) => p.opType !== 'DequantizeLinear').map((p) => labels.get(p) ?? p.opType).join(' + '));
    }
  }
  // Under 'auto', QLinearConv/QLinearMatMul (the file's or fused) take their exact float form while it is the faster path.
  const floatPath = new Map<onnx.INodeProto, string>();
  if (qdqMode === 'auto' && nodes.some((n) => ['QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger'].includes(n.opType ?? ''))) {
    const f = qoperatorToFloat(nodes, new Map(initializers.map((t) => [t.name ?? '', t])), options.integerConvs ?? false);
    nodes = f.nodes;
    initializers.push(...f.initializers);
    for (const [m, orig] of f.from) {
      labels.set(m, `${labels.get(orig) ?? orig.opType ?? '?'} (float ${m.opType ?? '?'})`);
      if (m.opType === 'Conv' || m.opType === 'MatMul') floatPath.set(m, QOP_FLOAT_REASON);
    }
  }
  const consts = new Map<string, Value>();
  for (const t of initializers) {
    try {
      consts.set(t.name ?? '', valueFromProto(t));
    } catch (e) {
      // Name the nodes that read the broken tensor (a zero point out of range names its QuantizeLinear).
      const readers = nodes.flatMap((n) => (n.input ?? []).map((name, i) => (name === t.name ? `input ${i} of ${labels.get(n) ?? n.opType}` : null)).filter((x) => x !== null));
      if (e instanceof Error && readers.length > 0) e.message = e.message.replace(/^loadOnnx: /, `loadOnnx: ${readers.slice(0, 3).join(', ')}: `);
      throw e;
    }
  }
  const inputs = (graph.input ?? []).filter((i) => !consts.has(i.name ?? '')).map((i) => portOf(i, 'input'));
  const seen = new Map<string, number>();
  (graph.input ?? []).forEach((input, i) => {
    const name = input.name ?? '';
    const first = seen.get(name);
    // Two inputs with one name would each need a feed under that name: no run could ever pass.
    if (first !== undefined) throw onnxError(`graph inputs ${first} and ${i} are both named ${JSON.stringify(name)}`);
    seen.set(name, i);
  });
  const outputs = (graph.output ?? []).map((o) => portOf(o, 'output'));
  if (outputs.length === 0) throw onnxError('the graph has no outputs');

  const order = topoOrder(nodes, new Set([...consts.keys(), ...inputs.map((i) => i.name)]), labels);
  const produced = new Set([...consts.keys(), ...inputs.map((i) => i.name), ...nodes.flatMap((n) => n.output ?? [])]);
  for (const o of outputs) if (!produced.has(o.name)) throw onnxError(`graph output "${o.name}" is produced by no node`);

  // Constant folding: a node whose inputs are all constants runs now, once.
  let steps: Step[] = [];
  for (const index of order) {
    const node = nodes[index];
    const label = labels.get(node) ?? nodeLabel(node, index);
    const names = node.input ?? [];
    const info = qdq?.fused.get(node);
    const fallback = qdq?.fallbacks.get(node) ?? floatPath.get(node);
    const step: Step = {
      node,
      label,
      inputs: [...names],
      outputs: [...(node.output ?? [])],
      activation: 'none',
      ops: info ? info.ops : node.opType ?? '',
      precision: info || INTEGER_OPS.has(node.opType ?? '') ? 'int8' : 'float',
      ...(fallback ? { fallback } : {}),
    };
    const allConst = names.every((n) => n === '' || consts.has(n));
    if (!allConst) {
      steps.push(step);
      continue;
    }
    const ctx: Ctx = { node, label, opset, constant: () => true, activation: 'none' };
    const outs = evalNode(ctx, names.map((n) => (n === '' ? undefined : consts.get(n))));
    step.outputs.forEach((name, i) => {
      if (name !== '' && outs[i] !== undefined) consts.set(name, outs[i]);
    });
  }
  steps = removeAliases(steps, outputs, consts);
  steps = removeDead(steps, outputs);
  steps = fuseConvAffine(steps, outputs, consts);
  steps = fuseHardSwish(steps, outputs, consts, opset);
  steps = fuseAffineIntoConv(steps, outputs, consts);
  steps = fuseConv(steps, outputs, consts, opset);
  steps = fuseQuantizeDequantize(steps, outputs, consts);
  dropUnread(steps, outputs, consts);
  return { opset, inputs, outputs, consts, steps };
}

/**
 * Constants no step and no graph output reads any more go: the weights a
 * folding pass replaced (a Conv's before its BatchNormalization was folded
 * in), folded intermediates, initializers of removed nodes. Kept, they
 * doubled a BN-heavy model's memory (ResNet-50: 187 MB of constants for 98 MB
 * of weights) for as long as the model lived.
 */
function dropUnread(steps: readonly Step[], outputs: readonly Port[], consts: Map<string, Value>): void {
  const read = new Set<string>(outputs.map((o) => o.name));
  for (const s of steps) for (const n of s.inputs) read.add(n);
  for (const name of [...consts.keys()]) if (!read.has(name)) consts.delete(name);
}

/**
 * What of a node's attributes its op schema entry rejects as unsupported
 * (ops the importer maps by hand check theirs when planned), or null.
 */
function unsupportedAttrs(node: onnx.INodeProto, label: string, opset: number): string | null {
  const schema = schemaOf(node.opType ?? '', node.domain ?? '');
  if (!schema || isHandled(node.opType ?? '', node.domain ?? '')) return null;
  let view: NodeView;
  try {
    const ctx: Ctx = { node, label, opset, constant: () => true, activation: 'none' };
    view = { inputs: [...(node.input ?? [])], outputs: [...(node.output ?? [])], attrs: attrsOf(ctx) };
    // Older opsets' attributes that the entry's upgrade turns into inputs are not missing.
    let serial = 0;
    schema.upgrade?.(view, { opset, constant: () => `neonn::check${serial++}`, fail: (m) => onnxErrorThrow(m), unsupported: (m) => onnxErrorThrow(m) });
  } catch (e) {
    return `${label}: ${(e as Error).message.replace(/^loadOnnx: /, '').replace(`${label}: `, '')}`;
  }
  const problems: string[] = [];
  for (const [name, value] of Object.entries(view.attrs)) {
    const spec = schema.attrs[name];
    if (spec === undefined) problems.push(`"${name}"`);
    else if (spec.type === 'string' && spec.values && typeof value === 'string' && !spec.values.includes(value)) problems.push(`${name}=${JSON.stringify(value)}`);
  }
  return problems.length > 0 ? `${label}: ${problems.join(', ')}` : null;
}

function onnxErrorThrow(message: string): never {
  throw onnxError(message, 'ERR_NEONN_ONNX_UNSUPPORTED');
}

/**
 * Kahn's algorithm over the nodes; an input no one produces and a cycle are
 * errors naming the node(s).
 */
function topoOrder(nodes: onnx.INodeProto[], available: Set<string>, labels: ReadonlyMap<onnx.INodeProto, string>): number[] {
  const nodeLabel = (n: onnx.INodeProto, i: number): string => labels.get(n) ?? `${n.opType ?? '?'} node #${i}`;
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) {
      if (o === '') continue;
      if (producer.has(o) || available.has(o)) throw onnxError(`${nodeLabel(n, i)}: output "${o}" is defined more than once`);
      producer.set(o, i);
    }
  });
  const waiting = nodes.map(() => 0);
  const users = new Map<number, number[]>();
  nodes.forEach((n, i) => {
    for (const name of n.input ?? []) {
      if (name === '' || available.has(name)) continue;
      const p = producer.get(name);
      if (p === undefined) throw onnxError(`${nodeLabel(n, i)}: input "${name}" is not a graph input, an initializer or any node's output`);
      waiting[i]++;
      users.set(p, [...(users.get(p) ?? []), i]);
    }
  });
  const ready = nodes.map((_, i) => i).filter((i) => waiting[i] === 0);
  const order: number[] = [];
  while (ready.length > 0) {
    const i = ready.shift()!;
    order.push(i);
    for (const u of users.get(i) ?? []) if (--waiting[u] === 0) ready.push(u);
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.map((n, i) => (waiting[i] > 0 ? nodeLabel(n, i) : null)).filter((s) => s !== null);
    throw onnxError(`the graph has a cycle through ${stuck.slice(0, 10).join(', ')}${stuck.length > 10 ? ', ...' : ''}`);
  }
  return order;
}


/**
 * Dropout (in inference: no training_mode input, or a constant false one) and
 * Identity pass their input through: readers read the input instead (graph
 * outputs keep the step).
 */
function removeAliases(steps: Step[], outputs: Port[], consts: Map<string, Value>): Step[] {
  const rename = new Map<string, string>();
  const outNames = new Set(outputs.map((o) => o.name));
  const uses = useCounts(steps, outputs);
  const kept: Step[] = [];
  for (const s of steps) {
    s.inputs = s.inputs.map((n) => rename.get(n) ?? n);
    const op = s.node.opType;
    const extra = s.outputs.slice(1).some((o) => o !== '' && uses.has(o));
    if ((op === 'Identity' || (op === 'Dropout' && inferenceDropout(s, consts))) && !extra && !outNames.has(s.outputs[0])) {
      rename.set(s.outputs[0], s.inputs[0]);
      continue;
    }
    kept.push(s);
  }
  return kept;
}

/** Whether a Dropout step is the identity whatever the feeds: its training_mode is absent or a constant false. */
function inferenceDropout(s: Step, consts: Map<string, Value>): boolean {
  const t = s.inputs[2] ?? '';
  if (t === '') return true;
  const v = consts.get(t);
  return v !== undefined && typedOf(v).data.length > 0 && Number(typedOf(v).data[0]) === 0;
}

/**
 * Dead-node removal: a step none of whose outputs a later step or a graph
 * output reads is dropped (last first, so a chain that only fed it goes too).
 * It also lets fusion see a Conv whose only other reader was dead.
 */
function removeDead(steps: Step[], outputs: Port[]): Step[] {
  const needed = new Set(outputs.map((o) => o.name));
  const kept: Step[] = [];
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i];
    if (!s.outputs.some((o) => o !== '' && needed.has(o))) continue;
    for (const n of s.inputs) if (n !== '') needed.add(n);
    kept.push(s);
  }
  return kept.reverse();
}


/**
 * Conv → BatchNormalization (constant parameters, the Conv's output read by
 * nothing else) becomes one Conv with w' = w·s, b' = (b − mean)·s + beta,
 * s = scale / sqrt(var + eps); Conv → Relu becomes a Conv with a fused ReLU.
 */
function fuseConv(steps: Step[], outputs: Port[], consts: Map<string, Value>, opset: number): Step[] {
  const outNames = new Set(outputs.map((o) => o.name));
  let uses = useCounts(steps, outputs);
  const removed = new Set<Step>();
  const readerOf = (name: string, op: string): Step | undefined =>
    uses.get(name) === 1 && !outNames.has(name) ? steps.find((s) => !removed.has(s) && s.node.opType === op && s.inputs[0] === name && s.inputs.indexOf(name) === s.inputs.lastIndexOf(name)) : undefined;
  let fresh = 0;
  for (const s of steps) {
    if (s.node.opType !== 'Conv' || removed.has(s)) continue;
    const bn = readerOf(s.outputs[0], 'BatchNormalization');
    const w = constFloat(consts, s.inputs[1]);
    if (bn && w && w.shape.length === 4 && bn.outputs.slice(1).every((o) => o === '') && bnFoldable(bn, opset)) {
      const [scale, beta, mean, variance] = [1, 2, 3, 4].map((i) => constFloat(consts, bn.inputs[i]));
      const cout = w.shape[0];
      const b = s.inputs[2] ? constFloat(consts, s.inputs[2]) : undefined;
      const okB = !s.inputs[2] || (b !== undefined && b.data.length === cout);
      if (okB && [scale, beta, mean, variance].every((t) => t !== undefined && t.data.length === cout)) {
        const eps = attrFloat(bn.node, 'epsilon', 1e-5);
        // s rounded to float32 once, as the weights are scaled by the native Mul (fuse.ts scaleRows).
        const k = new Float32Array(cout);
        const nb = new Float32Array(cout);
        for (let o = 0; o < cout; o++) {
          k[o] = scale!.data[o] / Math.sqrt(variance!.data[o] + eps);
          nb[o] = ((b ? b.data[o] : 0) - mean!.data[o]) * k[o] + beta!.data[o];
        }
        const nw = scaleRows(w.data, k);
        setConvWeights(s, consts, 'folded', fresh++, s.inputs[0], w, nw, nb);
        s.outputs = [bn.outputs[0]];
        s.ops += '+BatchNormalization';
        s.label += ` + ${bn.label}`;
        removed.add(bn);
        uses = useCounts(steps.filter((x) => !removed.has(x)), outputs);
      }
    }
    const r = readerOf(s.outputs[0], 'Relu');
    if (r) {
      s.activation = 'relu';
      s.outputs = [r.outputs[0]];
      s.ops += '+Relu';
      s.label += ` + ${r.label}`;
      removed.add(r);
      uses = useCounts(steps.filter((x) => !removed.has(x)), outputs);
    }
  }
  return steps.filter((s) => !removed.has(s));
}

function bnFoldable(bn: Step, opset: number): boolean {
  // Training mode normalizes by the batch's statistics, not by the constants.
  if (opset >= 14 && attrInt(bn.node, 'training_mode', 0) === 1) return false;
  if (opset < 7 && attrInt(bn.node, 'is_test', 0) !== 1) return false;
  if (opset < 9 && attrInt(bn.node, 'spatial', 1) !== 1) return false;
  return true;
}

export { IntTensor };
export type { Value };
