// A tiny ONNX graph interpreter for the conformance tests: each node is
// mapped onto one call (or a few) of neonn's public op API, honouring the
// semantics of the opset the model imports (the PyTorch-exported node tests
// are opset 6: legacy `broadcast`/`axis` on Add/Mul, Softmax coerced to 2-D,
// Pad and Clip parameters as attributes, BatchNormalization `is_test`...).
// An op it does not know fails the run, naming the op and the node.
import * as nn from '../../lib';
import { NnOps, op } from '../conformance/nn-ops';
import {
  attrFloat,
  attrFloats,
  attrInt,
  attrInts,
  attrString,
  attrTensor,
  dataTypeName,
  dimsOf,
  hasAttr,
  intsFromProto,
  onnx,
  opsetVersion,
  tensorFromProto,
} from './proto';

/** An integer tensor (shape or pads input): values row-major and a shape. */
export class IntTensor {
  constructor(
    readonly values: number[],
    readonly shape: number[],
  ) {}
}

export type Value = nn.Tensor | IntTensor;

/** FLOAT/DOUBLE become float32 Tensors, INT64/INT32 become {@link IntTensor}s. */
export function valueFromProto(t: onnx.ITensorProto): Value {
  const DT = onnx.TensorProto.DataType;
  if (t.dataType === DT.FLOAT || t.dataType === DT.DOUBLE) return tensorFromProto(t);
  if (t.dataType === DT.INT64 || t.dataType === DT.INT32) return new IntTensor(intsFromProto(t), dimsOf(t));
  throw new TypeError(`tensor "${t.name ?? ''}": data type ${dataTypeName(t.dataType)} is not supported`);
}

/** The op functions the interpreter calls: neonn's by default, looked up lazily. */
export const neonnOps: NnOps = new Proxy({} as NnOps, {
  get: (_target, name) => op(name as keyof NnOps),
});

/** What a node handler sees. */
interface Ctx {
  node: onnx.INodeProto;
  /** `Conv node #0 "name"`, for messages. */
  label: string;
  opset: number;
  ops: NnOps;
  /** Inputs 0/1 arrive transposed: a Transpose [1,0] was folded into this MatMul/Gemm. */
  folded: [boolean, boolean];
}

type Handler = (ctx: Ctx, inputs: (Value | undefined)[]) => Value[];

function fail(ctx: Ctx, message: string): never {
  throw new Error(`${ctx.label}: ${message}`);
}

function float(ctx: Ctx, inputs: (Value | undefined)[], i: number): nn.Tensor {
  const v = inputs[i];
  if (v === undefined) fail(ctx, `input ${i} is missing`);
  if (v instanceof IntTensor) fail(ctx, `input ${i} must be a float tensor, got an integer tensor`);
  return v;
}

function optFloat(ctx: Ctx, inputs: (Value | undefined)[], i: number): nn.Tensor | undefined {
  return inputs[i] === undefined ? undefined : float(ctx, inputs, i);
}

function ints(ctx: Ctx, inputs: (Value | undefined)[], i: number): number[] {
  const v = inputs[i];
  if (!(v instanceof IntTensor)) fail(ctx, `input ${i} must be an integer tensor`);
  return v.values;
}

/** Float scalar input (Clip min/max, Pad constant_value in new opsets). */
function scalarInput(ctx: Ctx, inputs: (Value | undefined)[], i: number): number | undefined {
  const t = optFloat(ctx, inputs, i);
  if (t === undefined) return undefined;
  if (t.data.length !== 1) fail(ctx, `input ${i} must be a scalar, got shape [${t.shape.join(',')}]`);
  return t.data[0];
}

/** Same data, other shape: a view change, not an op (used for opset adapters). */
function view(t: nn.TensorLike, shape: number[]): nn.Tensor {
  return nn.tensor(t.data, shape);
}

