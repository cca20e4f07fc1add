// The elementwise, normalization and layout ops against the ONNX project's
// own operator tests (../shared/onnx-conformance/node, PyTorch-exported,
// opset 6): a tiny interpreter maps each node onto nn.* the way an importer
// would (opset-6 Softmax coerces to 2-D, legacy Add broadcast aligns at
// `axis`, PRelu's [C] slope is per channel) and compares with output_0.pb.
import * as fs from 'fs';
import * as path from 'path';
import { onnx } from 'onnx-proto';

import * as nn from '../../lib';
import { availableBackends, expectClose } from '../helpers';

const dir = path.resolve(__dirname, '..', '..', '..', 'shared', 'onnx-conformance', 'node');
const backends = availableBackends();
afterAll(() => nn.setBackend(backends[0]));

function toTensor(t: onnx.ITensorProto): nn.Tensor {
  const dims = (t.dims ?? []).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  if (t.dataType === onnx.TensorProto.DataType.FLOAT) {
    data = raw ? new Float32Array(new Uint8Array(raw).buffer, 0, n) : Float32Array.from(t.floatData ?? []);
  } else if (t.dataType === onnx.TensorProto.DataType.DOUBLE) {
    data = Float32Array.from(raw ? new Float64Array(new Uint8Array(raw).buffer, 0, n) : (t.doubleData ?? []));
  } else {
    throw new Error(`tensor ${t.name}: data type ${t.dataType} not handled by this test`);
  }
  return nn.tensor(data, dims);
}

const readTensor = (file: string): nn.Tensor => toTensor(onnx.TensorProto.decode(fs.readFileSync(file)));

function attrs(node: onnx.INodeProto): Record<string, onnx.IAttributeProto> {
  return Object.fromEntries((node.attribute ?? []).map((a) => [a.name as string, a]));
}
const int = (a: onnx.IAttributeProto | undefined, d: number): number => (a ? Number(a.i) : d);
const float = (a: onnx.IAttributeProto | undefined, d: number): number => (a ? (a.f as number) : d);

/** Opset-6 Softmax/LogSoftmax: x coerced to 2-D at `axis`, normalized over the trailing block. */
function softmax2d(x: nn.Tensor, axis: number, log: boolean): nn.Tensor {
  const ax = axis < 0 ? axis + x.rank : axis;
  const flat = nn.flatten(x, ax);
  const y = log ? nn.logSoftmax(flat, { axis: 1 }) : nn.softmax(flat, { axis: 1 });
  return nn.reshape(y, x.shape);
}

/** Legacy (opset < 7) broadcast: b's dims line up with a's starting at `axis`. */
function legacyAlign(a: nn.Tensor, b: nn.Tensor, node: onnx.INodeProto): nn.Tensor {
  const at = attrs(node);
  if (int(at.broadcast, 0) === 0 || at.axis === undefined) return b;
  const axis = int(at.axis, 0);
  const trailing = a.rank - axis - b.rank;
  return nn.reshape(b, [...b.shape, ...new Array<number>(trailing).fill(1)]);
}

function runNode(node: onnx.INodeProto, env: Map<string, nn.Tensor>): nn.Tensor {
  const ins = (node.input ?? []).map((n) => env.get(n) as nn.Tensor);
  const at = attrs(node);
  const x = ins[0];
  switch (node.opType) {
    case 'Relu': return nn.relu(x);
    case 'LeakyRelu': return nn.leakyRelu(x, float(at.alpha, 0.01));
    case 'Sigmoid': return nn.sigmoid(x);
    case 'Tanh': return nn.tanh(x);
    case 'Neg': return nn.mul(x, nn.tensor(new Float32Array([-1]), []));
    case 'Clip': return nn.clip(x, float(at.min, -Infinity), float(at.max, Infinity));
    case 'Softmax': return softmax2d(x, int(at.axis, 1), false);
    case 'LogSoftmax': return softmax2d(x, int(at.axis, 1), true);
    case 'PRelu': {
      const slope = ins[1];
      // Opset 6: a [C] slope is per channel (axis 1).
      const perChannel = slope.rank === 1 && x.rank > 2 && slope.shape[0] === x.shape[1];
      return nn.prelu(x, perChannel ? nn.reshape(slope, [slope.shape[0], ...new Array<number>(x.rank - 2).fill(1)]) : slope);
    }
    case 'BatchNormalization':
      return nn.batchNorm(x, { scale: ins[1], bias: ins[2], mean: ins[3], variance: ins[4], epsilon: float(at.epsilon, 1e-5) });
    case 'Add': return nn.add(x, legacyAlign(x, ins[1], node));
    case 'Mul': return nn.mul(x, legacyAlign(x, ins[1], node));
    case 'Concat': return nn.concat(ins, int(at.axis, 1));
    case 'Flatten': return nn.flatten(x, int(at.axis, 1));
    case 'Pad': return nn.pad(x, (at.pads?.ints ?? []).map(Number), float(at.value, 0));
    case 'Constant': return toTensor(at.value.t as onnx.ITensorProto);
    default: throw new Error(`op ${node.opType} not handled by this test`);
  }
}

const cases = [
  'test_ReLU', 'test_LeakyReLU', 'test_LeakyReLU_with_negval', 'test_Sigmoid', 'test_Tanh', 'test_operator_clip',
  'test_Softmax', 'test_LogSoftmax', 'test_softmax_lastdim', 'test_softmax_functional_dim3', 'test_log_softmax_dim3', 'test_log_softmax_lastdim',
  'test_PReLU_2d', 'test_PReLU_2d_multiparam', 'test_BatchNorm2d_eval', 'test_BatchNorm2d_momentum_eval',
  'test_operator_add_broadcast', 'test_operator_add_size1_broadcast', 'test_operator_add_size1_right_broadcast',
  'test_operator_add_size1_singleton_broadcast', 'test_operator_addconstant', 'test_operator_basic', 'test_operator_params',
  'test_operator_concat2', 'test_operator_flatten', 'test_ZeroPad2d',
];

describe.each(backends)('ONNX operator tests on %s', (backend) => {
  beforeAll(() => nn.setBackend(backend));

  test.each(cases)('%s', (name) => {
    const model = onnx.ModelProto.decode(fs.readFileSync(path.join(dir, name, 'model.onnx')));
    const graph = model.graph as onnx.IGraphProto;
    const env = new Map<string, nn.Tensor>();
    for (const init of graph.initializer ?? []) env.set(init.name as string, toTensor(init));
    const data = path.join(dir, name, 'test_data_set_0');
    const feeds = (graph.input ?? []).map((i) => i.name as string).filter((n) => !env.has(n));
    feeds.forEach((n, i) => env.set(n, readTensor(path.join(data, `input_${i}.pb`))));
    for (const node of graph.node ?? []) env.set((node.output ?? [])[0], runNode(node, env));
    const got = env.get((graph.output ?? [])[0].name as string) as nn.Tensor;
    const want = readTensor(path.join(data, 'output_0.pb'));
    expect(got.shape).toEqual(want.shape);
    // Some PyTorch-made inputs hold uninitialized memory (±Infinity, NaN):
    // those must come out identical; everything else within tolerance.
    const same = (g: number, w: number): boolean => g === w || (Number.isNaN(g) && Number.isNaN(w));
    const finite = Array.from(want.data, (w, i) => (same(got.data[i], w) ? 0 : w));
    expectClose(Array.from(got.data, (g, i) => (same(g, want.data[i]) ? 0 : g)), finite, 1e-4, 1e-5);
  });
});
