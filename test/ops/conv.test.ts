// conv2d and fullyConnected against the plain-JS oracle on every available backend.
import * as nn from '../../lib';
import { ConvOracleOptions, convOracle, fullyConnectedOracle, pads4, pair } from '../conv-oracle';
import { availableBackends, convTolerance, expectClose, randomTensor, reportUnavailable } from '../helpers';

const backends = availableBackends();
reportUnavailable('conv2d');

afterAll(() => nn.setBackend(backends[0]));

interface ConvCase {
  x: number[];
  w: number[];
  o?: ConvOracleOptions & { bias?: never };
  bias?: boolean;
}

function label(c: ConvCase): string {
  const o = c.o ?? {};
  const parts = [`x=${JSON.stringify(c.x)}`, `w=${JSON.stringify(c.w)}`];
  parts.push(`s=${JSON.stringify(o.strides ?? 1)}`, `p=${JSON.stringify(o.pads ?? 0)}`);
  if (o.dilations !== undefined) parts.push(`d=${JSON.stringify(o.dilations)}`);
  if (o.group !== undefined) parts.push(`g=${o.group}`);
  if (c.bias) parts.push('bias');
  if (o.activation === 'relu') parts.push('relu');
  return parts.join(' ');
}

const convCases: ConvCase[] = [
  { x: [1, 3, 8, 8], w: [4, 3, 3, 3], o: { strides: 1, pads: 1 } },
  { x: [1, 3, 8, 8], w: [4, 3, 3, 3] },
  { x: [2, 3, 9, 7], w: [5, 3, 3, 2], o: { strides: 2, pads: [1, 0, 2, 1] } },
  { x: [1, 3, 9, 12], w: [4, 3, 3, 5], o: { strides: [1, 2], dilations: [2, 1], pads: [2, 1] } },
  { x: [1, 4, 10, 10], w: [6, 4, 3, 3], o: { dilations: 2, pads: 2 } },
  { x: [2, 4, 7, 7], w: [6, 2, 3, 3], o: { group: 2, pads: 1 } },
  { x: [2, 6, 11, 10], w: [9, 2, 3, 2], o: { group: 3, strides: [2, 1], dilations: [1, 2], pads: [1, 2, 0, 1], activation: 'relu' }, bias: true },
  { x: [1, 8, 9, 9], w: [8, 1, 3, 3], o: { group: 8, pads: 1 } },
  { x: [2, 6, 10, 11], w: [6, 1, 3, 3], o: { group: 6, strides: 2, pads: [0, 1, 1, 0] } },
  { x: [1, 4, 9, 9], w: [4, 1, 3, 3], o: { group: 4, dilations: 2, pads: 2 } },
  { x: [1, 3, 6, 6], w: [6, 1, 3, 3], o: { group: 3 } },
  { x: [1, 2, 11, 11], w: [3, 2, 2, 2], o: { strides: 3 } },
  { x: [1, 5, 1, 1], w: [4, 5, 1, 1] },
  { x: [1, 3, 1, 1], w: [2, 3, 3, 3], o: { pads: 1 } },
  { x: [2, 16, 7, 5], w: [8, 16, 1, 1] },
  { x: [1, 16, 7, 5], w: [8, 16, 1, 1], o: { strides: 2 } },
  { x: [1, 8, 4, 4], w: [6, 4, 1, 1], o: { group: 2 } },
  { x: [1, 8, 6, 6], w: [6, 8, 1, 1], o: { pads: 1 } },
  { x: [2, 3, 8, 8], w: [4, 3, 3, 3], o: { pads: 1, activation: 'relu' }, bias: true },
  { x: [1, 6, 8, 8], w: [6, 1, 3, 3], o: { group: 6, pads: 1, activation: 'relu' }, bias: true },
  { x: [2, 16, 5, 5], w: [8, 16, 1, 1], o: { activation: 'relu' }, bias: true },
  { x: [1, 1, 6, 6], w: [4, 1, 3, 3] },
  { x: [1, 2, 3, 3], w: [2, 2, 5, 5], o: { pads: 1 } },
  { x: [1, 2, 3, 3], w: [2, 2, 2, 2], o: { pads: 3 }, bias: true },
  { x: [1, 16, 20, 20], w: [32, 16, 3, 3], o: { pads: 1 }, bias: true },
];

