// NHWC regions: runs of convs, pooling, add, clamps and a classifier that the
// xnnpack backend executes as one unit of XNNPACK operators (transposes only
// at the edges), and that auto measures against its per-layer choices. The
// results must be the reference's (to float rounding), NaN and infinity must
// come out where the reference puts them, layers() must say what ran, and
// under auto the first run's outputs must be those of every later run.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as nn from '../../lib';
import { onnx } from '../../lib/onnx/proto';
import { expectClose, onBackend as on, randomTensor } from '../helpers';
import { avx512, constant, conv, cw, encode, notes, port, regionNotes, special } from './region-graphs';

const info = nn.backends().find((b) => b.name === 'xnnpack');
const available = info?.available === true;
if (!available) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED xnnpack region tests: xnnpack unavailable (${info?.reason ?? 'not registered'})`);
}
const suite = available ? describe : describe.skip;

const initialBackend = nn.getBackend();
const initialThreads = nn.getThreads();
afterAll(() => {
  nn.setBackend(initialBackend);
  nn.setThreads(initialThreads);
});

/** A MobileNet-like body: conv, depthwise conv with ReLU, max pooling, a 1x1 conv, global pooling, a classifier. */
function body(seed: number): nn.Sequential {
  return new nn.Sequential(
    [
      nn.layers.conv2d({ filters: 16, kernel: 3, pads: 1, strides: 2, activation: 'relu' }),
      nn.layers.conv2d({ filters: 16, kernel: 3, pads: 1, group: 16 }),
      nn.layers.relu(),
      nn.layers.conv2d({ filters: 24, kernel: 1 }),
      nn.layers.maxPool2d({ kernel: 3, strides: 2, pads: 1 }),
      nn.layers.conv2d({ filters: 24, kernel: 3, pads: 1, dilations: 2 }),
      nn.layers.relu(),
      nn.layers.avgPool2d({ kernel: 2, strides: 2 }),
      nn.layers.globalAvgPool(),
      nn.layers.flatten(),
      nn.layers.dense({ units: 10 }),
    ],
    { inputShape: [8, 40, 40], seed },
  );
}


suite('xnnpack: NHWC regions', () => {
  test('a model runs as one region: the reference results, and layers() says so per conv', () => {
    const g = nn.loadOnnxSync(nn.saveOnnx(body(3), undefined, { batch: 2 }));
    const x = randomTensor([2, 8, 40, 40], 5);
    const feed = { [g.inputNames[0]]: x };
    const want = Object.values(on('reference', () => g.runSync(feed)))[0];
    const [got, layers] = on('xnnpack', () => [Object.values(g.runSync(feed))[0], g.layers()] as const);
    expectClose(got.data, want.data, 1e-4, 1e-5);
    const convs = layers.filter((l) => l.op.startsWith('Conv'));
    expect(convs).toHaveLength(4);
    for (const l of convs) {
      expect(l.backend).toBe('xnnpack');
      expect(l.algorithm).toBe('xnnpack');
      expect(l.planBytes).toBeGreaterThan(0);
      // Every step from the first conv to the classifier: one region, one transpose in and one out.
      expect(notes([l])[0]).toMatch(/^NHWC region on XNNPACK: \d+ steps \(0-\d+\) as \d+ operators \(\d+ clamps folded\), 1 transposes in, 1 out$/);
    }
    // Later runs and async runs give the same bits.
    on('xnnpack', () => expect(Object.values(g.runSync(feed))[0].data).toEqual(got.data));
    g.dispose();
  });

  test('async runs and a change of thread count (the region is planned again) keep the results', async () => {
    const g = nn.loadOnnxSync(nn.saveOnnx(body(4), undefined, { batch: 1 }));
    const x = randomTensor([1, 8, 40, 40], 6);
    const feed = { [g.inputNames[0]]: x };
    const want = Object.values(on('reference', () => g.runSync(feed)))[0];
    nn.setBackend('xnnpack');
    try {
      for (const threads of [1, 2, 1]) {
        nn.setThreads(threads);
        expectClose(Object.values(await g.run(feed))[0].data, want.data, 1e-4, 1e-5);
      }
    } finally {
      nn.setBackend(initialBackend);
      nn.setThreads(initialThreads);
    }
    g.dispose();
  });

  test('NaN and infinity in the input come out where the reference puts them (the region steps aside)', () => {
    const g = nn.loadOnnxSync(nn.saveOnnx(body(5), undefined, { batch: 1 }));
    const x = randomTensor([1, 8, 40, 40], 7);
    x.data[123] = NaN;
    x.data[2000] = Infinity;
    const feed = { [g.inputNames[0]]: x };
    const want = Object.values(on('reference', () => g.runSync(feed)))[0];
    const got = Object.values(on('xnnpack', () => g.runSync(feed)))[0];
    expect(special(want.data).length).toBeGreaterThan(0);
    expect(special(got.data)).toEqual(special(want.data));
    // And the next finite input runs in the region again, with the reference's results.
    const y = randomTensor([1, 8, 40, 40], 8);
    const want2 = Object.values(on('reference', () => g.runSync({ [g.inputNames[0]]: y })))[0];
    expectClose(Object.values(on('xnnpack', () => g.runSync({ [g.inputNames[0]]: y })))[0].data, want2.data, 1e-4, 1e-5);
    g.dispose();
  });

  /** A zoo model on xnnpack against openblas: its output, and the distinct region notes of its layers. */
  function zooOnXnnpack(bytes: Uint8Array, seed: number): string[] {
    const g = nn.loadOnnxSync(bytes);
    const feed = { [g.inputNames[0]]: randomTensor([1, 3, 224, 224], seed) };
    const want = Object.values(on('openblas', () => g.runSync(feed)))[0];
    const [got, layers] = on('xnnpack', () => [Object.values(g.runSync(feed))[0], g.layers()] as const);
    expectClose(got.data, want.data, 1e-4, 1e-6);
    g.dispose();
    return [...new Set(notes(layers))];
  }

  test('MobileNetV2: ReLU6 clips folded into the convs before them, the classifier in the region', () => {
    // 35 Clip(0, 6) folded; the classifier's Gemm inside, so only the softmax is outside.
    // On AVX-512 its 10 residual adds fold into the 1x1 convs before them (neonn's GEMM, xnnpack_gemm_conv.cc).
    const gemm = avx512 ? ", 10 adds folded into convs, \\d+ convs on neonn's GEMM" : '';
    expect(zooOnXnnpack(nn.zoo.onnx.mobilenetV2({ seed: 2 }), 10)).toEqual([expect.stringMatching(new RegExp(`\\(35 clamps folded${gemm}\\), 1 transposes in, 1 out$`))]);
  });

  test('SqueezeNet: its fire modules concatenate in the region (each expand conv writes its channels), one region', () => {
    expect(zooOnXnnpack(nn.zoo.onnx.squeezenet({ seed: 3 }), 11)).toEqual([expect.stringMatching(/, 1 transposes in, 1 out$/)]);
  });

  test('a concat input read elsewhere too, an entry, and the same value twice are copied into place', () => {
    // x → A = conv(x) → relu; B = conv(A); C = conv(A); y = concat(A, B, x, C, C); z = conv(y)
    const model = onnx.ModelProto.encode({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'g',
        node: [
          conv('x', 'w1', 'a0', 3),
          { opType: 'Relu', input: ['a0'], output: ['a'] },
          conv('a', 'w2', 'b', 1),
          conv('a', 'w3', 'c', 3),
          { opType: 'Concat', input: ['a', 'b', 'x', 'c', 'c'], output: ['y'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
          conv('y', 'w4', 'z', 1),
        ],
        input: [port('x', [2, 4, 12, 12])],
        output: [port('z', [2, 5, 12, 12]), port('b', [2, 6, 12, 12])],
        initializer: [cw(8, 4, 3, 1), cw(6, 8, 1, 2), cw(3, 8, 3, 3), cw(5, 8 + 6 + 4 + 3 + 3, 1, 4)],
      },
    }).finish();
    const g = nn.loadOnnxSync(model);
    const feed = { x: randomTensor([2, 4, 12, 12], 12) };
    const want = on('reference', () => g.runSync(feed));
    const [got, layers] = on('xnnpack', () => [g.runSync(feed), g.layers()] as const);
    for (const k of ['z', 'b']) expectClose(got[k].data, want[k].data, 1e-4, 1e-5);
    expect(layers.filter((l) => l.choice?.startsWith('NHWC region')).length).toBe(4);
    g.dispose();
  });

  test("precision 'fp16': the region computes in half precision where XNNPACK can here (within 1e-2 of fp32), else fp32 and says so", () => {
    const fp16 = /fp16: yes/.test(nn.backends().find((b) => b.name === 'xnnpack')!.config ?? '');
    const bytes = nn.zoo.onnx.mobilenetV2({ seed: 4 });
    const x = randomTensor([1, 3, 224, 224], 13);
    const [full, half, halfNotes] = on('xnnpack', () => {
      const a = nn.loadOnnxSync(bytes);
      const b = nn.loadOnnxSync(bytes, { precision: 'fp16' });
      const ya = Object.values(a.runSync({ [a.inputNames[0]]: x }))[0];
      const yb = Object.values(b.runSync({ [b.inputNames[0]]: x }))[0];
      const n = notes(b.layers());
      a.dispose();
      b.dispose();
      return [ya, yb, n] as const;
    });
    expect(halfNotes).toHaveLength(1);
    if (fp16) {
      expect(halfNotes[0]).toMatch(/^NHWC region on XNNPACK in fp16: /);
      const scale = Math.max(...Array.from(full.data, Math.abs));
      const worst = Math.max(...Array.from(half.data, (v, i) => Math.abs(v - full.data[i])));
      expect(worst / scale).toBeLessThan(1e-2);
      expect(Array.from(half.data)).not.toEqual(Array.from(full.data));
    } else {
      // eslint-disable-next-line no-console
      console.warn('xnnpack has no fp16 on this CPU: checking that precision fp16 says so and runs fp32');
      expect(halfNotes[0]).toMatch(/in fp32 \(fp16 asked for; XNNPACK has no fp16 on this CPU\)/);
      expect(Array.from(half.data)).toEqual(Array.from(full.data));
    }
  });

  test('precision is checked: a bad value is a RangeError at load, as is a bad NEONN_PRECISION', () => {
    expect(() => nn.loadOnnxSync(nn.zoo.onnx.squeezenet(), { precision: 'fp8' as never })).toThrow(/precision/);
    const r = spawnSync(process.execPath, ['-e', "require('./dist')"], {
      cwd: path.resolve(__dirname, '../..'),
      encoding: 'utf8',
      env: { ...process.env, NEONN_PRECISION: 'half' },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/RangeError: NEONN_PRECISION must be "fp32" or "fp16", got "half"/);
  });

  test('leaky ReLU, sigmoid, tanh, hard swish and broadcast add/sub/mul/div (a per-channel scale, a scalar, an SE-style gate) stay in the region', () => {
    const bin = (op: string, a: string, b: string, y: string): onnx.INodeProto => ({ opType: op, input: [a, b], output: [y] });
    const model = encode(
      [
        conv('x', 'w1', 'c1', 3),
        { opType: 'LeakyRelu', input: ['c1'], output: ['l'], attribute: [{ name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOAT, f: 0.1 }] },
        bin('Mul', 'l', 'scale', 'm'),
        bin('Add', 'm', 'two', 'a'),
        { opType: 'GlobalAveragePool', input: ['a'], output: ['g'] },
        { opType: 'Sigmoid', input: ['g'], output: ['s'] },
        bin('Mul', 'a', 's', 'gated'),
        bin('Div', 'gated', 'two', 'd'),
        { opType: 'Tanh', input: ['d'], output: ['t0'] },
        { opType: 'HardSwish', input: ['t0'], output: ['t'] },
        bin('Sub', 'x', 't', 'r'),
        conv('r', 'w2', 'y', 1),
      ],
      [port('x', [2, 8, 10, 10])],
      [port('y', [2, 4, 10, 10])],
      [cw(8, 8, 3, 1), cw(4, 8, 1, 2), constant('scale', [1, 8, 1, 1], 3), constant('two', [], 4)],
      14,
    );
    const g = nn.loadOnnxSync(model);
    const feed = { x: randomTensor([2, 8, 10, 10], 14) };
    const want = on('reference', () => g.runSync(feed));
    const [got, layers] = on('xnnpack', () => [g.runSync(feed), g.layers()] as const);
    expectClose(got.y.data, want.y.data, 1e-4, 1e-5);
    // One region from the first conv to the last: the input (read by the conv and the Sub) transposed in once, and
    // the two constants (the scale, and the scalar read twice) with it.
    expect(notes(layers)).toEqual(['NHWC region on XNNPACK: 12 steps (0-11) as 12 operators (0 clamps folded), 3 transposes in, 1 out']);
    g.dispose();
  });

  test.each([
    ['asymmetric', 'floor', [1, 1, 2, 2]],
    ['half_pixel', 'round_prefer_floor', [1, 1, 2, 3]],
    ['pytorch_half_pixel', 'round_prefer_ceil', [1, 1, 0.5, 0.5]],
  ])('a nearest Resize (%s, %s, scales %j) stays in the region as the kernel maps its pixels', (coord, nearest, scales) => {
    const str = (name: string, v: string): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.STRING, s: Buffer.from(v) });
    const h = 12, w = 10;
    const oh = Math.floor(h * (scales as number[])[2]), ow = Math.floor(w * (scales as number[])[3]);
    const model = encode(
      [
        conv('x', 'w1', 'c1', 3),
        { opType: 'Relu', input: ['c1'], output: ['r'] },
        { opType: 'Resize', input: ['r', '', 'scales'], output: ['up'], attribute: [str('mode', 'nearest'), str('coordinate_transformation_mode', coord as string), str('nearest_mode', nearest as string)] },
        conv('up', 'w2', 'y', 1),
      ],
      [port('x', [1, 4, h, w])],
      [port('y', [1, 3, oh, ow])],
      [cw(6, 4, 3, 1), cw(3, 6, 1, 2), { name: 'scales', dims: [4], dataType: onnx.TensorProto.DataType.FLOAT, floatData: scales as number[] }],
    );
    const g = nn.loadOnnxSync(model);
    const feed = { x: randomTensor([1, 4, h, w], 15) };
    const want = on('reference', () => g.runSync(feed));
    const [got, layers] = on('xnnpack', () => [g.runSync(feed), g.layers()] as const);
    expect(got.y.shape).toEqual([1, 3, oh, ow]);
    expectClose(got.y.data, want.y.data, 1e-4, 1e-5);
    expect(new Set(notes(layers))).toEqual(new Set(['NHWC region on XNNPACK: 3 steps (0-2) as 2 operators (0 clamps folded), 1 transposes in, 1 out']));
    g.dispose();
  });

  test("a nearest Resize whose roi is an empty constant (as exporters write it) stays in the region", () => {
    const str = (name: string, v: string): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.STRING, s: Buffer.from(v) });
    const model = encode(
      [
        conv('x', 'w1', 'c1', 3),
        { opType: 'Relu', input: ['c1'], output: ['r'] },
        { opType: 'Resize', input: ['r', 'roi', 'scales'], output: ['up'], attribute: [str('mode', 'nearest'), str('coordinate_transformation_mode', 'asymmetric'), str('nearest_mode', 'floor')] },
        { opType: 'Add', input: ['up', 'x2'], output: ['s'] },
        conv('s', 'w2', 'y', 1),
      ],
      [port('x', [1, 4, 6, 5]), port('x2', [1, 6, 12, 10])],
      [port('y', [1, 3, 12, 10])],
      [
        cw(6, 4, 3, 1),
        cw(3, 6, 1, 2),
        { name: 'roi', dims: [0], dataType: onnx.TensorProto.DataType.FLOAT },
        { name: 'scales', dims: [4], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [1, 1, 2, 2] },
      ],
    );
    const r = regionNotes(model, { x: randomTensor([1, 4, 6, 5], 22), x2: randomTensor([1, 6, 12, 10], 23) });
    expect(r.notes).toEqual(new Set(['NHWC region on XNNPACK: 4 steps (0-3) as 3 operators (0 clamps folded), 2 transposes in, 1 out']));
  });

  test("a detector head's Transpose to NHWC, and the Reshape and Sigmoid after it, stay in the region: the NHWC buffer is copied out as it is", () => {
    const ints = (name: string, v: number[]): onnx.ITensorProto => ({ name, dims: [v.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: v });
    const perm = { name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 2, 3, 1] };
    const model = encode(
      [
        conv('x', 'w1', 'c1', 3),
        { opType: 'Relu', input: ['c1'], output: ['r1'] },
        conv('r1', 'w2', 'cls', 1),
        { opType: 'Transpose', input: ['cls'], output: ['tc'], attribute: [perm] },
        { opType: 'Reshape', input: ['tc', 'rows'], output: ['rc'] },
        { opType: 'Sigmoid', input: ['rc'], output: ['y'] },
        conv('r1', 'w3', 'box', 1),
        { opType: 'Transpose', input: ['box'], output: ['tb'], attribute: [perm] },
        { opType: 'Reshape', input: ['tb', 'rows4'], output: ['boxes'] },
      ],
      [port('x', [2, 4, 7, 6])],
      [port('y', [2, 42, 3]), port('boxes', [2, 42, 4])],
      [cw(8, 4, 3, 1), cw(3, 8, 1, 2), cw(4, 8, 1, 3), ints('rows', [2, -1, 3]), ints('rows4', [2, -1, 4])],
    );
    const feed = { x: randomTensor([2, 4, 7, 6], 24) };
    const g = nn.loadOnnxSync(model);
    const want = on('reference', () => g.runSync(feed));
    const [got, layers] = on('xnnpack', () => [g.runSync(feed), g.layers()] as const);
    expect(got.y.shape).toEqual([2, 42, 3]);
    expectClose(got.y.data, want.y.data, 1e-5, 1e-6);
    expectClose(got.boxes.data, want.boxes.data, 1e-4, 1e-5);
    expect(new Set(notes(layers))).toEqual(
      new Set(['NHWC region on XNNPACK: 6 steps (0-5) as 4 operators (0 clamps folded), 1 transposes in, 0 out, 2 copied out as they are (NHWC Transposes)']),
    );
    // NaN in the input: the region hands the run to the steps, which give the reference's NaNs.
    const bad = randomTensor([2, 4, 7, 6], 25);
    bad.data[17] = NaN;
    const wantBad = on('reference', () => g.runSync({ x: bad }));
    const gotBad = on('xnnpack', () => g.runSync({ x: bad }));
    expect(special(gotBad.boxes.data)).toEqual(special(wantBad.boxes.data));
    expect(special(gotBad.boxes.data).length).toBeGreaterThan(0);
    g.dispose();
    if (!/fp16: yes/.test(info?.config ?? '')) return;
    // In fp16: the copies out come from the staging buffer the exits are converted into.
    const h = nn.loadOnnxSync(model, { precision: 'fp16' });
    const [y16, l16] = on('xnnpack', () => [h.runSync(feed), h.layers()] as const);
    for (const name of ['y', 'boxes']) {
      const scale = Math.max(...Array.from(want[name].data, Math.abs));
      expect(Math.max(...Array.from(y16[name].data, (v, i) => Math.abs(v - want[name].data[i]))) / scale).toBeLessThan(1e-2);
    }
    expect(l16.some((l) => /^NHWC region on XNNPACK in fp16: 6 steps.*2 copied out as they are/.test(l.choice ?? ''))).toBe(true);
    h.dispose();
  });

  test('a value transposed to NHWC and then read as NCHW by a conv ends the region before that conv', () => {
    const model = encode(
      [
        conv('x', 'w1', 'c1', 3),
        { opType: 'Relu', input: ['c1'], output: ['r1'] },
        { opType: 'Transpose', input: ['r1'], output: ['t'], attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 2, 3, 1] }] },
        conv('t', 'w2', 'y', 1),
      ],
      [port('x', [1, 4, 6, 5])],
      [port('y', [1, 3, 5, 8])],
      [cw(8, 4, 3, 1), cw(3, 6, 1, 2)],
    );
    const r = regionNotes(model, { x: randomTensor([1, 4, 6, 5], 26) });
    // The conv (its ReLU fused) and the Transpose make the region; the conv reading the transposed value runs after it.
    expect(r.notes).toEqual(new Set(['NHWC region on XNNPACK: 2 steps (0-1) as 1 operators (0 clamps folded), 1 transposes in, 0 out, 1 copied out as they are (NHWC Transposes)']));
  });

  test('elementwise generic kernels (HardSigmoid, Exp, Gelu) run inside an fp32 region on its NHWC buffer; fp16 regions stop at them', () => {
    const flt = (name: string, f: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f });
    const model = encode(
      [
        conv('x', 'w1', 'c1', 3),
        { opType: 'HardSigmoid', input: ['c1'], output: ['h'], attribute: [flt('alpha', 0.3), flt('beta', 0.4)] },
        { opType: 'Mul', input: ['c1', 'h'], output: ['m'] },
        { opType: 'Exp', input: ['m'], output: ['e'] },
        { opType: 'Gelu', input: ['e'], output: ['g'] },
        conv('g', 'w2', 'y', 1),
      ],
      [port('x', [1, 4, 9, 9])],
      [port('y', [1, 3, 9, 9])],
      [cw(5, 4, 3, 1), cw(3, 5, 1, 2)],
      20,
    );
    const r = regionNotes(model, { x: randomTensor([1, 4, 9, 9], 16) });
    expect(r.notes).toEqual(new Set(['NHWC region on XNNPACK: 6 steps (0-5) as 3 operators (0 clamps folded), 1 transposes in, 1 out']));
    // In fp16 the generic kernels run outside: the convs alone make no region of two nodes with them.
    if (r.fp16) expect([...r.fp16].some((n) => /6 steps/.test(n))).toBe(false);
  });

  test('a ShuffleNet block (channel Split, channel shuffle through Reshape/Transpose/Reshape) stays in one region, fp32 and fp16', () => {
    const ints = (v: number[]): onnx.ITensorProto => ({ name: `s${v.join('_')}`, dims: [v.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: v });
    const model = encode(
      [
        conv('x', 'w1', 'c1', 3),
        { opType: 'Split', input: ['c1', 'split'], output: ['a', 'b'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
        conv('b', 'w2', 'b2', 3),
        { opType: 'Concat', input: ['a', 'b2'], output: ['cat'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
        { opType: 'Reshape', input: ['cat', 's1_2_4_9_7'], output: ['r5'] },
        { opType: 'Transpose', input: ['r5'], output: ['t5'], attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 2, 1, 3, 4] }] },
        { opType: 'Reshape', input: ['t5', 's1_8_9_7'], output: ['sh'] },
        conv('sh', 'w3', 'y', 1),
      ],
      [port('x', [1, 4, 9, 7])],
      [port('y', [1, 5, 9, 7])],
      [cw(8, 4, 3, 1), cw(4, 4, 3, 2), cw(5, 8, 1, 3), ints([4, 4]), ints([1, 2, 4, 9, 7]), ints([1, 8, 9, 7])].map((t, i) =>
        i === 3 ? { ...t, name: 'split' } : t,
      ),
    );
    const r = regionNotes(model, { x: randomTensor([1, 4, 9, 7], 21) });
    // Conv, the split's two outputs, conv, concat, the shuffle, conv: one region.
    expect(r.notes).toEqual(new Set(['NHWC region on XNNPACK: 7 steps (0-5) as 3 operators (0 clamps folded), 1 transposes in, 1 out']));
    if (r.fp16) expect([...r.fp16]).toEqual([expect.stringMatching(/^NHWC region on XNNPACK in fp16: 7 steps/)]);
  });

  test('a conv whose weights outgrow the cache over several row tiles of pixels runs as one operator per slice of outputs, with the same bits', () => {
    // 3x3, 256 -> 272 channels at 6x5 (too few tiles for Winograd): 2.5 MB of weights, 30 pixels (5 of XNNPACK's
    // 7-row tiles on x86). On x86-64 it is split into slices of 32 output channels (512 KB of weights or less).
    const model = encode(
      [conv('x', 'w1', 'c1', 1), { opType: 'Relu', input: ['c1'], output: ['r'] }, conv('r', 'w2', 'y', 3)],
      [port('x', [1, 8, 6, 5])],
      [port('y', [1, 272, 6, 5])],
      [cw(256, 8, 1, 1), cw(272, 256, 3, 2)],
    );
    const g = nn.loadOnnxSync(model);
    const feed = { x: randomTensor([1, 8, 6, 5], 42) };
    const want = on('reference', () => g.runSync(feed));
    const [got, layers] = on('xnnpack', () => [g.runSync(feed), g.layers()] as const);
    expectClose(got.y.data, want.y.data, 1e-4, 1e-5);
    // On AVX-512, neonn's GEMM (blocked for the caches: xnnpack_gemm_conv.cc); elsewhere on x86-64, 1 + 9 operators:
    // the 1x1 conv, and 272 outputs in slices of 32 (8 of 32, one of 16).
    const parts = avx512 ? "2 operators (0 clamps folded, 1 convs on neonn's GEMM)" : `${process.arch === 'x64' ? 10 : 2} operators (0 clamps folded)`;
    expect(notes(layers)).toEqual([`NHWC region on XNNPACK: 2 steps (0-1) as ${parts}, 1 transposes in, 1 out`]);
    // The slices are fixed by the weights, not the threads: the same bits at 1 and 2 threads.
    const threads = nn.getThreads();
    try {
      nn.setThreads(1);
      const one = on('xnnpack', () => g.runSync(feed));
      nn.setThreads(2);
      const two = on('xnnpack', () => g.runSync(feed));
      expect(Array.from(two.y.data)).toEqual(Array.from(one.y.data));
    } finally {
      nn.setThreads(threads);
    }
    g.dispose();
  });

  test('values read after a region (residual branches, several outputs) are written back', () => {
    // ResNet-50: adds of a block's input and its convs, projections; its output is read by Softmax after the region.
    const g = nn.loadOnnxSync(nn.zoo.onnx.resnet50({ seed: 1 }));
    const x = randomTensor([1, 3, 224, 224], 9);
    const feed = { [g.inputNames[0]]: x };
    const want = Object.values(on('openblas', () => g.runSync(feed)))[0];
    const [got, layers] = on('xnnpack', () => [Object.values(g.runSync(feed))[0], g.layers()] as const);
    expectClose(got.data, want.data, 1e-4, 1e-6);
    expect(layers.filter((l) => l.choice?.startsWith('NHWC region')).length).toBe(53);
    g.dispose();
  });

  /**
   * In a fresh process under auto at 1 thread (`env` added, the tuning cache in a new folder): a small conv net of
   * one region at `size` x `size`, run three times, then on the reference backend. Its outputs, its convs' layers()
   * and the cache file's text.
   */
  function freshAutoProbe(size: number, env: Record<string, string> = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-regions-'));
    const probe = `
      const nn = require('./dist');
      const m = new nn.Sequential([
        nn.layers.conv2d({ filters: 32, kernel: 3, pads: 1, activation: 'relu' }),
        nn.layers.conv2d({ filters: 32, kernel: 3, pads: 1, group: 32 }),
        nn.layers.relu(),
        nn.layers.conv2d({ filters: 16, kernel: 1 }),
        nn.layers.globalAvgPool(),
      ], { inputShape: [16, ${size}, ${size}], seed: 3 });
      const g = nn.loadOnnxSync(nn.saveOnnx(m, undefined, { batch: 1 }));
      const x = nn.tensor(Float32Array.from({ length: 16 * ${size} * ${size} }, (_, i) => Math.sin(i)), [1, 16, ${size}, ${size}]);
      const feed = { [g.inputNames[0]]: x };
      const runs = [0, 1, 2].map(() => Array.from(Object.values(g.runSync(feed))[0].data));
      const layers = g.layers().filter((l) => l.op.startsWith('Conv'));
      nn.setBackend('reference');
      const ref = Array.from(Object.values(g.runSync(feed))[0].data);
      console.log(JSON.stringify({ runs, ref, layers }));
    `;
    const r = spawnSync(process.execPath, ['-e', probe], {
      cwd: path.resolve(__dirname, '../..'),
      encoding: 'utf8',
      env: { ...process.env, NEONN_BACKEND: 'auto', NEONN_CACHE_DIR: dir, NEONN_THREADS: '1', ...env },
    });
    const saved = fs.existsSync(path.join(dir, 'auto-v2.tsv')) ? fs.readFileSync(path.join(dir, 'auto-v2.tsv'), 'utf8') : '';
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { runs: number[][]; ref: number[]; layers: nn.OnnxLayer[] };
    expect(out.runs[1]).toEqual(out.runs[0]);
    expect(out.runs[2]).toEqual(out.runs[0]);
    expectClose(out.runs[0], out.ref, 1e-4, 1e-5);
    expect(out.layers).toHaveLength(3);
    return { layers: out.layers, saved };
  }

  test('auto measures each region against its layers in a fresh process: the first run gives the bits of every later run', () => {
    const { layers } = freshAutoProbe(48);
    // Every conv says how the region was decided: run as a region, or layer by layer because that was faster.
    for (const l of layers) {
      expect(l.choice).toMatch(/measured: NHWC region [\d.]+ ms, layer by layer (> )?[\d.]+ ms \((region|layer by layer)\); NHWC region on XNNPACK/);
      if (/\(region\)/.test(l.choice!)) expect(l.backend).toBe('xnnpack');
    }
  });

  test("auto times the region first: once its layers' measured times add up past it, the rest are never measured", () => {
    // The test clock gives every layer measurement 5 ms on every path; the region really runs (well under 5 ms at
    // this size). So the first conv alone has lost to the region: the other two convs are not measured at all.
    const { layers, saved } = freshAutoProbe(24, { NEONN_TEST_AUTO_CLOCK: '*=5000' });
    for (const l of layers) {
      expect(l.backend).toBe('xnnpack');
      expect(l.choice).toMatch(/measured: NHWC region [\d.]+ ms, layer by layer > 5\.000 ms \(region\); NHWC region on XNNPACK/);
    }
    // The first conv says how it was measured alone; the others were not.
    expect(layers.map((l) => /^measured: openblas\/im2col 5\.000 ms/.test(l.choice!))).toEqual([true, false, false]);
    // Only the first conv was measured on its own (and saved): one layer line in the cache file.
    expect(saved.split('\n').filter((l) => l.includes('|plan|') && l.split('\t')[0].endsWith(';'))).toHaveLength(1);
  });
});
