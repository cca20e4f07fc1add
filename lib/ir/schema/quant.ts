/**
 * Quantized ops (kernels: src/kernels/quant.cc, quant_gemm.cc,
 * quant_contrib.cc): ONNX's QuantizeLinear, DequantizeLinear,
 * DynamicQuantizeLinear, QLinearConv, QLinearMatMul, ConvInteger,
 * MatMulInteger, and onnxruntime's com.microsoft QLinear* contrib ops.
 * ONNX arithmetic: int32 accumulation, round half to even, saturation.
 *
 * Integer inputs that ONNX types int32 (QLinearConv's B, DequantizeLinear's
 * int32 x) also take int64: the ONNX importer holds small int32 constants as
 * int64 values (the kernels check the range).
 * @internal
 */
import type { DType } from '../../dtype';
import type { AttrSpec, InferCtx, InferInput, OpSchema } from './types';

const Q8: readonly DType[] = ['uint8', 'int8'];
const F32: readonly DType[] = ['float32'];
const I32: readonly DType[] = ['int32', 'int64'];

const Q_RANGE: Readonly<Record<string, readonly [number, number]>> = { uint8: [0, 255], int8: [-128, 127], int32: [-(2 ** 31), 2 ** 31 - 1], int64: [-(2 ** 31), 2 ** 31 - 1] };

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Whether a scale/zero-point input is one value (a scalar or a 1-element tensor). */
function isScalar(v: InferInput): boolean {
  return numel(v.shape) === 1;
}

/**
 * Checks a scale input (float32; positive and finite when known) and its
 * optional zero point (dtype `qtype`, as many elements, in range when known).
 * `counts`: the element counts allowed besides 1 (per-axis / per-channel).
 */
function checkQuant(c: InferCtx, scaleIdx: number, zpIdx: number | undefined, qtype: DType, what: string, perAxisOf?: () => { count: number; what: string }): void {
  const s = c.input(scaleIdx);
  const n = numel(s.shape);
  if (n === 0) c.fail(`${what} is empty`);
  if (n !== 1) {
    const perAxis = perAxisOf?.();
    if (!perAxis) c.fail(`${what} must be a scalar (per-tensor), got shape [${s.shape.join(',')}]`);
    if (s.shape.length !== 1 || n !== perAxis.count) c.fail(`${what} of shape [${s.shape.join(',')}] must be a scalar or 1-D with ${perAxis.count} elements (${perAxis.what})`);
  }
  if (s.value !== undefined) {
    for (let i = 0; i < s.value.length; i++) {
      const v = Number(s.value[i]);
      if (!(Number.isFinite(v) && v > 0)) c.fail(`${what} must be positive and finite, got ${v}`);
    }
  }
  if (zpIdx === undefined || !c.has(zpIdx)) return;
  const z = c.input(zpIdx);
  if (z.dtype !== qtype) c.fail(`the zero point of ${what} must be ${qtype}, got ${z.dtype}`);
  if (numel(z.shape) !== n) c.fail(`the zero point of ${what} has shape [${z.shape.join(',')}], the scale [${s.shape.join(',')}]`);
  const range = Q_RANGE[qtype];
  if (z.value !== undefined && range) {
    for (let i = 0; i < z.value.length; i++) {
      const v = Number(z.value[i]);
      if (v < range[0] || v > range[1]) c.fail(`the zero point of ${what} (${v}) is out of ${qtype}'s range`);
    }
  }
}

/** The dim per-axis parameters run along (QuantizeLinear / DequantizeLinear `axis`). */
function axisDim(c: InferCtx, shape: readonly number[]): { count: number; what: string } {
  const r = shape.length;
  const axis = c.int('axis');
  if (r === 0) return { count: 1, what: 'a scalar input has no axis' };
  if (!Number.isInteger(axis) || axis < -r || axis >= r) c.fail(`axis ${axis} is out of range for rank ${r}`);
  const a = axis < 0 ? axis + r : axis;
  return { count: shape[a], what: `dim ${a} of the input` };
}

function checkBlockSize(c: InferCtx): void {
  if (c.int('block_size') !== 0) c.unsupported('blocked quantization (block_size) is not supported');
}

