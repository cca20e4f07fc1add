// concat, transpose, pad (against plain-JS oracles, every backend) and the
// zero-copy views flatten and reshape.
import * as nn from '../../lib';
import { availableBackends, randomTensor, reportUnavailable } from '../helpers';

const backends = availableBackends();
reportUnavailable('layout');
afterAll(() => nn.setBackend(backends[0]));

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const label = (s: readonly number[]): string => JSON.stringify(s);

function stridesOf(s: readonly number[]): number[] {
  const st = new Array<number>(s.length);
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

/** Calls f(idx, flat) for every multi-index of `shape`, row-major. */
function forEachIndex(shape: readonly number[], f: (idx: number[], flat: number) => void): void {
  const idx = new Array<number>(shape.length).fill(0);
  for (let n = 0; n < size(shape); n++) {
    f(idx, n);
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
}

function concatOracle(ts: nn.TensorLike[], axis: number): number[] {
  const ax = axis < 0 ? axis + ts[0].shape.length : axis;
  const shape = [...ts[0].shape];
  shape[ax] = ts.reduce((s, t) => s + t.shape[ax], 0);
  const y = new Array<number>(size(shape));
  forEachIndex(shape, (idx, flat) => {
    let k = idx[ax];
    let t = 0;
    while (k >= ts[t].shape[ax]) k -= ts[t++].shape[ax];
    const st = stridesOf(ts[t].shape);
    y[flat] = ts[t].data[idx.reduce((o, v, i) => o + (i === ax ? k : v) * st[i], 0)];
  });
  return y;
}

function transposeOracle(x: nn.TensorLike, perm: number[]): number[] {
  const shape = perm.map((p) => x.shape[p]);
  const st = stridesOf(x.shape);
  const y = new Array<number>(size(shape));
  forEachIndex(shape, (idx, flat) => {
    y[flat] = x.data[idx.reduce((o, v, i) => o + v * st[perm[i]], 0)];
  });
  return y;
}

function padOracle(x: nn.TensorLike, pads: number[], value: number): number[] {
  const r = x.shape.length;
  const shape = x.shape.map((d, i) => d + pads[i] + pads[i + r]);
  const st = stridesOf(x.shape);
  const y = new Array<number>(size(shape));
  forEachIndex(shape, (idx, flat) => {
    const src = idx.map((v, i) => v - pads[i]);
    y[flat] = src.every((v, i) => v >= 0 && v < x.shape[i]) ? x.data[src.reduce((o, v, i) => o + v * st[i], 0)] : value;
  });
  return y;
}

describe.each(backends)('layout on %s', (backend) => {
  beforeAll(() => nn.setBackend(backend));

  describe('concat', () => {
    const cases: [number[][], number][] = [
      [[[2, 3, 4], [2, 3, 4]], 0],
      [[[2, 3, 4], [2, 5, 4]], 1],
      [[[2, 3, 4], [2, 3, 1], [2, 3, 6]], 2],
      [[[2, 3, 4], [2, 3, 1], [2, 3, 6]], -1],
      [[[1, 2, 3, 3], [1, 4, 3, 3], [1, 1, 3, 3]], 1],
      [[[1, 2, 3, 3], [1, 4, 3, 3]], -3],
      [[[3], [5]], 0],
      [[[2, 2]], 1],
    ];
    test.each(cases.map(([s, a]) => [s.map(label).join(' '), a, s]))('%s axis=%i', (_l, axis, shapes) => {
      const ts = (shapes as number[][]).map((s, i) => randomTensor(s, i + 1));
      const y = nn.concat(ts, axis as number);
      const want = concatOracle(ts, axis as number);
      expect(Array.from(y.data)).toEqual(want.map(Math.fround));
    });

    test('writes into out', () => {
      const a = randomTensor([2, 2], 1);
      const b = randomTensor([2, 3], 2);
      const out = nn.tensor(new Float32Array(10), [2, 5]);
      expect(nn.concat([a, b], 1, { out })).toBe(out);
      expect(Array.from(out.data)).toEqual(concatOracle([a, b], 1).map(Math.fround));
    });
  });

  describe('transpose', () => {
    const cases: [number[], number[] | undefined][] = [
      [[2, 3], undefined],
      [[2, 3, 4], undefined],
      [[2, 3, 4, 5], [0, 2, 3, 1]],
      [[2, 3, 4, 5], [0, 3, 1, 2]],
      [[2, 3, 4, 5], [3, 2, 1, 0]],
      [[2, 3, 4, 5], [0, 1, 2, 3]],
      [[1, 3, 1, 5, 2], [4, 1, 3, 0, 2]],
      [[7], undefined],
      [[], undefined],
    ];
    test.each(cases.map(([s, p]) => [label(s), p ? label(p) : 'default', s, p]))('x=%s perm=%s', (_l, _p, shape, perm) => {
      const s = shape as number[];
      const x = randomTensor(s, size(s));
      const p = (perm as number[] | undefined) ?? s.map((_, i) => s.length - 1 - i);
      const y = nn.transpose(x, perm as number[] | undefined);
      expect(y.shape).toEqual(p.map((i) => s[i]));
      expect(Array.from(y.data)).toEqual(transposeOracle(x, p));
    });
  });

  describe('pad', () => {
    const cases: [number[], number[], number | undefined][] = [
      [[2, 3], [1, 2, 0, 1], undefined],
      [[2, 3], [0, 0, 0, 0], 5],
      [[1, 2, 3, 3], [0, 0, 1, 1, 0, 0, 1, 1], undefined],
      [[1, 2, 3, 3], [0, 1, 2, 0, 1, 0, 0, 3], -1.5],
      [[4], [3, 2], 7],
      [[2, 4, 5], [0, -1, -2, 0, -1, 1], 9],
      [[3, 3], [-1, -1, -1, -1], 0],
      [[3, 3], [-2, 1, 1, -2], 0],
      [[], [], 0],
    ];
    test.each(cases.map(([s, p, v]) => [label(s), label(p), String(v), s, p, v]))('x=%s pads=%s value=%s', (_l, _p, _v, shape, pads, value) => {
      const x = randomTensor(shape as number[], 3);
      const y = nn.pad(x, pads as number[], value as number | undefined);
      const r = (shape as number[]).length;
      expect(y.shape).toEqual((shape as number[]).map((d, i) => d + (pads as number[])[i] + (pads as number[])[i + r]));
      expect(Array.from(y.data)).toEqual(padOracle(x, pads as number[], (value as number | undefined) ?? 0).map(Math.fround));
    });
  });
});

describe('flatten and reshape are zero-copy views', () => {
  const x = randomTensor([2, 3, 4, 5], 1);

  test.each([
    [0, [1, 120]],
    [1, [2, 60]],
    [2, [6, 20]],
    [4, [120, 1]],
    [-1, [24, 5]],
    [-4, [1, 120]],
  ])('flatten x=[2,3,4,5] axis=%i -> %j', (axis, shape) => {
    const y = nn.flatten(x, axis);
    expect(y.shape).toEqual(shape);
    expect(y.data).toBe(x.data);
  });

  test('flatten default axis=1', () => {
    expect(nn.flatten(x).shape).toEqual([2, 60]);
  });

  test.each([
    [[6, 20], [6, 20]],
    [[-1], [120]],
    [[0, -1], [2, 60]],
    [[0, 0, -1], [2, 3, 20]],
    [[2, -1, 5], [2, 12, 5]],
    [[0, 3, 4, 5], [2, 3, 4, 5]],
    [[120, 1, 1], [120, 1, 1]],
  ])('reshape x=[2,3,4,5] to %j -> %j', (shape, want) => {
    const y = nn.reshape(x, shape);
    expect(y.shape).toEqual(want);
    expect(y.data).toBe(x.data);
  });

  test('writes through a view show in the original', () => {
    const v = nn.reshape(x, [-1]);
    v.data[7] = 42;
    expect(x.data[7]).toBe(42);
  });

  test('with out, the data is copied into out', () => {
    const out = nn.tensor(new Float32Array(120), [2, 60]);
    const y = nn.flatten(x, 1, { out });
    expect(y).toBe(out);
    expect(Array.from(out.data)).toEqual(Array.from(x.data));
    const out2 = nn.tensor(new Float32Array(120), [4, 30]);
    expect(nn.reshape(x, [4, 30], { out: out2 })).toBe(out2);
    expect(Array.from(out2.data)).toEqual(Array.from(x.data));
  });

  test('a scalar reshapes to [1,1] and back', () => {
    const s = nn.tensor(new Float32Array([3]), []);
    expect(nn.reshape(s, [1, 1]).shape).toEqual([1, 1]);
    expect(nn.reshape(nn.reshape(s, [1, 1]), []).shape).toEqual([]);
    expect(nn.flatten(s, 0).shape).toEqual([1, 1]);
  });
});
