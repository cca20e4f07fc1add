// Quantized ops (QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
// QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger and the
// com.microsoft QLinear* contrib ops): bit-exact against ONNX's backend node
// tests (libonnx-testdata) and against plain-JS references that follow the
// same float32 arithmetic (int32 accumulation, scales folded as onnxruntime
// folds them, round half to even, saturation); then the error cases.
import * as fs from 'fs';
import * as path from 'path';
import * as nn from '../../lib';
import { onnx } from '../../lib/onnx/proto';
import type { AttrValue } from '../../lib/ir/schema/types';

const f = Math.fround;
const MS = { domain: 'com.microsoft' };
type T = nn.TypedTensor;
type Arr = ArrayLike<number>;

// ---- helpers ---------------------------------------------------------------

let seed = 12345;
function rand(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 4294967296;
}
function randInt(lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}
const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const RANGE: Record<string, [number, number]> = { uint8: [0, 255], int8: [-128, 127] };

function q(dtype: 'uint8' | 'int8', values: number[] | number, shape?: number[]): T {
  const v = typeof values === 'number' ? [values] : values;
  const data = dtype === 'uint8' ? Uint8Array.from(v) : Int8Array.from(v);
  return new nn.TypedTensor(dtype, data, shape ?? (typeof values === 'number' ? [] : [v.length]));
}
function qrand(dtype: 'uint8' | 'int8', shape: number[]): T {
  const [lo, hi] = RANGE[dtype];
  return q(dtype, Array.from({ length: size(shape) }, () => randInt(lo, hi)), shape);
}
function F(values: number[] | number, shape?: number[]): T {
  const v = typeof values === 'number' ? [values] : values;
  return new nn.TypedTensor('float32', Float32Array.from(v), shape ?? (typeof values === 'number' ? [] : [v.length]));
}
function i32(values: number[], shape?: number[]): T {
  return new nn.TypedTensor('int32', Int32Array.from(values), shape ?? [values.length]);
}

/** Round half to even of a float32 value. */
function rne(v: number): number {
  const fl = Math.floor(v);
  const d = v - fl;
  if (d > 0.5) return fl + 1;
  if (d < 0.5) return fl;
  return fl % 2 === 0 ? fl : fl + 1;
}
function sat(v: number, dtype: string): number {
  const [lo, hi] = RANGE[dtype] ?? [-(2 ** 31), 2 ** 31 - 1];
  return Math.min(hi, Math.max(lo, v));
}
/** The kernels' requantization: saturate(round(v) + zp); NaN as 0. */
function quant(v: number, zp: number, dtype: string): number {
  const r = Number.isNaN(v) ? 0 : rne(v);
  return sat(r + zp, dtype);
}

function values(t: nn.OpOutput): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}
function run(op: string, inputs: (nn.OpInput | null)[], attrs: Record<string, AttrValue> = {}, opts: { domain?: string; numOutputs?: number } = {}): nn.OpOutput[] {
  return nn.runOp(op, inputs, attrs, opts);
}
function expectQ(out: nn.OpOutput, dtype: string, shape: number[], expected: number[]): void {
  expect((out as T).dtype ?? 'float32').toBe(dtype);
  expect([...out.shape]).toEqual(shape);
  const got = values(out);
  let bad = -1;
  for (let i = 0; i < expected.length; i++) if (got[i] !== expected[i]) { bad = i; break; }
  if (bad >= 0) expect({ index: bad, got: got[bad] }).toEqual({ index: bad, got: expected[bad] });
  expect(got.length).toBe(expected.length);
}

// ---- ONNX backend node tests ------------------------------------------------

const NODE_DIR = '/usr/share/libonnx-testdata/data/node';
const haveTestdata = fs.existsSync(NODE_DIR);
if (!haveTestdata) console.warn(`quant.test: ${NODE_DIR} is missing (apt-get install libonnx-testdata): ONNX node tests SKIPPED`);

function typedFromProto(t: onnx.TensorProto): T {
  const DT = onnx.TensorProto.DataType;
  const dims = (t.dims ?? []).map(Number);
  const n = size(dims);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const pick = (fromField: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => fromField(i));
  switch (t.dataType) {
    case DT.FLOAT: return new nn.TypedTensor('float32', Float32Array.from(pick((i) => (view ? view.getFloat32(4 * i, true) : t.floatData[i]))), dims);
    case DT.UINT8: return new nn.TypedTensor('uint8', Uint8Array.from(pick((i) => (view ? view.getUint8(i) : t.int32Data[i]))), dims);
    case DT.INT8: return new nn.TypedTensor('int8', Int8Array.from(pick((i) => (view ? view.getInt8(i) : t.int32Data[i]))), dims);
    case DT.INT32: return new nn.TypedTensor('int32', Int32Array.from(pick((i) => (view ? view.getInt32(4 * i, true) : t.int32Data[i]))), dims);
    default: throw new Error(`test: tensor type ${t.dataType} not handled`);
  }
}

function attrsOf(node: onnx.INodeProto): Record<string, AttrValue> {
  const A = onnx.AttributeProto.AttributeType;
  const out: Record<string, AttrValue> = {};
  for (const a of node.attribute ?? []) {
    if (a.type === A.INT) out[a.name!] = Number(a.i);
    else if (a.type === A.FLOAT) out[a.name!] = a.f!;
    else if (a.type === A.INTS) out[a.name!] = (a.ints ?? []).map(Number);
    else if (a.type === A.FLOATS) out[a.name!] = [...(a.floats ?? [])];
    else if (a.type === A.STRING) out[a.name!] = Buffer.from(a.s!).toString();
  }
  return out;
}

const NODE_TESTS = [
  'test_quantizelinear',
  'test_quantizelinear_axis',
  'test_dequantizelinear',
  'test_dequantizelinear_axis',
  'test_dynamicquantizelinear',
  'test_dynamicquantizelinear_max_adjusted',
  'test_dynamicquantizelinear_min_adjusted',
  'test_qlinearconv',
  'test_qlinearmatmul_2D',
  'test_qlinearmatmul_3D',
  'test_matmulinteger',
  'test_basic_convinteger',
  'test_convinteger_with_padding',
  'test_convinteger_without_padding',
];

