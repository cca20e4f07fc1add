// Data-movement ops that reshape, broadcast, cut and join (src/kernels/data.cc,
// data_slice.cc) on every dtype, against plain-JS index-map references.
import * as nn from '../../lib';
import type { DType } from '../../lib/dtype';
import { DTYPES, expectTensor, f32, gatherRef, got, i32, i64, input, label, ravel, run, sample, size, strides, tt } from './data-helpers';

describe('Identity, Reshape, Flatten, Squeeze, Unsqueeze', () => {
  test.each(DTYPES)('Identity x=[2,3] %s', (dt) => {
    const x = input(dt, [2, 3]);
    expectTensor(run('Identity', [x])[0], dt, [2, 3], sample(dt, 6));
  });

  test.each(DTYPES)('Reshape [2,3,4] -> [4,0,-1] %s', (dt) => {
    const x = input(dt, [2, 3, 4]);
    expectTensor(run('Reshape', [x, i64([4, 0, -1])])[0], dt, [4, 3, 2], sample(dt, 24));
  });

  test.each([
    [[2, 3, 4], [-1], [24]],
    [[2, 3, 4], [0, -1], [2, 12]],
    [[2, 3, 4], [6, 4], [6, 4]],
    [[2, 0, 4], [0, 0, 4], [2, 0, 4]],
    [[2, 3, 4], [2, 1, 3, 1, 4], [2, 1, 3, 1, 4]],
  ])('Reshape x=%j shape=%j', (xs, spec, want) => {
    const x = input('float32', xs);
    expectTensor(run('Reshape', [x, i64(spec)])[0], 'float32', want, sample('float32', size(xs)));
  });

  test('Reshape allowzero=1 keeps 0 as a dimension', () => {
    expectTensor(run('Reshape', [input('int32', [0, 3]), i64([3, 0])], { allowzero: 1 })[0], 'int32', [3, 0], []);
    // Without allowzero the 0 copies dim 1 (3): [3,3] has 9 elements, the input none.
    expect(() => run('Reshape', [input('int32', [0, 3]), i64([3, 0])])).toThrow(/cannot reshape \[0,3\] into \[3,0\]/);
  });

  test('Reshape errors', () => {
    const x = input('float32', [2, 3]);
    expect(() => run('Reshape', [x, i64([4, -1])])).toThrow(/Reshape: cannot reshape \[2,3\] into \[4,-1\]/);
    expect(() => run('Reshape', [x, i64([-1, -1])])).toThrow(RangeError);
    expect(() => run('Reshape', [x, i64([-1, -1])])).toThrow(/more than one -1/);
    expect(() => run('Reshape', [x, i64([7])])).toThrow(/cannot reshape/);
    expect(() => run('Reshape', [x, i64([-2, 3])])).toThrow(/below -1/);
    expect(() => run('Reshape', [x, i64([0, -1])], { allowzero: 1 })).toThrow(/both -1 and 0/);
  });

  test.each([
    [[2, 3, 4, 5], 0, [1, 120]],
    [[2, 3, 4, 5], 1, [2, 60]],
    [[2, 3, 4, 5], 4, [120, 1]],
    [[2, 3, 4, 5], -1, [24, 5]],
    [[2, 3, 4, 5], -4, [1, 120]],
  ])('Flatten x=%j axis=%d', (xs, axis, want) => {
    const x = input('int8', xs);
    expectTensor(run('Flatten', [x], { axis })[0], 'int8', want, sample('int8', size(xs)));
  });

  test('Flatten axis out of range', () => {
    expect(() => run('Flatten', [input('float32', [2, 3])], { axis: 3 })).toThrow(/Flatten: axis 3 is out of range/);
  });

  test.each([
    [[1, 3, 1, 5], undefined, [3, 5]],
    [[1, 3, 1, 5], [0], [3, 1, 5]],
    [[1, 3, 1, 5], [-2, 0], [3, 5]],
    [[1, 1], undefined, []],
  ])('Squeeze x=%j axes=%j', (xs, axes, want) => {
    const x = input('uint8', xs);
    const ins = axes === undefined ? [x] : [x, i64(axes)];
    expectTensor(run('Squeeze', ins)[0], 'uint8', want, sample('uint8', size(xs)));
  });

  test('Squeeze errors', () => {
    expect(() => run('Squeeze', [input('float32', [1, 3]), i64([1])])).toThrow(/cannot squeeze axis 1 of \[1,3\]/);
    expect(() => run('Squeeze', [input('float32', [1, 3]), i64([2])])).toThrow(/axis 2 is out of range/);
    expect(() => run('Squeeze', [input('float32', [1, 1]), i64([0, -2])])).toThrow(/repeat an axis/);
  });

  test.each([
    [[3, 4], [0], [1, 3, 4]],
    [[3, 4], [2], [3, 4, 1]],
    [[3, 4], [-1], [3, 4, 1]],
    [[3, 4], [3, 0], [1, 3, 4, 1]],
    [[], [0, 1], [1, 1]],
  ])('Unsqueeze x=%j axes=%j', (xs, axes, want) => {
    const x = input('bool', xs);
    expectTensor(run('Unsqueeze', [x, i64(axes)])[0], 'bool', want, sample('bool', size(xs)));
  });

  test('Unsqueeze errors', () => {
    expect(() => run('Unsqueeze', [input('float32', [3]), i64([2])])).toThrow(/Unsqueeze: axis 2 is out of range for rank 2/);
    expect(() => run('Unsqueeze', [input('float32', [3]), i64([0, 0])])).toThrow(/repeat/);
  });
});

