/** @jest-environment ./test/onnx-export/ort-environment.js */
// Quantized NHWC regions (src/xnnpack/xnnpack_qregion.cc): QLinearConv,
// QLinearAdd, QLinearGlobalAveragePool, QLinearConcat and 8-bit MaxPool runs
// on XNNPACK's qs8 operators.
// They must give the integer reference kernels' result bit for bit (the same
// int32 sums, the same float32 multiplier, the same rounding) for uint8 and
// int8 activations, per-tensor and per-channel weights, uint8 weights with a
// zero point, depthwise/strided/padded/dilated convs, and onnxruntime's result
// on the same bytes; and layers() must say which convs ran in the region.
import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import * as nn from '../../lib';
import { onnx } from '../../lib/onnx/proto';
import { availableBackends } from '../helpers';

const T = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;
const HAVE_XNNPACK = availableBackends().includes('xnnpack');
if (!HAVE_XNNPACK) console.warn('SKIPPED: quantized region tests (the xnnpack backend is unavailable in this build)');
const describeX = HAVE_XNNPACK ? describe : describe.skip;
// neonn's own int8 depthwise 3x3 kernel (src/xnnpack/xnnpack_nhwc.cc) runs where the CPU has AVX-512 BW, VL and DQ.
const CPU_FLAGS = process.arch === 'x64' && fs.existsSync('/proc/cpuinfo') ? (/^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '') : '';
const OWN_QDW = ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => new RegExp(`\\b${f}\\b`).test(CPU_FLAGS));
// A region's 1x1 convs (inputs a multiple of 4) run on AMX's int8 tiles where the CPU has them (src/xnnpack/xnnpack_amx.cc).
const AMX = OWN_QDW && ['amx_tile', 'amx_int8'].every((f) => new RegExp(`\\b${f}\\b`).test(CPU_FLAGS));
/** The region note's count of convs on neonn's own kernels here: `dw` depthwise 3x3, `pw` 1x1 ones AMX could take. */
const ownDw = (dw: number, pw = 0) => {
  const parts = [OWN_QDW && dw > 0 ? `${dw} depthwise 3x3 on neonn's kernel` : '', AMX && pw > 0 ? `${pw} 1x1 on AMX` : ''].filter((t) => t);
  return parts.length > 0 ? ` \\(${parts.join(', ')}\\)` : '';
};

const f32 = (name: string, values: number[], dims: number[] = []): onnx.ITensorProto => ({ name, dataType: T.FLOAT, dims, floatData: values });
function q8(name: string, signed: boolean, values: number[], dims: number[] = []): onnx.ITensorProto {
  const raw = signed ? new Uint8Array(Int8Array.from(values).buffer) : Uint8Array.from(values);
  return { name, dataType: signed ? T.INT8 : T.UINT8, dims, rawData: raw };
}
const i32 = (name: string, values: number[], dims: number[]): onnx.ITensorProto => ({ name, dataType: T.INT32, dims, int32Data: values });
const node = (opType: string, input: string[], output: string, attribute: onnx.IAttributeProto[] = [], domain = ''): onnx.INodeProto => ({ opType, input, output: [output], attribute, name: `${opType}_${output}`, domain });
const ints = (name: string, v: number[]): onnx.IAttributeProto => ({ name, type: AT.INTS, ints: v });
const int = (name: string, v: number): onnx.IAttributeProto => ({ name, type: AT.INT, i: v });
const str = (name: string, v: string): onnx.IAttributeProto => ({ name, type: AT.STRING, s: new TextEncoder().encode(v) });

/** A graph x (float, `shape`) → nodes → y (float), opset 13 with com.microsoft, as ONNX bytes. */
function encodeNet(nodes: onnx.INodeProto[], inits: onnx.ITensorProto[], shape: number[]): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 1 }],
    graph: {
      name: 'q',
      node: nodes,
      initializer: inits,
      input: [{ name: 'x', type: { tensorType: { elemType: T.FLOAT, shape: { dim: shape.map((v) => ({ dimValue: v })) } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: T.FLOAT } } }],
    },
  }).finish();
}