(haveTestdata ? describe : describe.skip)('ONNX backend node tests (libonnx-testdata 1.12), bit-exact', () => {
  test.each(NODE_TESTS)('%s', (name) => {
    const dir = path.join(NODE_DIR, name);
    const model = onnx.ModelProto.decode(fs.readFileSync(path.join(dir, 'model.onnx')));
    const graph = model.graph!;
    expect(graph.node!.length).toBe(1);
    const node = graph.node![0];
    const inits = new Set((graph.initializer ?? []).map((t) => t.name));
    const feeds = (graph.input ?? []).filter((i) => !inits.has(i.name));
    const sets = fs.readdirSync(dir).filter((d) => d.startsWith('test_data_set_'));
    expect(sets.length).toBeGreaterThan(0);
    for (const set of sets) {
      const byName = new Map<string, T>();
      feeds.forEach((inp, k) => byName.set(inp.name!, typedFromProto(onnx.TensorProto.decode(fs.readFileSync(path.join(dir, set, `input_${k}.pb`))))));
      for (const t of graph.initializer ?? []) byName.set(t.name!, typedFromProto(t as onnx.TensorProto));
      const inputs = (node.input ?? []).map((n) => (n === '' ? null : byName.get(n)!));
      const outs = run(node.opType!, inputs, attrsOf(node), { domain: node.domain ?? '', numOutputs: node.output!.length });
      node.output!.forEach((_, k) => {
        const want = typedFromProto(onnx.TensorProto.decode(fs.readFileSync(path.join(dir, set, `output_${k}.pb`))));
        expectQ(outs[k], want.dtype, [...want.shape], values(want));
      });
    }
  });
});

// ---- QuantizeLinear / DequantizeLinear ---------------------------------------

describe('QuantizeLinear', () => {
  test('[8] per tensor uint8: ties round to even, saturation, NaN', () => {
    const x = [0.5, 1.5, 2.5, -0.5, -1.5, 1000, -1000, 0.49];
    const [y] = run('QuantizeLinear', [F(x), F(0.5), q('uint8', 10)]);
    // x / 0.5 = 1, 3, 5, -1, -3, 2000, -2000, 0.98
    expectQ(y, 'uint8', [8], [11, 13, 15, 9, 7, 255, 0, 11]);
    const [h] = run('QuantizeLinear', [F([1.25, -1.25, 2.5, 3.5, -2.5, NaN]), F(0.5), q('int8', -3)]);
    expectQ(h, 'int8', [6], [-1, -5, 2, 4, -8, -3]);
  });

  test('[2,3] no zero point: uint8 with zero point 0; output_dtype 3 (int8)', () => {
    const x = [-1, 0, 1, 2, 300, 3.5];
    const [y] = run('QuantizeLinear', [F(x, [2, 3]), F(1)]);
    expectQ(y, 'uint8', [2, 3], [0, 0, 1, 2, 255, 4]);
    const [z] = run('QuantizeLinear', [F(x, [2, 3]), F(1)], { output_dtype: 3 });
    expectQ(z, 'int8', [2, 3], [-1, 0, 1, 2, 127, 4]);
  });

  test.each([
    [[2, 3, 4], 1],
    [[2, 3, 4], -2],
    [[4, 3], 0],
    [[2, 3, 5], 2],
    [[2, 3, 5], -1],
  ])('per axis %j axis %d, int8, against JS', (shape, axis) => {
    const r = shape.length;
    const a = axis < 0 ? axis + r : axis;
    const n = shape[a];
    const inner = size(shape.slice(a + 1));
    const x = Array.from({ length: size(shape) }, () => f((rand() - 0.5) * 20));
    const scales = Array.from({ length: n }, () => f(0.02 + rand() * 0.2));
    const zps = Array.from({ length: n }, () => randInt(-20, 20));
    const [y] = run('QuantizeLinear', [F(x, shape), F(scales), q('int8', zps)], { axis });
    const want = x.map((v, i) => {
      const ch = Math.floor(i / inner) % n;
      return quant(f(v / scales[ch]), zps[ch], 'int8');
    });
    expectQ(y, 'int8', shape, want);
  });

  test('[5] int32 x and a 1-element 1-D scale (per tensor)', () => {
    const [y] = run('QuantizeLinear', [i32([-7, 0, 5, 9, 1000]), F([2], [1]), q('uint8', [100], [1])]);
    expectQ(y, 'uint8', [5], [96, 100, 102, 104, 255]);
  });
});

describe('DequantizeLinear', () => {
  test('[6] uint8 / int8 / int32, per tensor', () => {
    const [a] = run('DequantizeLinear', [q('uint8', [0, 3, 128, 255, 7, 9]), F(0.5), q('uint8', 128)]);
    expectQ(a, 'float32', [6], [-64, -62.5, 0, 63.5, -60.5, -59.5]);
    const [b] = run('DequantizeLinear', [q('int8', [-128, 127, 0, 5]), F(0.25)]);
    expectQ(b, 'float32', [4], [-32, 31.75, 0, 1.25]);
    const [c] = run('DequantizeLinear', [i32([-100000, 7, 123456]), F(0.125), i32([0], [])]);
    expectQ(c, 'float32', [3], [-12500, 0.875, 15432]);
  });

  test('[2,3,2] int8 per axis 1 and -2 (same dim)', () => {
    const x = Array.from({ length: 12 }, (_, i) => i * 9 - 50);
    const scales = [0.5, 0.25, 2];
    const zps = [1, -2, 3];
    const want = x.map((v, i) => f(f(v - zps[Math.floor(i / 2) % 3]) * scales[Math.floor(i / 2) % 3]));
    for (const axis of [1, -2]) {
      const [y] = run('DequantizeLinear', [q('int8', x, [2, 3, 2]), F(scales), q('int8', zps)], { axis });
      expectQ(y, 'float32', [2, 3, 2], want);
    }
  });
});

