// Reductions, ArgMax/ArgMin, TopK and CumSum (src/kernels/reduce.cc) against
// plain-JS references: [2,3,4] float32 over every axes form (input,
// negative, none, noop_with_empty_axes, keepdims 0/1), int32/int64, empty
// axes of size 0, the opset upgrades and the error cases.
import * as nn from '../../lib';
import { schemaOf } from '../../lib/ir/schema';
import type { NodeView, UpgradeCtx } from '../../lib/ir/schema/types';
import { randomData } from '../helpers';

type In = nn.Tensor | nn.TypedTensor | null;
const T = (dtype: nn.TypedTensor['dtype'], data: nn.TypedTensor['data'], shape: number[]): nn.TypedTensor => new nn.TypedTensor(dtype, data, shape);
const F = (data: number[] | Float32Array, shape: number[]): nn.Tensor => new nn.Tensor(Float32Array.from(data), shape);
const axesT = (a: number[]) => T('int64', BigInt64Array.from(a.map(BigInt)), [a.length]);
const run = (op: string, ins: In[], attrs?: Record<string, number | number[] | string>, numOutputs?: number) => nn.runOp(op, ins, attrs, numOutputs ? { numOutputs } : undefined);
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (Number.isNaN(w)) {
      expect(g).toBeNaN();
    } else if (!Number.isFinite(w)) {
      expect(g).toBe(w);
    } else if (Math.abs(g - w) > atol + rtol * Math.abs(w)) {
      throw new Error(`element ${i}: got ${g}, want ${w}`);
    }
  }
}

/** Plain-JS reduction: groups the elements of x by their kept coordinates, then folds each group. */
function refReduce(x: ArrayLike<number>, shape: number[], axes: number[] | null, keep: boolean, f: (xs: number[]) => number): { shape: number[]; data: number[] } {
  const r = shape.length;
  const red = shape.map((_, i) => axes === null || axes.map((a) => (a < 0 ? a + r : a)).includes(i));
  const outShape: number[] = [];
  shape.forEach((d, i) => {
    if (!red[i]) outShape.push(d);
    else if (keep) outShape.push(1);
  });
  const groups: number[][] = Array.from({ length: size(shape.filter((_, i) => !red[i])) }, () => []);
  for (let i = 0; i < size(shape); i++) {
    let q = i, o = 0, mul = 1;
    for (let d = r - 1; d >= 0; d--) {
      const c = q % shape[d];
      q = Math.floor(q / shape[d]);
      if (!red[d]) {
        o += c * mul;
        mul *= shape[d];
      }
    }
    groups[o].push(x[i]);
  }
  return { shape: outShape, data: groups.map(f) };
}

const sum = (xs: number[]) => xs.reduce((s, v) => s + v, 0);
const REDUCERS: [string, (xs: number[]) => number][] = [
  ['ReduceSum', sum],
  ['ReduceMean', (xs) => sum(xs) / xs.length],
  ['ReduceMax', (xs) => Math.max(...xs)],
  ['ReduceMin', (xs) => Math.min(...xs)],
  ['ReduceProd', (xs) => xs.reduce((s, v) => s * v, 1)],
  ['ReduceL1', (xs) => sum(xs.map(Math.abs))],
  ['ReduceL2', (xs) => Math.sqrt(sum(xs.map((v) => v * v)))],
  ['ReduceLogSum', (xs) => Math.log(sum(xs))],
  ['ReduceLogSumExp', (xs) => Math.log(sum(xs.map(Math.exp)))],
  ['ReduceSumSquare', (xs) => sum(xs.map((v) => v * v))],
];

