/**
 * Convolution (ONNX Conv, NCHW, weights `[Cout, Cin/group, kH, kW]`) and
 * fully-connected layers (Caffe InnerProduct / ONNX Flatten + Gemm, weights
 * `[outFeatures, inFeatures]`).
 */
import { rangeError } from '../errors';
import { binding, Conv2dArgs, FullyConnectedArgs } from '../native';
import { Tensor, TensorLike, checkTensor, fmtShape } from '../tensor';
import { checkOptions, optEnum, optInt, optPads, optPair } from '../validate';
import { outTensor, nativeSync, runAsync, runSync } from './run';
import { windowOutputSize } from './window';

/** Activation fused into the op's output. */
export type FusedActivation = 'none' | 'relu';

/**
 * How a conv is computed. `'auto'` lets the backend choose (the `auto` backend
 * measures); the others pin one: `'im2col'` (im2col + GEMM on a BLAS backend),
 * NNPACK's `'wt8x8'` (Winograd, 3×3 stride 1), `'ft8x8'`/`'ft16x16'` (FFT),
 * `'implicit_gemm'` and `'direct'` (1×1), `'xnnpack'` (XNNPACK's operator),
 * `'reference'` (plain loops). The active backend must be able to run it.
 */
export type ConvAlgorithm =
  | 'auto' | 'im2col' | 'wt8x8' | 'ft8x8' | 'ft16x16' | 'implicit_gemm' | 'direct' | 'xnnpack' | 'reference';

/** In the order of the native ConvAlgorithm enum (src/backend.h): the index is the ABI value. */
export const CONV_ALGORITHMS: readonly ConvAlgorithm[] = [
  'auto', 'im2col', 'wt8x8', 'ft8x8', 'ft16x16', 'implicit_gemm', 'direct', 'xnnpack', 'reference',
];

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  /** Per output channel, shape `[Cout]`. Default none. */
  bias?: TensorLike;
  /** Step of the window: a number or `[h, w]`. Default 1. */
  strides?: number | [number, number];
  /** Zero padding: a number, `[h, w]` (symmetric) or `[top, left, bottom, right]`. Default 0. */
  pads?: number | [number, number] | [number, number, number, number];
  /** Spacing of kernel taps: a number or `[h, w]`. Default 1. */
  dilations?: number | [number, number];
  /** Channel groups: `Cin` and `Cout` must be divisible by it; `group === Cin` is depthwise. Default 1. */
  group?: number;
  /** Fused activation applied after the bias. Default `'none'`. */
  activation?: FusedActivation;
  /** Pin how the conv is computed (see {@link ConvAlgorithm}). Default `'auto'`. */
  algorithm?: ConvAlgorithm;
  /** Write the result here (shape `[N, Cout, OH, OW]`) instead of a new tensor. */
  out?: TensorLike;
}

/** Options of {@link fullyConnected}. */
export interface FullyConnectedOptions {
  /** Shape `[outFeatures]`. Default none. */
  bias?: TensorLike;
  /** Write the result here (shape `[N, outFeatures]`) instead of a new tensor. */
  out?: TensorLike;
}

const CONV_OPTIONS = new Set(['bias', 'strides', 'pads', 'dilations', 'group', 'activation', 'algorithm', 'out']);
const FC_OPTIONS = new Set(['bias', 'out']);
const ACTIVATIONS: readonly FusedActivation[] = ['none', 'relu'];

/** A `[length]` bias tensor, or null. */
function optBias(op: string, v: unknown, length: number): Float32Array | null {
  if (v === undefined || v === null) return null;
  const b = checkTensor(op, 'bias', v);
  if (b.shape.length !== 1 || b.shape[0] !== length) {
    rangeError(op, `"bias" must have shape ${fmtShape([length])}, got ${fmtShape(b.shape)}`);
  }
  return b.data;
}

function prepareConv2d(xIn: unknown, wIn: unknown, options: Conv2dOptions | undefined): { out: TensorLike; args: Conv2dArgs } {
  const op = 'conv2d';
  const x = checkTensor(op, 'x', xIn);
  const w = checkTensor(op, 'w', wIn);
  if (x.shape.length !== 4) rangeError(op, `"x" must be 4-D [N,C,H,W], got shape ${fmtShape(x.shape)}`);
  if (w.shape.length !== 4) rangeError(op, `"w" must be 4-D [Cout,Cin/group,kH,kW], got shape ${fmtShape(w.shape)}`);
  const opts = checkOptions(op, options, CONV_OPTIONS);
  const [N, Cin, H, W] = x.shape;
  const [Cout, CinG, kH, kW] = w.shape;
  const group = optInt(op, 'group', opts.group, 1, 1);
  if (Cin % group !== 0) rangeError(op, `x.shape[1] (${Cin} input channels) must be divisible by group (${group})`);
  if (CinG !== Cin / group) rangeError(op, `w.shape[1] must equal x.shape[1] / group (${Cin / group}), got ${CinG}`);
  if (Cout % group !== 0) rangeError(op, `w.shape[0] (${Cout} output channels) must be divisible by group (${group})`);
  const [sH, sW] = optPair(op, 'strides', opts.strides, 1, 1);
  const [dH, dW] = optPair(op, 'dilations', opts.dilations, 1, 1);
  const [pT, pL, pB, pR] = optPads(op, 'pads', opts.pads);
  const activation = optEnum(op, 'activation', opts.activation, ACTIVATIONS, 'none');
  const algorithm = CONV_ALGORITHMS.indexOf(optEnum(op, 'algorithm', opts.algorithm, CONV_ALGORITHMS, 'auto'));
  const bias = optBias(op, opts.bias, Cout);
  const OH = windowOutputSize(op, { axis: 'H', input: H, kernel: kH, stride: sH, dilation: dH, padBegin: pT, padEnd: pB });
  const OW = windowOutputSize(op, { axis: 'W', input: W, kernel: kW, stride: sW, dilation: dW, padBegin: pL, padEnd: pR });
  const out = outTensor(op, opts.out, [N, Cout, OH, OW], [['x', x.data], ['w', w.data], ['bias', bias]]);
  return {
    out,
    args: [x.data, w.data, bias, out.data, N, Cin, H, W, Cout, kH, kW, group, sH, sW, dH, dW, pT, pL, pB, pR, activation === 'relu' ? 1 : 0, algorithm],
  };
}

