/**
 * From interleaved 8-bit pixels (HWC) to a model's input tensor: bilinear
 * resize with half-pixel centres (as ONNX Resize and OpenCV do, rounded back
 * to 8 bits), letterbox or centre crop, channel order, `(p * scale - mean) / std`,
 * NCHW or NHWC. One pass over the output; no sharp needed.
 */
import { rangeError, typeError } from '../errors';
import { TypedTensor } from '../ir/ops';
import { Tensor } from '../tensor';
import { checkOptions, optEnum, optFinite } from '../validate';
import { ImageTransform } from './transform';

/** How the photo is fitted into `size`. */
export type ImageFit = 'fill' | 'contain' | 'cover';

/** Options of `nn.image.fromPixels` and `nn.image.load`. */
export interface ImageOptions {
  /** The model input's `[height, width]`; default the photo's size. */
  size?: [number, number];
  /**
   * `'fill'` (default) stretches to `size`; `'contain'` keeps the aspect ratio and pads
   * (letterbox, centred) with `pad`; `'cover'` keeps the aspect ratio and crops the centre.
   */
  fit?: ImageFit;
  /** The 8-bit value of letterbox padding, one for all channels or one per output channel; default 0. */
  pad?: number | number[];
  /** Output channels: `'rgb'` (default), `'bgr'` or `'gray'` (BT.601 luma). */
  channels?: 'rgb' | 'bgr' | 'gray';
  /** Multiplies each 8-bit value first; default 1 (e.g. `1 / 255` for [0, 1]). */
  scale?: number;
  /** Subtracted after scaling, one value or one per output channel (in output order); default 0. */
  mean?: number | number[];
  /** Divides last, one value or one per output channel; default 1. */
  std?: number | number[];
  /** `'nchw'` (default) gives `[1, C, H, W]`, `'nhwc'` gives `[1, H, W, C]`. */
  layout?: 'nchw' | 'nhwc';
  /** `'float32'` (default) or `'uint8'` (the resized 8-bit values; scale, mean and std must be left out). */
  dtype?: 'float32' | 'uint8';
}

/** What `nn.image.fromPixels` and `nn.image.load` return. */
export interface ImageInput<T = Tensor> {
  /** `[1, C, H, W]` (or `[1, H, W, C]`): a float32 Tensor, or a uint8 TypedTensor with `dtype: 'uint8'`. */
  tensor: T;
  /** Maps model coordinates (points, boxes) back to the photo. */
  transform: ImageTransform;
}

/** The 8-bit pixel buffers `fromPixels` takes. */
export type PixelData = Uint8Array | Uint8ClampedArray;

const OPTIONS = new Set(['size', 'fit', 'pad', 'channels', 'scale', 'mean', 'std', 'layout', 'dtype']);

function dim(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number') typeError(op, name, 'a positive integer', v);
  if (!Number.isInteger(v) || v < 1 || v > 65535) rangeError(op, `"${name}" must be an integer in [1, 65535], got ${String(v)}`);
  return v;
}

function perChannel(op: string, name: string, v: unknown, dflt: number, c: number, check: (x: number) => boolean, what: string): number[] {
  if (v === undefined) return new Array<number>(c).fill(dflt);
  const list = typeof v === 'number' ? new Array<number>(c).fill(v) : v;
  if (!Array.isArray(list)) typeError(op, name, `a number or an array of ${c}`, v);
  if (list.length !== c) rangeError(op, `"${name}" needs 1 or ${c} values (one per output channel), got ${list.length}`);
  return list.map((x: unknown, i) => {
    if (typeof x !== 'number') typeError(op, `${name}[${i}]`, 'a number', x);
    if (!check(x)) rangeError(op, `"${name}${typeof v === 'number' ? '' : `[${i}]`}" must be ${what}, got ${String(x)}`);
    return x;
  });
}

