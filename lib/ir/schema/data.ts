/**
 * Data movement and shape ops, ONNX semantics, every dtype (kernels:
 * src/kernels/data.cc, data_slice.cc, data_index.cc). Inputs whose values
 * decide an output's shape (Reshape's shape, Slice's starts, Pad's pads, ...)
 * are planning-time constants; Shape and Size are evaluated here, and
 * ConstantOfShape and Range too when their result is small.
 * @internal
 */
import { ALL_DTYPES, DTYPE_CODE, DType, INTS, NUMERIC, TypedData, allocate } from '../../dtype';
import type { InferCtx, NodeView, OpSchema, OutInfo, UpgradeCtx } from './types';

/** Results up to this many elements are computed at planning time (ConstantOfShape, Range). */
const FOLD_LIMIT = 1024;

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const fmt = (s: readonly number[]): string => `[${s.join(',')}]`;

/** An axis in [-rank, rank) made non-negative. */
function axisOf(c: InferCtx, axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) c.fail(`${what} ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/** Normalized axes without repeats. */
function axesOf(c: InferCtx, axes: readonly number[], rank: number): number[] {
  const out: number[] = [];
  for (const a of axes) {
    const n = axisOf(c, a, rank);
    if (out.includes(n)) c.fail(`axes ${fmt(axes)} repeat an axis`);
    out.push(n);
  }
  return out;
}

/** Same dtype as input 0, this shape. */
const like = (c: InferCtx, shape: number[]): OutInfo[] => [{ dtype: c.input(0).dtype, shape }];

/** Values of a planning-time constant input that must be given. */
function need(c: InferCtx, i: number, what: string): number[] {
  const v = c.values(i);
  if (v === undefined) c.fail(`input "${what}" is required`);
  return v;
}

/** Turns attribute `attr` (if set) into input `index` (int64 constant), for an older opset's node. */
function attrToInput(node: NodeView, c: UpgradeCtx, attr: string, index: number): void {
  const v = node.attrs[attr];
  if (v === undefined) return;
  delete node.attrs[attr];
  const vals = typeof v === 'number' ? [v] : (v as readonly number[]);
  if (typeof v === 'string') c.fail(`attribute "${attr}" must be a list of integers`);
  while (node.inputs.length < index) node.inputs.push('');
  node.inputs[index] = c.constant('int64', [vals.length], vals);
}

/** Opset 1's `consumed_inputs` (an optimization hint) is meaningless here. */
function dropConsumed(node: NodeView): void {
  delete node.attrs.consumed_inputs;
}

const DTYPE_OF_CODE: ReadonlyMap<number, DType> = new Map(Object.entries(DTYPE_CODE).map(([k, v]) => [v, k as DType]));

function int64Value(values: readonly number[]): TypedData {
  return BigInt64Array.from(values.map((v) => BigInt(v)));
}

/** A typed array of `n` copies of `v` in `dtype` (not float16), converted as the kernel converts. */
function filled(dtype: DType, n: number, v: number): TypedData {
  const out = allocate(dtype, Math.max(1, n));
  if (dtype === 'int64') (out as BigInt64Array).fill(BigInt(Math.trunc(v)));
  else if (dtype === 'bool') (out as Uint8Array).fill(v !== 0 ? 1 : 0);
  else if (dtype === 'int32' || dtype === 'int8' || dtype === 'uint8') (out as Int32Array).fill(Math.trunc(v));
  else (out as Float32Array).fill(v);
  return out;
}

/** Reshape's output shape. */
function reshapeShape(c: InferCtx, input: readonly number[], spec: readonly number[], allowzero: boolean): number[] {
  const out: number[] = [];
  let inferAt = -1;
  let known = 1;
  for (let i = 0; i < spec.length; i++) {
    let d = spec[i];
    if (d === -1) {
      if (inferAt >= 0) c.fail(`shape ${fmt(spec)} has more than one -1`);
      inferAt = i;
      out.push(-1);
      continue;
    }
    if (d < 0) c.fail(`shape ${fmt(spec)} has a dimension below -1`);
    if (d === 0 && !allowzero) {
      if (i >= input.length) c.fail(`shape ${fmt(spec)} copies dimension ${i} (0) of a rank-${input.length} input`);
      d = input[i];
    }
    out.push(d);
    known *= d;
  }
  const n = prod(input);
  if (inferAt >= 0) {
    if (allowzero && spec.includes(0)) c.fail(`shape ${fmt(spec)} has both -1 and 0 with allowzero=1`);
    if (known === 0 || n % known !== 0) c.fail(`cannot reshape ${fmt(input)} into ${fmt(spec)}`);
    out[inferAt] = n / known;
  } else if (known !== n) {
    c.fail(`cannot reshape ${fmt(input)} into ${fmt(spec)}`);
  }
  return out;
}

/** Clamps a Slice start/end as the spec says (negative from the end). */
function clampIndex(v: number, d: number, lo: number, hi: number): number {
  const a = v < 0 ? (v < -d ? -1 : v + d) : v;
  return Math.max(lo, Math.min(hi, a));
}

function sliceShape(c: InferCtx): number[] {
  const x = c.input(0).shape;
  const starts = need(c, 1, 'starts');
  const ends = need(c, 2, 'ends');
  if (ends.length !== starts.length) c.fail(`starts ${fmt(starts)} and ends ${fmt(ends)} must have the same length`);
  const axes = c.values(3) ?? starts.map((_, i) => i);
  if (axes.length !== starts.length) c.fail(`axes ${fmt(axes)} must have one entry per start`);
  const steps = c.values(4) ?? starts.map(() => 1);
  if (steps.length !== starts.length) c.fail(`steps ${fmt(steps)} must have one entry per start`);
  const out = [...x];
  const ax = axesOf(c, axes, x.length);
  for (let i = 0; i < ax.length; i++) {
    const d = x[ax[i]];
    const st = steps[i];
    if (st === 0) c.fail('steps must not be 0');
    if (st > 0) {
      const b = clampIndex(starts[i], d, 0, d);
      const e = clampIndex(ends[i], d, 0, d);
      out[ax[i]] = e > b ? Math.floor((e - b - 1) / st) + 1 : 0;
    } else {
      const b = clampIndex(starts[i], d, 0, d - 1);
      const e = clampIndex(ends[i], d, -1, d - 1);
      out[ax[i]] = b > e ? Math.floor((b - e - 1) / -st) + 1 : 0;
    }
  }
  return out;
}

function splitSizes(c: InferCtx, dim: number, axis: number): number[] {
  const n = c.numOutputs;
  const split = c.values(1);
  if (split !== undefined) {
    if (split.length !== n) c.fail(`split ${fmt(split)} must have one entry per output (${n})`);
    if (split.some((s) => s < 0)) c.fail(`split ${fmt(split)} must be non-negative`);
    if (split.reduce((a, b) => a + b, 0) !== dim) c.fail(`split ${fmt(split)} must sum to dimension ${axis} (${dim})`);
    return split;
  }
  if (c.hasAttr('num_outputs') && c.int('num_outputs') !== n) c.fail(`num_outputs (${c.int('num_outputs')}) must equal the number of outputs (${n})`);
  // Opset 18: uneven splits give ceil(dim / n) each and a smaller last part.
  const part = Math.ceil(dim / n);
  if (part * (n - 1) > dim) c.fail(`cannot split dimension ${dim} into ${n} parts`);
  return Array.from({ length: n }, (_, i) => (i + 1 < n ? part : dim - part * (n - 1)));
}

/** Pad's output shape (negative pads crop). */
function padShape(c: InferCtx): number[] {
  const x = c.input(0).shape;
  const pads = need(c, 1, 'pads');
  const axes = c.values(3) !== undefined ? axesOf(c, c.values(3)!, x.length) : x.map((_, i) => i);
  if (pads.length !== 2 * axes.length) c.fail(`pads ${fmt(pads)} must have 2 entries per padded axis (${2 * axes.length})`);
  if (pads.some((p) => Math.abs(p) > 2147483647)) c.fail(`pads ${fmt(pads)} are out of range`);
  const mode = c.str('mode');
  const out = [...x];
  axes.forEach((a, i) => {
    const b = pads[i];
    const e = pads[i + axes.length];
    const kept = x[a] - Math.max(0, -b) - Math.max(0, -e);
    if (kept < 0) c.fail(`pads ${fmt(pads)} crop more than dimension ${a} (${x[a]})`);
    out[a] = kept + Math.max(0, b) + Math.max(0, e);
    if (mode !== 'constant' && kept === 0 && out[a] > 0) c.fail(`cannot pad an empty dimension ${a} in ${mode} mode`);
  });
  return out;
}

/** Range's element count and, when small, its values. */
function rangeInfer(c: InferCtx): OutInfo[] {
  const dtype = c.input(0).dtype;
  for (const i of [1, 2]) if (c.input(i).dtype !== dtype) c.fail(`start, limit and delta must have one dtype, got ${dtype} and ${c.input(i).dtype}`);
  for (const i of [0, 1, 2]) if (prod(c.input(i).shape) !== 1) c.fail('start, limit and delta must be scalars');
  const [start] = need(c, 0, 'start');
  const [limit] = need(c, 1, 'limit');
  const [delta] = need(c, 2, 'delta');
  if (delta === 0) c.fail('delta must not be 0');
  if (dtype === 'float32') {
    const n = Math.max(0, Math.ceil((limit - start) / delta));
    if (!(n <= 2147483647)) c.fail('the range has too many elements');
    if (n > FOLD_LIMIT) return [{ dtype, shape: [n] }];
    const v = new Float32Array(Math.max(1, n));
    for (let i = 0; i < n; i++) v[i] = start + i * delta; // in double, rounded once: as the kernel
    return [{ dtype, shape: [n], value: n === 0 ? new Float32Array(0) : v }];
  }
  // Integers, exactly (int64 through BigInt).
  const big = (i: number): bigint => BigInt((c.input(i).value as BigInt64Array | Int32Array)[0]);
  const s = big(0);
  const l = big(1);
  const d = big(2);
  let n = 0n;
  if ((d > 0n && l > s) || (d < 0n && l < s)) {
    const span = d > 0n ? l - s : s - l;
    const step = d > 0n ? d : -d;
    n = (span + step - 1n) / step;
  }
  if (n > 2147483647n) c.fail('the range has too many elements');
  const count = Number(n);
  if (count > FOLD_LIMIT) return [{ dtype, shape: [count] }];
  const vals = Array.from({ length: count }, (_, i) => s + BigInt(i) * d);
  const value = dtype === 'int64' ? BigInt64Array.from(vals) : Int32Array.from(vals.map((v) => Number(BigInt.asIntN(32, v))));
  return [{ dtype, shape: [count], value }];
}

/** A copy with a new shape, computed by `shape` (Reshape, Flatten, Squeeze, Unsqueeze). */
function view(name: string, doc: string, rest: Partial<OpSchema> & Pick<OpSchema, 'inputs' | 'attrs' | 'infer'>): OpSchema {
  const output = { Reshape: 'reshaped', Squeeze: 'squeezed', Unsqueeze: 'expanded' }[name] ?? 'output';
  return { name, doc, outputs: [{ name: output }], inPlace: [[0, 0]], layout: 'any', ...rest };
}

const DATA = { name: 'data', dtypes: ALL_DTYPES } as const;
const INDICES = { name: 'indices', dtypes: INTS } as const;

/** ScatterElements' (and the older Scatter's) output: data's shape. */
function scatterElementsInfer(c: InferCtx): OutInfo[] {
  const x = c.input(0);
  const ix = c.input(1).shape;
  const u = c.input(2);
  if (x.shape.length === 0) c.fail('data must have rank >= 1');
  const a = axisOf(c, c.int('axis'), x.shape.length);
  if (u.dtype !== x.dtype) c.fail(`updates must be ${x.dtype}, got ${u.dtype}`);
  if (fmt(u.shape) !== fmt(ix)) c.fail(`updates ${fmt(u.shape)} must have the shape of indices ${fmt(ix)}`);
  if (ix.length !== x.shape.length) c.fail(`indices ${fmt(ix)} must have the rank of data ${fmt(x.shape)}`);
  if (ix.some((d, k) => k !== a && d > x.shape[k])) c.fail(`indices ${fmt(ix)} exceed data ${fmt(x.shape)} outside axis ${a}`);
  return like(c, [...x.shape]);
}

export const DATA_OPS: readonly OpSchema[] = [
  view('Identity', 'a copy of the input', {
    inputs: [{ name: 'input', dtypes: ALL_DTYPES }],
    attrs: {},
    infer: (c) => like(c, [...c.input(0).shape]),
  }),
  view('Reshape', 'the same elements in a new shape (0 copies a dim unless allowzero, -1 is inferred)', {
    inputs: [DATA, { name: 'shape', dtypes: INTS, constant: true }],
    attrs: { allowzero: { type: 'int', default: 0 } },
    infer: (c) => like(c, reshapeShape(c, c.input(0).shape, need(c, 1, 'shape'), c.int('allowzero') !== 0)),
    upgrade: (node, c) => {
      dropConsumed(node);
      attrToInput(node, c, 'shape', 1);
    },
  }),
  view('Flatten', 'a 2-D copy: dims before axis, dims from axis', {
    inputs: [{ name: 'input', dtypes: ALL_DTYPES }],
    attrs: { axis: { type: 'int', default: 1 } },
    infer: (c) => {
      const x = c.input(0).shape;
      let a = c.int('axis');
      if (a < -x.length || a > x.length) c.fail(`axis ${a} is out of range for rank ${x.length}`);
      if (a < 0) a += x.length;
      return like(c, [prod(x.slice(0, a)), prod(x.slice(a))]);
    },
  }),
  view('Squeeze', 'removes dims of size 1 (the given axes, or all)', {
    inputs: [DATA, { name: 'axes', dtypes: INTS, optional: true, constant: true }],
    attrs: {},
    infer: (c) => {
      const x = c.input(0).shape;
      const given = c.values(1);
      if (given === undefined) return like(c, x.filter((d) => d !== 1));
      const axes = axesOf(c, given, x.length);
      for (const a of axes) if (x[a] !== 1) c.fail(`cannot squeeze axis ${a} of ${fmt(x)} (not 1)`);
      return like(c, x.filter((_, i) => !axes.includes(i)));
    },
    upgrade: (node, c) => attrToInput(node, c, 'axes', 1),
  }),
  view('Unsqueeze', 'inserts dims of size 1 at the given axes (of the output)', {
    inputs: [DATA, { name: 'axes', dtypes: INTS, constant: true }],
    attrs: {},
    infer: (c) => {
      const x = c.input(0).shape;
      const given = need(c, 1, 'axes');
      const r = x.length + given.length;
      const axes = axesOf(c, given, r);
      let j = 0;
      return like(c, Array.from({ length: r }, (_, k) => (axes.includes(k) ? 1 : x[j++])));
    },
    upgrade: (node, c) => attrToInput(node, c, 'axes', 1),
  }),
  {
    name: 'Shape',
    doc: "the input's dims [start, end) as int64 (evaluated when planning)",
    inputs: [DATA],
    outputs: [{ name: 'shape' }],
    attrs: { start: { type: 'int', default: 0 }, end: { type: 'int' } },
    layout: 'any',
    kernel: null,
    infer: (c) => {
      const x = c.input(0).shape;
      const r = x.length;
      const clamp = (v: number): number => Math.max(0, Math.min(r, v < 0 ? v + r : v));
      const s = clamp(c.int('start'));
      const e = c.hasAttr('end') ? clamp(c.int('end')) : r;
      const dims = x.slice(s, Math.max(s, e));
      return [{ dtype: 'int64', shape: [dims.length], value: int64Value(dims) }];
    },
  },
  {
    name: 'Size',
    doc: "the input's element count as an int64 scalar (evaluated when planning)",
    inputs: [DATA],
    outputs: [{ name: 'size' }],
    attrs: {},
    layout: 'any',
    kernel: null,
    infer: (c) => [{ dtype: 'int64', shape: [], value: int64Value([prod(c.input(0).shape)]) }],
  },
  {
    name: 'ConstantOfShape',
    doc: 'a tensor of the given shape filled with value (dtype: ONNX type code)',
    inputs: [{ name: 'input', dtypes: ['int64'], constant: true }],
    outputs: [{ name: 'output' }],
    attrs: { value: { type: 'float', default: 0 }, dtype: { type: 'int', default: 1 } },
    layout: 'any',
    infer: (c) => {
      const shape = need(c, 0, 'input');
      if (shape.some((d) => d < 0)) c.fail(`shape ${fmt(shape)} has a negative dimension`);
      const dtype = DTYPE_OF_CODE.get(c.int('dtype')) ?? c.unsupported(`dtype ${c.int('dtype')} is not supported`);
      const n = prod(shape);
      if (n > FOLD_LIMIT || dtype === 'float16') return [{ dtype, shape }];
      return [{ dtype, shape, value: filled(dtype, n, c.float('value')).subarray(0, n) as TypedData }];
    },
  },
  {
    name: 'Transpose',
    doc: 'permutes the dims (default: reversed)',
    inputs: [DATA],
    outputs: [{ name: 'transposed' }],
    attrs: { perm: { type: 'ints' } },
    layout: 'any',
    infer: (c) => {
      const x = c.input(0).shape;
      const perm = c.ints('perm') ?? x.map((_, i) => x.length - 1 - i);
      if (perm.length !== x.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) c.fail(`perm ${fmt(perm)} is not a permutation of ${x.length} axes`);
      return like(c, perm.map((p) => x[p]));
    },
  },
  {
    name: 'Concat',
    doc: 'joins the inputs along axis',
    inputs: [{ name: 'inputs', dtypes: ALL_DTYPES, variadic: true }],
    outputs: [{ name: 'concat_result' }],
    attrs: { axis: { type: 'int', required: true } },
    layout: 'any',
    infer: (c) => {
      const x0 = c.input(0);
      if (x0.shape.length === 0) c.fail('inputs must have rank >= 1');
      const axis = axisOf(c, c.int('axis'), x0.shape.length);
      const out = [...x0.shape];
      out[axis] = 0;
      c.inputs.forEach((x, i) => {
        if (x === undefined) return c.fail(`input ${i} is required`);
        if (x.dtype !== x0.dtype) c.fail(`every input must be ${x0.dtype}, input ${i} is ${x.dtype}`);
        if (x.shape.length !== x0.shape.length || x.shape.some((d, k) => k !== axis && d !== x0.shape[k])) {
          c.fail(`input ${i} ${fmt(x.shape)} does not match input 0 ${fmt(x0.shape)} outside axis ${axis}`);
        }
        out[axis] += x.shape[axis];
      });
      return [{ dtype: x0.dtype, shape: out }];
    },
    upgrade: (node, c) => {
      if (c.opset < 4 && node.attrs.axis === undefined) node.attrs.axis = 1;
    },
  },
  {
    name: 'Split',
    doc: 'cuts the input along axis into the given sizes, or equal parts (the last smaller)',
    inputs: [{ name: 'input', dtypes: ALL_DTYPES }, { name: 'split', dtypes: INTS, optional: true, constant: true }],
    outputs: [{ name: 'outputs', variadic: true }],
    attrs: { axis: { type: 'int', default: 0 }, num_outputs: { type: 'int' } },
    layout: 'any',
    infer: (c) => {
      const x = c.input(0);
      if (x.shape.length === 0) c.fail('input must have rank >= 1');
      const axis = axisOf(c, c.int('axis'), x.shape.length);
      return splitSizes(c, x.shape[axis], axis).map((s) => {
        const shape = [...x.shape];
        shape[axis] = s;
        return { dtype: x.dtype, shape };
      });
    },
    upgrade: (node, c) => attrToInput(node, c, 'split', 1),
  },
  {
    name: 'Slice',
    doc: 'elements [start, end) with a step along the given axes (negative steps reverse)',
    inputs: [
      DATA,
      { name: 'starts', dtypes: INTS, constant: true },
      { name: 'ends', dtypes: INTS, constant: true },
      { name: 'axes', dtypes: INTS, optional: true, constant: true },
      { name: 'steps', dtypes: INTS, optional: true, constant: true },
    ],
    outputs: [{ name: 'output' }],
    attrs: {},
    layout: 'any',
    infer: (c) => like(c, sliceShape(c)),
    upgrade: (node, c) => {
      attrToInput(node, c, 'starts', 1);
      attrToInput(node, c, 'ends', 2);
      attrToInput(node, c, 'axes', 3);
    },
  },
  {
    name: 'Pad',
    doc: 'pads (or crops, for negative pads) the given axes: constant, reflect, edge or wrap',
    inputs: [
      DATA,
      { name: 'pads', dtypes: INTS, constant: true },
      { name: 'constant_value', dtypes: ALL_DTYPES, optional: true },
      { name: 'axes', dtypes: INTS, optional: true, constant: true },
    ],
    outputs: [{ name: 'output' }],
    attrs: { mode: { type: 'string', default: 'constant', values: ['constant', 'reflect', 'edge', 'wrap'] } },
    layout: 'any',
    infer: (c) => {
      const x = c.input(0);
      if (c.has(2)) {
        const v = c.input(2);
        if (prod(v.shape) !== 1) c.fail('constant_value must have one element');
        if (v.dtype !== x.dtype && v.dtype !== 'float32') c.fail(`constant_value must be ${x.dtype}, got ${v.dtype}`);
      }
      return like(c, padShape(c));
    },
    upgrade: (node, c) => {
      // Opset < 11: pads (opset 1: paddings) and value are attributes; a
      // float32 value is converted to the data's dtype by the kernel.
      if (node.attrs.paddings !== undefined && node.attrs.pads === undefined) node.attrs.pads = node.attrs.paddings;
      delete node.attrs.paddings;
      const value = node.attrs.value;
      delete node.attrs.value;
      attrToInput(node, c, 'pads', 1);
      if (typeof value === 'number' && value !== 0) node.inputs[2] = c.constant('float32', [], [value]);
    },
  },
  {
    name: 'Gather',
    doc: 'entries of data along axis at the given indices (negative from the end)',
    inputs: [DATA, INDICES],
    outputs: [{ name: 'output' }],
    attrs: { axis: { type: 'int', default: 0 } },
    layout: 'any',
    infer: (c) => {
      const x = c.input(0).shape;
      if (x.length === 0) c.fail('data must have rank >= 1');
      const a = axisOf(c, c.int('axis'), x.length);
      return like(c, [...x.slice(0, a), ...c.input(1).shape, ...x.slice(a + 1)]);
    },
  },
  {
    name: 'GatherElements',
    doc: 'out[i][j][k] = data[index][j][k] (axis 0) with index = indices[i][j][k]',
    inputs: [DATA, INDICES],
    outputs: [{ name: 'output' }],
    attrs: { axis: { type: 'int', default: 0 } },
    layout: 'any',
    infer: (c) => {
      const x = c.input(0).shape;
      const ix = c.input(1).shape;
      if (x.length === 0) c.fail('data must have rank >= 1');
      const a = axisOf(c, c.int('axis'), x.length);
      if (ix.length !== x.length) c.fail(`indices ${fmt(ix)} must have the rank of data ${fmt(x)}`);
      if (ix.some((d, k) => k !== a && d > x[k])) c.fail(`indices ${fmt(ix)} exceed data ${fmt(x)} outside axis ${a}`);
      return like(c, [...ix]);
    },
  },
  {
    name: 'GatherND',
    doc: 'slices of data addressed by the index tuples in the last dim of indices (after batch_dims)',
    inputs: [DATA, INDICES],
    outputs: [{ name: 'output' }],
    attrs: { batch_dims: { type: 'int', default: 0 } },
    layout: 'any',
    infer: (c) => {
      const x = c.input(0).shape;
      const ix = c.input(1).shape;
      const b = c.int('batch_dims');
      if (x.length === 0 || ix.length === 0) c.fail('data and indices must have rank >= 1');
      if (b < 0 || b >= Math.min(x.length, ix.length)) c.fail(`batch_dims ${b} must be in [0, min(rank(data), rank(indices)))`);
      const k = ix[ix.length - 1];
      if (k < 1 || k > x.length - b) c.fail(`indices' last dimension (${k}) must be in [1, rank(data) - batch_dims]`);
      for (let i = 0; i < b; i++) if (ix[i] !== x[i]) c.fail(`batch dims of indices ${fmt(ix)} and data ${fmt(x)} differ`);
      return like(c, [...ix.slice(0, -1), ...x.slice(b + k)]);
    },
  },
  {
    name: 'ScatterND',
    doc: 'a copy of data with the slices addressed by indices replaced by (or combined with) updates',
    inputs: [DATA, INDICES, { name: 'updates', dtypes: ALL_DTYPES }],
    outputs: [{ name: 'output' }],
    attrs: { reduction: { type: 'string', default: 'none', values: ['none', 'add', 'mul', 'max', 'min'] } },
    layout: 'any',
    infer: (c) => {
      const x = c.input(0);
      const ix = c.input(1).shape;
      const u = c.input(2);
      if (x.shape.length === 0 || ix.length === 0) c.fail('data and indices must have rank >= 1');
      const k = ix[ix.length - 1];
      if (k < 1 || k > x.shape.length) c.fail(`indices' last dimension (${k}) must be in [1, rank(data)]`);
      const want = [...ix.slice(0, -1), ...x.shape.slice(k)];
      if (u.dtype !== x.dtype) c.fail(`updates must be ${x.dtype}, got ${u.dtype}`);
      if (fmt(u.shape) !== fmt(want)) c.fail(`updates must have shape ${fmt(want)}, got ${fmt(u.shape)}`);
      return like(c, [...x.shape]);
    },
  },
  {
    name: 'ScatterElements',
    doc: 'a copy of data with data[index][j][k] (axis 0) replaced by (or combined with) updates[i][j][k]',
    inputs: [DATA, INDICES, { name: 'updates', dtypes: ALL_DTYPES }],
    outputs: [{ name: 'output' }],
    attrs: { axis: { type: 'int', default: 0 }, reduction: { type: 'string', default: 'none', values: ['none', 'add', 'mul', 'max', 'min'] } },
    layout: 'any',
    infer: scatterElementsInfer,
  },
  {
    name: 'Scatter',
    doc: 'opset 9-10 name of ScatterElements (no reduction)',
    inputs: [DATA, INDICES, { name: 'updates', dtypes: ALL_DTYPES }],
    outputs: [{ name: 'output' }],
    attrs: { axis: { type: 'int', default: 0 } },
    layout: 'any',
    kernel: 'ScatterElements',
    infer: scatterElementsInfer,
  },
  {
    name: 'Expand',
    doc: 'broadcasts the input against shape (both ways, as numpy)',
    inputs: [{ name: 'input', dtypes: ALL_DTYPES }, { name: 'shape', dtypes: INTS, constant: true }],
    outputs: [{ name: 'output' }],
    attrs: {},
    layout: 'any',
    infer: (c) => {
      const x = c.input(0).shape;
      const s = need(c, 1, 'shape');
      if (s.some((d) => d < 0)) c.fail(`shape ${fmt(s)} has a negative dimension`);
      const r = Math.max(x.length, s.length);
      const out = Array.from({ length: r }, (_, i) => {
        const a = x[x.length - r + i] ?? 1;
        const b = s[s.length - r + i] ?? 1;
        if (a !== b && a !== 1 && b !== 1) c.fail(`shapes ${fmt(x)} and ${fmt(s)} do not broadcast`);
        return a === 1 ? b : a;
      });
      return like(c, out);
    },
  },
  {
    name: 'Tile',
    doc: 'repeats the input repeats[i] times along each axis i',
    inputs: [{ name: 'input', dtypes: ALL_DTYPES }, { name: 'repeats', dtypes: INTS, constant: true }],
    outputs: [{ name: 'output' }],
    attrs: {},
    layout: 'any',
    infer: (c) => {
      const x = c.input(0).shape;
      const reps = need(c, 1, 'repeats');
      if (reps.length !== x.length) c.fail(`repeats ${fmt(reps)} must have one entry per input dimension (${x.length})`);
      if (reps.some((r) => r < 0)) c.fail(`repeats ${fmt(reps)} must be non-negative`);
      return like(c, x.map((d, i) => d * reps[i]));
    },
    upgrade: (_node, c) => {
      if (c.opset < 6) c.unsupported('Tile-1 (tiles and axis inputs) is not supported: re-export with opset >= 6');
    },
  },
  {
    name: 'Range',
    doc: 'start, start + delta, ... up to (not including) limit',
    inputs: [
      { name: 'start', dtypes: ['float32', 'int32', 'int64'], constant: true },
      { name: 'limit', dtypes: ['float32', 'int32', 'int64'], constant: true },
      { name: 'delta', dtypes: ['float32', 'int32', 'int64'], constant: true },
    ],
    outputs: [{ name: 'output' }],
    attrs: {},
    layout: 'any',
    infer: rangeInfer,
  },
  {
    name: 'DepthToSpace',
    doc: 'moves blocks of channels into blocksize x blocksize spatial blocks (DCR or CRD order)',
    inputs: [{ name: 'input', dtypes: ALL_DTYPES }],
    outputs: [{ name: 'output' }],
    attrs: { blocksize: { type: 'int', required: true }, mode: { type: 'string', default: 'DCR', values: ['DCR', 'CRD'] } },
    layout: 'nchw',
    infer: (c) => {
      const x = c.input(0).shape;
      const b = c.int('blocksize');
      if (x.length !== 4) c.fail(`input must be 4-D [N, C, H, W], got ${fmt(x)}`);
      if (b < 1) c.fail(`blocksize must be >= 1, got ${b}`);
      if (x[1] % (b * b) !== 0) c.fail(`channels (${x[1]}) must be a multiple of blocksize^2`);
      return like(c, [x[0], x[1] / (b * b), x[2] * b, x[3] * b]);
    },
  },
  {
    name: 'SpaceToDepth',
    doc: 'moves blocksize x blocksize spatial blocks into channels',
    inputs: [{ name: 'input', dtypes: ALL_DTYPES }],
    outputs: [{ name: 'output' }],
    attrs: { blocksize: { type: 'int', required: true } },
    layout: 'nchw',
    infer: (c) => {
      const x = c.input(0).shape;
      const b = c.int('blocksize');
      if (x.length !== 4) c.fail(`input must be 4-D [N, C, H, W], got ${fmt(x)}`);
      if (b < 1) c.fail(`blocksize must be >= 1, got ${b}`);
      if (x[2] % b !== 0 || x[3] % b !== 0) c.fail(`height and width ${fmt([x[2], x[3]])} must be multiples of blocksize ${b}`);
      return like(c, [x[0], x[1] * b * b, x[2] / b, x[3] / b]);
    },
  },
  {
    name: 'OneHot',
    doc: 'values[1] where the index along the new axis equals indices, values[0] elsewhere',
    inputs: [
      { name: 'indices', dtypes: NUMERIC },
      { name: 'depth', dtypes: NUMERIC, constant: true },
      { name: 'values', dtypes: ALL_DTYPES },
    ],
    outputs: [{ name: 'output' }],
    attrs: { axis: { type: 'int', default: -1 } },
    layout: 'any',
    infer: (c) => {
      const x = c.input(0).shape;
      const d = need(c, 1, 'depth');
      if (d.length !== 1) c.fail('depth must have one element');
      if (!(d[0] >= 1 && d[0] <= 2147483647)) c.fail(`depth must be in [1, 2^31), got ${d[0]}`);
      if (prod(c.input(2).shape) !== 2) c.fail('values must have two elements [off, on]');
      const depth = Math.trunc(d[0]);
      let a = c.int('axis');
      if (a < -x.length - 1 || a > x.length) c.fail(`axis ${a} is out of range for rank ${x.length + 1}`);
      if (a < 0) a += x.length + 1;
      return [{ dtype: c.input(2).dtype, shape: [...x.slice(0, a), depth, ...x.slice(a)] }];
    },
  },
  {
    name: 'Trilu',
    doc: 'the upper (or lower) triangle of the last two dims from diagonal k, zeros elsewhere',
    inputs: [{ name: 'input', dtypes: ALL_DTYPES }, { name: 'k', dtypes: ['int64'], optional: true }],
    outputs: [{ name: 'output' }],
    attrs: { upper: { type: 'int', default: 1 } },
    inPlace: [[0, 0]],
    layout: 'any',
    infer: (c) => {
      const x = c.input(0).shape;
      if (x.length < 2) c.fail(`input must have rank >= 2, got ${fmt(x)}`);
      if (c.has(1) && prod(c.input(1).shape) !== 1) c.fail('k must have one element');
      return like(c, [...x]);
    },
  },
];
