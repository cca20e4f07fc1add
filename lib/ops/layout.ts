/**
 * Layout ops: concat, flatten, reshape, transpose, pad (ONNX semantics).
 * flatten and reshape are zero-copy views; the others write a new tensor
 * (or `out`, which must not overlap any input).
 */
import { rangeError, typeError } from '../errors';
import { binding } from '../native';
import { MAX_RANK, Tensor, TensorLike, checkTensor, fmtShape, sizeOf } from '../tensor';
import { axisArg, checkOptions, intListArg, optFinite } from '../validate';
import { OutInput, dimsArgs, outArg } from './common';
import { nativeSync, runAsync, runSync } from './run';
import type { OutOptions } from './elementwise';

const OUT_OPTIONS = new Set(['out']);

// --------------------------------------------------------------- concat ---

interface ConcatPlan {
  datas: Float32Array[];
  shapes: (readonly number[])[];
  axis: number;
  out: TensorLike;
}

function prepareConcat(tensorsIn: unknown, axisIn: unknown, options: OutOptions | undefined): ConcatPlan {
  const op = 'concat';
  if (!Array.isArray(tensorsIn)) typeError(op, 'tensors', 'an array of float32 Tensors', tensorsIn);
  if (tensorsIn.length === 0) rangeError(op, '"tensors" must hold at least one tensor');
  const ts = tensorsIn.map((t: unknown, i) => checkTensor(op, `tensors[${i}]`, t));
  const first = ts[0].shape;
  if (first.length === 0) rangeError(op, '"tensors[0]" must have rank >= 1, got a scalar');
  if (axisIn === undefined) typeError(op, 'axis', 'an integer', axisIn);
  const axis = axisArg(op, 'axis', axisIn, first.length);
  const shape = [...first];
  for (let i = 1; i < ts.length; i++) {
    const s = ts[i].shape;
    if (s.length !== first.length || s.some((d, k) => k !== axis && d !== first[k])) {
      rangeError(op, `"tensors[${i}]" ${fmtShape(s)} must match "tensors[0]" ${fmtShape(first)} except on axis ${axis}`);
    }
    shape[axis] += s[axis];
  }
  const opts = checkOptions(op, options, OUT_OPTIONS);
  const out = outArg(op, opts.out, shape, ts.map((t, i): OutInput => ({ name: `tensors[${i}]`, data: t.data, sameAllowed: false })));
  return { datas: ts.map((t) => t.data), shapes: ts.map((t) => t.shape), axis, out };
}

/**
 * Joins tensors along an axis (ONNX Concat): all have the same rank and
 * equal dims except on `axis`.
 * @param tensors - at least one tensor
 * @param axis - negative counts from the end
 * @param options - `out` (must not overlap any input)
 * @throws {TypeError} for a non-array, a non-tensor element or a missing axis
 * @throws {RangeError} for an empty list, an axis out of range, mismatched shapes, a bad `out`
 * @example
 * const y = nn.concat([a, b], 1); // channels
 */
export function concat(tensors: readonly TensorLike[], axis: number, options?: OutOptions): Tensor {
  const p = prepareConcat(tensors, axis, options);
  return runSync('concat', p.out, () => nativeSync('concat', p.datas, p.out.data, p.axis, p.shapes[0].length, ...p.shapes.flat()));
}

/** {@link concat} on the libuv pool. */
export async function concatAsync(tensors: readonly TensorLike[], axis: number, options?: OutOptions): Promise<Tensor> {
  const p = prepareConcat(tensors, axis, options);
  return runAsync('concat', p.out, () => binding.concat(p.datas, p.out.data, p.axis, p.shapes[0].length, ...p.shapes.flat()));
}

// ------------------------------------------------------ flatten, reshape ---

