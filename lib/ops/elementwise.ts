/**
 * Elementwise ops: activations (relu, leakyRelu, sigmoid, tanh, clip, prelu),
 * softmax/logSoftmax along an axis, and add/mul with numpy broadcasting.
 * ONNX (opset 13) semantics. Ops that compute each output element from the
 * same input element accept `out` equal to that input (in place).
 */
import { rangeError, typeError } from '../errors';
import { binding } from '../native';
import { Tensor, TensorLike, checkTensor, fmtShape } from '../tensor';
import { axisArg, checkOptions, optFinite } from '../validate';
import { dimsArgs, outArg } from './common';
import { nativeSync, runAsync, runSync } from './run';

/** The `out` option every op takes. */
export interface OutOptions {
  /** Write the result here (exactly the result's shape) instead of a new tensor. */
  out?: TensorLike;
}

/** Options of {@link softmax} and {@link logSoftmax}. */
export interface SoftmaxOptions extends OutOptions {
  /** The axis to normalize along; negative counts from the end. Default -1. */
  axis?: number;
}

const OUT_OPTIONS = new Set(['out']);
const SOFTMAX_OPTIONS = new Set(['axis', 'out']);

// ---------------------------------------------------------------- unary ---

const enum UnaryKind {
  Relu = 0,
  LeakyRelu = 1,
  Sigmoid = 2,
  Tanh = 3,
  Clip = 4,
}

interface UnaryPlan {
  x: TensorLike;
  out: TensorLike;
  kind: UnaryKind;
  alpha: number;
  min: number;
  max: number;
}

function prepareUnary(op: string, xIn: unknown, kind: UnaryKind, options: OutOptions | undefined, alpha = 0, min = 0, max = 0): UnaryPlan {
  const x = checkTensor(op, 'x', xIn);
  const opts = checkOptions(op, options, OUT_OPTIONS);
  const out = outArg(op, opts.out, x.shape, [{ name: 'x', data: x.data, sameAllowed: true }]);
  return { x, out, kind, alpha, min, max };
}

function clipBound(op: string, name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number') typeError(op, name, 'a number', v);
  if (Number.isNaN(v)) rangeError(op, `"${name}" must not be NaN`);
  return v;
}

function prepareClip(xIn: unknown, minIn: unknown, maxIn: unknown, options: OutOptions | undefined): UnaryPlan {
  const min = clipBound('clip', 'min', minIn, -Infinity);
  const max = clipBound('clip', 'max', maxIn, Infinity);
  if (min > max) rangeError('clip', `"min" (${min}) must not exceed "max" (${max})`);
  return prepareUnary('clip', xIn, UnaryKind.Clip, options, 0, min, max);
}

const unarySync = (op: string, p: UnaryPlan): Tensor =>
  runSync(op, p.out, () => nativeSync('unary', p.x.data, p.out.data, p.kind, p.alpha, p.min, p.max));
const unaryAsync = (op: string, p: UnaryPlan): Promise<Tensor> =>
  runAsync(op, p.out, () => binding.unary(p.x.data, p.out.data, p.kind, p.alpha, p.min, p.max));

/**
 * Rectified linear unit: `max(x, 0)`, elementwise.
 * @param x - any shape
 * @param options - `out` (may be `x` itself: in place)
 * @returns a tensor of x's shape (`out` when given)
 * @throws {TypeError} for a non-tensor `x` or `out`, or an unknown option
 * @throws {RangeError} for an `out` of another shape, or one partly overlapping `x`
 * @example
 * nn.relu(x, { out: x }); // in place
 */
export function relu(x: TensorLike, options?: OutOptions): Tensor {
  return unarySync('relu', prepareUnary('relu', x, UnaryKind.Relu, options));
}

/**
 * Leaky ReLU: `x >= 0 ? x : alpha * x`, elementwise.
 * @param alpha - slope for negative inputs, finite; default 0.01
 * @throws {RangeError} for a NaN or infinite `alpha`, or a bad `out`
 * @example
 * const y = nn.leakyRelu(x, 0.1);
 */