/** Conv output spatial dims (ONNX Conv rules, auto_pad included). */
function convOut(c: InferCtx, x: readonly number[], w: readonly number[]): number[] {
  if (x.length < 3 || x.length > 5) c.fail(`x must have rank 3, 4 or 5 (N, C and 1-3 spatial dims), got [${x.join(',')}]`);
  if (w.length !== x.length) c.fail(`w [${w.join(',')}] must have the rank of x [${x.join(',')}]`);
  const r = x.length - 2;
  const group = c.int('group');
  if (group < 1 || x[1] % group !== 0 || w[0] % group !== 0) c.fail(`group ${group} must divide the input (${x[1]}) and output (${w[0]}) channels`);
  if (w[1] !== x[1] / group) c.fail(`w has ${w[1]} input channels per group, x has ${x[1] / group}`);
  const ks = c.ints('kernel_shape') ?? w.slice(2);
  const st = c.ints('strides') ?? new Array<number>(r).fill(1);
  const dl = c.ints('dilations') ?? new Array<number>(r).fill(1);
  const pads = c.ints('pads') ?? new Array<number>(2 * r).fill(0);
  if (ks.length !== r || st.length !== r || dl.length !== r || pads.length !== 2 * r) c.fail(`kernel_shape, strides, dilations and pads must match the ${r} spatial dims`);
  const autoPad = c.str('auto_pad');
  const out = [x[0], w[0]];
  for (let i = 0; i < r; i++) {
    const k = w[2 + i];
    if (ks[i] !== k) c.fail(`kernel_shape [${ks.join(',')}] does not match w [${w.join(',')}]`);
    if (k < 1 || st[i] < 1 || dl[i] < 1 || st[i] > 2 ** 20 || dl[i] > 2 ** 20) c.fail('kernel dims, strides and dilations must be positive');
    const ext = dl[i] * (k - 1) + 1;
    const inp = x[2 + i];
    let o: number;
    if (autoPad === 'NOTSET') {
      if (pads[i] < 0 || pads[r + i] < 0 || pads[i] > 2 ** 20 || pads[r + i] > 2 ** 20) c.fail(`pads [${pads.join(',')}] must be non-negative`);
      const span = inp + pads[i] + pads[r + i] - ext;
      o = span < 0 ? 0 : Math.floor(span / st[i]) + 1;
    } else if (autoPad === 'VALID') {
      o = inp < ext ? 0 : Math.floor((inp - ext) / st[i]) + 1;
    } else {
      o = Math.ceil(inp / st[i]);
    }
    if (o < 1) c.fail(`the kernel [${w.slice(2).join(',')}] is larger than the padded input [${x.slice(2).join(',')}]`);
    out.push(o);
  }
  return out;
}

const CONV_ATTRS: Record<string, AttrSpec> = {
  auto_pad: { type: 'string', default: 'NOTSET', values: ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] },
  dilations: { type: 'ints' },
  group: { type: 'int', default: 1 },
  kernel_shape: { type: 'ints' },
  pads: { type: 'ints' },
  strides: { type: 'ints' },
};

/** MatMul's output shape: batch dims broadcast, 1-D operands promoted then squeezed. */
function matmulOut(c: InferCtx, a: readonly number[], b: readonly number[]): { shape: number[]; M: number; N: number } {
  if (a.length < 1 || b.length < 1) c.fail('a and b must have rank >= 1');
  const as = a.length === 1 ? [1, a[0]] : [...a];
  const bs = b.length === 1 ? [b[0], 1] : [...b];
  const K = as[as.length - 1];
  if (bs[bs.length - 2] !== K) c.fail(`a [${a.join(',')}] and b [${b.join(',')}] cannot be multiplied (${K} vs ${bs[bs.length - 2]})`);
  const batch = broadcast(c, as.slice(0, -2), bs.slice(0, -2));
  const M = as[as.length - 2];
  const N = bs[bs.length - 1];
  const shape = [...batch];
  if (a.length !== 1) shape.push(M);
  if (b.length !== 1) shape.push(N);
  return { shape, M, N };
}

