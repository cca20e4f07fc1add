/** @jest-environment ./test/onnx-export/ort-environment.js */
// QDQ fusion at load (lib/onnx/qdq.ts): small DequantizeLinear → op →
// QuantizeLinear graphs, each run fused (default), as written (qdq: 'float')
// and by onnxruntime-node (which fuses the same chains). A fused chain must
// match onnxruntime's output exactly (both integer kernels with ONNX's
// rounding) and the float path within one step of the output's scale;
// layers() must say which step ran in int8 and, for one left float, why.
import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import * as nn from '../../lib';
import { onnx } from '../../lib/onnx/proto';
import { availableBackends } from '../helpers';

const T = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

function f32(name: string, values: number[], dims: number[] = []): onnx.ITensorProto {
  return { name, dataType: T.FLOAT, dims, floatData: values };
}
function u8(name: string, values: number[], dims: number[] = []): onnx.ITensorProto {
  return { name, dataType: T.UINT8, dims, rawData: Uint8Array.from(values) };
}
function i8(name: string, values: number[], dims: number[] = []): onnx.ITensorProto {
  return { name, dataType: T.INT8, dims, rawData: new Uint8Array(Int8Array.from(values).buffer) };
}
function i32(name: string, values: number[], dims: number[]): onnx.ITensorProto {
  return { name, dataType: T.INT32, dims, int32Data: values };
}
const node = (opType: string, input: string[], output: string[], attribute: onnx.IAttributeProto[] = [], domain = ''): onnx.INodeProto => ({ opType, input, output, attribute, name: `${opType}_${output[0]}`, domain });
const ints = (name: string, v: number[]): onnx.IAttributeProto => ({ name, type: AT.INTS, ints: v });
const int = (name: string, v: number): onnx.IAttributeProto => ({ name, type: AT.INT, i: v });

function model(nodes: onnx.INodeProto[], inits: onnx.ITensorProto[], shape: number[], out = 'y'): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 1 }],
    graph: {
      name: 'qdq',
      node: nodes,
      initializer: inits,
      input: [{ name: 'x', type: { tensorType: { elemType: T.FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } } } }],
      output: [{ name: out, type: { tensorType: { elemType: T.FLOAT } } }],
    },
  }).finish();
}

/** A seeded ramp of floats in [-1, 1). */
function input(shape: number[], seed = 1): nn.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    d[i] = (s / 2 ** 32) * 2 - 1;
  }
  return new nn.Tensor(d, shape);
}

async function runAll(bytes: Uint8Array, x: nn.Tensor): Promise<{ fused: Float32Array; plain: Float32Array; ort: Float32Array; layers: nn.OnnxLayer[] }> {
  const a = await nn.loadOnnx(bytes, { qdq: 'fuse' });
  const fused = Float32Array.from((await a.run({ x })).y.data);
  const layers = a.layers();
  a.dispose();
  const b = await nn.loadOnnx(bytes, { qdq: 'float' });
  const plain = Float32Array.from((await b.run({ x })).y.data);
  b.dispose();
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const o = await s.run({ x: new ort.Tensor('float32', x.data, [...x.shape]) });
  await s.release();
  return { fused, plain, ort: Float32Array.from(o.y.data as Float32Array), layers };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** x → Q(uint8) → DQ, the usual head of a QDQ chain. */
const head = (scale: number, zero: number): { nodes: onnx.INodeProto[]; inits: onnx.ITensorProto[] } => ({
  nodes: [node('QuantizeLinear', ['x', 'xs', 'xz'], ['xq']), node('DequantizeLinear', ['xq', 'xs', 'xz'], ['xd'])],
  inits: [f32('xs', [scale]), u8('xz', [zero])],
});
/** t → Q → DQ → y, the tail. */
const tail = (t: string, scale: number, zero: number): { nodes: onnx.INodeProto[]; inits: onnx.ITensorProto[] } => ({
  nodes: [node('QuantizeLinear', [t, 'ys', 'yz'], ['yq']), node('DequantizeLinear', ['yq', 'ys', 'yz'], ['y'])],
  inits: [f32('ys', [scale]), u8('yz', [zero])],
});

function convGraph(opts: { relu?: boolean; yZero?: number; biasScale?: number }): Uint8Array {
  const xs = 2 / 255, cin = 3, cout = 4;
  const w: number[] = [];
  for (let i = 0; i < cout * cin * 9; i++) w.push(((i * 37) % 255) - 127);
  const ws = [0.004, 0.003, 0.005, 0.002];
  const h = head(xs, 128);
  const t = tail(opts.relu ? 'r' : 'c', 0.02, opts.yZero ?? 0);
  const bscale = ws.map((s) => Math.fround(xs * s) * (opts.biasScale ?? 1));
  return model(
    [
      ...h.nodes,
      node('DequantizeLinear', ['wq', 'wsc', 'wz'], ['wd'], [int('axis', 0)]),
      node('DequantizeLinear', ['bq', 'bs'], ['bd'], [int('axis', 0)]),
      node('Conv', ['xd', 'wd', 'bd'], ['c'], [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])]),
      ...(opts.relu ? [node('Relu', ['c'], ['r'])] : []),
      ...t.nodes,
    ],
    [...h.inits, ...t.inits, i8('wq', w, [cout, cin, 3, 3]), f32('wsc', ws, [cout]), i8('wz', [0, 0, 0, 0], [cout]), i32('bq', [100, -200, 300, 0], [cout]), f32('bs', bscale, [cout])],
    [1, cin, 8, 8],
  );
}

