// Conv, ConvTranspose and the pools over 1-3 spatial dims: ONNX's node
// tests, plain-JS references (direct loops over a 3-D-padded geometry),
// attribute variants and errors.
import * as nn from '../../lib';
import { expectNodeCase, haveTestdata } from './onnx-node';

type Attrs = Record<string, number | number[] | string>;

function rand(shape: number[], seed = 1): nn.Tensor {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    d[i] = (s / 2147483648) * 2 - 1;
  }
  return nn.tensor(d, shape);
}
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-4): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i] - want[i]) > tol * (1 + Math.abs(want[i]))) throw new Error(`[${i}] = ${got[i]}, expected ${want[i]}`);
  }
}
const op1 = (name: string, inputs: (nn.Tensor | null)[], attrs: Attrs = {}) => nn.runOp(name, inputs, attrs)[0] as nn.Tensor;

/** Spatial dims padded to 3 at the front. */
const pad3 = (v: number[], fill: number) => [...new Array(3 - v.length).fill(fill), ...v];

/** Direct convolution (explicit pads). */
function refConv(x: nn.Tensor, w: nn.Tensor, b: nn.Tensor | null, o: { strides?: number[]; pads?: number[]; dilations?: number[]; group?: number }): { data: Float32Array; shape: number[] } {
  const r = x.shape.length - 2;
  const [n, ci] = x.shape, co = w.shape[0], g = o.group ?? 1;
  const inS = pad3(x.shape.slice(2), 1), k = pad3(w.shape.slice(2), 1);
  const s = pad3(o.strides ?? new Array(r).fill(1), 1), d = pad3(o.dilations ?? new Array(r).fill(1), 1);
  const p = o.pads ?? new Array(2 * r).fill(0);
  const pb = pad3(p.slice(0, r), 0), pe = pad3(p.slice(r), 0);
  const out = [0, 1, 2].map((i) => Math.floor((inS[i] + pb[i] + pe[i] - (k[i] - 1) * d[i] - 1) / s[i]) + 1);
  const cig = ci / g, cog = co / g;
  const y = new Float32Array(n * co * out[0] * out[1] * out[2]);
  let at = 0;
  for (let b0 = 0; b0 < n; b0++) for (let oc = 0; oc < co; oc++) {
    const gi = Math.floor(oc / cog);
    for (let a = 0; a < out[0]; a++) for (let bb = 0; bb < out[1]; bb++) for (let cc = 0; cc < out[2]; cc++) {
      let acc = b ? b.data[oc] : 0;
      for (let ic = 0; ic < cig; ic++) for (let i = 0; i < k[0]; i++) for (let j = 0; j < k[1]; j++) for (let l = 0; l < k[2]; l++) {
        const z = a * s[0] - pb[0] + i * d[0], yy = bb * s[1] - pb[1] + j * d[1], xx = cc * s[2] - pb[2] + l * d[2];
        if (z < 0 || z >= inS[0] || yy < 0 || yy >= inS[1] || xx < 0 || xx >= inS[2]) continue;
        const xv = x.data[(((b0 * ci + gi * cig + ic) * inS[0] + z) * inS[1] + yy) * inS[2] + xx];
        const wv = w.data[(((oc * cig + ic) * k[0] + i) * k[1] + j) * k[2] + l];
        acc += xv * wv;
      }
      y[at++] = acc;
    }
  }
  return { data: y, shape: [n, co, ...out.slice(3 - r)] };
}

