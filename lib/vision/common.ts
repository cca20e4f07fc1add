/**
 * Argument parsing shared by the vision helpers: a tensor-like or a flat
 * Float32Array read as a matrix of rows, leading dimensions of 1 dropped
 * (a model's `[1, N, 4]` output is an `[N, 4]` box list); and the call into
 * their native kernels (src/kernels/vision.cc).
 */
import { DTYPE_CODE } from '../dtype';
import { fromNative, typeError, rangeError } from '../errors';
import { NativeTensor, binding } from '../native';
import { TensorLike, checkTensor, fmtShape } from '../tensor';

/** What the vision helpers take for boxes, scores and logits: a tensor or a bare Float32Array. */
export type VisionInput = TensorLike | Float32Array;

/** A row-major matrix view (nothing copied). */
export interface Matrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** The shape of `v` (a bare Float32Array is one row of `length`). */
export function shapeOf(op: string, name: string, v: unknown): { data: Float32Array; shape: readonly number[] } {
  if (v instanceof Float32Array) return { data: v, shape: [v.length] };
  if (typeof v !== 'object' || v === null) typeError(op, name, 'a float32 Tensor or a Float32Array', v);
  return checkTensor(op, name, v);
}

/**
 * Reads `v` as a matrix of `cols` columns (when given) or of its last
 * dimension. A Float32Array is taken as `length / cols` rows. Dimensions of 1
 * before the last two are dropped; any other leading dimension is a RangeError.
 */
export function asMatrix(op: string, name: string, v: unknown, cols?: number): Matrix {
  const { data, shape } = shapeOf(op, name, v);
  if (v instanceof Float32Array && cols !== undefined) {
    if (data.length % cols !== 0) rangeError(op, `"${name}" has ${data.length} elements, not a multiple of ${cols}`);
    return { data, rows: data.length / cols, cols };
  }
  let s = [...shape];
  while (s.length > 2 && s[0] === 1) s = s.slice(1);
  if (s.length === 0) s = [1];
  if (s.length > 2) rangeError(op, `"${name}" must be [N, ${cols ?? 'C'}] (leading dims of 1 allowed), got ${fmtShape(shape)}`);
  const c = s.length === 2 ? s[1] : 1;
  if (cols !== undefined && c !== cols) rangeError(op, `"${name}" must be [N, ${cols}], got ${fmtShape(shape)}`);
  return { data, rows: s[0], cols: c };
}

/** Throws a RangeError naming the first NaN (or, with `finite`, ±Infinity) in `data`. */
export function checkNumbers(op: string, name: string, data: Float32Array, finite: boolean): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x !== x || (finite && (x === Infinity || x === -Infinity))) {
      rangeError(op, `"${name}" element ${i} is ${String(x)}; ${finite ? 'finite numbers' : 'numbers'} expected`);
    }
  }
}

/** A required number in [lo, hi] (or the default when undefined). */
export function numberIn(op: string, name: string, v: unknown, dflt: number, lo: number, hi: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number') typeError(op, name, 'a number', v);
  if (!(v >= lo && v <= hi)) rangeError(op, `"${name}" must be a number in [${lo}, ${hi}], got ${String(v)}`);
  return v;
}

/** A float32 `[rows, cols]` matrix for a native kernel. */
export function f32Matrix(data: Float32Array, rows: number, cols: number): NativeTensor {
  return { data, shape: [rows, cols], dtype: DTYPE_CODE.float32 };
}

/** An int32 tensor for a native kernel. */
export function i32Tensor(data: Int32Array, shape: readonly number[]): NativeTensor {
  return { data, shape, dtype: DTYPE_CODE.int32 };
}

/**
 * Runs a native kernel now, through the generic kernel entry, its errors
 * rebuilt as this realm's TypeError/RangeError and named after `op`. Called after the TS checks;
 * never recorded by the planner (the vision helpers post-process data, they
 * are no model steps).
 */
export function runVisionKernel(
  op: string,
  kernel: string,
  inputs: NativeTensor[],
  outputs: NativeTensor[],
  attrs: Record<string, number | readonly number[] | string>,
): void {
  try {
    binding.kernelSync(kernel, inputs, outputs, attrs);
  } catch (err) {
    const e = fromNative(err, op, binding.getBackend());
    // Named as the caller knows it: "nms: ...", not "VisionNonMaxSuppression: ...".
    if (e.message.startsWith(`${kernel}: `)) {
      const message = `${op}: ${e.message.slice(kernel.length + 2)}`;
      if (e.stack !== undefined) e.stack = e.stack.replace(e.message, message);
      e.message = message;
    }
    throw e;
  }
}
