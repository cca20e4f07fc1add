/** @jest-environment ./test/onnx-export/ort-environment.js */
// OnnxGraphBuilder: typed attributes, raw_data initializers, dynamic dims, and
// the checks that turn a builder bug into an error instead of a bad file.
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';

import { OnnxGraphBuilder, attr } from '../../lib/onnx/export';

const AT = onnx.AttributeProto.AttributeType;

function tiny(): OnnxGraphBuilder {
  const g = new OnnxGraphBuilder('tiny');
  const x = g.addInput('x', ['batch', 4]);
  const w = g.addInitializer('w', new Float32Array([1, 2, 3, 4, -1, -2, -3, -4]), [2, 4]);
  const y = g.addNode('Gemm', [x, w], { transB: attr.int(1), alpha: attr.float(0.5) });
  g.addOutput(g.addNode('LeakyRelu', [y], { alpha: attr.float(0.1) }, ['y']), ['batch', 2]);
  return g;
}

test('attributes keep their ONNX types; initializers are little-endian raw_data', () => {
  const g = tiny();
  expect(g.parameterCount).toBe(8);
  const m = onnx.ModelProto.decode(g.toBytes('doc'));
  expect(m.producerName).toBe('neonn');
  expect(m.docString).toBe('doc');
  const graph = m.graph as onnx.GraphProto;
  const gemm = (graph.node[0] as onnx.NodeProto).attribute as onnx.AttributeProto[];
  expect(gemm.map((a) => [a.name, a.type])).toEqual([['transB', AT.INT], ['alpha', AT.FLOAT]]);
  expect(Number(gemm[0].i)).toBe(1);
  expect(gemm[1].f).toBe(0.5);
  const w = graph.initializer[0] as onnx.TensorProto;
  expect(w.dataType).toBe(onnx.TensorProto.DataType.FLOAT);
  const view = new DataView(w.rawData.buffer, w.rawData.byteOffset, w.rawData.byteLength);
  expect(Array.from({ length: 8 }, (_, i) => view.getFloat32(i * 4, true))).toEqual([1, 2, 3, 4, -1, -2, -3, -4]);
  expect(graph.input[0].type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 4]);
});

test('ints, floats and string attributes encode with their types', () => {
  const g = new OnnxGraphBuilder('attrs');
  const x = g.addInput('x', [1]);
  g.addOutput(g.addNode('Identity', [x], { a: attr.ints([1, 2]), b: attr.floats([0.5]), c: attr.string('hé') }), [1]);
  const a = ((onnx.ModelProto.decode(g.toBytes()).graph as onnx.GraphProto).node[0] as onnx.NodeProto).attribute as onnx.AttributeProto[];
  expect(a.map((x) => x.type)).toEqual([AT.INTS, AT.FLOATS, AT.STRING]);
  expect(a[0].ints.map(Number)).toEqual([1, 2]);
  expect(a[1].floats).toEqual([0.5]);
  expect(Buffer.from(a[2].s).toString('utf8')).toBe('hé');
});

test('onnxruntime-node runs a built graph with a dynamic batch', async () => {
  const session = await ort.InferenceSession.create(tiny().toBytes());
  const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 1, 1, 1, 0, 1, 0, -1]), [2, 4]) });
  expect(out.y.dims).toEqual([2, 2]);
  // y = leakyRelu(0.5 · x·wᵀ, 0.1): rows [10, -10] and [-2, 2] before scaling
  const want = [5, -0.5, -0.1, 1];
  Array.from(out.y.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
  await session.release();
});

test('builder mistakes are RangeErrors naming the value', () => {
  const g = new OnnxGraphBuilder('bad');
  const x = g.addInput('x', [1]);
  expect(() => g.addInput('x', [1])).toThrow(RangeError);
  expect(() => g.addInput('x', [1])).toThrow(/OnnxGraphBuilder: the name "x" is already defined/);
  expect(() => g.addInitializer('w', new Float32Array(3), [2, 2])).toThrow(/initializer "w" has 3 values, its dims \[2,2\] need 4/);
  expect(() => g.addNode('Relu', ['nope'])).toThrow(/OnnxGraphBuilder: Relu input "nope" is not defined/);
  expect(() => g.addOutput('nope', [1])).toThrow(/output "nope" is not defined/);
  expect(() => g.toBytes()).toThrow(/the graph has no outputs/);
  expect(g.addNode('Relu', [x])).toBe('relu');
  expect(g.addNode('Relu', [x])).toBe('relu_1');
  expect(g.uniqueName('x')).toBe('x_1'); // 'x' is taken by the input
});