function normAxis(ctx: Ctx, axis: number, rank: number, allowRank = false): number {
  const hi = allowRank ? rank : rank - 1;
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a > hi) fail(ctx, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

function ones(n: number): number[] {
  return new Array<number>(n).fill(1);
}

// ---- convolution and pooling geometry --------------------------------------

function pair(ctx: Ctx, name: string, dflt: number): [number, number] {
  const v = attrInts(ctx.node, name, [dflt, dflt]);
  if (v.length !== 2) fail(ctx, `only 2-D ${ctx.node.opType} is supported, "${name}" has ${v.length} values`);
  return [v[0], v[1]];
}

/** ONNX pads [top, left, bottom, right] after auto_pad, for a 2-D window op. */
function windowPads(
  ctx: Ctx,
  x: nn.TensorLike,
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
): [number, number, number, number] {
  const autoPad = attrString(ctx.node, 'auto_pad', 'NOTSET');
  if (autoPad === 'NOTSET') {
    const p = attrInts(ctx.node, 'pads', [0, 0, 0, 0]);
    if (p.length !== 4) fail(ctx, `"pads" must have 4 values for 2-D, got ${p.length}`);
    return [p[0], p[1], p[2], p[3]];
  }
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') fail(ctx, `unknown auto_pad "${autoPad}"`);
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < 2; i++) {
    const size = x.shape[2 + i];
    const out = Math.ceil(size / strides[i]);
    const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
    const small = Math.floor(total / 2);
    begin.push(autoPad === 'SAME_UPPER' ? small : total - small);
    end.push(autoPad === 'SAME_UPPER' ? total - small : small);
  }
  return [begin[0], begin[1], end[0], end[1]];
}

function rank4(ctx: Ctx, x: nn.TensorLike): void {
  if (x.shape.length !== 4) fail(ctx, `only 2-D (NCHW) inputs are supported, got shape [${x.shape.join(',')}]`);
}

function onlyFirstOutput(ctx: Ctx, what: string): void {
  const extra = (ctx.node.output ?? []).slice(1).filter((o) => o !== '');
  if (extra.length > 0) fail(ctx, `output(s) ${extra.join(', ')} (${what}) are not supported`);
}

// ---- handlers -------------------------------------------------------------

/** Opset < 7 Add/Mul: B is broadcast onto A from `axis` when broadcast=1. */
function legacyBroadcast(ctx: Ctx, a: nn.Tensor, b: nn.Tensor): nn.Tensor {
  if (ctx.opset >= 7) return b;
  const same = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (attrInt(ctx.node, 'broadcast', 0) === 0) {
    if (!same) fail(ctx, `broadcast=0 but shapes differ: [${a.shape.join(',')}] and [${b.shape.join(',')}]`);
    return b;
  }
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (rb > ra) fail(ctx, `B has rank ${rb} above A's ${ra}`);
  const axis = hasAttr(ctx.node, 'axis') ? normAxis(ctx, attrInt(ctx.node, 'axis', 0), ra) : ra - rb;
  if (axis + rb > ra) fail(ctx, `B of rank ${rb} does not fit in A of rank ${ra} from axis ${axis}`);
  return view(b, [...ones(axis), ...b.shape, ...ones(ra - axis - rb)]);
}

function binary(fn: 'add' | 'mul'): Handler {
  return (ctx, ins) => {
    const a = float(ctx, ins, 0);
    return [ctx.ops[fn](a, legacyBroadcast(ctx, a, float(ctx, ins, 1)))];
  };
}

function gemmLike(ctx: Ctx, a: nn.Tensor, b: nn.Tensor, transA: boolean, transB: boolean, c: nn.Tensor | undefined, alpha: number, beta: number): nn.Tensor {
  if (a.shape.length !== 2 || b.shape.length !== 2) {
    fail(ctx, `only 2-D operands are supported, got [${a.shape.join(',')}] and [${b.shape.join(',')}]`);
  }
  return ctx.ops.gemm(a, b, { transA: transA !== ctx.folded[0], transB: transB !== ctx.folded[1], alpha, beta, ...(c ? { c } : {}) });
}

