// The nnpack backend on a real NNPACK (NEONN_NNPACK_LIBRARY): every conv
// algorithm selectable per call and checked against the reference backend,
// kernel transforms precomputed per model layer and reported, and shapes
// NNPACK cannot take falling back to the BLAS path. NNPACK is in no package
// registry: without a build these tests say loudly that they were skipped.
import * as nn from '../../lib';
import { OnnxGraphBuilder, attr } from '../../lib/onnx/export';
import { availableBackends, convTolerance, expectClose, randomTensor } from '../helpers';

const info = nn.backends().find((b) => b.name === 'nnpack')!;
if (!info.available) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED nnpack tests: nnpack unavailable (${info.reason}); set NEONN_NNPACK_LIBRARY to an NNPACK build to run them`);
}
const maybe = info.available ? describe : describe.skip;

afterEach(() => nn.setBackend(availableBackends()[0]));

function reference(fn: () => nn.Tensor): nn.Tensor {
  nn.setBackend('reference');
  try {
    return fn();
  } finally {
    nn.setBackend('nnpack');
  }
}

const runs = (): Record<string, number> => ({ ...nn.backends().find((b) => b.name === 'nnpack')!.convRuns });

maybe('nnpack conv2d: each algorithm, against the reference backend', () => {
  beforeEach(() => nn.setBackend('nnpack'));

  const cases: [string, number[], number[], nn.Conv2dOptions, nn.ConvAlgorithm[]][] = [
    ['x=[1,64,28,28] w=[64,64,3,3] p=1 (VGG-style)', [1, 64, 28, 28], [64, 64, 3, 3], { pads: 1 }, ['wt8x8', 'ft8x8', 'ft16x16', 'implicit_gemm']],
    ['x=[1,32,17,19] w=[48,32,3,3] p=[1,0,1,0] relu', [1, 32, 17, 19], [48, 32, 3, 3], { pads: [1, 0, 1, 0], activation: 'relu' }, ['wt8x8', 'ft8x8', 'ft16x16', 'implicit_gemm']],
    ['x=[1,16,20,20] w=[24,16,5,5] p=2', [1, 16, 20, 20], [24, 16, 5, 5], { pads: 2 }, ['ft16x16', 'ft8x8', 'implicit_gemm']],
    ['x=[1,64,14,14] w=[32,64,1,1] (1x1)', [1, 64, 14, 14], [32, 64, 1, 1], {}, ['direct', 'implicit_gemm']],
    ['x=[2,32,15,15] w=[32,32,3,3] s=2 p=1 (strided)', [2, 32, 15, 15], [32, 32, 3, 3], { strides: 2, pads: 1 }, ['implicit_gemm']],
    ['x=[1,32,12,12] w=[32,16,3,3] g=2 p=1 (groups)', [1, 32, 12, 12], [32, 16, 3, 3], { group: 2, pads: 1 }, ['wt8x8', 'implicit_gemm']],
  ];
  describe.each(cases)('%s', (_label, xs, ws, opts, algorithms) => {
    const x = randomTensor(xs, 1);
    const w = randomTensor(ws, 2);
    const bias = randomTensor([ws[0]], 3);
    // In beforeAll: a skipped describe still runs its body to collect tests.
    let want: nn.Tensor;
    beforeAll(() => {
      want = reference(() => nn.conv2d(x, w, { bias, ...opts }));
    });
    test.each(algorithms)('algorithm %s', (algorithm) => {
      const before = runs()[algorithm] ?? 0;
      const y = nn.conv2d(x, w, { bias, ...opts, algorithm });
      expect(runs()[algorithm]).toBe(before + 1);
      expectClose(y.data, want.data, ...convTolerance('nnpack', want.data));
    });
    test('without a pin NNPACK picks the first algorithm it lists', () => {
      const before = runs()[algorithms[0]] ?? 0;
      expectClose(nn.conv2d(x, w, { bias, ...opts }).data, want.data, ...convTolerance('nnpack', want.data));
      expect(runs()[algorithms[0]]).toBe(before + 1);
    });
  });

  test('an algorithm that cannot run the shape is a RangeError listing what can', () => {
    const x = randomTensor([1, 8, 10, 10], 4);
    expect(() => nn.conv2d(x, randomTensor([8, 8, 3, 3], 5), { algorithm: 'direct' })).toThrow(
      /conv2d: algorithm "direct" cannot run this conv on backend "nnpack" \(it can: wt8x8, ft8x8, ft16x16, implicit_gemm, im2col\)/,
    );
  });

  test('dilated and depthwise convs run through the BLAS path (counted as im2col)', () => {
    const x = randomTensor([1, 16, 12, 12], 6);
    const dilated = randomTensor([8, 16, 3, 3], 7);
    const depthwise = randomTensor([16, 1, 3, 3], 8);
    const ob = () => nn.backends().find((b) => b.name === 'openblas')!.convRuns.im2col ?? 0;
    const before = ob();
    const a = nn.conv2d(x, dilated, { dilations: 2, pads: 2 });
    const b = nn.conv2d(x, depthwise, { group: 16, pads: 1 });
    expect(ob()).toBe(before + 2);
    expectClose(a.data, reference(() => nn.conv2d(x, dilated, { dilations: 2, pads: 2 })).data);
    expectClose(b.data, reference(() => nn.conv2d(x, depthwise, { group: 16, pads: 1 })).data);
  });

  test('fullyConnected at batch 1 on NNPACK, batch 3 through the BLAS path', () => {
    const w = randomTensor([10, 50], 9);
    const bias = randomTensor([10], 10);
    for (const n of [1, 3]) {
      const x = randomTensor([n, 50], 11 + n);
      expectClose(nn.fullyConnected(x, w, { bias }).data, reference(() => nn.fullyConnected(x, w, { bias })).data, 1e-4, 1e-5);
    }
  });

  test('the same results at 1 and 2 threads', () => {
    const x = randomTensor([1, 32, 24, 24], 12);
    const w = randomTensor([32, 32, 3, 3], 13);
    const threads = nn.getThreads();
    try {
      nn.setThreads(1);
      const one = nn.conv2d(x, w, { pads: 1, algorithm: 'wt8x8' });
      nn.setThreads(2);
      expect(nn.backends().find((b) => b.name === 'nnpack')!.threads).toBe(2);
      const two = nn.conv2d(x, w, { pads: 1, algorithm: 'wt8x8' });
      expectClose(two.data, one.data, 1e-6, 1e-6);
    } finally {
      nn.setThreads(threads);
    }
  });
});

maybe('nnpack in a model: kernel transforms precomputed once per layer', () => {
  test('a loaded ONNX model reports nnpack per conv layer with the bytes its transform holds', () => {
    const b = new OnnxGraphBuilder('nnpack-net');
    const input = b.addInput('x', [1, 16, 20, 20]);
    const w1 = b.addInitializer('w1', randomTensor([32, 16, 3, 3], 20).data, [32, 16, 3, 3]);
    const b1 = b.addInitializer('b1', randomTensor([32], 21).data, [32]);
    const w2 = b.addInitializer('w2', randomTensor([8, 32, 1, 1], 22).data, [8, 32, 1, 1]);
    const c1 = b.addNode('Conv', [input, w1, b1], { pads: attr.ints([1, 1, 1, 1]) });
    const r1 = b.addNode('Relu', [c1]);
    b.addOutput(b.addNode('Conv', [r1, w2], {}, ['y']), [1, 8, 20, 20]);
    const bytes = b.toBytes();
    const x = randomTensor([1, 16, 20, 20], 23);

    nn.setBackend('reference');
    const ref = nn.loadOnnxSync(bytes);
    const want = ref.runSync({ x }).y;
    ref.dispose();

    nn.setBackend('nnpack');
    const m = nn.loadOnnxSync(bytes);
    const first = m.runSync({ x }).y;
    const second = m.runSync({ x }).y;
    expectClose(first.data, want.data, ...convTolerance('nnpack', want.data));
    expect(Array.from(second.data)).toEqual(Array.from(first.data));
    const convs = m.layers().filter((l) => l.kernels.includes('conv2d'));
    expect(convs.map((l) => [l.op, l.backend, l.algorithm])).toEqual([
      ['Conv+Relu', 'nnpack', 'wt8x8'],
      ['Conv', 'nnpack', 'direct'],
    ]);
    // Winograd: one transformed 8x8 tile per (output, input) channel pair, kept for the model's life.
    expect(convs[0].planBytes).toBeGreaterThanOrEqual(32 * 16 * 64 * 4);
    expect(nn.diagnostics().models.some((d) => JSON.stringify(d).includes('wt8x8'))).toBe(true);
    m.dispose();
  });
});