describe('ReduceX over [2,3,4] float32', () => {
  const shape = [2, 3, 4];
  const x = Float32Array.from([...randomData(24, 41)].map((v) => v * 2 + 0.1));
  const pos = x.map((v) => Math.abs(v) + 0.5); // LogSum needs positive sums
  const axesCases: [number[] | null, number][] = [
    [[1], 1],
    [[-1], 1],
    [[0, 2], 1],
    [[2, 0], 0],
    [[0, 1, 2], 0],
    [null, 1],
    [null, 0],
    [[-3], 0],
  ];
  for (const [op, f] of REDUCERS) {
    it.each(axesCases)(`${op} axes=%p keepdims=%p`, (axes, keepdims) => {
      const data = op === 'ReduceLogSum' ? pos : x;
      const y = run(op, [F(data, shape), axes === null ? null : axesT(axes)], { keepdims })[0];
      const ref = refReduce(data, shape, axes, keepdims === 1, f);
      expect(y.shape).toEqual(ref.shape);
      expectClose(y.data as Float32Array, ref.data, 2e-6, 1e-6);
    });
  }

  it('noop_with_empty_axes with no (or empty) axes returns the input', () => {
    for (const axes of [null, axesT([])]) {
      const y = run('ReduceSum', [F(x, shape), axes], { noop_with_empty_axes: 1 })[0];
      expect(y.shape).toEqual(shape);
      expect([...(y.data as Float32Array)]).toEqual([...x]);
    }
    const all = run('ReduceMax', [F(x, shape), axesT([])], { keepdims: 0 })[0];
    expect(all.shape).toEqual([]);
    expect((all.data as Float32Array)[0]).toBe(Math.max(...x));
  });

  it('a large reduction over the last and the first axis (parallel paths)', () => {
    const big = randomData(64 * 1000, 9);
    const last = run('ReduceMean', [F(big, [64, 1000]), axesT([-1])], { keepdims: 0 })[0];
    expectClose(last.data as Float32Array, refReduce(big, [64, 1000], [1], false, (xs) => sum(xs) / xs.length).data, 1e-5, 1e-6);
    const first = run('ReduceSum', [F(big, [64, 1000]), axesT([0])])[0];
    expect(first.shape).toEqual([1, 1000]);
    expectClose(first.data as Float32Array, refReduce(big, [64, 1000], [0], true, sum).data, 1e-5, 1e-5);
  });

  it('async runOp gives the sync values', async () => {
    const [y] = await nn.async.runOp('ReduceL2', [F(x, shape), axesT([-2])], { keepdims: 0 });
    expect(y.shape).toEqual([2, 4]);
    expect([...(y.data as Float32Array)]).toEqual([...(run('ReduceL2', [F(x, shape), axesT([-2])], { keepdims: 0 })[0].data as Float32Array)]);
    const [v, i] = await nn.async.runOp('TopK', [F(x, shape), T('int64', BigInt64Array.from([2n]), [1])], { axis: 1 }, { numOutputs: 2 });
    expect(v.shape).toEqual([2, 2, 4]);
    expect(i.shape).toEqual([2, 2, 4]);
  });

  it('NaN propagates through Max/Min; LogSumExp is stable for large values', () => {
    expectClose(run('ReduceMax', [F([1, NaN, 3, 4], [2, 2]), axesT([1])])[0].data as Float32Array, [NaN, 4]);
    expectClose(run('ReduceMin', [F([1, NaN, 3, 4], [2, 2]), axesT([0])])[0].data as Float32Array, [1, NaN]);
    expectClose(run('ReduceLogSumExp', [F([1000, 1000, -1000, -1000], [2, 2]), axesT([1])])[0].data as Float32Array, [1000 + Math.LN2, -1000 + Math.LN2]);
  });

  it('zero-size reduced axis gives the identity', () => {
    const e = T('float32', new Float32Array(0), [2, 0, 3]);
    const cases: [string, number][] = [['ReduceSum', 0], ['ReduceProd', 1], ['ReduceMax', -Infinity], ['ReduceMin', Infinity], ['ReduceLogSumExp', -Infinity], ['ReduceSumSquare', 0], ['ReduceMean', NaN]];
    for (const [op, v] of cases) {
      const y = run(op, [e, axesT([1])])[0];
      expect(y.shape).toEqual([2, 1, 3]);
      expectClose(y.data as Float32Array, new Array(6).fill(v));
    }
  });
});

