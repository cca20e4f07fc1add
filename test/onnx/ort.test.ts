// The shared classic nets with their constant weights (which hide many bugs:
// every channel alike) replaced by seeded random ones, run by neonn on every
// backend and by onnxruntime-node, outputs compared at relative tolerance
// 1e-3. Each ConstantOfShape weight becomes a Constant of random values scaled
// by its role (conv/FC weights variance-preserving, biases small, batch-norm
// scale and variance near 1) so activations stay finite through 50 layers.
// The reference backend runs the three light nets (ResNet50 and VGG19 take
// ~8 s and ~23 s there) and says so. onnxruntime-node runs in a child process:
// inside jest's sandbox its native tensors fail its own instanceof checks.
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as nn from '../../lib';
import { onnx, toInt } from '../../lib/onnx/proto';
import { availableBackends, expectClose, randomData, reportUnavailable } from '../helpers';

const ROOT = path.resolve(__dirname, '../..');
const hasOrt = spawnSync(process.execPath, ['-e', "require('onnxruntime-node')"], { cwd: ROOT }).status === 0;

/** onnxruntime-node's output 0 for `model` on input `x`, computed in a child process. */
function ortRun(model: Uint8Array, x: nn.Tensor): Float32Array {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'neonn-ort-'));
  try {
    writeFileSync(path.join(dir, 'model.onnx'), model);
    writeFileSync(path.join(dir, 'x.bin'), x.data);
    const script = `
      const ort = require('onnxruntime-node');
      const fs = require('fs');
      const dir = ${JSON.stringify(dir)};
      (async () => {
        const s = await ort.InferenceSession.create(dir + '/model.onnx');
        const b = fs.readFileSync(dir + '/x.bin');
        const x = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
        const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, ${JSON.stringify(x.shape)}) });
        const y = r[s.outputNames[0]].data;
        fs.writeFileSync(dir + '/y.bin', Buffer.from(y.buffer, y.byteOffset, y.byteLength));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`onnxruntime-node failed: ${r.stderr}`);
    const y = readFileSync(path.join(dir, 'y.bin'));
    return new Float32Array(y.buffer.slice(y.byteOffset, y.byteOffset + y.byteLength));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const DIR = path.resolve(__dirname, '../../../shared/onnx-conformance/models');
const MODELS = ['squeezenet', 'bvlc_alexnet', 'inception_v1', 'resnet50', 'vgg19'].filter((m) => existsSync(path.join(DIR, `${m}.onnx`)));
const backends = availableBackends();
reportUnavailable('ONNX vs onnxruntime-node');

/** Scale and offset of a weight by the (op, input index) that reads it. */
function roleOf(op: string, index: number, shape: number[]): { scale: number; offset: number; abs?: boolean } {
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  if ((op === 'Conv' || op === 'Gemm') && index === 1) return { scale: Math.sqrt(3 / fanIn) * (op === 'Conv' ? Math.SQRT2 : 1), offset: 0 };
  // Scale 0.5 ± 0.05: ResNet's 16 residual sums would otherwise grow the logits until softmax is one-hot.
  if (op === 'BatchNormalization' && index === 1) return { scale: 0.05, offset: 0.5 };
  if (op === 'BatchNormalization' && index === 4) return { scale: 0.5, offset: 0.75, abs: true };
  return { scale: 0.05, offset: 0 };
}

/** The model with every ConstantOfShape replaced by a Constant of seeded random values. */
function randomized(bytes: Uint8Array, seed: number): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph!;
  const ints = new Map((g.initializer ?? []).map((t) => [t.name ?? '', t]));
  let k = seed;
  g.node = (g.node ?? []).map((node) => {
    if (node.opType !== 'ConstantOfShape') return node;
    const shapeT = ints.get(node.input![0])!;
    const raw = shapeT.rawData && shapeT.rawData.length > 0 ? shapeT.rawData : undefined;
    const shape = raw
      ? Array.from({ length: raw.length / 8 }, (_, i) => Number(new DataView(raw.buffer, raw.byteOffset, raw.length).getBigInt64(i * 8, true)))
      : (shapeT.int64Data ?? []).map((v) => toInt(v));
    const reader = (g.node ?? []).find((n) => (n.input ?? []).includes(node.output![0]))!;
    const role = roleOf(reader.opType ?? '', reader.input!.indexOf(node.output![0]), shape);
    const data = randomData(shape.reduce((a, b) => a * b, 1), k++);
    for (let i = 0; i < data.length; i++) data[i] = role.offset + role.scale * (role.abs ? Math.abs(data[i]) : data[i]);
    return onnx.NodeProto.create({
      opType: 'Constant',
      name: node.name,
      input: [],
      output: node.output,
      attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims: shape, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer) } }],
    });
  });
  return onnx.ModelProto.encode(model).finish();
}

if (!hasOrt) {
  test.skip('onnxruntime-node is not installed', () => undefined);
  // eslint-disable-next-line no-console
  console.warn('SKIPPED ONNX vs onnxruntime-node: onnxruntime-node is not installed');
} else {
  describe.each(MODELS)('%s with random weights: neonn vs onnxruntime-node', (name) => {
    let model: nn.OnnxModel;
    let x: nn.Tensor;
    let want: Float32Array;
    beforeAll(async () => {
      const bytes = randomized(readFileSync(path.join(DIR, `${name}.onnx`)), 101);
      model = await nn.loadOnnx(bytes);
      x = nn.tensor(randomData(3 * 224 * 224, 5), [...model.inputShapes[0]]);
      want = ortRun(bytes, x);
    }, 60000);
    afterAll(() => {
      model?.dispose();
      nn.setBackend(backends[0]);
    });

    test('the outputs are not degenerate (not uniform, not one-hot)', () => {
      const max = Math.max(...want);
      const min = Math.min(...want);
      expect(max).toBeLessThan(0.99);
      expect(max).toBeGreaterThan(2 * min);
    });

    test.each(backends)('on %s, rtol 1e-3', (backend) => {
      nn.setBackend(backend);
      const got = model.runSync({ [model.inputNames[0]]: x })[model.outputNames[0]];
      expectClose(got.data, want, 1e-3, 1e-7);
    }, 300_000); // VGG19 on the plain-loop reference backend takes ~20 s
  });
}