/** A seeded generator of integers in [lo, hi]. */
function lcg(seed: number): (lo: number, hi: number) => number {
  let s = seed >>> 0;
  return (lo, hi) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return lo + Math.floor((s / 2 ** 32) * (hi - lo + 1));
  };
}

interface Case {
  name: string;
  signed: boolean; // int8 activations (else uint8)
  weights: 'per-channel' | 'per-tensor' | 'uint8-zp';
}

/**
 * Q(x) → conv 3x3 pad 1 (C→16) → depthwise 3x3 stride 2 SAME_UPPER → conv 1x1 (16→16) → add (with the
 * depthwise output) → dilated 3x3 conv → global average pool → DQ.
 */
function quantizedNet(c: Case, seed = 7): Uint8Array {
  const r = lcg(seed);
  const zp = (s: boolean) => (s ? r(-20, 20) : r(100, 150));
  const nodes: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [];
  const act = (name: string, scale: number) => {
    inits.push(f32(`${name}_s`, [scale]), q8(`${name}_z`, c.signed, [zp(c.signed)]));
    return [`${name}_s`, `${name}_z`];
  };
  const [xs, xz] = act('xq', 0.02);
  nodes.push(node('QuantizeLinear', ['x', xs, xz], 'xq'));
  let conv = 0;
  const qconv = (x: string, xsz: string[], cin: number, cout: number, k: number, attrs: onnx.IAttributeProto[], group = 1, ys = 0.05): [string, string[]] => {
    const name = `c${conv++}`;
    const per = (cin / group) * k * k;
    const uint8w = c.weights === 'uint8-zp';
    const w = Array.from({ length: cout * per }, () => (uint8w ? r(60, 200) : r(-127, 127)));
    inits.push(q8(`${name}_w`, !uint8w, w, [cout, cin / group, k, k]));
    const wsc = c.weights === 'per-channel' ? Array.from({ length: cout }, () => 0.002 + r(0, 100) / 20000) : [0.004];
    inits.push(f32(`${name}_ws`, wsc, c.weights === 'per-channel' ? [cout] : []));
    if (c.weights === 'per-channel') inits.push(q8(`${name}_wz`, true, new Array(cout).fill(0), [cout]));
    else inits.push(q8(`${name}_wz`, !uint8w, [uint8w ? 128 : 0]));
    inits.push(i32(`${name}_b`, Array.from({ length: cout }, () => r(-3000, 3000)), [cout]));
    const y = act(name, ys);
    nodes.push(node('QLinearConv', [x, ...xsz, `${name}_w`, `${name}_ws`, `${name}_wz`, ...y, `${name}_b`], name, [...attrs, int('group', group)]));
    return [name, y];
  };
  const [a, as] = qconv('xq', [xs, xz], 3, 16, 3, [ints('pads', [1, 1, 1, 1])]);
  const [b, bs] = qconv(a, as, 16, 16, 3, [ints('strides', [2, 2]), str('auto_pad', 'SAME_UPPER')], 16, 0.04);
  const [p, ps] = qconv(b, bs, 16, 16, 1, [], 1, 0.06);
  const sum = act('sum', 0.07);
  nodes.push(node('QLinearAdd', [p, ...ps, b, ...bs, ...sum], 'sum', [], 'com.microsoft'));
  const [d, ds] = qconv('sum', sum, 16, 8, 3, [ints('dilations', [2, 2]), ints('pads', [2, 2, 2, 2])], 1, 0.08);
  const g = act('gap', 0.03);
  nodes.push(node('QLinearGlobalAveragePool', [d, ...ds, ...g], 'gap', [], 'com.microsoft'));
  nodes.push(node('DequantizeLinear', ['gap', ...g], 'y'));
  return encodeNet(nodes, inits, [1, 3, 13, 11]);
}

