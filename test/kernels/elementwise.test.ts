// Elementwise schema ops (src/kernels/unary.cc, elementwise.cc, elem_cast.cc)
// against plain-JS references: float unary math and activations, typed
// Abs/Neg, broadcasting arithmetic (float32/int32/int64/int8/uint8, legacy
// opset<7 broadcast+axis), variadic Sum/Mean/Min/Max, comparisons, logic,
// Where, Cast/CastLike (float16 bits), and the error cases.
import * as nn from '../../lib';
import { schemaOf } from '../../lib/ir/schema';
import type { NodeView, UpgradeCtx } from '../../lib/ir/schema/types';
import { randomData } from '../helpers';

type In = nn.Tensor | nn.TypedTensor | null;
const T = (dtype: nn.TypedTensor['dtype'], data: nn.TypedTensor['data'], shape: number[]): nn.TypedTensor => new nn.TypedTensor(dtype, data, shape);
const F = (data: number[] | Float32Array, shape: number[]): nn.Tensor => new nn.Tensor(Float32Array.from(data), shape);
const run = (op: string, ins: In[], attrs?: Record<string, number | number[] | string>, numOutputs?: number) => nn.runOp(op, ins, attrs, numOutputs ? { numOutputs } : undefined);
const one = (op: string, ins: In[], attrs?: Record<string, number | number[] | string>) => run(op, ins, attrs)[0];
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (Number.isNaN(w)) {
      expect(g).toBeNaN();
      continue;
    }
    if (!Number.isFinite(w)) {
      expect(g).toBe(w);
      continue;
    }
    if (Math.abs(g - w) > atol + rtol * Math.abs(w)) throw new Error(`element ${i}: got ${g}, want ${w}`);
  }
}

/** Plain-JS numpy broadcast: out shape and, per input, the flat index for each output element. */
function bcast(shapes: number[][]): { shape: number[]; index: (k: number, o: number) => number } {
  const r = Math.max(...shapes.map((s) => s.length));
  const shape = new Array<number>(r).fill(1);
  for (const s of shapes) s.forEach((d, i) => {
    const j = r - s.length + i;
    if (d !== 1) shape[j] = d;
  });
  return {
    shape,
    index: (k, o) => {
      const s = shapes[k];
      let idx = 0, q = o, mul = 1;
      for (let j = r - 1; j >= 0; j--) {
        const d = shape[j];
        const c = q % d;
        q = Math.floor(q / d);
        const sj = j - (r - s.length);
        if (sj >= 0) {
          if (s[sj] !== 1) idx += c * mul;
          mul *= s[sj];
        }
      }
      return idx;
    },
  };
}

function refBinary(a: ArrayLike<number>, sa: number[], b: ArrayLike<number>, sb: number[], f: (x: number, y: number) => number): { shape: number[]; data: number[] } {
  const p = bcast([sa, sb]);
  const n = size(p.shape);
  const data: number[] = [];
  for (let o = 0; o < n; o++) data.push(f(a[p.index(0, o)], b[p.index(1, o)]));
  return { shape: p.shape, data };
}

