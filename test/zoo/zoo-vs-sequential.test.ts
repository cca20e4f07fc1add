/** @jest-environment ./test/onnx-export/ort-environment.js */
// The zoo's AlexNet bytes and the same network written as an nn.Sequential
// with the weights read back from those bytes: onnxruntime-node on the bytes
// and neonn's predictSync agree. This pins down that the zoo graph means what
// neonn's layers mean (grouped convs, LRN, the end-padded last pool).
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';

import * as nn from '../../lib';
import { availableBackends, expectClose, randomData } from '../helpers';

function initializers(bytes: Uint8Array): Map<string, nn.Tensor> {
  const out = new Map<string, nn.Tensor>();
  for (const t of (onnx.ModelProto.decode(bytes).graph as onnx.GraphProto).initializer as onnx.TensorProto[]) {
    const raw = t.rawData;
    const data = new Float32Array(raw.byteLength / 4);
    new Uint8Array(data.buffer).set(raw); // copy: raw_data need not be 4-byte aligned
    out.set(t.name, nn.tensor(data, t.dims.map(Number)));
  }
  return out;
}

test('AlexNet: onnxruntime-node on nn.zoo.onnx.alexnet bytes equals the Sequential AlexNet on the same weights', async () => {
  const bytes = nn.zoo.onnx.alexnet({ seed: 4, softmax: false });
  const w = initializers(bytes);
  const wb = (name: string): { w: nn.Tensor; b: nn.Tensor } => ({ w: w.get(`${name}_w`) as nn.Tensor, b: w.get(`${name}_b`) as nn.Tensor });
  const lrn = (): nn.Layer => nn.layers.lrn({ size: 5, alpha: 1e-4, beta: 0.75, bias: 1 });
  const model = new nn.Sequential(
    [
      nn.layers.conv2d({ filters: 96, kernel: 11, strides: 4, activation: 'relu', weights: wb('conv1') }),
      lrn(),
      nn.layers.maxPool2d({ kernel: 3, strides: 2 }),
      nn.layers.conv2d({ filters: 256, kernel: 5, pads: 2, group: 2, activation: 'relu', weights: wb('conv2') }),
      lrn(),
      nn.layers.maxPool2d({ kernel: 3, strides: 2 }),
      nn.layers.conv2d({ filters: 384, kernel: 3, pads: 1, activation: 'relu', weights: wb('conv3') }),
      nn.layers.conv2d({ filters: 384, kernel: 3, pads: 1, group: 2, activation: 'relu', weights: wb('conv4') }),
      nn.layers.conv2d({ filters: 256, kernel: 3, pads: 1, group: 2, activation: 'relu', weights: wb('conv5') }),
      nn.layers.maxPool2d({ kernel: 3, strides: 2, pads: [0, 0, 1, 1] }),
      nn.layers.flatten(),
      nn.layers.dense({ units: 4096, activation: 'relu', weights: wb('fc6') }),
      nn.layers.dropout(),
      nn.layers.dense({ units: 4096, activation: 'relu', weights: wb('fc7') }),
      nn.layers.dropout(),
      nn.layers.dense({ units: 1000, weights: wb('fc8') }),
    ],
    { inputShape: [3, 224, 224] },
  );
  nn.setBackend(availableBackends()[0]);
  const x = nn.tensor(randomData(3 * 224 * 224, 9), [1, 3, 224, 224]);
  const want = model.predictSync(x);
  model.dispose();
  const session = await ort.InferenceSession.create(bytes);
  const got = (await session.run({ data: new ort.Tensor('float32', x.data, [1, 3, 224, 224]) })).logits;
  await session.release();
  expect(got.dims).toEqual([1, 1000]);
  expect(Math.max(...want.data) - Math.min(...want.data)).toBeGreaterThan(0.1); // logits, not a flat line
  expectClose(got.data as Float32Array, want.data, 1e-4, 1e-5);
});