/** Direct transposed convolution by scatter (explicit pads, output_padding). */
function refConvT(x: nn.Tensor, w: nn.Tensor, b: nn.Tensor | null, o: { strides?: number[]; pads?: number[]; dilations?: number[]; group?: number; outputPadding?: number[] }): { data: Float32Array; shape: number[] } {
  const r = x.shape.length - 2;
  const [n, ci] = x.shape, g = o.group ?? 1, cog = w.shape[1], co = cog * g, cig = ci / g;
  const inS = pad3(x.shape.slice(2), 1), k = pad3(w.shape.slice(2), 1);
  const s = pad3(o.strides ?? new Array(r).fill(1), 1), d = pad3(o.dilations ?? new Array(r).fill(1), 1);
  const p = o.pads ?? new Array(2 * r).fill(0), op = pad3(o.outputPadding ?? new Array(r).fill(0), 0);
  const pb = pad3(p.slice(0, r), 0), pe = pad3(p.slice(r), 0);
  const out = [0, 1, 2].map((i) => s[i] * (inS[i] - 1) + op[i] + (k[i] - 1) * d[i] + 1 - pb[i] - pe[i]);
  const y = new Float32Array(n * co * out[0] * out[1] * out[2]);
  const yi = (b0: number, oc: number, a: number, bb: number, cc: number) => (((b0 * co + oc) * out[0] + a) * out[1] + bb) * out[2] + cc;
  for (let b0 = 0; b0 < n; b0++) for (let ic = 0; ic < ci; ic++) {
    const gi = Math.floor(ic / cig);
    for (let a = 0; a < inS[0]; a++) for (let bb = 0; bb < inS[1]; bb++) for (let cc = 0; cc < inS[2]; cc++) {
      const xv = x.data[(((b0 * ci + ic) * inS[0] + a) * inS[1] + bb) * inS[2] + cc];
      for (let oc = 0; oc < cog; oc++) for (let i = 0; i < k[0]; i++) for (let j = 0; j < k[1]; j++) for (let l = 0; l < k[2]; l++) {
        const z = a * s[0] - pb[0] + i * d[0], yy = bb * s[1] - pb[1] + j * d[1], xx = cc * s[2] - pb[2] + l * d[2];
        if (z < 0 || z >= out[0] || yy < 0 || yy >= out[1] || xx < 0 || xx >= out[2]) continue;
        y[yi(b0, gi * cog + oc, z, yy, xx)] += xv * w.data[(((ic * cog + oc) * k[0] + i) * k[1] + j) * k[2] + l];
      }
    }
  }
  if (b) for (let i = 0; i < y.length; i++) y[i] += b.data[Math.floor(i / (out[0] * out[1] * out[2])) % co];
  return { data: y, shape: [n, co, ...out.slice(3 - r)] };
}

/** Max/avg/lp pooling (explicit pads, ceil handled by the caller's out dims). */
function refPool(kind: 'max' | 'avg' | 'lp', x: nn.Tensor, o: { kernel: number[]; strides?: number[]; pads?: number[]; dilations?: number[]; ceil?: boolean; includePad?: boolean; p?: number }): { data: Float32Array; shape: number[]; idx: number[] } {
  const r = x.shape.length - 2;
  const [n, c] = x.shape;
  const inS = pad3(x.shape.slice(2), 1), k = pad3(o.kernel, 1);
  const s = pad3(o.strides ?? new Array(r).fill(1), 1), d = pad3(o.dilations ?? new Array(r).fill(1), 1);
  const p = o.pads ?? new Array(2 * r).fill(0);
  const pb = pad3(p.slice(0, r), 0), pe = pad3(p.slice(r), 0);
  const out = [0, 1, 2].map((i) => {
    const span = inS[i] + pb[i] + pe[i] - (k[i] - 1) * d[i] - 1;
    let v = (o.ceil ? Math.ceil(span / s[i]) : Math.floor(span / s[i])) + 1;
    if (o.ceil && (v - 1) * s[i] >= inS[i] + pb[i]) v--;
    return v;
  });
  const y: number[] = [], idx: number[] = [];
  const plane = inS[0] * inS[1] * inS[2];
  for (let q = 0; q < n * c; q++) for (let a = 0; a < out[0]; a++) for (let bb = 0; bb < out[1]; bb++) for (let cc = 0; cc < out[2]; cc++) {
    let best = -Infinity, bestAt = -1, sum = 0, cnt = 0, padded = 0;
    for (let i = 0; i < k[0]; i++) for (let j = 0; j < k[1]; j++) for (let l = 0; l < k[2]; l++) {
      const z = a * s[0] - pb[0] + i * d[0], yy = bb * s[1] - pb[1] + j * d[1], xx = cc * s[2] - pb[2] + l * d[2];
      if (z >= -pb[0] && z < inS[0] + pe[0] && yy >= -pb[1] && yy < inS[1] + pe[1] && xx >= -pb[2] && xx < inS[2] + pe[2]) padded++;
      if (z < 0 || z >= inS[0] || yy < 0 || yy >= inS[1] || xx < 0 || xx >= inS[2]) continue;
      const at = (z * inS[1] + yy) * inS[2] + xx, v = x.data[q * plane + at];
      cnt++;
      if (v > best) { best = v; bestAt = at; }
      sum += kind === 'lp' ? Math.abs(v) ** (o.p ?? 2) : v;
    }
    y.push(kind === 'max' ? best : kind === 'avg' ? sum / (o.includePad ? padded : cnt) : sum ** (1 / (o.p ?? 2)));
    idx.push(q * plane + bestAt);
  }
  return { data: Float32Array.from(y), shape: [n, c, ...out.slice(3 - r)], idx };
}