describe('Shape, Size, ConstantOfShape, Range', () => {
  test.each([
    [{}, [2, 3, 4, 5]],
    [{ start: 1 }, [3, 4, 5]],
    [{ end: -1 }, [2, 3, 4]],
    [{ start: -3, end: 3 }, [3, 4]],
    [{ start: -10, end: 10 }, [2, 3, 4, 5]],
    [{ start: 3, end: 1 }, []],
  ])('Shape x=[2,3,4,5] %j', (attrs, want) => {
    expectTensor(run('Shape', [input('float16', [2, 3, 4, 5])], attrs)[0], 'int64', [want.length], want);
  });

  test('Size x=[2,3,4] and an empty x=[0,5]', () => {
    expectTensor(run('Size', [input('int8', [2, 3, 4])])[0], 'int64', [], [24]);
    expectTensor(run('Size', [input('int8', [0, 5])])[0], 'int64', [], [0]);
  });

  test.each<[DType, number, number]>([
    ['float32', 1, 1.5],
    ['int32', 6, -7],
    ['int64', 7, 123456789],
    ['int8', 3, -3],
    ['uint8', 2, 200],
    ['bool', 9, 1],
    ['float16', 10, 1.5],
  ])('ConstantOfShape shape=[2,3] %s value=%d (planning time and kernel)', (dt, code, value) => {
    const want = dt === 'float16' ? 0x3e00 : value;
    expectTensor(run('ConstantOfShape', [i64([2, 3])], { dtype: code, value })[0], dt, [2, 3], new Array(6).fill(want));
    // 40x40 is above the planning-time limit: the kernel fills it.
    const big = got(run('ConstantOfShape', [i64([40, 40])], { dtype: code, value })[0]);
    expect(big.shape).toEqual([40, 40]);
    expect(big.values.every((v) => v === want)).toBe(true);
  });

  test('ConstantOfShape defaults, scalar and empty shapes', () => {
    expectTensor(run('ConstantOfShape', [i64([3])])[0], 'float32', [3], [0, 0, 0]);
    expectTensor(run('ConstantOfShape', [i64([])], { value: 2 })[0], 'float32', [], [2]);
    expectTensor(run('ConstantOfShape', [i64([0, 4])], { dtype: 7 })[0], 'int64', [0, 4], []);
    expect(() => run('ConstantOfShape', [i64([2])], { dtype: 11 })).toThrow(/dtype 11 is not supported/);
    expect(() => run('ConstantOfShape', [i64([-1])])).toThrow(/negative dimension/);
  });

  test.each<[DType, number, number, number]>([
    ['float32', 0, 5, 1],
    ['float32', 1, 0, -0.3],
    ['float32', 0.1, 2000.3, 0.7],
    ['int32', 10, -2, -3],
    ['int32', 0, 3000, 1],
    ['int64', -5, 5, 2],
    ['int64', 7, 7, 1],
    ['int64', 0, 100000, 7],
  ])('Range %s start=%d limit=%d delta=%d', (dt, s, l, d) => {
    const n = Math.max(0, Math.ceil((l - s) / d));
    const want = Array.from({ length: n }, (_, i) => (dt === 'float32' ? Math.fround(s + i * Math.fround(d)) : s + i * d));
    const sc = (v: number): nn.TypedTensor => tt(dt, [v], []);
    const start = dt === 'float32' ? Math.fround(s) : s;
    const out = got(run('Range', [sc(start), sc(l), sc(d)])[0]);
    expect(out.dtype).toBe(dt);
    expect(out.shape).toEqual([n]);
    if (dt === 'float32') {
      const fd = Math.fround(d);
      const fs = Math.fround(s);
      expect(out.shape).toEqual([Math.max(0, Math.ceil((Math.fround(l) - fs) / fd))]);
      expect(out.values).toEqual(Array.from({ length: out.shape[0] }, (_, i) => Math.fround(fs + i * fd)));
    } else {
      expect(out.values).toEqual(want);
    }
  });

  test('Range int64 beyond 2^53 is exact', () => {
    const s = 2n ** 60n;
    const out = run('Range', [new nn.TypedTensor('int64', BigInt64Array.of(s), []), new nn.TypedTensor('int64', BigInt64Array.of(s + 3n), []), new nn.TypedTensor('int64', BigInt64Array.of(1n), [])])[0];
    expect(Array.from(out.data as BigInt64Array)).toEqual([s, s + 1n, s + 2n]);
  });

  test('Range errors', () => {
    expect(() => run('Range', [f32([0], []), f32([1], []), f32([0], [])])).toThrow(/Range: delta must not be 0/);
    expect(() => run('Range', [f32([0], []), i64([1], []), f32([1], [])])).toThrow(/one dtype/);
    expect(() => run('Range', [f32([0, 1], [2]), f32([1], []), f32([1], [])])).toThrow(/scalars/);
    expect(() => run('Range', [i64([0], []), i64([2 ** 40], []), i64([1], [])])).toThrow(/too many elements/);
  });
});

