// The classic architectures of ../shared/onnx-conformance/models/ (AlexNet,
// VGG19, SqueezeNet, GoogLeNet, ResNet50: constant weights made by
// ConstantOfShape, expected output beside each) through nn.loadOnnx on every
// backend, the plain-loop reference backend included (VGG19 takes ~20 s per
// pass there, hence the long per-test timeouts). The input shape comes from
// the graph.
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import * as nn from '../../lib';
import { decodeTensor, tensorFromProto } from '../../lib/onnx/proto';
import { availableBackends, expectClose, randomTensor, reportUnavailable } from '../helpers';

const DIR = path.resolve(__dirname, '../../../shared/onnx-conformance/models');
const MODELS = ['squeezenet', 'bvlc_alexnet', 'inception_v1', 'resnet50', 'vgg19'];
/** Models whose expected output is a softmax over exactly tied, large logits (see the test). */
const TIE_SENSITIVE = new Set(['squeezenet']);

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
    if (TIE_SENSITIVE.has(name)) {
      // Its constant weights make all 1000 logits equal, and they are large:
      // the expected softmax is the uniform 0.001, but a one-ulp difference
      // between two channels' float32 sums (any GEMM kernel's tiling gives
      // one) moves the softmax by orders of magnitude. So the logits are
      // checked instead: equal to each other, and to the reference backend's.
      expect(want.data.every((v) => Math.abs(v - 0.001) < 1e-9)).toBe(true);
      const got = logitsOf(backend);
      const mean = got.reduce((a, b) => a + b, 0) / got.length;
      expect(Number.isFinite(mean)).toBe(true);
      expectClose(got, new Float32Array(got.length).fill(mean), 1e-5, 0);
      expectClose(got, logitsOf('reference'), 1e-4, 0);
    } else {
      expectClose(sync.data, want.data, 1e-4, 1e-6);
    }
    const async = (await model.run(feeds))[model.outputNames[0]];
    expect([...async.data]).toEqual([...sync.data]);
  }, 300_000);

  // The model cut before its final Softmax, run on `backend`.
  const logits = new Map<string, Float32Array>();
  function logitsOf(backend: string): Float32Array {
    const have = logits.get(backend);
    if (have) return have;
    const m = onnx.ModelProto.decode(readFileSync(path.join(DIR, `${name}.onnx`)));
    const g = m.graph!;
    const last = g.node![g.node!.length - 1];
    expect(last.opType).toBe('Softmax');
    g.node!.pop();
    g.output![0].name = last.input![0];
    const previous = nn.getBackend();
    nn.setBackend(backend);
    const cut = nn.loadOnnxSync(onnx.ModelProto.encode(m).finish());
    try {
      const y = Object.values(cut.runSync({ [cut.inputNames[0]]: x }))[0].data;
      logits.set(backend, y);
      return y;
    } finally {
      cut.dispose();
      nn.setBackend(previous);
    }
  }

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