(haveTestdata ? describe : describe.skip)('ONNX node tests', () => {
  test.each([
    'test_basic_conv_with_padding', 'test_basic_conv_without_padding', 'test_conv_with_autopad_same', 'test_conv_with_strides_and_asymmetric_padding',
    'test_conv_with_strides_no_padding', 'test_conv_with_strides_padding',
    'test_convtranspose', 'test_convtranspose_1d', 'test_convtranspose_3d', 'test_convtranspose_autopad_same', 'test_convtranspose_dilations',
    'test_convtranspose_kernel_shape', 'test_convtranspose_output_shape', 'test_convtranspose_pad', 'test_convtranspose_pads', 'test_convtranspose_with_kernel',
    'test_averagepool_1d_default', 'test_averagepool_2d_ceil', 'test_averagepool_2d_default', 'test_averagepool_2d_pads', 'test_averagepool_2d_pads_count_include_pad',
    'test_averagepool_2d_precomputed_pads', 'test_averagepool_2d_precomputed_pads_count_include_pad', 'test_averagepool_2d_precomputed_same_upper',
    'test_averagepool_2d_precomputed_strides', 'test_averagepool_2d_same_lower', 'test_averagepool_2d_same_upper', 'test_averagepool_2d_strides', 'test_averagepool_3d_default',
    'test_maxpool_1d_default', 'test_maxpool_2d_ceil', 'test_maxpool_2d_default', 'test_maxpool_2d_dilations', 'test_maxpool_2d_pads', 'test_maxpool_2d_precomputed_pads',
    'test_maxpool_2d_precomputed_same_upper', 'test_maxpool_2d_precomputed_strides', 'test_maxpool_2d_same_lower', 'test_maxpool_2d_same_upper', 'test_maxpool_2d_strides',
    'test_maxpool_3d_default', 'test_maxpool_2d_uint8', 'test_maxpool_with_argmax_2d_precomputed_pads', 'test_maxpool_with_argmax_2d_precomputed_strides',
    'test_globalaveragepool', 'test_globalaveragepool_precomputed', 'test_globalmaxpool', 'test_globalmaxpool_precomputed',
  ])('%s', (name) => expectNodeCase(name));
});

describe('Conv over 1-3 spatial dims against the direct loops', () => {
  const cases: [number[], number[], { strides?: number[]; pads?: number[]; dilations?: number[]; group?: number }][] = [
    [[2, 3, 11], [4, 3, 3], { strides: [2], pads: [1, 2] }],
    [[1, 4, 9], [6, 2, 2], { dilations: [3], group: 2 }],
    [[1, 2, 5, 6, 7], [3, 2, 3, 2, 3], { strides: [1, 2, 2], pads: [1, 0, 1, 1, 1, 0] }],
    [[1, 4, 4, 5, 5], [4, 1, 3, 3, 3], { group: 4, pads: [1, 1, 1, 1, 1, 1], dilations: [1, 2, 1] }],
    [[1, 3, 7, 8], [5, 3, 3, 3], { strides: [2, 1], pads: [1, 1, 0, 2] }],
    // 216 im2col rows x 200 per output row: bands of 12 output rows, crossing depth slices.
    [[1, 8, 6, 10, 200], [4, 8, 3, 3, 3], { pads: [1, 1, 1, 1, 1, 1] }],
  ];
  test.each(cases)('x=%j w=%j %j', (xs, ws, o) => {
    const x = rand(xs, 3), w = rand(ws, 5), b = rand([ws[0]], 7);
    const got = op1('Conv', [x, w, b], o as Attrs);
    const want = refConv(x, w, b, o);
    expect([...got.shape]).toEqual(want.shape);
    expectClose(got.data, want.data);
  });

  test('x=[1,2,10] w=[3,2,4] auto_pad SAME_UPPER / SAME_LOWER / VALID, stride 3', () => {
    const x = rand([1, 2, 10], 2), w = rand([3, 2, 4], 4);
    // out = ceil(10/3) = 4; total pad = 3*3 + 4 - 10 = 3: upper (1, 2), lower (2, 1).
    expectClose(op1('Conv', [x, w], { auto_pad: 'SAME_UPPER', strides: [3] }).data, refConv(x, w, null, { strides: [3], pads: [1, 2] }).data);
    expectClose(op1('Conv', [x, w], { auto_pad: 'SAME_LOWER', strides: [3] }).data, refConv(x, w, null, { strides: [3], pads: [2, 1] }).data);
    expectClose(op1('Conv', [x, w], { auto_pad: 'VALID', strides: [3] }).data, refConv(x, w, null, { strides: [3] }).data);
  });
});

