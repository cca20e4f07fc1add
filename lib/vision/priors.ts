/**
 * Box decoding for detection heads: SSD-style heads regress offsets from
 * prior (anchor) boxes scaled by variances (ULFD, RetinaFace); grid heads
 * regress from the cells of each stride's feature map (YOLOX, NanoDet).
 * The decoding runs natively (src/kernels/vision.cc) after the checks here;
 * the priors, made once per model, are generated here.
 */
import { rangeError, typeError } from '../errors';
import { Tensor } from '../tensor';
import { checkOptions, optBool, optEnum } from '../validate';
import { BOX_FORMATS, BoxFormat } from './boxes';
import { VisionInput, asMatrix, checkNumbers, f32Matrix, runVisionKernel } from './common';

/** Options of `ssdPriors`. */
export interface SsdPriorsOptions {
  /** The model's input `[height, width]` in pixels. */
  inputSize: [number, number];
  /** One stride per feature map, e.g. `[8, 16, 32, 64]`. */
  strides: number[];
  /** Per feature map, the prior sizes in input pixels (square priors), e.g. `[[10, 16, 24], [32, 48], ...]`. */
  minSizes: number[][];
  /** Clip the priors to [0, 1]; ULFD does, RetinaFace does not. Default false. */
  clip?: boolean;
  /**
   * Where a cell's centre lies when the stride does not divide the input:
   * `'stride'` (default, RetinaFace) at `(col + 0.5) * stride / width`;
   * `'cells'` (ULFD's exported models) at `(col + 0.5) / cols`, the map stretched over the input.
   */
  centers?: 'stride' | 'cells';
}

function positiveInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number') typeError(op, name, 'a positive integer', v);
  if (!Number.isInteger(v) || v <= 0 || v > 0x7fffffff) rangeError(op, `"${name}" must be a positive integer, got ${String(v)}`);
  return v;
}

function positiveNumber(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number') typeError(op, name, 'a positive number', v);
  if (!(v > 0 && v < Infinity)) rangeError(op, `"${name}" must be a positive finite number, got ${String(v)}`);
  return v;
}

function sizeArg(op: string, name: string, v: unknown): [number, number] {
  if (!Array.isArray(v)) typeError(op, name, '[height, width]', v);
  if (v.length !== 2) rangeError(op, `"${name}" must be [height, width], got an array of ${v.length}`);
  return [positiveInt(op, `${name}[0]`, v[0]), positiveInt(op, `${name}[1]`, v[1])];
}

function stridesArg(op: string, v: unknown): number[] {
  if (!Array.isArray(v) || v.length === 0) typeError(op, 'strides', 'a non-empty array of positive integers', v);
  return v.map((s: unknown, i) => positiveInt(op, `strides[${i}]`, s));
}

/**
 * The prior boxes of an SSD-style head, in the order such heads emit them:
 * feature map by feature map, row by row, column by column, size by size.
 * A prior's centre is the cell's centre, `((col + 0.5) * stride / width, (row + 0.5) * stride / height)`,
 * on a `ceil(height / stride) × ceil(width / stride)` map (see `centers` for the other convention).
 * @returns `[P, 4]` cxcywh priors, normalized to the input size
 * @throws {TypeError} for a missing or wrongly typed option
 * @throws {RangeError} for a non-positive size or stride, or as many size lists as strides not given
 * @example
 * // Ultra-Light-Fast-Generic-Face-Detector RFB-320 (4420 priors)
 * const priors = nn.vision.ssdPriors({ inputSize: [240, 320], strides: [8, 16, 32, 64],
 *   minSizes: [[10, 16, 24], [32, 48], [64, 96], [128, 192, 256]], clip: true, centers: 'cells' });
 */
