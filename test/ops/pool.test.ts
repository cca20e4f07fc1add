// maxPool2d, avgPool2d and globalAvgPool against the plain-JS oracle on every
// available backend (the BLAS backends fall back to the reference loops).
import * as nn from '../../lib';
import { PoolOracleOptions, globalAvgPoolOracle, poolOracle } from '../conv-oracle';
import { availableBackends, expectClose, randomTensor, reportUnavailable } from '../helpers';

const backends = availableBackends();
reportUnavailable('pool');

afterAll(() => nn.setBackend(backends[0]));

function label(x: number[], o: PoolOracleOptions): string {
  const parts = [`x=${JSON.stringify(x)}`, `k=${JSON.stringify(o.kernel)}`, `s=${JSON.stringify(o.strides ?? 1)}`, `p=${JSON.stringify(o.pads ?? 0)}`];
  if (o.dilations !== undefined) parts.push(`d=${JSON.stringify(o.dilations)}`);
  if (o.ceil) parts.push('ceil');
  if (o.countIncludePad !== undefined) parts.push(`countIncludePad=${o.countIncludePad}`);
  return parts.join(' ');
}

const maxCases: [number[], PoolOracleOptions][] = [
  [[1, 3, 8, 8], { kernel: 2, strides: 2 }],
  [[1, 3, 8, 8], { kernel: 3 }],
  [[2, 2, 8, 8], { kernel: 3, strides: 1, pads: 1 }],
  [[1, 2, 9, 9], { kernel: 3, strides: 2, pads: 1, ceil: true }],
  [[1, 1, 5, 5], { kernel: 2, strides: 2, pads: 1, ceil: true }],
  [[2, 2, 7, 9], { kernel: [3, 2], strides: [2, 3], pads: [1, 0, 1, 1] }],
  [[1, 2, 9, 9], { kernel: 2, dilations: 2 }],
  [[1, 2, 10, 10], { kernel: 3, strides: 2, dilations: [2, 1], pads: [2, 1], ceil: true }],
  [[1, 3, 11, 11], { kernel: 2, strides: 4 }],
  [[1, 4, 1, 1], { kernel: 1 }],
  [[1, 4, 1, 1], { kernel: 2, pads: [0, 0, 1, 1] }],
  [[1, 64, 13, 13], { kernel: 3, strides: 2, ceil: true }],
];

const avgCases: [number[], PoolOracleOptions][] = [
  [[1, 3, 8, 8], { kernel: 2, strides: 2 }],
  [[2, 2, 8, 8], { kernel: 3, pads: 1, countIncludePad: false }],
  [[2, 2, 8, 8], { kernel: 3, pads: 1, countIncludePad: true }],
  [[1, 2, 6, 6], { kernel: 3, strides: 2, pads: 1, ceil: true, countIncludePad: false }],
  [[1, 2, 6, 6], { kernel: 3, strides: 2, pads: 1, ceil: true, countIncludePad: true }],
  [[1, 2, 7, 6], { kernel: [3, 2], strides: [2, 1], pads: [2, 0, 0, 1], countIncludePad: true }],
  [[1, 2, 7, 6], { kernel: [3, 2], strides: [2, 1], pads: [2, 0, 0, 1], countIncludePad: false }],
  [[1, 1, 5, 5], { kernel: 2, strides: 2, ceil: true }],
  [[1, 3, 11, 11], { kernel: 2, strides: 4 }],
  [[1, 4, 1, 1], { kernel: 1 }],
];