// erf to ~1e-7 (Abramowitz & Stegun 7.1.26 refined by a series near 0).
function erf(x: number): number {
  if (Math.abs(x) < 0.5) {
    let sum = 0, term = x, n = 0;
    while (Math.abs(term) > 1e-17) {
      sum += term / (2 * n + 1);
      n++;
      term = (-term * x * x) / n;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // continued-fraction-free: erfc via Chebyshev fit (Numerical Recipes erfcc, 1.2e-7)
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}

describe('float unary ops, [2,3,5] and special values', () => {
  const xs = Float32Array.from([...randomData(30, 7)].map((v) => v * 4));
  const softplus = (v: number) => Math.log1p(Math.exp(v));
  const cases: [string, (v: number) => number, Record<string, number | string>?, number?][] = [
    ['Sqrt', Math.sqrt],
    ['Log', Math.log],
    ['Reciprocal', (v) => 1 / v],
    ['Floor', Math.floor],
    ['Ceil', Math.ceil],
    ['Erf', erf],
    ['Sin', Math.sin],
    ['Cos', Math.cos],
    ['Tanh', Math.tanh],
    ['Tan', Math.tan],
    ['Asin', Math.asin],
    ['Acos', Math.acos],
    ['Atan', Math.atan],
    ['Sinh', Math.sinh],
    ['Cosh', Math.cosh],
    ['Asinh', Math.asinh],
    ['Acosh', Math.acosh],
    ['Atanh', Math.atanh],
    ['Celu', (v) => Math.max(0, v) + Math.min(0, Math.exp(v) - 1)],
    ['Celu', (v) => Math.max(0, v) + Math.min(0, 2 * (Math.exp(v / 2) - 1)), { alpha: 2 }],
    ['Sigmoid', (v) => 1 / (1 + Math.exp(-v))],
    ['Relu', (v) => Math.max(0, v)],
    ['LeakyRelu', (v) => (v >= 0 ? v : 0.01 * v)],
    ['LeakyRelu', (v) => (v >= 0 ? v : 0.3 * v), { alpha: 0.3 }],
    ['Elu', (v) => (v >= 0 ? v : Math.exp(v) - 1)],
    ['Elu', (v) => (v >= 0 ? v : 2 * (Math.exp(v) - 1)), { alpha: 2 }],
    ['Selu', (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.exp(v) - 1))],
    ['Selu', (v) => 3 * (v > 0 ? v : 2 * (Math.exp(v) - 1)), { alpha: 2, gamma: 3 }],
    ['Softplus', softplus],
    ['Softsign', (v) => v / (1 + Math.abs(v))],
    ['Mish', (v) => v * Math.tanh(softplus(v))],
    ['Gelu', (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))],
    ['Gelu', (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))), { approximate: 'tanh' }],
  ];
  it.each(cases.map(([op, f, attrs]) => [op, f, attrs ?? {}] as const))('%s %p', (op, f, attrs) => {
    // Asin, Acos, Atanh over [-1, 1] on half the values (NaN outside, checked too), Acosh over [1, 5] on half.
    const inverse = ['Asin', 'Acos', 'Atanh'].includes(op) ? xs.map((v, i) => (i % 2 ? v / 4 : v)) : op === 'Acosh' ? xs.map((v, i) => (i % 2 ? 1 + Math.abs(v) : v)) : xs;
    const x = op === 'Sqrt' || op === 'Log' ? xs.map(Math.abs) : inverse;
    const y = one(op, [F(x, [2, 3, 5])], attrs) as nn.Tensor;
    expect(y.shape).toEqual([2, 3, 5]);
    expectClose(y.data, [...x].map(f), 2e-5, 2e-6);
  });

  it('Round halves to even; Floor/Ceil/Relu keep NaN and infinities', () => {
    const y = one('Round', [F([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, -2.6, 1e9 + 0.5], [10])]) as nn.Tensor;
    expect([...y.data]).toEqual([0, 2, 2, -0, -2, -2, 2, 3, -3, Math.fround(1e9 + 0.5)]);
    const special = F([NaN, Infinity, -Infinity], [3]);
    expectClose((one('Floor', [special]) as nn.Tensor).data, [NaN, Infinity, -Infinity]);
    expectClose((one('Relu', [special]) as nn.Tensor).data, [NaN, Infinity, 0]);
    expectClose((one('Sigmoid', [F([-50, 100, 0], [3])]) as nn.Tensor).data, [1 / (1 + Math.exp(50)), 1, 0.5], 1e-6, 1e-30);
    expectClose((one('Softplus', [F([-50, 100], [2])]) as nn.Tensor).data, [Math.log1p(Math.exp(-50)), 100], 1e-6, 1e-30);
  });

  it('a large tensor (parallel loop) matches element by element', () => {
    const x = randomData(100000, 3);
    const y = one('Tanh', [F(x, [100, 1000])]) as nn.Tensor;
    expectClose(y.data, [...x].map(Math.tanh), 1e-5, 1e-6);
  });

  it('rejects non-float input, unknown approximate, Celu alpha 0', () => {
    expect(() => one('Celu', [F([1], [1])], { alpha: 0 })).toThrow(/Celu: alpha must not be 0/);
    expect(() => one('Sqrt', [T('int32', new Int32Array([4]), [1])])).toThrow(/not supported/);
    expect(() => one('Gelu', [F([1], [1])], { approximate: 'fast' })).toThrow(/approximate/);
  });

  it('async runOp gives the same values', async () => {
    const x = F(randomData(12, 5), [3, 4]);
    const [y] = await nn.async.runOp('Mish', [x]);
    expect([...(y as nn.Tensor).data]).toEqual([...(one('Mish', [x]) as nn.Tensor).data]);
  });
});

