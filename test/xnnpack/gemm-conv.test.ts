// neonn's GEMM for the convs of NHWC regions (src/xnnpack/xnnpack_gemm_conv.cc): a conv of one group computed as
// blocks of up to 12 output pixels against panels of 32 output channels, tap by tap, in chunks of up to 256
// inputs, with an add after the conv folded into it. It runs where the CPU has AVX-512 (XNNPACK's operators
// elsewhere), by default for convs of 64K weights or more and for those an add folds into; NEONN_GEMM_CONV=on
// takes every conv it fits, off none. Its results must be the reference's within a direct sum's rounding at every
// edge: pixel counts that are no multiple of 12 nor of a block, outputs that are no multiple of 32 or 16, inputs
// past a chunk, strides, dilations, padding on some sides only, a batch, a folded clamp and add, a pixel stride
// into a concat; the same bits at 1 and 2 threads; and layers() must say how many convs and adds it took.
import * as nn from '../../lib';
import { encode, floatInit, flt, ints, int, port, type Node } from '../onnx/builders';
import { onBackend as on, randomTensor } from '../helpers';
import { avx512, compare, compareWith } from './region-graphs';

const info = nn.backends().find((b) => b.name === 'xnnpack');
const available = info?.available === true;
if (!available) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED neonn GEMM conv tests: xnnpack unavailable (${info?.reason ?? 'not registered'})`);
} else if (!avx512) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED neonn GEMM conv tests: this CPU has no AVX-512 (${process.arch}); XNNPACK's convs run instead`);
}
const suite = available && avx512 ? describe : describe.skip;

const initialBackend = nn.getBackend();
afterAll(() => nn.setBackend(initialBackend));

// A direct sum in another order than the reference's: within 1e-5 of the output's largest magnitude at these sizes
// (1e-6 is typical); a wrong tap, edge, mask or chunk gives errors of order 1.
const TOL = 1e-5;
const gemmNote = /(\d+) convs on neonn's GEMM/;
const addNote = /(\d+) adds folded into convs/;
const count = (notes: string[], re: RegExp): number => Number(re.exec(notes.join(' '))?.[1] ?? 0);

interface ConvSpec {
  cin: number;
  cout: number;
  h: number;
  w: number;
  k: [number, number];
  batch?: number;
  strides?: [number, number];
  dilations?: [number, number];
  pads?: [number, number, number, number];
  bias?: boolean;
  after?: 'relu' | 'clip';
}

/** x (8 channels) -> Conv 1x1 -> Conv `s` (-> Relu | Clip -4..4) -> y: the conv under test inside the region. */
function convModel(s: ConvSpec, seed: number): Uint8Array {
  const attribute = [ints('kernel_shape', s.k), ints('pads', s.pads ?? [0, 0, 0, 0]), ints('strides', s.strides ?? [1, 1])];
  if (s.dilations) attribute.push(ints('dilations', s.dilations));
  const nodes: Node[] = [
    { opType: 'Conv', input: ['x', 'w0'], output: ['a'], attribute: [ints('kernel_shape', [1, 1])] },
    { opType: 'Conv', input: s.bias === false ? ['a', 'w1'] : ['a', 'w1', 'b1'], output: [s.after ? 'c' : 'y'], attribute },
  ];
  if (s.after === 'relu') nodes.push({ opType: 'Relu', input: ['c'], output: ['y'] });
  if (s.after === 'clip') nodes.push({ opType: 'Clip', input: ['c'], output: ['y'], attribute: [flt('min', -4), flt('max', 4)] });
  return encode({
    nodes,
    inputs: [port('x', [s.batch ?? 1, 8, s.h, s.w])],
    outputs: ['y'],
    inits: [
      floatInit('w0', randomTensor([s.cin, 8, 1, 1], seed)),
      floatInit('w1', randomTensor([s.cout, s.cin, s.k[0], s.k[1]], seed + 1)),
      floatInit('b1', randomTensor([s.cout], seed + 2)),
    ],
    opset: 10, // Clip with min and max attributes
  });
}

const input = (s: ConvSpec, seed: number): nn.Tensor => randomTensor([s.batch ?? 1, 8, s.h, s.w], seed);