describe('ConvTranspose against the scatter loops', () => {
  const cases: [number[], number[], { strides?: number[]; pads?: number[]; dilations?: number[]; group?: number; outputPadding?: number[] }][] = [
    [[1, 8, 10, 12], [8, 4, 2, 2], { strides: [2, 2] }], // ppocr_det's upsampling
    [[2, 6, 5, 4], [6, 2, 3, 3], { strides: [2, 1], pads: [1, 0, 1, 1], group: 3 }],
    [[1, 2, 4, 4], [2, 3, 3, 3], { strides: [3, 2], outputPadding: [1, 1], dilations: [1, 2] }],
    [[1, 3, 7], [3, 2, 4], { strides: [3], pads: [2, 1] }],
    [[1, 2, 3, 2, 3], [2, 2, 2, 3, 2], { strides: [2, 1, 2], pads: [0, 1, 0, 1, 0, 0] }],
    // 576 column rows x 300 per input row: the column matrix is made in bands of 3 input rows.
    [[1, 2, 20, 300], [2, 64, 3, 3], { strides: [2, 2], pads: [1, 2, 0, 1], dilations: [2, 1] }],
    [[1, 2, 4, 5, 300], [2, 16, 2, 3, 3], { strides: [1, 2, 2], pads: [1, 0, 1, 0, 1, 1] }],
  ];
  test.each(cases)('x=%j w=%j %j', (xs, ws, o) => {
    const x = rand(xs, 11), w = rand(ws, 13), b = rand([ws[1] * (o.group ?? 1)], 17);
    const { outputPadding, ...rest } = o;
    const got = op1('ConvTranspose', [x, w, b], { ...rest, ...(outputPadding ? { output_padding: outputPadding } : {}) } as Attrs);
    const want = refConvT(x, w, b, o);
    expect([...got.shape]).toEqual(want.shape);
    expectClose(got.data, want.data);
  });

  test('x=[1,1,3,3] w=[1,2,3,3] output_shape=[10,8] strides=[3,2]: more than the full [9,7], the end padded with zeros', () => {
    const x = rand([1, 1, 3, 3], 3), w = rand([1, 2, 3, 3], 4), b = rand([2], 5);
    const got = op1('ConvTranspose', [x, w, b], { strides: [3, 2], output_shape: [10, 8] });
    const want = refConvT(x, w, b, { strides: [3, 2], pads: [0, 0, -1, -1] });
    expect([...got.shape]).toEqual([1, 2, 10, 8]);
    expectClose(got.data, want.data);
    // Smaller than full: total 2 → SAME_UPPER puts the larger half at the end, otherwise at the start.
    const u = op1('ConvTranspose', [x, w], { strides: [3, 2], output_shape: [7, 4], auto_pad: 'SAME_UPPER' });
    expectClose(u.data, refConvT(x, w, null, { strides: [3, 2], pads: [1, 1, 1, 2] }).data);
    const l = op1('ConvTranspose', [x, w], { strides: [3, 2], output_shape: [7, 4] });
    expectClose(l.data, refConvT(x, w, null, { strides: [3, 2], pads: [1, 2, 1, 1] }).data);
  });

  test('async: x=[1,4,6,6] w=[4,2,2,2] s=2 equals sync', async () => {
    const x = rand([1, 4, 6, 6], 21), w = rand([4, 2, 2, 2], 22);
    const [a] = await nn.async.runOp('ConvTranspose', [x, w], { strides: [2, 2] });
    expect(a.data).toEqual(op1('ConvTranspose', [x, w], { strides: [2, 2] }).data);
  });

  test('x=[1,16,20,20] w=[16,8,2,2] stride 2 with 2 threads equals 1 thread', () => {
    const x = rand([1, 16, 20, 20], 5), w = rand([16, 8, 2, 2], 6);
    const t = nn.getThreads();
    nn.setThreads(1);
    const a = op1('ConvTranspose', [x, w], { strides: [2, 2] });
    nn.setThreads(2);
    const b = op1('ConvTranspose', [x, w], { strides: [2, 2] });
    nn.setThreads(t);
    expect(b.data).toEqual(a.data);
  });
});

