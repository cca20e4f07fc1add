// batchNorm and lrn against plain-JS float64 oracles on every available backend.
import * as nn from '../../lib';
import { availableBackends, expectClose, randomTensor, reportUnavailable } from '../helpers';

const backends = availableBackends();
reportUnavailable('normalization');
afterAll(() => nn.setBackend(backends[0]));

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

interface BnParams {
  scale: nn.Tensor;
  bias: nn.Tensor;
  mean: nn.Tensor;
  variance: nn.Tensor;
}

function bnParams(C: number, seed: number): BnParams {
  const variance = randomTensor([C], seed + 3);
  for (let i = 0; i < C; i++) variance.data[i] = Math.abs(variance.data[i]) + 0.1;
  return { scale: randomTensor([C], seed), bias: randomTensor([C], seed + 1), mean: randomTensor([C], seed + 2), variance };
}

function batchNormOracle(x: nn.TensorLike, p: BnParams, epsilon: number): Float64Array {
  const [N, C] = x.shape;
  const inner = size(x.shape.slice(2));
  const y = new Float64Array(x.data.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < inner; i++) {
        const at = (n * C + c) * inner + i;
        y[at] = (p.scale.data[c] * (x.data[at] - p.mean.data[c])) / Math.sqrt(p.variance.data[c] + epsilon) + p.bias.data[c];
      }
    }
  }
  return y;
}

function lrnOracle(x: nn.TensorLike, sz: number, alpha: number, beta: number, bias: number): Float64Array {
  const [N, C] = x.shape;
  const inner = size(x.shape.slice(2));
  const y = new Float64Array(x.data.length);
  const lo = Math.floor((sz - 1) / 2);
  const hi = Math.ceil((sz - 1) / 2);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < inner; i++) {
        let sq = 0;
        for (let k = Math.max(0, c - lo); k <= Math.min(C - 1, c + hi); k++) sq += x.data[(n * C + k) * inner + i] ** 2;
        const at = (n * C + c) * inner + i;
        y[at] = x.data[at] / (bias + (alpha / sz) * sq) ** beta;
      }
    }
  }
  return y;
}

describe.each(backends)('normalization on %s', (backend) => {
  beforeAll(() => nn.setBackend(backend));

  describe('batchNorm', () => {
    const shapes: number[][] = [[2, 3, 4, 5], [2, 3], [1, 4, 3, 3, 2], [1, 1, 1, 1], [3, 16, 7, 7]];
    test.each(shapes.map((s) => [JSON.stringify(s), s]))('x=%s epsilon=1e-5', (_l, shape) => {
      const s = shape as number[];
      const x = randomTensor(s, 7);
      const p = bnParams(s[1], 11);
      const y = nn.batchNorm(x, p);
      expect(y.shape).toEqual(s);
      expectClose(y.data, batchNormOracle(x, p, 1e-5));
    });

    test('x=[2,3,4,4] epsilon=0.5', () => {
      const x = randomTensor([2, 3, 4, 4], 8);
      const p = bnParams(3, 12);
      expectClose(nn.batchNorm(x, { ...p, epsilon: 0.5 }).data, batchNormOracle(x, p, 0.5));
    });

    test('in place: out === x', () => {
      const x = randomTensor([2, 3, 2, 2], 9);
      const p = bnParams(3, 13);
      const want = batchNormOracle(x, p, 1e-5);
      expect(nn.batchNorm(x, { ...p, out: x })).toBe(x);
      expectClose(x.data, want);
    });
  });

  describe('lrn', () => {
    const sizes = [1, 2, 3, 4, 5, 7];
    test.each(sizes)('x=[2,5,3,3] size=%i defaults', (sz) => {
      const x = randomTensor([2, 5, 3, 3], sz);
      const y = nn.lrn(x, { size: sz });
      expect(y.shape).toEqual([2, 5, 3, 3]);
      expectClose(y.data, lrnOracle(x, sz, 1e-4, 0.75, 1));
    });

    test.each(sizes)('x=[1,6,4,4] size=%i alpha=0.5 beta=0.6 bias=2', (sz) => {
      const x = randomTensor([1, 6, 4, 4], 10 + sz);
      for (let i = 0; i < x.data.length; i++) x.data[i] *= 3;
      expectClose(nn.lrn(x, { size: sz, alpha: 0.5, beta: 0.6, bias: 2 }).data, lrnOracle(x, sz, 0.5, 0.6, 2));
    });

    test('AlexNet-like x=[1,96,5,5] size=5 alpha=1e-4 beta=0.75 bias=2', () => {
      const x = randomTensor([1, 96, 5, 5], 3);
      for (let i = 0; i < x.data.length; i++) x.data[i] *= 50;
      expectClose(nn.lrn(x, { size: 5, bias: 2 }).data, lrnOracle(x, 5, 1e-4, 0.75, 2));
    });

    test('rank 2 x=[3,4] and rank 3 x=[2,4,3]', () => {
      const a = randomTensor([3, 4], 1);
      expectClose(nn.lrn(a, { size: 3, alpha: 1 }).data, lrnOracle(a, 3, 1, 0.75, 1));
      const b = randomTensor([2, 4, 3], 2);
      expectClose(nn.lrn(b, { size: 2, alpha: 1 }).data, lrnOracle(b, 2, 1, 0.75, 1));
    });

    test('writes into out', () => {
      const x = randomTensor([1, 3, 2, 2], 4);
      const out = nn.tensor(new Float32Array(12), [1, 3, 2, 2]);
      expect(nn.lrn(x, { size: 3, out })).toBe(out);
      expectClose(out.data, lrnOracle(x, 3, 1e-4, 0.75, 1));
    });
  });
});