describe('ReduceX over int32 and int64', () => {
  it('int64 ReduceSum / ReduceProd / ReduceMax / ReduceMean keep exact values', () => {
    const x = T('int64', BigInt64Array.from([1n, 2n, 3n, -4n, 5n, 6n, 2n ** 40n, 1n]), [2, 4]);
    expect([...(run('ReduceSum', [x, axesT([1])], { keepdims: 0 })[0].data as BigInt64Array)]).toEqual([2n, 2n ** 40n + 12n]);
    expect([...(run('ReduceProd', [x, axesT([-1])], { keepdims: 0 })[0].data as BigInt64Array)]).toEqual([-24n, 30n * 2n ** 40n]);
    expect([...(run('ReduceMax', [x, axesT([0])])[0].data as BigInt64Array)]).toEqual([5n, 6n, 2n ** 40n, 1n]);
    expect([...(run('ReduceMean', [x, axesT([0])], { keepdims: 0 })[0].data as BigInt64Array)]).toEqual([3n, 4n, 2n ** 39n + 1n, -1n]);
    expect(run('ReduceSum', [x, null])[0].shape).toEqual([1, 1]);
  });
  it('int32 ReduceMin / L1 / SumSquare / L2 (truncated)', () => {
    const x = T('int32', Int32Array.from([3, -4, 7, 1, 0, -2]), [3, 2]);
    expect([...(run('ReduceMin', [x, axesT([1])], { keepdims: 0 })[0].data as Int32Array)]).toEqual([-4, 1, -2]);
    expect([...(run('ReduceL1', [x, axesT([1])], { keepdims: 0 })[0].data as Int32Array)]).toEqual([7, 8, 2]);
    expect([...(run('ReduceSumSquare', [x, axesT([1])], { keepdims: 0 })[0].data as Int32Array)]).toEqual([25, 50, 4]);
    expect([...(run('ReduceL2', [x, axesT([1])], { keepdims: 0 })[0].data as Int32Array)]).toEqual([5, 7, 2]);
    expect([...(run('ReduceMin', [T('int32', new Int32Array(0), [0, 2]), axesT([0])])[0].data as Int32Array)]).toEqual([2147483647, 2147483647]);
  });
});

describe('ReduceX errors and upgrades', () => {
  const x = F(randomData(6, 1), [2, 3]);
  it('rejects out-of-range and repeated axes, and unsupported dtypes', () => {
    expect(() => run('ReduceSum', [x, axesT([2])])).toThrow(/ReduceSum: axis 2 is out of range for rank 2/);
    expect(() => run('ReduceMean', [x, axesT([1, -1])])).toThrow(/appears twice/);
    expect(() => run('ReduceMax', [T('uint8', Uint8Array.from([1]), [1]), null])).toThrow(/not supported/);
  });
  it('ReduceSum < 13 and the others < 18 move the axes attribute to a constant input', () => {
    const made: unknown[] = [];
    const ctx = (opset: number): UpgradeCtx => ({ opset, constant: (dtype, shape, values) => (made.push({ dtype, shape, values }), 'axes_const'), fail: (m: string) => { throw new Error(m); }, unsupported: (m: string) => { throw new Error(m); } });
    const n1: NodeView = { inputs: ['x'], outputs: ['y'], attrs: { axes: [1, -1], keepdims: 0 } };
    schemaOf('ReduceSum')!.upgrade!(n1, ctx(11));
    expect(n1).toEqual({ inputs: ['x', 'axes_const'], outputs: ['y'], attrs: { keepdims: 0 } });
    expect(made).toEqual([{ dtype: 'int64', shape: [2], values: [1, -1] }]);
    const n2: NodeView = { inputs: ['x'], outputs: ['y'], attrs: { axes: [0] } };
    schemaOf('ReduceMean')!.upgrade!(n2, ctx(13));
    expect(n2.inputs).toEqual(['x', 'axes_const']);
    const n3: NodeView = { inputs: ['x'], outputs: ['y'], attrs: {} };
    schemaOf('ReduceMax')!.upgrade!(n3, ctx(13));
    expect(n3.inputs).toEqual(['x']);
    const n4: NodeView = { inputs: ['x', 'a'], outputs: ['y'], attrs: {} };
    schemaOf('ReduceSum')!.upgrade!(n4, ctx(13));
    expect(n4.inputs).toEqual(['x', 'a']);
  });
});