describe('QDQ fusion at load', () => {
  test('DQ → Conv (per-channel int8 weights, int32 bias) → Relu → Q(zero point 0) runs as one QLinearConv, exactly as onnxruntime', async () => {
    const r = await runAll(convGraph({ relu: true }), input([1, 3, 8, 8]));
    expect(maxDiff(r.fused, r.ort)).toBeLessThanOrEqual(1e-6);
    expect(maxDiff(r.fused, r.plain)).toBeLessThanOrEqual(0.02 * 1.0001);
    const conv = r.layers.find((l) => /Conv/.test(l.op))!;
    expect(conv).toMatchObject({ op: 'DequantizeLinear+Conv+Relu+QuantizeLinear', precision: 'int8' });
    expect(conv.name).toMatch(/Conv node #\d+ .* \+ Relu node #\d+ .* \+ QuantizeLinear node #\d+/);
    expect(conv.fallback).toBeUndefined();
  });

  test('without the Relu, and with qdq: float the same graph runs in float', async () => {
    const bytes = convGraph({});
    const r = await runAll(bytes, input([1, 3, 8, 8], 7));
    expect(maxDiff(r.fused, r.ort)).toBeLessThanOrEqual(1e-6);
    const m = await nn.loadOnnx(bytes, { qdq: 'float' });
    m.runSync({ x: input([1, 3, 8, 8]) });
    const conv = m.layers().find((l) => /Conv/.test(l.op))!;
    m.dispose();
    expect(conv).toMatchObject({ op: 'Conv', precision: 'float' });
  });

  test('a Relu the output range does not apply (zero point 10) keeps the Conv float, and layers() says why', async () => {
    const r = await runAll(convGraph({ relu: true, yZero: 10 }), input([1, 3, 8, 8], 3));
    const conv = r.layers.find((l) => /Conv/.test(l.op))!;
    expect(conv.precision).toBe('float');
    expect(conv.fallback).toMatch(/Relu before QuantizeLinear does not fold .*zero point 10, not 0/);
    expect(maxDiff(r.fused, r.plain)).toBe(0);
  });

  test('a bias whose scale is not x_scale · w_scale keeps the Conv float', async () => {
    const r = await runAll(convGraph({ biasScale: 2 }), input([1, 3, 8, 8]));
    const conv = r.layers.find((l) => /Conv/.test(l.op))!;
    expect(conv.precision).toBe('float');
    expect(conv.fallback).toMatch(/bias is not int32 with scale x_scale · w_scale/);
  });

  test('Add of two quantized values → QLinearAdd, MaxPool with one scale → 8-bit MaxPool, Concat → QLinearConcat', async () => {
    const h = head(2 / 255, 128);
    const t = tail('cat', 0.01, 100);
    const bytes = model(
      [
        ...h.nodes,
        node('MaxPool', ['xd'], ['mp'], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]),
        node('QuantizeLinear', ['mp', 'xs', 'xz'], ['mpq']),
        node('DequantizeLinear', ['mpq', 'xs', 'xz'], ['mpd']),
        node('QuantizeLinear', ['mpd', 'xs', 'xz'], ['m2q']),
        node('DequantizeLinear', ['m2q', 'xs', 'xz'], ['m2d']),
        node('Add', ['mpd', 'm2d'], ['sum']),
        node('QuantizeLinear', ['sum', 'ss', 'sz'], ['sq']),
        node('DequantizeLinear', ['sq', 'ss', 'sz'], ['sd']),
        node('Concat', ['sd', 'mpd'], ['cat'], [int('axis', 1)]),
        ...t.nodes,
      ],
      [...h.inits, ...t.inits, f32('ss', [0.015]), u8('sz', [120])],
      [1, 2, 6, 6],
    );
    const r = await runAll(bytes, input([1, 2, 6, 6], 5));
    expect(maxDiff(r.fused, r.ort)).toBeLessThanOrEqual(1e-6);
    expect(maxDiff(r.fused, r.plain)).toBeLessThanOrEqual(0.01 * 1.0001);
    const ops = r.layers.filter((l) => l.precision === 'int8').map((l) => l.op);
    expect(ops).toEqual(expect.arrayContaining(['DequantizeLinear+MaxPool+QuantizeLinear', 'DequantizeLinear+Add+QuantizeLinear', 'DequantizeLinear+Concat+QuantizeLinear']));
  });

  const RETINA = path.join(__dirname, '..', '..', '..', 'shared', 'real-models', 'retinaface_qdq');
  const retina = fs.existsSync(path.join(RETINA, 'model.onnx')) ? test : test.skip;
  if (!fs.existsSync(path.join(RETINA, 'model.onnx'))) console.warn('SKIPPED: retinaface_qdq layers test: the shared model is missing');
  retina('retinaface_qdq: what fuses and what stays float, with the reason', () => {
    const m = nn.loadOnnxSync(path.join(RETINA, 'model.onnx'), { qdq: 'fuse' });
    const layers = m.layers();
    m.dispose();
    expect(layers.filter((l) => l.precision === 'int8').map((l) => l.op)).toEqual(expect.arrayContaining(['DequantizeLinear+Add+QuantizeLinear']));
    // Its Relu outputs are int8 with zero point 0: saturation is not the Relu, so those Convs stay float (as in onnxruntime).
    const relu = layers.find((l) => l.op === 'Conv+Relu')!;
    expect(relu.precision).toBe('float');
    expect(relu.fallback).toMatch(/zero point 0, not -128/);
  });
  retina("retinaface_qdq under the default qdq: 'auto': the same fusion, and the same outputs as 'fuse'", () => {
    const x = new nn.Tensor(Float32Array.from({ length: 3 * 640 * 640 }, (_, i) => Math.sin(i) * 0.5), [1, 3, 640, 640]);
    const run = (opts?: nn.LoadOnnxOptions): { outs: Record<string, nn.Tensor>; layers: nn.OnnxLayer[] } => {
      const m = nn.loadOnnxSync(path.join(RETINA, 'model.onnx'), opts);
      const outs = m.runSync({ [m.inputNames[0]]: x });
      const layers = m.layers();
      m.dispose();
      return { outs, layers };
    };
    const auto = run();
    const fused = run({ qdq: 'fuse' });
    expect(auto.layers.filter((l) => l.precision === 'int8').map((l) => l.op)).toEqual(fused.layers.filter((l) => l.precision === 'int8').map((l) => l.op));
    for (const [name, t] of Object.entries(fused.outs)) expect(Array.from(auto.outs[name].data)).toEqual(Array.from(t.data));
  });
});

