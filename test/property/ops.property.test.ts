// Property tests: random shapes and hyperparameters, each BLAS backend against
// `reference`, and `reference` against the plain-JS oracle. Invalid
// combinations (kernel larger than the padded input, channels not divisible
// by group) must be RangeErrors on every backend, not compared.
// The seed is fixed (override with PROPERTY_SEED=n); fast-check prints seed
// and path of a failing case, and the test name carries the seed.
import fc from 'fast-check';
import * as nn from '../../lib';
import { availableBackends, expectClose, randomTensor } from '../helpers';
import { jsOps } from '../conformance/js-ops';
import { op } from '../conformance/nn-ops';

const SEED = Number(process.env.PROPERTY_SEED ?? 20261125);
const RUNS = { numRuns: 60, seed: SEED };

const available = availableBackends();
const BLAS = ['openblas', 'openblas-dl'];
const targets = BLAS.filter((b) => available.includes(b));
for (const b of BLAS.filter((x) => !available.includes(x))) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED property tests on backend ${b}: unavailable`);
}
afterAll(() => nn.setBackend(available[0]));

function on<R>(backend: string, f: () => R): R {
  nn.setBackend(backend);
  return f();
}

/** Float32 sums of `k` terms in [-1,1) in different orders: allow for it. */
const atolFor = (k: number): number => 1e-5 + 2e-6 * k;

const quad = fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2));
const small = (max: number) => fc.integer({ min: 1, max });

/** Spatial size and window geometry shared by conv and pooling draws. */
const windowFields = {
  H: small(12),
  W: small(12),
  kh: small(5),
  kw: small(5),
  sh: small(3),
  sw: small(3),
  dh: small(2),
  dw: small(2),
  seed: fc.nat(1 << 20),
};

// ---- gemm -----------------------------------------------------------------

const C_SHAPES = ['none', '[]', '[1]', '[N]', '[1,N]', '[M,1]', '[M,N]', '[1,1]'] as const;
const gemmCase = fc.record({
  M: small(40),
  N: small(40),
  K: small(40),
  transA: fc.boolean(),
  transB: fc.boolean(),
  alpha: fc.double({ min: -2, max: 2, noNaN: true }),
  beta: fc.double({ min: -2, max: 2, noNaN: true }),
  c: fc.constantFrom(...C_SHAPES),
  seed: fc.nat(1 << 20),
});
type GemmCase = typeof gemmCase extends fc.Arbitrary<infer U> ? U : never;

function runGemm(g: GemmCase, fn = op('gemm')): nn.Tensor {
  const { M, N, K } = g;
  const a = randomTensor(g.transA ? [K, M] : [M, K], g.seed);
  const b = randomTensor(g.transB ? [N, K] : [K, N], g.seed + 1);
  const cShape: Record<(typeof C_SHAPES)[number], number[] | null> = {
    none: null,
    '[]': [],
    '[1]': [1],
    '[N]': [N],
    '[1,N]': [1, N],
    '[M,1]': [M, 1],
    '[M,N]': [M, N],
    '[1,1]': [1, 1],
  };
  const s = cShape[g.c];
  const c = s ? randomTensor(s, g.seed + 2) : undefined;
  return fn(a, b, { transA: g.transA, transB: g.transB, alpha: g.alpha, beta: g.beta, ...(c ? { c } : {}) });
}

// ---- conv2d ---------------------------------------------------------------

const convCase = fc.record({
  N: small(2),
  group: small(3),
  cinPerGroup: small(4),
  coutPerGroup: small(4),
  ...windowFields,
  pads: quad,
  bias: fc.boolean(),
  relu: fc.boolean(),
  // One case in ten gets an input channel count that group does not divide.
  badGroup: fc.integer({ min: 0, max: 9 }).map((v) => v === 0),
});
type ConvCase = typeof convCase extends fc.Arbitrary<infer U> ? U : never;

function convValid(c: ConvCase): boolean {
  const [pt, pl, pb, pr] = c.pads;
  if (c.badGroup && c.group > 1) return false;
  return (c.kh - 1) * c.dh + 1 <= c.H + pt + pb && (c.kw - 1) * c.dw + 1 <= c.W + pl + pr;
}

function runConv(c: ConvCase, fn = op('conv2d')): nn.Tensor {
  const C = c.group * c.cinPerGroup + (c.badGroup && c.group > 1 ? 1 : 0);
  const Cout = c.group * c.coutPerGroup;
  const x = randomTensor([c.N, C, c.H, c.W], c.seed);
  const w = randomTensor([Cout, c.cinPerGroup, c.kh, c.kw], c.seed + 1);
  const bias = c.bias ? randomTensor([Cout], c.seed + 2) : undefined;
  return fn(x, w, {
    ...(bias ? { bias } : {}),
    strides: [c.sh, c.sw],
    pads: [...c.pads],
    dilations: [c.dh, c.dw],
    group: c.group,
    ...(c.relu ? { activation: 'relu' as const } : {}),
  });
}

// ---- fullyConnected -------------------------------------------------------

const fcCase = fc.record({ N: small(4), inF: small(64), outF: small(40), bias: fc.boolean(), seed: fc.nat(1 << 20) });
type FcCase = typeof fcCase extends fc.Arbitrary<infer U> ? U : never;

function runFc(f: FcCase, fn = op('fullyConnected')): nn.Tensor {
  const x = randomTensor([f.N, f.inF], f.seed);
  const w = randomTensor([f.outF, f.inF], f.seed + 1);
  const bias = f.bias ? randomTensor([f.outF], f.seed + 2) : undefined;
  return fn(x, w, bias ? { bias } : {});
}

// ---- pooling --------------------------------------------------------------

// Pads are at most kernel/2 (PyTorch's rule, which every exported model
// obeys): with the ceil-mode rule, no window then lies wholly in padding.
const poolCase = fc
  .record({
    N: small(2),
    C: small(4),
    ...windowFields,
    padFrac: fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
    ceil: fc.boolean(),
    countIncludePad: fc.boolean(),
  })
  .map((p) => {
    const lim = [p.kh, p.kw, p.kh, p.kw].map((k) => Math.floor(k / 2));
    const pads = p.padFrac.map((f, i) => Math.min(lim[i], Math.floor(f * (lim[i] + 1)))) as [number, number, number, number];
    return { ...p, pads };
  });
type PoolCase = typeof poolCase extends fc.Arbitrary<infer U> ? U : never;

function poolValid(p: PoolCase, dilated: boolean): boolean {
  const [pt, pl, pb, pr] = p.pads;
  const dh = dilated ? p.dh : 1;
  const dw = dilated ? p.dw : 1;
  return (p.kh - 1) * dh + 1 <= p.H + pt + pb && (p.kw - 1) * dw + 1 <= p.W + pl + pr;
}

function runMaxPool(p: PoolCase, fn = op('maxPool2d')): nn.Tensor {
  const x = randomTensor([p.N, p.C, p.H, p.W], p.seed);
  return fn(x, { kernel: [p.kh, p.kw], strides: [p.sh, p.sw], pads: [...p.pads], dilations: [p.dh, p.dw], ceil: p.ceil });
}

function runAvgPool(p: PoolCase, fn = op('avgPool2d')): nn.Tensor {
  const x = randomTensor([p.N, p.C, p.H, p.W], p.seed);
  return fn(x, { kernel: [p.kh, p.kw], strides: [p.sh, p.sw], pads: [...p.pads], ceil: p.ceil, countIncludePad: p.countIncludePad });
}

// ---- the properties -------------------------------------------------------

function same(got: nn.Tensor, want: nn.Tensor, atol: number): void {
  expect([...got.shape]).toEqual([...want.shape]);
  expectClose(got.data, want.data, 1e-4, atol);
}

/** Backend vs reference, or a RangeError on both when the case is invalid. */
function versus<C>(backend: string, arb: fc.Arbitrary<C>, run: (c: C) => nn.Tensor, valid: (c: C) => boolean, atol: (c: C) => number, opName: string): void {
  fc.assert(
    fc.property(arb, (c) => {
      if (!valid(c)) {
        for (const b of ['reference', backend]) expect(() => on(b, () => run(c))).toThrow(RangeError);
        expect(() => on(backend, () => run(c))).toThrow(new RegExp(`^${opName}: `));
        return;
      }
      const want = on('reference', () => run(c));
      same(on(backend, () => run(c)), want, atol(c));
    }),
    RUNS,
  );
}

describe.each(targets)(`%s vs reference (fast-check seed ${SEED})`, (backend) => {
  test('gemm: M,N,K <= 40, trans flags, alpha, beta, c broadcast shapes', () => {
    versus(backend, gemmCase, (g) => runGemm(g), () => true, (g) => atolFor(g.K) * (1 + Math.abs(g.alpha)), 'gemm');
  });
  test('conv2d: N<=2 C,H,W<=12 k<=5 s<=3 d<=2, asymmetric pads, groups, bias, relu', () => {
    versus(backend, convCase, (c) => runConv(c), convValid, (c) => atolFor(c.cinPerGroup * c.kh * c.kw), 'conv2d');
  });
  test('fullyConnected: N<=4 in<=64 out<=40, bias', () => {
    versus(backend, fcCase, (f) => runFc(f), () => true, (f) => atolFor(f.inF), 'fullyConnected');
  });
  test('maxPool2d: k<=5 s<=3 d<=2, asymmetric pads, ceil', () => {
    versus(backend, poolCase, (p) => runMaxPool(p), (p) => poolValid(p, true), () => 0, 'maxPool2d');
  });
  test('avgPool2d: k<=5 s<=3, asymmetric pads, ceil, countIncludePad', () => {
    versus(backend, poolCase, (p) => runAvgPool(p), (p) => poolValid(p, false), () => 1e-5, 'avgPool2d');
  });
});

/** reference vs the float64 plain-JS oracle (which states the ONNX semantics). */
function versusOracle<C>(arb: fc.Arbitrary<C>, run: (c: C, viaOracle: boolean) => nn.Tensor, valid: (c: C) => boolean, atol: (c: C) => number): void {
  fc.assert(
    fc.property(arb, (c) => {
      if (!valid(c)) return;
      same(on('reference', () => run(c, false)), run(c, true), atol(c));
    }),
    RUNS,
  );
}

describe(`reference vs plain-JS oracle (fast-check seed ${SEED})`, () => {
  test('gemm', () => versusOracle(gemmCase, (g, o) => runGemm(g, o ? jsOps.gemm : undefined), () => true, (g) => atolFor(g.K) * (1 + Math.abs(g.alpha))));
  test('conv2d', () => versusOracle(convCase, (c, o) => runConv(c, o ? jsOps.conv2d : undefined), convValid, (c) => atolFor(c.cinPerGroup * c.kh * c.kw)));
  test('fullyConnected', () => versusOracle(fcCase, (f, o) => runFc(f, o ? jsOps.fullyConnected : undefined), () => true, (f) => atolFor(f.inF)));
  test('maxPool2d', () => versusOracle(poolCase, (p, o) => runMaxPool(p, o ? jsOps.maxPool2d : undefined), (p) => poolValid(p, true), () => 1e-6));
  test('avgPool2d', () => versusOracle(poolCase, (p, o) => runAvgPool(p, o ? jsOps.avgPool2d : undefined), (p) => poolValid(p, false), () => 1e-5));
});
