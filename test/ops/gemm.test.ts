// gemm against the plain-JS oracle on every available backend.
import * as nn from '../../lib';
import { availableBackends, expectClose, gemmOracle, randomTensor, reportUnavailable } from '../helpers';

const backends = availableBackends();
reportUnavailable('gemm');

afterAll(() => nn.setBackend(backends[0]));

describe.each(backends)('gemm on %s', (backend) => {
  beforeAll(() => nn.setBackend(backend));

  const sizes: [number, number, number][] = [
    [1, 1, 1],
    [1, 7, 3],
    [7, 1, 5],
    [7, 7, 7],
    [63, 17, 1],
    [63, 63, 63],
    [2, 257, 9],
    [257, 3, 31],
    [64, 257, 63],
  ];
  // K is at most 257 so double-precision oracle vs float32 BLAS stays within 1e-4 relative.
  const transCombos: [boolean, boolean][] = [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ];

  describe.each(transCombos)('transA=%s transB=%s', (transA, transB) => {
    test.each(sizes)('M=%i N=%i K=%i', (M, N, K) => {
      const a = randomTensor(transA ? [K, M] : [M, K], M * 31 + K);
      const b = randomTensor(transB ? [N, K] : [K, N], N * 17 + K);
      const y = nn.gemm(a, b, { transA, transB });
      expect(y.shape).toEqual([M, N]);
      expect(y).toBeInstanceOf(nn.Tensor);
      expectClose(y.data, gemmOracle(a, b, { transA, transB }), 1e-4, 1e-5 + 1e-6 * K);
    });
  });

  test('257x257x257, the largest odd size', () => {
    const a = randomTensor([257, 257], 1);
    const b = randomTensor([257, 257], 2);
    expectClose(nn.gemm(a, b).data, gemmOracle(a, b), 1e-4, 1e-3);
  });

  describe('alpha, beta and c broadcasting (M=5 N=6 K=4)', () => {
    const M = 5;
    const N = 6;
    const K = 4;
    const a = randomTensor([M, K], 3);
    const b = randomTensor([K, N], 4);
    const cShapes: number[][] = [[], [1], [N], [1, N], [M, 1], [M, N], [1, 1]];
    test.each(cShapes.map((s) => [JSON.stringify(s), s]))('c shape %s', (_label, shape) => {
      const c = randomTensor(shape as number[], 5 + (shape as number[]).length);
      const opts = { alpha: 0.75, beta: -1.5, c };
      expectClose(nn.gemm(a, b, opts).data, gemmOracle(a, b, opts));
    });

    test('alpha=0 gives beta*c', () => {
      const c = randomTensor([M, N], 9);
      const y = nn.gemm(a, b, { alpha: 0, beta: 2, c });
      expectClose(y.data, Array.from(c.data, (v) => 2 * v));
    });

    test('beta=0 ignores c, even NaN in out', () => {
      const c = nn.tensor(new Float32Array(M * N).fill(NaN), [M, N]);
      const out = nn.tensor(new Float32Array(M * N).fill(NaN), [M, N]);
      nn.gemm(a, b, { beta: 0, c, out });
      expectClose(out.data, gemmOracle(a, b));
    });

    test('no c: beta has no effect', () => {
      expectClose(nn.gemm(a, b, { beta: 123 }).data, gemmOracle(a, b));
    });
  });

  describe('out', () => {
    test('writes into out and returns it, no copy', () => {
      const a = randomTensor([3, 4], 1);
      const b = randomTensor([4, 2], 2);
      const out = nn.tensor(new Float32Array(6), [3, 2]);
      const y = nn.gemm(a, b, { out });
      expect(y).toBe(out);
      expectClose(out.data, gemmOracle(a, b));
    });

    test('out === c accumulates in place', () => {
      const a = randomTensor([3, 4], 1);
      const b = randomTensor([4, 2], 2);
      const c = randomTensor([3, 2], 3);
      const want = gemmOracle(a, b, { c, beta: 0.5 });
      nn.gemm(a, b, { c, beta: 0.5, out: c });
      expectClose(c.data, want);
    });

    test('subarray views are honoured (byteOffset)', () => {
      const big = new Float32Array(100);
      big.set(randomTensor([12], 4).data, 10);
      big.set(randomTensor([8], 5).data, 40);
      const a = nn.tensor(big.subarray(10, 22), [3, 4]);
      const b = nn.tensor(big.subarray(40, 48), [4, 2]);
      const out = nn.tensor(big.subarray(60, 66), [3, 2]);
      nn.gemm(a, b, { out });
      expectClose(out.data, gemmOracle(a, b));
      expect(big[59]).toBe(0);
      expect(big[66]).toBe(0);
    });

    test('plain { data, shape } objects work as tensors', () => {
      const a = { data: randomTensor([2, 3], 1).data, shape: [2, 3] };
      const b = { data: randomTensor([3, 2], 2).data, shape: [3, 2] };
      expectClose(nn.gemm(a, b).data, gemmOracle(a, b));
    });
  });
});

describe('backend switch changes the implementation', () => {
  test('each backend reports itself active and agrees with the others', () => {
    const a = randomTensor([40, 30], 11);
    const b = randomTensor([30, 20], 12);
    const results = backends.map((name) => {
      nn.setBackend(name);
      expect(nn.getBackend()).toBe(name);
      return nn.gemm(a, b).data;
    });
    for (const r of results) expectClose(r, results[0], 1e-4, 1e-4);
  });
});
