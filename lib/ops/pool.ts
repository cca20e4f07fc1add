/**
 * Pooling over NCHW images (ONNX MaxPool, AveragePool, GlobalAveragePool).
 */
import { rangeError } from '../errors';
import { binding, Pool2dArgs } from '../native';
import { Tensor, TensorLike, checkTensor, fmtShape } from '../tensor';
import { checkOptions, optBool, optPads, optPair } from '../validate';
import { outTensor, nativeSync, runAsync, runSync } from './run';
import { WindowAxis, windowOutputSize } from './window';

/** Options of {@link maxPool2d}. Defaults are ONNX MaxPool's. */
export interface MaxPool2dOptions {
  /** Window size: a number or `[h, w]`. Required. */
  kernel: number | [number, number];
  /** Step of the window: a number or `[h, w]`. Default 1. */
  strides?: number | [number, number];
  /** Padding (never wins a max): a number, `[h, w]` or `[top, left, bottom, right]`; each below the kernel extent. Default 0. */
  pads?: number | [number, number] | [number, number, number, number];
  /** Spacing of window taps: a number or `[h, w]`. Default 1. */
  dilations?: number | [number, number];
  /** Round the output size up (ONNX `ceil_mode`). Default false. */
  ceil?: boolean;
  /** Write the result here instead of a new tensor. */
  out?: TensorLike;
}

/** Options of {@link avgPool2d}. Defaults are ONNX AveragePool's. */
export interface AvgPool2dOptions {
  /** Window size: a number or `[h, w]`. Required. */
  kernel: number | [number, number];
  /** Step of the window: a number or `[h, w]`. Default 1. */
  strides?: number | [number, number];
  /** Zero padding: a number, `[h, w]` or `[top, left, bottom, right]`; each below the kernel size. Default 0. */
  pads?: number | [number, number] | [number, number, number, number];
  /** Round the output size up (ONNX `ceil_mode`). Default false. */
  ceil?: boolean;
  /**
   * Divide by the whole window inside the padded input (true) or by the input
   * cells only (false, ONNX's default). Cells that ceil mode adds past the end
   * padding are never counted.
   */
  countIncludePad?: boolean;
  /** Write the result here instead of a new tensor. */
  out?: TensorLike;
}

/** Options of {@link globalAvgPool}. */
export interface GlobalAvgPoolOptions {
  /** Write the result (shape `[N, C, 1, 1]`) here instead of a new tensor. */
  out?: TensorLike;
}

const MAX_OPTIONS = new Set(['kernel', 'strides', 'pads', 'dilations', 'ceil', 'out']);
const AVG_OPTIONS = new Set(['kernel', 'strides', 'pads', 'ceil', 'countIncludePad', 'out']);
const GLOBAL_OPTIONS = new Set(['out']);

const KIND_MAX = 0;
const KIND_AVG = 1;
const KIND_GLOBAL_AVG = 2;

interface Prepared {
  out: TensorLike;
  args: Pool2dArgs;
}

function checkImage(op: string, xIn: unknown): TensorLike {
  const x = checkTensor(op, 'x', xIn);
  if (x.shape.length !== 4) rangeError(op, `"x" must be 4-D [N,C,H,W], got shape ${fmtShape(x.shape)}`);
  return x;
}

function outputSize(op: string, a: WindowAxis, ceil: boolean): number {
  const extent = a.dilation * (a.kernel - 1) + 1;
  // A pad as wide as the window would make windows of padding only.
  if (a.padBegin >= extent || a.padEnd >= extent) {
    rangeError(op, `pads along ${a.axis} (${a.padBegin}, ${a.padEnd}) must be smaller than the kernel extent (${extent})`);
  }
  return windowOutputSize(op, a, ceil);
}

function preparePool(op: string, kind: number, xIn: unknown, options: MaxPool2dOptions | AvgPool2dOptions | undefined): Prepared {
  const x = checkImage(op, xIn);
  const opts = checkOptions(op, options, kind === KIND_MAX ? MAX_OPTIONS : AVG_OPTIONS) as Partial<MaxPool2dOptions & AvgPool2dOptions>;
  const [kH, kW] = optPair(op, 'kernel', opts.kernel, 1);
  const [sH, sW] = optPair(op, 'strides', opts.strides, 1, 1);
  const [dH, dW] = optPair(op, 'dilations', opts.dilations, 1, 1);
  const [pT, pL, pB, pR] = optPads(op, 'pads', opts.pads);
  const ceil = optBool(op, 'ceil', opts.ceil);
  const countIncludePad = optBool(op, 'countIncludePad', opts.countIncludePad);
  const [N, C, H, W] = x.shape;
  const OH = outputSize(op, { axis: 'H', input: H, kernel: kH, stride: sH, dilation: dH, padBegin: pT, padEnd: pB }, ceil);
  const OW = outputSize(op, { axis: 'W', input: W, kernel: kW, stride: sW, dilation: dW, padBegin: pL, padEnd: pR }, ceil);
  const out = outTensor(op, opts.out, [N, C, OH, OW], [['x', x.data]]);
  const flags = (ceil ? 1 : 0) | (countIncludePad ? 2 : 0);
  return { out, args: [x.data, out.data, kind, N, C, H, W, kH, kW, sH, sW, dH, dW, pT, pL, pB, pR, flags] };
}

