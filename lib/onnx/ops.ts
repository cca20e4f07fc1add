/**
 * The ONNX operators neonn maps, each onto one call (or a few) of the public
 * op API, honouring the semantics of the opset the model imports (legacy
 * `broadcast`/`axis` on binary ops before opset 7, Softmax coerced to 2-D
 * before 13, Pad and Clip parameters as attributes before 11,
 * BatchNormalization `is_test`/`spatial`...). Integer tensors (shapes, axes,
 * pads) are computed in JS: while a program is traced they depend only on
 * shapes, never on activation values.
 * @internal
 */
import { randomInt } from 'crypto';
import { NeonnError } from '../errors';
import { ConvAlgorithm, conv2d } from '../ops/conv';
import { add, clip, div, leakyRelu, logSoftmax, mul, prelu, relu, sigmoid, softmax, sub, tanh } from '../ops/elementwise';
import { gemm } from '../ops/gemm';
import { concat, flatten, pad, reshape, transpose } from '../ops/layout';
import { batchNorm, lrn } from '../ops/normalization';
import { avgPool2d, globalAvgPool, maxPool2d } from '../ops/pool';
import { Tensor, TensorLike, fmtShape, sizeOf } from '../tensor';
import { DType, DTYPE_CODE, TypedData, fromNumbers, toNumbers } from '../dtype';
import { runDataDependent } from './dynamic';
import { dropoutMask } from './random';
import { TValue, execSchemaOp, isFolded } from '../ir/exec';
import { opNames } from '../ir/ops';
import { schemaOf } from '../ir/schema';
import type { AttrValue, NodeView, OpSchema } from '../ir/schema/types';
import { recording } from '../ops/run';
import {
  attrFloat,
  attrFloats,
  attrInt,
  attrInts,
  attrString,
  attrTensor,
  checkedCount,
  dataTypeName,
  dimsOf,
  hasAttr,
  intsFromProto,
  onnx,
  smallTypedFromProto,
  int64FromProto,
  isUnsafeInt,
  tensorFromProto,
  toIntSaturated,
} from './proto';

/** Integer tensors hold shapes, axes and pads (JS arrays): a few elements, never millions. */
const MAX_INT_ELEMENTS = 2 ** 20;

/**
 * An integer tensor known when the model is planned (a shape, axes, pads):
 * values row-major and a shape; as a typed value it is int64.
 */
export class IntTensor implements TValue {
  private typed?: BigInt64Array | Int32Array;
  constructor(
    readonly values: number[],
    readonly shape: number[],
    /** int32 values stay int32 (a model's int32 input, an INT32 constant): ONNX keeps the dtype through shape ops. */
    readonly dtype: 'int64' | 'int32' = 'int64',
  ) {}
  get data(): BigInt64Array | Int32Array {
    this.typed ??= fromNumbers(this.dtype, this.values) as BigInt64Array | Int32Array;
    return this.typed;
  }
}

/**
 * A value while a graph is folded or planned: a float32 Tensor, an
 * IntTensor (integers known at planning time), or a typed value of any
 * dtype (bool, uint8, int8, float16, integers computed from the data).
 */
export type Value = Tensor | IntTensor | TValue;

/** A typed value as the handlers want it: float32 as a Tensor, known small integers as an IntTensor. */
export function valueOfTyped(v: TValue, known: boolean): Value {
  if (v instanceof Tensor || v instanceof IntTensor) return v;
  const n = sizeOf(v.shape);
  const data = v.data.length === n ? v.data : (v.data.subarray(0, n) as TypedData);
  if (v.dtype === 'float32' && n > 0) return new Tensor(data as Float32Array, v.shape);
  if (known && (v.dtype === 'int64' || v.dtype === 'int32') && n <= MAX_INT_ELEMENTS) {
    // Values past 2^53 stay exact int64 data, as such initializers do (valueFromProto).
    const values = toNumbers(data);
    if (values.every(Number.isSafeInteger)) return new IntTensor(values, [...v.shape], v.dtype);
  }
  return { dtype: v.dtype, data, shape: [...v.shape] };
}

/** Any value as a typed value. */
export function typedOf(v: Value): TValue {
  if (v instanceof Tensor) return { dtype: 'float32', data: v.data, shape: v.shape };
  return v;
}

/** FLOAT/DOUBLE become float32 Tensors, INT64/INT32 {@link IntTensor}s, the byte types and FLOAT16 typed values. */
export function valueFromProto(t: onnx.ITensorProto): Value {
  const DT = onnx.TensorProto.DataType;
  if (t.dataType === DT.FLOAT || t.dataType === DT.DOUBLE) {
    const dims = dimsOf(t);
    if (dims.some((d) => d === 0)) return { dtype: 'float32', data: new Float32Array(0), shape: dims };
    return tensorFromProto(t);
  }
  if (t.dataType === DT.INT64 || t.dataType === DT.INT32) {
    const dims = dimsOf(t);
    let values: number[];
    try {
      values = intsFromProto(t);
    } catch (e) {
      // Values past 2^53 (INT64_MAX as "to the end"): kept exact, as int64 data.
      if (t.dataType !== DT.INT64 || !isUnsafeInt(e)) throw e;
      return { dtype: 'int64', data: int64FromProto(t), shape: dims };
    }
    const dtype = t.dataType === DT.INT32 ? 'int32' : 'int64';
    if (values.length <= MAX_INT_ELEMENTS) return new IntTensor(values, dims, dtype);
    return { dtype, data: fromNumbers(dtype, values), shape: dims };
  }
  if (t.dataType === DT.UINT8 || t.dataType === DT.INT8 || t.dataType === DT.BOOL || t.dataType === DT.FLOAT16) return smallTypedFromProto(t);
  throw new NeonnError(
    `loadOnnx: tensor "${t.name ?? ''}": data type ${dataTypeName(t.dataType)} is not supported`,
    'ERR_NEONN_ONNX_UNSUPPORTED',
    'loadOnnx',
  );
}