describe.each(backends)('conv2d on %s', (backend) => {
  beforeAll(() => nn.setBackend(backend));

  test.each(convCases.map((c) => [label(c), c] as const))('%s', (_label, c) => {
    const x = randomTensor(c.x, c.x.reduce((a, b) => a + b, 7));
    const w = randomTensor(c.w, c.w.reduce((a, b) => a * 3 + b, 1));
    const bias = c.bias ? randomTensor([c.w[0]], 99) : undefined;
    const opts = { ...c.o, ...(bias ? { bias } : {}) };
    const want = convOracle(x, w, opts);
    const y = nn.conv2d(x, w, opts);
    expect(y).toBeInstanceOf(nn.Tensor);
    expect(y.shape).toEqual(want.shape);
    const k = c.w[1] * c.w[2] * c.w[3];
    expectClose(y.data, want.data, 1e-4, 1e-5 + 1e-6 * k);
  });

  test('pads forms: 1, [1,1] and [1,1,1,1] agree', () => {
    const x = randomTensor([1, 2, 5, 5], 1);
    const w = randomTensor([3, 2, 3, 3], 2);
    const a = nn.conv2d(x, w, { pads: 1 }).data;
    expect(nn.conv2d(x, w, { pads: [1, 1] }).data).toEqual(a);
    expect(nn.conv2d(x, w, { pads: [1, 1, 1, 1] }).data).toEqual(a);
    expect(pads4([1, 2])).toEqual([1, 2, 1, 2]);
    expect(pair(3, 1)).toEqual([3, 3]);
  });

  test('out: written in place, returned, and stale contents (NaN) never leak', () => {
    const x = randomTensor([1, 3, 6, 6], 3);
    const w = randomTensor([4, 3, 3, 3], 4);
    const out = nn.tensor(new Float32Array(4 * 4 * 4).fill(NaN), [1, 4, 4, 4]);
    const y = nn.conv2d(x, w, { out });
    expect(y).toBe(out);
    expectClose(out.data, convOracle(x, w).data);
  });

  test('out as a subarray view of a bigger buffer; neighbours untouched', () => {
    const big = new Float32Array(200);
    const x = randomTensor([1, 2, 4, 4], 5);
    const w = randomTensor([2, 2, 1, 1], 6);
    const out = nn.tensor(big.subarray(50, 82), [1, 2, 4, 4]);
    nn.conv2d(x, w, { out });
    expectClose(out.data, convOracle(x, w).data);
    expect(big[49]).toBe(0);
    expect(big[82]).toBe(0);
  });

  test('plain { data, shape } objects work', () => {
    const x = { data: randomTensor([18], 1).data, shape: [1, 2, 3, 3] };
    const w = { data: randomTensor([8], 2).data, shape: [2, 2, 2, 1] };
    expectClose(nn.conv2d(x, w).data, convOracle(x, w).data);
  });

  test('relu without bias clamps negatives to exactly 0', () => {
    const x = randomTensor([1, 2, 5, 5], 8);
    const w = randomTensor([3, 2, 3, 3], 9);
    const y = nn.conv2d(x, w, { activation: 'relu' });
    expect(Math.min(...y.data)).toBe(0);
    expectClose(y.data, convOracle(x, w, { activation: 'relu' }).data);
  });
});

