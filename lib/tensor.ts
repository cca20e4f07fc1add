/**
 * Tensors: a Float32Array and a shape, nothing copied. Every op accepts a
 * {@link Tensor} (or any `{ data: Float32Array, shape: number[] }` whose sizes
 * agree) and returns one backed by a Float32Array it allocated or by `out`.
 */
import { checkAttached, describe, rangeError, typeError } from './errors';

/** The largest rank neonn accepts. */
export const MAX_RANK = 8;

/** Anything shaped like a tensor; ops validate it before use. */
export interface TensorLike {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** A float32 tensor: a view of `data` with a `shape` (row-major, NCHW for images). */
export class Tensor implements TensorLike {
  /** The elements, row-major. Not copied: writes to it are writes to the tensor. */
  readonly data: Float32Array;
  /** Dimensions; frozen. `[]` is a scalar. */
  readonly shape: readonly number[];

  /**
   * @param data - the elements; used as is, not copied
   * @param shape - dimensions, each a positive integer; defaults to `[data.length]`
   * @throws {TypeError} if `data` is not a Float32Array or `shape` is not an array of numbers
   * @throws {RangeError} if a dimension is not a positive integer or the sizes disagree
   */
  constructor(data: Float32Array, shape?: readonly number[]) {
    this.data = checkData('tensor', 'data', data);
    this.shape = Object.freeze(checkShape('tensor', 'shape', shape ?? [data.length], data.length));
  }

  /** The element type: always float32 (other dtypes are {@link TypedTensor}s). */
  get dtype(): 'float32' {
    return 'float32';
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `Tensor[${this.shape.join(',')}]`;
  }
}

/**
 * Wraps a Float32Array as a tensor without copying.
 * @param data - the elements (row-major)
 * @param shape - dimensions; defaults to `[data.length]`
 * @throws {TypeError} if `data` is not a Float32Array
 * @throws {RangeError} if the shape is invalid or does not match `data.length`
 * @example
 * const x = nn.tensor(new Float32Array(3 * 224 * 224), [1, 3, 224, 224]);
 */
export function tensor(data: Float32Array, shape?: readonly number[]): Tensor {
  return new Tensor(data, shape);
}

/** Human form of a shape for messages: `[2,3]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function checkData(op: string, name: string, data: unknown): Float32Array {
  if (!(data instanceof Float32Array)) typeError(op, name, 'a Float32Array', data);
  return data;
}

/**
 * Checks a shape (an array of positive integers, rank <= MAX_RANK) and, when
 * `length` is given, that its product equals it. Returns a copy.
 */
export function checkShape(op: string, name: string, shape: unknown, length?: number): number[] {
  if (!Array.isArray(shape)) typeError(op, name, 'an array of dimensions', shape);
  if (shape.length > MAX_RANK) rangeError(op, `"${name}" has rank ${shape.length}, at most ${MAX_RANK} is supported`);
  const out = new Array<number>(shape.length);
  let size = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number') typeError(op, `${name}[${i}]`, 'a number', d);
    if (!Number.isInteger(d) || d <= 0) {
      rangeError(op, `"${name}[${i}]" must be a positive integer, got ${String(d)}`);
    }
    size *= d;
    // Past 2^53 the product is no longer exact; far past any buffer anyway.
    if (size > Number.MAX_SAFE_INTEGER) {
      rangeError(op, `"${name}" ${fmtShape(shape as number[])} has more elements than any buffer can hold`);
    }
    out[i] = d;
  }
  if (length !== undefined && size !== length) {
    rangeError(op, `"${name}" ${fmtShape(out)} needs ${size} elements, data has ${length}`);
  }
  return out;
}

/**
 * Validates an op's tensor argument. A {@link Tensor} was checked when built,
 * so only its buffer is re-checked (it may have been detached since).
 */
export function checkTensor(op: string, name: string, value: unknown): TensorLike {
  if (value instanceof Tensor) {
    if (value.data.length !== sizeOf(value.shape)) {
      checkAttached(op, name, value.data, sizeOf(value.shape));
      rangeError(op, `"${name}" data has ${value.data.length} elements (detached buffer?), shape ${fmtShape(value.shape)} needs ${sizeOf(value.shape)}`);
    }
    return value;
  }
  if (typeof value !== 'object' || value === null) typeError(op, name, 'a float32 Tensor', value);
  const { data, shape } = value as { data?: unknown; shape?: unknown };
  if (!(data instanceof Float32Array)) {
    typeError(op, name, 'a float32 Tensor', data === undefined ? value : data);
  }
  if (Array.isArray(shape) && data.length === 0) checkAttached(op, name, data, sizeOf(shape as number[]));
  checkShape(op, `${name}.shape`, shape, data.length);
  return value as TensorLike;
}

/** Product of the dimensions (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