describe('ArgMax and ArgMin', () => {
  const x = F([3, 1, 3, 2, 0, 5, 5, -1, 4, 4, 4, 4], [3, 4]);
  it('axis, negative axis, keepdims, select_last_index (ties)', () => {
    let y = run('ArgMax', [x], { axis: 1 })[0];
    expect((y as nn.TypedTensor).dtype).toBe('int64');
    expect(y.shape).toEqual([3, 1]);
    expect([...(y.data as BigInt64Array)]).toEqual([0n, 1n, 0n]);
    y = run('ArgMax', [x], { axis: -1, select_last_index: 1, keepdims: 0 })[0];
    expect(y.shape).toEqual([3]);
    expect([...(y.data as BigInt64Array)]).toEqual([2n, 2n, 3n]);
    y = run('ArgMin', [x], { axis: 0, keepdims: 0 })[0];
    expect([...(y.data as BigInt64Array)]).toEqual([1n, 0n, 0n, 1n]);
    y = run('ArgMin', [x], { axis: 1, select_last_index: 1 })[0];
    expect([...(y.data as BigInt64Array)]).toEqual([1n, 3n, 3n]);
  });
  it('int64 and int32 inputs; an empty axis is an error', () => {
    const i = T('int64', BigInt64Array.from([5n, 2n ** 50n, -3n, 2n ** 50n]), [2, 2]);
    expect([...(run('ArgMax', [i], { axis: 0, keepdims: 0 })[0].data as BigInt64Array)]).toEqual([0n, 0n]);
    expect([...(run('ArgMin', [T('int32', Int32Array.from([4, -9, 2]), [3])])[0].data as BigInt64Array)]).toEqual([1n]);
    expect(() => run('ArgMax', [T('float32', new Float32Array(0), [2, 0])], { axis: 1 })).toThrow(/empty axis/);
    expect(() => run('ArgMax', [x], { axis: 2 })).toThrow(/axis 2 is out of range/);
  });
});

describe('TopK', () => {
  const k = (n: number) => T('int64', BigInt64Array.from([BigInt(n)]), [1]);
  const x = F([1, 5, 3, 5, 2, 0, -1, 7, 7, 7], [2, 5]);
  it('largest along the last axis, ties by lower index', () => {
    const [v, i] = run('TopK', [x, k(3)], {}, 2);
    expect(v.shape).toEqual([2, 3]);
    expect([...(v.data as Float32Array)]).toEqual([5, 5, 3, 7, 7, 7]);
    expect([...(i.data as BigInt64Array)]).toEqual([1n, 3n, 2n, 2n, 3n, 4n]);
  });
  it('smallest along axis 0 and along a middle axis of [2,3,2]', () => {
    const [v, i] = run('TopK', [x, k(1)], { axis: 0, largest: 0 }, 2);
    expect(v.shape).toEqual([1, 5]);
    expect([...(v.data as Float32Array)]).toEqual([0, -1, 3, 5, 2]);
    expect([...(i.data as BigInt64Array)]).toEqual([1n, 1n, 0n, 0n, 0n]);
    const d = randomData(12, 77);
    const [v2, i2] = run('TopK', [F(d, [2, 3, 2]), k(2)], { axis: -2 }, 2);
    expect(v2.shape).toEqual([2, 2, 2]);
    for (let a = 0; a < 2; a++) {
      for (let c = 0; c < 2; c++) {
        const col = [0, 1, 2].map((j) => ({ v: d[a * 6 + j * 2 + c], j })).sort((p, q) => q.v - p.v || p.j - q.j);
        for (let j = 0; j < 2; j++) {
          expect((v2.data as Float32Array)[a * 4 + j * 2 + c]).toBe(col[j].v);
          expect((i2.data as BigInt64Array)[a * 4 + j * 2 + c]).toBe(BigInt(col[j].j));
        }
      }
    }
  });
  it('int64 values, K = 0, NaN ranks highest', () => {
    const [v] = run('TopK', [T('int64', BigInt64Array.from([3n, 2n ** 45n, -1n]), [3]), k(2)], { largest: 1 }, 2);
    expect([...(v.data as BigInt64Array)]).toEqual([2n ** 45n, 3n]);
    const [v0, i0] = run('TopK', [x, k(0)], {}, 2);
    expect(v0.shape).toEqual([2, 0]);
    expect(i0.shape).toEqual([2, 0]);
    const [vn, in_] = run('TopK', [F([1, NaN, 3], [3]), k(2)], {}, 2);
    expectClose(vn.data as Float32Array, [NaN, 3]);
    expect([...(in_.data as BigInt64Array)]).toEqual([1n, 2n]);
  });
  it('rejects K out of range and K of several values; opset 1 k attribute → input', () => {
    expect(() => run('TopK', [x, k(6)], {}, 2)).toThrow(/TopK: K = 6 must be in \[0, 5\]/);
    expect(() => run('TopK', [x, k(-1)], {}, 2)).toThrow(RangeError);
    expect(() => run('TopK', [x, T('int64', BigInt64Array.from([1n, 2n]), [2])], {}, 2)).toThrow(/one value/);
    const node: NodeView = { inputs: ['x'], outputs: ['v', 'i'], attrs: { k: 4, axis: 0 } };
    const made: unknown[] = [];
    schemaOf('TopK')!.upgrade!(node, { opset: 1, constant: (dtype, shape, values) => (made.push({ dtype, shape, values }), 'k_const'), fail: (m: string) => { throw new Error(m); }, unsupported: (m: string) => { throw new Error(m); } });
    expect(node).toEqual({ inputs: ['x', 'k_const'], outputs: ['v', 'i'], attrs: { axis: 0 } });
    expect(made).toEqual([{ dtype: 'int64', shape: [1], values: [4] }]);
  });
});