/** Q → conv → MaxPool 3x3 s2 p1 → two convs → QLinearConcat (one input at the concat's scale, one requantized) → pool → DQ. */
function concatNet(signed: boolean, ceil: boolean, h: number, w: number): Uint8Array {
  const r = lcg(3);
  const zp = () => (signed ? r(-20, 20) : r(100, 150));
  const inits: onnx.ITensorProto[] = [];
  const nodes: onnx.INodeProto[] = [];
  const act = (name: string, scale: number, z = zp()) => {
    inits.push(f32(`${name}_s`, [scale]), q8(`${name}_z`, signed, [z]));
    return [`${name}_s`, `${name}_z`];
  };
  const xq = act('xq', 0.02);
  nodes.push(node('QuantizeLinear', ['x', ...xq], 'xq'));
  const conv = (name: string, x: string, xs: string[], cin: number, cout: number, y: string[]) => {
    inits.push(q8(`${name}_w`, true, Array.from({ length: cout * cin * 9 }, () => r(-127, 127)), [cout, cin, 3, 3]));
    inits.push(f32(`${name}_ws`, [0.003]), q8(`${name}_wz`, true, [0]));
    nodes.push(node('QLinearConv', [x, ...xs, `${name}_w`, `${name}_ws`, `${name}_wz`, ...y], name, [ints('pads', [1, 1, 1, 1])]));
  };
  const a = act('a', 0.05);
  conv('a', 'xq', xq, 3, 8, a);
  nodes.push(node('MaxPool', ['a'], 'mp', [ints('kernel_shape', [3, 3]), ints('strides', [2, 2]), ints('pads', [1, 1, 1, 1]), int('ceil_mode', ceil ? 1 : 0)]));
  const cat = act('cat', 0.06);
  const b = [cat[0], cat[1]]; // the concat's own scale and zero point: copied
  conv('b', 'mp', a, 8, 6, b);
  const c = act('c', 0.045); // requantized through the table
  conv('c', 'mp', a, 8, 5, c);
  nodes.push(node('QLinearConcat', [...cat, 'b', ...b, 'c', ...c], 'cat', [int('axis', 1)], 'com.microsoft'));
  const g = act('gap', 0.03);
  nodes.push(node('QLinearGlobalAveragePool', ['cat', ...cat, ...g], 'gap', [], 'com.microsoft'));
  nodes.push(node('DequantizeLinear', ['gap', ...g], 'y'));
  return encodeNet(nodes, inits, [1, 3, h, w]);
}

/**
 * A net's builder with wide zero points and per-channel weights (scales from `scale0`, biases within ±`biasRange`):
 * `act` adds an activation's scale and zero point, `conv` a QLinearConv; `encode` ends it with a DequantizeLinear.
 */
function perChannelBuilder(signed: boolean, seed: number, scale0: number, biasRange: number) {
  const r = lcg(seed);
  const zp = () => (signed ? r(-60, 60) : r(70, 190));
  const inits: onnx.ITensorProto[] = [];
  const nodes: onnx.INodeProto[] = [];
  const act = (name: string, scale: number) => {
    inits.push(f32(`${name}_s`, [scale]), q8(`${name}_z`, signed, [zp()]));
    return [`${name}_s`, `${name}_z`];
  };
  const conv = (name: string, x: string, xs: string[], ci: number, co: number, k: number, group: number, attrs: onnx.IAttributeProto[], ys: number) => {
    const y = act(name, ys);
    inits.push(q8(`${name}_w`, true, Array.from({ length: co * (ci / group) * k * k }, () => r(-128, 127)), [co, ci / group, k, k]));
    inits.push(f32(`${name}_ws`, Array.from({ length: co }, () => scale0 + (r(0, 100) * scale0) / 200), [co]), q8(`${name}_wz`, true, new Array(co).fill(0), [co]));
    inits.push(i32(`${name}_b`, Array.from({ length: co }, () => r(-biasRange, biasRange)), [co]));
    nodes.push(node('QLinearConv', [x, ...xs, `${name}_w`, `${name}_ws`, `${name}_wz`, ...y, `${name}_b`], name, [...attrs, int('group', group)]));
    return y;
  };
  const xq = act('xq', 0.02);
  nodes.push(node('QuantizeLinear', ['x', ...xq], 'xq'));
  const encode = (last: string, ys: string[], h: number, w: number) => {
    nodes.push(node('DequantizeLinear', [last, ...ys], 'y'));
    return encodeNet(nodes, inits, [1, 3, h, w]);
  };
  return { xq, conv, encode };
}