/** What a node handler sees. */
export interface Ctx {
  node: onnx.INodeProto;
  /** `Conv node #0 "name"`, for messages. */
  label: string;
  opset: number;
  /** Whether input i is a load-time constant (its float values may be read). */
  constant: (i: number) => boolean;
  /** Fused into this Conv: a following Relu. */
  activation: 'none' | 'relu';
  /** The user's pin for this Conv (loadOnnx's `algorithms` option). */
  algorithm?: ConvAlgorithm;
  /** Whether a value is known when the model is planned (default: every value is). */
  known?: (v: Value) => boolean;
  /** Records that a value computed now is known. */
  markKnown?: (v: Value) => void;
}

type Handler = (ctx: Ctx, inputs: (Value | undefined)[]) => Value[];

export function fail(ctx: Ctx, message: string, code = 'ERR_NEONN_ONNX_INVALID'): never {
  throw new NeonnError(`loadOnnx: ${ctx.label}: ${message}`, code, 'loadOnnx');
}

function unsupported(ctx: Ctx, message: string): never {
  return fail(ctx, message, 'ERR_NEONN_ONNX_UNSUPPORTED');
}

function float(ctx: Ctx, inputs: (Value | undefined)[], i: number): Tensor {
  const v = inputs[i];
  if (v === undefined) fail(ctx, `input ${i} is missing`);
  if (!(v instanceof Tensor)) fail(ctx, `input ${i} must be a float tensor, got ${v.dtype}`, NOT_FLOAT);
  return v;
}

/** A handler's input of another kind than it handles: the op schema's kernel may take it. */
const NOT_FLOAT = 'ERR_NEONN_ONNX_NOT_FLOAT';

function asTensor(v: Value): Tensor {
  if (v instanceof Tensor) return v;
  throw new NeonnError(`a ${v.dtype} tensor where a float32 one is handled`, NOT_FLOAT, 'loadOnnx');
}

function optFloat(ctx: Ctx, inputs: (Value | undefined)[], i: number): Tensor | undefined {
  return inputs[i] === undefined ? undefined : float(ctx, inputs, i);
}

function intValue(ctx: Ctx, inputs: (Value | undefined)[], i: number): IntTensor {
  const v = inputs[i];
  if (!(v instanceof IntTensor)) fail(ctx, `input ${i} must be an integer tensor (INT64) known when the model is planned`, NOT_FLOAT);
  return v;
}

function ints(ctx: Ctx, inputs: (Value | undefined)[], i: number): number[] {
  return intValue(ctx, inputs, i).values;
}

/** Float scalar input (Clip min/max, Pad constant_value in new opsets); must be a constant. */
function scalarInput(ctx: Ctx, inputs: (Value | undefined)[], i: number): number | undefined {
  const t = optFloat(ctx, inputs, i);
  if (t === undefined) return undefined;
  if (!ctx.constant(i)) unsupported(ctx, `input ${i} must be a constant (an initializer), not computed`);
  if (t.data.length !== 1) fail(ctx, `input ${i} must be a scalar, got shape ${fmtShape(t.shape)}`);
  return t.data[0];
}

/** Same data, other shape: a view change, not an op (used for opset adapters). */
function view(t: TensorLike, shape: number[]): Tensor {
  return new Tensor(t.data, shape);
}

