/** @jest-environment ./test/onnx-export/ort-environment.js */
// The light zoo models (SqueezeNet 1.1, GoogLeNet, ResNet-50, MobileNetV2):
// architecture and parameter count from the ONNX bytes, and onnxruntime-node
// runs each to [1,1000] finite outputs. The heavy ones are in zoo-large.test.ts.
import { onnx } from 'onnx-proto';

import * as nn from '../../lib';
import { KNOWN_PARAMETERS, expectHealthyProbabilities, expectZooHeader, opCounts, parameterCount, runInOrt, stats } from './zoo-check';

const LIGHT = [
  ['squeezenet', { Conv: 26, Concat: 8, MaxPool: 3, GlobalAveragePool: 1, Dropout: 1 }],
  ['googlenet', { Conv: 57, Concat: 9, LRN: 2, MaxPool: 13, AveragePool: 1, Gemm: 1 }],
  ['resnet50', { Conv: 53, BatchNormalization: 53, Add: 16, Relu: 49, MaxPool: 1, GlobalAveragePool: 1, Gemm: 1 }],
  ['mobilenetV2', { Conv: 52, BatchNormalization: 52, Clip: 35, Add: 10, GlobalAveragePool: 1, Gemm: 1 }],
] as const;

describe.each(LIGHT)('nn.zoo.onnx.%s', (name, ops) => {
  const build = nn.zoo.onnx[name];

  test(`${KNOWN_PARAMETERS[name]} parameters, the expected layers, opset 13, data [1,3,224,224] -> prob [1,1000]`, () => {
    const model = onnx.ModelProto.decode(build({ seed: 1 }));
    expectZooHeader(model, 'prob');
    expect(parameterCount(model)).toBe(KNOWN_PARAMETERS[name]);
    expect(opCounts(model)).toMatchObject({ ...ops, Softmax: 1 });
  });

  test('onnxruntime-node runs it: finite probabilities, logits of order one', async () => {
    const prob = await runInOrt(build({ seed: 1 }));
    expect(prob.dims).toEqual([1, 1000]);
    expectHealthyProbabilities(prob.data);
    const logits = await runInOrt(build({ seed: 1, softmax: false }));
    const s = stats(logits.data);
    expect(s.finite).toBe(true);
    expect(s.std).toBeGreaterThan(1e-2); // the signal survived every layer
    expect(s.std).toBeLessThan(1e2); // and did not blow up
    expect(s.argmax).toBe(stats(prob.data).argmax);
  });
});

describe('seeds and options', () => {
  test('same seed, same bytes; another seed, other weights', () => {
    const a = nn.zoo.onnx.squeezenet({ seed: 7 });
    expect(Buffer.compare(Buffer.from(a), Buffer.from(nn.zoo.onnx.squeezenet({ seed: 7 })))).toBe(0);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(nn.zoo.onnx.squeezenet({ seed: 8 })))).not.toBe(0);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(nn.zoo.onnx.squeezenet()))).not.toBe(0); // default seed 1
  });

  test('softmax: false ends in logits', () => {
    const model = onnx.ModelProto.decode(nn.zoo.onnx.mobilenetV2({ softmax: false }));
    expectZooHeader(model, 'logits');
    expect(opCounts(model).Softmax).toBeUndefined();
  });

  test('nn.zoo.names lists every builder', () => {
    expect([...nn.zoo.names].sort()).toEqual(Object.keys(nn.zoo.onnx).sort());
  });

  test('bad options are TypeError/RangeError', () => {
    expect(() => nn.zoo.onnx.resnet50({ sed: 1 } as never)).toThrow(TypeError);
    expect(() => nn.zoo.onnx.resnet50({ sed: 1 } as never)).toThrow(/zoo.onnx.resnet50: unknown option "sed"/);
    expect(() => nn.zoo.onnx.alexnet({ seed: '1' } as never)).toThrow(/zoo.onnx.alexnet: expected "seed" to be an integer, received string "1"/);
    expect(() => nn.zoo.onnx.vgg16({ seed: 1.5 })).toThrow(RangeError);
    expect(() => nn.zoo.onnx.vgg16({ seed: 1.5 })).toThrow(/zoo.onnx.vgg16: "seed" must be a safe integer, got 1.5/);
    expect(() => nn.zoo.onnx.googlenet({ softmax: 1 } as never)).toThrow(/zoo.onnx.googlenet: expected "softmax" to be a boolean, received number 1/);
    expect(() => nn.zoo.onnx.squeezenet(null as never)).toThrow(/zoo.onnx.squeezenet: expected "options" to be an object, received null/);
  });
});