/** Transpose reference. */
function transposeRef(x: number[], xs: number[], perm: number[]): { shape: number[]; values: number[] } {
  const shape = perm.map((p) => xs[p]);
  const st = strides(xs);
  return { shape, values: gatherRef(x, shape, (idx) => idx.reduce((a, v, k) => a + v * st[perm[k]], 0)) };
}

describe('Transpose, Expand, Tile', () => {
  test.each(DTYPES)('Transpose x=[2,3,4] perm=[1,2,0] and default %s', (dt) => {
    const x = input(dt, [2, 3, 4]);
    const v = sample(dt, 24);
    const a = transposeRef(v, [2, 3, 4], [1, 2, 0]);
    expectTensor(run('Transpose', [x], { perm: [1, 2, 0] })[0], dt, a.shape, a.values);
    const b = transposeRef(v, [2, 3, 4], [2, 1, 0]);
    expectTensor(run('Transpose', [x])[0], dt, b.shape, b.values);
  });

  test.each([
    [[64, 96], [1, 0]],
    [[2, 3, 40, 50], [0, 2, 3, 1]],
    [[2, 30, 40, 5], [0, 3, 1, 2]],
    [[3, 1, 4, 1, 5], [4, 2, 0, 3, 1]],
    [[7], [0]],
    [[], []],
    [[3, 0, 2], [2, 0, 1]],
  ])('Transpose x=%j perm=%j', (xs, perm) => {
    const v = sample('float32', size(xs));
    const a = transposeRef(v, xs, perm);
    expectTensor(run('Transpose', [f32(v, xs)], { perm })[0], 'float32', a.shape, a.values);
  });

  test('Transpose errors', () => {
    expect(() => run('Transpose', [input('float32', [2, 3])], { perm: [0, 0] })).toThrow(/Transpose: perm \[0,0\] is not a permutation/);
    expect(() => run('Transpose', [input('float32', [2, 3])], { perm: [0] })).toThrow(/not a permutation/);
  });

  test.each([
    [[3, 1], [2, 1, 6], [2, 3, 6]],
    [[3, 1], [3, 4], [3, 4]],
    [[1], [2, 3], [2, 3]],
    [[2, 3], [1], [2, 3]],
    [[4, 1, 5], [1, 3, 1], [4, 3, 5]],
    [[1, 2], [0, 1], [0, 2]],
  ])('Expand x=%j shape=%j', (xs, spec, want) => {
    for (const dt of DTYPES) {
      const v = sample(dt, size(xs));
      const off = want.length - xs.length;
      const ref = gatherRef(v, want, (idx) => ravel(xs.map((d, k) => (d === 1 ? 0 : idx[off + k])), xs));
      expectTensor(run('Expand', [tt(dt, v, xs), i64(spec)])[0], dt, want, ref);
    }
  });

  test('Expand errors', () => {
    expect(() => run('Expand', [input('float32', [3, 2]), i64([3, 4])])).toThrow(/Expand: shapes \[3,2\] and \[3,4\] do not broadcast/);
  });

  test.each([
    [[2, 3], [2, 2]],
    [[2, 3], [1, 3]],
    [[2, 1, 3], [3, 2, 1]],
    [[4], [0]],
    [[5], [4]],
  ])('Tile x=%j repeats=%j', (xs, reps) => {
    for (const dt of DTYPES) {
      const v = sample(dt, size(xs));
      const want = xs.map((d, k) => d * reps[k]);
      expectTensor(run('Tile', [tt(dt, v, xs), i64(reps)])[0], dt, want, gatherRef(v, want, (idx) => ravel(idx.map((j, k) => j % xs[k]), xs)));
    }
  });

  test('Tile errors', () => {
    expect(() => run('Tile', [input('float32', [2, 3]), i64([2])])).toThrow(/Tile: repeats \[2\] must have one entry per input dimension/);
    expect(() => run('Tile', [input('float32', [2]), i64([-1])])).toThrow(/non-negative/);
  });
});

