/**
 * Softmax along any axis and top-k along the last one, over float32 outputs
 * of any shape (a classifier's `[1, 1000]`, a detector's `[1, N, C]`): the
 * checks here, the work in the native softmax (nn.softmax's) and TopK kernels.
 */
import { fromNative, rangeError, typeError } from '../errors';
import { binding } from '../native';
import { Tensor } from '../tensor';
import { axisArg } from '../validate';
import { VisionInput, checkNumbers, f32Matrix, i32Tensor, runVisionKernel, shapeOf } from './common';

/**
 * Softmax along `axis`: `exp(x - max) / sum(exp(x - max))`, so large logits do not overflow.
 * @param x - a tensor (or a Float32Array, one axis)
 * @param axis - default -1 (the last)
 * @returns a new tensor of the same shape
 * @throws {RangeError} for an axis out of range
 * @example
 * const p = nn.vision.softmax(outputs.logits); // over the last axis
 */
export function softmax(x: VisionInput, axis = -1): Tensor {
  const op = 'softmax';
  const { data, shape } = shapeOf(op, 'x', x);
  const rank = Math.max(1, shape.length);
  const dims = shape.length === 0 ? [1] : shape;
  const a = axisArg(op, 'axis', axis, rank);
  const out = new Float32Array(data.length);
  if (data.length > 0) {
    try {
      binding.softmaxSync(data, out, 0, a, dims.length, ...dims);
    } catch (err) {
      throw fromNative(err, op, binding.getBackend());
    }
  }
  return new Tensor(out, x instanceof Float32Array ? [data.length] : [...shape]);
}

/** The result of `topK`. */
export interface TopK {
  /** `[..., k]`: the k largest values of each row, largest first. */
  values: Tensor;
  /** The same layout: the index of each value along the last axis. */
  indices: Int32Array;
}

/**
 * The `k` largest entries along the last axis, largest first; equal values in
 * index order. A partial sort per row: O(n log k).
 * @param x - a tensor (or a Float32Array, one row)
 * @param k - how many; 1 <= k <= the last dimension
 * @throws {RangeError} for k out of range or a NaN in `x`
 * @example
 * const { values, indices } = nn.vision.topK(probs, 5);
 */
export function topK(x: VisionInput, k: number): TopK {
  const op = 'topK';
  const { data, shape } = shapeOf(op, 'x', x);
  const n = shape.length === 0 ? 1 : shape[shape.length - 1];
  if (typeof k !== 'number') typeError(op, 'k', 'an integer', k);
  if (!Number.isInteger(k) || k < 1 || k > n) rangeError(op, `"k" must be an integer in [1, ${n}], got ${String(k)}`);
  const rows = data.length / n;
  checkNumbers(op, 'x', data, false);
  const values = new Float32Array(rows * k);
  const indices = new Int32Array(rows * k);
  if (rows > 0) {
    runVisionKernel(op, 'TopK', [f32Matrix(data, rows, n), i32Tensor(Int32Array.of(k), [1])], [f32Matrix(values, rows, k), i32Tensor(indices, [rows, k])], {
      axis: -1,
      largest: 1,
      sorted: 1,
    });
  }
  const outShape = shape.length === 0 ? [k] : [...shape.slice(0, -1), k];
  return { values: new Tensor(values, outShape), indices };
}