function broadcast(c: InferCtx, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = i < r - a.length ? 1 : a[i - (r - a.length)];
    const db = i < r - b.length ? 1 : b[i - (r - b.length)];
    if (da !== db && da !== 1 && db !== 1) c.fail(`shapes [${a.join(',')}] and [${b.join(',')}] cannot be broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** ONNX's TensorProto data type codes QuantizeLinear's output_dtype may name. */
const OUTPUT_DTYPE: Readonly<Record<number, DType>> = { 2: 'uint8', 3: 'int8' };

const quantizeLinear: OpSchema = {
  name: 'QuantizeLinear',
  doc: 'y = saturate(round(x / y_scale) + y_zero_point), per tensor or per axis; uint8/int8',
  inputs: [
    { name: 'x', dtypes: ['float32', 'int32'] },
    { name: 'y_scale', dtypes: F32 },
    { name: 'y_zero_point', dtypes: Q8, optional: true },
  ],
  outputs: [{ name: 'y' }],
  attrs: { axis: { type: 'int', default: 1 }, saturate: { type: 'int', default: 1 }, block_size: { type: 'int', default: 0 }, output_dtype: { type: 'int', default: 0 } },
  layout: 'any',
  infer(c) {
    checkBlockSize(c);
    const x = c.input(0);
    const od = c.int('output_dtype');
    let dtype: DType;
    if (c.has(2)) {
      dtype = c.input(2).dtype;
      if (od !== 0 && OUTPUT_DTYPE[od] !== dtype) c.fail(`output_dtype ${od} does not match y_zero_point's type ${dtype}`);
    } else if (od === 0) {
      dtype = 'uint8';
    } else {
      dtype = OUTPUT_DTYPE[od] ?? c.unsupported(`output_dtype ${od} is not supported (uint8 = 2, int8 = 3)`);
    }
    checkQuant(c, 1, 2, dtype, 'y_scale', () => axisDim(c, x.shape));
    return [{ dtype, shape: [...x.shape] }];
  },
};

/**
 * neonn's own: a QuantizeLinear whose only reader is a DequantizeLinear with the same per-tensor scale and zero
 * point (what a QDQ model keeps between float ops the importer leaves float), made one float → float step by
 * the importer (graph.ts fuseQuantizeDequantize): one pass over the values instead of two, and NHWC regions
 * can run it. Bit for bit the pair's result: (saturate(round(x / scale) + zero_point) − zero_point) · scale.
 */
const quantizeDequantize: OpSchema = {
  name: 'QuantizeDequantize',
  domain: 'neonn',
  doc: 'neonn\'s fusion of a per-tensor QuantizeLinear → DequantizeLinear pair: (saturate(round(x / scale) + zero_point) − zero_point) · scale; `to`: 2 uint8, 3 int8',
  inputs: [{ name: 'x', dtypes: F32 }],
  outputs: [{ name: 'y' }],
  attrs: { scale: { type: 'float', default: 1 }, zero_point: { type: 'int', default: 0 }, to: { type: 'int', default: 2 } },
  inPlace: [[0, 0]],
  layout: 'any',
  infer(c) {
    const dtype = OUTPUT_DTYPE[c.int('to')] ?? c.fail(`to must be 2 (uint8) or 3 (int8), got ${c.int('to')}`);
    const scale = c.float('scale');
    if (!(Number.isFinite(scale) && scale > 0)) c.fail(`scale must be positive and finite, got ${scale}`);
    const [lo, hi] = Q_RANGE[dtype];
    const zp = c.int('zero_point');
    if (!Number.isInteger(zp) || zp < lo || zp > hi) c.fail(`zero_point ${zp} is out of ${dtype}'s range`);
    return [{ dtype: 'float32', shape: [...c.input(0).shape] }];
  },
};

