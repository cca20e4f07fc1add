// neonn's own loops (pooling, elementwise, normalization, layout, depthwise
// conv, im2col, bias + relu) split their work over the thread budget. Each
// output element is computed by the same operations whichever thread runs
// it, so results are bit-identical at 1, 2 and 3 threads — on shapes large
// enough that the work really is split — and many concurrent async calls
// (several libuv threads using the pool at once) give the same bits too.
import * as nn from '../../lib';
import { availableBackends, expectClose, randomTensor } from '../helpers';

const backends = availableBackends();
const initialThreads = nn.getThreads();
afterAll(() => {
  nn.setBackend(backends[0]);
  nn.setThreads(initialThreads);
});

const c = (n: number, seed: number): nn.Tensor => randomTensor([n], seed);
const positive = (shape: number[], seed: number): nn.Tensor =>
  nn.tensor(randomTensor(shape, seed).data.map((v) => v + 1.5), shape);

// Sizes: every case has several chunks' worth of work (>= 2 * 2^15 cheap
// operations, or many planes of expensive ones), and odd sizes so chunk
// boundaries fall inside rows, planes and concat pieces.
const x4 = randomTensor([2, 16, 61, 67], 1); // 130784 elements
const x3 = randomTensor([3, 70001], 2);
const bn = { scale: c(16, 3), bias: c(16, 4), mean: c(16, 5), variance: positive([16], 6), epsilon: 1e-5 };
const slope = randomTensor([16, 1, 1], 7);
const row = randomTensor([70001], 8);
const col = randomTensor([3, 1], 9);
const cat = [randomTensor([1, 7, 97, 101], 10), randomTensor([1, 11, 97, 101], 11), randomTensor([1, 2, 97, 101], 12)];
const xdw = randomTensor([1, 24, 45, 47], 13);
const wdw = randomTensor([24, 1, 3, 3], 14);
const wdw2 = randomTensor([48, 1, 5, 5], 15);
const xconv = randomTensor([1, 12, 70, 66], 16);
const wconv = randomTensor([20, 12, 3, 3], 17);
const wgroup = randomTensor([20, 3, 3, 3], 18);
const bconv = c(20, 19);

// [label, op name, arguments]: each case runs as nn[op](...args) and as nn.async[op](...args).
type OpName = keyof typeof nn.async;
type Case = [string, OpName, unknown[]];
const cases: Case[] = [
  ['relu x=[2,16,61,67]', 'relu', [x4]],
  ['leakyRelu x=[2,16,61,67]', 'leakyRelu', [x4, 0.1]],
  ['sigmoid x=[2,16,61,67]', 'sigmoid', [x4]],
  ['tanh x=[2,16,61,67]', 'tanh', [x4]],
  ['clip x=[2,16,61,67]', 'clip', [x4, -0.3, 0.4]],
  ['prelu x=[2,16,61,67] slope=[16,1,1]', 'prelu', [x4, slope]],
  ['add x=[3,70001] + [70001] (chunks split rows)', 'add', [x3, row]],
  ['mul x=[3,70001] * [3,1]', 'mul', [x3, col]],
  ['sub [3,1] - x=[3,70001]', 'sub', [col, x3]],
  ['div same shape x=[2,16,61,67]', 'div', [x4, positive([2, 16, 61, 67], 20)]],
  ['softmax axis 1 x=[2,16,61,67]', 'softmax', [x4, { axis: 1 }]],
  ['logSoftmax axis -1 x=[3,70001]', 'logSoftmax', [x3, { axis: -1 }]],
  ['softmax axis 0 x=[3,70001]', 'softmax', [x3, { axis: 0 }]],
  ['batchNorm x=[2,16,61,67]', 'batchNorm', [x4, bn]],
  ['lrn size 5 x=[2,16,61,67]', 'lrn', [x4, { size: 5, alpha: 1e-3, beta: 0.75, bias: 1 }]],
  ['concat axis 1 of [1,7|11|2,97,101]', 'concat', [cat, 1]],
  ['concat axis 3 of [1,97,101,7|11|2]', 'concat', [cat.map((t) => nn.transpose(t, [0, 2, 3, 1])), 3]],
  ['transpose [0,2,3,1] x=[2,16,61,67]', 'transpose', [x4, [0, 2, 3, 1]]],
  ['transpose [3,1,0,2] x=[2,16,61,67]', 'transpose', [x4, [3, 1, 0, 2]]],
  ['pad [0,0,1,2,0,0,3,1] x=[2,16,61,67]', 'pad', [x4, [0, 0, 1, 2, 0, 0, 3, 1], 0.5]],
  ['pad with crop [0,-1,2,-3,0,1,-2,4] x=[2,16,61,67]', 'pad', [x4, [0, -1, 2, -3, 0, 1, -2, 4], -1]],
  ['maxPool2d k=3 s=2 p=1 x=[2,16,61,67]', 'maxPool2d', [x4, { kernel: 3, strides: 2, pads: 1 }]],
  ['maxPool2d k=2 d=2 ceil x=[2,16,61,67]', 'maxPool2d', [x4, { kernel: 2, dilations: 2, ceil: true }]],
  ['avgPool2d k=3 s=1 p=1 x=[2,16,61,67]', 'avgPool2d', [x4, { kernel: 3, strides: 1, pads: 1, countIncludePad: true }]],
  ['globalAvgPool x=[2,16,61,67]', 'globalAvgPool', [x4]],
  ['depthwise conv2d w=[24,1,3,3] p=1 x=[1,24,45,47]', 'conv2d', [xdw, wdw, { pads: 1, group: 24, bias: c(24, 21) }]],
  ['depthwise conv2d x2 multiplier w=[48,1,5,5] s=2 d=2 relu', 'conv2d', [xdw, wdw2, { strides: 2, dilations: 2, pads: 3, group: 24, activation: 'relu' }]],
];
const runSync = ([, op, args]: Case): nn.Tensor => (nn[op] as (...a: unknown[]) => nn.Tensor)(...args);
const runAsync = ([, op, args]: Case): Promise<nn.Tensor> => (nn.async[op] as (...a: unknown[]) => Promise<nn.Tensor>)(...args);

