/** @jest-environment ./test/onnx-export/ort-environment.js */
// The heavy zoo models (AlexNet 61M, VGG-16 138M, VGG-19 144M parameters):
// parameter count and an onnxruntime-node run each. Generating and loading
// ~550 MB of weights takes a few seconds per VGG.
import { onnx } from 'onnx-proto';

import * as nn from '../../lib';
import { KNOWN_PARAMETERS, expectHealthyProbabilities, expectZooHeader, opCounts, parameterCount, runInOrt } from './zoo-check';

const HEAVY = [
  ['alexnet', { Conv: 5, LRN: 2, MaxPool: 3, Gemm: 3, Dropout: 2 }],
  ['vgg16', { Conv: 13, Relu: 15, MaxPool: 5, Gemm: 3, Dropout: 2 }],
  ['vgg19', { Conv: 16, Relu: 18, MaxPool: 5, Gemm: 3, Dropout: 2 }],
] as const;

describe.each(HEAVY)('nn.zoo.onnx.%s', (name, ops) => {
  test(`${KNOWN_PARAMETERS[name]} parameters; onnxruntime-node runs it to finite probabilities [1,1000]`, async () => {
    const bytes = nn.zoo.onnx[name]({ seed: 2 });
    const model = onnx.ModelProto.decode(bytes);
    expectZooHeader(model, 'prob');
    expect(parameterCount(model)).toBe(KNOWN_PARAMETERS[name]);
    expect(opCounts(model)).toMatchObject({ ...ops, Softmax: 1 });
    const prob = await runInOrt(bytes);
    expect(prob.dims).toEqual([1, 1000]);
    expectHealthyProbabilities(prob.data);
  });
});
