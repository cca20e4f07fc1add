// ONNX's backend node tests (Debian's libonnx-testdata: ONNX 1.12) run one
// op through nn.runOp: the node's attributes, its inputs and the expected
// outputs read from model.onnx and test_data_set_0/*.pb. Absent data: the
// caller skips.
import * as fs from 'fs';
import * as path from 'path';
import * as nn from '../../lib';
import { decodeModel, decodeTensor, dimsOf, intsFromProto, tensorFromProto } from '../../lib/onnx/proto';

export const NODE_DIR = '/usr/share/libonnx-testdata/data/node';
export const haveTestdata = fs.existsSync(NODE_DIR);

export interface NodeCase {
  op: string;
  opset: number;
  attrs: Record<string, number | number[] | string>;
  inputs: (nn.Tensor | nn.TypedTensor | null)[];
  outputs: { data: number[]; shape: number[] }[];
}

function readValue(file: string): nn.Tensor | nn.TypedTensor {
  return fromProto(decodeTensor(fs.readFileSync(file)));
}

function fromProto(t: Parameters<typeof dimsOf>[0]): nn.Tensor | nn.TypedTensor {
  if (dimsOf(t).some((d) => d === 0)) {
    return t.dataType === 7 ? new nn.TypedTensor('int64', new BigInt64Array(0), dimsOf(t)) : new nn.TypedTensor('float32', new Float32Array(0), dimsOf(t));
  }
  if (t.dataType === 2 || t.dataType === 3) {
    const bytes = t.rawData && t.rawData.length > 0 ? Uint8Array.from(t.rawData) : Uint8Array.from((t.int32Data ?? []).map((v) => v & 255));
    return t.dataType === 2 ? new nn.TypedTensor('uint8', bytes, dimsOf(t)) : new nn.TypedTensor('int8', new Int8Array(bytes.buffer), dimsOf(t));
  }
  if (t.dataType === 7 || t.dataType === 6) {
    const v = intsFromProto(t);
    return new nn.TypedTensor('int64', BigInt64Array.from(v.map((x) => BigInt(x))), dimsOf(t));
  }
  return tensorFromProto(t);
}

export function loadNodeCase(name: string): NodeCase {
  const dir = path.join(NODE_DIR, name);
  const model = decodeModel(fs.readFileSync(path.join(dir, 'model.onnx')));
  const g = model.graph!;
  // Constant nodes before the op (empty roi/scales) feed it.
  const consts = new Map<string, nn.Tensor | nn.TypedTensor>();
  for (const n of g.node!) {
    if (n.opType === 'Constant') consts.set(n.output![0], fromProto(n.attribute![0].t!));
  }
  const node = g.node!.filter((n) => n.opType !== 'Constant')[0];
  const attrs: NodeCase['attrs'] = {};
  for (const a of node.attribute ?? []) {
    switch (a.type) {
      case 1: attrs[a.name!] = a.f!; break;
      case 2: attrs[a.name!] = Number(a.i); break;
      case 3: attrs[a.name!] = Buffer.from(a.s!).toString('utf8'); break;
      case 6: attrs[a.name!] = [...(a.floats ?? [])]; break;
      case 7: attrs[a.name!] = (a.ints ?? []).map((x) => Number(x)); break;
      default: throw new Error(`attribute type ${a.type}`);
    }
  }
  const dataDir = path.join(dir, 'test_data_set_0');
  const graphInputs = (g.input ?? []).map((v) => v.name);
  const inputs = (node.input ?? []).map((name) => {
    if (!name) return null;
    if (consts.has(name)) return consts.get(name)!;
    const i = graphInputs.indexOf(name);
    return readValue(path.join(dataDir, `input_${i}.pb`));
  });
  const outputs = (g.output ?? []).map((_, i) => {
    const v = readValue(path.join(dataDir, `output_${i}.pb`));
    return { data: Array.from(v.data as ArrayLike<number | bigint>, Number), shape: [...v.shape] };
  });
  const opset = Number((model.opsetImport ?? []).find((o) => !o.domain)?.version ?? 0);
  return { op: node.opType!, opset, attrs, inputs, outputs };
}

/** Runs the case and compares every output within `tol` (absolute + relative). */
export function expectNodeCase(name: string, tol = 1e-4): void {
  const k = loadNodeCase(name);
  const got = nn.runOp(k.op, k.inputs, k.attrs, { numOutputs: k.outputs.length });
  const outs = Array.isArray(got) ? got : [got];
  k.outputs.forEach((want, i) => {
    const o = outs[i];
    expect([...o.shape]).toEqual(want.shape);
    const data = Array.from(o.data as ArrayLike<number | bigint>, Number);
    for (let j = 0; j < want.data.length; j++) {
      if (Math.abs(data[j] - want.data[j]) > tol * (1 + Math.abs(want.data[j]))) {
        throw new Error(`${name}: output ${i}[${j}] = ${data[j]}, expected ${want.data[j]}`);
      }
    }
  });
}
