// Elementwise ops (activations, prelu, softmax, add/mul) against plain-JS
// float64 oracles on every available backend.
import * as nn from '../../lib';
import { availableBackends, expectClose, randomTensor, reportUnavailable } from '../helpers';

const backends = availableBackends();
reportUnavailable('elementwise');
afterAll(() => nn.setBackend(backends[0]));

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const label = (s: readonly number[]): string => JSON.stringify(s);

/** numpy broadcast of two shapes (the tests only use compatible ones). */
function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, i) => Math.max(a[a.length - r + i] ?? 1, b[b.length - r + i] ?? 1));
}

/** Index into a tensor of shape `s` for output multi-index `idx` under broadcasting. */
function bIndex(s: readonly number[], idx: number[]): number {
  let off = 0;
  const lead = idx.length - s.length;
  for (let i = 0; i < s.length; i++) off = off * s[i] + (s[i] === 1 ? 0 : idx[lead + i]);
  return off;
}

function* indices(shape: readonly number[]): Generator<number[]> {
  const idx = new Array<number>(shape.length).fill(0);
  for (let n = 0; n < size(shape); n++) {
    yield idx;
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
}

function binaryOracle(a: nn.TensorLike, b: nn.TensorLike, f: (x: number, y: number) => number): Float64Array {
  const shape = broadcastShape(a.shape, b.shape);
  const y = new Float64Array(size(shape));
  let i = 0;
  for (const idx of indices(shape)) y[i++] = f(a.data[bIndex(a.shape, idx)], b.data[bIndex(b.shape, idx)]);
  return y;
}

function softmaxOracle(x: nn.TensorLike, axis: number, log: boolean): Float64Array {
  const s = x.shape;
  const ax = axis < 0 ? axis + s.length : axis;
  const outer = size(s.slice(0, ax));
  const n = s[ax];
  const inner = size(s.slice(ax + 1));
  const y = new Float64Array(x.data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number): number => (o * n + k) * inner + i;
      let mx = -Infinity;
      for (let k = 0; k < n; k++) mx = Math.max(mx, x.data[at(k)]);
      let sum = 0;
      for (let k = 0; k < n; k++) sum += Math.exp(x.data[at(k)] - mx);
      for (let k = 0; k < n; k++) y[at(k)] = log ? x.data[at(k)] - mx - Math.log(sum) : Math.exp(x.data[at(k)] - mx) / sum;
    }
  }
  return y;
}

/** Values in [-scale, scale), so activations see both tails. */
function spread(shape: number[], seed: number, scale: number): nn.Tensor {
  const t = randomTensor(shape, seed);
  for (let i = 0; i < t.data.length; i++) t.data[i] *= scale;
  return t;
}

const unaryCases: [string, (x: nn.Tensor, o?: { out?: nn.Tensor }) => nn.Tensor, (v: number) => number][] = [
  ['relu', (x, o) => nn.relu(x, o), (v) => Math.max(v, 0)],
  ['leakyRelu default alpha', (x, o) => nn.leakyRelu(x, undefined, o), (v) => (v >= 0 ? v : 0.01 * v)],
  ['leakyRelu alpha=0.2', (x, o) => nn.leakyRelu(x, 0.2, o), (v) => (v >= 0 ? v : 0.2 * v)],
  ['sigmoid', (x, o) => nn.sigmoid(x, o), (v) => 1 / (1 + Math.exp(-v))],
  ['tanh', (x, o) => nn.tanh(x, o), (v) => Math.tanh(v)],
  ['clip [0,6]', (x, o) => nn.clip(x, 0, 6, o), (v) => Math.min(Math.max(v, 0), 6)],
  ['clip [-Infinity,0.5]', (x, o) => nn.clip(x, -Infinity, 0.5, o), (v) => Math.min(v, 0.5)],
  ['clip [-0.5,Infinity]', (x, o) => nn.clip(x, -0.5, Infinity, o), (v) => Math.max(v, -0.5)],
  ['clip defaults (no bounds)', (x, o) => nn.clip(x, undefined, undefined, o), (v) => v],
];
const unaryShapes: number[][] = [[1], [7], [2, 3, 4], [1, 3, 5, 7], []];