describe('pools over 1-3 spatial dims', () => {
  test('MaxPool x=[1,2,4,5,6] k=[2,3,2] s=[2,2,1] d=[1,1,2] pads, ceil_mode, Indices', () => {
    const x = rand([1, 2, 4, 5, 6], 3);
    const o = { kernel: [2, 3, 2], strides: [2, 2, 1], dilations: [1, 1, 2], pads: [1, 0, 1, 0, 1, 1], ceil: true };
    const [y, idx] = nn.runOp('MaxPool', [x], { kernel_shape: o.kernel, strides: o.strides, dilations: o.dilations, pads: o.pads, ceil_mode: 1 }, { numOutputs: 2 });
    const want = refPool('max', x, o);
    expect([...y.shape]).toEqual(want.shape);
    expectClose(y.data as Float32Array, want.data);
    expect(Array.from(idx.data as BigInt64Array, Number)).toEqual(want.idx);
  });

  test('MaxPool x=[2,3,9] k=[3] s=[2] storage_order=1 on 1-D is row-major too', () => {
    const x = rand([2, 3, 9], 4);
    const [y, idx] = nn.runOp('MaxPool', [x], { kernel_shape: [3], strides: [2], storage_order: 1 }, { numOutputs: 2 });
    const want = refPool('max', x, { kernel: [3], strides: [2] });
    expectClose(y.data as Float32Array, want.data);
    expect(Array.from(idx.data as BigInt64Array, Number)).toEqual(want.idx);
  });

  test.each([
    ['int8', Int8Array],
    ['uint8', Uint8Array],
  ] as const)('MaxPool %s x=[1,2,9] k=[3] s=[2] pads=[1,1]: same values and Indices as float', (dtype, Arr) => {
    const f = rand([1, 2, 9], 30);
    const q = Arr.from(Array.from(f.data, (v) => Math.round(v * 100) + (dtype === 'uint8' ? 100 : 0)));
    const [y, idx] = nn.runOp('MaxPool', [new nn.TypedTensor(dtype, q, [1, 2, 9])], { kernel_shape: [3], strides: [2], pads: [1, 1] }, { numOutputs: 2 });
    expect((y as nn.TypedTensor).dtype).toBe(dtype);
    const want = refPool('max', nn.tensor(Float32Array.from(q), [1, 2, 9]), { kernel: [3], strides: [2], pads: [1, 1] });
    expect(Array.from(y.data as Int8Array)).toEqual(Array.from(want.data));
    expect(Array.from(idx.data as BigInt64Array, Number)).toEqual(want.idx);
  });

  test('MaxPool x=[1,1,3,4] storage_order=1: column-major Indices', () => {
    const x = nn.tensor(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), [1, 1, 3, 4]);
    const [, idx] = nn.runOp('MaxPool', [x], { kernel_shape: [2, 2], storage_order: 1 }, { numOutputs: 2 });
    // Maxima at (1,1),(1,2),(1,3),(2,1),(2,2),(2,3): h + w*3.
    expect(Array.from(idx.data as BigInt64Array, Number)).toEqual([4, 7, 10, 5, 8, 11]);
  });

  test.each([false, true])('AveragePool x=[1,2,5,6,7] k=[3,2,3] s=[2,1,2] pads count_include_pad=%s', (inc) => {
    const x = rand([1, 2, 5, 6, 7], 6);
    const o = { kernel: [3, 2, 3], strides: [2, 1, 2], pads: [1, 1, 0, 1, 0, 2], includePad: inc };
    const y = op1('AveragePool', [x], { kernel_shape: o.kernel, strides: o.strides, pads: o.pads, count_include_pad: inc ? 1 : 0 });
    const want = refPool('avg', x, o);
    expect([...y.shape]).toEqual(want.shape);
    expectClose(y.data, want.data);
  });

  test('AveragePool x=[1,1,7] k=[3] s=[2] ceil_mode pads=[1,1] count_include_pad=1', () => {
    const x = rand([1, 1, 7], 7);
    const o = { kernel: [3], strides: [2], pads: [1, 1], ceil: true, includePad: true };
    const y = op1('AveragePool', [x], { kernel_shape: [3], strides: [2], pads: [1, 1], ceil_mode: 1, count_include_pad: 1 });
    expectClose(y.data, refPool('avg', x, o).data);
  });

  test.each([1, 2, 3])('LpPool p=%i x=[1,3,6,5] k=[2,3] s=[2,1] pads', (p) => {
    const x = rand([1, 3, 6, 5], 8);
    const o = { kernel: [2, 3], strides: [2, 1], pads: [0, 1, 1, 1], p };
    const y = op1('LpPool', [x], { kernel_shape: o.kernel, strides: o.strides, pads: o.pads, p });
    const want = refPool('lp', x, o);
    expect([...y.shape]).toEqual(want.shape);
    expectClose(y.data, want.data);
  });

  test.each([[[2, 3, 7]], [[1, 2, 3, 4]], [[1, 2, 3, 4, 5]]])('global pools x=%j', (shape) => {
    const x = rand(shape, 9);
    const plane = shape.slice(2).reduce((a, b) => a * b, 1);
    const max: number[] = [], avg: number[] = [], lp: number[] = [];
    for (let q = 0; q < shape[0] * shape[1]; q++) {
      const v = Array.from(x.data.subarray(q * plane, (q + 1) * plane));
      max.push(Math.max(...v));
      avg.push(v.reduce((a, b) => a + b, 0) / plane);
      lp.push(Math.cbrt(v.reduce((a, b) => a + Math.abs(b) ** 3, 0)));
    }
    const outShape = [shape[0], shape[1], ...shape.slice(2).map(() => 1)];
    const gm = op1('GlobalMaxPool', [x]);
    expect([...gm.shape]).toEqual(outShape);
    expectClose(gm.data, max);
    expectClose(op1('GlobalAveragePool', [x]).data, avg);
    expectClose(op1('GlobalLpPool', [x], { p: 3 }).data, lp);
  });
});