describe('DynamicQuantizeLinear', () => {
  test('[3,4] random: scale, zero point, values as ONNX defines them', () => {
    const x = Array.from({ length: 12 }, () => f((rand() - 0.3) * 8));
    const [y, s, z] = run('DynamicQuantizeLinear', [F(x, [3, 4])], {}, { numOutputs: 3 });
    const lo = Math.min(0, ...x);
    const hi = Math.max(0, ...x);
    const scale = f(f(hi - lo) / 255);
    const zp = rne(Math.min(255, Math.max(0, f(0 - f(lo / scale)))));
    expectQ(s, 'float32', [], [scale]);
    expectQ(z, 'uint8', [], [zp]);
    expectQ(y, 'uint8', [3, 4], x.map((v) => quant(f(v / scale), zp, 'uint8')));
  });

  test('[4] all zeros: scale 1, zero point 0 (onnxruntime)', () => {
    const [y, s, z] = run('DynamicQuantizeLinear', [F([0, 0, 0, 0])], {}, { numOutputs: 3 });
    expectQ(s, 'float32', [], [1]);
    expectQ(z, 'uint8', [], [0]);
    expectQ(y, 'uint8', [4], [0, 0, 0, 0]);
  });

  test('[3] positive only: min clamps to 0', () => {
    const [y, s, z] = run('DynamicQuantizeLinear', [F([1, 2, 5.1])], {}, { numOutputs: 3 });
    const scale = f(5.1 / 255);
    expectQ(s, 'float32', [], [scale]);
    expectQ(z, 'uint8', [], [0]);
    expectQ(y, 'uint8', [3], [1, 2, 5.1].map((v) => quant(f(f(v) / scale), 0, 'uint8')));
  });
});

// ---- Convolution -------------------------------------------------------------

interface ConvCase {
  x: number[];
  w: number[];
  group?: number;
  strides?: number[];
  pads?: number[];
  dilations?: number[];
  auto_pad?: string;
}

/** Output spatial dims and begin pads, as ONNX defines them. */
function convPlan(c: ConvCase): { out: number[]; pb: number[] } {
  const r = c.x.length - 2;
  const st = c.strides ?? Array(r).fill(1);
  const dl = c.dilations ?? Array(r).fill(1);
  const pads = c.pads ?? Array(2 * r).fill(0);
  const out: number[] = [];
  const pb: number[] = [];
  for (let i = 0; i < r; i++) {
    const inp = c.x[2 + i];
    const ext = dl[i] * (c.w[2 + i] - 1) + 1;
    if (!c.auto_pad || c.auto_pad === 'NOTSET') {
      out.push(Math.floor((inp + pads[i] + pads[r + i] - ext) / st[i]) + 1);
      pb.push(pads[i]);
    } else if (c.auto_pad === 'VALID') {
      out.push(Math.floor((inp - ext) / st[i]) + 1);
      pb.push(0);
    } else {
      const o = Math.ceil(inp / st[i]);
      const total = Math.max(0, (o - 1) * st[i] + ext - inp);
      out.push(o);
      pb.push(c.auto_pad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2));
    }
  }
  return { out, pb };
}

/** int32 accumulators of an integer conv, NC(spatial) row-major. */
function convAcc(c: ConvCase, x: Arr, xzp: number, w: Arr, wzp: number[], bias?: number[]): { shape: number[]; acc: number[] } {
  const r = c.x.length - 2;
  const pad3 = (a: number[], fill: number): number[] => [...Array(3 - a.length).fill(fill), ...a];
  const { out, pb } = convPlan(c);
  const inS = pad3(c.x.slice(2), 1);
  const kS = pad3(c.w.slice(2), 1);
  const oS = pad3(out, 1);
  const st = pad3(c.strides ?? Array(r).fill(1), 1);
  const dl = pad3(c.dilations ?? Array(r).fill(1), 1);
  const p0 = pad3(pb, 0);
  const [N, C] = c.x;
  const M = c.w[0];
  const G = c.group ?? 1;
  const Cg = C / G;
  const Mg = M / G;
  const K = Cg * kS[0] * kS[1] * kS[2];
  const acc: number[] = [];
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      for (let a = 0; a < oS[0]; a++) {
        for (let b = 0; b < oS[1]; b++) {
          for (let d = 0; d < oS[2]; d++) {
            let s = bias ? bias[m] : 0;
            for (let ci = 0; ci < Cg; ci++) {
              for (let k0 = 0; k0 < kS[0]; k0++) {
                for (let k1 = 0; k1 < kS[1]; k1++) {
                  for (let k2 = 0; k2 < kS[2]; k2++) {
                    const i0 = a * st[0] - p0[0] + k0 * dl[0];
                    const i1 = b * st[1] - p0[1] + k1 * dl[1];
                    const i2 = d * st[2] - p0[2] + k2 * dl[2];
                    if (i0 < 0 || i0 >= inS[0] || i1 < 0 || i1 >= inS[1] || i2 < 0 || i2 >= inS[2]) continue;
                    const xv = x[(((n * C + g * Cg + ci) * inS[0] + i0) * inS[1] + i1) * inS[2] + i2] - xzp;
                    const wv = w[m * K + ((ci * kS[0] + k0) * kS[1] + k1) * kS[2] + k2] - wzp[wzp.length === 1 ? 0 : m];
                    s += xv * wv;
                  }
                }
              }
            }
            acc.push(s);
          }
        }
      }
    }
  }
  return { shape: [N, M, ...out], acc };
}

