// Index-driven data ops (src/kernels/data_index.cc): Gather, GatherElements,
// GatherND, ScatterND, ScatterElements, OneHot, Trilu, on every dtype, against
// plain-JS references; hostile indices are RangeErrors.
import * as nn from '../../lib';
import type { DType } from '../../lib/dtype';
import { DTYPES, expectTensor, f32, gatherRef, got, i32, i64, input, ravel, run, sample, size, strides, tt, unravel } from './data-helpers';

describe('Gather', () => {
  test.each(DTYPES)('Gather x=[5,4,3] axis=1 indices=[2,2] (negative, int64 and int32) %s', (dt) => {
    const xs = [5, 4, 3];
    const v = sample(dt, 60);
    const ind = [0, -1, 3, -4];
    const shape = [5, 2, 2, 3];
    const want = gatherRef(v, shape, ([a, i, j, c]) => {
      const k = ind[i * 2 + j];
      return ravel([a, k < 0 ? k + 4 : k, c], xs);
    });
    expectTensor(run('Gather', [tt(dt, v, xs), i64(ind, [2, 2])], { axis: 1 })[0], dt, shape, want);
    expectTensor(run('Gather', [tt(dt, v, xs), i32(ind, [2, 2])], { axis: -2 })[0], dt, shape, want);
  });

  test.each([
    [[6], 0, [3], [5, 0, -6]],
    [[6, 2], 0, [], [4]],
    [[3, 1000], 0, [4], [2, 0, 2, 1]],
    [[2, 3, 4], 2, [0], []],
    [[2, 3, 4], -1, [2, 1], [3, 0]],
  ])('Gather x=%j axis=%d indices shape %j', (xs, axis, is, ind) => {
    const v = sample('float32', size(xs));
    const a = axis < 0 ? axis + xs.length : axis;
    const shape = [...xs.slice(0, a), ...is, ...xs.slice(a + 1)];
    const want = gatherRef(v, shape, (idx) => {
      const pre = idx.slice(0, a);
      const k = ind[is.length === 0 ? 0 : ravel(idx.slice(a, a + is.length), is)];
      return ravel([...pre, k < 0 ? k + xs[a] : k, ...idx.slice(a + is.length)], xs);
    });
    expectTensor(run('Gather', [f32(v, xs), i64(ind, is)], { axis })[0], 'float32', shape, want);
  });

  test('Gather errors: indices out of range are RangeErrors', () => {
    const x = input('float32', [3, 4]);
    expect(() => run('Gather', [x, i64([3])])).toThrow(RangeError);
    expect(() => run('Gather', [x, i64([3])])).toThrow(/Gather: index 3 is out of range for a dimension of 3/);
    expect(() => run('Gather', [x, i64([-4])])).toThrow(/index -4 is out of range/);
    expect(() => run('Gather', [x, i32([2 ** 31 - 1])], { axis: 1 })).toThrow(/out of range/);
    expect(() => run('Gather', [x, i64([0])], { axis: 2 })).toThrow(/axis 2 is out of range/);
    expect(() => run('Gather', [x, f32([0])])).toThrow(/input 1 \("indices"\) of type float32 is not supported/);
  });
});

describe('GatherElements', () => {
  /** out[i] = x[i with axis replaced by indices[i]]. */
  function ref(v: number[], xs: number[], ind: number[], is: number[], axis: number): number[] {
    return gatherRef(v, is, (idx) => {
      const k = ind[ravel(idx, is)];
      const m = [...idx];
      m[axis] = k < 0 ? k + xs[axis] : k;
      return ravel(m, xs);
    });
  }

  test.each(DTYPES)('GatherElements x=[3,3] indices=[2,3] axis=0 and 1 %s', (dt) => {
    const v = sample(dt, 9);
    const ind = [1, 2, 0, -1, 0, 2];
    for (const axis of [0, 1, -1]) {
      const a = axis < 0 ? axis + 2 : axis;
      expectTensor(run('GatherElements', [tt(dt, v, [3, 3]), i64(ind, [2, 3])], { axis })[0], dt, [2, 3], ref(v, [3, 3], ind, [2, 3], a));
    }
  });

  test('GatherElements x=[4,5,6] indices=[2,5,3] axis=1 and [4,3,6] axis=2', () => {
    const v = sample('int64', 120);
    const ind1 = sample('uint8', 30).map((u) => (u % 10) - 5);
    expectTensor(run('GatherElements', [tt('int64', v, [4, 5, 6]), i32(ind1, [2, 5, 3])], { axis: 1 })[0], 'int64', [2, 5, 3], ref(v, [4, 5, 6], ind1, [2, 5, 3], 1));
    const ind2 = sample('uint8', 72).map((u) => u % 6);
    expectTensor(run('GatherElements', [tt('int64', v, [4, 5, 6]), i64(ind2, [4, 3, 6])], { axis: 2 })[0], 'int64', [4, 3, 6], ref(v, [4, 5, 6], ind2, [4, 3, 6], 2));
  });

  test('GatherElements errors', () => {
    const x = input('float32', [3, 3]);
    expect(() => run('GatherElements', [x, i64([3], [1, 1])])).toThrow(/GatherElements: index 3 is out of range for a dimension of 3/);
    expect(() => run('GatherElements', [x, i64([0, 0, 0, 0], [1, 4])])).toThrow(/exceed data \[3,3\] outside axis 0/);
    expect(() => run('GatherElements', [x, i64([0], [1])])).toThrow(/must have the rank of data/);
  });
});