describe('Concat, Split', () => {
  test.each(DTYPES)('Concat [2,1,3] [2,2,3] [2,0,3] axis=1 and axis=-2 %s', (dt) => {
    const shapes = [[2, 1, 3], [2, 2, 3], [2, 0, 3]];
    const vs = shapes.map((s, i) => sample(dt, size(s), i + 1));
    const want: number[] = [];
    for (let o = 0; o < 2; o++) vs.forEach((v, i) => want.push(...v.slice(o * shapes[i][1] * 3, (o + 1) * shapes[i][1] * 3)));
    for (const axis of [1, -2]) {
      expectTensor(run('Concat', vs.map((v, i) => tt(dt, v, shapes[i])), { axis })[0], dt, [2, 3, 3], want);
    }
  });

  test('Concat x=[2,3]+[4,3] axis=0, [1000,64]+[1000,32] axis=1, single input', () => {
    const a = sample('float32', 6);
    const b = sample('float32', 12, 2);
    expectTensor(run('Concat', [f32(a, [2, 3]), f32(b, [4, 3])], { axis: 0 })[0], 'float32', [6, 3], [...a, ...b]);
    const p = sample('float32', 64000, 3);
    const q = sample('float32', 32000, 4);
    const want: number[] = [];
    for (let r = 0; r < 1000; r++) want.push(...p.slice(r * 64, r * 64 + 64), ...q.slice(r * 32, r * 32 + 32));
    expectTensor(run('Concat', [f32(p, [1000, 64]), f32(q, [1000, 32])], { axis: 1 })[0], 'float32', [1000, 96], want);
    expectTensor(run('Concat', [f32(a, [6])], { axis: 0 })[0], 'float32', [6], a);
  });

  test('Concat errors', () => {
    expect(() => run('Concat', [input('float32', [2, 3]), input('float32', [2, 4])], { axis: 0 })).toThrow(/Concat: input 1 \[2,4\] does not match input 0 \[2,3\] outside axis 0/);
    expect(() => run('Concat', [input('float32', [2, 3]), input('int32', [2, 3])], { axis: 0 })).toThrow(/every input must be float32/);
    expect(() => run('Concat', [input('float32', [2, 3])], { axis: 2 })).toThrow(/axis 2 is out of range/);
    expect(() => run('Concat', [input('float32', [2, 3])])).toThrow(/attribute "axis" is required/);
  });

  /** Split reference: the parts along axis. */
  function splitRef(v: number[], xs: number[], axis: number, sizes: number[]): { shape: number[]; values: number[] }[] {
    let at = 0;
    return sizes.map((s) => {
      const shape = [...xs];
      shape[axis] = s;
      const from = at;
      at += s;
      return { shape, values: gatherRef(v, shape, (idx) => ravel(idx.map((j, k) => (k === axis ? j + from : j)), xs)) };
    });
  }

  test.each(DTYPES)('Split x=[2,6] axis=1 split=[1,3,2] %s', (dt) => {
    const v = sample(dt, 12);
    const outs = run('Split', [tt(dt, v, [2, 6]), i64([1, 3, 2])], { axis: 1 }, 3);
    splitRef(v, [2, 6], 1, [1, 3, 2]).forEach((r, i) => expectTensor(outs[i], dt, r.shape, r.values));
  });

  test.each([
    [[6, 2], 0, 3, {}, [2, 2, 2]],
    [[7, 2], 0, 3, { num_outputs: 3 }, [3, 3, 1]],
    [[2, 7], -1, 4, {}, [2, 2, 2, 1]],
    [[4, 5], 1, 2, { num_outputs: 2 }, [3, 2]],
  ])('Split x=%j axis=%d into %d parts %j', (xs, axis, n, attrs, sizes) => {
    const v = sample('int64', size(xs));
    const outs = run('Split', [tt('int64', v, xs)], { axis, ...attrs }, n);
    const a = axis < 0 ? axis + xs.length : axis;
    splitRef(v, xs, a, sizes).forEach((r, i) => expectTensor(outs[i], 'int64', r.shape, r.values));
  });

  test('Split with zero-size parts and a big float tensor', () => {
    const v = sample('float32', 6);
    const outs = run('Split', [f32(v, [6]), i64([0, 6, 0])], {}, 3);
    expectTensor(outs[0], 'float32', [0], []);
    expectTensor(outs[1], 'float32', [6], v);
    expectTensor(outs[2], 'float32', [0], []);
    const big = sample('float32', 200 * 300, 5);
    const parts = run('Split', [f32(big, [200, 300]), i64([100, 200])], { axis: 1 }, 2);
    splitRef(big, [200, 300], 1, [100, 200]).forEach((r, i) => expectTensor(parts[i], 'float32', r.shape, r.values));
  });

  test('Split errors', () => {
    expect(() => run('Split', [input('float32', [6]), i64([1, 2])], {}, 2)).toThrow(/Split: split \[1,2\] must sum to dimension 0 \(6\)/);
    expect(() => run('Split', [input('float32', [6]), i64([3, 3])], {}, 3)).toThrow(/one entry per output/);
    expect(() => run('Split', [input('float32', [6])], { num_outputs: 2 }, 3)).toThrow(/num_outputs \(2\) must equal the number of outputs \(3\)/);
    expect(() => run('Split', [input('float32', [5])], {}, 4)).toThrow(/cannot split dimension 5 into 4 parts/);
  });
});