const dequantizeLinear: OpSchema = {
  name: 'DequantizeLinear',
  doc: 'y = (x - x_zero_point) · x_scale, per tensor or per axis; float32 out',
  inputs: [
    { name: 'x', dtypes: ['uint8', 'int8', 'int32', 'int64'] },
    { name: 'x_scale', dtypes: F32 },
    { name: 'x_zero_point', dtypes: ['uint8', 'int8', 'int32', 'int64'], optional: true },
  ],
  outputs: [{ name: 'y' }],
  attrs: { axis: { type: 'int', default: 1 }, block_size: { type: 'int', default: 0 } },
  layout: 'any',
  infer(c) {
    checkBlockSize(c);
    const x = c.input(0);
    checkQuant(c, 1, 2, x.dtype, 'x_scale', () => axisDim(c, x.shape));
    if (x.dtype !== 'uint8' && x.dtype !== 'int8' && c.has(2)) {
      const z = c.input(2).value;
      if (z !== undefined && Array.from(z as ArrayLike<number | bigint>).some((v) => Number(v) !== 0)) c.fail('an int32 x takes a zero point of 0');
    }
    return [{ dtype: 'float32', shape: [...x.shape] }];
  },
};

const dynamicQuantizeLinear: OpSchema = {
  name: 'DynamicQuantizeLinear',
  doc: 'uint8 quantization with scale and zero point from the data range (which always includes 0)',
  inputs: [{ name: 'x', dtypes: F32 }],
  outputs: [{ name: 'y' }, { name: 'y_scale' }, { name: 'y_zero_point' }],
  attrs: {},
  layout: 'any',
  infer(c) {
    return [
      { dtype: 'uint8', shape: [...c.input(0).shape] },
      { dtype: 'float32', shape: [] },
      { dtype: 'uint8', shape: [] },
    ];
  },
};

function checkQ8Pair(c: InferCtx, i: number, what: string): DType {
  const t = c.input(i).dtype;
  if (t !== 'uint8' && t !== 'int8') c.fail(`${what} must be uint8 or int8, got ${t}`);
  return t;
}

const qlinearConv: OpSchema = {
  name: 'QLinearConv',
  doc: 'integer convolution with int32 accumulation, requantized to y_scale/y_zero_point (per-channel weights, groups, depthwise; 1-3 spatial dims)',
  inputs: [
    { name: 'x', dtypes: Q8 },
    { name: 'x_scale', dtypes: F32 },
    { name: 'x_zero_point', dtypes: Q8 },
    { name: 'w', dtypes: Q8 },
    { name: 'w_scale', dtypes: F32 },
    { name: 'w_zero_point', dtypes: Q8 },
    { name: 'y_scale', dtypes: F32 },
    { name: 'y_zero_point', dtypes: Q8 },
    { name: 'B', dtypes: I32, optional: true },
  ],
  outputs: [{ name: 'y' }],
  attrs: CONV_ATTRS,
  layout: 'nchw',
  infer(c) {
    const x = c.input(0);
    const w = c.input(3);
    const shape = convOut(c, x.shape, w.shape);
    const M = w.shape[0];
    checkQuant(c, 1, 2, x.dtype, 'x_scale');
    checkQuant(c, 4, 5, w.dtype, 'w_scale', () => ({ count: M, what: 'output channels' }));
    const ydt = c.input(7).dtype;
    checkQuant(c, 6, 7, ydt, 'y_scale');
    if (c.has(8)) {
      const b = c.input(8);
      if (b.shape.length !== 1 || b.shape[0] !== M) c.fail(`B must have shape [${M}], got [${b.shape.join(',')}]`);
    }
    return [{ dtype: ydt, shape }];
  },
};

const convInteger: OpSchema = {
  name: 'ConvInteger',
  doc: 'integer convolution, int32 out: sum of (x - x_zero_point)(w - w_zero_point)',
  inputs: [
    { name: 'x', dtypes: Q8 },
    { name: 'w', dtypes: Q8 },
    { name: 'x_zero_point', dtypes: Q8, optional: true },
    { name: 'w_zero_point', dtypes: Q8, optional: true },
  ],
  outputs: [{ name: 'y' }],
  attrs: CONV_ATTRS,
  layout: 'nchw',
  infer(c) {
    const x = c.input(0);
    const w = c.input(1);
    const shape = convOut(c, x.shape, w.shape);
    if (c.has(2)) {
      const z = c.input(2);
      if (z.dtype !== x.dtype || numel(z.shape) !== 1) c.fail(`x_zero_point must be one ${x.dtype} value`);
    }
    if (c.has(3)) {
      const z = c.input(3);
      if (z.dtype !== w.dtype || (numel(z.shape) !== 1 && numel(z.shape) !== w.shape[0])) c.fail(`w_zero_point must be ${w.dtype}, one value or one per output channel (${w.shape[0]})`);
    }
    return [{ dtype: 'int32', shape }];
  },
};