describe('GatherND', () => {
  /** GatherND reference from the spec's definition. */
  function ref(v: number[], xs: number[], ind: number[], is: number[], b: number): { shape: number[]; values: number[] } {
    const k = is[is.length - 1];
    const shape = [...is.slice(0, -1), ...xs.slice(b + k)];
    const values = gatherRef(v, shape, (idx) => {
      const tuple = idx.slice(0, is.length - 1);
      const base = ravel([...tuple, 0], is);
      const sel = ind.slice(base, base + k).map((t, j) => (t < 0 ? t + xs[b + j] : t));
      return ravel([...idx.slice(0, b), ...sel, ...idx.slice(is.length - 1)], xs);
    });
    return { shape, values };
  }

  test.each<[number[], number[], number[], number]>([
    [[2, 2], [0, 0, 1, 1], [2, 2], 0],
    [[2, 2], [1, 0], [2, 1], 0],
    [[2, 2, 2], [0, 1, 1, 0], [2, 2], 0],
    [[2, 2, 2], [1, 0], [2, 1], 1],
    [[2, 3, 4], [1, -1, 0, 1, 1, 0], [2, 1, 3], 0],
    [[2, 3, 4], [2, -1, 0, 1], [2, 2, 1], 1],
    [[2, 3, 4], [3, 0], [2, 3, 1], 2],
  ])('GatherND x=%j indices=%j of shape %j batch_dims=%d', (xs, ind0, is, b) => {
    const n = size(is);
    const ind = Array.from({ length: n }, (_, i) => ind0[i % ind0.length]);
    for (const dt of DTYPES) {
      const v = sample(dt, size(xs));
      const r = ref(v, xs, ind, is, b);
      expectTensor(run('GatherND', [tt(dt, v, xs), i64(ind, is)], { batch_dims: b })[0], dt, r.shape, r.values);
    }
  });

  test('GatherND errors', () => {
    const x = input('float32', [2, 3]);
    expect(() => run('GatherND', [x, i64([0, 3], [1, 2])])).toThrow(/GatherND: index 3 is out of range for a dimension of 3/);
    expect(() => run('GatherND', [x, i64([0, 0, 0], [1, 3])])).toThrow(/last dimension \(3\) must be in \[1, rank\(data\) - batch_dims\]/);
    expect(() => run('GatherND', [x, i64([0], [1, 1])], { batch_dims: 2 })).toThrow(/batch_dims 2 must be in/);
    expect(() => run('GatherND', [x, i64([0, 0, 0], [3, 1])], { batch_dims: 1 })).toThrow(/batch dims of indices \[3,1\] and data \[2,3\] differ/);
  });
});

/** Reduction as the kernel does it, in the dtype (ints wrap as C++ casts do). */
function reduceVal(dt: DType, a: number, b: number, red: string): number {
  let r: number;
  switch (red) {
    case 'add': r = dt === 'bool' ? Number(a || b) : a + b; break;
    case 'mul': r = dt === 'bool' ? Number(a && b) : a * b; break;
    case 'max': r = Math.max(a, b); break;
    case 'min': r = Math.min(a, b); break;
    default: r = b;
  }
  switch (dt) {
    case 'float32': return Math.fround(r);
    case 'int8': return (r << 24) >> 24;
    case 'uint8': return r & 0xff;
    case 'int32': return r | 0;
    default: return r + 0; // integers have no -0
  }
}

