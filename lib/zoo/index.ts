/**
 * The model zoo: classic CNN architectures with seeded random weights (no
 * download), each as the bytes of an ONNX model (opset 13, batch 1,
 * input `data` [1,3,224,224], output `prob` [1,1000] after Softmax — as the
 * ONNX model zoo's Caffe-born models end — or `logits` with `softmax: false`).
 * The same bytes run in neonn and in onnxruntime, which is what the benchmark
 * compares. Weights are not trained: outputs are meaningful only for comparison.
 */
import { OnnxModel, loadOnnx } from '../onnx/model';
import type { ZooOptions } from './builder';
import { alexnet, vgg16, vgg19 } from './classic';
import { googlenet, squeezenet } from './googlenet';
import { mobilenetV2, resnet50 } from './residual';

export type { ZooOptions } from './builder';

/** The architectures, by name. */
export const ZOO_MODELS = ['alexnet', 'vgg16', 'vgg19', 'googlenet', 'squeezenet', 'resnet50', 'mobilenetV2'] as const;
export type ZooModelName = (typeof ZOO_MODELS)[number];

const BYTES = Object.freeze({ alexnet, vgg16, vgg19, googlenet, squeezenet, resnet50, mobilenetV2 });

/** Loads one zoo network into neonn (the very bytes `nn.zoo.onnx.<name>` returns). */
function model(name: ZooModelName): (options?: ZooOptions) => Promise<OnnxModel> {
  return (options?: ZooOptions) => loadOnnx(BYTES[name](options));
}

/**
 * `nn.zoo.<name>({ seed, softmax })` builds that network in neonn (a loaded
 * ONNX model: `run`, `runSync`, `dispose`); `nn.zoo.onnx.<name>(...)` returns
 * its ONNX bytes, e.g. for onnxruntime.
 * @example
 * const m = await nn.zoo.resnet50({ seed: 7 });
 * const { prob } = await m.run({ data: nn.tensor(new Float32Array(3 * 224 * 224), [1, 3, 224, 224]) });
 */
export const zoo = Object.freeze({
  names: ZOO_MODELS,
  onnx: BYTES,
  alexnet: model('alexnet'),
  vgg16: model('vgg16'),
  vgg19: model('vgg19'),
  googlenet: model('googlenet'),
  squeezenet: model('squeezenet'),
  resnet50: model('resnet50'),
  mobilenetV2: model('mobilenetV2'),
});
