/**
 * Greedy non-maximum suppression on score-sorted candidates: one sort, then
 * each candidate is compared only with the boxes already kept, so the cost is
 * O(N log N + kept * N) at worst rather than the O(N^2) of an all-pairs IoU
 * table. The kept boxes sit in a uniform grid (cell: the median box size), so
 * a candidate meets only the kept boxes near it: near O(N log N) for the many
 * small scattered boxes of a detector.
 */
import { rangeError } from '../errors';
import { checkOptions, optBool, optEnum } from '../validate';
import { BOX_FORMATS, BoxFormat, iouAt, toXyxyAt } from './boxes';
import { VisionInput, asMatrix, checkNumbers, numberIn } from './common';

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
  const grid = new KeptGrid(xyxy, cand, count);
  for (let j = 0; j < count && out.length < maxDetections; j++) {
    const k = order[j];
    const i = cand[k];
    // Boxes of other classes never suppress each other when class-aware.
    const cls = perClass ? candClass[k] : 0;
    if (grid.suppresses(i, cls, iouThreshold)) continue;
    grid.add(i, cls);
    out.push({
      index: i,
      classId: candClass[k],
      score: candScore[k],
      box: [xyxy[4 * i], xyxy[4 * i + 1], xyxy[4 * i + 2], xyxy[4 * i + 3]],
    });
  }
  return out;
}

/** A kept box spanning more cells than this is compared with every candidate instead of being gridded. */
const MAX_SPAN = 256;

/**
 * The kept boxes, bucketed by the grid cells they cover. Two boxes with an
 * IoU above any threshold >= 0 overlap with positive area, so they share a
 * cell: looking only at the candidate's cells finds every box that can
 * suppress it. Empty or inverted boxes (IoU 0 with everything) are not stored.
 */
class KeptGrid {
  private readonly x0: number;
  private readonly y0: number;
  private readonly inv: number;
  private readonly gw: number;
  private readonly gh: number;
  private readonly cells: (number[] | undefined)[];
  /** Kept entries: box index and class. */
  private readonly box: Int32Array;
  private readonly cls: Int32Array;
  private kept = 0;
  /** Entries too large to grid. */
  private readonly big: number[] = [];
  /** Per entry, the last query that saw it (an entry may sit in many cells). */
  private readonly seen: Int32Array;
  private query = 0;
  /** The cell range of the box last given to {@link span}. */
  private cx0 = 0;
  private cy0 = 0;
  private cx1 = 0;
  private cy1 = 0;

  constructor(private readonly xyxy: Float32Array, cand: Uint32Array, count: number) {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    const sizes = new Float32Array(2 * count);
    let n = 0;
    for (let j = 0; j < count; j++) {
      const o = 4 * cand[j];
      const w = xyxy[o + 2] - xyxy[o], h = xyxy[o + 3] - xyxy[o + 1];
      if (!(w > 0 && h > 0)) continue;
      x0 = Math.min(x0, xyxy[o]); y0 = Math.min(y0, xyxy[o + 1]);
      x1 = Math.max(x1, xyxy[o + 2]); y1 = Math.max(y1, xyxy[o + 3]);
      sizes[n++] = w;
      sizes[n++] = h;
    }
    const median = n > 0 ? sizes.subarray(0, n).sort()[n >> 1] : 1;
    let cell = Math.max(median, 1e-6 * Math.max(x1 - x0, y1 - y0, 1));
    // At most about 4 cells per candidate.
    const cap = 4 * count + 64;
    while (n > 0 && Math.ceil((x1 - x0) / cell + 1) * Math.ceil((y1 - y0) / cell + 1) > cap) cell *= 2;
    this.x0 = n > 0 ? x0 : 0;
    this.y0 = n > 0 ? y0 : 0;
    this.inv = 1 / cell;
    this.gw = n > 0 ? Math.ceil((x1 - x0) / cell + 1) : 1;
    this.gh = n > 0 ? Math.ceil((y1 - y0) / cell + 1) : 1;
    this.cells = new Array<number[] | undefined>(this.gw * this.gh);
    this.box = new Int32Array(count);
    this.cls = new Int32Array(count);
    this.seen = new Int32Array(count);
  }

  /** Sets the cell range of box `i` and returns how many cells it covers; 0 for an empty box. */
  private span(i: number): number {
    const b = this.xyxy, o = 4 * i;
    if (!(b[o + 2] - b[o] > 0 && b[o + 3] - b[o + 1] > 0)) return 0;
    const gw = this.gw - 1, gh = this.gh - 1, inv = this.inv;
    this.cx0 = Math.min(gw, Math.max(0, Math.floor((b[o] - this.x0) * inv)));
    this.cy0 = Math.min(gh, Math.max(0, Math.floor((b[o + 1] - this.y0) * inv)));
    this.cx1 = Math.min(gw, Math.max(0, Math.floor((b[o + 2] - this.x0) * inv)));
    this.cy1 = Math.min(gh, Math.max(0, Math.floor((b[o + 3] - this.y0) * inv)));
    return (this.cx1 - this.cx0 + 1) * (this.cy1 - this.cy0 + 1);
  }

  /** Whether kept entry `e` (not yet seen by query `q`) has class `cls` and IoU above `threshold` with box `i`. */
  private hits(e: number, q: number, i: number, cls: number, threshold: number): boolean {
    if (this.seen[e] === q) return false;
    this.seen[e] = q;
    return this.cls[e] === cls && iouAt(this.xyxy, i, this.xyxy, this.box[e]) > threshold;
  }

  /** Whether a kept box of class `cls` overlaps box `i` by IoU above `threshold`. */
  suppresses(i: number, cls: number, threshold: number): boolean {
    const cells = this.span(i);
    if (cells === 0) return false;
    const q = ++this.query;
    if (cells > MAX_SPAN) {
      for (let e = 0; e < this.kept; e++) if (this.hits(e, q, i, cls, threshold)) return true;
      return false;
    }
    for (let t = 0; t < this.big.length; t++) if (this.hits(this.big[t], q, i, cls, threshold)) return true;
    for (let cy = this.cy0; cy <= this.cy1; cy++) {
      for (let cx = this.cx0; cx <= this.cx1; cx++) {
        const list = this.cells[cy * this.gw + cx];
        if (list !== undefined) for (let t = 0; t < list.length; t++) if (this.hits(list[t], q, i, cls, threshold)) return true;
      }
    }
    return false;
  }

  /** Keeps box `i` of class `cls`. */
  add(i: number, cls: number): void {
    const cells = this.span(i);
    if (cells === 0) return; // IoU 0 with everything: suppresses nothing
    const e = this.kept++;
    this.box[e] = i;
    this.cls[e] = cls;
    if (cells > MAX_SPAN) {
      this.big.push(e);
      return;
    }
    for (let cy = this.cy0; cy <= this.cy1; cy++) {
      for (let cx = this.cx0; cx <= this.cx1; cx++) (this.cells[cy * this.gw + cx] ??= []).push(e);
    }
  }
}