/**
 * Q → conv 1x1 (3 → C) → depthwise 3x3 (stride 1, pads p1) → depthwise 3x3 (stride 2, pads p2) → DQ: every depthwise
 * shape neonn's int8 kernel takes (blocks of 32 channels and a partial one, eight pixels a step and the edges, rows
 * and columns in the padding, asymmetric pads).
 */
function depthwiseNet(signed: boolean, ch: number, p1: number[], p2: number[], h: number, w: number, seed: number): Uint8Array {
  const { xq, conv, encode } = perChannelBuilder(signed, seed, 0.001, 5000);
  const a = conv('a', 'xq', xq, 3, ch, 1, 1, [], 0.03);
  const b = conv('b', 'a', a, ch, ch, 3, ch, [ints('pads', p1)], 0.05);
  const c = conv('c', 'b', b, ch, ch, 3, ch, [ints('strides', [2, 2]), ints('pads', p2)], 0.06);
  return encode('c', c, h, w);
}

/** Q → conv 3x3 (3 → cin) → conv 1x1 (cin → cout) → conv 1x1 (cout → 8) → DQ. */
function pointwiseNet(signed: boolean, cin: number, cout: number, h: number, w: number, seed: number): Uint8Array {
  const { xq, conv, encode } = perChannelBuilder(signed, seed, 0.0005, 20000);
  const a = conv('a', 'xq', xq, 3, cin, 3, 1, [ints('pads', [1, 1, 1, 1])], 0.03);
  const b = conv('b', 'a', a, cin, cout, 1, 1, [], 0.05);
  const c = conv('c', 'b', b, cout, 8, 1, 1, [], 0.06);
  return encode('c', c, h, w);
}

/**
 * Q → conv → QLinearLeakyRelu → squeeze-and-excitation (pool → conv → QLinearSigmoid → QLinearMul of the map by
 * its per-channel gate) → QLinearAdd of a constant per-channel bias → conv → DQ.
 */