describe.each(backends)('elementwise on %s', (backend) => {
  beforeAll(() => nn.setBackend(backend));

  describe.each(unaryCases)('%s', (_name, op, f) => {
    test.each(unaryShapes.map((s) => [label(s), s]))('x=%s', (_l, shape) => {
      const x = spread(shape as number[], size(shape as number[]) + 3, 8);
      const y = op(x);
      expect(y.shape).toEqual(shape);
      expectClose(y.data, Array.from(x.data, f));
    });

    test('in place: out === x', () => {
      const x = spread([3, 4, 5], 11, 8);
      const want = Array.from(x.data, f);
      const y = op(x, { out: x });
      expect(y).toBe(x);
      expectClose(x.data, want);
    });

    test('extreme inputs x=[±100, ±1e30, 0]', () => {
      const x = nn.tensor(new Float32Array([100, -100, 1e30, -1e30, 0]), [5]);
      const y = op(x);
      expectClose(y.data, Array.from(x.data, f));
    });
  });

  test('NaN passes through every activation', () => {
    const nan = nn.tensor(new Float32Array([NaN]), [1]);
    for (const y of [nn.relu(nan), nn.leakyRelu(nan), nn.sigmoid(nan), nn.tanh(nan), nn.prelu(nan, nn.tensor(new Float32Array([0.5]), []))]) {
      expect(Number.isNaN(y.data[0])).toBe(true);
    }
  });

  test('clip keeps NaN', () => {
    const y = nn.clip(nn.tensor(new Float32Array([NaN, 3]), [2]), 0, 1);
    expect(Number.isNaN(y.data[0])).toBe(true);
    expect(y.data[1]).toBe(1);
  });

  test('out: writes into a separate tensor and returns it', () => {
    const x = spread([4, 4], 2, 1);
    const out = nn.tensor(new Float32Array(16).fill(NaN), [4, 4]);
    expect(nn.relu(x, { out })).toBe(out);
    expectClose(out.data, Array.from(x.data, (v) => Math.max(v, 0)));
  });

  describe('prelu', () => {
    const cases: [number[], number[]][] = [
      [[2, 3, 4, 5], [3, 1, 1]],
      [[2, 3, 4, 5], [1, 3, 1, 1]],
      [[2, 3, 4, 5], [5]],
      [[2, 3, 4, 5], []],
      [[2, 3, 4, 5], [1]],
      [[2, 3, 4, 5], [2, 3, 4, 5]],
      [[2, 3, 4, 5], [4, 1]],
      [[4, 3], [3]],
      [[7], [7]],
    ];
    test.each(cases.map(([x, s]) => [label(x), label(s), x, s]))('x=%s slope=%s', (_a, _b, xs, ss) => {
      const x = spread(xs as number[], 5, 2);
      const slope = randomTensor(ss as number[], 6);
      const y = nn.prelu(x, slope);
      expect(y.shape).toEqual(xs);
      expectClose(y.data, binaryOracle(x, slope, (v, s) => (v < 0 ? s * v : v)));
    });

    test('in place: out === x', () => {
      const x = spread([2, 3, 2, 2], 7, 2);
      const slope = randomTensor([3, 1, 1], 8);
      const want = binaryOracle(x, slope, (v, s) => (v < 0 ? s * v : v));
      nn.prelu(x, slope, { out: x });
      expectClose(x.data, want);
    });
  });

  describe('softmax and logSoftmax', () => {
    const shape = [2, 3, 4, 5];
    const x = spread(shape, 21, 4);
    const axes = [0, 1, 2, 3, -1, -2, -3, -4];
    test.each(axes)('softmax x=[2,3,4,5] axis=%i', (axis) => {
      expectClose(nn.softmax(x, { axis }).data, softmaxOracle(x, axis, false));
    });
    test.each(axes)('logSoftmax x=[2,3,4,5] axis=%i', (axis) => {
      expectClose(nn.logSoftmax(x, { axis }).data, softmaxOracle(x, axis, true));
    });

    test('default axis is -1', () => {
      expectClose(nn.softmax(x).data, softmaxOracle(x, -1, false));
      expectClose(nn.logSoftmax(x).data, softmaxOracle(x, -1, true));
    });

    test('each row sums to 1: x=[3,1000]', () => {
      const big = spread([3, 1000], 4, 10);
      const y = nn.softmax(big);
      for (let r = 0; r < 3; r++) {
        let s = 0;
        for (let k = 0; k < 1000; k++) s += y.data[r * 1000 + k];
        expect(Math.abs(s - 1)).toBeLessThan(1e-5);
      }
    });

    test.each([1000, -1000, 80, 1e30])('stable for large inputs around %d, x=[2,4]', (base) => {
      const big = nn.tensor(new Float32Array([base, base + 1, base + 2, base + 3, base, base, base, base].map(Math.fround)), [2, 4]);
      const y = nn.softmax(big);
      expect(y.data.every((v) => Number.isFinite(v))).toBe(true);
      expectClose(y.data, softmaxOracle(big, -1, false));
      const ly = nn.logSoftmax(big);
      expect(ly.data.every((v) => Number.isFinite(v))).toBe(true);
      expectClose(ly.data, softmaxOracle(big, -1, true));
    });

    test('rank 1 x=[10] and x=[1]', () => {
      const v = spread([10], 9, 3);
      expectClose(nn.softmax(v).data, softmaxOracle(v, 0, false));
      expectClose(nn.softmax(nn.tensor(new Float32Array([5]), [1])).data, [1]);
    });

    test('in place: out === x', () => {
      const v = spread([3, 6], 10, 3);
      const want = softmaxOracle(v, 1, false);
      expect(nn.softmax(v, { axis: 1, out: v })).toBe(v);
      expectClose(v.data, want);
    });
  });

  describe('add, mul, sub and div with broadcasting', () => {
    const cases: [number[], number[]][] = [
      [[2, 3, 4], [2, 3, 4]],
      [[2, 3, 4], [4]],
      [[4], [2, 3, 4]],
      [[2, 1, 4], [3, 1]],
      [[2, 3], []],
      [[], [2, 3]],
      [[], []],
      [[5], [1]],
      [[3, 1, 5], [1, 4, 1]],
      [[2, 3, 4, 5], [3, 1, 1]],
      [[2, 3, 4, 5], [1, 3, 1, 1]],
      [[1, 1, 1], [2, 1, 3]],
      [[2, 1, 2, 1, 2, 1, 2, 1], [1, 2, 1, 2, 1, 2, 1, 2]],
      [[17, 33], [17, 1]],
    ];
    const ops: [string, typeof nn.add, (a: number, b: number) => number][] = [
      ['add', nn.add, (a, b) => a + b],
      ['mul', nn.mul, (a, b) => a * b],
      ['sub', nn.sub, (a, b) => a - b],
      ['div', nn.div, (a, b) => a / b],
    ];
    describe.each(ops)('%s', (_name, op, f) => {
      test.each(cases.map(([a, b]) => [label(a), label(b), a, b]))('a=%s b=%s', (_la, _lb, as, bs) => {
        const a = randomTensor(as as number[], 1 + (as as number[]).length);
        const b = randomTensor(bs as number[], 20 + (bs as number[]).length);
        const y = op(a, b);
        expect(y.shape).toEqual(broadcastShape(as as number[], bs as number[]));
        expectClose(y.data, binaryOracle(a, b, f));
      });

      test('in place: out === a (a has the result shape)', () => {
        const a = randomTensor([2, 3, 4], 1);
        const b = randomTensor([3, 1], 2);
        const want = binaryOracle(a, b, f);
        expect(op(a, b, { out: a })).toBe(a);
        expectClose(a.data, want);
      });

      test('in place: out === b (b has the result shape)', () => {
        const a = randomTensor([4], 1);
        const b = randomTensor([2, 3, 4], 2);
        const want = binaryOracle(a, b, f);
        op(a, b, { out: b });
        expectClose(b.data, want);
      });

      test('a === b', () => {
        const a = randomTensor([3, 3], 3);
        expectClose(op(a, a).data, binaryOracle(a, a, f));
      });
    });
  });
});

