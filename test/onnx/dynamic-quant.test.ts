// Dynamic quantization (DynamicQuantizeLinear → ConvInteger / MatMulInteger → Cast → Mul by the scales), as
// onnxruntime's quantize_dynamic writes it. Under qdq 'auto' the integer ops take their exact float form
// (DequantizeLinear(x, 1, x_zp) → Conv/MatMul over w − w_zp → Cast int32): the same int32 sums as the integer
// kernels ('fuse'), bit for bit, on the float fast path; and onnxruntime computes the same.
import * as nn from '../../lib';
import { onnx } from '../../lib/onnx/proto';
import { availableBackends } from '../helpers';
import { hasOrt, ortRun } from './ort-run';

const T = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** x [1,3,10,9] → DynamicQuantizeLinear → ConvInteger (uint8 weights, one zero point or one per channel) → Cast → scales → Relu → Flatten → DynamicQuantizeLinear → MatMulInteger (int8 weights) → Cast → scales. */
function dynamicNet(seed: number, perChannel: boolean): Uint8Array {
  const r = lcg(seed);
  const cout = 6;
  const wConv = Array.from({ length: cout * 3 * 3 * 3 }, () => Math.floor(r() * 256));
  // onnxruntime's ConvInteger takes one weight zero point only.
  const wzConv = Array.from({ length: perChannel ? cout : 1 }, () => 100 + Math.floor(r() * 50));
  const flat = cout * 5 * 5;
  const wMm = Array.from({ length: flat * 4 }, () => Math.floor(r() * 256) - 128);
  const f32 = (name: string, v: number[], dims: number[]): onnx.ITensorProto => ({ name, dataType: T.FLOAT, dims, floatData: v });
  const u8 = (name: string, v: number[], dims: number[]): onnx.ITensorProto => ({ name, dataType: T.UINT8, dims, rawData: Uint8Array.from(v) });
  const i8 = (name: string, v: number[], dims: number[]): onnx.ITensorProto => ({ name, dataType: T.INT8, dims, rawData: new Uint8Array(Int8Array.from(v).buffer) });
  const node = (opType: string, input: string[], output: string[], attribute: onnx.IAttributeProto[] = []): onnx.INodeProto => ({ opType, input, output, attribute, name: output[0] });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'dyn',
      node: [
        node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz']),
        node('ConvInteger', ['xq', 'wc', 'xz', 'wcz'], ['c32'], [{ name: 'strides', type: AT.INTS, ints: [2, 2] }, { name: 'pads', type: AT.INTS, ints: [1, 1, 1, 1] }]),
        node('Cast', ['c32'], ['cf'], [{ name: 'to', type: AT.INT, i: T.FLOAT }]),
        node('Mul', ['cf', 'xs'], ['c1']),
        node('Mul', ['c1', 'wcs'], ['c2']),
        node('Relu', ['c2'], ['c3']),
        node('Flatten', ['c3'], ['f']),
        node('DynamicQuantizeLinear', ['f'], ['fq', 'fs', 'fz']),
        node('MatMulInteger', ['fq', 'wm', 'fz'], ['m32']),
        node('Cast', ['m32'], ['mf'], [{ name: 'to', type: AT.INT, i: T.FLOAT }]),
        node('Mul', ['mf', 'fs'], ['m1']),
        node('Mul', ['m1', 'wms'], ['y']),
      ],
      initializer: [
        u8('wc', wConv, [cout, 3, 3, 3]),
        u8('wcz', wzConv, [wzConv.length]),
        f32('wcs', Array.from({ length: cout }, (_, i) => 0.002 + i * 0.0005), [1, cout, 1, 1]),
        i8('wm', wMm, [flat, 4]),
        f32('wms', [0.01], []),
      ],
      input: [{ name: 'x', type: { tensorType: { elemType: T.FLOAT, shape: { dim: [1, 3, 10, 9].map((d) => ({ dimValue: d })) } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: T.FLOAT } } }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function input(seed: number): nn.Tensor {
  const r = lcg(seed);
  return nn.tensor(Float32Array.from({ length: 3 * 10 * 9 }, () => r() * 4 - 1), [1, 3, 10, 9]);
}

describe('dynamic quantization: the exact float form of ConvInteger and MatMulInteger', () => {
  test.each(availableBackends().flatMap((b) => [[b, false], [b, true]] as const))('%s (per-channel weight zero points: %s): qdq auto (float form) gives the integer kernels\' bits; onnxruntime agrees', async (backend, perChannel) => {
    const bytes = dynamicNet(5, perChannel);
    const x = input(9);
    nn.setBackend(backend);
    try {
      const fuse = await nn.loadOnnx(bytes, { qdq: 'fuse' });
      const auto = await nn.loadOnnx(bytes);
      const want = Array.from(fuse.runSync({ x }).y.data);
      expect(new Set(want).size).toBeGreaterThan(2);
      expect(Array.from((await auto.run({ x })).y.data)).toEqual(want);
      expect(Array.from(auto.runSync({ x }).y.data)).toEqual(want);
      const integerOps = fuse.layers().filter((l) => l.op === 'ConvInteger' || l.op === 'MatMulInteger');
      expect(integerOps.map((l) => l.precision)).toEqual(['int8', 'int8']);
      const floats = auto.layers().filter((l) => (l.fallback ?? '').startsWith('runs float (integer-valued, exact)'));
      expect(floats.map((l) => l.op).sort()).toEqual(['Conv', 'MatMul']);
      expect(auto.layers().some((l) => l.op === 'ConvInteger' || l.op === 'MatMulInteger')).toBe(false);
      fuse.dispose();
      auto.dispose();
      if (perChannel || !hasOrt) return;
      const theirs = ortRun(bytes, { x }).y.data;
      const scale = Math.max(...want.map(Math.abs));
      for (let i = 0; i < want.length; i++) expect(Math.abs(theirs[i] - want[i])).toBeLessThanOrEqual(1e-4 * scale);
    } finally {
      nn.setBackend('auto');
    }
  });

  test('a MatMulInteger whose A zero point is fed as a vector (one per row) keeps the integer kernel', async () => {
    // a and its zero points are computed from float inputs (read as data, so nothing is folded while planning).
    const to8 = (i: string, o: string): onnx.INodeProto => ({ opType: 'Cast', input: [i], output: [o], attribute: [{ name: 'to', type: AT.INT, i: T.UINT8 }], name: o });
    const m = onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'rowzp',
        node: [to8('af', 'a'), to8('azf', 'az'), { opType: 'MatMulInteger', input: ['a', 'b', 'az'], output: ['y'], name: 'mm' }],
        initializer: [{ name: 'b', dataType: T.INT8, dims: [3, 2], rawData: new Uint8Array(Int8Array.from([1, -2, 3, 4, -5, 6]).buffer) }],
        input: [
          { name: 'af', type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimValue: 2 }, { dimValue: 3 }] } } } },
          { name: 'azf', type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimValue: 2 }] } } } },
        ],
        output: [{ name: 'y', type: { tensorType: { elemType: T.INT32 } } }],
      },
    });
    const model = await nn.loadOnnx(onnx.ModelProto.encode(m).finish());
    const y = model.runSync({ af: nn.tensor(Float32Array.from([10, 20, 30, 1, 2, 3]), [2, 3]), azf: nn.tensor(Float32Array.from([10, 1]), [2]) }).y;
    // Row 0: (0, 10, 20) · b; row 1: (0, 1, 2) · b.
    expect(Array.from(y.data)).toEqual([10 * 3 + 20 * -5, 10 * 4 + 20 * 6, 3 - 10, 4 + 12]);
    expect(model.layers().map((l) => l.op)).toEqual(['Cast', 'Cast', 'MatMulInteger']);
    model.dispose();
  });
});
