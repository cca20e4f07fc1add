// Shared checks of the zoo suites: the ONNX bytes decode to the expected
// architecture, and onnxruntime-node runs them to finite, non-degenerate outputs.
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';

import { randomData } from '../helpers';

/** Published parameter counts (weights, biases, batch-norm scale/shift; not batch-norm statistics). */
export const KNOWN_PARAMETERS: Record<string, number> = {
  alexnet: 60_965_224, // BVLC AlexNet, grouped convs (torchvision's single-tower variant has 61.1M)
  vgg16: 138_357_544,
  vgg19: 143_667_240,
  googlenet: 6_998_552, // BVLC GoogLeNet without auxiliary classifiers
  squeezenet: 1_235_496, // SqueezeNet 1.1
  resnet50: 25_557_032,
  mobilenetV2: 3_504_872,
};

/** Learnable parameters in the initializers (batch-norm running statistics and Clip bounds left out). */
export function parameterCount(model: onnx.ModelProto): number {
  let n = 0;
  for (const t of (model.graph as onnx.GraphProto).initializer) {
    if (/_(mean|var)$|^clip_(min|max)$/.test(String(t.name))) continue;
    n += (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1);
  }
  return n;
}

export function opCounts(model: onnx.ModelProto): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const node of (model.graph as onnx.GraphProto).node) {
    const op = String(node.opType);
    counts[op] = (counts[op] ?? 0) + 1;
  }
  return counts;
}

/** The header every zoo model has: opset 13, input data [1,3,224,224], one output [1,1000]. */
export function expectZooHeader(model: onnx.ModelProto, output: string): void {
  expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]]);
  expect(Number(model.irVersion)).toBe(7);
  const g = model.graph as onnx.GraphProto;
  const dims = (v: onnx.IValueInfoProto): number[] => (v.type?.tensorType?.shape?.dim ?? []).map((d) => Number(d.dimValue));
  expect(g.input.map((i) => [i.name, dims(i)])).toEqual([['data', [1, 3, 224, 224]]]);
  expect(g.output.map((o) => [o.name, dims(o)])).toEqual([[output, [1, 1000]]]);
}

/** Runs the bytes in onnxruntime-node on a seeded input in [-1, 1); returns the single output. */
export async function runInOrt(bytes: Uint8Array, seed = 5): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', randomData(3 * 224 * 224, seed), [1, 3, 224, 224]) };
    const out = (await session.run(feeds))[session.outputNames[0]];
    return { dims: out.dims, data: out.data as Float32Array };
  } finally {
    await session.release();
  }
}

export function stats(y: Float32Array): { min: number; max: number; mean: number; std: number; sum: number; argmax: number; finite: boolean } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sq = 0;
  let argmax = 0;
  let finite = true;
  y.forEach((v, i) => {
    finite &&= Number.isFinite(v);
    if (v > max) {
      max = v;
      argmax = i;
    }
    min = Math.min(min, v);
    sum += v;
    sq += v * v;
  });
  const mean = sum / y.length;
  return { min, max, mean, std: Math.sqrt(Math.max(0, sq / y.length - mean * mean)), sum, argmax, finite };
}

/** A softmax output: finite, sums to 1, and not (close to) uniform or one-hot. */
export function expectHealthyProbabilities(y: Float32Array): void {
  const s = stats(y);
  expect(s.finite).toBe(true);
  expect(s.sum).toBeCloseTo(1, 3);
  expect(s.max).toBeGreaterThan(s.min * 1.5); // not all equal
  expect(s.max).toBeLessThan(0.9); // not saturated: the logits stayed of order one
}
