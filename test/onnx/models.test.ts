// The classic architectures of ../shared/onnx-conformance/models/ (AlexNet,
// VGG19, SqueezeNet, GoogLeNet, ResNet50: constant weights made by
// ConstantOfShape, expected output beside each) through nn.loadOnnx on every
// backend, the plain-loop reference backend included (VGG19 takes ~20 s per
// pass there, hence the long per-test timeouts). The input shape comes from
// the graph.
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import * as nn from '../../lib';
import { decodeTensor, tensorFromProto } from '../../lib/onnx/proto';
import { availableBackends, expectClose, randomTensor, reportUnavailable } from '../helpers';

const DIR = path.resolve(__dirname, '../../../shared/onnx-conformance/models');
const MODELS = ['squeezenet', 'bvlc_alexnet', 'inception_v1', 'resnet50', 'vgg19'];

const present = MODELS.filter((m) => existsSync(path.join(DIR, `${m}.onnx`)));
const backends = availableBackends();
reportUnavailable('ONNX models');

if (present.length === 0) {
  test('ONNX model data is present', () => {
    throw new Error(`no models under ${DIR}: the checkout needs ../shared/onnx-conformance beside it`);
  });
}


describe.each(present)('%s through loadOnnx', (name) => {
  let model: nn.OnnxModel;
  let want: nn.Tensor;
  let x: nn.Tensor;
  beforeAll(async () => {
    model = await nn.loadOnnx(path.join(DIR, `${name}.onnx`));
    want = tensorFromProto(decodeTensor(readFileSync(path.join(DIR, `${name}_output_0.pb`))));
    x = randomTensor([...model.inputShapes[0]], 7);
  });
  afterAll(() => {
    model.dispose();
    nn.setBackend(backends[0]);
  });

  test('input and output shapes come from the graph', () => {
    expect(model.inputNames).toHaveLength(1);
    expect(model.outputNames).toHaveLength(1);
    expect([...model.inputShapes[0]]).toEqual([1, 3, 224, 224]);
    expect([...model.outputShapes[0]]).toEqual([...want.shape]);
  });

  test.each(backends)('matches the expected output on %s, run and runSync alike', async (backend) => {
    nn.setBackend(backend);
    const feeds = { [model.inputNames[0]]: x };
    const sync = model.runSync(feeds)[model.outputNames[0]];
    expect([...sync.shape]).toEqual([...want.shape]);
    expectClose(sync.data, want.data, 1e-4, 1e-6);
    const async = (await model.run(feeds))[model.outputNames[0]];
    expect([...async.data]).toEqual([...sync.data]);
  }, 300_000);

  test('layers() lists every step with its op and backend', () => {
    nn.setBackend(backends.includes('openblas') ? 'openblas' : backends[0]);
    const layers = model.layers();
    expect(layers.length).toBeGreaterThan(0);
    for (const l of layers) {
      expect(l.kernels.length).toBeGreaterThan(0);
      expect(backends).toContain(l.backend.split('+')[0]);
    }
    // Batch norms all folded into their convs; conv → relu fused.
    expect(layers.some((l) => l.op === 'BatchNormalization')).toBe(false);
    expect(layers.some((l) => /^Conv(\+BatchNormalization)?\+Relu$/.test(l.op))).toBe(true);
    expect(layers.some((l) => l.op === 'Dropout')).toBe(false);
    if (nn.getBackend() === 'openblas') expect(layers.find((l) => l.op.startsWith('Conv'))!.backend).toBe('openblas');
  });
});