const qlinearMatMul: OpSchema = {
  name: 'QLinearMatMul',
  doc: 'integer MatMul (N-D broadcast) requantized to y_scale/y_zero_point; b per tensor or per column',
  inputs: [
    { name: 'a', dtypes: Q8 },
    { name: 'a_scale', dtypes: F32 },
    { name: 'a_zero_point', dtypes: Q8 },
    { name: 'b', dtypes: Q8 },
    { name: 'b_scale', dtypes: F32 },
    { name: 'b_zero_point', dtypes: Q8 },
    { name: 'y_scale', dtypes: F32 },
    { name: 'y_zero_point', dtypes: Q8 },
  ],
  outputs: [{ name: 'y' }],
  attrs: {},
  layout: 'any',
  infer(c) {
    const a = c.input(0);
    const b = c.input(3);
    const { shape, N } = matmulOut(c, a.shape, b.shape);
    checkQuant(c, 1, 2, a.dtype, 'a_scale');
    checkQuant(c, 4, 5, b.dtype, 'b_scale', () => ({ count: N, what: 'columns of b' }));
    const ydt = c.input(7).dtype;
    checkQuant(c, 6, 7, ydt, 'y_scale');
    return [{ dtype: ydt, shape }];
  },
};

const matMulInteger: OpSchema = {
  name: 'MatMulInteger',
  doc: 'integer MatMul (N-D broadcast), int32 out; zero points per tensor, per row of A, per column of B',
  inputs: [
    { name: 'A', dtypes: Q8 },
    { name: 'B', dtypes: Q8 },
    { name: 'a_zero_point', dtypes: Q8, optional: true },
    { name: 'b_zero_point', dtypes: Q8, optional: true },
  ],
  outputs: [{ name: 'Y' }],
  attrs: {},
  layout: 'any',
  infer(c) {
    const a = c.input(0);
    const b = c.input(1);
    const { shape, M, N } = matmulOut(c, a.shape, b.shape);
    if (c.has(2)) {
      const z = c.input(2);
      if (z.dtype !== a.dtype || (numel(z.shape) !== 1 && numel(z.shape) !== M)) c.fail(`a_zero_point must be ${a.dtype}, one value or one per row (${M})`);
    }
    if (c.has(3)) {
      const z = c.input(3);
      if (z.dtype !== b.dtype || (numel(z.shape) !== 1 && numel(z.shape) !== N)) c.fail(`b_zero_point must be ${b.dtype}, one value or one per column (${N})`);
    }
    return [{ dtype: 'int32', shape }];
  },
};

// ---- com.microsoft contrib ops ------------------------------------------------

const MS = 'com.microsoft';

function qlinearBinary(name: string, doc: string): OpSchema {
  return {
    name,
    domain: MS,
    doc,
    inputs: [
      { name: 'A', dtypes: Q8 },
      { name: 'A_scale', dtypes: F32 },
      { name: 'A_zero_point', dtypes: Q8, optional: true },
      { name: 'B', dtypes: Q8 },
      { name: 'B_scale', dtypes: F32 },
      { name: 'B_zero_point', dtypes: Q8, optional: true },
      { name: 'C_scale', dtypes: F32 },
      { name: 'C_zero_point', dtypes: Q8, optional: true },
    ],
    outputs: [{ name: 'C' }],
    attrs: {},
    layout: 'any',
    infer(c) {
      const a = c.input(0);
      const b = c.input(3);
      if (b.dtype !== a.dtype) c.fail(`B must have A's type ${a.dtype}, got ${b.dtype}`);
      checkQuant(c, 1, 2, a.dtype, 'A_scale');
      checkQuant(c, 4, 5, a.dtype, 'B_scale');
      checkQuant(c, 6, 7, a.dtype, 'C_scale');
      return [{ dtype: a.dtype, shape: broadcast(c, a.shape, b.shape) }];
    },
  };
}