/** Slice reference, written from the spec's index list per axis. */
function sliceRef(v: number[], xs: number[], starts: number[], ends: number[], axes?: number[], steps?: number[]): { shape: number[]; values: number[] } {
  const lists = xs.map((d) => Array.from({ length: d }, (_, i) => i));
  (axes ?? starts.map((_, i) => i)).forEach((a0, i) => {
    const a = a0 < 0 ? a0 + xs.length : a0;
    const d = xs[a];
    const st = steps?.[i] ?? 1;
    let s = starts[i] < 0 ? starts[i] + d : starts[i];
    let e = ends[i] < 0 ? ends[i] + d : ends[i];
    const picked: number[] = [];
    if (st > 0) {
      s = Math.max(0, Math.min(d, s));
      e = Math.max(0, Math.min(d, e));
      for (let j = s; j < e; j += st) picked.push(j);
    } else {
      s = Math.max(-1, Math.min(d - 1, s));
      e = Math.max(-1, Math.min(d - 1, e));
      for (let j = s; j > e; j += st) picked.push(j);
    }
    lists[a] = picked;
  });
  const shape = lists.map((l) => l.length);
  return { shape, values: gatherRef(v, shape, (idx) => ravel(idx.map((j, k) => lists[k][j]), xs)) };
}

