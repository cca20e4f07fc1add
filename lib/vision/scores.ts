/**
 * Softmax along any axis and top-k along the last one, over float32 outputs
 * of any shape (a classifier's `[1, 1000]`, a detector's `[1, N, C]`).
 */
import { rangeError, typeError } from '../errors';
import { Tensor } from '../tensor';
import { axisArg } from '../validate';
import { VisionInput, shapeOf } from './common';

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
  let outer = 1, inner = 1;
  for (let i = 0; i < a; i++) outer *= dims[i];
  for (let i = a + 1; i < rank; i++) inner *= dims[i];
  const n = dims[a];
  const out = new Float32Array(data.length);
  for (let o = 0; o < outer; o++) {
    for (let q = 0; q < inner; q++) {
      const base = o * n * inner + q;
      let max = -Infinity;
      for (let i = 0; i < n; i++) if (data[base + i * inner] > max) max = data[base + i * inner];
      let sum = 0;
      for (let i = 0; i < n; i++) sum += out[base + i * inner] = Math.exp(data[base + i * inner] - max);
      for (let i = 0; i < n; i++) out[base + i * inner] /= sum;
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
 * index order. A heap of size k per row: O(n log k).
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
  const values = new Float32Array(rows * k);
  const indices = new Int32Array(rows * k);
  // Min-heap of indices on (value, -index): the root is the weakest of the k kept so far.
  const heap = new Int32Array(k);
  const weaker = (base: number, i: number, j: number): boolean => {
    const a = data[base + i], b = data[base + j];
    return a < b || (a === b && i > j);
  };
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    let size = 0;
    for (let i = 0; i < n; i++) {
      const v = data[base + i];
      if (v !== v) rangeError(op, `"x" element ${base + i} is NaN`);
      if (size < k) {
        let c = size++;
        heap[c] = i;
        while (c > 0) {
          const p = (c - 1) >> 1;
          if (!weaker(base, heap[c], heap[p])) break;
          [heap[c], heap[p]] = [heap[p], heap[c]];
          c = p;
        }
      } else if (weaker(base, heap[0], i)) {
        heap[0] = i;
        siftDown(heap, size, 0, (a, b) => weaker(base, a, b));
      }
    }
    // Pop weakest first into the back of the row.
    for (let t = k - 1; t >= 0; t--) {
      const top = heap[0];
      indices[r * k + t] = top;
      values[r * k + t] = data[base + top];
      heap[0] = heap[--size];
      siftDown(heap, size, 0, (a, b) => weaker(base, a, b));
    }
  }
  const outShape = shape.length === 0 ? [k] : [...shape.slice(0, -1), k];
  return { values: new Tensor(values, outShape), indices };
}

function siftDown(heap: Int32Array, size: number, at: number, weaker: (a: number, b: number) => boolean): void {
  let c = at;
  for (;;) {
    const l = 2 * c + 1, r = l + 1;
    let m = c;
    if (l < size && weaker(heap[l], heap[m])) m = l;
    if (r < size && weaker(heap[r], heap[m])) m = r;
    if (m === c) return;
    [heap[c], heap[m]] = [heap[m], heap[c]];
    c = m;
  }
}