describe('QOperator files under the default qdq: auto: integer regions on xnnpack/auto, else the integer-valued float path', () => {
  const DIR = path.join(__dirname, '..', '..', '..', 'shared', 'real-models', 'mobilenetv2_int8');
  const have = fs.existsSync(path.join(DIR, 'model.onnx'));
  if (!have) console.warn('SKIPPED: mobilenetv2_int8 float-path test: the shared model is missing');
  const f32 = (p: string): Float32Array => {
    const b = fs.readFileSync(p);
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  };
  // Not a blas:<path> backend another test file registered in this worker (its stand-in sgemm adds a marker).
  const backends = availableBackends().filter((b) => b !== 'nnpack');
  (have ? test.each(backends) : test.skip.each(backends))('mobilenetv2_int8 on %s: bit-identical to the integer kernels, and layers() says how', (backend) => {
    nn.setBackend(backend);
    try {
      const x = new nn.Tensor(f32(path.join(DIR, 'input_0.f32')), [1, 3, 224, 224]);
      const auto = nn.loadOnnxSync(path.join(DIR, 'model.onnx'));
      const fused = nn.loadOnnxSync(path.join(DIR, 'model.onnx'), { qdq: 'fuse' });
      const a = auto.runSync({ [auto.inputNames[0]]: x })[auto.outputNames[0]];
      const b = fused.runSync({ [fused.inputNames[0]]: x })[fused.outputNames[0]];
      expect(Array.from(a.data)).toEqual(Array.from(b.data));
      // auto measures the integer path against the exact float form: either may win on a CPU (the float form on
      // one with wide fp32 FMA, such as Zen 5); xnnpack keeps the integer path.
      if (backend === 'xnnpack' || (backend === 'auto' && auto.layers().some((l) => l.op === 'QLinearConv'))) {
        // Every QLinearConv stays integer, in a quantized NHWC region on XNNPACK's qs8 operators.
        const convs = auto.layers().filter((l) => l.op === 'QLinearConv');
        expect(convs.length).toBe(52);
        for (const c of convs) expect(c.choice).toMatch(/quantized NHWC region on XNNPACK/);
      } else {
        const convs = auto.layers().filter((l) => l.op === 'Conv');
        expect(convs.length).toBe(52); // every QLinearConv of the file
        for (const c of convs) expect(c.fallback).toMatch(/runs float \(integer-valued, exact\)/);
      }
      expect(fused.layers().filter((l) => l.op === 'QLinearConv' && l.precision === 'int8').length).toBe(52);
      auto.dispose();
      fused.dispose();
    } finally {
      nn.setBackend('auto');
    }
  });
});