describe('errors', () => {
  const x = rand([1, 2, 5, 5]);
  test('Conv channels mismatch', () => expect(() => op1('Conv', [x, rand([3, 3, 3, 3])])).toThrow(/input channels \(2\) must equal W.shape\[1\] \* group/));
  test('Conv rank 6', () => expect(() => op1('Conv', [rand([1, 1, 2, 2, 2, 2]), rand([1, 1, 1, 1, 1, 1])])).toThrow(/3 to 5 dims/));
  test('Conv window larger than the input', () => expect(() => op1('Conv', [x, rand([1, 2, 7, 7])])).toThrow(/larger than the padded input/));
  test('Conv bias of the wrong length', () => expect(() => op1('Conv', [x, rand([3, 2, 3, 3]), rand([2])])).toThrow(/B must have shape \[3\]/));
  test('ConvTranspose W.shape[0] must be C', () => expect(() => op1('ConvTranspose', [x, rand([3, 2, 2, 2])])).toThrow(/W.shape\[0\] \(3\) must equal the input channels \(2\)/));
  test('ConvTranspose output_padding >= stride', () => expect(() => op1('ConvTranspose', [x, rand([2, 2, 2, 2])], { strides: [2, 2], output_padding: [2, 0] })).toThrow(/output_padding must be smaller/));
  test('ConvTranspose output_shape of the wrong length', () => expect(() => op1('ConvTranspose', [x, rand([2, 2, 2, 2])], { output_shape: [30] })).toThrow(/output_shape must have 2 values/));
  test('ConvTranspose strides count', () => expect(() => op1('ConvTranspose', [x, rand([2, 2, 2, 2])], { strides: [2] })).toThrow(/strides must have 2 values/));
  test('MaxPool without kernel_shape', () => expect(() => op1('MaxPool', [x])).toThrow(/kernel_shape" is required/));
  test('MaxPool negative pads', () => expect(() => op1('MaxPool', [x], { kernel_shape: [2, 2], pads: [-1, 0, 0, 0] })).toThrow(/pads values must be >= 0/));
  test('AveragePool unknown auto_pad', () => expect(() => op1('AveragePool', [x], { kernel_shape: [2, 2], auto_pad: 'FULL' })).toThrow(/auto_pad/));
  test('GlobalMaxPool on 2-D', () => expect(() => op1('GlobalMaxPool', [rand([2, 3])])).toThrow(/at least 3 dims/));
});