describe('Slice', () => {
  const MAX = 9223372036854775807n;
  const big = (vals: (number | bigint)[]): nn.TypedTensor => new nn.TypedTensor('int64', BigInt64Array.from(vals.map((x) => BigInt(x))), [vals.length]);

  test.each<[number[], number[], number[], number[] | undefined, number[] | undefined]>([
    [[20, 10, 5], [0, 0], [3, 10], undefined, undefined],
    [[20, 10, 5], [0, 0, 3], [20, 10, 4], [0, 1, 2], [1, 1, 1]],
    [[20, 10, 5], [1], [1000], [1], [3]],
    [[20, 10, 5], [-1], [-1000], [-2], [-1]],
    [[20, 10, 5], [20, 10, 4], [0, 0, 1], [0, 1, 2], [-1, -3, -2]],
    [[20, 10, 5], [5], [3], [0], [1]],
    [[20, 10, 5], [1000], [1000], [1], [1]],
    [[20, 10, 5], [0, -3], [-1, -1], [-1, -2], [2, 1]],
    [[4], [-5], [5], undefined, [2]],
    [[4], [10], [-10], undefined, [-1]],
    [[300, 400], [10, 3], [290, 399], undefined, undefined],
  ])('Slice x=%j starts=%j ends=%j axes=%j steps=%j', (xs, starts, ends, axes, steps) => {
    const v = sample('float32', size(xs));
    const r = sliceRef(v, xs, starts, ends, axes, steps);
    const ins: nn.OpInput[] = [f32(v, xs), i64(starts), i64(ends), axes ? i64(axes) : null, steps ? i64(steps) : null];
    expectTensor(run('Slice', ins)[0], 'float32', r.shape, r.values);
  });

  test.each(DTYPES)('Slice x=[3,4,5] every dtype, int32 starts, reversed %s', (dt) => {
    const v = sample(dt, 60);
    const r = sliceRef(v, [3, 4, 5], [2, 1], [-4, 4], [0, 2], [-1, 2]);
    expectTensor(run('Slice', [tt(dt, v, [3, 4, 5]), i32([2, 1]), i32([-4, 4]), i32([0, 2]), i32([-1, 2])])[0], dt, r.shape, r.values);
  });

  test('Slice with INT64_MAX / INT64_MIN ends clamps', () => {
    const v = sample('float32', 10);
    expectTensor(run('Slice', [f32(v, [10]), big([2]), big([MAX])])[0], 'float32', [8], v.slice(2));
    expectTensor(run('Slice', [f32(v, [10]), big([MAX]), big([-MAX - 1n]), null, big([-1])])[0], 'float32', [10], [...v].reverse());
    expectTensor(run('Slice', [f32(v, [10]), big([-MAX - 1n]), big([MAX]), null, big([MAX])])[0], 'float32', [1], [v[0]]);
  });

  test('Slice errors', () => {
    const x = input('float32', [4, 5]);
    expect(() => run('Slice', [x, i64([0]), i64([1]), null, i64([0])])).toThrow(/Slice: steps must not be 0/);
    expect(() => run('Slice', [x, i64([0, 0]), i64([1])])).toThrow(/must have the same length/);
    expect(() => run('Slice', [x, i64([0]), i64([1]), i64([2])])).toThrow(/axis 2 is out of range/);
    expect(() => run('Slice', [x, i64([0, 0]), i64([1, 1]), i64([1, -1])])).toThrow(/repeat an axis/);
  });
});

/** Pad reference: numpy's np.pad for the modes ONNX names, after cropping negative pads. */
function padRef(v: number[], xs: number[], pads: number[], mode: string, value: number, axes?: number[]): { shape: number[]; values: number[] } {
  const ax = (axes ?? xs.map((_, i) => i)).map((a) => (a < 0 ? a + xs.length : a));
  const pb = xs.map(() => 0);
  const pe = xs.map(() => 0);
  ax.forEach((a, i) => {
    pb[a] = pads[i];
    pe[a] = pads[i + ax.length];
  });
  const lo = xs.map((_, k) => Math.max(0, -pb[k]));
  const cd = xs.map((d, k) => d - lo[k] - Math.max(0, -pe[k]));
  const shape = xs.map((_, k) => cd[k] + Math.max(0, pb[k]) + Math.max(0, pe[k]));
  const src = (t: number, n: number): number => {
    if (t >= 0 && t < n) return t;
    if (mode === 'constant') return -1;
    if (mode === 'edge') return t < 0 ? 0 : n - 1;
    if (mode === 'wrap') return ((t % n) + n) % n;
    // reflect, step by step as numpy does
    if (n === 1) return 0;
    let u = t;
    while (u < 0 || u >= n) u = u < 0 ? -u : 2 * (n - 1) - u;
    return u;
  };
  return {
    shape,
    values: gatherRef(v, shape, (idx) => {
      const s = idx.map((j, k) => src(j - Math.max(0, pb[k]), cd[k]));
      return s.some((x) => x < 0) ? -1 : ravel(s.map((x, k) => x + lo[k]), xs);
    }, value),
  };
}