export function leakyRelu(x: TensorLike, alpha?: number, options?: OutOptions): Tensor {
  const a = optFinite('leakyRelu', 'alpha', alpha, 0.01);
  return unarySync('leakyRelu', prepareUnary('leakyRelu', x, UnaryKind.LeakyRelu, options, a));
}

/**
 * Logistic sigmoid `1 / (1 + exp(-x))`, elementwise.
 * @example
 * const p = nn.sigmoid(logits);
 */
export function sigmoid(x: TensorLike, options?: OutOptions): Tensor {
  return unarySync('sigmoid', prepareUnary('sigmoid', x, UnaryKind.Sigmoid, options));
}

/**
 * Hyperbolic tangent, elementwise.
 * @example
 * const y = nn.tanh(x);
 */
export function tanh(x: TensorLike, options?: OutOptions): Tensor {
  return unarySync('tanh', prepareUnary('tanh', x, UnaryKind.Tanh, options));
}

/**
 * Clamps each element to `[min, max]` (ONNX Clip; NaN stays NaN).
 * @param min - lower bound, default -Infinity (±Infinity allowed)
 * @param max - upper bound, default +Infinity
 * @throws {RangeError} when a bound is NaN or `min > max`
 * @example
 * const relu6 = nn.clip(x, 0, 6);
 */
export function clip(x: TensorLike, min?: number, max?: number, options?: OutOptions): Tensor {
  return unarySync('clip', prepareClip(x, min, max, options));
}

/** {@link relu} on the libuv pool. */
export async function reluAsync(x: TensorLike, options?: OutOptions): Promise<Tensor> {
  return unaryAsync('relu', prepareUnary('relu', x, UnaryKind.Relu, options));
}

/** {@link leakyRelu} on the libuv pool. */
export async function leakyReluAsync(x: TensorLike, alpha?: number, options?: OutOptions): Promise<Tensor> {
  const a = optFinite('leakyRelu', 'alpha', alpha, 0.01);
  return unaryAsync('leakyRelu', prepareUnary('leakyRelu', x, UnaryKind.LeakyRelu, options, a));
}

/** {@link sigmoid} on the libuv pool. */
export async function sigmoidAsync(x: TensorLike, options?: OutOptions): Promise<Tensor> {
  return unaryAsync('sigmoid', prepareUnary('sigmoid', x, UnaryKind.Sigmoid, options));
}

/** {@link tanh} on the libuv pool. */
export async function tanhAsync(x: TensorLike, options?: OutOptions): Promise<Tensor> {
  return unaryAsync('tanh', prepareUnary('tanh', x, UnaryKind.Tanh, options));
}

/** {@link clip} on the libuv pool. */
export async function clipAsync(x: TensorLike, min?: number, max?: number, options?: OutOptions): Promise<Tensor> {
  return unaryAsync('clip', prepareClip(x, min, max, options));
}

// ---------------------------------------------------------- broadcasting ---

/**
 * Numpy (multidirectional) broadcast of two shapes, or undefined when they
 * do not broadcast. Shapes align at their last dimension.
 */
function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out[i] = Math.max(da, db);
  }
  return out;
}

// ---------------------------------------------------------------- prelu ---

interface PreluPlan {
  x: TensorLike;
  slope: TensorLike;
  out: TensorLike;
}

function preparePrelu(xIn: unknown, slopeIn: unknown, options: OutOptions | undefined): PreluPlan {
  const x = checkTensor('prelu', 'x', xIn);
  const slope = checkTensor('prelu', 'slope', slopeIn);
  const b = broadcastShapes(x.shape, slope.shape);
  if (b === undefined || b.length !== x.shape.length || b.some((d, i) => d !== x.shape[i])) {
    rangeError('prelu', `"slope" of shape ${fmtShape(slope.shape)} does not broadcast to x ${fmtShape(x.shape)}`);
  }
  const opts = checkOptions('prelu', options, OUT_OPTIONS);
  const out = outArg('prelu', opts.out, x.shape, [
    { name: 'x', data: x.data, sameAllowed: true },
    { name: 'slope', data: slope.data, sameAllowed: false },
  ]);
  return { x, slope, out };
}

