/**
 * Broadcasting arithmetic, comparison and logic ops, Where, Abs/Neg/Sign and
 * Cast (kernels: src/kernels/elementwise.cc, elem_cast.cc), ONNX semantics.
 *
 * Broadcasting is numpy's (opset 7+). Opsets before 7 had `broadcast` and
 * `axis` attributes on Add/Sub/Mul/Div/Pow/comparisons/logic: they are kept
 * in the schema (no default) and honoured by `infer` and the kernels —
 * broadcast=1 with an `axis` aligns B's dims at A's `axis` (ones elsewhere);
 * broadcast=1 without `axis` aligns B's trailing dims, which numpy's rule
 * already does (and broadcast=0 needs equal shapes, which numpy's accepts too).
 * An `upgrade` cannot reshape a value, hence the attributes rather than a rewrite.
 * Opset 1's `consumed_inputs` is dropped by `upgrade`.
 * @internal
 */
import { ALL_DTYPES, DType, NUMERIC, WIDENED_CODE, WIDENED_HOLDER, WidenedType } from '../../dtype';
import type { AttrSpec, InferCtx, NodeView, OpSchema, UpgradeCtx } from './types';

/** Numpy/ONNX multidirectional broadcast of several shapes. */
export function broadcastShapes(c: InferCtx, shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i;
      const d = s[i];
      if (d === out[j] || d === 1) continue;
      if (out[j] === 1) out[j] = d;
      else c.fail(`shapes ${shapes.map((x) => `[${x.join(',')}]`).join(' and ')} do not broadcast`);
    }
  }
  return out;
}

/** B's shape as the kernel sees it: opset < 7's broadcast=1 + axis puts B's dims at A's axis. */
function legacyB(c: InferCtx, a: readonly number[], b: readonly number[]): readonly number[] {
  if (!c.hasAttr('broadcast') || c.int('broadcast') === 0 || !c.hasAttr('axis')) return b;
  let axis = c.int('axis');
  if (axis < 0) axis += a.length;
  if (axis < 0 || axis + b.length > a.length) c.fail(`legacy broadcast: B of rank ${b.length} does not fit A of rank ${a.length} at axis ${c.int('axis')}`);
  const s = new Array<number>(a.length).fill(1);
  b.forEach((d, i) => (s[axis + i] = d));
  return s;
}

const LEGACY: Record<string, AttrSpec> = { broadcast: { type: 'int' }, axis: { type: 'int' } };

/** Drops opset 1's `consumed_inputs` (an optimisation hint with no effect on the result). */
export function dropConsumed(node: NodeView, _c: UpgradeCtx): void {
  delete node.attrs.consumed_inputs;
}

function binary(name: string, doc: string, dtypes: readonly DType[], out: 'same' | 'bool', extra: Record<string, AttrSpec> = {}): OpSchema {
  return {
    name,
    doc,
    inputs: [
      { name: 'A', dtypes },
      { name: 'B', dtypes },
    ],
    outputs: [{ name: 'C' }],
    attrs: { ...LEGACY, ...extra },
    inPlace: out === 'same' ? [[0, 0], [0, 1]] : undefined,
    layout: 'any',
    infer: (c) => {
      const a = c.input(0), b = c.input(1);
      if (a.dtype !== b.dtype) c.fail(`A and B must have one dtype, got ${a.dtype} and ${b.dtype}`);
      return [{ dtype: out === 'same' ? a.dtype : 'bool', shape: broadcastShapes(c, [a.shape, legacyB(c, a.shape, b.shape)]) }];
    },
    upgrade: dropConsumed,
  };
}

function variadic(name: string, doc: string, dtypes: readonly DType[]): OpSchema {
  return {
    name,
    doc,
    inputs: [{ name: 'data_0', dtypes, variadic: true }],
    outputs: [{ name: 'result' }],
    attrs: {},
    inPlace: [[0, 0]],
    layout: 'any',
    infer: (c) => {
      const ins = c.inputs.map((v, i) => v ?? c.fail(`input ${i} is required`));
      if (ins.length === 0) c.fail('needs at least one input');
      for (const v of ins) if (v.dtype !== ins[0].dtype) c.fail(`all inputs must have one dtype, got ${ins[0].dtype} and ${v.dtype}`);
      return [{ dtype: ins[0].dtype, shape: broadcastShapes(c, ins.map((v) => v.shape)) }];
    },
    upgrade: dropConsumed,
  };
}

