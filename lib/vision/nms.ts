/**
 * Greedy non-maximum suppression on score-sorted candidates, run natively
 * (src/kernels/vision.cc, VisionNonMaxSuppression): one sort, then each
 * candidate is compared only with the already kept boxes of similar size near
 * it (a uniform grid per size level), so the cost is O(N log N + kept
 * neighbours) for a detector's boxes rather than the O(N^2) of an all-pairs
 * IoU table. This file checks the arguments and builds the detections.
 */
import { rangeError } from '../errors';
import { checkOptions, optBool, optEnum } from '../validate';
import { BOX_FORMATS, BoxFormat, toXyxyAt } from './boxes';
import { VisionInput, asMatrix, checkNumbers, f32Matrix, i32Tensor, numberIn, runVisionKernel } from './common';

/** Options of `nms`. */
export interface NmsOptions {
  /** A candidate is suppressed when its IoU with a kept box is above this; default 0.5. */
  iouThreshold?: number;
  /** Candidates scoring below this are dropped first; default -Infinity (none). */
  scoreThreshold?: number;
  /** Stop after this many detections; default: no limit. */
  maxDetections?: number;
  /**
   * With `[N, C]` scores: true runs NMS per class (a box may be kept once per
   * class, boxes of different classes never suppress each other); false
   * (default) scores each box by its best class and suppresses across classes.
   */
  classAware?: boolean;
  /** How `boxes` are given; default `'xyxy'`. Detections are always xyxy. */
  format?: BoxFormat;
}

/** One kept box. */
export interface Detection {
  /** Row of the box in `boxes`. */
  index: number;
  /** Its class: the column of `scores` (0 for `[N]` scores). */
  classId: number;
  score: number;
  /** `[x1, y1, x2, y2]`. */
  box: [number, number, number, number];
}

const NMS_OPTIONS = new Set(['iouThreshold', 'scoreThreshold', 'maxDetections', 'classAware', 'format']);

/**
 * Non-maximum suppression: keeps the best-scoring boxes, dropping each box
 * that overlaps an already kept one by more than `iouThreshold`.
 * Ties in score are broken by the lower index, so the result is deterministic.
 * @param boxes - `[N, 4]` (leading dims of 1 allowed, e.g. a model's `[1, N, 4]`) or a flat Float32Array of 4N
 * @param scores - `[N]` or `[N, C]` (leading dims of 1 allowed)
 * @param options - see {@link NmsOptions}
 * @returns the kept detections, best score first
 * @throws {TypeError} for a non-tensor argument or a wrongly typed option
 * @throws {RangeError} if the row counts disagree, a threshold is out of range or a value is NaN
 * @example
 * const dets = nn.vision.nms(boxes, scores, { iouThreshold: 0.3, scoreThreshold: 0.7 });
 * for (const d of dets) console.log(d.score.toFixed(2), d.box);
 */
export function nms(boxes: VisionInput, scores: VisionInput, options?: NmsOptions): Detection[] {
  const op = 'nms';
  const o = checkOptions(op, options, NMS_OPTIONS);
  const iouThreshold = numberIn(op, 'iouThreshold', o.iouThreshold, 0.5, 0, 1);
  const scoreThreshold = o.scoreThreshold === undefined ? -Infinity : numberIn(op, 'scoreThreshold', o.scoreThreshold, 0, -Infinity, Infinity);
  let maxDetections = Infinity;
  if (o.maxDetections !== undefined) {
    maxDetections = numberIn(op, 'maxDetections', o.maxDetections, 0, 0, Number.MAX_SAFE_INTEGER);
    if (!Number.isInteger(maxDetections)) rangeError(op, `"maxDetections" must be an integer, got ${maxDetections}`);
  }
  const classAware = optBool(op, 'classAware', o.classAware);
  const format = optEnum(op, 'format', o.format, BOX_FORMATS, 'xyxy');
  const b = asMatrix(op, 'boxes', boxes, 4);
  const s = asMatrix(op, 'scores', scores);
  if (s.rows !== b.rows) rangeError(op, `"scores" has ${s.rows} rows, "boxes" has ${b.rows}`);
  checkNumbers(op, 'boxes', b.data, true);
  checkNumbers(op, 'scores', s.data, false);
  const n = b.rows, c = s.cols;
  // Candidates: (box, class) pairs when class-aware, else one per box with its best class.
  const perClass = classAware && c > 1;
  // Room for every detection that may be kept: the native side stops there.
  const capacity = Math.min(maxDetections, perClass ? n * c : n);
  if (capacity === 0 || c === 0) return [];
  const kept = new Int32Array(2 * capacity);
  const count = new Int32Array(1);
  runVisionKernel(op, 'VisionNonMaxSuppression', [f32Matrix(b.data, n, 4), f32Matrix(s.data, n, c)], [i32Tensor(kept, [capacity, 2]), i32Tensor(count, [1])], {
    iou_threshold: iouThreshold,
    score_threshold: scoreThreshold,
    class_aware: perClass ? 1 : 0,
    format,
  });
  const out: Detection[] = [];
  const box = new Float32Array(4);
  for (let j = 0; j < count[0]; j++) {
    const i = kept[2 * j], k = kept[2 * j + 1];
    for (let q = 0; q < 4; q++) box[q] = b.data[4 * i + q];
    toXyxyAt(box, box, 0, format);
    out.push({ index: i, classId: k, score: s.data[i * c + k], box: [box[0], box[1], box[2], box[3]] });
  }
  return out;
}