describe('Pad', () => {
  test.each<[number[], number[], string, number[] | undefined]>([
    [[3, 4], [1, 2, 0, 3], 'constant', undefined],
    [[3, 4], [2, 2, 2, 2], 'reflect', undefined],
    [[3, 4], [5, 7, 3, 9], 'reflect', undefined],
    [[3, 4], [1, 3, 2, 1], 'edge', undefined],
    [[3, 4], [4, 5, 2, 9], 'wrap', undefined],
    [[3, 4], [-1, 2, 0, -2], 'constant', undefined],
    [[3, 4], [-1, 2, 1, -2], 'reflect', undefined],
    [[2, 3, 4], [1, 2], 'edge', [-1]],
    [[2, 3, 4], [1, 0, 0, 2], 'constant', [0, 2]],
    [[1, 5], [0, 3, 0, 3], 'reflect', undefined],
    [[64, 300], [2, 1, 3, 4], 'reflect', undefined],
  ])('Pad x=%j pads=%j mode=%s axes=%j', (xs, pads, mode, axes) => {
    const v = sample('float32', size(xs));
    const r = padRef(v, xs, pads, mode, 2.5, axes);
    const ins: nn.OpInput[] = [f32(v, xs), i64(pads), f32([2.5], []), axes ? i64(axes) : null];
    expectTensor(run('Pad', ins, { mode })[0], 'float32', r.shape, r.values);
  });

  test.each(DTYPES)('Pad x=[2,3] every dtype: constant value and default 0, reflect %s', (dt) => {
    const v = sample(dt, 6);
    const fill = dt === 'bool' ? 1 : dt === 'float16' ? 0x3c00 : 7;
    const a = padRef(v, [2, 3], [1, 1, 0, 2], 'constant', fill);
    expectTensor(run('Pad', [tt(dt, v, [2, 3]), i64([1, 1, 0, 2]), tt(dt, [fill], [])])[0], dt, a.shape, a.values);
    const b = padRef(v, [2, 3], [1, 1, 0, 2], 'constant', 0);
    expectTensor(run('Pad', [tt(dt, v, [2, 3]), i64([1, 1, 0, 2])])[0], dt, b.shape, b.values);
    const c = padRef(v, [2, 3], [1, 2, 1, 2], 'reflect', 0);
    expectTensor(run('Pad', [tt(dt, v, [2, 3]), i64([1, 2, 1, 2])], { mode: 'reflect' })[0], dt, c.shape, c.values);
  });

  test('Pad float16 data with a float32 constant_value (from opset < 11 attributes)', () => {
    expectTensor(run('Pad', [tt('float16', [0x3c00], [1]), i64([1, 0]), f32([-2], [])])[0], 'float16', [2], [0xc000, 0x3c00]);
  });

  test('Pad errors', () => {
    const x = input('float32', [3, 4]);
    expect(() => run('Pad', [x, i64([1, 1])])).toThrow(/Pad: pads \[1,1\] must have 2 entries per padded axis \(4\)/);
    expect(() => run('Pad', [x, i64([-2, 0, -2, 0])])).toThrow(/crop more than dimension 0/);
    expect(() => run('Pad', [input('float32', [0, 4]), i64([1, 0, 0, 0])], { mode: 'edge' })).toThrow(/cannot pad an empty dimension 0 in edge mode/);
    expect(() => run('Pad', [x, i64([0, 0, 0, 0])], { mode: 'symmetric' })).toThrow(/"symmetric" is not supported/);
    expect(() => run('Pad', [x, i64([0, 0, 0, 0]), i32([1, 2], [2])])).toThrow(/constant_value must have one element/);
  });
});