function prepareGlobal(xIn: unknown, options: GlobalAvgPoolOptions | undefined): Prepared {
  const op = 'globalAvgPool';
  const x = checkImage(op, xIn);
  const opts = checkOptions(op, options, GLOBAL_OPTIONS);
  const [N, C, H, W] = x.shape;
  const out = outTensor(op, opts.out, [N, C, 1, 1], [['x', x.data]]);
  return { out, args: [x.data, out.data, KIND_GLOBAL_AVG, N, C, H, W, H, W, 1, 1, 1, 1, 0, 0, 0, 0, 0] };
}

/**
 * Max pooling (ONNX MaxPool): padded cells never win; NaN propagates.
 * Output size per axis: `floor((H + pads - dilation * (k - 1) - 1) / stride) + 1`,
 * or with `ceil` rounded up, the last window starting inside the input or the top/left padding.
 * @param x - `[N, C, H, W]`
 * @param options - kernel (required), strides, pads, dilations, ceil, out
 * @returns `[N, C, OH, OW]` (`out` when given)
 * @throws {TypeError} for a non-tensor, a missing kernel, an unknown or wrongly typed option
 * @throws {RangeError} for a wrong rank, hyperparameters out of range, pads not below the kernel extent, a wrong `out`
 * @example
 * const y = nn.maxPool2d(x, { kernel: 2, strides: 2 });
 */
export function maxPool2d(x: TensorLike, options: MaxPool2dOptions): Tensor {
  const p = preparePool('maxPool2d', KIND_MAX, x, options);
  return runSync('maxPool2d', p.out, () => nativeSync('pool2d', ...p.args));
}

/**
 * {@link maxPool2d} on the libuv thread pool. Argument errors reject.
 * @example
 * const y = await nn.async.maxPool2d(x, { kernel: 3, strides: 2, pads: 1 });
 */
export async function maxPool2dAsync(x: TensorLike, options: MaxPool2dOptions): Promise<Tensor> {
  const p = preparePool('maxPool2d', KIND_MAX, x, options);
  return runAsync('maxPool2d', p.out, () => binding.pool2d(...p.args));
}

/**
 * Average pooling (ONNX AveragePool). By default the divisor counts input
 * cells only (`countIncludePad: false`, ONNX's default).
 * @param x - `[N, C, H, W]`
 * @param options - kernel (required), strides, pads, ceil, countIncludePad, out
 * @returns `[N, C, OH, OW]` (`out` when given)
 * @throws {TypeError} for a non-tensor, a missing kernel, an unknown or wrongly typed option
 * @throws {RangeError} for a wrong rank, hyperparameters out of range, pads not below the kernel size, a wrong `out`
 * @example
 * const y = nn.avgPool2d(x, { kernel: 3, strides: 1, pads: 1, countIncludePad: true });
 */
export function avgPool2d(x: TensorLike, options: AvgPool2dOptions): Tensor {
  const p = preparePool('avgPool2d', KIND_AVG, x, options);
  return runSync('avgPool2d', p.out, () => nativeSync('pool2d', ...p.args));
}

/**
 * {@link avgPool2d} on the libuv thread pool. Argument errors reject.
 * @example
 * const y = await nn.async.avgPool2d(x, { kernel: 2, strides: 2 });
 */
export async function avgPool2dAsync(x: TensorLike, options: AvgPool2dOptions): Promise<Tensor> {
  const p = preparePool('avgPool2d', KIND_AVG, x, options);
  return runAsync('avgPool2d', p.out, () => binding.pool2d(...p.args));
}

/**
 * Mean over each channel's whole image (ONNX GlobalAveragePool).
 * @param x - `[N, C, H, W]`
 * @param options - out
 * @returns `[N, C, 1, 1]` (`out` when given)
 * @throws {TypeError} for a non-tensor or an unknown option
 * @throws {RangeError} for a wrong rank or a wrong `out`
 * @example
 * const pooled = nn.globalAvgPool(features); // [N, C, 1, 1]
 */
export function globalAvgPool(x: TensorLike, options?: GlobalAvgPoolOptions): Tensor {
  const p = prepareGlobal(x, options);
  return runSync('globalAvgPool', p.out, () => nativeSync('pool2d', ...p.args));
}

/**
 * {@link globalAvgPool} on the libuv thread pool. Argument errors reject.
 * @example
 * const pooled = await nn.async.globalAvgPool(features);
 */
export async function globalAvgPoolAsync(x: TensorLike, options?: GlobalAvgPoolOptions): Promise<Tensor> {
  const p = prepareGlobal(x, options);
  return runAsync('globalAvgPool', p.out, () => binding.pool2d(...p.args));
}