const CONV_CASES: [string, ConvCase][] = [
  ['x[1,3,7,7] w[4,3,3,3] pads 1 strides 2', { x: [1, 3, 7, 7], w: [4, 3, 3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }],
  ['x[2,4,5,6] w[6,2,2,3] group 2 dilations [2,1] pads [0,1,1,0]', { x: [2, 4, 5, 6], w: [6, 2, 2, 3], group: 2, dilations: [2, 1], pads: [0, 1, 1, 0] }],
  ['x[1,8,9,9] w[8,1,3,3] depthwise pads 1', { x: [1, 8, 9, 9], w: [8, 1, 3, 3], group: 8, pads: [1, 1, 1, 1] }],
  ['x[1,8,17,17] w[16,1,3,3] depthwise multiplier 2 stride 2 (tiles cross rows)', { x: [1, 8, 17, 17], w: [16, 1, 3, 3], group: 8, strides: [2, 2], pads: [1, 1, 1, 1] }],
  ['x[1,16,20,20] w[24,16,1,1] pointwise (more than one 256-pixel tile)', { x: [1, 16, 20, 20], w: [24, 16, 1, 1] }],
  ['x[1,2,6,7] w[3,2,3,3] SAME_UPPER strides 2', { x: [1, 2, 6, 7], w: [3, 2, 3, 3], auto_pad: 'SAME_UPPER', strides: [2, 2] }],
  ['x[1,2,6,7] w[3,2,2,2] SAME_LOWER', { x: [1, 2, 6, 7], w: [3, 2, 2, 2], auto_pad: 'SAME_LOWER' }],
  ['x[1,2,6,7] w[3,2,3,2] VALID strides [2,3]', { x: [1, 2, 6, 7], w: [3, 2, 3, 2], auto_pad: 'VALID', strides: [2, 3] }],
  ['1-D x[2,3,10] w[4,3,3] pads [2,1] strides 2', { x: [2, 3, 10], w: [4, 3, 3], pads: [2, 1], strides: [2] }],
  ['3-D x[1,2,4,5,3] w[3,2,2,3,2] pads 1', { x: [1, 2, 4, 5, 3], w: [3, 2, 2, 3, 2], pads: [1, 1, 1, 1, 1, 1] }],
];

function convAttrs(c: ConvCase): Record<string, AttrValue> {
  const a: Record<string, AttrValue> = {};
  if (c.group) a.group = c.group;
  if (c.strides) a.strides = c.strides;
  if (c.pads) a.pads = c.pads;
  if (c.dilations) a.dilations = c.dilations;
  if (c.auto_pad) a.auto_pad = c.auto_pad;
  return a;
}

describe('QLinearConv', () => {
  const combos: ['uint8' | 'int8', 'uint8' | 'int8', 'uint8' | 'int8', boolean, boolean][] = [
    ['uint8', 'uint8', 'uint8', false, false],
    ['uint8', 'int8', 'uint8', true, true],
    ['int8', 'int8', 'int8', true, true],
    ['int8', 'uint8', 'int8', false, true],
  ];
  test.each(CONV_CASES)('%s: every x/w/y type, per-tensor and per-channel w, bias', (_, c) => {
    for (const [xt, wt, yt, perChannel, withBias] of combos) {
      const M = c.w[0];
      const x = qrand(xt, c.x);
      const w = qrand(wt, c.w);
      const xzp = randInt(...RANGE[xt]);
      const wzp = perChannel ? Array.from({ length: M }, () => randInt(...RANGE[wt])) : [randInt(...RANGE[wt])];
      const xs = f(0.01 + rand() * 0.05);
      const ws = wzp.map(() => f(0.001 + rand() * 0.02));
      const ys = f(0.05 + rand() * 0.5);
      const yzp = randInt(...RANGE[yt]);
      const bias = withBias ? Array.from({ length: M }, () => randInt(-5000, 5000)) : undefined;
      const { shape, acc } = convAcc(c, x.data as Arr, xzp, w.data as Arr, wzp, bias);
      const P = size(shape.slice(2));
      const want = acc.map((v, i) => {
        const m = Math.floor(i / P) % M;
        const mult = f(f(xs * ws[ws.length === 1 ? 0 : m]) / ys);
        return quant(f(f(v) * mult), yzp, yt);
      });
      const inputs = [x, F(xs), q(xt, xzp), w, perChannel ? F(ws) : F(ws[0]), perChannel ? q(wt, wzp) : q(wt, wzp[0]), F(ys), q(yt, yzp), bias ? i32(bias) : null];
      const [y] = run('QLinearConv', inputs, convAttrs(c));
      expectQ(y, yt, shape, want);
    }
  });

  test('x[1,4,5,5] w[4,4,3,3] with kernel_shape given, B as int64 (as the ONNX importer holds int32 constants)', () => {
    const c: ConvCase = { x: [1, 4, 5, 5], w: [4, 4, 3, 3], pads: [1, 1, 1, 1] };
    const x = qrand('uint8', c.x);
    const w = qrand('uint8', c.w);
    const bias = [100, -200, 300, 0];
    const { shape, acc } = convAcc(c, x.data as Arr, 128, w.data as Arr, [120], bias);
    const mult = f(f(0.02 * f(0.005)) / 0.1);
    const want = acc.map((v) => quant(f(f(v) * f(mult)), 7, 'uint8'));
    const b64 = new nn.TypedTensor('int64', BigInt64Array.from(bias.map(BigInt)), [4]);
    const [y] = run('QLinearConv', [x, F(0.02), q('uint8', 128), w, F(0.005), q('uint8', 120), F(0.1), q('uint8', 7), b64], { ...convAttrs(c), kernel_shape: [3, 3] });
    expectQ(y, 'uint8', shape, want);
  });
});

describe('ConvInteger', () => {
  test.each(CONV_CASES)('%s: int32 accumulators', (_, c) => {
    for (const [xt, wt, zps] of [['uint8', 'uint8', true], ['int8', 'uint8', false], ['uint8', 'int8', true]] as const) {
      const x = qrand(xt, c.x);
      const w = qrand(wt, c.w);
      const xzp = zps ? randInt(...RANGE[xt]) : 0;
      const wzp = zps ? Array.from({ length: c.w[0] }, () => randInt(...RANGE[wt])) : [0];
      const { shape, acc } = convAcc(c, x.data as Arr, xzp, w.data as Arr, wzp);
      const [y] = run('ConvInteger', zps ? [x, w, q(xt, xzp), q(wt, wzp)] : [x, w], convAttrs(c));
      expectQ(y, 'int32', shape, acc);
    }
  });
});

// ---- MatMul ------------------------------------------------------------------

function matAcc(as: number[], bs: number[], a: Arr, azp: number[], b: Arr, bzp: number[]): { shape: number[]; acc: number[]; N: number } {
  const A = as.length === 1 ? [1, as[0]] : as;
  const B = bs.length === 1 ? [bs[0], 1] : bs;
  const M = A[A.length - 2];
  const K = A[A.length - 1];
  const N = B[B.length - 1];
  const ab = A.slice(0, -2);
  const bb = B.slice(0, -2);
  const r = Math.max(ab.length, bb.length);
  const pa = [...Array(r - ab.length).fill(1), ...ab];
  const pbb = [...Array(r - bb.length).fill(1), ...bb];
  const batch = pa.map((d, i) => Math.max(d, pbb[i]));
  const acc: number[] = [];
  for (let bi = 0; bi < size(batch); bi++) {
    let rem = bi;
    let ao = 0;
    let bo = 0;
    let sa = 1;
    let sb = 1;
    for (let d = r - 1; d >= 0; d--) {
      const idx = rem % batch[d];
      rem = Math.floor(rem / batch[d]);
      ao += (pa[d] === 1 ? 0 : idx) * sa;
      bo += (pbb[d] === 1 ? 0 : idx) * sb;
      sa *= pa[d];
      sb *= pbb[d];
    }
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += (a[ao * M * K + m * K + k] - azp[azp.length === 1 ? 0 : m]) * (b[bo * K * N + k * N + n] - bzp[bzp.length === 1 ? 0 : n]);
        acc.push(s);
      }
    }
  }
  const shape = [...batch];
  if (as.length !== 1) shape.push(M);
  if (bs.length !== 1) shape.push(N);
  return { shape, acc, N };
}

