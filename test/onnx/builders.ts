// Small ONNX models written with onnx-proto's encoder, for the ONNX tests:
// attribute and initializer builders, graph ports, one encode() of a graph.
import * as nn from '../../lib';
import { onnx } from '../../lib/onnx/proto';

export const DT = onnx.TensorProto.DataType;
export const AT = onnx.AttributeProto.AttributeType;
export type Attr = onnx.IAttributeProto;
export type Node = onnx.INodeProto;

export const ints = (name: string, v: number[]): Attr => ({ name, type: AT.INTS, ints: v });
export const int = (name: string, v: number): Attr => ({ name, type: AT.INT, i: v });
export const flt = (name: string, v: number): Attr => ({ name, type: AT.FLOAT, f: v });

export function floatInit(name: string, t: nn.TensorLike): onnx.ITensorProto {
  return { name, dims: [...t.shape], dataType: DT.FLOAT, floatData: [...t.data] };
}
export function intInit(name: string, values: number[], dims = [values.length]): onnx.ITensorProto {
  return { name, dims, dataType: DT.INT64, int64Data: values };
}
export function port(name: string, shape?: (number | string)[], elemType: number = DT.FLOAT): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, ...(shape ? { shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } : {}) } },
  };
}

export interface Spec {
  nodes: Node[];
  inputs: onnx.IValueInfoProto[];
  /** output names (float32 ports), or ports */
  outputs: (string | onnx.IValueInfoProto)[];
  inits?: onnx.ITensorProto[];
  opset?: number;
}
export function encode(s: Spec): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: '', version: s.opset ?? 13 }],
      graph: { name: 'g', node: s.nodes, input: s.inputs, output: s.outputs.map((o) => (typeof o === 'string' ? port(o) : o)), initializer: s.inits ?? [] },
    }),
  ).finish();
}

/** The code of what `fn` throws (its class name when it has none), or "no error". */
export function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).name;
  }
  return 'no error';
}
