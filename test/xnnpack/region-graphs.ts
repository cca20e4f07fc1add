// ONNX graphs for the NHWC region tests, and the check they share: a graph's
// results under xnnpack (and in fp16 where XNNPACK has it) against the
// reference's, with the notes layers() gives its regions.
import * as nn from '../../lib';
import { onnx } from '../../lib/onnx/proto';
import { expectClose, onBackend as on, randomTensor } from '../helpers';

export const special = (a: ArrayLike<number>): string[] => Array.from(a).flatMap((v, i) => (Number.isFinite(v) ? [] : [`${i}:${v}`]));

/** ONNX builders. */
export const cw = (o: number, i: number, k: number, seed: number): onnx.ITensorProto => ({
  name: `w${seed}`,
  dims: [o, i, k, k],
  dataType: onnx.TensorProto.DataType.FLOAT,
  floatData: [...randomTensor([o, i, k, k], seed).data],
});
export const conv = (x: string, wname: string, y: string, k: number): onnx.INodeProto => ({
  opType: 'Conv',
  input: [x, wname],
  output: [y],
  attribute: [{ name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: [k >> 1, k >> 1, k >> 1, k >> 1] }],
});
export const port = (name: string, shape: number[]): onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
});
export const constant = (name: string, dims: number[], seed: number): onnx.ITensorProto => ({
  name,
  dims,
  dataType: onnx.TensorProto.DataType.FLOAT,
  floatData: [...randomTensor([dims.reduce((a, b) => a * b, 1)], seed).data].map((v) => v + 2),
});
export function encode(nodes: onnx.INodeProto[], inputs: onnx.IValueInfoProto[], outputs: onnx.IValueInfoProto[], initializer: onnx.ITensorProto[], opset = 13): Uint8Array {
  return onnx.ModelProto.encode({ irVersion: 7, opsetImport: [{ domain: '', version: opset }], graph: { name: 'g', node: nodes, input: inputs, output: outputs, initializer } }).finish();
}

/**
 * `model` on reference and on xnnpack (close to 1e-4) with the notes of its regions; and, where XNNPACK runs
 * fp16 here, loaded with precision 'fp16' (within 1e-2 of the reference's largest output) with its notes (null
 * where it does not).
 */
export function regionNotes(model: Uint8Array, feed: Record<string, nn.Tensor>): { notes: Set<string>; fp16: Set<string> | null } {
  const notesOf = (layers: nn.OnnxLayer[]) => new Set(notes(layers));
  const g = nn.loadOnnxSync(model);
  const want = on('reference', () => g.runSync(feed));
  const [got, layers] = on('xnnpack', () => [g.runSync(feed), g.layers()] as const);
  expectClose(got.y.data, want.y.data, 1e-4, 1e-5);
  g.dispose();
  if (!/fp16: yes/.test(nn.backends().find((b) => b.name === 'xnnpack')!.config ?? '')) return { notes: notesOf(layers), fp16: null };
  const h = nn.loadOnnxSync(model, { precision: 'fp16' });
  const [y16, l16] = on('xnnpack', () => [h.runSync(feed), h.layers()] as const);
  const scale = Math.max(...Array.from(want.y.data, Math.abs));
  expect(Math.max(...Array.from(y16.y.data, (v, i) => Math.abs(v - want.y.data[i]))) / scale).toBeLessThan(1e-2);
  h.dispose();
  return { notes: notesOf(layers), fp16: notesOf(l16) };
}

/**
 * The distinct notes of a model's layers, less what depends on the CPU: on AVX-512 a region's conv of at most 16
 * outputs reads its NCHW entry as it is ("1 transposes in (1 read by its conv as it is instead)"), elsewhere the
 * entry is transposed in. test/xnnpack/nhwc-kernels.test.ts checks that note itself.
 */
export function notes(layers: readonly nn.OnnxLayer[]): string[] {
  return [...new Set(layers.flatMap((l) => (l.choice ? [l.choice.replace(/ \(\d+ read by its conv as it is instead\)/, '')] : [])))];
}