const MAT_CASES: [number[], number[]][] = [
  [[3, 4], [4, 5]],
  [[2, 1, 3, 4], [3, 4, 5]],
  [[4], [4, 6]],
  [[2, 3, 4], [4]],
  [[1, 64], [64, 40]],
];

describe('QLinearMatMul', () => {
  test.each(MAT_CASES)('a%j b%j: per-tensor and per-column b, uint8/int8', (as, bs) => {
    for (const [at, bt, yt, perCol] of [['uint8', 'uint8', 'uint8', false], ['uint8', 'int8', 'int8', true], ['int8', 'int8', 'uint8', true]] as const) {
      const a = qrand(at, as);
      const b = qrand(bt, bs);
      const N = bs.length === 1 ? 1 : bs[bs.length - 1];
      const azp = randInt(...RANGE[at]);
      const bzp = perCol ? Array.from({ length: N }, () => randInt(...RANGE[bt])) : [randInt(...RANGE[bt])];
      const asc = f(0.01 + rand() * 0.05);
      const bsc = bzp.map(() => f(0.001 + rand() * 0.02));
      const ys = f(0.05 + rand() * 0.3);
      const yzp = randInt(...RANGE[yt]);
      const { shape, acc } = matAcc(as, bs, a.data as Arr, [azp], b.data as Arr, bzp);
      const want = acc.map((v, i) => quant(f(f(v) * f(f(asc * bsc[bsc.length === 1 ? 0 : i % N]) / ys)), yzp, yt));
      const [y] = run('QLinearMatMul', [a, F(asc), q(at, azp), b, perCol ? F(bsc) : F(bsc[0]), perCol ? q(bt, bzp) : q(bt, bzp[0]), F(ys), q(yt, yzp)]);
      expectQ(y, yt, shape, want);
    }
  });
});

describe('MatMulInteger', () => {
  test.each(MAT_CASES)('a%j b%j: per-row a and per-column b zero points', (as, bs) => {
    const A = as.length === 1 ? [1, as[0]] : as;
    const M = A[A.length - 2];
    const N = bs.length === 1 ? 1 : bs[bs.length - 1];
    for (const [at, bt] of [['uint8', 'int8'], ['int8', 'uint8']] as const) {
      const a = qrand(at, as);
      const b = qrand(bt, bs);
      const azp = Array.from({ length: M }, () => randInt(...RANGE[at]));
      const bzp = Array.from({ length: N }, () => randInt(...RANGE[bt]));
      const [y] = run('MatMulInteger', [a, b, q(at, azp), q(bt, bzp)]);
      const ref = matAcc(as, bs, a.data as Arr, azp, b.data as Arr, bzp);
      expectQ(y, 'int32', ref.shape, ref.acc);
      const [y0] = run('MatMulInteger', [a, b]);
      const ref0 = matAcc(as, bs, a.data as Arr, [0], b.data as Arr, [0]);
      expectQ(y0, 'int32', ref0.shape, ref0.acc);
    }
  });
});

// ---- com.microsoft contrib ops -------------------------------------------------

function bcastIndex(shape: number[], out: number[], i: number): number {
  let rem = i;
  let off = 0;
  let stride = 1;
  for (let d = out.length - 1, s = shape.length - 1; d >= 0; d--, s--) {
    const idx = rem % out[d];
    rem = Math.floor(rem / out[d]);
    if (s >= 0) {
      off += (shape[s] === 1 ? 0 : idx) * stride;
      stride *= shape[s];
    }
  }
  return off;
}

