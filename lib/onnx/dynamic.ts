/**
 * Ops whose output shape depends on input values (NonMaxSuppression,
 * NonZero). A native program is planned for fixed shapes, so a model with
 * such an op runs as segments (see segments.ts): the programs before it, the
 * op itself on the values they produced, then the programs after it, planned
 * for the shape it gave. The ops are computed here, on the calling thread:
 * their work is small next to the convolutions that feed them.
 * @internal
 */
import { NeonnError, rangeError } from '../errors';
import { DType, TypedData } from '../dtype';
import type { TValue } from '../ir/exec';
import { sizeOf } from '../tensor';
import { attrInt, onnx } from './proto';

/** Data-dependent ops of ONNX's default domain, as the README's op table describes them. */
export const DATA_DEPENDENT: Readonly<Record<string, { dtypes: string; attrs: string; doc: string }>> = {
  NonMaxSuppression: {
    dtypes: 'float32, int64',
    attrs: 'center_point_box',
    doc: 'int64 [selected, 3] (batch, class, box): per batch and class, boxes by decreasing score above score_threshold, each kept unless its IoU with a kept one exceeds iou_threshold, at most max_output_boxes_per_class (as onnxruntime, in float32)',
  },
  NonZero: { dtypes: 'float32, int32, int64, int8, uint8, float16, bool', attrs: '—', doc: 'int64 [rank, count]: the indices of the non-zero elements, row-major' },
};

const DATA_DEPENDENT_OPS: ReadonlySet<string> = new Set(Object.keys(DATA_DEPENDENT));

/** Whether a node's output shape depends on its input values. */
export function isDataDependent(node: onnx.INodeProto): boolean {
  const domain = node.domain ?? '';
  return (domain === '' || domain === 'ai.onnx') && DATA_DEPENDENT_OPS.has(node.opType ?? '');
}

function fail(label: string, message: string): never {
  return rangeError('run', `${label}: ${message}`);
}

/** The value as numbers (int64 past 2^53 loses precision; the scalars read here are counts and thresholds). */
function numbers(v: TValue): ArrayLike<number> {
  const d = v.data;
  if (d instanceof BigInt64Array) return Array.from(d.subarray(0, sizeOf(v.shape)), (x) => Number(x));
  return d;
}

function scalar(v: TValue | undefined, label: string, what: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = sizeOf(v.shape);
  if (n !== 1) fail(label, `${what} must hold one value, got shape [${v.shape.join(',')}]`);
  return numbers(v)[0];
}

/** float32 arithmetic, as onnxruntime's kernel computes (a tie at the threshold decides the same way). */
const f = Math.fround;

/**
 * ONNX NonMaxSuppression (opset 10/11): per batch and class, boxes in
 * decreasing score (ties: lower index first) above `score_threshold`, each
 * kept unless its IoU with a box kept before is above `iou_threshold`, at
 * most `max_output_boxes_per_class` of them. Output: int64 [selected, 3] of
 * (batch, class, box) rows, batch-major then class-major.
 */