/** Small values so products stay exact in every dtype. */
const small = (dt: DType, n: number, seed: number): number[] => sample('uint8', n, seed).map((u) => (dt === 'bool' ? u & 1 : dt === 'uint8' ? u % 5 : (u % 7) - 3));

describe('ScatterND', () => {
  const DTS: DType[] = ['float32', 'int32', 'int64', 'int8', 'uint8', 'bool'];
  test.each(['none', 'add', 'mul', 'max', 'min'])('ScatterND x=[4,4,4] indices=[[0],[2],[-2]] updates=[3,4,4] reduction=%s', (red) => {
    for (const dt of DTS) {
      const v = small(dt, 64, 1);
      const u = small(dt, 48, 2);
      const ind = [0, 2, -2]; // 2 and -2 are the same slice: applied in order
      const want = [...v];
      ind.forEach((k, t) => {
        const base = (k < 0 ? k + 4 : k) * 16;
        for (let j = 0; j < 16; j++) want[base + j] = reduceVal(dt, want[base + j], u[t * 16 + j], red);
      });
      expectTensor(run('ScatterND', [tt(dt, v, [4, 4, 4]), i64(ind, [3, 1]), tt(dt, u, [3, 4, 4])], { reduction: red })[0], dt, [4, 4, 4], want);
    }
  });

  test('ScatterND x=[2,3] element tuples, float16 add', () => {
    const one = 0x3c00;
    const two = 0x4000;
    const out = run('ScatterND', [tt('float16', [one, one, one, one, one, one], [2, 3]), i64([1, 2, 0, 0], [2, 2]), tt('float16', [one, one], [2])], { reduction: 'add' })[0];
    expectTensor(out, 'float16', [2, 3], [two, one, one, one, one, two]);
    expectTensor(run('ScatterND', [f32([1, 2, 3, 4, 5, 6], [2, 3]), i64([1, 2], [1, 2]), f32([9], [1])])[0], 'float32', [2, 3], [1, 2, 3, 4, 5, 9]);
  });

  test('ScatterND errors', () => {
    const x = input('float32', [2, 3]);
    expect(() => run('ScatterND', [x, i64([2], [1, 1]), input('float32', [1, 3])])).toThrow(/ScatterND: index 2 is out of range for a dimension of 2/);
    expect(() => run('ScatterND', [x, i64([1], [1, 1]), input('float32', [1, 2])])).toThrow(/updates must have shape \[1,3\], got \[1,2\]/);
    expect(() => run('ScatterND', [x, i64([1], [1, 1]), input('int32', [1, 3])])).toThrow(/updates must be float32/);
    expect(() => run('ScatterND', [x, i64([1], [1, 1]), input('float32', [1, 3])], { reduction: 'avg' })).toThrow(/"avg" is not supported/);
  });
});

describe('ScatterElements', () => {
  test.each(['none', 'add', 'mul', 'max', 'min'])('ScatterElements x=[3,4] indices=[2,4] axis=0,1 reduction=%s', (red) => {
    for (const dt of ['float32', 'int32', 'int64', 'int8', 'uint8', 'bool'] as DType[]) {
      for (const axis of [0, 1, -1]) {
        const a = axis < 0 ? axis + 2 : axis;
        const v = small(dt, 12, 3);
        const u = small(dt, 8, 4);
        const ind = a === 0 ? [0, 2, -1, 1, 2, 2, 0, -3] : [3, 0, 0, -1, 1, 1, 2, -4];
        const want = [...v];
        for (let i = 0; i < 8; i++) {
          const m = [Math.floor(i / 4), i % 4];
          m[a] = ind[i] < 0 ? ind[i] + [3, 4][a] : ind[i];
          const j = ravel(m, [3, 4]);
          want[j] = reduceVal(dt, want[j], u[i], red);
        }
        expectTensor(run('ScatterElements', [tt(dt, v, [3, 4]), i64(ind, [2, 4]), tt(dt, u, [2, 4])], { axis, reduction: red })[0], dt, [3, 4], want);
      }
    }
  });

  test('ScatterElements errors', () => {
    const x = input('float32', [3, 3]);
    expect(() => run('ScatterElements', [x, i64([5], [1, 1]), input('float32', [1, 1])])).toThrow(/ScatterElements: index 5 is out of range/);
    expect(() => run('ScatterElements', [x, i64([0], [1, 1]), input('float32', [1, 2])])).toThrow(/must have the shape of indices/);
  });
});