describe('QLinearAdd / QLinearMul (com.microsoft)', () => {
  test.each([
    [[2, 3, 4], [3, 1]],
    [[4], [2, 3, 4]],
    [[2, 3], [2, 3]],
    [[5, 1, 3], []],
  ])('A%j B%j broadcast, uint8 and int8', (sa, sb) => {
    const r = Math.max(sa.length, sb.length);
    const out = Array.from({ length: r }, (_, i) => {
      const da = i < r - sa.length ? 1 : sa[i - (r - sa.length)];
      const db = i < r - sb.length ? 1 : sb[i - (r - sb.length)];
      return Math.max(da, db);
    });
    for (const t of ['uint8', 'int8'] as const) {
      const a = qrand(t, sa);
      const b = qrand(t, sb);
      const [as, bs, cs] = [f(0.02 + rand() * 0.1), f(0.02 + rand() * 0.1), f(0.05 + rand() * 0.2)];
      const [az, bz, cz] = [randInt(...RANGE[t]), randInt(...RANGE[t]), randInt(...RANGE[t])];
      const ins = [a, F(as), q(t, az), b, F(bs), q(t, bz), F(cs), q(t, cz)];
      const av = (i: number): number => (a.data as Arr)[bcastIndex(sa, out, i)] - az;
      const bv = (i: number): number => (b.data as Arr)[bcastIndex(sb, out, i)] - bz;
      const n = size(out);
      const [sum] = run('QLinearAdd', ins, {}, MS);
      const ra = f(as / cs);
      const rb = f(bs / cs);
      expectQ(sum, t, out, Array.from({ length: n }, (_, i) => quant(f(f(av(i) * ra) + f(bv(i) * rb)), cz, t)));
      const [prod] = run('QLinearMul', ins, {}, MS);
      const rm = f(f(as * bs) / cs);
      expectQ(prod, t, out, Array.from({ length: n }, (_, i) => quant(f(av(i) * bv(i) * rm), cz, t)));
    }
  });

  test('[3] zero points omitted: 0', () => {
    const [y] = run('QLinearAdd', [q('uint8', [1, 2, 200]), F(1), null, q('uint8', [3, 4, 100]), F(1), null, F(2), null], {}, MS);
    expectQ(y, 'uint8', [3], [2, 3, 150]);
  });
});

describe('QLinearSigmoid / QLinearLeakyRelu (com.microsoft)', () => {
  test('[2,128] every uint8 and int8 value through the table', () => {
    for (const t of ['uint8', 'int8'] as const) {
      const [lo] = RANGE[t];
      const x = q(t, Array.from({ length: 256 }, (_, i) => lo + i), [2, 128]);
      const [xs, xz, ys, yz] = [f(0.05), t === 'uint8' ? 120 : -5, f(1 / 256), t === 'uint8' ? 0 : -128];
      const [s] = run('QLinearSigmoid', [x, F(xs), q(t, xz), F(ys), q(t, yz)], {}, MS);
      const wantS = Array.from({ length: 256 }, (_, i) => quant(f(f(1 / (1 + Math.exp(-f(f(lo + i - xz) * xs)))) / ys), yz, t));
      const got = values(s);
      expect(got.filter((v, i) => Math.abs(v - wantS[i]) > 1)).toEqual([]); // exp may differ by an ulp
      expect(got.filter((v, i) => v !== wantS[i]).length).toBeLessThanOrEqual(2);
      const [l] = run('QLinearLeakyRelu', [x, F(xs), q(t, xz), F(0.04), q(t, t === 'uint8' ? 50 : 0)], { alpha: 0.125 }, MS);
      const wantL = Array.from({ length: 256 }, (_, i) => {
        const v = f(f(lo + i - xz) * xs);
        return quant(f(f(v >= 0 ? v : f(v * 0.125)) / f(0.04)), t === 'uint8' ? 50 : 0, t);
      });
      expectQ(l, t, [2, 128], wantL);
    }
  });
});

describe('QLinearConcat (com.microsoft)', () => {
  test.each([
    [[2, 3, 4], [2, 5, 4], 1],
    [[2, 3, 4], [2, 3, 2], -1],
    [[1, 3], [4, 3], 0],
  ])('%j ++ %j on axis %d: requantized, and copied when the scale matches', (s0, s1, axis) => {
    const t = 'uint8';
    const x0 = qrand(t, s0);
    const x1 = qrand(t, s1);
    const [ys, yz] = [f(0.1), 128];
    const [x0s, x0z] = [f(0.05), 100];
    const [y] = run('QLinearConcat', [F(ys), q(t, yz), x0, F(x0s), q(t, x0z), x1, F(ys), q(t, yz)], { axis }, MS);
    const r = s0.length;
    const a = axis < 0 ? axis + r : axis;
    const out = [...s0];
    out[a] += s1[a];
    const outer = size(s0.slice(0, a));
    const inner = size(s0.slice(a + 1));
    const want: number[] = [];
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < s0[a] * inner; i++) want.push(quant(f(f(f((x0.data as Arr)[o * s0[a] * inner + i] - x0z) * x0s) / ys), yz, t));
      for (let i = 0; i < s1[a] * inner; i++) want.push((x1.data as Arr)[o * s1[a] * inner + i]);
    }
    expectQ(y, t, out, want);
  });
});

describe('QLinearGlobalAveragePool (com.microsoft)', () => {
  test.each([
    [[2, 3, 4, 5], 0],
    [[2, 4, 5, 3], 1],
    [[1, 2, 7], 0],
  ])('X%j channels_last %d', (shape, last) => {
    for (const t of ['uint8', 'int8'] as const) {
      const x = qrand(t, shape);
      const [xs, xz, ys, yz] = [f(0.03), randInt(...RANGE[t]), f(0.02), randInt(...RANGE[t])];
      const [y] = run('QLinearGlobalAveragePool', [x, F(xs), q(t, xz), F(ys), q(t, yz)], { channels_last: last }, MS);
      const N = shape[0];
      const C = last ? shape[shape.length - 1] : shape[1];
      const sp = last ? shape.slice(1, -1) : shape.slice(2);
      const img = size(sp);
      const s = f(xs / f(ys * img));
      const want: number[] = [];
      for (let n = 0; n < N; n++) {
        for (let ch = 0; ch < C; ch++) {
          let sum = 0;
          for (let p = 0; p < img; p++) sum += (x.data as Arr)[last ? (n * img + p) * C + ch : (n * C + ch) * img + p] - xz;
          want.push(quant(f(f(sum) * s), yz, t));
        }
      }
      expectQ(y, t, last ? [N, ...sp.map(() => 1), C] : [N, C, ...sp.map(() => 1)], want);
    }
  });
});