function unaryTyped(name: string, doc: string, dtypes: readonly DType[]): OpSchema {
  return {
    name,
    doc,
    inputs: [{ name: 'X', dtypes }],
    outputs: [{ name: 'Y' }],
    attrs: {},
    inPlace: [[0, 0]],
    layout: 'any',
    infer: (c) => [{ dtype: c.input(0).dtype, shape: [...c.input(0).shape] }],
    upgrade: dropConsumed,
  };
}

const ARITH: readonly DType[] = NUMERIC;
const SIGNED: readonly DType[] = ['float32', 'int32', 'int64', 'int8'];
const EXPONENT: readonly DType[] = ['float32', 'int32', 'int64'];

/**
 * ONNX TensorProto.DataType codes a Cast may target, and the dtype each is
 * held in: neonn's own dtypes, DOUBLE as float32 (as a model's double inputs
 * and outputs are), and the widened types (lib/dtype.ts).
 */
const CODE_DTYPE: Readonly<Record<number, DType>> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float32',
  ...Object.fromEntries(Object.entries(WIDENED_CODE).map(([t, code]) => [code, WIDENED_HOLDER[t as WidenedType]])),
};
/** Cast opsets 1–5 named the type as a string. */
const NAME_CODE: Readonly<Record<string, number>> = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13,
};