/** Softmax/LogSoftmax; before opset 13 the input is coerced to 2-D at `axis`. */
function softmaxLike(fn: 'softmax' | 'logSoftmax'): Handler {
  return (ctx, ins) => {
    const x = float(ctx, ins, 0);
    const rank = x.shape.length;
    if (ctx.opset >= 13) return [ctx.ops[fn](x, { axis: normAxis(ctx, attrInt(ctx.node, 'axis', -1), rank) })];
    const axis = normAxis(ctx, attrInt(ctx.node, 'axis', 1), rank, true);
    const outer = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
    const inner = x.shape.slice(axis).reduce((p, d) => p * d, 1);
    if (rank === 2 && axis === 1) return [ctx.ops[fn](x, { axis: 1 })];
    const y = ctx.ops[fn](ctx.ops.reshape(x, [outer, inner]), { axis: 1 });
    return [ctx.ops.reshape(y, [...x.shape])];
  };
}

function resolveReshape(ctx: Ctx, x: nn.TensorLike, shape: number[]): number[] {
  const allowZero = attrInt(ctx.node, 'allowzero', 0) === 1;
  const out = shape.map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
  const known = out.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const size = x.data.length;
  return out.map((d) => (d === -1 ? size / known : d));
}

/** Largest finite float32: the "no bound" of Clip without NaN/Infinity hyperparameters. */
const FLT_MAX = 3.4028234663852886e38;