describe('QLinearAveragePool (com.microsoft)', () => {
  const cases: [string, number[], Record<string, AttrValue>][] = [
    ['X[1,2,5,6] k3 s2 pads 1 exclude pad', [1, 2, 5, 6], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['X[1,2,5,6] k3 s2 pads 1 count_include_pad', [1, 2, 5, 6], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }],
    ['X[2,3,6,6] k2 ceil_mode s2 pads [0,0,1,1]', [2, 3, 6, 6], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], ceil_mode: 1 }],
    ['X[1,5,5,2] k3 channels_last SAME_UPPER', [1, 5, 5, 2], { kernel_shape: [3, 3], auto_pad: 'SAME_UPPER', channels_last: 1 }],
    ['X[1,2,9] 1-D k4 s3 VALID', [1, 2, 9], { kernel_shape: [4], strides: [3], auto_pad: 'VALID' }],
  ];
  test.each(cases)('%s', (_, shape, attrs) => {
    const t = 'uint8';
    const x = qrand(t, shape);
    const [xs, xz, ys, yz] = [f(0.03), 90, f(0.025), 30];
    const [y] = run('QLinearAveragePool', [x, F(xs), q(t, xz), F(ys), q(t, yz)], attrs, MS);
    const last = attrs.channels_last === 1;
    const N = shape[0];
    const C = last ? shape[shape.length - 1] : shape[1];
    const sp = last ? shape.slice(1, -1) : shape.slice(2);
    const r = sp.length;
    const k = attrs.kernel_shape as number[];
    const s = (attrs.strides as number[] | undefined) ?? Array(r).fill(1);
    let pads = (attrs.pads as number[] | undefined) ?? Array(2 * r).fill(0);
    const out: number[] = [];
    if (attrs.auto_pad === 'SAME_UPPER') {
      pads = Array(2 * r).fill(0);
      for (let i = 0; i < r; i++) {
        const o = Math.ceil(sp[i] / s[i]);
        const total = Math.max(0, (o - 1) * s[i] + k[i] - sp[i]);
        pads[i] = Math.floor(total / 2);
        pads[r + i] = total - pads[i];
        out.push(o);
      }
    } else {
      for (let i = 0; i < r; i++) {
        const span = sp[i] + pads[i] + pads[r + i] - k[i];
        let o = (attrs.ceil_mode ? Math.ceil(span / s[i]) : Math.floor(span / s[i])) + 1;
        if (attrs.ceil_mode && (o - 1) * s[i] >= sp[i] + pads[i]) o--;
        out.push(o);
      }
    }
    expect(r === 1 || r === 2).toBe(true);
    const sp2 = r === 1 ? [1, sp[0]] : sp;
    const out2 = r === 1 ? [1, out[0]] : out;
    const k2 = r === 1 ? [1, k[0]] : k;
    const s2 = r === 1 ? [1, s[0]] : s;
    const pb = r === 1 ? [0, pads[0]] : [pads[0], pads[1]];
    const pe = r === 1 ? [0, pads[1]] : [pads[2], pads[3]];
    const yOut = last ? [N, ...out, C] : [N, C, ...out];
    const want = new Array<number>(size(yOut));
    for (let n = 0; n < N; n++) {
      for (let ch = 0; ch < C; ch++) {
        for (let oh = 0; oh < out2[0]; oh++) {
          for (let ow = 0; ow < out2[1]; ow++) {
            const h0 = oh * s2[0] - pb[0];
            const w0 = ow * s2[1] - pb[1];
            let sum = 0;
            let cnt = 0;
            for (let ih = Math.max(0, h0); ih < Math.min(h0 + k2[0], sp2[0]); ih++) {
              for (let iw = Math.max(0, w0); iw < Math.min(w0 + k2[1], sp2[1]); iw++) {
                const p = ih * sp2[1] + iw;
                sum += (x.data as Arr)[last ? (n * size(sp2) + p) * C + ch : (n * C + ch) * size(sp2) + p] - xz;
                cnt++;
              }
            }
            if (attrs.count_include_pad) cnt = (Math.min(h0 + k2[0], sp2[0] + pe[0]) - h0) * (Math.min(w0 + k2[1], sp2[1] + pe[1]) - w0);
            const avg = f(f(f(sum) * xs) / cnt);
            const op = oh * out2[1] + ow;
            want[last ? (n * size(out2) + op) * C + ch : (n * C + ch) * size(out2) + op] = quant(f(avg / ys), yz, t);
          }
        }
      }
    }
    expectQ(y, t, yOut, want);
  });
});

// ---- async, threads ----------------------------------------------------------

describe('async and thread count', () => {
  test('QLinearConv x[1,8,17,17] depthwise: async equals sync; 1 and 2 threads agree', async () => {
    const c = CONV_CASES[3][1];
    const ins = [qrand('uint8', c.x), F(0.02), q('uint8', 128), qrand('int8', c.w), F(0.01), q('int8', 0), F(0.05), q('uint8', 100), null];
    const before = nn.getThreads();
    try {
      nn.setThreads(1);
      const [a] = run('QLinearConv', ins, convAttrs(c));
      nn.setThreads(2);
      const [b] = run('QLinearConv', ins, convAttrs(c));
      const [d] = await nn.async.runOp('QLinearConv', ins, convAttrs(c));
      expect(values(b)).toEqual(values(a));
      expect(values(d)).toEqual(values(a));
    } finally {
      nn.setThreads(before);
    }
  });
});

// ---- errors ------------------------------------------------------------------