/**
 * Parametric ReLU (ONNX PRelu): `x < 0 ? slope * x : x`, with `slope`
 * broadcast to x's shape numpy-style, aligned at the last dimension. For a
 * per-channel slope on NCHW input use shape `[C, 1, 1]`; `[C]` suits `[N, C]`
 * input; a scalar (`[]` or `[1]`) applies everywhere.
 * @param slope - broadcastable to `x` (unidirectionally)
 * @throws {RangeError} when `slope` does not broadcast to `x`, or for a bad `out`
 * @example
 * const y = nn.prelu(x, nn.tensor(new Float32Array([0.1, 0.2, 0.3]), [3, 1, 1]));
 */
export function prelu(x: TensorLike, slope: TensorLike, options?: OutOptions): Tensor {
  const p = preparePrelu(x, slope, options);
  return runSync('prelu', p.out, () => nativeSync('prelu', p.x.data, p.slope.data, p.out.data, ...dimsArgs(p.x.shape), ...dimsArgs(p.slope.shape)));
}

/** {@link prelu} on the libuv pool. */
export async function preluAsync(x: TensorLike, slope: TensorLike, options?: OutOptions): Promise<Tensor> {
  const p = preparePrelu(x, slope, options);
  return runAsync('prelu', p.out, () => binding.prelu(p.x.data, p.slope.data, p.out.data, ...dimsArgs(p.x.shape), ...dimsArgs(p.slope.shape)));
}

// -------------------------------------------------------------- softmax ---

interface SoftmaxPlan {
  x: TensorLike;
  out: TensorLike;
  axis: number;
}

function prepareSoftmax(op: string, xIn: unknown, options: SoftmaxOptions | undefined): SoftmaxPlan {
  const x = checkTensor(op, 'x', xIn);
  const opts = checkOptions(op, options, SOFTMAX_OPTIONS);
  if (x.shape.length === 0) rangeError(op, '"x" must have rank >= 1, got a scalar');
  const axis = axisArg(op, 'axis', opts.axis ?? -1, x.shape.length);
  const out = outArg(op, opts.out, x.shape, [{ name: 'x', data: x.data, sameAllowed: true }]);
  return { x, out, axis };
}

/**
 * Softmax along one axis (ONNX opset 13): `exp(x - max) / sum(exp(x - max))`,
 * so large inputs do not overflow.
 * @param options - `axis` (default -1, negative counts from the end), `out` (may be `x`)
 * @throws {RangeError} for an axis outside [-rank, rank) or a bad `out`
 * @example
 * const p = nn.softmax(logits, { axis: 1 });
 */
export function softmax(x: TensorLike, options?: SoftmaxOptions): Tensor {
  const p = prepareSoftmax('softmax', x, options);
  return runSync('softmax', p.out, () => nativeSync('softmax', p.x.data, p.out.data, 0, p.axis, ...dimsArgs(p.x.shape)));
}

/**
 * Log of softmax along one axis (ONNX opset 13), computed as
 * `x - max - log(sum(exp(x - max)))`.
 * @example
 * const lp = nn.logSoftmax(logits);
 */
export function logSoftmax(x: TensorLike, options?: SoftmaxOptions): Tensor {
  const p = prepareSoftmax('logSoftmax', x, options);
  return runSync('logSoftmax', p.out, () => nativeSync('softmax', p.x.data, p.out.data, 1, p.axis, ...dimsArgs(p.x.shape)));
}

/** {@link softmax} on the libuv pool. */
export async function softmaxAsync(x: TensorLike, options?: SoftmaxOptions): Promise<Tensor> {
  const p = prepareSoftmax('softmax', x, options);
  return runAsync('softmax', p.out, () => binding.softmax(p.x.data, p.out.data, 0, p.axis, ...dimsArgs(p.x.shape)));
}

/** {@link logSoftmax} on the libuv pool. */
export async function logSoftmaxAsync(x: TensorLike, options?: SoftmaxOptions): Promise<Tensor> {
  const p = prepareSoftmax('logSoftmax', x, options);
  return runAsync('logSoftmax', p.out, () => binding.softmax(p.x.data, p.out.data, 1, p.axis, ...dimsArgs(p.x.shape)));
}

// --------------------------------------------------- add, mul, sub, div ---

const enum BinaryKind {
  Add = 0,
  Mul = 1,
  Sub = 2,
  Div = 3,
}

