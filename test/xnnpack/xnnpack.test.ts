// The xnnpack backend on the XNNPACK built into the addon: listed as built in,
// conv2d on XNNPACK's operator for every kind of shape it takes, pooling and
// fullyConnected routed to XNNPACK or the fallback with the results of the
// reference backend either way, NaN and infinity kept as neonn defines them,
// and models (Sequential, ONNX) run on it. The general op suites run on it
// too (they take every available backend); these cover what is particular to
// it. A build without XNNPACK (NEONN_XNNPACK=OFF) skips them, loudly.
import { spawnSync } from 'child_process';
import * as path from 'path';

import * as nn from '../../lib';
import { convOracle, poolOracle, PoolOracleOptions } from '../conv-oracle';
import { expectClose, onBackend as on, randomTensor } from '../helpers';

const info = nn.backends().find((b) => b.name === 'xnnpack');
const available = info?.available === true;
if (!available) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED xnnpack backend tests: xnnpack unavailable (${info?.reason ?? 'not registered'})`);
}
const suite = available ? describe : describe.skip;

const initialBackend = nn.getBackend();
const initialThreads = nn.getThreads();
afterAll(() => {
  nn.setBackend(initialBackend);
  nn.setThreads(initialThreads);
});

const stats = (name: string): nn.BackendInfo => nn.backends().find((b) => b.name === name)!;

/** Values with some sign changes and a few exact zeros, as activations have. */
function activations(shape: number[], seed: number): nn.Tensor {
  const t = randomTensor(shape, seed);
  for (let i = 0; i < t.data.length; i += 17) t.data[i] = 0;
  return t;
}

/** NaN and ±Infinity exactly where `want` has them, the finite values close. */
function expectSameNonFinite(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number): void {
  const special = (a: ArrayLike<number>): string[] => Array.from(a).flatMap((v, i) => (Number.isFinite(v) ? [] : [`${i}:${v}`]));
  expect(special(got)).toEqual(special(want));
  const finite = (a: ArrayLike<number>, ref: ArrayLike<number>): number[] => Array.from(a).filter((_, i) => Number.isFinite(ref[i]));
  expectClose(finite(got, want), finite(want, want), rtol, atol);
}

suite('xnnpack: listing', () => {
  test('available, built in, with its configuration, fallback and threads', () => {
    const b = stats('xnnpack');
    expect(b.available).toBe(true);
    expect(b.reason).toBeUndefined();
    expect(b.library).toBe('built in (XNNPACK 0.0~git20241108, pthreadpool 0.0~git20240616)');
    expect(b.config).toContain(`XNNPACK (operators, NHWC) ${b.library}`);
    expect(b.fallback).toBe('openblas');
    expect(b.threads).toBe(nn.getThreads());
    // Registered after the OpenBLAS builds, before reference.
    const names = nn.backends().map((x) => x.name);
    expect(names.indexOf('xnnpack')).toBeGreaterThan(names.indexOf('openblas-dl'));
    expect(names.indexOf('xnnpack')).toBeLessThan(names.indexOf('reference'));
  });

  test('follows the thread budget (one thread: no pool)', () => {
    nn.setThreads(1);
    expect(stats('xnnpack').threads).toBe(1);
    nn.setThreads(2);
    expect(stats('xnnpack').threads).toBe(2);
    nn.setThreads(initialThreads);
  });
});

type ConvCase = [string, number[], number[], nn.Conv2dOptions];
const convCases: ConvCase[] = [
  ['x=[1,3,17,17] w=[8,3,3,3] p=1 bias', [1, 3, 17, 17], [8, 3, 3, 3], { pads: 1 }],
  ['x=[2,8,12,12] w=[12,4,3,3] g=2 p=1', [2, 8, 12, 12], [12, 4, 3, 3], { group: 2, pads: 1 }],
  ['depthwise x=[1,16,14,14] w=[16,1,3,3] g=16 p=1', [1, 16, 14, 14], [16, 1, 3, 3], { group: 16, pads: 1 }],
  ['depthwise x2 x=[1,4,9,9] w=[8,1,3,3] g=4 s=2', [1, 4, 9, 9], [8, 1, 3, 3], { group: 4, strides: 2 }],
  ['x=[1,6,15,16] w=[5,6,3,3] s=2 p=[0,1,2,0]', [1, 6, 15, 16], [5, 6, 3, 3], { strides: 2, pads: [0, 1, 2, 0] }],
  ['x=[1,4,16,16] w=[4,4,3,3] d=2 p=2', [1, 4, 16, 16], [4, 4, 3, 3], { dilations: 2, pads: 2 }],
  ['x=[2,8,9,9] w=[16,8,1,1] 1x1 s=2', [2, 8, 9, 9], [16, 8, 1, 1], { strides: 2 }],
  ['x=[1,16,8,8] w=[24,16,1,1] 1x1', [1, 16, 8, 8], [24, 16, 1, 1], {}],
  ['x=[1,8,10,10] w=[8,8,5,5] p=2 relu', [1, 8, 10, 10], [8, 8, 5, 5], { pads: 2, activation: 'relu' }],
  ['x=[1,12,11,11] w=[6,4,3,3] g=3 s=[2,1] p=[1,0,1,2] relu', [1, 12, 11, 11], [6, 4, 3, 3], { group: 3, strides: [2, 1], pads: [1, 0, 1, 2], activation: 'relu' }],
  ['x=[2,1,10,10] w=[1,1,3,3] (one channel in and out)', [2, 1, 10, 10], [1, 1, 3, 3], {}],
  ['x=[1,2,3,3] w=[3,2,5,5] p=2 (kernel larger than the input)', [1, 2, 3, 3], [3, 2, 5, 5], { pads: 2 }],
  ['x=[1,3,9,7] w=[4,3,3,1] s=[2,3]', [1, 3, 9, 7], [4, 3, 3, 1], { strides: [2, 3] }],
];

suite('xnnpack: conv2d', () => {
  test.each(convCases)('%s equals the oracle and the reference backend, run by XNNPACK', (_l, xs, ws, opts) => {
    const x = activations(xs, xs.length + ws[0]);
    const w = randomTensor(ws, ws[1] + 7);
    const bias = randomTensor([ws[0]], 3);
    const o = { ...opts, bias };
    const want = on('reference', () => nn.conv2d(x, w, o));
    const before = stats('xnnpack').convRuns.xnnpack ?? 0;
    const got = on('xnnpack', () => nn.conv2d(x, w, o));
    expect(got.shape).toEqual(want.shape);
    expectClose(got.data, want.data, 1e-4, 1e-5);
    expectClose(got.data, convOracle(x, w, o).data, 1e-4, 1e-5);
    expect(stats('xnnpack').convRuns.xnnpack).toBe(before + 1);
  });

  test('one thread and two give the same results (the pool is recreated in between)', () => {
    const x = activations([1, 16, 20, 20], 4);
    const w = randomTensor([16, 16, 3, 3], 5);
    nn.setThreads(1);
    const one = on('xnnpack', () => nn.conv2d(x, w, { pads: 1 }));
    nn.setThreads(2);
    const two = on('xnnpack', () => nn.conv2d(x, w, { pads: 1 }));
    nn.setThreads(initialThreads);
    expectClose(two.data, one.data, 1e-5, 1e-6);
  });

  test('algorithm "xnnpack" pins it; "im2col" is not one it runs', () => {
    const x = activations([1, 4, 8, 8], 6);
    const w = randomTensor([4, 4, 3, 3], 7);
    const want = on('reference', () => nn.conv2d(x, w, { pads: 1 }));
    expectClose(on('xnnpack', () => nn.conv2d(x, w, { pads: 1, algorithm: 'xnnpack' })).data, want.data, 1e-4, 1e-5);
    expect(() => on('xnnpack', () => nn.conv2d(x, w, { algorithm: 'im2col' }))).toThrow(
      /conv2d: algorithm "im2col" cannot run this conv on backend "xnnpack" \(it can: xnnpack\)/,
    );
  });

  test('NaN and infinity come out where the reference has them (recomputed on the fallback)', () => {
    const x = activations([1, 4, 10, 10], 8);
    x.data[23] = NaN;
    x.data[61] = Infinity;
    x.data[77] = -Infinity;
    const w = randomTensor([6, 4, 3, 3], 9);
    for (const activation of ['none', 'relu'] as const) {
      const want = on('reference', () => nn.conv2d(x, w, { pads: 1, activation }));
      const before = stats('openblas').convRuns.im2col ?? 0;
      const got = on('xnnpack', () => nn.conv2d(x, w, { pads: 1, activation }));
      expectSameNonFinite(got.data, want.data, 1e-4, 1e-5);
      expect(stats('openblas').convRuns.im2col).toBe(before + 1);
    }
  });

  test('2-4 channel inputs (the interleaving transposes: four columns at a time, column blocks on the pool) match the reference', () => {
    for (const c of [2, 3, 4]) {
      for (const [h, w] of [[1, 5], [3, 7], [9, 13], [100, 97]]) {
        const x = randomTensor([2, c, h, w], c * 100 + h);
        const wt = randomTensor([5, c, 1, 1], c);
        for (const activation of ['none', 'relu'] as const) {
          const want = on('reference', () => nn.conv2d(x, wt, { activation }));
          expectClose(on('xnnpack', () => nn.conv2d(x, wt, { activation })).data, want.data, 1e-5, 1e-6);
        }
      }
    }
    // A NaN in the last column block of a 3-channel image is still found (the conv reruns on the fallback).
    const x = randomTensor([1, 3, 100, 97], 4);
    x.data[2 * 9700 + 9699] = NaN;
    const w = randomTensor([5, 3, 1, 1], 5);
    expectSameNonFinite(on('xnnpack', () => nn.conv2d(x, w)).data, on('reference', () => nn.conv2d(x, w)).data, 1e-5, 1e-6);
  });

  test('NaN and infinity found by the vectorized 16 x 16 tiles too (16 channels, 8 x 8 pixels)', () => {
    const x = activations([1, 16, 8, 8], 12);
    x.data[5 * 64 + 37] = NaN;
    x.data[11 * 64 + 2] = -Infinity;
    const w = randomTensor([16, 16, 3, 3], 13);
    const want = on('reference', () => nn.conv2d(x, w, { pads: 1 }));
    const before = stats('openblas').convRuns.im2col ?? 0;
    const got = on('xnnpack', () => nn.conv2d(x, w, { pads: 1 }));
    expectSameNonFinite(got.data, want.data, 1e-4, 1e-5);
    // Seen on the way in: recomputed on the fallback.
    expect(stats('openblas').convRuns.im2col).toBe(before + 1);
    // And finite values through the same tiles: the layout round trip exact up to the conv's rounding.
    const clean = activations([1, 16, 8, 8], 14);
    expectSameNonFinite(on('xnnpack', () => nn.conv2d(clean, w, { pads: 1 })).data, on('reference', () => nn.conv2d(clean, w, { pads: 1 })).data, 1e-4, 1e-5);
  });

  test('fused ReLU keeps NaN from NaN weights', () => {
    const x = activations([1, 2, 6, 6], 10);
    const w = randomTensor([3, 2, 3, 3], 11);
    w.data[0] = NaN;
    const want = on('reference', () => nn.conv2d(x, w, { activation: 'relu' }));
    const got = on('xnnpack', () => nn.conv2d(x, w, { activation: 'relu' }));
    expectSameNonFinite(got.data, want.data, 1e-4, 1e-5);
    expect(got.data.some((v) => Number.isNaN(v))).toBe(true);
  });

  test('async conv2d on the libuv pool equals the sync one', async () => {
    const x = activations([2, 8, 16, 16], 12);
    const w = randomTensor([8, 8, 3, 3], 13);
    nn.setBackend('xnnpack');
    try {
      const want = nn.conv2d(x, w, { pads: 1 });
      const all = await Promise.all(Array.from({ length: 8 }, () => nn.async.conv2d(x, w, { pads: 1 })));
      for (const y of all) expectClose(y.data, want.data, 1e-6, 1e-7);
    } finally {
      nn.setBackend(initialBackend);
    }
  });
});

type PoolCase = [string, 'max' | 'avg', number[], PoolOracleOptions, boolean];
// The last field: whether XNNPACK runs it (else the reference loops do).
const poolCases: PoolCase[] = [
  ['max x=[1,16,20,20] k=3 s=2 p=1', 'max', [1, 16, 20, 20], { kernel: 3, strides: 2, pads: 1 }, true],
  ['max x=[2,8,13,13] k=3 s=2 ceil', 'max', [2, 8, 13, 13], { kernel: 3, strides: 2, ceil: true }, true],
  // XNNPACK 0.0~git20241108 refuses a max-pooling stride larger than its window
  // (invalid parameter), which the 2022 snapshot took: such shapes run on the loops.
  ['max x=[1,8,15,14] k=[3,2] s=[2,3] p=[1,0,1,1] ceil (stride 3 > window 2: loops)', 'max', [1, 8, 15, 14], { kernel: [3, 2], strides: [2, 3], pads: [1, 0, 1, 1], ceil: true }, false],
  ['max x=[1,32,12,12] k=2 s=4 (stride > kernel: loops)', 'max', [1, 32, 12, 12], { kernel: 2, strides: 4 }, false],
  ['max x=[1,8,17,17] k=2 d=2 (dilated, unpadded)', 'max', [1, 8, 17, 17], { kernel: 2, dilations: 2 }, true],
  ['max x=[1,8,17,17] k=3 d=2 p=2 (dilated, padded: loops)', 'max', [1, 8, 17, 17], { kernel: 3, dilations: 2, pads: 2 }, false],
  ['max x=[1,16,9,9] k=1 (XNNPACK refuses 1x1: loops)', 'max', [1, 16, 9, 9], { kernel: 1 }, false],
  ['max x=[1,1,8,8] k=2 (small: loops)', 'max', [1, 1, 8, 8], { kernel: 2 }, false],
  ['avg x=[1,16,14,14] k=3 p=1', 'avg', [1, 16, 14, 14], { kernel: 3, pads: 1 }, true],
  ['avg x=[1,16,14,14] k=3 p=1 countIncludePad (loops)', 'avg', [1, 16, 14, 14], { kernel: 3, pads: 1, countIncludePad: true }, false],
  ['avg x=[1,16,14,14] k=2 s=2 countIncludePad, no pads', 'avg', [1, 16, 14, 14], { kernel: 2, strides: 2, countIncludePad: true }, true],
  ['avg x=[2,8,13,13] k=3 s=2 p=1 ceil', 'avg', [2, 8, 13, 13], { kernel: 3, strides: 2, pads: 1, ceil: true }, true],
  ['avg x=[1,8,13,13] k=2 s=2 ceil countIncludePad, no pads', 'avg', [1, 8, 13, 13], { kernel: 2, strides: 2, ceil: true, countIncludePad: true }, true],
  ['avg x=[1,8,14,14] k=[3,2] s=[2,1] p=[2,0,0,1]', 'avg', [1, 8, 14, 14], { kernel: [3, 2], strides: [2, 1], pads: [2, 0, 0, 1] }, true],
  ['avg x=[1,64,7,7] k=7 (a global average as a window)', 'avg', [1, 64, 7, 7], { kernel: 7 }, true],
];

suite('xnnpack: pooling', () => {
  test.each(poolCases)('%s equals the oracle and the reference backend', (_l, kind, xs, o, byXnnpack) => {
    const x = activations(xs, xs[1] + xs[2]);
    const op = (): nn.Tensor => (kind === 'max' ? nn.maxPool2d(x, o) : nn.avgPool2d(x, o));
    const want = on('reference', op);
    const before = stats('reference').opsRun;
    const got = on('xnnpack', op);
    expect(stats('reference').opsRun - before).toBe(byXnnpack ? 0 : 1);
    expect(got.shape).toEqual(want.shape);
    expectClose(got.data, want.data, kind === 'max' ? 0 : 1e-5, kind === 'max' ? 0 : 1e-6);
    expectClose(got.data, poolOracle(kind, x, o).data, 1e-5, 1e-6);
  });

  test('padded cells never win a max: all-negative input, pads 1', () => {
    const x = nn.tensor(randomTensor([1, 8, 16, 16], 5).data.map((v) => -1 - Math.abs(v)), [1, 8, 16, 16]);
    const y = on('xnnpack', () => nn.maxPool2d(x, { kernel: 3, pads: 1 }));
    expect(Math.max(...y.data)).toBeLessThan(-1);
    expectClose(y.data, poolOracle('max', x, { kernel: 3, pads: 1 }).data, 0, 0);
  });

  test('NaN in a window makes that window NaN; infinities and overflow as the reference', () => {
    const x = activations([1, 8, 16, 16], 6);
    x.data[40] = NaN;
    x.data[300] = Infinity;
    x.data[700] = -Infinity;
    for (const f of [
      () => nn.maxPool2d(x, { kernel: 2, strides: 2 }),
      () => nn.avgPool2d(x, { kernel: 3, pads: 1 }),
      () => nn.globalAvgPool(x),
    ]) {
      const want = on('reference', f);
      const got = on('xnnpack', f);
      expectSameNonFinite(got.data, want.data, 1e-5, 1e-6);
    }
    // Finite values whose float sum overflows: the loops sum in double.
    const big = nn.tensor(new Float32Array(8 * 16 * 16).fill(3e38), [1, 8, 16, 16]);
    expectClose(on('xnnpack', () => nn.avgPool2d(big, { kernel: 2, strides: 2 })).data, new Float32Array(8 * 8 * 8).fill(3e38), 1e-6, 0);
  });

  test.each([
    ['x=[1,64,7,7]', [1, 64, 7, 7], true],
    ['x=[2,3,20,20]', [2, 3, 20, 20], true],
    ['x=[1,4,1,300]', [1, 4, 1, 300], true],
    ['x=[1,1024,1,2] (planes of 2 values)', [1, 1024, 1, 2], true],
    ['x=[1,4,4,4] (small: loops)', [1, 4, 4, 4], false],
  ] as [string, number[], boolean][])('globalAvgPool %s equals the reference backend', (_l, xs, byXnnpack) => {
    const x = activations(xs, 7);
    const want = on('reference', () => nn.globalAvgPool(x));
    const before = stats('reference').opsRun;
    const got = on('xnnpack', () => nn.globalAvgPool(x));
    expect(stats('reference').opsRun - before).toBe(byXnnpack ? 0 : 1);
    expectClose(got.data, want.data, 1e-5, 1e-6);
  });
  test('globalAvgPool of identical planes gives identical averages, the last plane too', () => {
    // A model with constant weights has identical channels; one channel
    // averaged differently would stand out after a softmax.
    const plane = randomTensor([13 * 13], 8).data;
    const x = nn.tensor(new Float32Array(1000 * 169).map((_, i) => plane[i % 169] * 1e3), [1, 1000, 13, 13]);
    const y = on('xnnpack', () => nn.globalAvgPool(x));
    expect(new Set(y.data).size).toBe(1);
  });
});

suite('xnnpack: fullyConnected', () => {
  test.each([
    [1, 300, 40],
    [8, 100, 50],
    [32, 257, 1000],
  ])('x=[%i,%i] -> %i: the first call (both paths timed) and the next equal the reference', (n, inF, outF) => {
    const x = activations([n, inF], 1);
    const w = randomTensor([outF, inF], 2);
    const bias = randomTensor([outF], 3);
    const want = on('reference', () => nn.fullyConnected(x, w, { bias }));
    const before = stats('xnnpack').opsRun;
    for (let i = 0; i < 3; i++) expectClose(on('xnnpack', () => nn.fullyConnected(x, w, { bias })).data, want.data, 1e-4, 1e-5);
    expectClose(on('xnnpack', () => nn.fullyConnected(x, w)).data, on('reference', () => nn.fullyConnected(x, w)).data, 1e-4, 1e-5);
    expect(stats('xnnpack').opsRun).toBe(before + 4);
  });

  test('NaN in x stays NaN', () => {
    const x = activations([4, 64], 4);
    x.data[70] = NaN;
    const w = randomTensor([16, 64], 5);
    for (let i = 0; i < 2; i++) {
      const got = on('xnnpack', () => nn.fullyConnected(x, w));
      expectSameNonFinite(got.data, on('reference', () => nn.fullyConnected(x, w)).data, 1e-4, 1e-5);
    }
  });
});

suite('xnnpack: add, relu, clip', () => {
  const onXnnpack = !(stats('xnnpack').config ?? '').includes('add/relu/clip on the fallback');
  const big = (seed: number): nn.Tensor => nn.tensor(randomTensor([4, 16, 32, 33], seed).data.map((v, i) => (i % 1001 === 5 ? NaN : v * 4)), [4, 16, 32, 33]);

  test(`run ${onXnnpack ? 'on XNNPACK' : 'on the reference kernels (this CPU\'s XNNPACK kernels drop NaN)'} with the reference's results, NaN kept`, () => {
    const a = big(1);
    const b = big(2);
    const cases: (() => nn.Tensor)[] = [
      () => nn.relu(a),
      () => nn.clip(a, -0.5, 2),
      () => nn.clip(a, -Infinity, 1),
      () => nn.add(a, b),
      () => nn.add(a, nn.tensor(new Float32Array([0.25]), [])),
      () => nn.add(a, nn.tensor(randomTensor([16, 1, 1], 3).data, [16, 1, 1])),
    ];
    for (const f of cases) {
      const want = on('reference', f);
      const before = stats('reference').opsRun;
      const got = on('xnnpack', f);
      expectSameNonFinite(got.data, want.data, 1e-6, 1e-7);
      if (!onXnnpack) expect(stats('reference').opsRun).toBe(before + 1);
    }
  });

  test('in place (out === x, out === a)', () => {
    const a = big(4);
    const b = big(5);
    const wantRelu = on('reference', () => nn.relu(a));
    const wantAdd = on('reference', () => nn.add(wantRelu, b));
    on('xnnpack', () => nn.relu(a, { out: a }));
    expectSameNonFinite(a.data, wantRelu.data, 0, 0);
    on('xnnpack', () => nn.add(a, b, { out: a }));
    expectSameNonFinite(a.data, wantAdd.data, 1e-6, 1e-7);
  });
});