export function ssdPriors(options: SsdPriorsOptions): Tensor {
  const op = 'ssdPriors';
  if (options === undefined) typeError(op, 'options', 'an object', options);
  const o = checkOptions(op, options, new Set(['inputSize', 'strides', 'minSizes', 'clip', 'centers']));
  const [h, w] = sizeArg(op, 'inputSize', o.inputSize);
  const strides = stridesArg(op, o.strides);
  if (!Array.isArray(o.minSizes)) typeError(op, 'minSizes', 'an array of arrays of sizes', o.minSizes);
  if (o.minSizes.length !== strides.length) rangeError(op, `"minSizes" has ${o.minSizes.length} lists, "strides" ${strides.length}`);
  const sizes = o.minSizes.map((l: unknown, k) => {
    if (!Array.isArray(l) || l.length === 0) typeError(op, `minSizes[${k}]`, 'a non-empty array of sizes', l);
    return l.map((v: unknown, j) => positiveNumber(op, `minSizes[${k}][${j}]`, v));
  });
  const clip = optBool(op, 'clip', o.clip);
  const byCells = optEnum(op, 'centers', o.centers, ['stride', 'cells'] as const, 'stride') === 'cells';
  let total = 0;
  strides.forEach((s, k) => (total += Math.ceil(h / s) * Math.ceil(w / s) * sizes[k].length));
  const out = new Float32Array(total * 4);
  let p = 0;
  const c = (x: number): number => (clip ? Math.min(1, Math.max(0, x)) : x);
  strides.forEach((s, k) => {
    const fh = Math.ceil(h / s), fw = Math.ceil(w / s);
    for (let row = 0; row < fh; row++) {
      for (let col = 0; col < fw; col++) {
        for (const m of sizes[k]) {
          out[p++] = c(byCells ? (col + 0.5) / fw : ((col + 0.5) * s) / w);
          out[p++] = c(byCells ? (row + 0.5) / fh : ((row + 0.5) * s) / h);
          out[p++] = c(m / w);
          out[p++] = c(m / h);
        }
      }
    }
  });
  return new Tensor(out, [total, 4]);
}

/** Options of `decodePriors`. */
export interface DecodePriorsOptions {
  /** Centre and size variances; default `[0.1, 0.2]`. */
  variances?: [number, number];
  /** Format of the result; default `'xyxy'`. */
  format?: BoxFormat;
  /** Multiply the (normalized) result by `[height, width]`, e.g. the photo's size; default none. */
  scaleTo?: [number, number];
}

/**
 * Decodes an SSD-style head's box regression against its priors:
 * `cx = pcx + dx * v0 * pw`, `cy = pcy + dy * v0 * ph`, `w = pw * exp(dw * v1)`, `h = ph * exp(dh * v1)`.
 * @param loc - `[P, 4]` regression (dx, dy, dw, dh); leading dims of 1 allowed
 * @param priors - `[P, 4]` cxcywh priors, as `ssdPriors` makes them
 * @returns `[P, 4]` boxes (xyxy unless `format` says otherwise)
 * @throws {RangeError} if the row counts disagree or a value is NaN
 * @example
 * const boxes = nn.vision.decodePriors(outputs.loc, priors, { variances: [0.1, 0.2] });
 */
export function decodePriors(loc: VisionInput, priors: VisionInput, options?: DecodePriorsOptions): Tensor {
  const op = 'decodePriors';
  const o = checkOptions(op, options, new Set(['variances', 'format', 'scaleTo']));
  let v0 = 0.1, v1 = 0.2;
  if (o.variances !== undefined) {
    if (!Array.isArray(o.variances)) typeError(op, 'variances', '[center, size]', o.variances);
    if (o.variances.length !== 2) rangeError(op, `"variances" must be [center, size], got an array of ${o.variances.length}`);
    v0 = positiveNumber(op, 'variances[0]', o.variances[0]);
    v1 = positiveNumber(op, 'variances[1]', o.variances[1]);
  }
  const format = optEnum(op, 'format', o.format, BOX_FORMATS, 'xyxy');
  const [sh, sw] = o.scaleTo === undefined ? [1, 1] : sizeArg(op, 'scaleTo', o.scaleTo);
  const l = asMatrix(op, 'loc', loc, 4);
  const p = asMatrix(op, 'priors', priors, 4);
  if (l.rows !== p.rows) rangeError(op, `"loc" has ${l.rows} rows, "priors" has ${p.rows}`);
  if (l.rows === 0) rangeError(op, '"loc" holds no box');
  checkNumbers(op, 'loc', l.data, false);
  checkNumbers(op, 'priors', p.data, true);
  const out = new Float32Array(l.rows * 4);
  runVisionKernel(op, 'VisionDecodePriors', [f32Matrix(l.data, l.rows, 4), f32Matrix(p.data, p.rows, 4)], [f32Matrix(out, l.rows, 4)], {
    variances: [v0, v1],
    scale: [sh, sw],
    format,
  });
  return new Tensor(out, [l.rows, 4]);
}

