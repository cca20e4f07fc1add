// Argument errors of batchNorm and lrn, thrown before any native work.
import * as nn from '../../lib';

const t = (shape: number[]): nn.Tensor => nn.tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
const x = t([2, 3, 4, 4]);
const c3 = (): nn.Tensor => t([3]);
const p = { scale: c3(), bias: c3(), mean: c3(), variance: c3() };

const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
  ['batchNorm: options missing', () => nn.batchNorm(x, undefined as never), TypeError, /batchNorm: expected "options" to be an object, received undefined/],
  ['batchNorm: x rank 1', () => nn.batchNorm(t([3]), p), RangeError, /batchNorm: "x" must have rank >= 2 \[N,C,...\], got shape \[3\]/],
  ['batchNorm: x a Float64Array', () => nn.batchNorm({ data: new Float64Array(96), shape: [2, 3, 4, 4] } as never, p), TypeError, /batchNorm: expected "x" to be a float32 Tensor, received Float64Array/],
  ['batchNorm: scale missing', () => nn.batchNorm(x, { ...p, scale: undefined } as never), TypeError, /batchNorm: expected "scale" to be a float32 Tensor, received undefined/],
  ['batchNorm: mean of the wrong length', () => nn.batchNorm(x, { ...p, mean: t([4]) }), RangeError, /batchNorm: "mean" must have shape \[C\] = \[3\], got \[4\]/],
  ['batchNorm: variance [3,1,1]', () => nn.batchNorm(x, { ...p, variance: t([3, 1, 1]) }), RangeError, /batchNorm: "variance" must have shape \[C\] = \[3\], got \[3,1,1\]/],
  ['batchNorm: bias a plain array', () => nn.batchNorm(x, { ...p, bias: [0, 0, 0] as never }), TypeError, /batchNorm: expected "bias" to be a float32 Tensor, received Array\(3\)/],
  ['batchNorm: epsilon NaN', () => nn.batchNorm(x, { ...p, epsilon: NaN }), RangeError, /batchNorm: "epsilon" must be a finite number, got NaN/],
  ['batchNorm: epsilon Infinity', () => nn.batchNorm(x, { ...p, epsilon: Infinity }), RangeError, /batchNorm: "epsilon" must be a finite number, got Infinity/],
  ['batchNorm: epsilon negative', () => nn.batchNorm(x, { ...p, epsilon: -1 }), RangeError, /batchNorm: "epsilon" must be >= 0, got -1/],
  ['batchNorm: unknown option', () => nn.batchNorm(x, { ...p, momentum: 0.9 } as never), TypeError, /batchNorm: unknown option "momentum"; expected one of scale, bias, mean, variance, epsilon, out/],
  ['batchNorm: out wrong shape', () => nn.batchNorm(x, { ...p, out: t([2, 3, 16]) }), RangeError, /batchNorm: "out" must have shape \[2,3,4,4\], got \[2,3,16\]/],
  ['batchNorm: out === scale', () => nn.batchNorm(t([1, 3]), { ...p, out: p.scale as never }), RangeError, /batchNorm: "out" must have shape \[1,3\], got \[3\]/],
  ['lrn: options missing', () => nn.lrn(x, undefined as never), TypeError, /lrn: expected "options" to be an object, received undefined/],
  ['lrn: size missing', () => nn.lrn(x, {} as never), TypeError, /lrn: expected "size" to be a positive integer, received undefined/],
  ['lrn: size 0', () => nn.lrn(x, { size: 0 }), RangeError, /lrn: "size" must be a positive integer, got 0/],
  ['lrn: size 2.5', () => nn.lrn(x, { size: 2.5 }), RangeError, /lrn: "size" must be a positive integer, got 2.5/],
  ['lrn: size NaN', () => nn.lrn(x, { size: NaN }), RangeError, /lrn: "size" must be a positive integer, got NaN/],
  ['lrn: alpha NaN', () => nn.lrn(x, { size: 3, alpha: NaN }), RangeError, /lrn: "alpha" must be a finite number, got NaN/],
  ['lrn: beta Infinity', () => nn.lrn(x, { size: 3, beta: Infinity }), RangeError, /lrn: "beta" must be a finite number, got Infinity/],
  ['lrn: bias a string', () => nn.lrn(x, { size: 3, bias: '1' as never }), TypeError, /lrn: expected "bias" to be a number, received string "1"/],
  ['lrn: x rank 1', () => nn.lrn(t([5]), { size: 3 }), RangeError, /lrn: "x" must have rank >= 2 \[N,C,...\], got shape \[5\]/],
  ['lrn: unknown option', () => nn.lrn(x, { size: 3, k: 2 } as never), TypeError, /lrn: unknown option "k"; expected one of size, alpha, beta, bias, out/],
  ['lrn: out === x (reads neighbours)', () => nn.lrn(x, { size: 3, out: x }), RangeError, /lrn: "out" overlaps "x"$/],
];

describe('normalization argument errors', () => {
  test.each(cases)('%s', (_label, call, cls, message) => {
    expect(call).toThrow(cls);
    expect(call).toThrow(message);
  });

  test('batchNorm: out overlapping a parameter is refused', () => {
    const buf = new Float32Array(8);
    const scale = nn.tensor(buf.subarray(0, 3), [3]);
    expect(() => nn.batchNorm(t([1, 3]), { ...p, scale, out: nn.tensor(buf.subarray(1, 4), [1, 3]) })).toThrow(/batchNorm: "out" overlaps "scale"/);
  });

  test('async variants reject', async () => {
    await expect(nn.async.batchNorm(x, { ...p, epsilon: NaN })).rejects.toThrow(/batchNorm: "epsilon" must be a finite number/);
    await expect(nn.async.lrn(x, { size: -1 })).rejects.toThrow(RangeError);
  });
});