describe('DepthToSpace, SpaceToDepth', () => {
  /** DepthToSpace reference from the spec's reshape/transpose/reshape. */
  function d2s(v: number[], [n, c, h, w]: number[], b: number, mode: string): { shape: number[]; values: number[] } {
    const c2 = c / (b * b);
    const shape = [n, c2, h * b, w * b];
    return {
      shape,
      values: gatherRef(v, shape, ([i, k, y, x]) => {
        const b1 = y % b;
        const b2 = x % b;
        const ch = mode === 'DCR' ? (b1 * b + b2) * c2 + k : k * b * b + b1 * b + b2;
        return ravel([i, ch, Math.floor(y / b), Math.floor(x / b)], [n, c, h, w]);
      }),
    };
  }

  test.each([
    [[1, 8, 2, 3], 2, 'DCR'],
    [[2, 8, 2, 3], 2, 'CRD'],
    [[1, 18, 3, 2], 3, 'DCR'],
    [[1, 18, 3, 2], 3, 'CRD'],
    [[2, 4, 1, 1], 1, 'DCR'],
  ])('DepthToSpace x=%j blocksize=%d mode=%s', (xs, b, mode) => {
    for (const dt of DTYPES) {
      const v = sample(dt, size(xs));
      const r = d2s(v, xs, b, mode);
      expectTensor(run('DepthToSpace', [tt(dt, v, xs)], { blocksize: b, mode })[0], dt, r.shape, r.values);
    }
  });

  test.each([
    [[1, 2, 4, 6], 2],
    [[2, 3, 6, 3], 3],
  ])('SpaceToDepth x=%j blocksize=%d is DepthToSpace DCR inverted', (xs, b) => {
    for (const dt of DTYPES) {
      const v = sample(dt, size(xs));
      const [n, c, h, w] = xs;
      const shape = [n, c * b * b, h / b, w / b];
      const want = gatherRef(v, shape, ([i, ch, y, x]) => {
        const k = ch % c;
        const blk = Math.floor(ch / c);
        return ravel([i, k, y * b + Math.floor(blk / b), x * b + (blk % b)], xs);
      });
      const out = run('SpaceToDepth', [tt(dt, v, xs)], { blocksize: b })[0];
      expectTensor(out, dt, shape, want);
      expectTensor(run('DepthToSpace', [out], { blocksize: b })[0], dt, xs, v);
    }
  });

  test('DepthToSpace / SpaceToDepth errors', () => {
    expect(() => run('DepthToSpace', [input('float32', [1, 6, 2, 2])], { blocksize: 2 })).toThrow(/DepthToSpace: channels \(6\) must be a multiple of blocksize\^2/);
    expect(() => run('DepthToSpace', [input('float32', [6, 2, 2])], { blocksize: 2 })).toThrow(/must be 4-D/);
    expect(() => run('SpaceToDepth', [input('float32', [1, 1, 3, 4])], { blocksize: 2 })).toThrow(/SpaceToDepth: height and width \[3,4\] must be multiples of blocksize 2/);
    expect(() => run('SpaceToDepth', [input('float32', [1, 1, 4, 4])], { blocksize: 0 })).toThrow(/blocksize must be >= 1/);
  });
});

describe('async and labels', () => {
  test('nn.async.runOp Transpose x=[3,5] matches the sync call', async () => {
    const x = input('int32', [3, 5]);
    const [a] = await nn.async.runOp('Transpose', [x]);
    expect(got(a)).toEqual(got(run('Transpose', [x])[0]));
    expect(label(a.shape)).toBe('[5,3]');
  });
});

describe('thread count', () => {
  test('Transpose x=[3,160,200] perm=[2,0,1], Pad reflect, Tile: the same bytes on 1 and 4 threads', () => {
    const before = nn.getThreads();
    const x = input('float32', [3, 160, 200]);
    const bytes = (o: nn.OpOutput): Buffer => Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength);
    const ops = (): Buffer[] => [
      bytes(run('Transpose', [x], { perm: [2, 0, 1] })[0]),
      bytes(run('Pad', [x, i64([0, 3, 5, 0, 4, 6])], { mode: 'reflect' })[0]),
      bytes(run('Tile', [x, i64([2, 1, 3])])[0]),
    ];
    try {
      nn.setThreads(1);
      const one = ops();
      nn.setThreads(4);
      ops().forEach((b, i) => expect(b.equals(one[i])).toBe(true));
    } finally {
      nn.setThreads(before);
    }
  });
});