function qlinearUnary(name: string, doc: string, attrs: Record<string, AttrSpec> = {}): OpSchema {
  return {
    name,
    domain: MS,
    doc,
    inputs: [
      { name: 'X', dtypes: Q8 },
      { name: 'X_scale', dtypes: F32 },
      { name: 'X_zero_point', dtypes: Q8, optional: true },
      { name: 'Y_scale', dtypes: F32 },
      { name: 'Y_zero_point', dtypes: Q8, optional: true },
    ],
    outputs: [{ name: 'Y' }],
    attrs,
    layout: 'any',
    infer(c) {
      const x = c.input(0);
      checkQuant(c, 1, 2, x.dtype, 'X_scale');
      checkQuant(c, 3, 4, x.dtype, 'Y_scale');
      return [{ dtype: x.dtype, shape: [...x.shape] }];
    },
  };
}

const qlinearConcat: OpSchema = {
  name: 'QLinearConcat',
  domain: MS,
  doc: 'Concat of quantized tensors, each requantized to Y_scale/Y_zero_point',
  inputs: [
    { name: 'Y_scale', dtypes: F32 },
    { name: 'Y_zero_point', dtypes: Q8 },
    { name: 'inputs', dtypes: ['uint8', 'int8', 'float32'], variadic: true },
  ],
  outputs: [{ name: 'Y' }],
  attrs: { axis: { type: 'int', required: true } },
  layout: 'any',
  infer(c) {
    const n = c.inputs.length;
    if (n < 5 || (n - 2) % 3 !== 0) c.fail(`takes Y_scale, Y_zero_point and then (tensor, scale, zero point) triples, got ${n} inputs`);
    const ydt = c.input(1).dtype;
    checkQuant(c, 0, 1, ydt, 'Y_scale');
    const x0 = c.input(2).shape;
    const r = x0.length;
    const axis = c.int('axis');
    if (r < 1 || axis < -r || axis >= r) c.fail(`axis ${axis} is out of range for rank ${r}`);
    const a = axis < 0 ? axis + r : axis;
    const out = [...x0];
    out[a] = 0;
    for (let j = 0; j < (n - 2) / 3; j++) {
      const x = c.input(2 + 3 * j);
      if (x.dtype !== ydt) c.fail(`input ${2 + 3 * j} must be ${ydt}, got ${x.dtype}`);
      if (c.input(3 + 3 * j).dtype !== 'float32') c.fail(`input ${3 + 3 * j} (a scale) must be float32`);
      checkQuant(c, 3 + 3 * j, 4 + 3 * j, ydt, `the scale of input ${2 + 3 * j}`);
      if (x.shape.length !== r || x.shape.some((d, i) => i !== a && d !== x0[i])) c.fail(`input shapes [${x0.join(',')}] and [${x.shape.join(',')}] differ off axis ${axis}`);
      out[a] += x.shape[a];
    }
    return [{ dtype: ydt, shape: out }];
  },
};

/** The (N, C, spatial) view of a pool's input, NCHW or channels-last. */
function poolDims(c: InferCtx, x: readonly number[]): { N: number; C: number; spatial: number[]; last: boolean } {
  if (x.length < 3) c.fail(`X must have rank >= 3 (N, C and spatial dims), got [${x.join(',')}]`);
  const last = c.int('channels_last') !== 0;
  return { N: x[0], C: last ? x[x.length - 1] : x[1], spatial: last ? x.slice(1, -1) : x.slice(2), last };
}

function poolShape(d: { N: number; C: number; last: boolean }, spatial: number[]): number[] {
  return d.last ? [d.N, ...spatial, d.C] : [d.N, d.C, ...spatial];
}

const POOL_Q_INPUTS = [
  { name: 'X', dtypes: Q8 },
  { name: 'x_scale', dtypes: F32 },
  { name: 'x_zero_point', dtypes: Q8, optional: true },
  { name: 'y_scale', dtypes: F32 },
  { name: 'y_zero_point', dtypes: Q8, optional: true },
] as const;