export function nonMaxSuppression(node: onnx.INodeProto, label: string, ins: (TValue | undefined)[]): TValue {
  const [boxes, scores] = ins;
  if (!boxes || !scores) fail(label, 'boxes and scores are required');
  if (boxes.dtype !== 'float32' || scores.dtype !== 'float32') fail(label, `boxes and scores must be float32, got ${boxes.dtype} and ${scores.dtype}`);
  const bs = boxes.shape, ss = scores.shape;
  if (bs.length !== 3 || bs[2] !== 4) fail(label, `boxes must have shape [batches, boxes, 4], got [${bs.join(',')}]`);
  if (ss.length !== 3) fail(label, `scores must have shape [batches, classes, boxes], got [${ss.join(',')}]`);
  if (ss[0] !== bs[0] || ss[2] !== bs[1]) fail(label, `scores [${ss.join(',')}] do not match boxes [${bs.join(',')}] (want [${bs[0]}, classes, ${bs[1]}])`);
  const maxPerClass = Math.max(0, scalar(ins[2], label, 'max_output_boxes_per_class', 0));
  const iouThreshold = f(scalar(ins[3], label, 'iou_threshold', 0));
  if (!(iouThreshold >= 0 && iouThreshold <= 1)) fail(label, `iou_threshold must be in [0, 1], got ${iouThreshold}`);
  const hasScoreThreshold = ins[4] !== undefined;
  const scoreThreshold = f(scalar(ins[4], label, 'score_threshold', 0));
  const center = attrInt(node, 'center_point_box', 0);
  if (center !== 0 && center !== 1) fail(label, `center_point_box must be 0 or 1, got ${center}`);
  const [batches, count] = bs;
  const classes = ss[1];
  const b = boxes.data as Float32Array, s = scores.data as Float32Array;

  // Corners of every box (min and max per axis: ONNX lets a box name its corners in either order).
  const n = batches * count;
  const x0 = new Float32Array(n), y0 = new Float32Array(n), x1 = new Float32Array(n), y1 = new Float32Array(n), area = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    if (center === 1) {
      const hw = f(b[o + 2] / 2), hh = f(b[o + 3] / 2);
      x0[i] = f(b[o] - hw); x1[i] = f(b[o] + hw);
      y0[i] = f(b[o + 1] - hh); y1[i] = f(b[o + 1] + hh);
    } else {
      y0[i] = Math.min(b[o], b[o + 2]); y1[i] = Math.max(b[o], b[o + 2]);
      x0[i] = Math.min(b[o + 1], b[o + 3]); x1[i] = Math.max(b[o + 1], b[o + 3]);
    }
    area[i] = f(f(x1[i] - x0[i]) * f(y1[i] - y0[i]));
  }
  const suppresses = (i: number, j: number): boolean => {
    const ix0 = Math.max(x0[i], x0[j]), ix1 = Math.min(x1[i], x1[j]);
    if (ix1 <= ix0) return false;
    const iy0 = Math.max(y0[i], y0[j]), iy1 = Math.min(y1[i], y1[j]);
    if (iy1 <= iy0) return false;
    const inter = f(f(ix1 - ix0) * f(iy1 - iy0));
    if (inter <= 0) return false;
    const union = f(f(area[i] + area[j]) - inter);
    if (area[i] <= 0 || area[j] <= 0 || union <= 0) return false;
    return f(inter / union) > iouThreshold;
  };

  const rows: number[] = [];
  const order = new Int32Array(count);
  const kept: number[] = [];
  for (let batch = 0; batch < batches && maxPerClass > 0; batch++) {
    for (let cls = 0; cls < classes; cls++) {
      const base = (batch * classes + cls) * count;
      let m = 0;
      for (let i = 0; i < count; i++) if (!hasScoreThreshold || s[base + i] > scoreThreshold) order[m++] = i;
      const cand = order.subarray(0, m).sort((p, q) => s[base + q] - s[base + p] || p - q);
      kept.length = 0;
      for (let k = 0; k < m && kept.length < maxPerClass; k++) {
        const box = batch * count + cand[k];
        if (kept.some((j) => suppresses(box, j))) continue;
        kept.push(box);
        rows.push(batch, cls, cand[k]);
      }
    }
  }
  return { dtype: 'int64', data: BigInt64Array.from(rows, (v) => BigInt(v)), shape: [rows.length / 3, 3] };
}

function isNonZero(dtype: DType, data: TypedData, i: number): boolean {
  if (dtype === 'int64') return (data as BigInt64Array)[i] !== 0n;
  // float16 bits: +0 and -0 are zero.
  if (dtype === 'float16') return ((data as Uint16Array)[i] & 0x7fff) !== 0;
  // NaN counts as non-zero (NaN !== 0).
  return (data as Float32Array)[i] !== 0;
}

/** ONNX NonZero: int64 [rank, count] of the indices of the non-zero elements, row-major (a scalar as shape [1]). */
export function nonZero(label: string, x: TValue | undefined): TValue {
  if (!x) fail(label, 'input X is required');
  const shape = x.shape.length === 0 ? [1] : [...x.shape];
  const total = sizeOf(shape);
  const hits: number[] = [];
  for (let i = 0; i < total; i++) if (isNonZero(x.dtype, x.data, i)) hits.push(i);
  const rank = shape.length;
  const out = new BigInt64Array(rank * hits.length);
  hits.forEach((flat, k) => {
    let r = flat;
    for (let d = rank - 1; d >= 0; d--) {
      out[d * hits.length + k] = BigInt(r % shape[d]);
      r = Math.floor(r / shape[d]);
    }
  });
  return { dtype: 'int64', data: out, shape: [rank, hits.length] };
}

/** Computes a data-dependent node on its values. */
export function runDataDependent(node: onnx.INodeProto, label: string, ins: (TValue | undefined)[]): TValue[] {
  switch (node.opType) {
    case 'NonMaxSuppression':
      return [nonMaxSuppression(node, label, ins)];
    case 'NonZero':
      return [nonZero(label, ins[0])];
    default:
      throw new NeonnError(`loadOnnx: ${label}: not a data-dependent op`, 'ERR_NEONN_INTERNAL', 'loadOnnx');
  }
}
