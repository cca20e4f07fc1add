/**
 * Box formats and conversions. Every box is four numbers:
 * - `xyxy`: left, top, right, bottom corners;
 * - `xywh`: left, top, width, height (COCO);
 * - `cxcywh`: centre x, centre y, width, height (SSD priors, YOLO heads).
 */
import { rangeError } from '../errors';
import { Tensor } from '../tensor';
import { optEnum } from '../validate';
import { VisionInput, asMatrix, f32Matrix, runVisionKernel, shapeOf } from './common';

/** How a box's four numbers are read. */
export type BoxFormat = 'xyxy' | 'xywh' | 'cxcywh';

/** @internal */
export const BOX_FORMATS: readonly BoxFormat[] = ['xyxy', 'xywh', 'cxcywh'];

/**
 * Writes box `i` of `src` (in `from`) into `dst` at `i` as xyxy; the two may
 * be the same array. (For single boxes: `iou` and the detections `nms` returns;
 * lists of boxes are converted natively.)
 * @internal
 */
export function toXyxyAt(src: Float32Array, dst: Float32Array, i: number, from: BoxFormat): void {
  const o = 4 * i;
  const a = src[o], b = src[o + 1], c = src[o + 2], d = src[o + 3];
  if (from === 'xyxy') {
    dst[o] = a; dst[o + 1] = b; dst[o + 2] = c; dst[o + 3] = d;
  } else if (from === 'xywh') {
    dst[o] = a; dst[o + 1] = b; dst[o + 2] = a + c; dst[o + 3] = b + d;
  } else {
    dst[o] = a - c / 2; dst[o + 1] = b - d / 2; dst[o + 2] = a + c / 2; dst[o + 3] = b + d / 2;
  }
}

/**
 * Converts boxes between formats (natively, as float32; the arithmetic in double).
 * @param boxes - `[N, 4]` (leading dims of 1 allowed) or a flat Float32Array of 4N numbers
 * @param from - the format of `boxes`
 * @param to - the format wanted
 * @returns a new tensor of the same shape as `boxes` (`[N, 4]` for a flat array)
 * @throws {TypeError} for a non-tensor or an unknown format name
 * @throws {RangeError} if the last dimension is not 4
 * @example
 * const xyxy = nn.vision.convertBoxes(nn.tensor(new Float32Array([5, 5, 2, 4]), [1, 4]), 'cxcywh', 'xyxy');
 * // xyxy.data: [4, 3, 6, 7]
 */
export function convertBoxes(boxes: VisionInput, from: BoxFormat, to: BoxFormat): Tensor {
  const op = 'convertBoxes';
  const f = optEnum(op, 'from', from ?? null, BOX_FORMATS, 'xyxy');
  const t = optEnum(op, 'to', to ?? null, BOX_FORMATS, 'xyxy');
  const m = asMatrix(op, 'boxes', boxes, 4);
  const shape = boxes instanceof Float32Array ? [m.rows, 4] : [...shapeOf(op, 'boxes', boxes).shape];
  if (m.rows === 0) rangeError(op, '"boxes" holds no box');
  const out = new Float32Array(m.data.length);
  runVisionKernel(op, 'VisionConvertBoxes', [f32Matrix(m.data, m.rows, 4)], [f32Matrix(out, m.rows, 4)], { from: f, to: t });
  return new Tensor(out, shape);
}

/**
 * Intersection over union of two xyxy boxes; 0 when the union is empty.
 * Corners given in the wrong order count as an empty box.
 * @internal
 */
export function iouAt(a: Float32Array, i: number, b: Float32Array, j: number): number {
  const p = 4 * i, q = 4 * j;
  const ax1 = a[p], ay1 = a[p + 1], ax2 = a[p + 2], ay2 = a[p + 3];
  const bx1 = b[q], by1 = b[q + 1], bx2 = b[q + 2], by2 = b[q + 3];
  const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const ih = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = Math.max(0, ax2 - ax1) * Math.max(0, ay2 - ay1) + Math.max(0, bx2 - bx1) * Math.max(0, by2 - by1) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Intersection over union of two boxes.
 * @param a - four numbers
 * @param b - four numbers
 * @param format - how both are read; default `'xyxy'`
 * @returns IoU in [0, 1]; 0 when the boxes do not overlap
 * @throws {TypeError} if a box is not an array of four numbers
 * @example
 * nn.vision.iou([0, 0, 2, 2], [1, 0, 3, 2]); // 1/3
 */
export function iou(a: ArrayLike<number>, b: ArrayLike<number>, format: BoxFormat = 'xyxy'): number {
  const f = optEnum('iou', 'format', format, BOX_FORMATS, 'xyxy');
  const read = (name: string, v: ArrayLike<number>): Float32Array => {
    if (v === null || typeof v !== 'object' || v.length !== 4 || !Array.prototype.every.call(v, (x: unknown) => typeof x === 'number')) {
      throw new TypeError(`iou: expected "${name}" to be four numbers`);
    }
    const box = Float32Array.from(v);
    toXyxyAt(box, box, 0, f);
    return box;
  };
  return iouAt(read('a', a), 0, read('b', b), 0);
}