describe.each(backends)('pooling on %s', (backend) => {
  beforeAll(() => nn.setBackend(backend));

  describe('maxPool2d', () => {
    test.each(maxCases.map(([x, o]) => [label(x, o), x, o] as const))('%s', (_l, xs, o) => {
      const x = randomTensor(xs, xs.reduce((a, b) => a + b, 3));
      const want = poolOracle('max', x, o);
      const y = nn.maxPool2d(x, o);
      expect(y.shape).toEqual(want.shape);
      expectClose(y.data, want.data, 0, 0);
    });

    test('padded cells never win: all-negative input, pads 1', () => {
      const x = nn.tensor(randomTensor([1, 2, 4, 4], 5).data.map((v) => -1 - Math.abs(v)), [1, 2, 4, 4]);
      const y = nn.maxPool2d(x, { kernel: 3, pads: 1 });
      expect(Math.max(...y.data)).toBeLessThan(-1);
      expectClose(y.data, poolOracle('max', x, { kernel: 3, pads: 1 }).data, 0, 0);
    });

    test('NaN in a window makes that window NaN', () => {
      const data = new Float32Array([1, 2, 3, 4, NaN, 6, 7, 8, 9]);
      const y = nn.maxPool2d(nn.tensor(data, [1, 1, 3, 3]), { kernel: 2 });
      expect(Array.from(y.data).map((v) => Number.isNaN(v))).toEqual([true, true, true, true]);
      const z = nn.maxPool2d(nn.tensor(data, [1, 1, 3, 3]), { kernel: 1 });
      expect(z.data[0]).toBe(1);
    });
  });

  describe('avgPool2d', () => {
    test.each(avgCases.map(([x, o]) => [label(x, o), x, o] as const))('%s', (_l, xs, o) => {
      const x = randomTensor(xs, xs.reduce((a, b) => a * 2 + b, 1));
      const want = poolOracle('avg', x, o);
      const y = nn.avgPool2d(x, o);
      expect(y.shape).toEqual(want.shape);
      expectClose(y.data, want.data);
    });

    test('countIncludePad changes only the border: ones in, corners 4/9 vs 1', () => {
      const x = nn.tensor(new Float32Array(16).fill(1), [1, 1, 4, 4]);
      const incl = nn.avgPool2d(x, { kernel: 3, pads: 1, countIncludePad: true });
      const excl = nn.avgPool2d(x, { kernel: 3, pads: 1 });
      expect(incl.data[0]).toBeCloseTo(4 / 9, 6);
      expect(incl.data[5]).toBeCloseTo(1, 6);
      expect(Array.from(excl.data)).toEqual(new Array(16).fill(1));
    });
  });

  describe('globalAvgPool', () => {
    test.each([[[2, 3, 5, 7]], [[1, 4, 1, 1]], [[1, 8, 13, 13]]])('x=%j', (xs) => {
      const x = randomTensor(xs, 17);
      const y = nn.globalAvgPool(x);
      expect(y.shape).toEqual([xs[0], xs[1], 1, 1]);
      expectClose(y.data, globalAvgPoolOracle(x));
    });
  });

  test('out: written, returned, stale NaN overwritten (all three ops)', () => {
    const x = randomTensor([2, 3, 6, 6], 4);
    const o1 = nn.tensor(new Float32Array(2 * 3 * 3 * 3).fill(NaN), [2, 3, 3, 3]);
    expect(nn.maxPool2d(x, { kernel: 2, strides: 2, out: o1 })).toBe(o1);
    expectClose(o1.data, poolOracle('max', x, { kernel: 2, strides: 2 }).data);
    const o2 = nn.tensor(new Float32Array(2 * 3 * 3 * 3).fill(NaN), [2, 3, 3, 3]);
    expect(nn.avgPool2d(x, { kernel: 2, strides: 2, out: o2 })).toBe(o2);
    expectClose(o2.data, poolOracle('avg', x, { kernel: 2, strides: 2 }).data);
    const o3 = nn.tensor(new Float32Array(6).fill(NaN), [2, 3, 1, 1]);
    expect(nn.globalAvgPool(x, { out: o3 })).toBe(o3);
    expectClose(o3.data, globalAvgPoolOracle(x));
  });
});

describe('pooling falls back to the reference loops', () => {
  test('on a BLAS backend the reference backend counts the op', () => {
    const blas = backends.filter((b) => b === 'auto' || b === 'openblas' || b === 'openblas-dl');
    for (const name of blas) {
      nn.setBackend(name);
      const ref = () => nn.backends().find((b) => b.name === 'reference')!.opsRun;
      const before = ref();
      nn.maxPool2d(randomTensor([1, 1, 4, 4], 1), { kernel: 2 });
      expect(ref()).toBe(before + 1);
    }
  });
});

describe('pooling on nnpack', () => {
  const nnpack = backends.includes('nnpack');
  // eslint-disable-next-line no-console
  if (!nnpack) console.warn('SKIPPED pooling on nnpack: nnpack unavailable (set NEONN_NNPACK_LIBRARY to an NNPACK build)');
  (nnpack ? test : test.skip)('2x2 stride-2 max pooling runs on NNPACK, other shapes on the reference loops', () => {
    nn.setBackend('nnpack');
    try {
      const count = (name: string) => nn.backends().find((b) => b.name === name)!.opsRun;
      const x = randomTensor([1, 8, 10, 10], 3);
      const [n0, r0] = [count('nnpack'), count('reference')];
      const y = nn.maxPool2d(x, { kernel: 2, strides: 2 });
      expect([count('nnpack'), count('reference')]).toEqual([n0 + 1, r0]);
      expectClose(y.data, poolOracle('max', x, { kernel: 2, strides: 2 }).data, 0, 0);
      const z = nn.maxPool2d(x, { kernel: 3, strides: 2 });
      expect(count('reference')).toBe(r0 + 1);
      expectClose(z.data, poolOracle('max', x, { kernel: 3, strides: 2 }).data, 0, 0);
    } finally {
      nn.setBackend(backends[0]);
    }
  });
});