interface BinaryPlan {
  a: TensorLike;
  b: TensorLike;
  out: TensorLike;
  kind: BinaryKind;
}

function prepareBinary(op: string, kind: BinaryKind, aIn: unknown, bIn: unknown, options: OutOptions | undefined): BinaryPlan {
  const a = checkTensor(op, 'a', aIn);
  const b = checkTensor(op, 'b', bIn);
  const shape = broadcastShapes(a.shape, b.shape);
  if (shape === undefined) rangeError(op, `shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not broadcast`);
  const opts = checkOptions(op, options, OUT_OPTIONS);
  const out = outArg(op, opts.out, shape, [
    { name: 'a', data: a.data, sameAllowed: true },
    { name: 'b', data: b.data, sameAllowed: true },
  ]);
  return { a, b, out, kind };
}

const binarySync = (op: string, p: BinaryPlan): Tensor =>
  runSync(op, p.out, () => nativeSync('binary', p.a.data, p.b.data, p.out.data, p.kind, ...dimsArgs(p.a.shape), ...dimsArgs(p.b.shape)));
const binaryAsync = (op: string, p: BinaryPlan): Promise<Tensor> =>
  runAsync(op, p.out, () => binding.binary(p.a.data, p.b.data, p.out.data, p.kind, ...dimsArgs(p.a.shape), ...dimsArgs(p.b.shape)));

/**
 * Elementwise sum with numpy broadcasting (ONNX Add): the result's shape is
 * the broadcast of both shapes, aligned at the last dimension.
 * @param options - `out` (may be `a` or `b` when that one has the result's shape)
 * @throws {RangeError} naming both shapes when they do not broadcast, or for a bad `out`
 * @example
 * const y = nn.add(x, nn.tensor(bias, [1, C, 1, 1]));
 */
export function add(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor {
  return binarySync('add', prepareBinary('add', BinaryKind.Add, a, b, options));
}

/**
 * Elementwise product with numpy broadcasting (ONNX Mul).
 * @throws {RangeError} naming both shapes when they do not broadcast, or for a bad `out`
 * @example
 * const y = nn.mul(x, nn.tensor(new Float32Array([0.5]), []));
 */
export function mul(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor {
  return binarySync('mul', prepareBinary('mul', BinaryKind.Mul, a, b, options));
}

/** {@link add} on the libuv pool. */
export async function addAsync(a: TensorLike, b: TensorLike, options?: OutOptions): Promise<Tensor> {
  return binaryAsync('add', prepareBinary('add', BinaryKind.Add, a, b, options));
}

/** {@link mul} on the libuv pool. */
export async function mulAsync(a: TensorLike, b: TensorLike, options?: OutOptions): Promise<Tensor> {
  return binaryAsync('mul', prepareBinary('mul', BinaryKind.Mul, a, b, options));
}

/**
 * Elementwise difference `a - b` with numpy broadcasting (ONNX Sub).
 * @throws {RangeError} naming both shapes when they do not broadcast, or for a bad `out`
 * @example
 * const centred = nn.sub(x, nn.tensor(mean, [1, C, 1, 1]));
 */
export function sub(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor {
  return binarySync('sub', prepareBinary('sub', BinaryKind.Sub, a, b, options));
}

/**
 * Elementwise quotient `a / b` with numpy broadcasting (ONNX Div); IEEE
 * semantics (x / 0 is ±Infinity or NaN).
 * @throws {RangeError} naming both shapes when they do not broadcast, or for a bad `out`
 * @example
 * const scaled = nn.div(x, nn.tensor(std, [1, C, 1, 1]));
 */
export function div(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor {
  return binarySync('div', prepareBinary('div', BinaryKind.Div, a, b, options));
}

/** {@link sub} on the libuv pool. */
export async function subAsync(a: TensorLike, b: TensorLike, options?: OutOptions): Promise<Tensor> {
  return binaryAsync('sub', prepareBinary('sub', BinaryKind.Sub, a, b, options));
}

/** {@link div} on the libuv pool. */
export async function divAsync(a: TensorLike, b: TensorLike, options?: OutOptions): Promise<Tensor> {
  return binaryAsync('div', prepareBinary('div', BinaryKind.Div, a, b, options));
}