// Convs that go through im2col + GEMM on the BLAS backends: OpenBLAS may sum
// differently at another thread count, so these are checked against the
// reference backend within a tolerance instead of bit for bit.
const gemmCases: [string, () => nn.Tensor][] = [
  ['conv2d 3x3 p=1 relu w=[20,12,3,3] x=[1,12,70,66]', () => nn.conv2d(xconv, wconv, { pads: 1, bias: bconv, activation: 'relu' })],
  ['conv2d 3x3 s=2 group 4 w=[20,3,3,3] x=[1,12,70,66]', () => nn.conv2d(xconv, wgroup, { strides: 2, pads: [1, 0, 2, 1], group: 4, bias: bconv })],
];

function sameBits(got: nn.Tensor, want: nn.Tensor): void {
  expect(got.shape).toEqual(want.shape);
  const g = new Uint32Array(got.data.buffer, got.data.byteOffset, got.data.length);
  const w = new Uint32Array(want.data.buffer, want.data.byteOffset, want.data.length);
  for (let i = 0; i < w.length; i++) {
    if (g[i] !== w[i]) throw new Error(`element ${i}: got ${got.data[i]}, want ${want.data[i]} (bits differ)`);
  }
}

function at<T>(threads: number, f: () => T): T {
  nn.setThreads(threads);
  try {
    return f();
  } finally {
    nn.setThreads(initialThreads);
  }
}

// auto is left out: it measures per thread count and may rightly pick another
// library's path at 2 threads than at 1 (other bits, same values).
describe.each(backends.filter((b) => b !== 'auto'))('neonn loops on %s give the same bits at any thread count', (backend) => {
  beforeAll(() => nn.setBackend(backend));

  test.each(cases)('%s: threads 2 and 3 equal threads 1', (...k) => {
    const op = (): nn.Tensor => runSync(k);
    const want = at(1, op);
    sameBits(at(2, op), want);
    sameBits(at(3, op), want);
  });

  test.each(gemmCases)('%s: threads 1, 2, 3 match the reference backend', (_label, op) => {
    nn.setBackend('reference');
    const want = op();
    nn.setBackend(backend);
    for (const t of [1, 2, 3]) expectClose(at(t, op).data, want.data, 1e-4, 1e-4);
  });

  test('every op at once through nn.async at 2 threads gives the 1-thread bits', async () => {
    const want = at(1, () => cases.map(runSync));
    nn.setThreads(2);
    try {
      // The async ops run on several libuv threads at once: one fans out over
      // the pool, the others run inline; each result must still be exact.
      const launch = (): Promise<nn.Tensor>[] => cases.map(runAsync);
      // Three rounds of all of them launched together, so calls overlap in many combinations.
      const rounds = await Promise.all([Promise.all(launch()), Promise.all(launch()), Promise.all(launch())]);
      for (const round of rounds) {
        expect(round.length).toBe(cases.length);
        round.forEach((got, i) => sameBits(got, want[i]));
      }
    } finally {
      nn.setThreads(initialThreads);
    }
  });

  test('50 concurrent async relu and maxPool2d calls at 3 threads give the 1-thread bits', async () => {
    const wantRelu = at(1, () => nn.relu(x4));
    const wantPool = at(1, () => nn.maxPool2d(x4, { kernel: 3, strides: 2, pads: 1 }));
    nn.setThreads(3);
    try {
      const got = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 ? nn.async.relu(x4) : nn.async.maxPool2d(x4, { kernel: 3, strides: 2, pads: 1 }))),
      );
      got.forEach((g, i) => sameBits(g, i % 2 ? wantRelu : wantPool));
    } finally {
      nn.setThreads(initialThreads);
    }
  });
});

describe('a model run is the same at 1 and 2 threads', () => {
  // SqueezeNet from the zoo: convs (im2col, 1x1), relu, max pooling, concat,
  // global average pooling and softmax in one forward pass.
  test('zoo squeezenet through loadOnnx, sync and several async runs at once', async () => {
    nn.setBackend('openblas');
    const model = await nn.loadOnnx(nn.zoo.onnx.squeezenet({ seed: 3 }));
    try {
      const feeds = { [model.inputNames[0]]: randomTensor([1, 3, 224, 224], 30) };
      const name = model.outputNames[0];
      const want = at(1, () => model.runSync(feeds))[name];
      nn.setThreads(2);
      try {
        const runs = await Promise.all([model.run(feeds), model.run(feeds), model.run(feeds)]);
        for (const r of runs) expectClose(r[name].data, want.data, 1e-4, 1e-6);
      } finally {
        nn.setThreads(initialThreads);
      }
    } finally {
      model.dispose();
    }
  });
});
