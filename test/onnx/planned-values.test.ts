// Values a model computes when its program is planned, from small fed
// integer inputs (planned by value): a float ConstantOfShape of a fed shape,
// a Gather of a constant by fed indices. As a graph output the user gets a
// copy of the right values; as an op's input, the program's constant.
import * as nn from '../../lib';
import { DT, encode, port } from './builders';
import { onnx } from '../../lib/onnx/proto';

const intPort = (name: string, shape: number[]): onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType: DT.INT64, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
});
const i64 = (values: number[]): nn.TypedTensor => new nn.TypedTensor('int64', BigInt64Array.from(values.map(BigInt)), [values.length]);
const onesAttr: onnx.IAttributeProto = { name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims: [1], dataType: DT.FLOAT, floatData: [1.5] } };

test('a float ConstantOfShape of a fed shape as the graph output: its values, a fresh copy every run, sync and async', async () => {
  const m = await nn.loadOnnx(encode({ opset: 9, nodes: [{ opType: 'ConstantOfShape', input: ['s'], output: ['y'], attribute: [onesAttr] }], inputs: [intPort('s', [2])], outputs: ['y'] }));
  const feeds = { s: i64([2, 3]) } as unknown as nn.OnnxFeeds;
  const a = m.runSync(feeds).y;
  expect(a.shape).toEqual([2, 3]);
  expect([...a.data]).toEqual(new Array(6).fill(1.5));
  a.data.fill(-7);
  const b = (await m.run(feeds)).y;
  expect([...b.data]).toEqual(new Array(6).fill(1.5));
  expect(b.data.buffer).not.toBe(a.data.buffer);
  expect([...m.runSync({ s: i64([1, 4]) } as unknown as nn.OnnxFeeds).y.data]).toEqual(new Array(4).fill(1.5));
  m.dispose();
});

test('a ConstantOfShape of a fed shape added to the data: the program reads its values', async () => {
  const m = await nn.loadOnnx(
    encode({
      opset: 9,
      nodes: [
        { opType: 'ConstantOfShape', input: ['s'], output: ['c'], attribute: [onesAttr] },
        { opType: 'Add', input: ['x', 'c'], output: ['y'] },
      ],
      inputs: [port('x', [3]), intPort('s', [1])],
      outputs: ['y'],
    }),
  );
  const y = m.runSync({ x: nn.tensor(Float32Array.of(1, 2, 3), [3]), s: i64([3]) } as unknown as nn.OnnxFeeds).y;
  expect([...y.data]).toEqual([2.5, 3.5, 4.5]);
  m.dispose();
});

test('a Gather of a constant by fed indices, read by an op', async () => {
  const m = await nn.loadOnnx(
    encode({
      nodes: [
        { opType: 'Gather', input: ['table', 'i'], output: ['g'] },
        { opType: 'Relu', input: ['g'], output: ['y'] },
      ],
      inputs: [intPort('i', [3])],
      outputs: ['y'],
      inits: [{ name: 'table', dims: [4], dataType: DT.FLOAT, floatData: [-1, 2, 3, 4] }],
    }),
  );
  const y = (await m.run({ i: i64([2, 0, 3]) } as unknown as nn.OnnxFeeds)).y;
  expect([...y.data]).toEqual([3, 0, 4]);
  m.dispose();
});
