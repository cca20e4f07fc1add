/** @jest-environment ./test/onnx-export/ort-environment.js */
// nn.zoo.<name>() runs the zoo network in neonn: on the very same ONNX bytes
// and input, neonn's output equals onnxruntime-node's (logits, so small
// differences are not hidden by the softmax), on each BLAS backend.
import * as nn from '../../lib';
import { availableBackends, expectClose, randomData } from '../helpers';
import { runInOrt } from './zoo-check';

const LIGHT = ['squeezenet', 'googlenet', 'resnet50', 'mobilenetV2'] as const;
const backends = availableBackends().filter((name) => name !== 'reference');
afterAll(() => nn.setBackend(nn.backends().find((b) => b.available)!.name));

describe.each(LIGHT)('nn.zoo.%s() in neonn vs onnxruntime-node', (name) => {
  test.each(backends)('logits agree on %s', async (backend) => {
    nn.setBackend(backend);
    const options = { seed: 3, softmax: false };
    const want = await runInOrt(nn.zoo.onnx[name](options), 5);
    const model = await nn.zoo[name](options);
    expect(model.inputNames).toEqual(['data']);
    const x = nn.tensor(randomData(3 * 224 * 224, 5), [1, 3, 224, 224]); // the input runInOrt fed
    await expect(model.run({ input: x })).rejects.toThrow(); // a feed under the wrong name is refused
    const got = (await model.run({ data: x })).logits;
    expect(got.shape).toEqual([1, 1000]);
    expectClose(got.data, want.data, 1e-3, 1e-3);
    model.dispose();
  });
});
