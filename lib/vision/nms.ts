/**
 * Greedy non-maximum suppression on score-sorted candidates: one sort, then
 * each candidate is compared only with the boxes already kept, so the cost is
 * O(N log N + kept * N) rather than the O(N^2) of an all-pairs IoU table.
 */
import { rangeError } from '../errors';
import { checkOptions, optBool, optEnum } from '../validate';
import { BOX_FORMATS, BoxFormat, iouAt, toXyxyAt } from './boxes';
import { VisionInput, asMatrix, checkNumbers, numberIn } from './common';

/** Options of {@link nms}. */
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

  const xyxy = format === 'xyxy' ? b.data : new Float32Array(b.data.length);
  if (format !== 'xyxy') for (let i = 0; i < n; i++) toXyxyAt(b.data, xyxy, i, format);

  // Candidates: (box, class) pairs when class-aware, else one per box with its best class.
  const perClass = classAware && c > 1;
  let count = 0;
  const cand = new Uint32Array(perClass ? n * c : n);
  const candScore = new Float32Array(cand.length);
  const candClass = new Int32Array(cand.length);
  for (let i = 0; i < n; i++) {
    if (perClass) {
      for (let k = 0; k < c; k++) {
        const v = s.data[i * c + k];
        if (v >= scoreThreshold) { cand[count] = i; candScore[count] = v; candClass[count++] = k; }
      }
    } else {
      let best = 0;
      for (let k = 1; k < c; k++) if (s.data[i * c + k] > s.data[i * c + best]) best = k;
      const v = s.data[i * c + best];
      if (v >= scoreThreshold) { cand[count] = i; candScore[count] = v; candClass[count++] = best; }
    }
  }
  const order = new Uint32Array(count);
  for (let j = 0; j < count; j++) order[j] = j;
  order.sort((p, q) => candScore[q] - candScore[p] || cand[p] - cand[q] || candClass[p] - candClass[q]);

  const out: Detection[] = [];
  // Kept boxes by class (one list when not class-aware): each candidate is compared with its own list only.
  const keptByClass = new Map<number, number[]>();
  for (let j = 0; j < count && out.length < maxDetections; j++) {
    const k = order[j];
    const i = cand[k];
    const cls = perClass ? candClass[k] : 0;
    let kept = keptByClass.get(cls);
    if (kept === undefined) keptByClass.set(cls, (kept = []));
    let suppressed = false;
    for (let t = 0; t < kept.length; t++) {
      if (iouAt(xyxy, i, xyxy, kept[t]) > iouThreshold) { suppressed = true; break; }
    }
    if (suppressed) continue;
    kept.push(i);
    out.push({
      index: i,
      classId: candClass[k],
      score: candScore[k],
      box: [xyxy[4 * i], xyxy[4 * i + 1], xyxy[4 * i + 2], xyxy[4 * i + 3]],
    });
  }
  return out;
}