describe.each(backends)('fullyConnected on %s', (backend) => {
  beforeAll(() => nn.setBackend(backend));

  const fcCases: [string, number[], number[], boolean][] = [
    ['x=[1,10] w=[4,10]', [1, 10], [4, 10], false],
    ['x=[3,7] w=[5,7] bias', [3, 7], [5, 7], true],
    ['x=[2,3,4,4] w=[6,48] (flattened)', [2, 3, 4, 4], [6, 48], true],
    ['x=[4,257] w=[63,257] bias', [4, 257], [63, 257], true],
    ['x=[1,1] w=[1,1]', [1, 1], [1, 1], false],
  ];
  test.each(fcCases)('%s', (_label, xs, ws, withBias) => {
    const x = randomTensor(xs, xs[0] + xs.length);
    const w = randomTensor(ws, ws[0] * 5);
    const bias = withBias ? randomTensor([ws[0]], 42) : undefined;
    const y = nn.fullyConnected(x, w, bias ? { bias } : undefined);
    expect(y.shape).toEqual([xs[0], ws[0]]);
    expectClose(y.data, fullyConnectedOracle(x, w, bias), 1e-4, 1e-5 + 1e-6 * ws[1]);
  });

  test('out: filled with NaN beforehand, written and returned', () => {
    const x = randomTensor([2, 5], 1);
    const w = randomTensor([3, 5], 2);
    const bias = randomTensor([3], 3);
    const out = nn.tensor(new Float32Array(6).fill(NaN), [2, 3]);
    expect(nn.fullyConnected(x, w, { bias, out })).toBe(out);
    expectClose(out.data, fullyConnectedOracle(x, w, bias));
  });
});

describe('which backend runs conv2d', () => {
  test('each backend runs conv2d itself (fullyConnected too, or its fallback); all backends agree', () => {
    const x = randomTensor([1, 8, 12, 12], 21);
    const w = randomTensor([16, 8, 3, 3], 22);
    const fx = randomTensor([2, 30], 23);
    const fw = randomTensor([7, 30], 24);
    const results = backends.map((name) => {
      nn.setBackend(name);
      const ops = (): Map<string, number> => new Map(nn.backends().map((b) => [b.name, b.opsRun]));
      const before = ops();
      const y = nn.conv2d(x, w, { pads: 1 });
      expect(ops().get(name)).toBe(before.get(name)! + 1);
      // auto measures convs only: fullyConnected goes down its fallback chain.
      const fc = name === 'auto' ? nn.backends().find((b) => b.name === name)!.fallback! : name;
      const mid = ops();
      nn.fullyConnected(fx, fw);
      expect(ops().get(fc)).toBe(mid.get(fc)! + 1);
      return y.data;
    });
    for (const r of results) expectClose(r, results[0], 1e-4, 1e-4);
  });
});

describe.each(backends)('large layers, im2col built in bands of output rows, on %s', (backend) => {
  beforeAll(() => nn.setBackend(backend));
  afterAll(() => nn.setBackend(backends[0]));

  // K = 64*3*3 = 576 and OW ~ 70: a band is ~13 rows, so these span several
  // bands, with padding and strides at band edges.
  test.each([
    ['x=[1,64,70,70] w=[8,64,3,3] s=1 p=1', [1, 64, 70, 70], [8, 64, 3, 3], { pads: 1 }],
    ['x=[1,64,71,69] w=[8,64,3,3] s=2 p=[0,1,2,1]', [1, 64, 71, 69], [8, 64, 3, 3], { strides: 2, pads: [0, 1, 2, 1] as [number, number, number, number] }],
    ['x=[2,32,90,90] w=[6,16,3,3] g=2 d=2 p=2 relu', [2, 32, 90, 90], [6, 16, 3, 3], { group: 2, dilations: 2, pads: 2, activation: 'relu' as const }],
  ])('%s', (_label, xs, ws, opts) => {
    const x = randomTensor(xs as number[], 31);
    const w = randomTensor(ws as number[], 32);
    const bias = randomTensor([(ws as number[])[0]], 33);
    const y = nn.conv2d(x, w, { bias, ...opts });
    const want = convOracle(x, w, { bias, ...opts });
    expect(y.shape).toEqual(want.shape);
    expectClose(y.data, want.data, ...convTolerance(backend, want.data));
  });
});
