// The public op functions of neonn, as the design's "Public API" declares
// them, looked up at run time: a suite written against an op that is not in
// this build fails with "nn.conv2d is not implemented" instead of failing to
// compile, so the conformance and property suites can land before (or
// without) the op and light up when it arrives.
import * as nn from '../../lib';

type T = nn.TensorLike;
type Pair = number | [number, number];
type Pads = number | [number, number] | [number, number, number, number];

export interface NnOps {
  gemm(a: T, b: T, o?: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number; c?: T; out?: T }): nn.Tensor;
  conv2d(x: T, w: T, o?: { bias?: T; strides?: Pair; pads?: Pads; dilations?: Pair; group?: number; activation?: 'relu'; out?: T }): nn.Tensor;
  fullyConnected(x: T, w: T, o?: { bias?: T; out?: T }): nn.Tensor;
  maxPool2d(x: T, o: { kernel: Pair; strides?: Pair; pads?: Pads; dilations?: Pair; ceil?: boolean; out?: T }): nn.Tensor;
  avgPool2d(x: T, o: { kernel: Pair; strides?: Pair; pads?: Pads; ceil?: boolean; countIncludePad?: boolean; out?: T }): nn.Tensor;
  globalAvgPool(x: T, o?: { out?: T }): nn.Tensor;
  relu(x: T, o?: { out?: T }): nn.Tensor;
  leakyRelu(x: T, alpha?: number, o?: { out?: T }): nn.Tensor;
  prelu(x: T, slope: T, o?: { out?: T }): nn.Tensor;
  sigmoid(x: T, o?: { out?: T }): nn.Tensor;
  tanh(x: T, o?: { out?: T }): nn.Tensor;
  clip(x: T, min: number, max: number, o?: { out?: T }): nn.Tensor;
  softmax(x: T, o?: { axis?: number; out?: T }): nn.Tensor;
  logSoftmax(x: T, o?: { axis?: number; out?: T }): nn.Tensor;
  batchNorm(x: T, o: { scale: T; bias: T; mean: T; variance: T; epsilon?: number; out?: T }): nn.Tensor;
  lrn(x: T, o: { size: number; alpha?: number; beta?: number; bias?: number; out?: T }): nn.Tensor;
  add(a: T, b: T, o?: { out?: T }): nn.Tensor;
  mul(a: T, b: T, o?: { out?: T }): nn.Tensor;
  concat(xs: T[], axis: number, o?: { out?: T }): nn.Tensor;
  flatten(x: T, axis?: number): nn.Tensor;
  reshape(x: T, shape: number[]): nn.Tensor;
  transpose(x: T, perm?: number[], o?: { out?: T }): nn.Tensor;
  pad(x: T, pads: number[], value?: number, o?: { out?: T }): nn.Tensor;
}

export type OpName = keyof NnOps;

/** `nn[name]`, or a function that throws "nn.<name> is not implemented". */
export function op<K extends OpName>(name: K): NnOps[K] {
  const fn = (nn as unknown as Partial<NnOps>)[name];
  if (typeof fn === 'function') return fn as NnOps[K];
  const missing = (): never => {
    throw new Error(`nn.${name} is not implemented`);
  };
  return missing as unknown as NnOps[K];
}

/** Whether this build exports `nn[name]`. */
export function hasOp(name: OpName): boolean {
  return typeof (nn as unknown as Record<string, unknown>)[name] === 'function';
}