/** The view of x with `shape`, or, given `out`, a copy into it. */
function viewOrCopy(op: string, x: TensorLike, shape: number[], options: OutOptions | undefined): Tensor {
  const opts = checkOptions(op, options, OUT_OPTIONS);
  if (shape.length > MAX_RANK) rangeError(op, `result has rank ${shape.length}, at most ${MAX_RANK} is supported`);
  if (opts.out === undefined) return new Tensor(x.data, shape);
  // An exact alias is a no-op copy; set() copes with any other overlap too.
  const out = outArg(op, opts.out, shape, []);
  out.data.set(x.data);
  return out instanceof Tensor ? out : new Tensor(out.data, out.shape);
}

/**
 * Flattens to 2-D `[prod(dims[:axis]), prod(dims[axis:])]` (ONNX Flatten).
 * Zero-copy: the result shares `x.data` (writes to one show in the other)
 * unless `out` is given, which receives a copy.
 * @param axis - in [-rank, rank], default 1
 * @throws {RangeError} for an axis out of range
 * @example
 * const v = nn.flatten(features); // [N, C*H*W]
 */
export function flatten(x: TensorLike, axis = 1, options?: OutOptions): Tensor {
  const t = checkTensor('flatten', 'x', x);
  const a = axisArg('flatten', 'axis', axis, t.shape.length, true);
  return viewOrCopy('flatten', t, [sizeOf(t.shape.slice(0, a)), sizeOf(t.shape.slice(a))], options);
}

/**
 * Reshapes (ONNX Reshape): one dim may be -1 (inferred), and 0 copies the
 * input's dim at that index. Zero-copy: the result shares `x.data` unless
 * `out` is given, which receives a copy.
 * @param shape - the new dims; the element count must not change
 * @throws {TypeError} for a non-array shape or non-number dims
 * @throws {RangeError} for two -1s, dims below -1, a 0 past x's rank, or a different element count
 * @example
 * const y = nn.reshape(x, [0, -1]); // keep the batch dim, flatten the rest
 */
export function reshape(x: TensorLike, shape: readonly number[], options?: OutOptions): Tensor {
  const op = 'reshape';
  const t = checkTensor(op, 'x', x);
  const dims = intListArg(op, 'shape', shape);
  let infer = -1;
  let known = 1;
  dims.forEach((d, i) => {
    if (d === -1) {
      if (infer >= 0) rangeError(op, `"shape" ${fmtShape(dims)} has more than one -1`);
      infer = i;
      return;
    }
    if (d < -1) rangeError(op, `"shape[${i}]" must be >= -1, got ${d}`);
    if (d === 0) {
      if (i >= t.shape.length) rangeError(op, `"shape[${i}]" is 0 (copy x's dim) but x ${fmtShape(t.shape)} has rank ${t.shape.length}`);
      dims[i] = t.shape[i];
    }
    known *= dims[i];
  });
  const n = t.data.length;
  if (infer >= 0) {
    if (n % known !== 0) rangeError(op, `cannot reshape x ${fmtShape(t.shape)} (${n} elements) to ${fmtShape(shape)}`);
    dims[infer] = n / known;
  } else if (known !== n) {
    rangeError(op, `cannot reshape x ${fmtShape(t.shape)} (${n} elements) to ${fmtShape(shape)} (${known} elements)`);
  }
  return viewOrCopy(op, t, dims, options);
}

// ------------------------------------------------------------ transpose ---

interface TransposePlan {
  x: TensorLike;
  perm: number[];
  out: TensorLike;
}

function prepareTranspose(xIn: unknown, permIn: unknown, options: OutOptions | undefined): TransposePlan {
  const op = 'transpose';
  const x = checkTensor(op, 'x', xIn);
  const rank = x.shape.length;
  const perm = permIn === undefined ? x.shape.map((_, i) => rank - 1 - i) : intListArg(op, 'perm', permIn);
  const seen = new Set(perm);
  if (perm.length !== rank || seen.size !== rank || perm.some((p) => p < 0 || p >= rank)) {
    rangeError(op, `"perm" ${fmtShape(perm)} must be a permutation of 0..${rank - 1} (x ${fmtShape(x.shape)})`);
  }
  const opts = checkOptions(op, options, OUT_OPTIONS);
  const out = outArg(op, opts.out, perm.map((p) => x.shape[p]), [{ name: 'x', data: x.data, sameAllowed: false }]);
  return { x, perm, out };
}