/** Per output coordinate: the two source indices and the weight of the second (half-pixel centres, clamped). */
function taps(out: number, resized: number, shift: number, src: number): { i0: Int32Array; i1: Int32Array; w: Float64Array; inside: Uint8Array } {
  // float64 weights: the rounding to 8 bits must not depend on float32 error.
  const i0 = new Int32Array(out), i1 = new Int32Array(out), w = new Float64Array(out), inside = new Uint8Array(out);
  const ratio = src / resized;
  for (let x = 0; x < out; x++) {
    const u = x - shift; // coordinate in the resized photo
    if (u < 0 || u >= resized) continue;
    inside[x] = 1;
    const s = Math.min(src - 1, Math.max(0, (u + 0.5) * ratio - 0.5));
    const f = Math.floor(s);
    i0[x] = f;
    i1[x] = Math.min(src - 1, f + 1);
    w[x] = s - f;
  }
  return { i0, i1, w, inside };
}

/**
 * Makes a model input from raw 8-bit pixels, e.g. a camera frame or a decoded photo.
 * @param data - interleaved pixels, row by row: `height * width * channels` bytes
 * @param width - the photo's width
 * @param height - the photo's height
 * @param channels - 1 (gray), 3 (RGB) or 4 (RGBA; alpha ignored)
 * @param options - size, fit, channels, normalization, layout: see {@link ImageOptions}
 * @returns `{ tensor, transform }`
 * @throws {TypeError} for a non-8-bit buffer or a wrongly typed option
 * @throws {RangeError} if the buffer's length does not match, or an option is out of range
 * @example
 * const { tensor, transform } = nn.image.fromPixels(rgb, 640, 480, 3,
 *   { size: [240, 320], mean: 127, std: 128 });
 */
export function fromPixels(data: PixelData, width: number, height: number, channels: 1 | 3 | 4, options?: ImageOptions): ImageInput<Tensor>;
export function fromPixels(data: PixelData, width: number, height: number, channels: 1 | 3 | 4, options: ImageOptions & { dtype: 'uint8' }): ImageInput<TypedTensor>;
export function fromPixels(data: PixelData, width: number, height: number, channels: 1 | 3 | 4, options?: ImageOptions): ImageInput<Tensor | TypedTensor> {
  return convert('fromPixels', data, width, height, channels, options);
}