suite("xnnpack: convs on neonn's GEMM in NHWC regions", () => {
  const errors: string[] = [];
  // eslint-disable-next-line no-console
  afterAll(() => console.log(`neonn GEMM conv error over the output's largest magnitude:\n  ${errors.join('\n  ')}`));
  const cases: [string, ConvSpec][] = [
    ['1x1, 256 -> 288, a batch of 2 (198 pixels: two blocks of 99), ReLU', { cin: 256, cout: 288, h: 9, w: 11, k: [1, 1], batch: 2, after: 'relu' }],
    ['1x1 stride 2, 300 -> 260 (two chunks of 150 inputs; the last panel 4 outputs)', { cin: 300, cout: 260, h: 13, w: 9, k: [1, 1], strides: [2, 2] }],
    ['3x3 stride 2, 64 -> 128, pads on the top and right only (chunks of 3 taps)', { cin: 64, cout: 128, h: 15, w: 14, k: [3, 3], strides: [2, 2], pads: [1, 0, 0, 1] }],
    ['5x5 dilation 2, 48 -> 60, pads 4, Clip folded, no bias', { cin: 48, cout: 60, h: 11, w: 12, k: [5, 5], dilations: [2, 2], pads: [4, 4, 4, 4], bias: false, after: 'clip' }],
    ['3x3 on 7x7 (too few tiles for Winograd), 512 -> 40 (18 chunks of 256; outputs 32 + 8)', { cin: 512, cout: 40, h: 7, w: 7, k: [3, 3], pads: [1, 1, 1, 1] }],
    ['1x7, 96 -> 112, pads 0 3 0 3, 2 x 1 strides', { cin: 96, cout: 112, h: 10, w: 17, k: [1, 7], strides: [2, 1], pads: [0, 3, 0, 3] }],
    ['1x1 of 2000 pixels (11 blocks), 128 -> 528', { cin: 128, cout: 528, h: 40, w: 50, k: [1, 1] }],
  ];
  test.each(cases)('%s: the reference results; layers() names it', (name, s) => {
    const r = compare(convModel(s, 3), { x: input(s, 11) });
    expect(count(r.notes, gemmNote)).toBe(1);
    expect(r.err).toBeLessThan(TOL);
    errors.push(`${name}: ${r.err.toExponential(2)}`);
  });

  test('one thread and two give the same bits (a pixel and output channel are one task, the chunks in one order)', () => {
    const s: ConvSpec = { cin: 320, cout: 200, h: 7, w: 9, k: [3, 3], pads: [1, 1, 1, 1], after: 'relu' };
    const x = input(s, 21);
    const before = nn.getThreads();
    const runAt = (threads: number): number[] => {
      nn.setThreads(threads);
      const g = nn.loadOnnxSync(convModel(s, 13));
      try {
        const [y, layers] = on('xnnpack', () => [Object.values(g.runSync({ x }))[0], g.layers()] as const);
        expect(layers.some((l) => gemmNote.test(l.choice ?? ''))).toBe(true);
        return Array.from(y.data);
      } finally {
        g.dispose();
      }
    };
    try {
      expect(runAt(2)).toEqual(runAt(1));
    } finally {
      nn.setThreads(before);
    }
  });

  /** x -> Conv 1x1 (64 -> c, ReLU) = a -> Conv 1x1 (c -> c) = b -> Add(b, a | broadcast) -> Relu -> y (+ b read again). */
  function residualModel(c: number, opts: { broadcast?: boolean; bTwice?: boolean; swap?: boolean }): Uint8Array {
    const other = opts.broadcast ? 'p' : 'a';
    const nodes: Node[] = [
      { opType: 'Conv', input: ['x', 'w0', 'b0'], output: ['a0'], attribute: [ints('kernel_shape', [1, 1])] },
      { opType: 'Relu', input: ['a0'], output: ['a'] },
      { opType: 'Conv', input: ['a', 'w1', 'b1'], output: ['b'], attribute: [ints('kernel_shape', [1, 1])] },
      { opType: 'Add', input: opts.swap ? [other, 'b'] : ['b', other], output: ['s'] },
      { opType: 'Relu', input: ['s'], output: [opts.bTwice ? 'r' : 'y'] },
    ];
    if (opts.broadcast) nodes.splice(0, 0, { opType: 'GlobalAveragePool', input: ['x'], output: ['p0'] }, { opType: 'Conv', input: ['p0', 'wp'], output: ['p'], attribute: [ints('kernel_shape', [1, 1])] });
    if (opts.bTwice) nodes.push({ opType: 'Mul', input: ['r', 'b'], output: ['y'] });
    return encode({
      nodes,
      inputs: [port('x', [1, 64, 10, 13])],
      outputs: ['y'],
      inits: [
        floatInit('w0', randomTensor([c, 64, 1, 1], 1)),
        floatInit('b0', randomTensor([c], 2)),
        floatInit('w1', randomTensor([c, c, 1, 1], 3)),
        floatInit('b1', randomTensor([c], 4)),
        floatInit('wp', randomTensor([c, 64, 1, 1], 5)),
      ],
    });
  }
  const x64 = (): nn.Tensor => randomTensor([1, 64, 10, 13], 7);

  test.each([
    ["a ResNet block's add and ReLU fold into the conv before them", {}, 1],
    ['the add with its operands the other way round', { swap: true }, 1],
    ['no fold when the conv output is read again (by a Mul)', { bTwice: true }, 0],
    ['no fold when the add broadcasts (a per-channel value)', { broadcast: true }, 0],
  ])('%s', (_name, opts, folds) => {
    // 72 channels: small convs (under 64K weights) that run on the GEMM only for the fold.
    const r = compare(residualModel(72, opts), { x: x64() });
    expect(count(r.notes, addNote)).toBe(folds);
    expect(count(r.notes, gemmNote)).toBe(folds);
    expect(r.err).toBeLessThan(TOL);
  });

  test('a conv writing straight into its channels of a Concat (a pixel stride past its outputs), with an add folded', () => {
    const model = encode({
      nodes: [
        { opType: 'Conv', input: ['x', 'w0'], output: ['a'], attribute: [ints('kernel_shape', [1, 1])] },
        { opType: 'Conv', input: ['a', 'w1', 'b1'], output: ['p'], attribute: [ints('kernel_shape', [1, 1])] },
        { opType: 'Add', input: ['p', 'a'], output: ['s'] },
        { opType: 'Conv', input: ['a', 'w2'], output: ['q'], attribute: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), ints('strides', [1, 1])] },
        { opType: 'Concat', input: ['s', 'q'], output: ['c'], attribute: [int('axis', 1)] },
        { opType: 'Conv', input: ['c', 'w3'], output: ['y'], attribute: [ints('kernel_shape', [1, 1])] },
      ],
      inputs: [port('x', [1, 48, 7, 6])],
      outputs: ['y'],
      inits: [
        floatInit('w0', randomTensor([48, 48, 1, 1], 1)),
        floatInit('w1', randomTensor([48, 48, 1, 1], 2)),
        floatInit('b1', randomTensor([48], 3)),
        floatInit('w2', randomTensor([200, 48, 3, 3], 4)),
        floatInit('w3', randomTensor([8, 248, 1, 1], 5)),
      ],
    });
    const r = compare(model, { x: randomTensor([1, 48, 7, 6], 9) });
    expect(count(r.notes, addNote)).toBe(1);
    expect(count(r.notes, gemmNote)).toBe(2);
    expect(r.err).toBeLessThan(TOL);
  });

  test('NEONN_GEMM_CONV=off: the same convs run as XNNPACK operators, the add unfolded; =on takes a stem of 3 inputs', () => {
    const s: ConvSpec = { cin: 256, cout: 288, h: 9, w: 11, k: [1, 1], after: 'relu' };
    const off = compareWith({ NEONN_GEMM_CONV: 'off' }, convModel(s, 3), input(s, 11));
    expect(off.notes.join(' ')).toMatch(/NHWC region on XNNPACK/);
    expect(off.notes.join(' ')).not.toMatch(/GEMM|adds folded/);
    expect(off.err).toBeLessThan(TOL);
    const stem: ConvSpec = { cin: 3, cout: 24, h: 23, w: 19, k: [7, 7], strides: [2, 2], pads: [3, 3, 3, 3] };
    expect(count(compare(convModel(stem, 5), { x: input(stem, 6) }).notes, gemmNote)).toBe(0);
    const forced = compareWith({ NEONN_GEMM_CONV: 'on' }, convModel(stem, 5), input(stem, 6));
    // Both convs: the 1x1 one of 3 channels before it too.
    expect(count(forced.notes, gemmNote)).toBe(2);
    expect(forced.err).toBeLessThan(TOL);
  });
});