const HANDLERS: Record<string, Handler> = {
  Constant: (ctx) => {
    const t = attrTensor(ctx.node, 'value');
    if (t) return [valueFromProto(t)];
    if (hasAttr(ctx.node, 'value_float')) return [nn.tensor(Float32Array.of(attrFloat(ctx.node, 'value_float', 0)), [])];
    const fs = attrFloats(ctx.node, 'value_floats');
    if (fs) return [nn.tensor(Float32Array.from(fs), [fs.length])];
    if (hasAttr(ctx.node, 'value_int')) return [new IntTensor([attrInt(ctx.node, 'value_int', 0)], [])];
    const is = attrInts(ctx.node, 'value_ints');
    if (is) return [new IntTensor(is, [is.length])];
    return fail(ctx, 'no supported value attribute');
  },
  Identity: (ctx, ins) => [float(ctx, ins, 0)],
  Dropout: (ctx, ins) => {
    onlyFirstOutput(ctx, 'mask');
    return [float(ctx, ins, 0)];
  },

  Gemm: (ctx, ins) => {
    const c = optFloat(ctx, ins, 2);
    const a = float(ctx, ins, 0);
    const b = float(ctx, ins, 1);
    const transA = attrInt(ctx.node, 'transA', 0) === 1;
    const transB = attrInt(ctx.node, 'transB', 0) === 1;
    if (ctx.opset < 7 && c && attrInt(ctx.node, 'broadcast', 0) === 0) {
      const M = transA !== ctx.folded[0] ? a.shape[1] : a.shape[0];
      const N = transB !== ctx.folded[1] ? b.shape[0] : b.shape[1];
      if (c.shape.length !== 2 || c.shape[0] !== M || c.shape[1] !== N) {
        fail(ctx, `broadcast=0 needs C of shape [${M},${N}], got [${c.shape.join(',')}]`);
      }
    }
    return [gemmLike(ctx, a, b, transA, transB, c, attrFloat(ctx.node, 'alpha', 1), attrFloat(ctx.node, 'beta', 1))];
  },
  MatMul: (ctx, ins) => [gemmLike(ctx, float(ctx, ins, 0), float(ctx, ins, 1), false, false, undefined, 1, 0)],
  Add: binary('add'),
  Mul: binary('mul'),
  Neg: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    return [ctx.ops.mul(x, nn.tensor(Float32Array.of(-1), ones(x.shape.length)))];
  },

  Conv: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    const w = float(ctx, ins, 1);
    const bias = optFloat(ctx, ins, 2);
    rank4(ctx, x);
    const kernel = attrInts(ctx.node, 'kernel_shape');
    if (kernel && (kernel.length !== 2 || kernel[0] !== w.shape[2] || kernel[1] !== w.shape[3])) {
      fail(ctx, `kernel_shape [${kernel.join(',')}] disagrees with W of shape [${w.shape.join(',')}]`);
    }
    const strides = pair(ctx, 'strides', 1);
    const dilations = pair(ctx, 'dilations', 1);
    const pads = windowPads(ctx, x, [w.shape[2], w.shape[3]], strides, dilations);
    const group = attrInt(ctx.node, 'group', 1);
    return [ctx.ops.conv2d(x, w, { ...(bias ? { bias } : {}), strides, pads, dilations, group })];
  },
  MaxPool: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    rank4(ctx, x);
    // storage_order only lays out the Indices output, which is not supported.
    onlyFirstOutput(ctx, `Indices, storage_order=${attrInt(ctx.node, 'storage_order', 0)}`);
    const kernel = pair(ctx, 'kernel_shape', 0);
    const strides = pair(ctx, 'strides', 1);
    const dilations = pair(ctx, 'dilations', 1);
    const pads = windowPads(ctx, x, kernel, strides, dilations);
    const ceil = attrInt(ctx.node, 'ceil_mode', 0) === 1;
    return [ctx.ops.maxPool2d(x, { kernel, strides, pads, dilations, ceil })];
  },
  AveragePool: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    rank4(ctx, x);
    const kernel = pair(ctx, 'kernel_shape', 0);
    const strides = pair(ctx, 'strides', 1);
    const dilations = pair(ctx, 'dilations', 1);
    if (dilations[0] !== 1 || dilations[1] !== 1) fail(ctx, 'dilated average pooling is not supported');
    const pads = windowPads(ctx, x, kernel, strides, dilations);
    const ceil = attrInt(ctx.node, 'ceil_mode', 0) === 1;
    const countIncludePad = attrInt(ctx.node, 'count_include_pad', 0) === 1;
    return [ctx.ops.avgPool2d(x, { kernel, strides, pads, ceil, countIncludePad })];
  },
  GlobalAveragePool: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    rank4(ctx, x);
    return [ctx.ops.globalAvgPool(x)];
  },

  Relu: (ctx, ins) => [ctx.ops.relu(float(ctx, ins, 0))],
  Sigmoid: (ctx, ins) => [ctx.ops.sigmoid(float(ctx, ins, 0))],
  Tanh: (ctx, ins) => [ctx.ops.tanh(float(ctx, ins, 0))],
  LeakyRelu: (ctx, ins) => [ctx.ops.leakyRelu(float(ctx, ins, 0), attrFloat(ctx.node, 'alpha', 0.01))],
  PRelu: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    let slope = float(ctx, ins, 1);
    // Opset 6 PRelu: a 1-D slope of size C is per channel. Opset 7 made it
    // unidirectional broadcasting, so give it the shape [C,1,...,1] that
    // means the same under the newer rule.
    if (ctx.opset < 7 && slope.shape.length === 1 && x.shape.length > 2 && slope.shape[0] === x.shape[1] && slope.shape[0] !== 1) {
      slope = view(slope, [slope.shape[0], ...ones(x.shape.length - 2)]);
    }
    return [ctx.ops.prelu(x, slope)];
  },
  Clip: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    const lo = ctx.opset < 11 ? attrFloat(ctx.node, 'min', -FLT_MAX) : scalarInput(ctx, ins, 1) ?? -FLT_MAX;
    const hi = ctx.opset < 11 ? attrFloat(ctx.node, 'max', FLT_MAX) : scalarInput(ctx, ins, 2) ?? FLT_MAX;
    return [ctx.ops.clip(x, lo, hi)];
  },
  Softmax: softmaxLike('softmax'),
  LogSoftmax: softmaxLike('logSoftmax'),
  BatchNormalization: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    if (ctx.opset < 7 && attrInt(ctx.node, 'is_test', 0) !== 1) fail(ctx, 'training mode (is_test=0) is not supported');
    if (ctx.opset < 9 && attrInt(ctx.node, 'spatial', 1) !== 1) fail(ctx, 'spatial=0 is not supported');
    onlyFirstOutput(ctx, 'training statistics');
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => float(ctx, ins, i));
    return [ctx.ops.batchNorm(x, { scale, bias, mean, variance, epsilon: attrFloat(ctx.node, 'epsilon', 1e-5) })];
  },
  LRN: (ctx, ins) => {
    const size = attrInt(ctx.node, 'size', 0);
    return [
      ctx.ops.lrn(float(ctx, ins, 0), {
        size,
        alpha: attrFloat(ctx.node, 'alpha', 1e-4),
        beta: attrFloat(ctx.node, 'beta', 0.75),
        bias: attrFloat(ctx.node, 'bias', 1),
      }),
    ];
  },

  Concat: (ctx, ins) => {
    const xs = ins.map((_, i) => float(ctx, ins, i));
    return [ctx.ops.concat(xs, normAxis(ctx, attrInt(ctx.node, 'axis', 1), xs[0].shape.length))];
  },
  Flatten: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    return [ctx.ops.flatten(x, normAxis(ctx, attrInt(ctx.node, 'axis', 1), x.shape.length, true))];
  },
  Reshape: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    const shape = ctx.opset < 5 ? attrInts(ctx.node, 'shape', []) : ints(ctx, ins, 1);
    return [ctx.ops.reshape(x, resolveReshape(ctx, x, shape))];
  },
  Transpose: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    const perm = attrInts(ctx.node, 'perm', x.shape.map((_, i) => x.shape.length - 1 - i));
    return [ctx.ops.transpose(x, perm)];
  },
  Pad: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    const mode = attrString(ctx.node, 'mode', 'constant');
    if (mode !== 'constant') fail(ctx, `mode "${mode}" is not supported (only "constant")`);
    let pads: number[];
    let value: number;
    if (ctx.opset < 11) {
      // Opset 1 called the attribute "paddings".
      pads = attrInts(ctx.node, 'pads') ?? attrInts(ctx.node, 'paddings', []);
      value = attrFloat(ctx.node, 'value', 0);
    } else {
      if (ins[3] !== undefined) fail(ctx, 'the "axes" input is not supported');
      pads = ints(ctx, ins, 1);
      value = scalarInput(ctx, ins, 2) ?? 0;
    }
    if (pads.length !== 2 * x.shape.length) fail(ctx, `pads has ${pads.length} values, rank ${x.shape.length} needs ${2 * x.shape.length}`);
    return [ctx.ops.pad(x, pads, value)];
  },
};