function smallNet(seed: number): nn.Sequential {
  return new nn.Sequential(
    [
      nn.layers.conv2d({ filters: 16, kernel: 3, pads: 1, activation: 'relu' }),
      nn.layers.maxPool2d({ kernel: 2, strides: 2 }),
      nn.layers.conv2d({ filters: 16, kernel: 3, pads: 1, group: 4 }),
      nn.layers.batchNorm(),
      nn.layers.relu(),
      nn.layers.conv2d({ filters: 24, kernel: 1, strides: 2 }),
      nn.layers.globalAvgPool(),
      nn.layers.flatten(),
      nn.layers.dense({ units: 10 }),
    ],
    { inputShape: [8, 32, 32], seed },
  );
}

suite('xnnpack: models', () => {
  test('a Sequential model predicts as on the reference backend, sync and async', async () => {
    const m = smallNet(3);
    const x = activations([2, 8, 32, 32], 9);
    const want = on('reference', () => m.predictSync(x));
    const before = stats('xnnpack').convRuns.xnnpack ?? 0;
    nn.setBackend('xnnpack');
    try {
      expectClose(m.predictSync(x).data, want.data, 1e-4, 1e-5);
      expectClose((await m.predict(x)).data, want.data, 1e-4, 1e-5);
    } finally {
      nn.setBackend(initialBackend);
    }
    // Three convs per pass, planned once and run twice.
    expect(stats('xnnpack').convRuns.xnnpack).toBe(before + 6);
    m.dispose();
  });

  test('an ONNX model runs its convs on XNNPACK operators and says so per layer', () => {
    const g = nn.loadOnnxSync(nn.saveOnnx(smallNet(4), undefined, { batch: 1 }));
    const x = activations([1, 8, 32, 32], 10);
    const feed = { [g.inputNames[0]]: x };
    const want = Object.values(on('reference', () => g.runSync(feed)))[0];
    // layers() describes the active backend's run.
    const [got, layers] = on('xnnpack', () => [Object.values(g.runSync(feed))[0], g.layers()] as const);
    expectClose(got.data, want.data, 1e-4, 1e-5);
    const convs = layers.filter((l) => l.op.startsWith('Conv'));
    expect(convs).toHaveLength(3);
    for (const l of convs) {
      expect(l.backend).toBe('xnnpack');
      expect(l.algorithm).toBe('xnnpack');
      expect(l.planBytes).toBeGreaterThan(0);
    }
    g.dispose();
  });

  test('auto measures XNNPACK among its candidates for every conv layer (fresh process, no cache)', () => {
    const probe = `
      const nn = require('./dist');
      const m = new nn.Sequential([
        nn.layers.conv2d({ filters: 16, kernel: 3, pads: 1, activation: 'relu' }),
        nn.layers.maxPool2d({ kernel: 2, strides: 2 }),
        nn.layers.conv2d({ filters: 8, kernel: 1 }),
      ], { inputShape: [8, 24, 24], seed: 3 });
      const g = nn.loadOnnxSync(nn.saveOnnx(m, undefined, { batch: 1 }));
      const x = nn.tensor(Float32Array.from({ length: 8 * 24 * 24 }, (_, i) => Math.sin(i)), [1, 8, 24, 24]);
      const feed = { [g.inputNames[0]]: x };
      const got = Object.values(g.runSync(feed))[0].data;
      const layers = nn.diagnostics().models[0].layers;
      nn.setBackend('reference');
      const want = Object.values(g.runSync(feed))[0].data;
      process.stdout.write(JSON.stringify({ layers, diff: Math.max(...got.map((v, i) => Math.abs(v - want[i]))) }));`;
    const r = spawnSync(process.execPath, ['-e', probe], {
      cwd: path.resolve(__dirname, '../..'),
      // Layer by layer: a region would leave the layers after one that already lost to it unmeasured.
      env: { ...process.env, NEONN_BACKEND: '', NEONN_THREADS: '', NEONN_CACHE_DIR: 'off', NEONN_REGIONS: 'off' },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { layers: nn.OnnxLayer[]; diff: number };
    expect(out.diff).toBeLessThan(1e-4);
    const convs = out.layers.filter((l) => l.op.startsWith('Conv'));
    expect(convs).toHaveLength(2);
    for (const l of convs) expect(l.choice).toMatch(/measured: .*xnnpack\/xnnpack \d+\.\d{3} ms/);
  });
});