describe('Abs, Neg and Sign over float32, int32, int64, int8', () => {
  it('Sign: float32 keeps 0 and NaN; integer types; uint8', () => {
    expectClose((one('Sign', [F([-2.5, 3, 0, NaN, -Infinity, 1e-30], [2, 3])]) as nn.Tensor).data, [-1, 1, 0, NaN, -1, 1]);
    expect([...(one('Sign', [T('int32', Int32Array.from([-7, 0, 9, -2147483648]), [4])]) as nn.TypedTensor).data]).toEqual([-1, 0, 1, -1]);
    expect([...(one('Sign', [T('int64', BigInt64Array.from([-(2n ** 62n), 0n, 5n]), [3])]) as nn.TypedTensor).data]).toEqual([-1n, 0n, 1n]);
    expect([...(one('Sign', [T('int8', Int8Array.from([-128, 0, 127]), [3])]) as nn.TypedTensor).data]).toEqual([-1, 0, 1]);
    expect([...(one('Sign', [T('uint8', Uint8Array.from([0, 200]), [2])]) as nn.TypedTensor).data]).toEqual([0, 1]);
    expect(() => one('Sign', [T('bool', Uint8Array.from([1]), [1])])).toThrow(/not supported/);
  });
  it('float32 [2,2]', () => {
    const x = F([-1.5, 2, -0, NaN], [2, 2]);
    expectClose((one('Abs', [x]) as nn.Tensor).data, [1.5, 2, 0, NaN]);
    expectClose((one('Neg', [x]) as nn.Tensor).data, [1.5, -2, 0, NaN]);
  });
  it('int32, int8 and int64 wrap at the most negative value', () => {
    const i32 = T('int32', Int32Array.from([-5, 7, -2147483648, 0]), [4]);
    expect([...(one('Abs', [i32]) as nn.TypedTensor).data]).toEqual([5, 7, -2147483648, 0]);
    expect([...(one('Neg', [i32]) as nn.TypedTensor).data]).toEqual([5, -7, -2147483648, 0]);
    const i8 = T('int8', Int8Array.from([-128, -3, 4]), [3]);
    expect([...(one('Abs', [i8]) as nn.TypedTensor).data]).toEqual([-128, 3, 4]);
    const i64 = T('int64', BigInt64Array.from([-9007199254740993n, 3n, -(2n ** 63n)]), [3]);
    expect([...(one('Abs', [i64]) as nn.TypedTensor).data]).toEqual([9007199254740993n, 3n, -(2n ** 63n)]);
    expect([...(one('Neg', [i64]) as nn.TypedTensor).data]).toEqual([9007199254740993n, -3n, -(2n ** 63n)]);
    expect(() => one('Neg', [T('uint8', Uint8Array.from([1]), [1])])).toThrow(/not supported/);
  });
});