/**
 * Permutes dims (ONNX Transpose): `y.shape[i] = x.shape[perm[i]]`.
 * @param perm - a permutation of 0..rank-1; default reverses the dims
 * @param options - `out` (must not overlap `x`)
 * @throws {RangeError} when perm is not a permutation of 0..rank-1, or for a bad `out`
 * @example
 * const nhwc = nn.transpose(x, [0, 2, 3, 1]);
 */
export function transpose(x: TensorLike, perm?: readonly number[], options?: OutOptions): Tensor {
  const p = prepareTranspose(x, perm, options);
  return runSync('transpose', p.out, () => nativeSync('transpose', p.x.data, p.out.data, ...dimsArgs(p.x.shape), ...p.perm));
}

/** {@link transpose} on the libuv pool. */
export async function transposeAsync(x: TensorLike, perm?: readonly number[], options?: OutOptions): Promise<Tensor> {
  const p = prepareTranspose(x, perm, options);
  return runAsync('transpose', p.out, () => binding.transpose(p.x.data, p.out.data, ...dimsArgs(p.x.shape), ...p.perm));
}

// ------------------------------------------------------------------ pad ---

interface PadPlan {
  x: TensorLike;
  pads: number[];
  value: number;
  out: TensorLike;
}

function preparePad(xIn: unknown, padsIn: unknown, valueIn: unknown, options: OutOptions | undefined): PadPlan {
  const op = 'pad';
  const x = checkTensor(op, 'x', xIn);
  const rank = x.shape.length;
  const pads = intListArg(op, 'pads', padsIn);
  if (pads.length !== 2 * rank) {
    rangeError(op, `"pads" must have 2 * rank = ${2 * rank} entries [x1_begin, ..., x1_end, ...], got ${pads.length}`);
  }
  const shape = x.shape.map((d, i) => d + pads[i] + pads[i + rank]);
  const bad = shape.findIndex((d) => d < 1);
  if (bad >= 0) rangeError(op, `"pads" ${fmtShape(pads)} would make dim ${bad} of x ${fmtShape(x.shape)} ${shape[bad]}; it must stay >= 1`);
  const value = optFinite(op, 'value', valueIn, 0);
  const opts = checkOptions(op, options, OUT_OPTIONS);
  const out = outArg(op, opts.out, shape, [{ name: 'x', data: x.data, sameAllowed: false }]);
  return { x, pads, value, out };
}

/**
 * Constant padding (ONNX Pad, mode "constant"). Negative pads crop.
 * @param pads - ONNX layout `[x1_begin, x2_begin, ..., x1_end, x2_end, ...]`, 2 * rank integers
 * @param value - the fill value, finite; default 0
 * @param options - `out` (must not overlap `x`)
 * @throws {RangeError} for a wrong number of pads, a dim that would drop below 1, a NaN/infinite value, a bad `out`
 * @example
 * const y = nn.pad(x, [0, 0, 1, 1, 0, 0, 1, 1]); // NCHW: one pixel around H and W
 */
export function pad(x: TensorLike, pads: readonly number[], value?: number, options?: OutOptions): Tensor {
  const p = preparePad(x, pads, value, options);
  return runSync('pad', p.out, () => nativeSync('pad', p.x.data, p.out.data, p.value, ...dimsArgs(p.x.shape), ...p.pads));
}

/** {@link pad} on the libuv pool. */
export async function padAsync(x: TensorLike, pads: readonly number[], value?: number, options?: OutOptions): Promise<Tensor> {
  const p = preparePad(x, pads, value, options);
  return runAsync('pad', p.out, () => binding.pad(p.x.data, p.out.data, p.value, ...dimsArgs(p.x.shape), ...p.pads));
}
