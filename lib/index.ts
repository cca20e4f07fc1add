/**
 * neonn: convolutional neural networks on weak hardware, from TypeScript.
 * @example
 * import * as nn from 'neonn';
 * const y = nn.gemm(nn.tensor(a, [64, 128]), nn.tensor(b, [128, 32]));
 */
import { gemmAsync } from './ops/gemm';
// conv family
import { conv2dAsync, fullyConnectedAsync } from './ops/conv';
import { avgPool2dAsync, globalAvgPoolAsync, maxPool2dAsync } from './ops/pool';
import {
  addAsync, clipAsync, leakyReluAsync, logSoftmaxAsync, mulAsync, preluAsync, reluAsync, sigmoidAsync, softmaxAsync, tanhAsync,
} from './ops/elementwise';
import { batchNormAsync, lrnAsync } from './ops/normalization';
import { concatAsync, padAsync, transposeAsync } from './ops/layout';
// --- sub, div (ONNX import) ---
import { divAsync, subAsync } from './ops/elementwise';
// --- end sub, div ---

export { Tensor, tensor } from './tensor';
export type { TensorLike } from './tensor';
export { NeonnError } from './errors';
export { backends, setBackend, getBackend, setThreads, getThreads } from './backends';
export type { BackendInfo } from './backends';
export { diagnostics } from './diagnostics';
export type { Diagnostics } from './diagnostics';
export { gemm } from './ops/gemm';
export type { GemmOptions } from './ops/gemm';
// conv family
export { conv2d, fullyConnected } from './ops/conv';
export type { FusedActivation, Conv2dOptions, ConvAlgorithm, FullyConnectedOptions } from './ops/conv';
export { maxPool2d, avgPool2d, globalAvgPool } from './ops/pool';
export type { MaxPool2dOptions, AvgPool2dOptions, GlobalAvgPoolOptions } from './ops/pool';
// --- elementwise, normalization and layout ops ---
export { relu, leakyRelu, sigmoid, tanh, clip, prelu, softmax, logSoftmax, add, mul } from './ops/elementwise';
export type { OutOptions, SoftmaxOptions } from './ops/elementwise';
export { batchNorm, lrn } from './ops/normalization';
export type { BatchNormOptions, LrnOptions } from './ops/normalization';
export { concat, flatten, reshape, transpose, pad } from './ops/layout';
// --- end elementwise, normalization and layout ops ---

// the op schema: every op by name, ONNX semantics
export { runOp, opNames, TypedTensor } from './ir/ops';
export type { OpInput, OpOutput, RunOpOptions } from './ir/ops';
export type { DType, ElemType, WidenedType } from './dtype';
export { WidenedTensor } from './onnx/widened';
export type { WidenedData } from './onnx/widened';
import { runOpAsync } from './ir/ops';

// models
export { Sequential } from './model/sequential';
export type { SequentialOptions } from './model/sequential';
export { layers } from './model/layers';
export type { Layer, LayerType, LayerWeights, Conv2dLayerConfig, DenseLayerConfig, MaxPool2dLayerConfig, AvgPool2dLayerConfig, BatchNormLayerConfig, LrnLayerConfig } from './model/layers';
export { saveModel, loadModel } from './model/io';

// --- ONNX import ---
export { sub, div } from './ops/elementwise';
export { loadOnnx, loadOnnxSync, OnnxModel } from './onnx/model';
export type { OnnxLayer, OnnxFeeds, LoadOnnxOptions } from './onnx/model';
export { quantize } from './quant/quantize';
export type { QuantizeOptions, QuantizeResult, QuantizeOutputError, CalibrationInput } from './quant/quantize';
// --- end ONNX import ---

/**
 * The same ops, returning Promises: the work runs on the libuv thread pool
 * and never blocks the event loop.
 */
export const async = Object.freeze({
  gemm: gemmAsync,
  // conv family
  conv2d: conv2dAsync,
  fullyConnected: fullyConnectedAsync,
  maxPool2d: maxPool2dAsync,
  avgPool2d: avgPool2dAsync,
  globalAvgPool: globalAvgPoolAsync,
  // --- elementwise, normalization and layout ops ---
  relu: reluAsync,
  leakyRelu: leakyReluAsync,
  sigmoid: sigmoidAsync,
  tanh: tanhAsync,
  clip: clipAsync,
  prelu: preluAsync,
  softmax: softmaxAsync,
  logSoftmax: logSoftmaxAsync,
  add: addAsync,
  mul: mulAsync,
  batchNorm: batchNormAsync,
  lrn: lrnAsync,
  concat: concatAsync,
  transpose: transposeAsync,
  pad: padAsync,
  // --- end elementwise, normalization and layout ops ---
  // --- sub, div (ONNX import) ---
  sub: subAsync,
  div: divAsync,
  // --- end sub, div ---
  runOp: runOpAsync,
});

// --- ONNX export and the model zoo ---
export { saveOnnx } from './onnx/export';
export type { SaveOnnxOptions } from './onnx/export';
export { zoo } from './zoo';
export type { ZooOptions, ZooModelName } from './zoo';
export type { TypedData } from './dtype';
export type { AttrValue } from './ir/schema/types';
export type { Pair, Pads } from './model/layers';
// --- end ONNX export and the model zoo ---

// --- vision post-processing ---
export { vision } from './vision';
export type { BoxFormat, NmsOptions, Detection, SsdPriorsOptions, DecodePriorsOptions, DecodeGridOptions, TopK, VisionInput, DrawBox, DrawBoxesOptions } from './vision';
// --- end vision post-processing ---

// --- image preprocessing ---
export { image, ImageTransform } from './image';
export type { BoxMapOptions, ImageOptions, ImageInput, ImageFit, PixelData, LoadImageOptions } from './image';
// --- end image preprocessing ---