function normAxis(ctx: Ctx, axis: number, rank: number, allowRank = false): number {
  const hi = allowRank ? rank : rank - 1;
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a > hi) fail(ctx, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

function ones(n: number): number[] {
  return new Array<number>(Math.max(0, n)).fill(1);
}
// ---- convolution and pooling geometry --------------------------------------

function pair(ctx: Ctx, name: string, dflt: number): [number, number] {
  const v = attrInts(ctx.node, name, [dflt, dflt]);
  if (v.length !== 2) unsupported(ctx, `only 2-D ${ctx.node.opType} is supported, "${name}" has ${v.length} values`);
  return [v[0], v[1]];
}

/** ONNX pads [top, left, bottom, right] after auto_pad, for a 2-D window op. */
function windowPads(
  ctx: Ctx,
  x: TensorLike,
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

function rank4(ctx: Ctx, x: TensorLike): void {
  if (x.shape.length !== 4) unsupported(ctx, `only 2-D (NCHW) inputs are supported, got shape [${x.shape.join(',')}]`);
}

function onlyFirstOutput(ctx: Ctx, what: string): void {
  const extra = (ctx.node.output ?? []).slice(1).filter((o) => o !== '');
  if (extra.length > 0) unsupported(ctx, `output(s) ${extra.join(', ')} (${what}) are not supported`);
}

// ---- handlers -------------------------------------------------------------

/** Opset < 7 binary ops: B is broadcast onto A from `axis` when broadcast=1. */
function legacyBroadcast(ctx: Ctx, a: Tensor, b: Tensor): Tensor {
  if (ctx.opset >= 7) return b;
  const same = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (attrInt(ctx.node, 'broadcast', 0) === 0) {
    if (!same) fail(ctx, `broadcast=0 but shapes differ: ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
    return b;
  }
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (rb > ra) fail(ctx, `B has rank ${rb} above A's ${ra}`);
  const axis = hasAttr(ctx.node, 'axis') ? normAxis(ctx, attrInt(ctx.node, 'axis', 0), ra) : ra - rb;
  if (axis + rb > ra) fail(ctx, `B of rank ${rb} does not fit in A of rank ${ra} from axis ${axis}`);
  return view(b, [...ones(axis), ...b.shape, ...ones(ra - axis - rb)]);
}

const BINARY = { add, mul, sub, div };

function binary(fn: keyof typeof BINARY): Handler {
  return (ctx, ins) => {
    const a = float(ctx, ins, 0);
    const b = legacyBroadcast(ctx, a, float(ctx, ins, 1));
    // [n,1] op [1,m] is n·m elements: bound the broadcast before the op allocates.
    const r = Math.max(a.shape.length, b.shape.length);
    const dim = (s: readonly number[], i: number): number => s[s.length - r + i] ?? 1;
    checkedCount(ctx.label, Array.from({ length: r }, (_, i) => Math.max(dim(a.shape, i), dim(b.shape, i))));
    return [BINARY[fn](a, b)];
  };
}

function gemmLike(ctx: Ctx, a: Tensor, b: Tensor, transA: boolean, transB: boolean, c: Tensor | undefined, alpha: number, beta: number): Tensor {
  if (a.shape.length !== 2 || b.shape.length !== 2) {
    unsupported(ctx, `only 2-D operands are supported, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  checkedCount(ctx.label, [transA ? a.shape[1] : a.shape[0], transB ? b.shape[0] : b.shape[1]]);
  return gemm(a, b, { transA, transB, alpha, beta, ...(c ? { c } : {}) });
}

/** Softmax/LogSoftmax; before opset 13 the input is coerced to 2-D at `axis`. */
function softmaxLike(fn: typeof softmax): Handler {
  return (ctx, ins) => {
    const x = float(ctx, ins, 0);
    const rank = x.shape.length;
    if (ctx.opset >= 13) return [fn(x, { axis: normAxis(ctx, attrInt(ctx.node, 'axis', -1), rank) })];
    const axis = normAxis(ctx, attrInt(ctx.node, 'axis', 1), rank, true);
    if (rank === 2 && axis === 1) return [fn(x, { axis: 1 })];
    const outer = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
    const inner = x.shape.slice(axis).reduce((p, d) => p * d, 1);
    return [reshape(fn(reshape(x, [outer, inner]), { axis: 1 }), [...x.shape])];
  };
}

/**
 * Scalars some handlers multiply by; a traced program registers them as
 * constants (a buffer it has not seen would be taken for an activation).
 */
export const ONE = new Tensor(Float32Array.of(1), []);
export const MINUS_ONE = new Tensor(Float32Array.of(-1), []);

/** Largest finite float32: the "no bound" of Clip without NaN/Infinity hyperparameters. */
const FLT_MAX = 3.4028234663852886e38;

/** Axes of Unsqueeze/Squeeze: an attribute before opset 13, an input from 13. */
function axesOf(ctx: Ctx, ins: (Value | undefined)[]): number[] | undefined {
  if (ctx.opset < 13) return attrInts(ctx.node, 'axes');
  return ins[1] === undefined ? undefined : ints(ctx, ins, 1);
}

/** A shape-only op on either kind of value: floats get a view, integers a relabel. */
function reshaped(v: Value, shape: number[]): Value {
  return v instanceof IntTensor ? new IntTensor(v.values, shape, v.dtype) : view(asTensor(v), shape);
}

function valueOf(ctx: Ctx, ins: (Value | undefined)[], i: number): Value {
  const v = ins[i];
  if (v === undefined) fail(ctx, `input ${i} is missing`);
  return v;
}

/** Row-major element at multi-index along one axis: the gather of axis `axis` at `index`. */
function gatherValues(values: ArrayLike<number>, shape: number[], axis: number, indices: number[]): number[] {
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const idx of indices) {
      for (let k = 0; k < inner; k++) out.push(values[(o * shape[axis] + idx) * inner + k]);
    }
  }
  return out;
}

/**
 * NonMaxSuppression, NonZero: computed here when their inputs are known (folded
 * at load); a model computing them from its data runs them between program
 * segments (segments.ts), never inside a program.
 */
function dataDependent(ctx: Ctx, ins: (Value | undefined)[]): Value[] {
  if (ctx.known && ins.some((v) => v !== undefined && !ctx.known!(v))) {
    unsupported(ctx, 'its output shape depends on values computed by the model; it runs between program segments');
  }
  return runDataDependent(ctx.node, ctx.label, ins.map((v) => (v === undefined ? undefined : typedOf(v)))).map((v) => valueOfTyped(v, true));
}

/** Seeds of Dropout nodes without a `seed` attribute: drawn once per loaded model (its decoded nodes). */
const drawnSeeds = new WeakMap<onnx.INodeProto, number>();

/** A Dropout node's seed: its attribute (modulo 2^32, as NumPy takes it), else one drawn at load. */
function dropoutSeed(node: onnx.INodeProto): number {
  if (hasAttr(node, 'seed')) return attrInt(node, 'seed', 0) >>> 0;
  let seed = drawnSeeds.get(node);
  if (seed === undefined) {
    seed = randomInt(0, 2 ** 32);
    drawnSeeds.set(node, seed);
  }
  return seed;
}

/** A scalar input's one value, which must be known when the model is planned. */
function plannedScalar(ctx: Ctx, ins: (Value | undefined)[], i: number, what: string): number {
  const v = valueOf(ctx, ins, i);
  if (!ctx.constant(i)) unsupported(ctx, `input ${i} (${what}) must be known when the model is planned (a constant or a small fed input), not computed`);
  if (sizeOf(v.shape) !== 1) fail(ctx, `input ${i} (${what}) must be a scalar, got shape ${fmtShape(v.shape)}`);
  return Number(typedOf(v).data[0]);
}

/**
 * Dropout. Opset 12 on: ratio and training_mode are inputs, read when the
 * model is planned; in training mode with a ratio above 0 the mask is ONNX's
 * reference one (NumPy's legacy generator seeded by the `seed` attribute, or
 * by a seed drawn once at load), so it depends only on the seed and the
 * shape and is a constant of the program: y = x · mask / (1 − ratio).
 * Otherwise (and always before opset 12, whose is_test=0 neonn runs as
 * inference) y = x and the mask is all true.
 */
function dropout(ctx: Ctx, ins: (Value | undefined)[]): Value[] {
  const x = float(ctx, ins, 0);
  const n = sizeOf(x.shape);
  const training = ctx.opset >= 12 && ins[2] !== undefined && plannedScalar(ctx, ins, 2, 'training_mode') !== 0;
  // A ratio computed from the data is read only in training mode (inference ignores it).
  const fed = ctx.opset >= 12 && ins[1] !== undefined;
  const ratio = !fed ? attrFloat(ctx.node, 'ratio', 0.5) : training || ctx.constant(1) ? plannedScalar(ctx, ins, 1, 'ratio') : 0.5;
  if (!(ratio >= 0 && ratio < 1)) throw new RangeError(`loadOnnx: ${ctx.label}: ratio must be in [0, 1), got ${ratio}`);
  const wantsMask = (ctx.node.output ?? [])[1] !== undefined && (ctx.node.output ?? [])[1] !== '';
  // Opset 10 made the mask bool; before, it had the data's type.
  const maskOf = (bits: Uint8Array): Value => {
    if (ctx.opset < 10) return new Tensor(Float32Array.from(bits), [...x.shape]);
    return { dtype: 'bool', data: bits, shape: [...x.shape] };
  };
  const known = (v: Value): Value => {
    ctx.markKnown?.(v);
    return v;
  };
  if (!training || ratio === 0) return wantsMask ? [x, known(maskOf(new Uint8Array(n).fill(1)))] : [x];
  const bits = dropoutMask(dropoutSeed(ctx.node), n, ratio);
  const scale = Math.fround(1 / (1 - ratio));
  const factor = known(new Tensor(Float32Array.from(bits, (b) => b * scale), [...x.shape])) as Tensor;
  const y = mul(x, factor);
  return wantsMask ? [y, known(maskOf(bits))] : [y];
}

/** ReduceMean over `axes`, dims kept, through the op schema's kernel (the axes a constant of the program). */
function reduceMean(ctx: Ctx, x: Tensor, axes: number[]): Tensor {
  const axesValue = new IntTensor(axes, [axes.length]);
  ctx.markKnown?.(axesValue);
  const err = { fail: (m: string) => fail(ctx, m), unsupported: (m: string) => unsupported(ctx, m) };
  const [r] = execSchemaOp(schemaOf('ReduceMean')!, [typedOf(x), axesValue], { keepdims: 1 }, 1, err, (i) => i === 1);
  return asTensor(valueOfTyped(r, false));
}

/**
 * BatchNormalization with training_mode=1 (opset 14): normalized by the
 * batch's statistics, saved_mean and saved_var (the population variance)
 * over every axis but 1, and the running statistics updated:
 * mean · momentum + saved · (1 − momentum). Made of existing ops.
 */
function batchNormTraining(ctx: Ctx, x: Tensor, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, epsilon: number): Value[] {
  if (x.shape.length < 2) fail(ctx, `X must have rank >= 2 [N,C,...], got shape ${fmtShape(x.shape)}`);
  const C = x.shape[1];
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const meanKept = reduceMean(ctx, x, axes);
  const centered = sub(x, meanKept);
  const varKept = reduceMean(ctx, mul(centered, centered), axes);
  const savedMean = view(meanKept, [C]);
  const savedVar = view(varKept, [C]);
  const y = batchNorm(x, { scale, bias, mean: savedMean, variance: savedVar, epsilon });
  const outs = ctx.node.output ?? [];
  if (outs.length <= 1 || outs.slice(1).every((o) => o === '')) return [y];
  const momentum = attrFloat(ctx.node, 'momentum', 0.9);
  const scalar = (v: number): Tensor => {
    const t = new Tensor(Float32Array.of(v), []);
    ctx.markKnown?.(t);
    return t;
  };
  const keep = scalar(momentum);
  const take = scalar(1 - momentum);
  return [y, add(mul(mean, keep), mul(savedMean, take)), add(mul(variance, keep), mul(savedVar, take))];
}

const HANDLERS: Record<string, Handler> = {
  Constant: (ctx) => {
    const t = attrTensor(ctx.node, 'value');
    if (t) return [valueFromProto(t)];
    if (hasAttr(ctx.node, 'value_float')) return [new Tensor(Float32Array.of(attrFloat(ctx.node, 'value_float', 0)), [])];
    const fs = attrFloats(ctx.node, 'value_floats');
    if (fs) return [new Tensor(Float32Array.from(fs), [fs.length])];
    if (hasAttr(ctx.node, 'value_int')) return [new IntTensor([attrInt(ctx.node, 'value_int', 0)], [])];
    const is = attrInts(ctx.node, 'value_ints');
    if (is) return [new IntTensor(is, [is.length])];
    return unsupported(ctx, 'no supported value attribute (value, value_float(s), value_int(s))');
  },
  ConstantOfShape: (ctx, ins) => {
    const shape = ints(ctx, ins, 0);
    const n = checkedCount(ctx.label, shape);
    const t = attrTensor(ctx.node, 'value');
    const v = t ? valueFromProto(t) : new Tensor(Float32Array.of(0), [1]);
    if (v instanceof IntTensor) {
      if (n > MAX_INT_ELEMENTS) unsupported(ctx, `an integer tensor of ${n} elements is not supported (shape values only, at most ${MAX_INT_ELEMENTS})`);
      return [new IntTensor(new Array<number>(n).fill(v.values[0] ?? 0), shape, v.dtype)];
    }
    if (!ctx.constant(0)) unsupported(ctx, 'a float ConstantOfShape whose shape depends on the input is not supported');
    if (shape.some((d) => d === 0)) unsupported(ctx, `empty tensors (shape ${fmtShape(shape)}) are not supported`);
    // Known when planned: a step reading it finds it among the program's constants, a graph output gets a copy.
    const filled = new Tensor(new Float32Array(n).fill(asTensor(v).data[0] ?? 0), shape);
    ctx.markKnown?.(filled);
    return [filled];
  },
  Identity: (ctx, ins) => [valueOf(ctx, ins, 0)],
  NonMaxSuppression: dataDependent,
  NonZero: dataDependent,
  Dropout: dropout,
  Gather: (ctx, ins) => {
    const data = valueOf(ctx, ins, 0);
    const idx = intValue(ctx, ins, 1);
    const rank = data.shape.length;
    const axis = normAxis(ctx, attrInt(ctx.node, 'axis', 0), rank);
    const dim = data.shape[axis];
    const indices = idx.values.map((i) => {
      if (i < -dim || i >= dim) fail(ctx, `index ${i} is out of range for dimension ${dim}`);
      return i < 0 ? i + dim : i;
    });
    const shape = [...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)];
    if (data instanceof IntTensor) return [new IntTensor(gatherValues(data.values, [...data.shape], axis, indices), shape, data.dtype)];
    if (!ctx.constant(0)) unsupported(ctx, 'Gather on a computed float tensor is not supported');
    const gathered = new Tensor(Float32Array.from(gatherValues(asTensor(data).data, [...data.shape], axis, indices)), shape);
    ctx.markKnown?.(gathered);
    return [gathered];
  },
  Unsqueeze: (ctx, ins) => {
    const v = valueOf(ctx, ins, 0);
    const axes = axesOf(ctx, ins);
    if (!axes) fail(ctx, '"axes" is required');
    const rank = v.shape.length + axes.length;
    const at = new Set(axes.map((a) => normAxis(ctx, a, rank)));
    if (at.size !== axes.length) fail(ctx, `"axes" [${axes.join(',')}] has duplicates`);
    const shape: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) shape.push(at.has(i) ? 1 : v.shape[k++]);
    return [reshaped(v, shape)];
  },
  Squeeze: (ctx, ins) => {
    const v = valueOf(ctx, ins, 0);
    const axes = axesOf(ctx, ins);
    const rank = v.shape.length;
    const at = new Set(axes ? axes.map((a) => normAxis(ctx, a, rank)) : v.shape.flatMap((d, i) => (d === 1 ? [i] : [])));
    for (const a of at) if (v.shape[a] !== 1) fail(ctx, `cannot squeeze axis ${a} of size ${v.shape[a]}`);
    return [reshaped(v, v.shape.filter((_, i) => !at.has(i)))];
  },

  Gemm: (ctx, ins) => {
    const c = optFloat(ctx, ins, 2);
    const a = float(ctx, ins, 0);
    const b = float(ctx, ins, 1);
    const transA = attrInt(ctx.node, 'transA', 0) === 1;
    const transB = attrInt(ctx.node, 'transB', 0) === 1;
    if (ctx.opset < 7 && c && attrInt(ctx.node, 'broadcast', 0) === 0) {
      const M = transA ? a.shape[1] : a.shape[0];
      const N = transB ? b.shape[0] : b.shape[1];
      if (c.shape.length !== 2 || c.shape[0] !== M || c.shape[1] !== N) {
        fail(ctx, `broadcast=0 needs C of shape [${M},${N}], got ${fmtShape(c.shape)}`);
      }
    }
    return [gemmLike(ctx, a, b, transA, transB, c, attrFloat(ctx.node, 'alpha', 1), attrFloat(ctx.node, 'beta', 1))];
  },
  MatMul: (ctx, ins) => [gemmLike(ctx, float(ctx, ins, 0), float(ctx, ins, 1), false, false, undefined, 1, 0)],
  Add: binary('add'),
  Mul: binary('mul'),
  Sub: binary('sub'),
  Div: binary('div'),
  Neg: (ctx, ins) => [mul(float(ctx, ins, 0), MINUS_ONE)],
  Sum: (ctx, ins) => {
    let y = float(ctx, ins, 0);
    if (ins.length === 1) return [y];
    for (let i = 1; i < ins.length; i++) y = add(y, float(ctx, ins, i));
    return [y];
  },

  Conv: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    const w = float(ctx, ins, 1);
    const bias = optFloat(ctx, ins, 2);
    rank4(ctx, x);
    const kernel = attrInts(ctx.node, 'kernel_shape');
    if (kernel && (kernel.length !== 2 || kernel[0] !== w.shape[2] || kernel[1] !== w.shape[3])) {
      fail(ctx, `kernel_shape [${kernel.join(',')}] disagrees with W of shape ${fmtShape(w.shape)}`);
    }
    const strides = pair(ctx, 'strides', 1);
    const dilations = pair(ctx, 'dilations', 1);
    const pads = windowPads(ctx, x, [w.shape[2], w.shape[3]], strides, dilations);
    const group = attrInt(ctx.node, 'group', 1);
    // Hostile pads would make a huge output: bound it before the op allocates.
    checkedCount(ctx.label, [x.shape[0], w.shape[0], x.shape[2] + pads[0] + pads[2], x.shape[3] + pads[1] + pads[3]]);
    return [conv2d(x, w, { ...(bias ? { bias } : {}), strides, pads, dilations, group, activation: ctx.activation, ...(ctx.algorithm ? { algorithm: ctx.algorithm } : {}) })];
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
    return [maxPool2d(x, { kernel, strides, pads, dilations, ceil })];
  },
  AveragePool: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    rank4(ctx, x);
    const kernel = pair(ctx, 'kernel_shape', 0);
    const strides = pair(ctx, 'strides', 1);
    const dilations = pair(ctx, 'dilations', 1);
    if (dilations[0] !== 1 || dilations[1] !== 1) unsupported(ctx, 'dilated average pooling is not supported');
    const pads = windowPads(ctx, x, kernel, strides, dilations);
    const ceil = attrInt(ctx.node, 'ceil_mode', 0) === 1;
    const countIncludePad = attrInt(ctx.node, 'count_include_pad', 0) === 1;
    return [avgPool2d(x, { kernel, strides, pads, ceil, countIncludePad })];
  },
  GlobalAveragePool: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    rank4(ctx, x);
    return [globalAvgPool(x)];
  },

  Relu: (ctx, ins) => [relu(float(ctx, ins, 0))],
  Sigmoid: (ctx, ins) => [sigmoid(float(ctx, ins, 0))],
  Tanh: (ctx, ins) => [tanh(float(ctx, ins, 0))],
  LeakyRelu: (ctx, ins) => [leakyRelu(float(ctx, ins, 0), attrFloat(ctx.node, 'alpha', 0.01))],
  PRelu: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    let slope = float(ctx, ins, 1);
    // Opset 6 PRelu: a 1-D slope of size C is per channel. Opset 7 made it
    // unidirectional broadcasting, so give it the shape [C,1,...,1] that
    // means the same under the newer rule.
    if (ctx.opset < 7 && slope.shape.length === 1 && x.shape.length > 2 && slope.shape[0] === x.shape[1] && slope.shape[0] !== 1) {
      slope = view(slope, [slope.shape[0], ...ones(x.shape.length - 2)]);
    }
    return [prelu(x, slope)];
  },
  Clip: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    const lo = ctx.opset < 11 ? attrFloat(ctx.node, 'min', -FLT_MAX) : scalarInput(ctx, ins, 1) ?? -FLT_MAX;
    const hi = ctx.opset < 11 ? attrFloat(ctx.node, 'max', FLT_MAX) : scalarInput(ctx, ins, 2) ?? FLT_MAX;
    return [clip(x, lo, hi)];
  },
  Softmax: softmaxLike(softmax),
  LogSoftmax: softmaxLike(logSoftmax),
  BatchNormalization: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    if (ctx.opset < 7 && attrInt(ctx.node, 'is_test', 0) !== 1) unsupported(ctx, 'training mode (is_test=0) is not supported');
    if (ctx.opset < 9 && attrInt(ctx.node, 'spatial', 1) !== 1) unsupported(ctx, 'spatial=0 is not supported');
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => float(ctx, ins, i));
    const epsilon = attrFloat(ctx.node, 'epsilon', 1e-5);
    if (ctx.opset >= 14 && attrInt(ctx.node, 'training_mode', 0) === 1) return batchNormTraining(ctx, x, scale, bias, mean, variance, epsilon);
    onlyFirstOutput(ctx, 'training statistics');
    return [batchNorm(x, { scale, bias, mean, variance, epsilon })];
  },
  LRN: (ctx, ins) => [
    lrn(float(ctx, ins, 0), {
      size: attrInt(ctx.node, 'size', 0),
      alpha: attrFloat(ctx.node, 'alpha', 1e-4),
      beta: attrFloat(ctx.node, 'beta', 0.75),
      bias: attrFloat(ctx.node, 'bias', 1),
    }),
  ],

  Concat: (ctx, ins) => {
    if (ins.length > 0 && ins.every((v) => v instanceof IntTensor && v.dtype === (ins[0] as IntTensor).dtype)) {
      const vs = ins as IntTensor[];
      if (vs.some((v) => v.shape.length !== 1)) unsupported(ctx, 'integer Concat of tensors other than 1-D is not supported');
      const values = vs.flatMap((v) => v.values);
      return [new IntTensor(values, [values.length], vs[0].dtype)];
    }
    const xs = ins.map((_, i) => float(ctx, ins, i));
    if (xs.length === 0) fail(ctx, 'no inputs');
    return [concat(xs, normAxis(ctx, attrInt(ctx.node, 'axis', 1), xs[0].shape.length))];
  },
  Flatten: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    return [flatten(x, normAxis(ctx, attrInt(ctx.node, 'axis', 1), x.shape.length, true))];
  },
  Reshape: (ctx, ins) => {
    const x = valueOf(ctx, ins, 0);
    const shape = ctx.opset < 5 ? attrInts(ctx.node, 'shape', []) : ints(ctx, ins, 1);
    if (attrInt(ctx.node, 'allowzero', 0) === 1 && shape.includes(0)) unsupported(ctx, 'allowzero=1 with a 0 dim (an empty tensor) is not supported');
    if (x instanceof IntTensor) {
      const y = reshape(new Tensor(new Float32Array(x.values.length), [...x.shape]), shape);
      return [new IntTensor(x.values, [...y.shape], x.dtype)];
    }
    return [reshape(asTensor(x), shape)];
  },
  Transpose: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    const perm = attrInts(ctx.node, 'perm', x.shape.map((_, i) => x.shape.length - 1 - i));
    return [transpose(x, perm)];
  },
  Pad: (ctx, ins) => {
    const x = float(ctx, ins, 0);
    const mode = attrString(ctx.node, 'mode', 'constant');
    if (mode !== 'constant') unsupported(ctx, `mode "${mode}" is not supported (only "constant")`);
    let pads: number[];
    let value: number;
    if (ctx.opset < 11) {
      // Opset 1 called the attribute "paddings".
      pads = attrInts(ctx.node, 'pads') ?? attrInts(ctx.node, 'paddings', []);
      value = attrFloat(ctx.node, 'value', 0);
    } else {
      if (ins[3] !== undefined) unsupported(ctx, 'the "axes" input is not supported');
      pads = ints(ctx, ins, 1);
      value = scalarInput(ctx, ins, 2) ?? 0;
    }
    const rank = x.shape.length;
    if (pads.length !== 2 * rank) fail(ctx, `pads has ${pads.length} values, rank ${rank} needs ${2 * rank}`);
    checkedCount(ctx.label, x.shape.map((d, i) => d + Math.max(0, pads[i]) + Math.max(0, pads[i + rank])));
    return [pad(x, pads, value)];
  },
};

/** The op types with a hand-written handler onto the backend-dispatched ops. */
export const HANDLED_OPS: readonly string[] = Object.keys(HANDLERS).sort();

/** The op types neonn maps (for messages and tests): handlers and op schema entries. */
export const SUPPORTED_OPS: readonly string[] = [...new Set([...Object.keys(HANDLERS), ...opNames()])].sort();

/** A node's attributes as the op schema takes them (ConstantOfShape's tensor `value` as `value` + `dtype`). */
export function attrsOf(ctx: Ctx): Record<string, AttrValue> {
  const AT = onnx.AttributeProto.AttributeType;
  const out: Record<string, AttrValue> = {};
  for (const a of ctx.node.attribute ?? []) {
    const name = a.name ?? '';
    switch (a.type) {
      case AT.INT: out[name] = toIntSaturated(a.i); break;
      case AT.FLOAT: out[name] = a.f ?? 0; break;
      case AT.STRING: out[name] = Buffer.from(a.s ?? new Uint8Array()).toString('utf8'); break;
      case AT.INTS: out[name] = (a.ints ?? []).map((x) => toIntSaturated(x)); break;
      case AT.FLOATS: out[name] = [...(a.floats ?? [])]; break;
      case AT.STRINGS: out[name] = (a.strings ?? []).map((x) => Buffer.from(x).toString('utf8')); break;
      case AT.TENSOR: {
        const v = typedOf(valueFromProto(a.t ?? {}));
        if (v.data.length !== 1) unsupported(ctx, `attribute "${name}": a tensor of ${v.data.length} elements is not supported`);
        out[name] = Number(v.data[0]);
        out.dtype = onnxCode(v.dtype);
        break;
      }
      default:
        unsupported(ctx, `attribute "${name}" of type ${AT[a.type ?? 0] ?? String(a.type)} is not supported`);
    }
  }
  return out;
}

function onnxCode(d: DType): number {
  return DTYPE_CODE[d];
}

let upgradeSerial = 0;

/** Runs a node through its op schema entry (generic kernel), upgrading older opset forms first. */
function evalSchema(ctx: Ctx, schema: OpSchema, inputs: (Value | undefined)[]): Value[] {
  const node = ctx.node;
  const names = node.input ?? [];
  const view: NodeView = { inputs: [...names], outputs: [...(node.output ?? [])], attrs: attrsOf(ctx) };
  const added = new Map<string, Value>();
  if (schema.upgrade) {
    schema.upgrade(view, {
      opset: ctx.opset,
      constant: (dtype, shape, values) => {
        const name = `neonn::upgraded${upgradeSerial++}`;
        const v = valueOfTyped({ dtype, shape, data: fromNumbers(dtype, values) }, true);
        ctx.markKnown?.(v);
        added.set(name, v);
        return name;
      },
      fail: (m) => fail(ctx, m),
      unsupported: (m) => unsupported(ctx, m),
    });
  }
  const byName = new Map<string, Value | undefined>();
  names.forEach((n, i) => byName.set(n, inputs[i]));
  const ins = view.inputs.map((n) => (n === '' ? undefined : added.has(n) ? added.get(n) : byName.get(n)));
  // Trailing omitted optional inputs are dropped (ONNX lets a node list fewer).
  while (ins.length > 0 && ins[ins.length - 1] === undefined) ins.pop();
  const known = ctx.known ?? (() => true);
  const allKnown = ins.every((v) => v === undefined || known(v));
  const err = { fail: (m: string) => fail(ctx, m), unsupported: (m: string) => unsupported(ctx, m) };
  const numOutputs = view.outputs.length;
  const typed = ins.map((v) => (v === undefined ? undefined : typedOf(v)));
  const run = (): TValue[] => execSchemaOp(schema, typed, view.attrs, numOutputs, err, (i) => ins[i] !== undefined && known(ins[i]!));
  // Inputs all known: computed now (constant folding), even while a program is being planned.
  const outs = allKnown ? recording(undefined, run) : run();
  return outs.map((o) => {
    // Known: folded from known inputs, or computed by inference from shapes alone (Size of a fed input).
    const isKnown = allKnown || isFolded(o.data);
    const v = valueOfTyped(o, isKnown);
    if (isKnown) ctx.markKnown?.(v);
    return v;
  });
}

/** Whether `opType` of `domain` has a hand-written handler. */
export function isHandled(opType: string, domain = ''): boolean {
  return (domain === '' || domain === 'ai.onnx') && Object.prototype.hasOwnProperty.call(HANDLERS, opType);
}

/** Whether the importer can run `opType` of `domain` at all (a handler or an op schema entry). */
export function isSupported(opType: string, domain = ''): boolean {
  const isDefault = domain === '' || domain === 'ai.onnx';
  return (isDefault && Object.prototype.hasOwnProperty.call(HANDLERS, opType)) || schemaOf(opType, domain) !== undefined;
}

/**
 * Runs one node: through its hand-written handler onto the public ops (the
 * hand-tuned, backend-dispatched kernels) where it has one and it applies,
 * else through the op schema's generic kernel. Errors that are not already
 * neonn's own get the node's label in front.
 */
export function evalNode(ctx: Ctx, inputs: (Value | undefined)[]): Value[] {
  const opType = ctx.node.opType ?? '';
  const domain = ctx.node.domain ?? '';
  const isDefault = domain === '' || domain === 'ai.onnx';
  const handler = isDefault && Object.prototype.hasOwnProperty.call(HANDLERS, opType) ? HANDLERS[opType] : undefined;
  const schema = schemaOf(opType, domain);
  try {
    const plain = inputs.every((v) => v === undefined || v instanceof Tensor || v instanceof IntTensor);
    if (handler && (plain || !schema)) {
      try {
        return handler(ctx, inputs);
      } catch (e) {
        // A form the handler does not take (1-D conv, integer data, ...): the schema's kernel may.
        const code = (e as { code?: string }).code;
        if (!schema || (code !== 'ERR_NEONN_ONNX_UNSUPPORTED' && code !== NOT_FLOAT)) throw e;
      }
    }
    if (schema) return evalSchema(ctx, schema, inputs);
    return unsupported(ctx, 'no kernel');
  } catch (e) {
    // One "loadOnnx: " prefix, then the node: the message may carry the prefix already.
    if (e instanceof Error && !e.message.includes(ctx.label)) e.message = `loadOnnx: ${ctx.label}: ${e.message.replace(/^loadOnnx: /, '')}`;
    if ((e as { code?: string }).code === NOT_FLOAT) (e as { code: string }).code = 'ERR_NEONN_ONNX_UNSUPPORTED';
    throw e;
  }
}
