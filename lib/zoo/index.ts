/**
 * The model zoo: classic CNN architectures with seeded random weights (no
 * download), each as the bytes of an ONNX model (opset 13, batch 1,
 * input `data` [1,3,224,224], output `prob` [1,1000] after Softmax — as the
 * ONNX model zoo's Caffe-born models end — or `logits` with `softmax: false`).
 * The same bytes run in neonn and in onnxruntime, which is what the benchmark
 * compares. Weights are not trained: outputs are meaningful only for comparison.
 */
import { alexnet, vgg16, vgg19 } from './classic';
import { googlenet, squeezenet } from './googlenet';
import { mobilenetV2, resnet50 } from './residual';

export type { ZooOptions } from './builder';

/** The architectures, by name. */
export const ZOO_MODELS = ['alexnet', 'vgg16', 'vgg19', 'googlenet', 'squeezenet', 'resnet50', 'mobilenetV2'] as const;
export type ZooModelName = (typeof ZOO_MODELS)[number];

/**
 * `nn.zoo.onnx.<name>({ seed, softmax })` returns the ONNX bytes of that network.
 * @example
 * const bytes = nn.zoo.onnx.resnet50({ seed: 7 });
 * const session = await ort.InferenceSession.create(bytes);
 */
export const zoo = Object.freeze({
  names: ZOO_MODELS,
  onnx: Object.freeze({ alexnet, vgg16, vgg19, googlenet, squeezenet, resnet50, mobilenetV2 }),
});