function gateNet(signed: boolean, bias: 'per-channel' | 'scalar', batch = 1): Uint8Array {
  const r = lcg(17);
  const zp = () => (signed ? r(-20, 20) : r(100, 150));
  const inits: onnx.ITensorProto[] = [];
  const nodes: onnx.INodeProto[] = [];
  const act = (name: string, scale: number) => {
    inits.push(f32(`${name}_s`, [scale]), q8(`${name}_z`, signed, [zp()]));
    return [`${name}_s`, `${name}_z`];
  };
  const conv = (name: string, x: string, xs: string[], cin: number, cout: number, k: number, y: string[]) => {
    inits.push(q8(`${name}_w`, true, Array.from({ length: cout * cin * k * k }, () => r(-127, 127)), [cout, cin, k, k]));
    inits.push(f32(`${name}_ws`, [0.003]), q8(`${name}_wz`, true, [0]));
    nodes.push(node('QLinearConv', [x, ...xs, `${name}_w`, `${name}_ws`, `${name}_wz`, ...y], name, k === 3 ? [ints('pads', [1, 1, 1, 1])] : []));
  };
  const xq = act('xq', 0.02);
  nodes.push(node('QuantizeLinear', ['x', ...xq], 'xq'));
  const a = act('a', 0.05);
  conv('a', 'xq', xq, 3, 12, 3, a);
  const l = act('l', 0.04);
  nodes.push(node('QLinearLeakyRelu', ['a', ...a, ...l], 'l', [{ name: 'alpha', type: AT.FLOAT, f: 0.1 }], 'com.microsoft'));
  const g = act('g', 0.03);
  nodes.push(node('QLinearGlobalAveragePool', ['l', ...l, ...g], 'g', [], 'com.microsoft'));
  const e = act('e', 0.06);
  conv('e', 'g', g, 12, 12, 1, e);
  const sg = act('sg', 1 / 255);
  nodes.push(node('QLinearSigmoid', ['e', ...e, ...sg], 'sg', [], 'com.microsoft'));
  const m = act('m', 0.035);
  nodes.push(node('QLinearMul', ['l', ...l, 'sg', ...sg, ...m], 'm', [], 'com.microsoft'));
  const n = bias === 'per-channel' ? 12 : 1;
  inits.push(q8('bias', signed, Array.from({ length: n }, () => (signed ? r(-100, 100) : r(20, 230))), bias === 'per-channel' ? [1, 12, 1, 1] : []));
  inits.push(f32('bias_s', [0.02]), q8('bias_z', signed, [zp()]));
  const b = act('b', 0.05);
  // The constant first: the op commutes, so it is read as B.
  nodes.push(node('QLinearAdd', ['bias', 'bias_s', 'bias_z', 'm', ...m, ...b], 'b', [], 'com.microsoft'));
  const o = act('o', 0.07);
  conv('o', 'b', b, 12, 6, 3, o);
  nodes.push(node('DequantizeLinear', ['o', ...o], 'y'));
  return encodeNet(nodes, inits, [batch, 3, 13, 11]);
}

function input(seed: number, h = 13, w = 11, batch = 1): nn.Tensor {
  const r = lcg(seed);
  return new nn.Tensor(Float32Array.from({ length: batch * 3 * h * w }, () => r(-3000, 3000) / 1000), [batch, 3, h, w]);
}

async function runOn(backend: string, bytes: Uint8Array, x: nn.Tensor, qdq: 'fuse' | 'auto' = 'fuse') {
  const before = nn.getBackend();
  nn.setBackend(backend);
  try {
    const m = await nn.loadOnnx(bytes, { qdq });
    const y = Float32Array.from((await m.run({ x })).y.data);
    const again = Float32Array.from(m.runSync({ x }).y.data);
    const layers = m.layers();
    m.dispose();
    return { y, again, layers };
  } finally {
    nn.setBackend(before);
  }
}

/**
 * `bytes` on reference and on xnnpack (async and sync): bit for bit the same, not a trivial output, within `tol`
 * of onnxruntime's; its `convs` QLinearConvs all in int8 on xnnpack, in the region `note` describes.
 */
async function expectRegionRun(bytes: Uint8Array, x: nn.Tensor, tol: number, convs: number, note: RegExp): Promise<void> {
  const ref = await runOn('reference', bytes, x);
  const xnn = await runOn('xnnpack', bytes, x);
  expect(Array.from(xnn.y)).toEqual(Array.from(ref.y));
  expect(Array.from(xnn.again)).toEqual(Array.from(ref.y));
  expect(new Set(ref.y).size).toBeGreaterThan(2);
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const o = await s.run({ x: new ort.Tensor('float32', x.data, [...x.shape]) });
  await s.release();
  const want = o.y.data as Float32Array;
  for (let i = 0; i < want.length; i++) expect(Math.abs(xnn.y[i] - want[i])).toBeLessThanOrEqual(tol + 1e-6);
  const layers = xnn.layers.filter((l) => l.op === 'QLinearConv');
  expect(layers).toHaveLength(convs);
  for (const l of layers) {
    expect(l.precision).toBe('int8');
    expect(l.backend).toContain('xnnpack');
    expect(l.choice).toMatch(note);
  }
}

const CASES: Case[] = [
  { name: 'uint8 activations, per-channel int8 weights', signed: false, weights: 'per-channel' },
  { name: 'int8 activations, per-channel int8 weights', signed: true, weights: 'per-channel' },
  { name: 'uint8 activations, per-tensor int8 weights', signed: false, weights: 'per-tensor' },
  { name: 'uint8 activations, uint8 weights with zero point 128', signed: false, weights: 'uint8-zp' },
];