describe('errors', () => {
  const x = F([1, 2, 3, 4], [2, 2]);
  test.each([
    ['scale 0', [x, F(0)], {}, /y_scale must be positive and finite, got 0/],
    ['negative scale', [x, F(-1)], {}, /y_scale must be positive and finite/],
    ['NaN scale', [x, F(NaN)], {}, /y_scale must be positive and finite, got NaN/],
    ['per-axis scale of the wrong size', [x, F([1, 2, 3])], {}, /must be a scalar or 1-D with 2 elements/],
    ['axis out of range', [x, F([1, 2])], { axis: 2 }, /axis 2 is out of range for rank 2/],
    ['zero point with as many elements as the scale', [x, F([1, 2]), q('uint8', [1])], {}, /zero point of y_scale has shape \[1\], the scale \[2\]/],
    ['output_dtype against the zero point', [x, F(1), q('uint8', 1)], { output_dtype: 3 }, /output_dtype 3 does not match/],
  ])('QuantizeLinear: %s', (_, ins, attrs, re) => {
    expect(() => run('QuantizeLinear', ins as nn.OpInput[], attrs)).toThrow(RangeError);
    expect(() => run('QuantizeLinear', ins as nn.OpInput[], attrs)).toThrow(re as RegExp);
  });

  test('QuantizeLinear: block_size and float16-like output_dtype are unsupported', () => {
    expect(() => run('QuantizeLinear', [x, F(1)], { block_size: 2 })).toThrow(/block_size.*not supported/);
    expect(() => run('QuantizeLinear', [x, F(1)], { output_dtype: 17 })).toThrow(/output_dtype 17 is not supported/);
  });

  test('DequantizeLinear: zero point type differs from x; int32 x with a non-zero zero point', () => {
    expect(() => run('DequantizeLinear', [q('uint8', [1, 2]), F(1), q('int8', 0)])).toThrow(/zero point of x_scale must be uint8, got int8/);
    expect(() => run('DequantizeLinear', [i32([1, 2]), F(1), i32([3], [])])).toThrow(/int32 x takes a zero point of 0/);
    expect(() => run('DequantizeLinear', [q('int8', [1, 2]), F(Infinity)])).toThrow(/x_scale must be positive and finite/);
  });

  test('QLinearConv: channels, per-channel sizes, B shape, mixed zero point types', () => {
    const xx = qrand('uint8', [1, 3, 4, 4]);
    const w = qrand('int8', [2, 3, 3, 3]);
    const base = [xx, F(0.1), q('uint8', 0), w, F(0.1), q('int8', 0), F(0.1), q('uint8', 0)];
    const with_ = (i: number, v: nn.OpInput): nn.OpInput[] => base.map((b, k) => (k === i ? v : b));
    expect(() => run('QLinearConv', with_(3, qrand('int8', [2, 2, 3, 3])))).toThrow(/w has 2 input channels per group, x has 3/);
    expect(() => run('QLinearConv', with_(4, F([0.1, 0.2, 0.3])))).toThrow(/w_scale .* must be a scalar or 1-D with 2 elements \(output channels\)/);
    expect(() => run('QLinearConv', with_(2, q('int8', 0)))).toThrow(/zero point of x_scale must be uint8, got int8/);
    expect(() => run('QLinearConv', with_(6, F(0)))).toThrow(/y_scale must be positive and finite/);
    expect(() => run('QLinearConv', [...base, i32([1, 2, 3])])).toThrow(/B must have shape \[2\]/);
    expect(() => run('QLinearConv', base, { pads: [-1, 0, 0, 0], kernel_shape: [3, 3] })).toThrow(/pads \[-1,0,0,0\] must be non-negative/);
    expect(() => run('QLinearConv', base, { kernel_shape: [2, 2] })).toThrow(/kernel_shape \[2,2\] does not match w/);
    expect(() => run('QLinearConv', with_(0, qrand('uint8', [1, 3, 2, 2])))).toThrow(/larger than the padded input/);
  });

  test('QLinearMatMul / MatMulInteger: shapes and zero points', () => {
    const a = qrand('uint8', [2, 3]);
    const b = qrand('uint8', [4, 5]);
    expect(() => run('QLinearMatMul', [a, F(1), q('uint8', 0), b, F(1), q('uint8', 0), F(1), q('uint8', 0)])).toThrow(/cannot be multiplied \(3 vs 4\)/);
    expect(() => run('MatMulInteger', [a, qrand('int8', [3, 5]), q('uint8', [1, 2, 3])])).toThrow(/a_zero_point must be uint8, one value or one per row \(2\)/);
    expect(() => run('QLinearMatMul', [a, F([1, 2]), q('uint8', [0, 0]), qrand('uint8', [3, 5]), F(1), q('uint8', 0), F(1), q('uint8', 0)])).toThrow(/a_scale must be a scalar/);
  });

  test('contrib ops: types, concat triples, scales', () => {
    expect(() => run('QLinearAdd', [q('uint8', [1]), F(1), null, q('int8', [1]), F(1), null, F(1), null], {}, MS)).toThrow(/B must have A's type uint8, got int8/);
    expect(() => run('QLinearAdd', [q('uint8', [1, 2]), F(1), null, q('uint8', [1, 2, 3]), F(1), null, F(1), null], {}, MS)).toThrow(/cannot be broadcast/);
    expect(() => run('QLinearConcat', [F(1), q('uint8', 0), q('uint8', [1]), F(1)], { axis: 0 }, MS)).toThrow(/triples/);
    expect(() => run('QLinearConcat', [F(1), q('uint8', 0), q('uint8', [1], [1]), F(1), q('uint8', 0), q('uint8', [1, 2], [1, 2]), F(1), q('uint8', 0)], { axis: 0 }, MS)).toThrow(/differ off axis 0/);
    expect(() => run('QLinearSigmoid', [q('int8', [1]), F(-2), null, F(1), null], {}, MS)).toThrow(/X_scale must be positive and finite/);
    expect(() => run('QLinearGlobalAveragePool', [q('uint8', [1, 2], [2]), F(1), null, F(1), null], {}, MS)).toThrow(/rank >= 3/);
    expect(() => run('QLinearAveragePool', [q('uint8', [1, 2, 3, 4], [1, 1, 2, 2]), F(1), null, F(1), null], { kernel_shape: [3, 3] }, MS)).toThrow(/larger than the padded input/);
    expect(() => run('QLinearAdd', [q('uint8', [1]), F(1), null, q('uint8', [1]), F(1), null, F(1), null])).toThrow(/unknown op "QLinearAdd"/);
  });
});
