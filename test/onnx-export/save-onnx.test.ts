/** @jest-environment ./test/onnx-export/ort-environment.js */
// saveOnnx: Sequential models written as ONNX run in onnxruntime-node and give
// what model.predictSync gives; the file is a well-formed opset-13 model.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';

import * as nn from '../../lib';
import { availableBackends, expectClose, randomTensor, reportUnavailable } from '../helpers';

/** LeNet-5 as LeCun drew it: tanh units and average-pool subsampling. */
function lenet5(): nn.Sequential {
  return new nn.Sequential(
    [
      nn.layers.conv2d({ filters: 6, kernel: 5, pads: 2 }),
      nn.layers.tanh(),
      nn.layers.avgPool2d({ kernel: 2, strides: 2 }),
      nn.layers.conv2d({ filters: 16, kernel: 5, activation: 'relu' }),
      nn.layers.maxPool2d({ kernel: 2, strides: 2 }),
      nn.layers.flatten(),
      nn.layers.dense({ units: 120 }),
      nn.layers.tanh(),
      nn.layers.dense({ units: 84, activation: 'relu' }),
      nn.layers.dense({ units: 10 }),
      nn.layers.softmax(),
    ],
    { inputShape: [1, 28, 28], seed: 3 },
  );
}

/** Every layer type, with asymmetric pads, ceil mode, groups, dilations and a dense straight after a 4-D tensor. */
function everyLayer(): nn.Sequential {
  return new nn.Sequential(
    [
      nn.layers.conv2d({ filters: 8, kernel: 3, pads: 1 }),
      nn.layers.batchNorm(),
      nn.layers.relu(),
      nn.layers.conv2d({ filters: 8, kernel: [3, 2], pads: [1, 0, 2, 1], strides: [1, 2], group: 2, useBias: false }),
      nn.layers.leakyRelu({ alpha: 0.2 }),
      nn.layers.lrn({ size: 3, alpha: 2e-4, beta: 0.7, bias: 1.5 }),
      nn.layers.maxPool2d({ kernel: 3, strides: 2, pads: [0, 0, 1, 1], ceil: true }),
      nn.layers.conv2d({ filters: 12, kernel: 3, pads: 2, dilations: 2, activation: 'relu' }),
      nn.layers.batchNorm({ epsilon: 1e-3 }),
      nn.layers.avgPool2d({ kernel: 3, strides: 1, pads: 1, countIncludePad: true }),
      nn.layers.tanh(),
      nn.layers.avgPool2d({ kernel: 2, strides: 2, ceil: true }),
      nn.layers.sigmoid(),
      nn.layers.dropout({ rate: 0.3 }),
      nn.layers.dense({ units: 16, activation: 'relu' }),
      nn.layers.dense({ units: 10, useBias: false }),
      nn.layers.softmax({ axis: 1 }),
    ],
    { inputShape: [3, 16, 15], seed: 9 },
  );
}

function gapNet(): nn.Sequential {
  return new nn.Sequential(
    [nn.layers.conv2d({ filters: 6, kernel: 1 }), nn.layers.globalAvgPool(), nn.layers.flatten(), nn.layers.dense({ units: 4 })],
    { inputShape: [3, 5, 5], seed: 2 },
  );
}

async function runOrt(bytes: Uint8Array, x: nn.Tensor): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(bytes);
  expect(session.inputNames).toEqual(['input']);
  expect(session.outputNames).toEqual(['output']);
  const out = await session.run({ input: new ort.Tensor('float32', x.data, [...x.shape]) });
  await session.release();
  return out.output;
}

const MODELS = [
  ['LeNet-5', [2, 1, 28, 28], lenet5],
  ['every layer type', [3, 3, 16, 15], everyLayer],
  ['conv + globalAvgPool + dense', [2, 3, 5, 5], gapNet],
] as const;

const backends = availableBackends();
reportUnavailable('saveOnnx');
afterAll(() => nn.setBackend(backends[0]));

describe.each(backends)('predictSync on %s', (backend) => {
  beforeAll(() => nn.setBackend(backend));

  test.each(MODELS)('%s: onnxruntime-node on the saved bytes gives the same output, x=%j', async (_name, xShape, make) => {
    const model = make();
    const x = randomTensor([...xShape], 21);
    const want = model.predictSync(x);
    expect(Math.max(...want.data) - Math.min(...want.data)).toBeGreaterThan(1e-3); // not a degenerate output
    const got = await runOrt(nn.saveOnnx(model), x);
    expect(got.dims).toEqual(want.shape);
    expectClose(got.data as Float32Array, want.data, 1e-4, 1e-5);
    model.dispose();
  });
});

describe('the saved file', () => {
  test('is opset 13, IR 7, producer neonn, with a dynamic batch by default', () => {
    const m = onnx.ModelProto.decode(nn.saveOnnx(lenet5()));
    expect(Number(m.irVersion)).toBe(7);
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]]);
    expect(m.producerName).toBe('neonn');
    const g = m.graph as onnx.GraphProto;
    const dims = (g.input[0].type as onnx.TypeProto).tensorType?.shape?.dim ?? [];
    expect(dims.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['N', 1, 28, 28]);
    expect(g.node.map((n) => n.opType)).toEqual(['Conv', 'Tanh', 'AveragePool', 'Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Tanh', 'Gemm', 'Relu', 'Gemm', 'Softmax', 'Identity']);
    const params = g.initializer.reduce((s, t) => s + (t.dims ?? []).reduce((a: number, b) => a * Number(b), 1), 0);
    expect(params).toBe(lenet5().layers.reduce((s, l) => s + Object.values(l.weights).reduce((a, w) => a + w.size, 0), 0));
  });

  test('a fixed batch, and a path writes the same bytes to disk', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-onnx-')), 'lenet.onnx');
    const bytes = nn.saveOnnx(lenet5(), file, { batch: 2 });
    expect(Buffer.compare(fs.readFileSync(file), Buffer.from(bytes))).toBe(0);
    const session = await ort.InferenceSession.create(file);
    const out = await session.run({ input: new ort.Tensor('float32', randomTensor([2, 1, 28, 28], 1).data, [2, 1, 28, 28]) });
    expect(out.output.dims).toEqual([2, 10]);
    await session.release();
    fs.rmSync(path.dirname(file), { recursive: true });
  });

  test('bad arguments are TypeError/RangeError', () => {
    expect(() => nn.saveOnnx({} as never)).toThrow(TypeError);
    expect(() => nn.saveOnnx({} as never)).toThrow(/saveOnnx: expected "model" to be a Sequential model, received Object/);
    expect(() => nn.saveOnnx(gapNet(), 3 as never)).toThrow(/saveOnnx: expected "path" to be a string, received number 3/);
    expect(() => nn.saveOnnx(gapNet(), undefined, { bach: 1 } as never)).toThrow(/saveOnnx: unknown option "bach"/);
    expect(() => nn.saveOnnx(gapNet(), undefined, { batch: '1' } as never)).toThrow(/saveOnnx: expected "batch" to be a number, received string "1"/);
    expect(() => nn.saveOnnx(gapNet(), undefined, { batch: 0 })).toThrow(RangeError);
    expect(() => nn.saveOnnx(gapNet(), undefined, { batch: 1.5 })).toThrow(/saveOnnx: "batch" must be a positive integer, got 1.5/);
  });
});