describe('CumSum', () => {
  /** Running sums along `axis` of a row-major [d0, d1, d2] array, from plain loops. */
  function refCumSum(x: number[], shape: number[], axis: number, exclusive: boolean, reverse: boolean): number[] {
    const st = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
    const y = new Array<number>(x.length).fill(0);
    for (let i = 0; i < x.length; i++) {
      const k = Math.floor(i / st[axis]) % shape[axis];
      for (let j = 0; j < shape[axis]; j++) {
        const take = reverse ? (exclusive ? j > k : j >= k) : exclusive ? j < k : j <= k;
        if (take) y[i] += x[i + (j - k) * st[axis]];
      }
    }
    return y;
  }
  const shape = [2, 3, 4];
  const xs = [...randomData(24, 9)].map((v) => Math.round(v * 10));
  const forms: [number, number, number][] = [];
  for (const axis of [0, 1, 2, -1]) for (const exclusive of [0, 1]) for (const reverse of [0, 1]) forms.push([axis, exclusive, reverse]);
  test.each(forms)('float32 [2,3,4] axis %d exclusive %d reverse %d', (axis, exclusive, reverse) => {
    const y = run('CumSum', [F(xs, shape), T('int64', BigInt64Array.from([BigInt(axis)]), [])], { exclusive, reverse })[0] as nn.Tensor;
    expect(y.shape).toEqual(shape);
    expectClose(y.data, refCumSum(xs, shape, axis < 0 ? axis + 3 : axis, exclusive === 1, reverse === 1));
  });
  test('int32 and int64 (axis as an int32 [1] tensor), integers wrap; async', async () => {
    const i32 = T('int32', Int32Array.from([2147483647, 1, 5, -5]), [2, 2]);
    const ax = T('int32', Int32Array.from([1]), [1]);
    expect([...(run('CumSum', [i32, ax])[0] as nn.TypedTensor).data]).toEqual([2147483647, -2147483648, 5, 0]);
    const i64 = T('int64', BigInt64Array.from([1n, 2n, 3n, 2n ** 53n]), [4]);
    const ax0 = T('int64', BigInt64Array.from([0n]), []);
    expect([...(run('CumSum', [i64, ax0], { exclusive: 1, reverse: 1 })[0] as nn.TypedTensor).data]).toEqual([5n + 2n ** 53n, 3n + 2n ** 53n, 2n ** 53n, 0n]);
    const [y] = await nn.async.runOp('CumSum', [F(xs, shape), ax0], { reverse: 1 });
    expectClose((y as nn.Tensor).data, refCumSum(xs, shape, 0, false, true));
  });
  test('errors: axis out of range, axis of several values, int8 data', () => {
    const x = F(xs, shape);
    expect(() => run('CumSum', [x, T('int64', BigInt64Array.from([3n]), [])])).toThrow(/CumSum: axis 3 is out of range for rank 3/);
    expect(() => run('CumSum', [x, T('int64', BigInt64Array.from([0n, 1n]), [2])])).toThrow(/axis must be a scalar/);
    expect(() => run('CumSum', [T('int8', Int8Array.from([1]), [1]), T('int64', BigInt64Array.from([0n]), [])])).toThrow(/input 0 \("x"\) of type int8 is not supported/);
  });
});
