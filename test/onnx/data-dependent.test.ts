/** @jest-environment ./test/onnx-export/ort-environment.js */
// Ops whose output shape depends on the data (NonMaxSuppression, NonZero) in
// a model: the graph runs as segments (programs before, the op, programs after,
// planned for the shape the data gave), against onnxruntime-node on the same
// bytes: a detector tail with NMS then Gather/Concat, the case where nothing
// is selected (empty tensors downstream), sync and async, and bad inputs.
import * as ort from 'onnxruntime-node';
import * as nn from '../../lib';
import { DT, Node, encode, int, intInit, port } from './builders';
import { onnx } from '../../lib/onnx/proto';

const N = 300;

function lcg(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

/** Boxes [1, N, 4] as (y1, x1, y2, x2), some with flipped corners, on a small canvas so that many overlap. */
function boxes(seed: number): nn.Tensor {
  const r = lcg(N * 4, seed);
  const d = new Float32Array(N * 4);
  for (let i = 0; i < N; i++) {
    const y = r[i * 4] * 10, x = r[i * 4 + 1] * 10, h = 1 + r[i * 4 + 2] * 3, w = 1 + r[i * 4 + 3] * 3;
    const flip = i % 7 === 0;
    d.set(flip ? [y + h, x + w, y, x] : [y, x, y + h, x + w], i * 4);
  }
  return new nn.Tensor(d, [1, N, 4]);
}

/** logits [1, 3, N] → Sigmoid → NMS → the selected boxes with class and score, [K, 6], and the indices [K, 3]. */
function detectorTail(scoreThreshold: number, opset = 13): Uint8Array {
  const nodes: Node[] = [
    { opType: 'Sigmoid', input: ['logits'], output: ['scores'] },
    { opType: 'Mul', input: ['boxes', 'two'], output: ['boxes2'] },
    { opType: 'NonMaxSuppression', input: ['boxes2', 'scores', 'max', 'iou', 'score_th'], output: ['sel'], name: 'nms' },
    { opType: 'Gather', input: ['sel', 'c2'], output: ['box_idx'], attribute: [int('axis', 1)] },
    { opType: 'Gather', input: ['sel', 'c1'], output: ['cls'], attribute: [int('axis', 1)] },
    { opType: 'Squeeze', input: ['boxes2', 'ax0'], output: ['flat_boxes'] },
    { opType: 'Gather', input: ['flat_boxes', 'box_idx'], output: ['picked'], attribute: [int('axis', 0)] },
    { opType: 'GatherND', input: ['scores', 'sel'], output: ['picked_scores'] },
    { opType: 'Cast', input: ['cls'], output: ['cls_f'], attribute: [int('to', DT.FLOAT)] },
    { opType: 'Unsqueeze', input: ['cls_f', 'ax1'], output: ['cls_col'] },
    { opType: 'Unsqueeze', input: ['picked_scores', 'ax1'], output: ['score_col'] },
    { opType: 'Concat', input: ['picked', 'cls_col', 'score_col'], output: ['det'], attribute: [int('axis', 1)] },
  ];
  const bytes = encode({
    nodes,
    inputs: [port('boxes', [1, N, 4]), port('logits', [1, 3, N])],
    outputs: ['det', 'sel'],
    inits: [
      { name: 'two', dims: [], dataType: DT.FLOAT, floatData: [2] },
      intInit('max', [20], [1]),
      { name: 'iou', dims: [1], dataType: DT.FLOAT, floatData: [0.4] },
      { name: 'score_th', dims: [1], dataType: DT.FLOAT, floatData: [scoreThreshold] },
      intInit('c2', [2], []),
      intInit('c1', [1], []),
      intInit('ax0', [0]),
      intInit('ax1', [1]),
    ],
    opset,
  });
  return int64Outputs(bytes, ['sel']);
}

/** The model with the named outputs declared as int64 (encode() declares float ones). */
function int64Outputs(bytes: Uint8Array, names: string[]): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  for (const o of model.graph!.output!) if (names.includes(o.name!)) o.type = { tensorType: { elemType: DT.INT64 } };
  return onnx.ModelProto.encode(model).finish();
}

interface Out {
  dims: readonly number[];
  data: ArrayLike<number | bigint>;
}

async function ortRun(bytes: Uint8Array, feeds: Record<string, nn.Tensor>): Promise<Record<string, Out>> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', v.data, [...v.shape]);
  const r = await s.run(f);
  const out: Record<string, Out> = {};
  for (const k of s.outputNames) out[k] = { dims: [...r[k].dims], data: r[k].data as ArrayLike<number | bigint> };
  await s.release();
  return out;
}

