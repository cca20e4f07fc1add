// Winograd F(4x4, 3x3) inside NHWC regions: a 3x3 stride-1 conv with channels
// enough runs as transforms around XNNPACK's batched GEMM. Its results must be
// the reference's within the rounding the transforms add (bounded here against
// the output's largest magnitude, as for NNPACK's Winograd), on every edge a
// tile can have: outputs not a multiple of 4, padding on some sides only,
// channels not a multiple of the vector width, a batch, a bias, fused ReLU and
// Clip, two convs writing straight into a Concat's channels. layers() must
// say which convs ran so, and NEONN_WINOGRAD must switch it off and on.
import * as nn from '../../lib';
import { encode, floatInit, ints, flt, port, type Node } from '../onnx/builders';
import { onBackend as on, randomTensor } from '../helpers';
import { avx512, compare, compareWith } from './region-graphs';

const info = nn.backends().find((b) => b.name === 'xnnpack');
const available = info?.available === true;
if (!available) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED xnnpack Winograd tests: xnnpack unavailable (${info?.reason ?? 'not registered'})`);
}
const suite = available ? describe : describe.skip;

const initialBackend = nn.getBackend();
afterAll(() => nn.setBackend(initialBackend));

interface ConvSpec {
  cin: number;
  cout: number;
  h: number;
  w: number;
  batch?: number;
  pads?: [number, number, number, number];
  bias?: boolean;
  after?: 'relu' | 'clip';
}

/** x -> Conv 3x3 (-> Relu | Clip 0..6) -> y, behind a 1x1 conv so that the 3x3 one is inside the region. */
function convModel(s: ConvSpec, seed: number): Uint8Array {
  const batch = s.batch ?? 1;
  const pads = s.pads ?? [1, 1, 1, 1];
  const nodes: Node[] = [
    { opType: 'Conv', input: ['x', 'w0'], output: ['a'], attribute: [ints('kernel_shape', [1, 1])] },
    {
      opType: 'Conv',
      input: s.bias === false ? ['a', 'w1'] : ['a', 'w1', 'b1'],
      output: [s.after ? 'c' : 'y'],
      attribute: [ints('kernel_shape', [3, 3]), ints('pads', pads)],
    },
  ];
  if (s.after === 'relu') nodes.push({ opType: 'Relu', input: ['c'], output: ['y'] });
  if (s.after === 'clip') nodes.push({ opType: 'Clip', input: ['c'], output: ['y'], attribute: [flt('min', 0), flt('max', 6)] });
  return encode({
    nodes,
    inputs: [port('x', [batch, s.cin, s.h, s.w])],
    outputs: ['y'],
    inits: [
      floatInit('w0', randomTensor([s.cin, s.cin, 1, 1], seed)),
      floatInit('w1', randomTensor([s.cout, s.cin, 3, 3], seed + 1)),
      floatInit('b1', randomTensor([s.cout], seed + 2)),
    ],
    opset: 10, // Clip with min and max attributes (inputs from opset 11)
  });
}

// F(4x4, 3x3) in fp32 against a direct sum: the transforms scale partial sums by up to 8 and 1/24, so the error is
// some 10x a direct sum's; 1e-4 of the output's largest magnitude holds with room at these channel counts (about
// 1e-6 is typical) and fails for any wrong coefficient, tap or tile edge (those give errors of order 1).
const TOL = 1e-4;
const winogradNote = /(\d+) 3x3 convs as Winograd F\(4x4, 3x3\)/;

suite('xnnpack: Winograd F(4x4, 3x3) convs in NHWC regions', () => {
  const errors: string[] = [];
  // eslint-disable-next-line no-console
  afterAll(() => console.log(`Winograd F(4x4, 3x3) error over the output's largest magnitude:\n  ${errors.join('\n  ')}`));
  const cases: [string, ConvSpec][] = [
    ['outputs a multiple of 4, channels of 16s', { cin: 32, cout: 48, h: 16, w: 16 }],
    ['odd output sizes, channels past the vector width', { cin: 37, cout: 45, h: 17, w: 15 }],
    ['no padding (valid): 17x15 outputs', { cin: 40, cout: 33, h: 19, w: 17, pads: [0, 0, 0, 0] }],
    ['padding on the top and left only', { cin: 32, cout: 32, h: 14, w: 18, pads: [1, 1, 0, 0] }],
    ['padding on the bottom and right only, 2 wide', { cin: 32, cout: 40, h: 13, w: 16, pads: [0, 0, 2, 2] }],
    ['a batch of 3, no bias', { cin: 48, cout: 32, h: 12, w: 12, batch: 3, bias: false }],
    ['fused ReLU', { cin: 64, cout: 64, h: 14, w: 14, after: 'relu' }],
    ['Clip (0..6) folded into it', { cin: 32, cout: 64, h: 16, w: 16, after: 'clip' }],
    ['many tiles (two blocks)', { cin: 64, cout: 64, h: 40, w: 40 }],
    ['wide channels, 49 tiles', { cin: 256, cout: 128, h: 28, w: 28 }],
  ];
  test.each(cases)('%s: the reference results to the stated rounding; layers() names it', (_name, s) => {
    const x = randomTensor([s.batch ?? 1, s.cin, s.h, s.w], 11);
    const r = compare(convModel(s, 3), { x });
    expect(r.notes.join(' ')).toMatch(winogradNote);
    expect(Number(winogradNote.exec(r.notes.join(' '))![1])).toBe(1);
    expect(r.err).toBeLessThan(TOL);
    errors.push(`${_name}: ${r.err.toExponential(2)}`);
  });

  test('wide channels on 16 tiles: Winograd, but on AVX-512 the direct conv on neonn\'s GEMM is the faster and takes it', () => {
    const s: ConvSpec = { cin: 256, cout: 128, h: 14, w: 14 };
    const x = randomTensor([1, s.cin, s.h, s.w], 11);
    const r = compare(convModel(s, 3), { x });
    // (The 1x1 conv of 256 x 256 weights before it runs on the GEMM too.)
    expect(r.notes.join(' ')).toMatch(avx512 ? /\(0 clamps folded, 2 convs on neonn's GEMM\)/ : winogradNote);
    expect(r.err).toBeLessThan(avx512 ? 1e-5 : TOL);
    const forced = compareWith({ NEONN_WINOGRAD: 'on' }, convModel(s, 3), x);
    expect(forced.notes.join(' ')).toMatch(winogradNote);
    expect(forced.err).toBeLessThan(TOL);
  });

  test('one thread and two give the same bits (the transforms per tile, the GEMM per element, do not depend on them)', () => {
    const s: ConvSpec = { cin: 40, cout: 36, h: 30, w: 29, after: 'relu' };
    const x = randomTensor([1, s.cin, s.h, s.w], 21);
    const before = nn.getThreads();
    const runAt = (threads: number): Float32Array => {
      nn.setThreads(threads);
      const g = nn.loadOnnxSync(convModel(s, 13));
      try {
        const [y, layers] = on('xnnpack', () => [Object.values(g.runSync({ x }))[0], g.layers()] as const);
        expect(layers.some((l) => winogradNote.test(l.choice ?? ''))).toBe(true);
        return y.data as Float32Array;
      } finally {
        g.dispose();
      }
    };
    try {
      expect(Array.from(runAt(2))).toEqual(Array.from(runAt(1)));
    } finally {
      nn.setThreads(before);
    }
  });

  test('NEONN_WINOGRAD=off: the same conv runs as XNNPACK’s direct conv (and matches as tightly as a direct sum)', () => {
    const s: ConvSpec = { cin: 37, cout: 45, h: 17, w: 15 };
    const r = compareWith({ NEONN_WINOGRAD: 'off' }, convModel(s, 3), randomTensor([1, s.cin, s.h, s.w], 11));
    expect(r.notes.join(' ')).toMatch(/NHWC region on XNNPACK/);
    expect(r.notes.join(' ')).not.toMatch(/Winograd/);
    expect(r.err).toBeLessThan(1e-5);
  });

  test('few tiles stay direct by default (the GEMM would stream 4x the weights for 4 rows); forced, still right', () => {
    const s: ConvSpec = { cin: 64, cout: 48, h: 7, w: 7 };
    const x = randomTensor([1, s.cin, s.h, s.w], 6);
    expect(compare(convModel(s, 9), { x }).notes.join(' ')).not.toMatch(/Winograd/);
    const r = compareWith({ NEONN_WINOGRAD: 'on' }, convModel(s, 9), x);
    expect(r.notes.join(' ')).toMatch(winogradNote);
    expect(r.err).toBeLessThan(TOL);
  });

  test('few channels stay direct by default; NEONN_WINOGRAD=on forces F(4x4, 3x3) on them, still right', () => {
    const s: ConvSpec = { cin: 3, cout: 8, h: 10, w: 10, pads: [1, 0, 1, 2] };
    const x = randomTensor([1, s.cin, s.h, s.w], 7);
    expect(compare(convModel(s, 5), { x }).notes.join(' ')).not.toMatch(/Winograd/);
    const r = compareWith({ NEONN_WINOGRAD: 'on' }, convModel(s, 5), x);
    expect(r.notes.join(' ')).toMatch(winogradNote);
    expect(r.err).toBeLessThan(TOL);
  });

  test('two Winograd convs writing straight into the channels of a Concat', () => {
    const cin = 32;
    const model = encode({
      nodes: [
        { opType: 'Conv', input: ['x', 'w0'], output: ['a'], attribute: [ints('kernel_shape', [1, 1])] },
        { opType: 'Conv', input: ['a', 'w1', 'b1'], output: ['p'], attribute: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])] },
        { opType: 'Conv', input: ['a', 'w2'], output: ['q'], attribute: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])] },
        { opType: 'Relu', input: ['q'], output: ['qr'] },
        { opType: 'Concat', input: ['p', 'qr'], output: ['c'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
        { opType: 'Conv', input: ['c', 'w3'], output: ['y'], attribute: [ints('kernel_shape', [1, 1])] },
      ],
      inputs: [port('x', [1, cin, 16, 15])],
      outputs: ['y'],
      inits: [
        floatInit('w0', randomTensor([cin, cin, 1, 1], 1)),
        floatInit('w1', randomTensor([40, cin, 3, 3], 2)),
        floatInit('b1', randomTensor([40], 3)),
        floatInit('w2', randomTensor([36, cin, 3, 3], 4)),
        floatInit('w3', randomTensor([8, 76, 1, 1], 5)),
      ],
    });
    const r = compare(model, { x: randomTensor([1, cin, 16, 15], 9) });
    expect(Number(winogradNote.exec(r.notes.join(' '))?.[1])).toBe(2);
    expect(r.err).toBeLessThan(TOL);
  });

  test('a quantized model (QuantizeLinear -> DequantizeLinear between float ops) keeps its convs direct', () => {
    const cin = 32;
    const model = encode({
      nodes: [
        { opType: 'Conv', input: ['x', 'w0'], output: ['a'], attribute: [ints('kernel_shape', [1, 1])] },
        { opType: 'QuantizeLinear', input: ['a', 's', 'z'], output: ['aq'] },
        { opType: 'DequantizeLinear', input: ['aq', 's', 'z'], output: ['ad'] },
        { opType: 'Conv', input: ['ad', 'w1'], output: ['y'], attribute: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])] },
      ],
      inputs: [port('x', [1, cin, 16, 16])],
      outputs: ['y'],
      inits: [
        floatInit('w0', randomTensor([cin, cin, 1, 1], 1)),
        floatInit('w1', randomTensor([cin, cin, 3, 3], 2)),
        { name: 's', dims: [], dataType: 1, floatData: [0.05] },
        { name: 'z', dims: [], dataType: 3, int32Data: [0] },
      ],
    });
    const r = compare(model, { x: randomTensor([1, cin, 16, 16], 3) });
    expect(r.notes.join(' ')).toMatch(/NHWC region on XNNPACK/);
    expect(r.notes.join(' ')).not.toMatch(/Winograd/);
    expect(r.err).toBeLessThan(1e-5);
  });

  test('a NaN in the input: the steps run one by one, NaN where the reference puts it', () => {
    const s: ConvSpec = { cin: 32, cout: 32, h: 9, w: 9 };
    const x = randomTensor([1, s.cin, s.h, s.w], 4);
    x.data[5 * 81 + 40] = NaN;
    const g = nn.loadOnnxSync(convModel(s, 8));
    const want = Object.values(on('reference', () => g.runSync({ x })))[0];
    const got = Object.values(on('xnnpack', () => g.runSync({ x })))[0];
    const nan = (a: ArrayLike<number>) => Array.from(a).flatMap((v, i) => (Number.isNaN(v) ? [i] : []));
    expect(nan(got.data)).toEqual(nan(want.data));
    expect(nan(want.data).length).toBeGreaterThan(0);
    g.dispose();
  });
});
