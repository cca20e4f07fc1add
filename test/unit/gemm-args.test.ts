// gemm's argument errors: each a TypeError or RangeError naming the argument,
// what was expected and what came, thrown before any native work.
import * as nn from '../../lib';

const t = (shape: number[]): nn.Tensor => nn.tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
const a = t([2, 3]);
const b = t([3, 4]);

describe('gemm argument errors', () => {
  const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    ['a not a tensor', () => nn.gemm(null as never, b), TypeError, /gemm: expected "a" to be a float32 Tensor, received null/],
    ['a as a Float64Array tensor-like', () => nn.gemm({ data: new Float64Array(6), shape: [2, 3] } as never, b), TypeError, /expected "a" to be a float32 Tensor, received Float64Array/],
    ['b a plain array', () => nn.gemm(a, [1, 2, 3] as never), TypeError, /expected "b" to be a float32 Tensor, received Array\(3\)/],
    ['a rank 1', () => nn.gemm(t([6]), b), RangeError, /"a" must be 2-D \[M,K\], got shape \[6\]/],
    ['b rank 3', () => nn.gemm(a, t([3, 2, 2])), RangeError, /"b" must be 2-D \[K,N\], got shape \[3,2,2\]/],
    ['inner dims differ', () => nn.gemm(a, t([4, 4])), RangeError, /inner dimensions differ: a \[2,3\] has K=3, b \[4,4\] has K=4/],
    ['inner dims differ with transA', () => nn.gemm(a, b, { transA: true }), RangeError, /has K=2, b \[3,4\] has K=3/],
    ['tensor-like with wrong length', () => nn.gemm({ data: new Float32Array(5), shape: [2, 3] }, b), RangeError, /"a.shape" \[2,3\] needs 6 elements, data has 5/],
    ['tensor-like with a negative dim', () => nn.gemm({ data: new Float32Array(6), shape: [-2, -3] }, b), RangeError, /"a.shape\[0\]" must be a positive integer, got -2/],
    ['unknown option', () => nn.gemm(a, b, { transa: true } as never), TypeError, /gemm: unknown option "transa"; expected one of transA, transB, alpha, beta, c, out/],
    ['options not an object', () => nn.gemm(a, b, 5 as never), TypeError, /expected "options" to be an object, received number 5/],
    ['transA not boolean', () => nn.gemm(a, b, { transA: 1 as never }), TypeError, /expected "transA" to be a boolean, received number 1/],
    ['alpha NaN', () => nn.gemm(a, b, { alpha: NaN }), RangeError, /"alpha" must be a finite number, got NaN/],
    ['beta a string', () => nn.gemm(a, b, { beta: '1' as never }), TypeError, /expected "beta" to be a number, received string "1"/],
    ['c not broadcastable', () => nn.gemm(a, b, { c: t([3]) }), RangeError, /"c" of shape \[3\] does not broadcast to \[M,N\] = \[2,4\]/],
    ['c rank 3', () => nn.gemm(a, b, { c: t([1, 1, 4]) }), RangeError, /"c" must have rank 0, 1 or 2, got shape \[1,1,4\]/],
    ['out wrong shape', () => nn.gemm(a, b, { out: t([4, 2]) }), RangeError, /"out" must have shape \[2,4\], got \[4,2\]/],
    ['out wrong size', () => nn.gemm(a, b, { out: t([9]) }), RangeError, /"out" must have shape \[2,4\], got \[9\]/],
    ['out a Float64Array', () => nn.gemm(a, b, { out: { data: new Float64Array(8), shape: [2, 4] } as never }), TypeError, /expected "out" to be a float32 Tensor, received Float64Array/],
  ];

  test.each(cases)('%s', (_label, call, cls, message) => {
    expect(call).toThrow(cls);
    expect(call).toThrow(message);
  });

  test('out overlapping an input is refused', () => {
    const buf = new Float32Array(20);
    const x = nn.tensor(buf.subarray(0, 6), [2, 3]);
    const y = nn.tensor(buf.subarray(4, 12), [2, 4]);
    expect(() => nn.gemm(x, b, { out: y })).toThrow(/"out" overlaps "a"/);
  });

  test('out partially overlapping c is refused; out === c is fine', () => {
    const buf = new Float32Array(20);
    const c = nn.tensor(buf.subarray(0, 8), [2, 4]);
    const out = nn.tensor(buf.subarray(2, 10), [2, 4]);
    expect(() => nn.gemm(a, b, { c, out })).toThrow(/"out" overlaps "c" \(only out === c/);
    expect(() => nn.gemm(a, b, { c, out: c })).not.toThrow();
  });

  test('a tensor whose buffer was detached is refused, the process survives', () => {
    const data = new Float32Array(6);
    const x = nn.tensor(data, [2, 3]);
    structuredClone(data.buffer, { transfer: [data.buffer] });
    expect(data.length).toBe(0);
    expect(() => nn.gemm(x, b)).toThrow(nn.NeonnError);
    expect(() => nn.gemm(x, b)).toThrow(/gemm: "a" is backed by a detached ArrayBuffer/);
  });

  test('async gemm rejects with the same errors', async () => {
    await expect(nn.async.gemm(a, t([4, 4]))).rejects.toThrow(RangeError);
    await expect(nn.async.gemm(a, t([4, 4]))).rejects.toThrow(/inner dimensions differ/);
    await expect(nn.async.gemm(a, b, { bogus: 1 } as never)).rejects.toThrow(TypeError);
  });
});