/**
 * 2-D convolution (cross-correlation, as ONNX Conv), optionally with bias and
 * a fused ReLU, on the active backend. Output size per axis:
 * `floor((H + padTop + padBottom - dilation * (kH - 1) - 1) / stride) + 1`.
 * @param x - input `[N, Cin, H, W]`
 * @param w - weights `[Cout, Cin / group, kH, kW]`
 * @param options - bias, strides, pads, dilations, group, activation, algorithm, out
 * @returns `[N, Cout, OH, OW]` (`out` when given)
 * @throws {TypeError} for a non-tensor, a non-float32 tensor, an unknown option or a wrongly typed one
 * @throws {RangeError} for wrong ranks, channels that do not match `group`, hyperparameters
 *   that are not integers in range, a kernel larger than the padded input, a wrong bias or `out`
 * @example
 * const y = nn.conv2d(x, w, { bias, pads: 1, activation: 'relu' }); // 3x3 "same" conv
 */
export function conv2d(x: TensorLike, w: TensorLike, options?: Conv2dOptions): Tensor {
  const c = prepareConv2d(x, w, options);
  return runSync('conv2d', c.out, () => nativeSync('conv2d', ...c.args));
}

/**
 * {@link conv2d} on the libuv thread pool; inputs stay referenced until the
 * promise settles. Argument errors reject.
 * @example
 * const y = await nn.async.conv2d(x, w, { strides: 2 });
 */
export async function conv2dAsync(x: TensorLike, w: TensorLike, options?: Conv2dOptions): Promise<Tensor> {
  const c = prepareConv2d(x, w, options);
  return runAsync('conv2d', c.out, () => binding.conv2d(...c.args));
}

function prepareFullyConnected(xIn: unknown, wIn: unknown, options: FullyConnectedOptions | undefined): { out: TensorLike; args: FullyConnectedArgs } {
  const op = 'fullyConnected';
  const x = checkTensor(op, 'x', xIn);
  const w = checkTensor(op, 'w', wIn);
  if (x.shape.length < 2) rangeError(op, `"x" must have rank >= 2 ([N, features...]), got shape ${fmtShape(x.shape)}`);
  if (w.shape.length !== 2) rangeError(op, `"w" must be 2-D [outFeatures,inFeatures], got shape ${fmtShape(w.shape)}`);
  const opts = checkOptions(op, options, FC_OPTIONS);
  const N = x.shape[0];
  const inFeatures = x.data.length / N;
  const [outFeatures, wIn1] = w.shape;
  if (wIn1 !== inFeatures) {
    rangeError(op, `w.shape[1] must equal the features per sample of x (product of x.shape[1..] = ${inFeatures}), got ${wIn1}`);
  }
  const bias = optBias(op, opts.bias, outFeatures);
  const out = outTensor(op, opts.out, [N, outFeatures], [['x', x.data], ['w', w.data], ['bias', bias]]);
  return { out, args: [x.data, w.data, bias, out.data, N, inFeatures, outFeatures] };
}

/**
 * Fully-connected layer: `y = x · wᵀ + bias`. `x` of rank > 2 is flattened
 * to `[N, product of the other dims]` first (ONNX Flatten(axis 1) + Gemm, as
 * Caffe's InnerProduct), so a `[N, C, H, W]` feature map feeds it directly.
 * @param x - `[N, inFeatures]`, or `[N, ...]` whose trailing dims multiply to inFeatures
 * @param w - `[outFeatures, inFeatures]`
 * @param options - bias, out
 * @returns `[N, outFeatures]` (`out` when given)
 * @throws {TypeError} for a non-tensor, a non-float32 tensor or an unknown option
 * @throws {RangeError} for wrong ranks, feature counts that differ, a wrong bias or `out`
 * @example
 * const logits = nn.fullyConnected(features, w, { bias });
 */
export function fullyConnected(x: TensorLike, w: TensorLike, options?: FullyConnectedOptions): Tensor {
  const c = prepareFullyConnected(x, w, options);
  return runSync('fullyConnected', c.out, () => nativeSync('fullyConnected', ...c.args));
}

/**
 * {@link fullyConnected} on the libuv thread pool. Argument errors reject.
 * @example
 * const logits = await nn.async.fullyConnected(features, w, { bias });
 */
export async function fullyConnectedAsync(x: TensorLike, w: TensorLike, options?: FullyConnectedOptions): Promise<Tensor> {
  const c = prepareFullyConnected(x, w, options);
  return runAsync('fullyConnected', c.out, () => binding.fullyConnected(...c.args));
}