const qlinearGlobalAveragePool: OpSchema = {
  name: 'QLinearGlobalAveragePool',
  domain: MS,
  doc: 'GlobalAveragePool of a quantized tensor (NCHW or channels_last)',
  inputs: POOL_Q_INPUTS,
  outputs: [{ name: 'Y' }],
  attrs: { channels_last: { type: 'int', default: 0 } },
  layout: 'any',
  infer(c) {
    const x = c.input(0);
    checkQuant(c, 1, 2, x.dtype, 'x_scale');
    checkQuant(c, 3, 4, x.dtype, 'y_scale');
    const d = poolDims(c, x.shape);
    if (d.spatial.some((s) => s === 0)) c.fail(`X [${x.shape.join(',')}] has an empty spatial extent`);
    return [{ dtype: x.dtype, shape: poolShape(d, d.spatial.map(() => 1)) }];
  },
};

const qlinearAveragePool: OpSchema = {
  name: 'QLinearAveragePool',
  domain: MS,
  doc: 'AveragePool of a quantized tensor (1-3 spatial dims, NCHW or channels_last, count_include_pad, ceil_mode)',
  inputs: POOL_Q_INPUTS,
  outputs: [{ name: 'Y' }],
  attrs: {
    auto_pad: { type: 'string', default: 'NOTSET', values: ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] },
    ceil_mode: { type: 'int', default: 0 },
    channels_last: { type: 'int', default: 0 },
    count_include_pad: { type: 'int', default: 0 },
    kernel_shape: { type: 'ints', required: true },
    pads: { type: 'ints' },
    strides: { type: 'ints' },
  },
  layout: 'nchw',
  infer(c) {
    const x = c.input(0);
    checkQuant(c, 1, 2, x.dtype, 'x_scale');
    checkQuant(c, 3, 4, x.dtype, 'y_scale');
    const d = poolDims(c, x.shape);
    const r = d.spatial.length;
    if (r > 3) c.unsupported('more than 3 spatial dims');
    const ks = c.ints('kernel_shape')!;
    const st = c.ints('strides') ?? new Array<number>(r).fill(1);
    const pads = c.ints('pads') ?? new Array<number>(2 * r).fill(0);
    if (ks.length !== r || st.length !== r || pads.length !== 2 * r) c.fail(`kernel_shape, strides and pads must match the ${r} spatial dims`);
    const autoPad = c.str('auto_pad');
    const ceil = c.int('ceil_mode') !== 0;
    const out: number[] = [];
    for (let i = 0; i < r; i++) {
      const k = ks[i];
      const s = st[i];
      const inp = d.spatial[i];
      if (k < 1 || s < 1 || k > 2 ** 20 || s > 2 ** 20) c.fail('kernel_shape and strides must be positive');
      let o: number;
      if (autoPad === 'NOTSET') {
        if (pads[i] < 0 || pads[r + i] < 0 || pads[i] > 2 ** 20 || pads[r + i] > 2 ** 20) c.fail(`pads [${pads.join(',')}] must be non-negative`);
        const span = inp + pads[i] + pads[r + i] - k;
        if (span < 0) c.fail('the kernel is larger than the padded input');
        o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
        if (ceil && (o - 1) * s >= inp + pads[i]) o--;
      } else if (autoPad === 'VALID') {
        if (inp < k) c.fail('the kernel is larger than the input');
        o = Math.floor((inp - k) / s) + 1;
      } else {
        o = Math.ceil(inp / s);
      }
      out.push(o);
    }
    return [{ dtype: x.dtype, shape: poolShape(d, out) }];
  },
};

export const QUANT: readonly OpSchema[] = [
  quantizeLinear,
  dequantizeLinear,
  quantizeDequantize,
  dynamicQuantizeLinear,
  qlinearConv,
  convInteger,
  qlinearMatMul,
  matMulInteger,
  qlinearBinary('QLinearAdd', 'quantized A + B (numpy broadcasting), requantized to C_scale/C_zero_point'),
  qlinearBinary('QLinearMul', 'quantized A · B (numpy broadcasting), requantized to C_scale/C_zero_point'),
  qlinearUnary('QLinearSigmoid', 'quantized sigmoid (a 256-entry table)'),
  qlinearUnary('QLinearLeakyRelu', 'quantized LeakyRelu (a 256-entry table)', { alpha: { type: 'float', default: 0.01 } }),
  qlinearConcat,
  qlinearGlobalAveragePool,
  qlinearAveragePool,
];
