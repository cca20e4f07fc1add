// neonn's own NHWC kernels inside regions (src/xnnpack/xnnpack_nhwc.h): a
// depthwise 3x3 conv, a conv of at most 16 outputs and max pooling, run where
// the CPU has AVX-512 (XNNPACK's operators elsewhere). Whichever runs, the
// results must be the reference's at every edge of the kernels' blocks (8
// pixels, 16 channels), with a folded clamp and a pixel stride into a concat.
import * as nn from '../../lib';
import { onnx } from '../../lib/onnx/proto';
import { expectClose, onBackend as on, randomTensor } from '../helpers';
import { avx512, constant, conv, cw, encode, port, regionNotes, special } from './region-graphs';


const info = nn.backends().find((b) => b.name === 'xnnpack');
const available = info?.available === true;
if (!available) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED xnnpack NHWC kernel tests: xnnpack unavailable (${info?.reason ?? 'not registered'})`);
}
const suite = available ? describe : describe.skip;

const initialBackend = nn.getBackend();
afterAll(() => nn.setBackend(initialBackend));

suite('xnnpack: neonn\'s NHWC kernels in regions', () => {
  test.each([
    ['2x2 stride 2', 5, 12, 10, { kernel_shape: [2, 2], strides: [2, 2] }],
    ['3x3 stride 2, pads 1', 20, 11, 9, { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['3x2 stride 1, pads 0 1 1 0', 16, 7, 8, { kernel_shape: [3, 2], strides: [1, 1], pads: [0, 1, 1, 0] }],
    ['2x2 stride 2, ceil mode on odd sizes', 33, 9, 7, { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }],
  ])('a max pooling (%s, %i channels) in a region gives the reference results', (_name, ch, h, w, attrs) => {
    const attribute: onnx.IAttributeProto[] = Object.entries(attrs as Record<string, number | number[]>).map(([name, v]) =>
      Array.isArray(v) ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v } : { name, type: onnx.AttributeProto.AttributeType.INT, i: v },
    );
    const g0 = nn.loadOnnxSync(
      encode([conv('x', 'w1', 'c1', 3), { opType: 'MaxPool', input: ['c1'], output: ['p'], attribute }], [port('x', [2, 4, h as number, w as number])], [port('p', [])], [cw(ch as number, 4, 3, 1)]),
    );
    const feed = { x: randomTensor([2, 4, h as number, w as number], 27) };
    const shape = on('reference', () => g0.runSync(feed)).p.shape;
    g0.dispose();
    const model = encode(
      [conv('x', 'w1', 'c1', 3), { opType: 'Relu', input: ['c1'], output: ['r'] }, { opType: 'MaxPool', input: ['r'], output: ['p'], attribute }, { opType: 'Clip', input: ['p', 'lo', 'hi'], output: ['q'] }, conv('q', 'w2', 'y', 1)],
      [port('x', [2, 4, h as number, w as number])],
      [port('y', [2, 3, shape[2], shape[3]])],
      [cw(ch as number, 4, 3, 1), cw(3, ch as number, 1, 2), { name: 'lo', dims: [], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [0.05] }, { name: 'hi', dims: [], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [0.6] }],
    );
    const r = regionNotes(model, feed);
    expect([...r.notes]).toEqual([expect.stringMatching(/^NHWC region on XNNPACK: \d+ steps \(0-\d+\).*1 transposes in, 1 out$/)]);
    expect([...r.notes][0]).toMatch(/^NHWC region on XNNPACK: [34] steps/);
  });

  const convNode = (x: string, w: string, b: string, y: string, attrs: Record<string, number | number[]>): onnx.INodeProto => ({
    opType: 'Conv',
    input: [x, w, b],
    output: [y],
    attribute: Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v) ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v } : { name, type: onnx.AttributeProto.AttributeType.INT, i: v },
    ),
  });
  test.each([
    ['depthwise 3x3, 16 channels', 16, 16, 9, 21, { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 16 }],
    ['depthwise 3x3, 20 channels (16 + 4)', 20, 20, 7, 17, { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 20 }],
    ['depthwise 3x3, 31 channels (16 + 8 + 4 + 3 single ones)', 31, 31, 5, 19, { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 31 }],
    ['depthwise 3x3 stride 2, 24 channels (16 + 8)', 24, 24, 12, 20, { kernel_shape: [3, 3], pads: [0, 0, 1, 1], strides: [2, 2], group: 24 }],
    ['depthwise 3x3 stride 2, 48 channels, odd sizes', 48, 48, 11, 23, { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], group: 48 }],
    ['depthwise 3x3, no padding', 32, 32, 6, 19, { kernel_shape: [3, 3], group: 32 }],
    ['depthwise 3x3 stride 2, pads 0 0 1 1', 16, 16, 10, 26, { kernel_shape: [3, 3], pads: [0, 0, 1, 1], strides: [2, 2], group: 16 }],
    ['depthwise 3x3 of 4 channels (a detector head)', 4, 4, 8, 9, { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 4 }],
    ['a 3x3 stride-2 stem, 3 to 16 channels', 3, 16, 13, 27, { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }],
    ['1x1, 64 to 4 channels', 64, 4, 5, 18, { kernel_shape: [1, 1] }],
    ['5x5 pads 2, 8 to 10 channels', 8, 10, 9, 20, { kernel_shape: [5, 5], pads: [2, 2, 2, 2] }],
    ['1x3 pads 0 2 0 0 stride 1x2, 6 to 16 channels', 6, 16, 4, 31, { kernel_shape: [1, 3], pads: [0, 2, 0, 0], strides: [1, 2] }],
  ])('a conv in a region (%s) gives the reference results', (_name, cin, cout, h, w, attrs) => {
    const a = attrs as Record<string, number | number[]>;
    const k = a.kernel_shape as number[];
    const group = (a.group as number | undefined) ?? 1;
    const bias = (name: string, n: number, seed: number): onnx.ITensorProto => ({ ...constant(name, [n], seed), floatData: [...randomTensor([n], seed).data] });
    const weights = (name: string, dims: number[], seed: number): onnx.ITensorProto => ({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: [...randomTensor(dims, seed).data] });
    const clip = (x: string, y: string): onnx.INodeProto => ({ opType: 'Clip', input: [x, 'lo', 'hi'], output: [y] });
    const model = encode(
      [
        convNode('x', 'w0', 'b0', 'c0', { kernel_shape: [1, 1] }),
        convNode('c0', 'w1', 'b1', 'c1', a),
        clip('c1', 'r1'),
        // The same conv again, writing straight into its channels of a concat (a pixel stride past its channels).
        convNode('c0', 'w1', 'b1', 'c2', a),
        { opType: 'Concat', input: ['r1', 'c2'], output: ['cat'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
        convNode('cat', 'w3', 'b3', 'y', { kernel_shape: [1, 1] }),
      ],
      [port('x', [2, cin as number, h as number, w as number])],
      [port('y', [])],
      [
        weights('w0', [cin as number, cin as number, 1, 1], 30),
        bias('b0', cin as number, 31),
        weights('w1', [cout as number, (cin as number) / group, k[0], k[1]], 32),
        bias('b1', cout as number, 33),
        weights('w3', [5, 2 * (cout as number), 1, 1], 34),
        bias('b3', 5, 35),
        { name: 'lo', dims: [], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [-0.2] },
        { name: 'hi', dims: [], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [0.3] },
      ],
    );
    const r = regionNotes(model, { x: randomTensor([2, cin as number, h as number, w as number], 36) });
    expect([...r.notes]).toEqual([expect.stringMatching(/^NHWC region on XNNPACK: 6 steps \(0-5\) as 4 operators \(1 clamps folded\), 1 transposes in, 1 out$/)]);
  });

  test("a stem of at most 16 outputs reads the region's NCHW entry where it lies on AVX-512, and NaN still hands the run to the steps", () => {
    const model = encode(
      [conv('x', 'w1', 'c1', 3), { opType: 'Relu', input: ['c1'], output: ['r'] }, conv('r', 'w2', 'y', 1)],
      [port('x', [2, 3, 17, 23])],
      [port('y', [2, 5, 17, 23])],
      [cw(16, 3, 3, 1), cw(5, 16, 1, 2)],
    );
    const g = nn.loadOnnxSync(model);
    const x = randomTensor([2, 3, 17, 23], 40);
    const want = on('reference', () => g.runSync({ x }));
    const [got, layers] = on('xnnpack', () => [g.runSync({ x }), g.layers()] as const);
    expectClose(got.y.data, want.y.data, 1e-4, 1e-5);
    const note = layers.find((l) => l.choice)!.choice!;
    // neonn's stem kernel needs AVX-512: elsewhere XNNPACK's conv reads the entry transposed in.
    expect(note).toBe(
      `NHWC region on XNNPACK: 2 steps (0-1) as 2 operators (0 clamps folded), 1 transposes in${avx512 ? ' (1 read by its conv as it is instead)' : ''}, 1 out`,
    );
    for (const at of [0, 3 * 17 * 23 - 1, 3 * 17 * 23 + 40]) {
      const bad = randomTensor([2, 3, 17, 23], 41);
      bad.data[at] = at === 0 ? Infinity : NaN;
      const w = on('reference', () => g.runSync({ x: bad }));
      const y = on('xnnpack', () => g.runSync({ x: bad }));
      expect(special(y.y.data)).toEqual(special(w.y.data));
      expect(special(y.y.data).length).toBeGreaterThan(0);
    }
    g.dispose();
  });
});