describeX('quantized NHWC regions on XNNPACK', () => {
  test.each(CASES)('$name: the reference kernels bit for bit, and onnxruntime', async (c) => {
    const bytes = quantizedNet(c);
    // Within one step of the output's scale (onnxruntime's kernels may round a tie of an inner value otherwise).
    const note = new RegExp(`^quantized NHWC region on XNNPACK \\(int8\\): 8 steps \\(0-7\\), 4 qs8 convs${ownDw(1, 1)}, 1 float inputs quantized and 0 8-bit inputs transposed in, 1 outputs dequantized and 0 8-bit outputs transposed out$`);
    for (const seed of [1, 2]) await expectRegionRun(bytes, input(seed), 0.03, 4, note);
  });

  test.each([
    [false, false],
    [true, false],
    [false, true],
  ])('8-bit MaxPool and QLinearConcat in the region (int8 %s, ceil_mode %s): the reference kernels bit for bit, and onnxruntime', async (signed, ceil) => {
    // 14 x 12: ceil_mode gives one more row and column of windows (8 x 7 against 7 x 6). One region from the
    // QuantizeLinear to the DequantizeLinear: 8 steps.
    await expectRegionRun(concatNet(signed, ceil, 14, 12), input(9, 14, 12), 0.03, 3, /^quantized NHWC region on XNNPACK \(int8\): 8 steps \(0-7\), 3 qs8 convs/);
  });

  test.each([
    [false, 'per-channel', 1],
    [true, 'per-channel', 1],
    [false, 'scalar', 1],
    [false, 'per-channel', 3],
  ] as const)('QLinearLeakyRelu, QLinearSigmoid, QLinearMul by a per-channel gate, QLinearAdd of a constant in the region (int8 %s, bias %s, batch %d)', async (signed, bias, batch) => {
    // Within two steps of the output's scale (onnxruntime's tables and multipliers may round an inner value the
    // other way). Q, conv, leaky relu, pool, conv, sigmoid, mul, add, conv, DQ: one region.
    const note = /^quantized NHWC region on XNNPACK \(int8\): 10 steps \(0-9\), 3 qs8 convs/;
    await expectRegionRun(gateNet(signed, bias, batch), input(12, 13, 11, batch), 2 * 0.07, 3, note);
  });

  test.each([
    [false, 8, [1, 1, 1, 1], [1, 1, 1, 1]],
    [true, 32, [0, 0, 0, 0], [1, 0, 0, 1]],
    [false, 40, [2, 1, 0, 2], [0, 2, 2, 0]],
    [true, 72, [1, 2, 2, 1], [2, 2, 2, 2]],
  ])('int8 depthwise 3x3 convs (int8 %s, %d channels, pads %j then %j at stride 2): the reference kernels bit for bit', async (signed, ch, p1, p2) => {
    // 11 x 23: at stride 1 a row has eight-pixel steps and edges; at stride 2 (12 columns) one step and edges.
    const bytes = depthwiseNet(signed, ch, p1, p2, 11, 23, ch);
    const note = new RegExp(`^quantized NHWC region on XNNPACK \\(int8\\): 5 steps \\(0-4\\), 3 qs8 convs${ownDw(2)}, `);
    for (const seed of [4, 5]) await expectRegionRun(bytes, input(seed, 11, 23), 0.06, 3, note);
  });

  test.each([
    [false, 16, 40, 11, 23],
    [true, 12, 72, 11, 23],
    [false, 96, 8, 3, 5],
    [true, 200, 33, 7, 9],
    [false, 68, 16, 6, 6],
  ])('1x1 convs (int8 %s, %d -> %d channels, %dx%d pixels): the reference kernels bit for bit', async (signed, cin, cout, h, w) => {
    // On AMX: 32 pixels a step (253 leave a step of 29: tiles of 16 and 13), 15 pixels one short tile; inputs in
    // chunks of up to 64 (200: 5 of 40; 68: 17 of 4); outputs in pairs of 16-channel tiles, 8 and 33 partly empty.
    // A conv of 33 inputs (not a multiple of 4) stays on XNNPACK.
    const bytes = pointwiseNet(signed, cin, cout, h, w, cin + cout);
    const note = new RegExp(`^quantized NHWC region on XNNPACK \\(int8\\): 5 steps \\(0-4\\), 3 qs8 convs${ownDw(0, (cin % 4 === 0 ? 1 : 0) + (cout % 4 === 0 ? 1 : 0))}, `);
    for (const seed of [6, 7]) await expectRegionRun(bytes, input(seed, h, w), 0.06, 3, note);
  });

  test('a quantized entry of more channels than the staging buffer holds (16400) is quantized pixel by pixel, bit for bit', async () => {
    const r = lcg(23);
    const c = 16400;
    const inits = [
      f32('xs', [0.02]),
      q8('xz', false, [128]),
      q8('w', true, Array.from({ length: 2 * c }, () => r(-3, 3)), [2, c, 1, 1]),
      f32('ws', [0.001]),
      q8('wz', true, [0]),
      f32('ys', [0.5]),
      q8('yz', false, [120]),
    ];
    const nodes = [
      node('QuantizeLinear', ['x', 'xs', 'xz'], 'xq'),
      node('QLinearConv', ['xq', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz'], 'c'),
      node('DequantizeLinear', ['c', 'ys', 'yz'], 'y'),
    ];
    const bytes = encodeNet(nodes, inits, [1, c, 1, 1]);
    const x = new nn.Tensor(Float32Array.from({ length: c }, () => r(-2000, 2000) / 1000), [1, c, 1, 1]);
    const ref = await runOn('reference', bytes, x);
    const xnn = await runOn('xnnpack', bytes, x);
    expect(Array.from(xnn.y)).toEqual(Array.from(ref.y));
    expect(xnn.layers.find((l) => l.op === 'QLinearConv')!.choice).toMatch(/^quantized NHWC region on XNNPACK \(int8\): 3 steps/);
  });

  test('auto: the region is measured against the integer kernels and kept', async () => {
    const bytes = quantizedNet(CASES[0], 11);
    const x = input(3);
    const ref = await runOn('reference', bytes, x);
    // One thread: this region takes about 0.1 ms, and a thread pool stalled on a core busy with other test
    // workers can take longer than that on every trial.
    const threads = nn.getThreads();
    nn.setThreads(1);
    // qdq 'fuse': the integer path (under 'auto' it is measured against the float form: test/auto/quantized-path.test.ts).
    const a = await runOn('auto', bytes, x, 'fuse').finally(() => nn.setThreads(threads));
    expect(Array.from(a.y)).toEqual(Array.from(ref.y));
    expect(Array.from(a.again)).toEqual(Array.from(ref.y));
    const convs = a.layers.filter((l) => l.op === 'QLinearConv');
    expect(convs).toHaveLength(4);
    for (const l of convs) expect(l.choice).toMatch(/measured: NHWC region [0-9.]+ ms, layer by layer (> )?[0-9.]+ ms \(region\)/);
    // Under openblas the integer kernels are reference loops: qdq 'auto' runs the exact float form instead.
    const o = await runOn('openblas', bytes, x, 'auto');
    expect(Array.from(o.y)).toEqual(Array.from(ref.y));
    expect(o.layers.filter((l) => l.op === 'QLinearConv')).toHaveLength(0);
  });

  test('a conv whose weights minus their zero point leave int8 stays on the integer kernel, the rest in regions', async () => {
    const bytes = quantizedNet(CASES[0], 5);
    const m = onnx.ModelProto.decode(bytes);
    // Weights of the third conv: int8 with zero point 100, so w - 100 reaches -227.
    const wz = m.graph!.initializer!.find((t) => t.name === 'c2_wz')!;
    wz.rawData = new Uint8Array(Int8Array.from(new Array(16).fill(100)).buffer);
    const edited = onnx.ModelProto.encode(m).finish();
    const x = input(4);
    const ref = await runOn('reference', edited, x);
    const xnn = await runOn('xnnpack', edited, x);
    expect(Array.from(xnn.y)).toEqual(Array.from(ref.y));
    const c2 = xnn.layers.find((l) => l.name.includes('QLinearConv_c2'))!;
    expect(c2.choice).toBeUndefined();
    const c0 = xnn.layers.find((l) => l.name.includes('QLinearConv_c0'))!;
    expect(c0.choice).toMatch(/quantized NHWC region/);
  });

  test('a conv whose requantization scale XNNPACK refuses (>= 256) stays out of the region, the rest in it', async () => {
    const m = onnx.ModelProto.decode(quantizedNet(CASES[0], 5));
    // The third conv's output scale: 0.04 * 0.004 / 5e-7 = 320.
    const ys = m.graph!.initializer!.find((t) => t.name === 'c2_s')!;
    ys.floatData = [5e-7];
    const edited = onnx.ModelProto.encode(m).finish();
    const x = input(6);
    const ref = await runOn('reference', edited, x);
    const xnn = await runOn('xnnpack', edited, x);
    expect(Array.from(xnn.y)).toEqual(Array.from(ref.y));
    expect(xnn.layers.find((l) => l.name.includes('QLinearConv_c2'))!.choice).toBeUndefined();
    expect(xnn.layers.find((l) => l.name.includes('QLinearConv_c0'))!.choice).toMatch(/quantized NHWC region/);
    // Under qdq 'auto' that conv takes its exact float form instead of the reference loop.
    const a = await runOn('xnnpack', edited, x, 'auto');
    expect(Array.from(a.y)).toEqual(Array.from(ref.y));
    expect(a.layers.filter((l) => l.op === 'QLinearConv')).toHaveLength(3);
    expect(a.layers.some((l) => l.op === 'Conv' && (l.fallback ?? '').includes('runs float'))).toBe(true);
  });

  const dir = path.join(__dirname, '..', '..', '..', 'shared', 'real-models', 'mobilenetv2_int8');
  const haveModel = fs.existsSync(path.join(dir, 'model.onnx'));
  if (!haveModel) console.warn(`SKIPPED: the shared int8 MobileNetV2 is not at ${dir}`);
  (haveModel ? test : test.skip)('the shared int8 MobileNetV2 (QOperator) in one region: onnxruntime\'s stored output exactly', async () => {
    const read = (f: string) => {
      const b = fs.readFileSync(path.join(dir, f));
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    };
    const x = new nn.Tensor(read('input_0.f32'), [1, 3, 224, 224]);
    const want = read('output_0.f32');
    for (const backend of ['xnnpack', 'auto']) {
      nn.setBackend(backend);
      try {
        const m = await nn.loadOnnx(path.join(dir, 'model.onnx'));
        const out = m.outputNames[0];
        const y = (await m.run({ [m.inputNames[0]]: x }))[out].data;
        expect(Array.from(y)).toEqual(Array.from(want));
        const convs = m.layers().filter((l) => l.op === 'QLinearConv');
        if (backend === 'xnnpack' || convs.length > 0) {
          // Under auto the integer path is measured against the exact float form; when it won, it is one region.
          expect(convs).toHaveLength(52);
          for (const l of convs) expect(l.choice).toMatch(/quantized NHWC region on XNNPACK \(int8\): 6[0-9] steps/);
        } else {
          // The exact float form measured faster (a CPU with wide fp32 FMA, such as Zen 5): each of the 52 convs says so.
          expect(m.layers().filter((l) => l.op === 'Conv' && (l.fallback ?? '').startsWith('runs float (integer-valued, exact): measured: integer'))).toHaveLength(52);
        }
        m.dispose();
      } finally {
        nn.setBackend('auto');
      }
    }
  });
});
