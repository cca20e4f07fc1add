// conv2d and pooling against the ONNX conformance data (PyTorch-exported
// single-node models in ../shared/onnx-conformance/node), on every backend:
// checks our reading of ONNX's attributes, not just our own oracle.
import * as fs from 'fs';
import * as path from 'path';

import { onnx } from 'onnx-proto';

import * as nn from '../../lib';
import { availableBackends, expectClose } from '../helpers';

const dir = path.resolve(__dirname, '..', '..', '..', 'shared', 'onnx-conformance', 'node');
const present = fs.existsSync(dir);
if (!present) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED conv ONNX conformance: ${dir} is missing`);
}
const names = present ? fs.readdirSync(dir).filter((n) => /^test_(Conv2d|AvgPool2d|MaxPool2d|operator_conv$)/.test(n)) : [];
const backends = availableBackends();
afterAll(() => nn.setBackend(backends[0]));

function toTensor(t: onnx.ITensorProto): nn.Tensor {
  expect(t.dataType).toBe(onnx.TensorProto.DataType.FLOAT);
  // raw_data is little-endian float32; copy so the view is aligned.
  const data = t.rawData && t.rawData.length > 0 ? new Float32Array(Uint8Array.from(t.rawData).buffer) : Float32Array.from(t.floatData ?? []);
  return nn.tensor(data, (t.dims ?? []).map(Number));
}

function readTensor(file: string): nn.Tensor {
  return toTensor(onnx.TensorProto.decode(fs.readFileSync(file)));
}

interface Loaded {
  node: onnx.INodeProto;
  attrs: Map<string, number[]>;
  inputs: nn.Tensor[];
  expected: nn.Tensor;
}

function load(name: string): Loaded {
  const model = onnx.ModelProto.decode(fs.readFileSync(path.join(dir, name, 'model.onnx')));
  const graph = model.graph!;
  expect(graph.node).toHaveLength(1);
  const node = graph.node![0];
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name!, toTensor(t)]));
  const x = readTensor(path.join(dir, name, 'test_data_set_0', 'input_0.pb'));
  const inputs = node.input!.map((n, i) => (i === 0 ? x : inits.get(n)!));
  const attrs = new Map((node.attribute ?? []).map((a) => [a.name!, a.ints && a.ints.length > 0 ? a.ints.map(Number) : [Number(a.i)]]));
  return { node, attrs, inputs, expected: readTensor(path.join(dir, name, 'test_data_set_0', 'output_0.pb')) };
}

const run = (l: Loaded): nn.Tensor => {
  const { attrs, inputs } = l;
  const strides = attrs.get('strides') as [number, number] | undefined;
  const pads = attrs.get('pads') as [number, number, number, number] | undefined;
  switch (l.node.opType) {
    case 'Conv':
      return nn.conv2d(inputs[0], inputs[1], {
        bias: inputs[2],
        strides,
        pads,
        dilations: attrs.get('dilations') as [number, number] | undefined,
        group: attrs.get('group')?.[0],
      });
    case 'MaxPool':
      return nn.maxPool2d(inputs[0], { kernel: attrs.get('kernel_shape') as [number, number], strides, pads });
    case 'AveragePool':
      return nn.avgPool2d(inputs[0], { kernel: attrs.get('kernel_shape') as [number, number], strides, pads });
    default:
      throw new Error(`unexpected op ${String(l.node.opType)}`);
  }
};

const maybe = names.length > 0 ? describe.each(backends) : describe.skip.each(backends);
maybe('ONNX conformance on %s', (backend) => {
  beforeAll(() => nn.setBackend(backend));
  test.each(names)('%s', (name) => {
    const l = load(name);
    const y = run(l);
    expect(y.shape).toEqual(l.expected.shape);
    expectClose(y.data, l.expected.data, 1e-4, 1e-4);
  });
});