/** @internal fromPixels under another op's name (load). */
export function convert(op: string, data: unknown, width: unknown, height: unknown, channels: unknown, options?: ImageOptions): ImageInput<Tensor | TypedTensor> {
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) typeError(op, 'data', 'a Uint8Array, Uint8ClampedArray or Buffer of pixels', data);
  const W = dim(op, 'width', width), H = dim(op, 'height', height);
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    if (typeof channels !== 'number') typeError(op, 'channels', '1, 3 or 4', channels);
    rangeError(op, `"channels" must be 1, 3 or 4, got ${String(channels)}`);
  }
  const C = channels;
  if (data.length !== W * H * C) rangeError(op, `"data" has ${data.length} bytes; ${W}x${H}x${C} needs ${W * H * C}`);
  const o = checkOptions(op, options, OPTIONS);
  let oh = H, ow = W;
  if (o.size !== undefined) {
    if (!Array.isArray(o.size)) typeError(op, 'size', '[height, width]', o.size);
    if (o.size.length !== 2) rangeError(op, `"size" must be [height, width], got an array of ${o.size.length}`);
    oh = dim(op, 'size[0]', o.size[0]);
    ow = dim(op, 'size[1]', o.size[1]);
  }
  const fit = optEnum(op, 'fit', o.fit, ['fill', 'contain', 'cover'] as const, 'fill');
  const order = optEnum(op, 'channels', o.channels, ['rgb', 'bgr', 'gray'] as const, 'rgb');
  const layout = optEnum(op, 'layout', o.layout, ['nchw', 'nhwc'] as const, 'nchw');
  const dtype = optEnum(op, 'dtype', o.dtype, ['float32', 'uint8'] as const, 'float32');
  const oc = order === 'gray' ? 1 : 3;
  const finite = (x: number): boolean => Number.isFinite(x);
  const pad = perChannel(op, 'pad', o.pad, 0, oc, (x) => Number.isInteger(x) && x >= 0 && x <= 255, 'an integer in [0, 255]');
  if (dtype === 'uint8' && (o.scale !== undefined || o.mean !== undefined || o.std !== undefined)) {
    rangeError(op, "\"scale\", \"mean\" and \"std\" do not apply to dtype 'uint8'");
  }
  const scale = optFinite(op, 'scale', o.scale, 1);
  const mean = perChannel(op, 'mean', o.mean, 0, oc, finite, 'a finite number');
  const std = perChannel(op, 'std', o.std, 1, oc, (x) => Number.isFinite(x) && x !== 0, 'a finite non-zero number');

  // The photo's size once scaled, and where it lands in the output.
  let rw = ow, rh = oh, dx = 0, dy = 0;
  if (fit !== 'fill') {
    const s = fit === 'contain' ? Math.min(oh / H, ow / W) : Math.max(oh / H, ow / W);
    rw = Math.max(1, Math.round(W * s));
    rh = Math.max(1, Math.round(H * s));
    dx = Math.floor((ow - rw) / 2); // negative for cover: the crop
    dy = Math.floor((oh - rh) / 2);
  }
  const xs = taps(ow, rw, dx, W), ys = taps(oh, rh, dy, H);

  const n = oh * ow;
  const out = dtype === 'uint8' ? new Uint8Array(n * oc) : new Float32Array(n * oc);
  // Output channel k reads source channel src[k] (gray input feeds all three).
  const src = C === 1 ? [0, 0, 0] : order === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const px = new Float64Array(3);
  const rowStride = W * C;
  for (let y = 0; y < oh; y++) {
    const y0 = ys.i0[y] * rowStride, y1 = ys.i1[y] * rowStride, wy = ys.w[y];
    for (let x = 0; x < ow; x++) {
      const p = y * ow + x;
      if (!ys.inside[y] || !xs.inside[x]) {
        for (let k = 0; k < oc; k++) write(out, layout, p, k, n, oc, pad[k], scale, mean[k], std[k], dtype);
        continue;
      }
      const x0 = xs.i0[x] * C, x1 = xs.i1[x] * C, wx = xs.w[x];
      const take = (c: number): number => {
        const top = data[y0 + x0 + c] + (data[y0 + x1 + c] - data[y0 + x0 + c]) * wx;
        const bottom = data[y1 + x0 + c] + (data[y1 + x1 + c] - data[y1 + x0 + c]) * wx;
        return Math.round(top + (bottom - top) * wy);
      };
      if (oc === 1) {
        const v = C === 1 ? take(0) : Math.round(0.299 * take(0) + 0.587 * take(1) + 0.114 * take(2));
        write(out, layout, p, 0, n, 1, v, scale, mean[0], std[0], dtype);
      } else {
        px[0] = take(src[0]);
        px[1] = C === 1 ? px[0] : take(src[1]);
        px[2] = C === 1 ? px[0] : take(src[2]);
        for (let k = 0; k < 3; k++) write(out, layout, p, k, n, 3, px[k], scale, mean[k], std[k], dtype);
      }
    }
  }
  const shape = layout === 'nchw' ? [1, oc, oh, ow] : [1, oh, ow, oc];
  const tensor = out instanceof Uint8Array ? new TypedTensor('uint8', out, shape) : new Tensor(out, shape);
  const transform = new ImageTransform(W, H, ow, oh, rw / W, rh / H, dx, dy);
  return { tensor, transform };
}

function write(out: Float32Array | Uint8Array, layout: 'nchw' | 'nhwc', p: number, k: number, n: number, oc: number, v: number, scale: number, mean: number, std: number, dtype: string): void {
  const at = layout === 'nchw' ? k * n + p : p * oc + k;
  // In this order, as the usual `(pixel * scale - mean) / std` preprocessing computes it.
  out[at] = dtype === 'uint8' ? v : (v * scale - mean) / std;
}