/** Options of `decodeGrid`. */
export interface DecodeGridOptions {
  /** The model's input `[height, width]` in pixels. */
  inputSize: [number, number];
  /** One stride per feature map, e.g. `[8, 16, 32]`; each map is `ceil(height / s) × ceil(width / s)` cells, row-major. */
  strides: number[];
  /**
   * How a row is read:
   * - `'distance'` (NanoDet, YOLOv8, FCOS): distances from the cell point to the left, top, right and
   *   bottom sides, in strides; a row of `4 * bins` numbers is a distribution per side (softmax, then its
   *   expectation over 0..bins-1), as NanoDet's and YOLOv8's DFL heads give them;
   * - `'yolox'`: `(dx, dy, log w, log h)`: centre `(col + dx) * s`, size `exp(log w) * s`.
   */
  mode: 'distance' | 'yolox';
  /** Added to a cell's column and row to make its point: 0.5 for cell centres (NanoDet-m's GFL head, YOLOv8); default 0 (YOLOX, NanoDet-Plus). */
  offset?: number;
  /** Format of the result; default `'xyxy'`. */
  format?: BoxFormat;
}

/**
 * Decodes a grid head's box regression into boxes in input pixels.
 * @param pred - `[N, 4]` (or `[N, 4 * bins]` in `'distance'` mode) with N the cells of all strides
 * @returns `[N, 4]` boxes (xyxy unless `format` says otherwise), in input pixels
 * @throws {RangeError} if N is not the number of cells, a row's width does not fit the mode, or a value is NaN
 * @example
 * // NanoDet-m at 416×416: reg [3549, 32], 8 bins per side
 * const boxes = nn.vision.decodeGrid(reg, { inputSize: [416, 416], strides: [8, 16, 32], mode: 'distance', offset: 0.5 });
 */
export function decodeGrid(pred: VisionInput, options: DecodeGridOptions): Tensor {
  const op = 'decodeGrid';
  if (options === undefined) typeError(op, 'options', 'an object', options);
  const o = checkOptions(op, options, new Set(['inputSize', 'strides', 'mode', 'offset', 'format']));
  const [h, w] = sizeArg(op, 'inputSize', o.inputSize);
  const strides = stridesArg(op, o.strides);
  if (o.mode === undefined) typeError(op, 'mode', "'distance' or 'yolox'", o.mode);
  const mode = optEnum(op, 'mode', o.mode, ['distance', 'yolox'] as const, 'distance');
  const offset = o.offset === undefined ? 0 : o.offset;
  if (typeof offset !== 'number') typeError(op, 'offset', 'a number', offset);
  if (!Number.isFinite(offset)) rangeError(op, `"offset" must be finite, got ${offset}`);
  const format = optEnum(op, 'format', o.format, BOX_FORMATS, 'xyxy');
  // A bare Float32Array is read as rows of four.
  const m = asMatrix(op, 'pred', pred, pred instanceof Float32Array ? 4 : undefined);
  const bins = m.cols / 4;
  if (!Number.isInteger(bins) || (mode === 'yolox' && bins !== 1)) {
    rangeError(op, `"pred" rows of ${m.cols} numbers do not fit mode '${mode}' (${mode === 'yolox' ? '4' : '4 or 4 * bins'} expected)`);
  }
  let cells = 0;
  for (const s of strides) cells += Math.ceil(h / s) * Math.ceil(w / s);
  if (m.rows !== cells) rangeError(op, `"pred" has ${m.rows} rows; strides ${strides.join(',')} on ${h}x${w} make ${cells} cells`);
  checkNumbers(op, 'pred', m.data, false);
  const out = new Float32Array(cells * 4);
  runVisionKernel(op, 'VisionDecodeGrid', [f32Matrix(m.data, m.rows, m.cols)], [f32Matrix(out, cells, 4)], {
    input_size: [h, w],
    strides,
    mode,
    offset,
    format,
  });
  return new Tensor(out, [cells, 4]);
}