/** The op types this interpreter maps (for messages and tests). */
export const SUPPORTED_OPS: readonly string[] = Object.keys(HANDLERS).sort();

function nodeLabel(node: onnx.INodeProto, index: number): string {
  return `${node.opType ?? '?'} node #${index}${node.name ? ` "${node.name}"` : ''}`;
}

interface Step {
  node: onnx.INodeProto;
  index: number;
  inputs: string[];
  folded: [boolean, boolean];
}

/**
 * Orders the nodes into steps, folding a 2-D Transpose perm=[1,0] into the
 * MatMul/Gemm that consumes it (transA/transB), as a runtime would; the
 * PyTorch exporter writes Linear without bias as Transpose + MatMul.
 */
function plan(graph: onnx.IGraphProto): Step[] {
  const nodes = graph.node ?? [];
  const uses = new Map<string, number>();
  for (const n of nodes) for (const i of n.input ?? []) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of graph.output ?? []) uses.set(o.name ?? '', (uses.get(o.name ?? '') ?? 0) + 1);
  const foldable = new Map<string, string>(); // transposed name -> source name
  for (const n of nodes) {
    if (n.opType !== 'Transpose' || (n.domain ?? '') !== '' || n.input?.length !== 1 || n.output?.length !== 1) continue;
    const perm = attrInts(n, 'perm');
    if (!perm || perm.length !== 2 || perm[0] !== 1 || perm[1] !== 0) continue;
    const out = n.output[0];
    const consumers = nodes.filter((m) => (m.input ?? []).includes(out));
    const ok =
      consumers.length === uses.get(out) &&
      consumers.every((m) => (m.opType === 'MatMul' || m.opType === 'Gemm') && m.input!.indexOf(out) < 2 && m.input!.lastIndexOf(out) === m.input!.indexOf(out));
    if (ok && consumers.length > 0) foldable.set(out, n.input[0]);
  }
  const steps: Step[] = [];
  nodes.forEach((node, index) => {
    if (node.opType === 'Transpose' && foldable.has(node.output?.[0] ?? '')) return;
    const inputs = [...(node.input ?? [])];
    const folded: [boolean, boolean] = [false, false];
    for (let k = 0; k < 2 && k < inputs.length; k++) {
      const src = foldable.get(inputs[k]);
      if (src !== undefined) {
        inputs[k] = src;
        folded[k] = true;
      }
    }
    steps.push({ node, index, inputs, folded });
  });
  return steps;
}

