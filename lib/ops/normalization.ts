/**
 * Inference-time normalization over the channel axis (axis 1) of `[N, C, ...]`
 * input: batchNorm (ONNX BatchNormalization, inference mode) and lrn (ONNX
 * LRN, across channels).
 */
import { rangeError, typeError } from '../errors';
import { binding } from '../native';
import { Tensor, TensorLike, checkTensor, fmtShape } from '../tensor';
import { checkOptions, optFinite } from '../validate';
import { dimsArgs, outArg } from './common';
import { nativeSync, runAsync, runSync } from './run';
import type { OutOptions } from './elementwise';

/** Options of {@link batchNorm}: the four per-channel tensors are required, each of shape `[C]`. */
export interface BatchNormOptions extends OutOptions {
  scale: TensorLike;
  bias: TensorLike;
  mean: TensorLike;
  variance: TensorLike;
  /** Added to the variance; finite, >= 0. Default 1e-5. */
  epsilon?: number;
}

/** Options of {@link lrn}. */
export interface LrnOptions extends OutOptions {
  /** Number of channels summed over (required; a positive integer). */
  size: number;
  /** Default 1e-4. */
  alpha?: number;
  /** Default 0.75. */
  beta?: number;
  /** Default 1. */
  bias?: number;
}

const BATCH_NORM_OPTIONS = new Set(['scale', 'bias', 'mean', 'variance', 'epsilon', 'out']);
const LRN_OPTIONS = new Set(['size', 'alpha', 'beta', 'bias', 'out']);
const CHANNEL_PARAMS = ['scale', 'bias', 'mean', 'variance'] as const;

function channelInput(op: string, xIn: unknown): TensorLike {
  const x = checkTensor(op, 'x', xIn);
  if (x.shape.length < 2) rangeError(op, `"x" must have rank >= 2 [N,C,...], got shape ${fmtShape(x.shape)}`);
  return x;
}

function requireOptions<T extends object>(op: string, options: T | undefined, allowed: ReadonlySet<string>): Partial<T> {
  if (options === undefined) typeError(op, 'options', 'an object', options);
  return checkOptions(op, options, allowed);
}

interface BatchNormPlan {
  x: TensorLike;
  params: Float32Array[];  // scale, bias, mean, variance
  epsilon: number;
  out: TensorLike;
}

function prepareBatchNorm(xIn: unknown, options: BatchNormOptions | undefined): BatchNormPlan {
  const op = 'batchNorm';
  const x = channelInput(op, xIn);
  const opts = requireOptions(op, options, BATCH_NORM_OPTIONS);
  const C = x.shape[1];
  const params = CHANNEL_PARAMS.map((name) => {
    const t = checkTensor(op, name, opts[name]);
    if (t.shape.length !== 1 || t.shape[0] !== C) {
      rangeError(op, `"${name}" must have shape [C] = ${fmtShape([C])}, got ${fmtShape(t.shape)}`);
    }
    return t.data;
  });
  const epsilon = optFinite(op, 'epsilon', opts.epsilon, 1e-5);
  if (epsilon < 0) rangeError(op, `"epsilon" must be >= 0, got ${epsilon}`);
  const out = outArg(op, opts.out, x.shape, [
    { name: 'x', data: x.data, sameAllowed: true },
    ...CHANNEL_PARAMS.map((name, i) => ({ name, data: params[i], sameAllowed: false })),
  ]);
  return { x, params, epsilon, out };
}

/**
 * Batch normalization, inference mode, per channel (axis 1):
 * `y = scale * (x - mean) / sqrt(variance + epsilon) + bias`.
 * @param x - `[N, C, ...]` (rank >= 2)
 * @param options - `scale`, `bias`, `mean`, `variance` (each `[C]`, required), `epsilon`, `out` (may be `x`)
 * @throws {TypeError} for missing or non-tensor parameters, or an unknown option
 * @throws {RangeError} for parameters not of shape `[C]`, a NaN/infinite/negative epsilon, a bad `out`
 * @example
 * const y = nn.batchNorm(x, { scale, bias, mean, variance });
 */
export function batchNorm(x: TensorLike, options: BatchNormOptions): Tensor {
  const p = prepareBatchNorm(x, options);
  const [s, b, m, v] = p.params;
  return runSync('batchNorm', p.out, () => nativeSync('batchNorm', p.x.data, s, b, m, v, p.out.data, p.epsilon, ...dimsArgs(p.x.shape)));
}

/** {@link batchNorm} on the libuv pool. */
export async function batchNormAsync(x: TensorLike, options: BatchNormOptions): Promise<Tensor> {
  const p = prepareBatchNorm(x, options);
  const [s, b, m, v] = p.params;
  return runAsync('batchNorm', p.out, () => binding.batchNorm(p.x.data, s, b, m, v, p.out.data, p.epsilon, ...dimsArgs(p.x.shape)));
}

interface LrnPlan {
  x: TensorLike;
  size: number;
  alpha: number;
  beta: number;
  bias: number;
  out: TensorLike;
}

function prepareLrn(xIn: unknown, options: LrnOptions | undefined): LrnPlan {
  const op = 'lrn';
  const x = channelInput(op, xIn);
  const opts = requireOptions(op, options, LRN_OPTIONS);
  const size: unknown = opts.size;
  if (typeof size !== 'number') typeError(op, 'size', 'a positive integer', size);
  if (!Number.isInteger(size) || size < 1 || size > 0x7fffffff) {
    rangeError(op, `"size" must be a positive integer, got ${String(size)}`);
  }
  const alpha = optFinite(op, 'alpha', opts.alpha, 1e-4);
  const beta = optFinite(op, 'beta', opts.beta, 0.75);
  const bias = optFinite(op, 'bias', opts.bias, 1);
  const out = outArg(op, opts.out, x.shape, [{ name: 'x', data: x.data, sameAllowed: false }]);
  return { x, size, alpha, beta, bias, out };
}

/**
 * Local response normalization across channels (ONNX LRN):
 * `y = x / (bias + alpha / size * sum(x[c']^2))^beta`, the sum over channels
 * `c - floor((size-1)/2) .. c + ceil((size-1)/2)` that exist.
 * @param x - `[N, C, ...]` (rank >= 2), usually NCHW
 * @param options - `size` (required), `alpha` (1e-4), `beta` (0.75), `bias` (1), `out` (must not overlap `x`)
 * @throws {TypeError} for a missing `size` or an unknown option
 * @throws {RangeError} for a non-positive or fractional `size`, NaN/infinite hyperparameters, a bad `out`
 * @example
 * const y = nn.lrn(x, { size: 5, alpha: 1e-4, beta: 0.75, bias: 2 }); // AlexNet
 */
export function lrn(x: TensorLike, options: LrnOptions): Tensor {
  const p = prepareLrn(x, options);
  return runSync('lrn', p.out, () => nativeSync('lrn', p.x.data, p.out.data, p.size, p.alpha, p.beta, p.bias, ...dimsArgs(p.x.shape)));
}

/** {@link lrn} on the libuv pool. */
export async function lrnAsync(x: TensorLike, options: LrnOptions): Promise<Tensor> {
  const p = prepareLrn(x, options);
  return runAsync('lrn', p.out, () => binding.lrn(p.x.data, p.out.data, p.size, p.alpha, p.beta, p.bias, ...dimsArgs(p.x.shape)));
}