export const ELEMENTWISE: readonly OpSchema[] = [
  binary('Add', 'A + B (broadcast; integers wrap)', ARITH, 'same'),
  binary('Sub', 'A − B (broadcast; integers wrap)', ARITH, 'same'),
  binary('Mul', 'A · B (broadcast; integers wrap)', ARITH, 'same'),
  binary('Div', 'A / B (broadcast; integers truncate toward zero, ÷0 is an error)', ARITH, 'same'),
  binary('Mod', 'A mod B (fmod=0: sign of B, as Python; fmod=1: sign of A, as C)', ARITH, 'same', { fmod: { type: 'int', default: 0 } }),
  {
    name: 'Pow',
    doc: 'A ^ B (broadcast; integer A with integer B: exact, wrapping)',
    inputs: [
      { name: 'X', dtypes: EXPONENT },
      { name: 'Y', dtypes: EXPONENT },
    ],
    outputs: [{ name: 'Z' }],
    attrs: LEGACY,
    inPlace: [[0, 0]],
    layout: 'any',
    infer: (c) => {
      const a = c.input(0), b = c.input(1);
      return [{ dtype: a.dtype, shape: broadcastShapes(c, [a.shape, legacyB(c, a.shape, b.shape)]) }];
    },
  },
  variadic('Sum', 'elementwise sum of 1..N broadcast inputs', ['float32', 'int32', 'int64']),
  variadic('Mean', 'elementwise mean of 1..N broadcast inputs', ['float32']),
  variadic('Min', 'elementwise minimum of 1..N broadcast inputs (NaN propagates)', [...ARITH, 'float16']),
  variadic('Max', 'elementwise maximum of 1..N broadcast inputs (NaN propagates)', [...ARITH, 'float16']),
  binary('Equal', 'A == B → bool (broadcast)', [...ARITH, 'bool'], 'bool'),
  binary('Greater', 'A > B → bool (broadcast)', ARITH, 'bool'),
  binary('Less', 'A < B → bool (broadcast)', ARITH, 'bool'),
  binary('GreaterOrEqual', 'A ≥ B → bool (broadcast)', ARITH, 'bool'),
  binary('LessOrEqual', 'A ≤ B → bool (broadcast)', ARITH, 'bool'),
  binary('And', 'A ∧ B (bool, broadcast)', ['bool'], 'bool'),
  binary('Or', 'A ∨ B (bool, broadcast)', ['bool'], 'bool'),
  binary('Xor', 'A ⊕ B (bool, broadcast)', ['bool'], 'bool'),
  unaryTyped('Not', '¬X (bool)', ['bool']),
  unaryTyped('Abs', '|X| (integers wrap: |INT_MIN| = INT_MIN)', [...SIGNED, 'uint8']),
  unaryTyped('Neg', '−X (integers wrap)', SIGNED),
  unaryTyped('Sign', '−1, 0 or 1 by the sign of X (NaN stays NaN)', ARITH),
  {
    name: 'Clip',
    doc: 'min(max(input, min), max) with scalar bounds read when it runs (all max when min > max; NaN stays NaN)',
    inputs: [
      { name: 'input', dtypes: ARITH },
      { name: 'min', dtypes: ARITH, optional: true },
      { name: 'max', dtypes: ARITH, optional: true },
    ],
    outputs: [{ name: 'output' }],
    attrs: {},
    inPlace: [[0, 0]],
    layout: 'any',
    infer: (c) => {
      const x = c.input(0);
      for (const i of [1, 2]) {
        if (!c.has(i)) continue;
        const b = c.input(i);
        const what = i === 1 ? 'min' : 'max';
        if (b.dtype !== x.dtype) c.fail(`${what} must have the input's dtype ${x.dtype}, got ${b.dtype}`);
        if (b.shape.reduce((a, d) => a * d, 1) !== 1) c.fail(`${what} must be a scalar, got shape [${b.shape.join(',')}]`);
      }
      return [{ dtype: x.dtype, shape: [...x.shape] }];
    },
  },
  {
    name: 'Where',
    doc: 'condition ? X : Y (3-way broadcast)',
    inputs: [
      { name: 'condition', dtypes: ['bool'] },
      { name: 'X', dtypes: ALL_DTYPES },
      { name: 'Y', dtypes: ALL_DTYPES },
    ],
    outputs: [{ name: 'output' }],
    attrs: {},
    layout: 'any',
    infer: (c) => {
      const x = c.input(1), y = c.input(2);
      if (x.dtype !== y.dtype) c.fail(`X and Y must have one dtype, got ${x.dtype} and ${y.dtype}`);
      return [{ dtype: x.dtype, shape: broadcastShapes(c, [c.input(0).shape, x.shape, y.shape]) }];
    },
  },
  {
    name: 'Cast',
    doc: 'converts to the dtype `to` (float→int truncates toward zero; float16 rounds to nearest even; int16, uint16, uint32, uint64, double, bfloat16 and string are held widened: their range in the holder)',
    inputs: [{ name: 'input', dtypes: ALL_DTYPES }],
    outputs: [{ name: 'output' }],
    attrs: {
      to: { type: 'int', required: true },
      saturate: { type: 'int', default: 1 },
      // neonn's: ONNX's reference truncated to bfloat16 before opset 19 (its test data says so) and rounds from 19 on, as onnxruntime does at every opset.
      bfloat16_rounding: { type: 'string', default: 'nearest_even', values: ['nearest_even', 'truncate'] },
    },
    layout: 'any',
    infer: (c) => {
      const to = CODE_DTYPE[c.int('to')];
      if (to === undefined) c.unsupported(`"to" = ${c.int('to')} is not a dtype neonn holds (${Object.keys(CODE_DTYPE).join(', ')})`);
      return [{ dtype: to, shape: [...c.input(0).shape] }];
    },
    upgrade: (node, c) => {
      const to = node.attrs.to;
      if (typeof to === 'string') {
        const code = NAME_CODE[to.toUpperCase()];
        if (code === undefined) c.unsupported(`Cast to ${to} is not supported`);
        node.attrs.to = code;
      }
      if (node.attrs.to === WIDENED_CODE.bfloat16 && c.opset < 19 && node.attrs.bfloat16_rounding === undefined) node.attrs.bfloat16_rounding = 'truncate';
    },
  },
  {
    name: 'CastLike',
    doc: 'converts to the dtype of target_type',
    inputs: [
      { name: 'input', dtypes: ALL_DTYPES },
      { name: 'target_type', dtypes: ALL_DTYPES },
    ],
    outputs: [{ name: 'output' }],
    attrs: { saturate: { type: 'int', default: 1 } },
    layout: 'any',
    kernel: 'Cast',
    infer: (c) => [{ dtype: c.input(1).dtype, shape: [...c.input(0).shape] }],
  },
];