function expectSame(ours: Record<string, nn.Tensor>, theirs: Record<string, Out>): void {
  for (const k of Object.keys(theirs)) {
    expect([...ours[k].shape]).toEqual(theirs[k].dims);
    const a = Array.from(ours[k].data as ArrayLike<number | bigint>, Number), b = Array.from(theirs[k].data, Number);
    // Indices exactly; floats to an ulp or two (Sigmoid is computed by other code in each runtime).
    if (theirs[k].data instanceof BigInt64Array) expect(a).toEqual(b);
    else a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(b[i]))));
    expect(a.length).toBe(b.length);
  }
}

const feeds = (seed: number): Record<string, nn.Tensor> => ({
  boxes: boxes(seed),
  logits: new nn.Tensor(lcg(3 * N, seed + 1).map((v) => (v - 0.5) * 8), [1, 3, N]),
});

describe('NonMaxSuppression inside a model', () => {
  test.each([0.5, 0.9, 0.999])('score_threshold %f: the same selection and detections as onnxruntime, sync and async', async (th) => {
    const bytes = detectorTail(th);
    const m = await nn.loadOnnx(bytes);
    for (const seed of [1, 2, 3]) {
      const x = feeds(seed);
      const theirs = await ortRun(bytes, x);
      expectSame(m.runSync(x), theirs);
      expectSame(await m.run(x), theirs);
    }
    m.dispose();
  });

  test('nothing above the threshold: empty outputs of the right shapes, as onnxruntime gives', async () => {
    const bytes = detectorTail(0.99999);
    const x = feeds(4);
    const theirs = await ortRun(bytes, x);
    expect(theirs.det.dims).toEqual([0, 6]);
    const m = nn.loadOnnxSync(bytes);
    const ours = m.runSync(x);
    expectSame(ours, theirs);
    expect(ours.sel).toBeInstanceOf(nn.TypedTensor);
    expect(ours.sel.dtype).toBe('int64');
    // And a run that selects something after it still works.
    const many = nn.loadOnnxSync(detectorTail(0.5));
    expect(many.runSync(x).det.shape[0]).toBeGreaterThan(0);
    m.dispose();
    many.dispose();
  });

  test('runs of different selection sizes each get their program; layers() names the op and where it ran', async () => {
    const m = await nn.loadOnnx(detectorTail(0.97));
    const counts = new Set<number>();
    for (const seed of [5, 6, 7, 8]) counts.add((await m.run(feeds(seed))).det.shape[0]);
    expect(counts.size).toBeGreaterThan(1);
    const layers = m.layers();
    const nms = layers.find((l) => l.op === 'NonMaxSuppression');
    expect(nms).toBeDefined();
    expect(nms!.name).toContain('"nms"');
    expect(nms!.backend).toBe('js');
    // The steps before and after it are planned programs.
    expect(layers.some((l) => l.op === 'Sigmoid')).toBe(true);
    expect(layers.some((l) => l.op === 'Concat')).toBe(true);
    expect(m.memoryBytes()).toBeGreaterThan(0);
    m.dispose();
    expect(() => m.runSync(feeds(1))).toThrow(/disposed/);
  });

  test('center_point_box and opset 11 forms, against onnxruntime', async () => {
    const model = onnx.ModelProto.decode(detectorTail(0.3, 11));
    model.graph!.node!.find((n) => n.opType === 'NonMaxSuppression')!.attribute = [int('center_point_box', 1)];
    // Opset 11 Squeeze/Unsqueeze take axes as attributes.
    for (const n of model.graph!.node!) {
      if (n.opType === 'Squeeze' || n.opType === 'Unsqueeze') {
        n.attribute = [{ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [n.opType === 'Squeeze' ? 0 : 1] }];
        n.input = [n.input![0]];
      }
    }
    const bytes = onnx.ModelProto.encode(model).finish();
    const m = nn.loadOnnxSync(bytes);
    const x = feeds(9);
    expectSame(m.runSync(x), await ortRun(bytes, x));
    m.dispose();
  });

  test('bad inputs are RangeErrors naming the node, not crashes', () => {
    const mk = (iou: number, scoresShape: number[]): Uint8Array =>
      encode({
        nodes: [{ opType: 'NonMaxSuppression', input: ['b', 's', 'max', 'iou'], output: ['sel'], name: 'nms' }],
        inputs: [port('b', [1, 4, 4]), port('s', scoresShape)],
        outputs: ['sel'],
        inits: [intInit('max', [3], [1]), { name: 'iou', dims: [1], dataType: DT.FLOAT, floatData: [iou] }],
        opset: 11,
      });
    const b = new nn.Tensor(new Float32Array(16).fill(1), [1, 4, 4]);
    expect(() => nn.loadOnnxSync(mk(1.5, [1, 1, 4])).runSync({ b, s: new nn.Tensor(new Float32Array(4), [1, 1, 4]) })).toThrow(/NonMaxSuppression node #0 "nms": iou_threshold must be in \[0, 1\]/);
    const wrong = nn.loadOnnxSync(mk(0.5, [1, 1, 5]));
    expect(() => wrong.runSync({ b, s: new nn.Tensor(new Float32Array(5), [1, 1, 5]) })).toThrow(RangeError);
    // Feeds are checked as in every model: the declared shapes, before anything runs.
    expect(() => wrong.runSync({ b: new nn.Tensor(new Float32Array(8), [1, 2, 4]), s: new nn.Tensor(new Float32Array(5), [1, 1, 5]) })).toThrow(/must have shape \[1,4,4\]/);
    expect(() => wrong.runSync({ b } as never)).toThrow(TypeError);
  });
});

describe('NonZero inside a model', () => {
  const bytes = int64Outputs(encode({
    nodes: [
      { opType: 'Greater', input: ['x', 'th'], output: ['mask'] },
      { opType: 'NonZero', input: ['mask'], output: ['nz'] },
      { opType: 'Transpose', input: ['nz'], output: ['coords'], attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 0] }] },
      { opType: 'Shape', input: ['coords'], output: ['count'] },
    ],
    inputs: [port('x', [6, 7])],
    outputs: ['coords', 'count'],
    inits: [{ name: 'th', dims: [], dataType: DT.FLOAT, floatData: [0.7] }],
  }), ['coords', 'count']);

  test.each([
    ['some above', 1],
    ['none above', -1],
  ])('%s: the same coordinates as onnxruntime', async (_, sign) => {
    const x = new nn.Tensor(lcg(42, 3).map((v) => v * sign), [6, 7]);
    const m = await nn.loadOnnx(bytes);
    const theirs = await ortRun(bytes, { x });
    expectSame(m.runSync({ x }), theirs);
    expectSame(await m.run({ x }), theirs);
    m.dispose();
  });

  test('an op with no rule for empty tensors says so, naming the node', async () => {
    const reduce = encode({
      nodes: [
        { opType: 'NonZero', input: ['x'], output: ['nz'] },
        { opType: 'Cast', input: ['nz'], output: ['f'], attribute: [int('to', DT.FLOAT)] },
        { opType: 'Softmax', input: ['f'], output: ['s0'], attribute: [int('axis', 0)] },
        { opType: 'LpNormalization', input: ['s0'], output: ['y'] },
      ],
      inputs: [port('x', [3])],
      outputs: ['y'],
    });
    // LpNormalization is not an op neonn runs at all: the load says so first.
    expect(() => nn.loadOnnxSync(reduce)).toThrow(/unsupported ONNX op/);
    const topk = encode({
      nodes: [
        { opType: 'NonZero', input: ['x'], output: ['nz'] },
        { opType: 'Cast', input: ['nz'], output: ['f'], attribute: [int('to', DT.FLOAT)] },
        { opType: 'ReduceMax', input: ['f'], output: ['y'], attribute: [int('keepdims', 0)] },
      ],
      inputs: [port('x', [3])],
      outputs: ['y'],
    });
    const m = nn.loadOnnxSync(topk);
    expect(Number(m.runSync({ x: new nn.Tensor(new Float32Array([0, 2, 0]), [3]) }).y.data[0])).toBe(1);
    expect(() => m.runSync({ x: new nn.Tensor(new Float32Array([0, 0, 0]), [3]) })).toThrow(/ReduceMax node #2: ReduceMax of an empty tensor/);
    m.dispose();
  });
});

test('a NonMaxSuppression of constants is folded at load', () => {
  const m = nn.loadOnnxSync(
    encode({
      nodes: [
        { opType: 'NonMaxSuppression', input: ['b', 's', 'max'], output: ['sel'] },
        { opType: 'Cast', input: ['sel'], output: ['f'], attribute: [int('to', DT.FLOAT)] },
        { opType: 'Mul', input: ['f', 'x'], output: ['y'] },
      ],
      inputs: [port('x', [1])],
      outputs: ['y'],
      inits: [
        { name: 'b', dims: [1, 2, 4], dataType: DT.FLOAT, floatData: [0, 0, 1, 1, 5, 5, 6, 6] },
        { name: 's', dims: [1, 1, 2], dataType: DT.FLOAT, floatData: [0.5, 0.9] },
        intInit('max', [5], [1]),
      ],
      opset: 11,
    }),
  );
  expect(m.layers().some((l) => l.op === 'NonMaxSuppression')).toBe(false);
  expect([...m.runSync({ x: new nn.Tensor(new Float32Array([2]), [1]) }).y.data]).toEqual([0, 0, 2, 0, 0, 0]);
  m.dispose();
});