/**
 * Runs `model` on `feeds` (one per graph input that is not an initializer,
 * in order) and returns the graph outputs in order.
 * @throws naming every op type it cannot map, before running anything
 */
export function runModel(model: onnx.IModelProto, feeds: readonly Value[], ops: NnOps = neonnOps): Value[] {
  const graph = model.graph;
  if (!graph) throw new Error('model has no graph');
  const opset = opsetVersion(model);
  const nodes = graph.node ?? [];
  const unknown = nodes
    .map((n, i) => ((n.domain ?? '') !== '' && n.domain !== 'ai.onnx') || !(n.opType! in HANDLERS) ? `${n.domain ? `${n.domain}.` : ''}${nodeLabel(n, i)}` : null)
    .filter((s): s is string => s !== null);
  if (unknown.length > 0) {
    throw new Error(`unsupported ONNX op(s): ${unknown.join('; ')} (the interpreter maps ${SUPPORTED_OPS.join(', ')})`);
  }

  const env = new Map<string, Value>();
  for (const t of graph.initializer ?? []) env.set(t.name ?? '', valueFromProto(t));
  const free = (graph.input ?? []).map((i) => i.name ?? '').filter((n) => !env.has(n));
  if (free.length !== feeds.length) {
    throw new Error(`model has ${free.length} non-initializer input(s) (${free.join(', ')}), got ${feeds.length} feed(s)`);
  }
  free.forEach((name, i) => env.set(name, feeds[i]));

  for (const step of plan(graph)) {
    const ctx: Ctx = { node: step.node, label: nodeLabel(step.node, step.index), opset, ops, folded: step.folded };
    const inputs = step.inputs.map((name) => {
      if (name === '') return undefined;
      const v = env.get(name);
      if (v === undefined) fail(ctx, `input "${name}" is not computed yet (graph not in topological order?)`);
      return v;
    });
    let outs: Value[];
    try {
      outs = HANDLERS[step.node.opType!](ctx, inputs);
    } catch (e) {
      if (e instanceof Error && !e.message.startsWith(ctx.label)) e.message = `${ctx.label}: ${e.message}`;
      throw e;
    }
    (step.node.output ?? []).forEach((name, i) => {
      if (name !== '' && outs[i] !== undefined) env.set(name, outs[i]);
    });
  }
  return (graph.output ?? []).map((o) => {
    const v = env.get(o.name ?? '');
    if (v === undefined) throw new Error(`graph output "${o.name}" was never computed`);
    return v;
  });
}