describe('fallback', () => {
  test('the BLAS backends run these ops through the reference kernels (counted there)', () => {
    const x = randomTensor([4], 1);
    for (const name of backends.filter((b) => b === 'auto' || b === 'openblas' || b === 'openblas-dl' || b === 'reference')) {
      nn.setBackend(name);
      const before = nn.backends().find((b) => b.name === 'reference')!.opsRun;
      nn.relu(x);
      nn.add(x, x);
      expect(nn.backends().find((b) => b.name === 'reference')!.opsRun).toBe(before + 2);
    }
  });

  const nnpack = backends.includes('nnpack');
  // eslint-disable-next-line no-console
  if (!nnpack) console.warn('SKIPPED elementwise on nnpack: nnpack unavailable (set NEONN_NNPACK_LIBRARY to an NNPACK build)');
  (nnpack ? test : test.skip)('nnpack runs relu and softmax itself, add through the reference kernels', () => {
    nn.setBackend('nnpack');
    try {
      const count = (name: string) => nn.backends().find((b) => b.name === name)!.opsRun;
      const x = randomTensor([3, 40], 1);
      const [n0, r0] = [count('nnpack'), count('reference')];
      const r = nn.relu(x);
      const s = nn.softmax(x, { axis: 1 });
      nn.add(x, x);
      expect([count('nnpack'), count('reference')]).toEqual([n0 + 2, r0 + 1]);
      expect(r.data.every((v, i) => Object.is(v, Math.max(x.data[i], 0)) || (v === 0 && x.data[i] <= 0))).toBe(true);
      expect(r.data.some((v) => Object.is(v, -0))).toBe(false);
      nn.setBackend('reference');
      expectClose(s.data, nn.softmax(x, { axis: 1 }).data, 1e-5, 1e-7);
    } finally {
      nn.setBackend(backends[0]);
    }
  });
});