describe('Clip over every numeric dtype, bounds read when it runs', () => {
  const clipJs = (xs: number[], lo: number, hi: number) => xs.map((v) => (Number.isNaN(v) ? v : Math.min(Math.max(v, lo), hi)));
  it('float32: both bounds, one, none; NaN stays NaN; min > max gives max', async () => {
    const xs = Array.from(randomData(24, 5)).map((v) => v * 4);
    xs[3] = NaN;
    const x = F(xs, [2, 3, 4]);
    const b = (v: number) => F([v], []);
    expectClose((one('Clip', [x, b(-1), b(1.5)]) as nn.Tensor).data, clipJs(xs, -1, 1.5));
    expectClose((one('Clip', [x, b(-0.5)]) as nn.Tensor).data, clipJs(xs, -0.5, Infinity));
    expectClose((one('Clip', [x, null, b(0.25)]) as nn.Tensor).data, clipJs(xs, -Infinity, 0.25));
    expectClose((one('Clip', [x]) as nn.Tensor).data, xs);
    expectClose((one('Clip', [x, b(2), b(1)]) as nn.Tensor).data, xs.map((v) => (Number.isNaN(v) ? v : 1)));
    const [ya] = await nn.async.runOp('Clip', [x, b(-1), b(1.5)]);
    expectClose((ya as nn.Tensor).data, clipJs(xs, -1, 1.5));
  });
  it('int8, uint8, int32, int64 at their extremes', () => {
    expect([...(one('Clip', [T('int8', Int8Array.from([-128, -3, 4, 127]), [4]), T('int8', Int8Array.from([-5]), []), T('int8', Int8Array.from([5]), [])]) as nn.TypedTensor).data]).toEqual([-5, -3, 4, 5]);
    expect([...(one('Clip', [T('uint8', Uint8Array.from([0, 9, 255]), [3]), T('uint8', Uint8Array.from([3]), [1])]) as nn.TypedTensor).data]).toEqual([3, 9, 255]);
    expect([...(one('Clip', [T('int32', Int32Array.from([-2147483648, 7]), [2]), null, T('int32', Int32Array.from([0]), [])]) as nn.TypedTensor).data]).toEqual([-2147483648, 0]);
    expect([...(one('Clip', [T('int64', BigInt64Array.from([-(2n ** 63n), 2n ** 62n]), [2]), T('int64', BigInt64Array.from([-(2n ** 40n)]), [])]) as nn.TypedTensor).data]).toEqual([-(2n ** 40n), 2n ** 62n]);
  });
  it('bounds of another dtype or not scalars are RangeErrors', () => {
    const x = F([1, 2], [2]);
    expect(() => one('Clip', [x, T('int32', Int32Array.from([0]), [])])).toThrow(RangeError);
    expect(() => one('Clip', [x, T('int32', Int32Array.from([0]), [])])).toThrow(/min must have the input's dtype float32, got int32/);
    expect(() => one('Clip', [x, F([0, 1], [2])])).toThrow(/min must be a scalar, got shape \[2\]/);
    expect(() => one('Clip', [T('bool', Uint8Array.from([1]), [1])])).toThrow(/not supported/);
  });
});

describe('binary arithmetic with broadcasting', () => {
  const shapes: [number[], number[]][] = [
    [[2, 3, 4], [2, 3, 4]],
    [[2, 3, 4], [4]],
    [[2, 3, 4], [3, 1]],
    [[2, 1, 4], [1, 3, 1]],
    [[1], [2, 3]],
    [[], [2, 3]],
    [[5, 1, 3], []],
    [[2, 0, 3], [3]],
  ];
  const fs: [string, (x: number, y: number) => number][] = [
    ['Add', (x, y) => x + y],
    ['Sub', (x, y) => x - y],
    ['Mul', (x, y) => x * y],
    ['Div', (x, y) => x / y],
  ];
  for (const [op, f] of fs) {
    it.each(shapes)(`${op} float32 %p ∘ %p`, (sa, sb) => {
      const a = randomData(size(sa), 1), b = randomData(size(sb), 2).map((v) => v + 2);
      const y = one(op, [T('float32', a, sa), T('float32', b, sb)]);
      const ref = refBinary(a, sa, b, sb, (x, z) => Math.fround(f(x, z)));
      expect(y.shape).toEqual(ref.shape);
      expectClose(y.data as Float32Array, ref.data, 1e-6, 0);
    });
  }

  it('a large contiguous Add and a row-broadcast Mul (parallel paths)', () => {
    const a = randomData(300 * 257, 11), b = randomData(300 * 257, 12), r = randomData(257, 13);
    expectClose(one('Add', [F(a, [300, 257]), F(b, [300, 257])]).data as Float32Array, [...a].map((v, i) => Math.fround(v + b[i])), 0, 0);
    expectClose(one('Mul', [F(a, [300, 257]), F(r, [257])]).data as Float32Array, [...a].map((v, i) => Math.fround(v * r[i % 257])), 0, 0);
    const col = randomData(300, 14);
    expectClose(one('Sub', [F(col, [300, 1]), F(a, [300, 257])]).data as Float32Array, [...a].map((v, i) => Math.fround(col[Math.floor(i / 257)] - v)), 0, 0);
  });

  it('int64 shape arithmetic: Mul, Div truncating toward zero, Add, Sub', () => {
    const a = T('int64', BigInt64Array.from([7n, -7n, 7n, -7n, 1n << 40n]), [5]);
    const b = T('int64', BigInt64Array.from([2n, 2n, -2n, -2n, 3n]), [5]);
    expect([...(one('Div', [a, b]).data as BigInt64Array)]).toEqual([3n, -3n, -3n, 3n, (1n << 40n) / 3n]);
    expect([...(one('Mul', [a, b]).data as BigInt64Array)]).toEqual([14n, -14n, -14n, 14n, 3n << 40n]);
    const s = T('int64', BigInt64Array.from([10n]), []);
    expect([...(one('Add', [a, s]).data as BigInt64Array)]).toEqual([17n, 3n, 17n, 3n, (1n << 40n) + 10n]);
    expect([...(one('Sub', [s, a]).data as BigInt64Array)]).toEqual([3n, 17n, 3n, 17n, 10n - (1n << 40n)]);
    const min = T('int64', BigInt64Array.from([-(2n ** 63n)]), [1]);
    expect([...(one('Div', [min, T('int64', BigInt64Array.from([-1n]), [1])]).data as BigInt64Array)]).toEqual([-(2n ** 63n)]);
  });

  it('int32, int8 and uint8 wrap on overflow', () => {
    const a = T('int32', Int32Array.from([2147483647, -2147483648, 65536]), [3]);
    const b = T('int32', Int32Array.from([1, 1, 65536]), [3]);
    expect([...(one('Add', [a, b]).data as Int32Array)]).toEqual([-2147483648, -2147483647, 131072]);
    expect([...(one('Mul', [a, b]).data as Int32Array)]).toEqual([2147483647, -2147483648, 0]);
    const u = T('uint8', Uint8Array.from([250, 3, 16]), [3]);
    expect([...(one('Add', [u, T('uint8', Uint8Array.from([10]), [1])]).data as Uint8Array)]).toEqual([4, 13, 26]);
    expect([...(one('Mul', [u, u]).data as Uint8Array)]).toEqual([(250 * 250) % 256, 9, 0]);
    const i8 = T('int8', Int8Array.from([100, -100, 7]), [3]);
    expect([...(one('Sub', [i8, T('int8', Int8Array.from([-100, 100, 2]), [3])]).data as Int8Array)]).toEqual([-56, 56, 5]);
    expect([...(one('Div', [i8, T('int8', Int8Array.from([-1, 3, -2]), [3])]).data as Int8Array)]).toEqual([-100, -33, -3]);
  });

  it('integer division or modulo by zero is a RangeError', () => {
    const a = T('int64', BigInt64Array.from([1n, 2n]), [2]);
    const z = T('int64', BigInt64Array.from([1n, 0n]), [2]);
    expect(() => one('Div', [a, z])).toThrow(RangeError);
    expect(() => one('Div', [a, z])).toThrow(/Div: integer division by zero/);
    expect(() => one('Mod', [T('int32', Int32Array.from([5]), [1]), T('int32', Int32Array.from([0]), [1])])).toThrow(/Mod: integer modulo by zero/);
    expectClose(one('Div', [F([1, -1, 0], [3]), F([0], [1])]).data as Float32Array, [Infinity, -Infinity, NaN]);
  });

  it('Mod: fmod=0 takes the divisor sign (ints), fmod=1 the dividend sign (ints and floats)', () => {
    const a = T('int32', Int32Array.from([7, -7, 7, -7, 6]), [5]);
    const b = T('int32', Int32Array.from([3, 3, -3, -3, 3]), [5]);
    expect([...(one('Mod', [a, b]).data as Int32Array)]).toEqual([1, 2, -2, -1, 0]);
    expect([...(one('Mod', [a, b], { fmod: 1 }).data as Int32Array)]).toEqual([1, -1, 1, -1, 0]);
    const fa = F([5.5, -5.5, 5.5, -5.5], [4]), fb = F([2], [1]);
    expectClose(one('Mod', [fa, fb], { fmod: 1 }).data as Float32Array, [1.5, -1.5, 1.5, -1.5]);
    expectClose(one('Mod', [fa, F([-2], [1])], { fmod: 0 }).data as Float32Array, [-0.5, -1.5, -0.5, -1.5]);
    const i64 = T('int64', BigInt64Array.from([-9n, 9n]), [2]);
    expect([...(one('Mod', [i64, T('int64', BigInt64Array.from([4n]), [])]).data as BigInt64Array)]).toEqual([3n, 1n]);
  });

  it('Pow: float base with float32, int64 and int32 exponents; integer base', () => {
    const x = F([2, 3, 0.5, -2], [2, 2]);
    expectClose(one('Pow', [x, F([3, 0.5, -1, 2], [2, 2])]).data as Float32Array, [8, Math.sqrt(3), 2, 4]);
    expectClose(one('Pow', [x, T('int64', BigInt64Array.from([2n]), [1])]).data as Float32Array, [4, 9, 0.25, 4]);
    expectClose(one('Pow', [x, T('int32', Int32Array.from([3, -1]), [2])]).data as Float32Array, [8, 1 / 3, 0.125, -0.5]);
    const ib = T('int64', BigInt64Array.from([2n, -3n, 10n, 2n]), [4]);
    expect([...(one('Pow', [ib, T('int64', BigInt64Array.from([10n, 3n, 0n, -1n]), [4])]).data as BigInt64Array)]).toEqual([1024n, -27n, 1n, 0n]);
    expect((one('Pow', [ib, T('int64', BigInt64Array.from([2n]), [1])]) as nn.TypedTensor).dtype).toBe('int64');
  });

  it('legacy (opset < 7) broadcast=1 with axis aligns B at A\'s axis', () => {
    const a = randomData(24, 4), b = Float32Array.from([10, 20, 30]);
    const y = one('Add', [F(a, [2, 3, 4]), F(b, [3])], { broadcast: 1, axis: 1 });
    expect(y.shape).toEqual([2, 3, 4]);
    expectClose(y.data as Float32Array, [...a].map((v, i) => Math.fround(v + b[Math.floor(i / 4) % 3])), 0, 0);
    const y2 = one('Mul', [F(a, [2, 3, 4]), F([1, 2, 3, 4, 5, 6], [2, 3])], { broadcast: 1, axis: -3 });
    expectClose(y2.data as Float32Array, [...a].map((v, i) => Math.fround(v * (Math.floor(i / 4) + 1))), 0, 0);
    // broadcast=1 without axis: trailing alignment (numpy's)
    expect(one('Sub', [F(a, [2, 3, 4]), F([1, 1, 1, 1], [4])], { broadcast: 1 }).shape).toEqual([2, 3, 4]);
    expect(() => one('Add', [F(a, [2, 3, 4]), F(b, [3])], { broadcast: 1, axis: 2 })).toThrow(/do not broadcast/);
    expect(() => one('Add', [F(a, [2, 3, 4]), F([1, 2, 3, 4, 5, 6], [2, 3])], { broadcast: 1, axis: 2 })).toThrow(/legacy broadcast/);
  });

  it('async runOp: int64 Add [2,1]∘[3] and float32 Div match the sync results', async () => {
    const a = T('int64', BigInt64Array.from([1n, -2n]), [2, 1]), b = T('int64', BigInt64Array.from([10n, 20n, 30n]), [3]);
    const [y] = await nn.async.runOp('Add', [a, b]);
    expect(y.shape).toEqual([2, 3]);
    expect([...(y.data as BigInt64Array)]).toEqual([11n, 21n, 31n, 8n, 18n, 28n]);
    const x = F(randomData(24, 8), [2, 3, 4]), d = F([2, 4, 8, 16], [4]);
    const [q] = await nn.async.runOp('Div', [x, d]);
    expect([...(q.data as Float32Array)]).toEqual([...(one('Div', [x, d]).data as Float32Array)]);
    await expect(nn.async.runOp('Div', [a, T('int64', BigInt64Array.from([0n]), [1])])).rejects.toThrow(/division by zero/);
  });

  it('rejects shapes that do not broadcast and mixed dtypes', () => {
    expect(() => one('Add', [F(randomData(6, 1), [2, 3]), F(randomData(2, 1), [2])])).toThrow(/Add: shapes \[2,3\] and \[2\] do not broadcast/);
    expect(() => one('Mul', [F([1], [1]), T('int64', BigInt64Array.from([1n]), [1])])).toThrow(/one dtype/);
    expect(() => one('Add', [T('bool', Uint8Array.from([1]), [1]), T('bool', Uint8Array.from([1]), [1])])).toThrow(/not supported/);
  });

  it('opset 1 consumed_inputs is dropped by upgrade', () => {
    const node: NodeView = { inputs: ['a', 'b'], outputs: ['c'], attrs: { consumed_inputs: [0], broadcast: 1 } };
    schemaOf('Add')!.upgrade!(node, { opset: 1 } as UpgradeCtx);
    expect(node.attrs).toEqual({ broadcast: 1 });
    const n2: NodeView = { inputs: ['a'], outputs: ['c'], attrs: { consumed_inputs: [0] } };
    schemaOf('Relu')!.upgrade!(n2, { opset: 1 } as UpgradeCtx);
    expect(n2.attrs).toEqual({});
  });
});

describe('variadic Sum, Mean, Min, Max', () => {
  const sa = [2, 1, 3], sb = [4, 1], sc = [3];
  const a = randomData(6, 21), b = randomData(4, 22), c = randomData(3, 23);
  const p = bcast([sa, sb, sc]);
  const fold = (f: (xs: number[]) => number) => Array.from({ length: size(p.shape) }, (_, o) => f([a[p.index(0, o)], b[p.index(1, o)], c[p.index(2, o)]]));
  it.each([
    ['Sum', (xs: number[]) => xs.reduce((s, v) => s + v, 0)],
    ['Mean', (xs: number[]) => xs.reduce((s, v) => s + v, 0) / 3],
    ['Min', (xs: number[]) => Math.min(...xs)],
    ['Max', (xs: number[]) => Math.max(...xs)],
  ] as [string, (xs: number[]) => number][])('%s of [2,1,3], [4,1], [3] → [2,4,3]', (op, f) => {
    const y = one(op, [F(a, sa), F(b, sb), F(c, sc)]);
    expect(y.shape).toEqual([2, 4, 3]);
    expectClose(y.data as Float32Array, fold(f), 1e-6, 1e-7);
  });
  it('one input is a copy; ints; NaN propagates through Min/Max', () => {
    expect([...(one('Max', [F([1, -2], [2])]).data as Float32Array)]).toEqual([1, -2]);
    const i = T('int64', BigInt64Array.from([5n, -3n]), [2]);
    expect([...(one('Min', [i, T('int64', BigInt64Array.from([0n]), [1])]).data as BigInt64Array)]).toEqual([0n, -3n]);
    expect([...(one('Sum', [i, i, i]).data as BigInt64Array)]).toEqual([15n, -9n]);
    expectClose(one('Max', [F([NaN, 1], [2]), F([0, NaN], [2])]).data as Float32Array, [NaN, NaN]);
    expectClose(one('Min', [F([NaN, 1], [2]), F([0, 2], [2])]).data as Float32Array, [NaN, 1]);
    expect(() => one('Sum', [F([1], [1]), i])).toThrow(/one dtype/);
    expect(() => one('Mean', [i])).toThrow(/not supported/);
    expect(() => one('Max', [F([1, 2], [2]), F([1, 2, 3], [3])])).toThrow(/do not broadcast/);
  });
});

describe('comparisons, logic and Where', () => {
  it.each([
    ['Equal', (x: number, y: number) => x === y],
    ['Greater', (x: number, y: number) => x > y],
    ['Less', (x: number, y: number) => x < y],
    ['GreaterOrEqual', (x: number, y: number) => x >= y],
    ['LessOrEqual', (x: number, y: number) => x <= y],
  ] as [string, (x: number, y: number) => boolean][])('%s on float32 [3,4]∘[4], int64 and int32 → bool', (op, f) => {
    const a = Float32Array.from([...randomData(12, 31)].map((v) => Math.round(v * 3)));
    const b = Float32Array.from([0, 1, -1, 2]);
    const y = one(op, [F(a, [3, 4]), F(b, [4])]) as nn.TypedTensor;
    expect(y.dtype).toBe('bool');
    expect([...y.data]).toEqual(refBinary(a, [3, 4], b, [4], (x, z) => (f(x, z) ? 1 : 0)).data);
    const ia = T('int64', BigInt64Array.from([1n, 5n, -3n]), [3, 1]);
    const ib = T('int64', BigInt64Array.from([1n, -3n]), [2]);
    expect([...(one(op, [ia, ib]).data as Uint8Array)]).toEqual(refBinary([1, 5, -3], [3, 1], [1, -3], [2], (x, z) => (f(x, z) ? 1 : 0)).data);
    const ja = T('int32', Int32Array.from([2, 3]), [2]);
    expect([...(one(op, [ja, T('int32', Int32Array.from([3]), [])]).data as Uint8Array)]).toEqual([f(2, 3) ? 1 : 0, f(3, 3) ? 1 : 0]);
  });

  it('Equal on bool; NaN compares unequal; mixed dtypes are rejected', () => {
    const t = T('bool', Uint8Array.from([1, 0, 1]), [3]);
    expect([...(one('Equal', [t, T('bool', Uint8Array.from([1]), [1])]).data as Uint8Array)]).toEqual([1, 0, 1]);
    expect([...(one('Equal', [F([NaN, 1], [2]), F([NaN, 1], [2])]).data as Uint8Array)]).toEqual([0, 1]);
    expect(() => one('Greater', [t, t])).toThrow(/not supported/);
    expect(() => one('Less', [F([1], [1]), T('int32', Int32Array.from([1]), [1])])).toThrow(/one dtype/);
  });

  it('And, Or, Xor broadcast [2,2]∘[2]; Not', () => {
    const a = T('bool', Uint8Array.from([0, 0, 1, 1]), [2, 2]);
    const b = T('bool', Uint8Array.from([0, 1]), [2]);
    expect([...(one('And', [a, b]).data as Uint8Array)]).toEqual([0, 0, 0, 1]);
    expect([...(one('Or', [a, b]).data as Uint8Array)]).toEqual([0, 1, 1, 1]);
    expect([...(one('Xor', [a, b]).data as Uint8Array)]).toEqual([0, 1, 1, 0]);
    expect([...(one('Not', [a]).data as Uint8Array)]).toEqual([1, 1, 0, 0]);
    expect(() => one('And', [F([1], [1]), F([1], [1])])).toThrow(/not supported/);
  });

  it('Where broadcasts condition [2,1], X [3], Y [] → [2,3] for float32 and int64', () => {
    const cond = T('bool', Uint8Array.from([1, 0]), [2, 1]);
    const y = one('Where', [cond, F([1, 2, 3], [3]), F([-1], [])]);
    expect(y.shape).toEqual([2, 3]);
    expect([...(y.data as Float32Array)]).toEqual([1, 2, 3, -1, -1, -1]);
    const c2 = T('bool', Uint8Array.from([1, 0, 0, 1, 1, 0]), [2, 3]);
    const yi = one('Where', [c2, T('int64', BigInt64Array.from([7n]), [1]), T('int64', BigInt64Array.from([0n, 1n]), [2, 1])]);
    expect([...(yi.data as BigInt64Array)]).toEqual([7n, 0n, 0n, 7n, 7n, 1n]);
    const yb = one('Where', [c2, T('bool', Uint8Array.from([1]), [1]), T('bool', Uint8Array.from([0]), [1])]);
    expect([...(yb.data as Uint8Array)]).toEqual([1, 0, 0, 1, 1, 0]);
    const yh = one('Where', [c2, T('float16', Uint16Array.from([0x3c00, 0x4000, 0x4200]), [3]), T('float16', Uint16Array.from([0]), [])]);
    expect([...(yh.data as Uint16Array)]).toEqual([0x3c00, 0, 0, 0x3c00, 0x4000, 0]);
    expect(() => one('Where', [cond, F([1], [1]), T('int64', BigInt64Array.from([1n]), [1])])).toThrow(/one dtype/);
    expect(() => one('Where', [c2, F([1, 2], [2]), F([1], [1])])).toThrow(/do not broadcast/);
  });
});

describe('Cast and CastLike', () => {
  const cast = (x: In, to: number) => one('Cast', [x], { to });
  it('float32 → int32/int64/int8/uint8 truncates toward zero; NaN → 0', () => {
    const x = F([2.7, -2.7, 0.5, -0.5, NaN, 100], [6]);
    expect([...(cast(x, 6).data as Int32Array)]).toEqual([2, -2, 0, 0, 0, 100]);
    expect([...(cast(x, 7).data as BigInt64Array)]).toEqual([2n, -2n, 0n, 0n, 0n, 100n]);
    expect([...(cast(x, 3).data as Int8Array)]).toEqual([2, -2, 0, 0, 0, 100]);
    expect((cast(x, 2) as nn.TypedTensor).dtype).toBe('uint8');
    expect([...(cast(F([1e20, -1e20], [2]), 7).data as BigInt64Array)]).toEqual([2n ** 63n - 1n, -(2n ** 63n)]);
  });
  it('ints ↔ float, narrowing keeps the low bits, bool both ways', () => {
    const i = T('int64', BigInt64Array.from([300n, -1n, 16777217n, 0n]), [2, 2]);
    const f = cast(i, 1);
    expect(f.shape).toEqual([2, 2]);
    expect([...(f.data as Float32Array)]).toEqual([300, -1, 16777216, 0]);
    expect([...(cast(i, 2).data as Uint8Array)]).toEqual([44, 255, 1, 0]);
    expect([...(cast(i, 6).data as Int32Array)]).toEqual([300, -1, 16777217, 0]);
    expect([...(cast(i, 9).data as Uint8Array)]).toEqual([1, 1, 1, 0]);
    expect([...(cast(F([0, -0, 0.1, NaN], [4]), 9).data as Uint8Array)]).toEqual([0, 0, 1, 1]);
    expect([...(cast(T('bool', Uint8Array.from([1, 0]), [2]), 1).data as Float32Array)]).toEqual([1, 0]);
    expect([...(cast(T('bool', Uint8Array.from([1, 0]), [2]), 7).data as BigInt64Array)]).toEqual([1n, 0n]);
    expect([...(cast(T('int8', Int8Array.from([-1, 5]), [2]), 7).data as BigInt64Array)]).toEqual([-1n, 5n]);
    expect([...(cast(T('uint8', Uint8Array.from([255]), [1]), 6).data as Int32Array)]).toEqual([255]);
  });
  it('float32 → float16 rounds to nearest even; float16 → float32 is exact', () => {
    const x = F([1, -2, 65504, 65519, 65520, 1e-8, 2 ** -24, 3 * 2 ** -25, 2 ** -25, 1 + 2 ** -11, 1 + 3 * 2 ** -11, NaN, -Infinity, 2 ** -14, 0.1], [15]);
    const h = cast(x, 10) as nn.TypedTensor;
    expect(h.dtype).toBe('float16');
    expect([...(h.data as Uint16Array)]).toEqual([0x3c00, 0xc000, 0x7bff, 0x7bff, 0x7c00, 0, 1, 2, 0, 0x3c00, 0x3c02, 0x7e00, 0xfc00, 0x0400, 0x2e66]);
    const bits = T('float16', Uint16Array.from([0x0001, 0x7bff, 0x3555, 0x8000, 0x7c00, 0xfe00, 0x03ff, 0xc000]), [8]);
    const f = cast(bits, 1);
    expectClose(f.data as Float32Array, [2 ** -24, 65504, 0.333251953125, -0, Infinity, NaN, 1023 * 2 ** -24, -2], 0, 0);
    expect([...(cast(bits, 6).data as Int32Array)]).toEqual([0, 65504, 0, 0, -1, 0, 0, -2]); // inf: int64 max, low bits
  });
  it('CastLike takes the dtype of its second input; same-dtype Cast copies', () => {
    const y = one('CastLike', [F([1.9, -3.2], [2]), T('int64', BigInt64Array.from([0n]), [1])]);
    expect((y as nn.TypedTensor).dtype).toBe('int64');
    expect([...(y.data as BigInt64Array)]).toEqual([1n, -3n]);
    expect([...(cast(F([1.5], [1]), 1).data as Float32Array)]).toEqual([1.5]);
  });
  it('unsupported targets, targets held widened, and opset 1 string `to`', () => {
    expect(() => cast(F([1], [1]), 14)).toThrow(/not a dtype neonn holds/);  // COMPLEX64
    expect(() => cast(F([1], [1]), 17)).toThrow(/not a dtype neonn holds/);  // FLOAT8E4M3FN
    // DOUBLE is held in float32, INT16 in int32 with int16's range.
    expect([...(cast(F([1.5], [1]), 11).data as Float32Array)]).toEqual([1.5]);
    expect([...(cast(F([40000], [1]), 5).data as Int32Array)]).toEqual([40000 - 65536]);
    const upgrade = (to: string, opset = 1): NodeView => {
      const node: NodeView = { inputs: ['x'], outputs: ['y'], attrs: { to } };
      schemaOf('Cast')!.upgrade!(node, { opset, unsupported: (m: string) => { throw new Error(m); } } as UpgradeCtx);
      return node;
    };
    expect(upgrade('INT64').attrs.to).toBe(7);
    expect(upgrade('DOUBLE').attrs.to).toBe(11);
    expect(() => upgrade('COMPLEX128')).toThrow(/COMPLEX128/);
  });
});
