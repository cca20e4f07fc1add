/**
 * ONNX export: `saveOnnx`, which writes a {@link Sequential} model as an ONNX
 * model that onnxruntime (or `loadOnnx`) runs unchanged (the graph is
 * model/graph.ts's; the builder, re-exported here, is builder.ts's).
 */
import * as fs from 'fs';

import { rangeError, typeError } from '../errors';
import { sequentialGraph } from '../model/graph';
import { Sequential } from '../model/sequential';
import { checkOptions } from '../validate';
import type { OnnxDim } from './builder';

export { EXPORT_IR_VERSION, EXPORT_OPSET, OnnxGraphBuilder, attr } from './builder';
export type { OnnxAttribute, OnnxDim } from './builder';

/** Options of {@link saveOnnx}. */
export interface SaveOnnxOptions {
  /** A fixed batch size; by default the batch dimension is dynamic (named `N`). */
  batch?: number;
}

/**
 * Writes a neonn model as ONNX (opset 13): conv2d → Conv, dense → Gemm
 * (transB=1), pools → MaxPool/AveragePool/GlobalAveragePool, batchNorm →
 * BatchNormalization, lrn → LRN, activations → their ONNX ops, flatten →
 * Flatten(axis=1), dropout → nothing (identity at inference). Layers are
 * written as declared (no folding), so the file keeps the model's topology.
 * @param model - a {@link Sequential}
 * @param path - when given, the bytes are also written to this file
 * @param options - `batch`: a fixed batch size (default: dynamic `N`)
 * @returns the ONNX model bytes; input `input` `[N, ...inputShape]`, output `output`
 * @throws {TypeError} for a non-model, a non-string path or bad options
 * @example
 * const bytes = nn.saveOnnx(model, 'model.onnx');
 * // onnxruntime-node: await ort.InferenceSession.create(bytes)
 */
export function saveOnnx(model: Sequential, path?: string, options?: SaveOnnxOptions): Uint8Array {
  const op = 'saveOnnx';
  if (!(model instanceof Sequential)) typeError(op, 'model', 'a Sequential model', model);
  if (path !== undefined && typeof path !== 'string') typeError(op, 'path', 'a string', path);
  const o = checkOptions(op, options, new Set(['batch']));
  if (o.batch !== undefined) {
    if (typeof o.batch !== 'number') typeError(op, 'batch', 'a number', o.batch);
    if (!Number.isInteger(o.batch) || o.batch < 1) rangeError(op, `"batch" must be a positive integer, got ${String(o.batch)}`);
  }
  const batch: OnnxDim = o.batch ?? 'N';
  const g = sequentialGraph(model, batch);
  const bytes = g.toBytes();
  if (path !== undefined) fs.writeFileSync(path, bytes);
  return bytes;
}