describe('OneHot', () => {
  test.each<[number[], number, number]>([
    [[2, 3], -1, 5],
    [[2, 3], 0, 4],
    [[2, 3], 1, 3],
    [[4], -2, 6],
    [[], 0, 3],
  ])('OneHot indices=%j axis=%d depth=%d', (is, axis, depth) => {
    const ind = sample('uint8', size(is), 7).map((u) => (u % (2 * depth + 2)) - depth - 1); // some out of range
    const r = is.length;
    const a = axis < 0 ? axis + r + 1 : axis;
    const shape = [...is.slice(0, a), depth, ...is.slice(a)];
    for (const [dt, off, on] of [['float32', -1, 2.5], ['int64', 0, 9], ['bool', 0, 1], ['int8', 3, -3]] as [DType, number, number][]) {
      const want = Array.from({ length: size(shape) }, (_, i) => {
        const idx = unravel(i, shape);
        const k = idx[a];
        const src = [...idx.slice(0, a), ...idx.slice(a + 1)];
        let h = ind[ravel(src, is)];
        if (h < 0) h += depth;
        return h === k ? on : off;
      });
      expectTensor(run('OneHot', [tt('int64', ind, is), i64([depth], []), tt(dt, [off, on])], { axis })[0], dt, shape, want);
    }
  });

  test('OneHot float indices are truncated, errors', () => {
    expectTensor(run('OneHot', [f32([1.7, -1.2]), f32([3], [1]), f32([0, 1])])[0], 'float32', [2, 3], [0, 1, 0, 0, 0, 1]);
    expect(() => run('OneHot', [i64([1]), i64([0], []), f32([0, 1])])).toThrow(/OneHot: depth must be in \[1, 2\^31\)/);
    expect(() => run('OneHot', [i64([1]), i64([3], []), f32([0, 1, 2])])).toThrow(/values must have two elements/);
    expect(() => run('OneHot', [i64([1]), i64([3], []), f32([0, 1])], { axis: 2 })).toThrow(/axis 2 is out of range/);
  });
});

describe('Trilu', () => {
  test.each<[number[], number | undefined, number]>([
    [[4, 5], undefined, 1],
    [[4, 5], undefined, 0],
    [[2, 3, 4], 1, 1],
    [[2, 3, 4], -1, 0],
    [[5, 3], 10, 1],
    [[5, 3], -10, 0],
    [[3, 3], -7, 1],
    [[0, 3], 0, 1],
  ])('Trilu x=%j k=%j upper=%d', (xs, k, upper) => {
    for (const dt of DTYPES) {
      const v = sample(dt, size(xs));
      const m = xs[xs.length - 1];
      const n = xs[xs.length - 2];
      const kk = k ?? 0;
      const want = v.map((x, i) => {
        const col = i % m;
        const row = Math.floor(i / m) % n;
        const keep = upper ? col - row >= kk : col - row <= kk;
        return keep ? x : 0;
      });
      const ins: nn.OpInput[] = [tt(dt, v, xs)];
      if (k !== undefined) ins.push(i64([k], []));
      expectTensor(run('Trilu', ins, { upper })[0], dt, xs, want);
    }
  });

  test('Trilu errors', () => {
    expect(() => run('Trilu', [input('float32', [4])])).toThrow(/Trilu: input must have rank >= 2/);
    expect(() => run('Trilu', [input('float32', [2, 2]), i32([0], [])])).toThrow(/input 1 \("k"\) of type int32 is not supported/);
  });
});

describe('large float tensors', () => {
  test('Gather rows of x=[1000,256] and Transpose x=[256,1000] stay exact', () => {
    const v = sample('float32', 256000);
    const ind = Array.from({ length: 300 }, (_, i) => (i * 37) % 1000);
    const g = got(run('Gather', [f32(v, [1000, 256]), i64(ind)])[0]);
    expect(g.shape).toEqual([300, 256]);
    expect(g.values.every((x, i) => x === v[ind[Math.floor(i / 256)] * 256 + (i % 256)])).toBe(true);
    const t = got(run('Transpose', [f32(v, [256, 1000])])[0]);
    const st = strides([256, 1000]);
    expect(t.values.every((x, i) => x === v[(i % 256) * st[0] + Math.floor(i / 256)])).toBe(true);
  });
});
