// The data-movement ops against ONNX 1.12's backend node tests
// (libonnx-testdata: /usr/share/libonnx-testdata/data/node/<test>/, model.onnx
// with one node and test_data_set_0/{input,output}_N.pb), run through
// nn.runOp after the schema's own `upgrade`; and the upgrades of older opsets'
// attribute forms. Skipped when the package is not installed.
import * as fs from 'fs';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import * as nn from '../../lib';
import type { DType, TypedData } from '../../lib/dtype';
import { schemaOf } from '../../lib/ir/schema';
import type { AttrValue, NodeView, UpgradeCtx } from '../../lib/ir/schema/types';
import { expectTensor, f32, got, i64, input, sample, tt } from './data-helpers';

const ROOT = '/usr/share/libonnx-testdata/data/node';
const OPS = new Set(['Scatter', 'Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Shape', 'Size', 'ConstantOfShape', 'Transpose', 'Concat', 'Split', 'Slice', 'Gather', 'GatherElements', 'GatherND', 'ScatterND', 'ScatterElements', 'Expand', 'Tile', 'Range', 'DepthToSpace', 'SpaceToDepth', 'Pad', 'OneHot', 'Trilu']);

const DT: Record<number, DType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16' };

type Long = { toString(): string };

/** A TensorProto as a TypedTensor (raw_data or the typed fields). */
function fromProto(t: onnx.ITensorProto): nn.TypedTensor {
  const dtype = DT[t.dataType ?? 0];
  if (dtype === undefined) throw new Error(`data type ${t.dataType}`);
  const dims = (t.dims ?? []).map((d) => Number((d as Long).toString()));
  const n = dims.reduce((a, b) => a * b, 1);
  let data: TypedData;
  if (t.rawData && t.rawData.length > 0) {
    const bytes = new Uint8Array(t.rawData); // copy: aligned
    const buf = bytes.buffer;
    switch (dtype) {
      case 'float32': data = new Float32Array(buf, 0, n); break;
      case 'float16': data = new Uint16Array(buf, 0, n); break;
      case 'int32': data = new Int32Array(buf, 0, n); break;
      case 'int64': data = new BigInt64Array(buf, 0, n); break;
      case 'int8': data = new Int8Array(buf, 0, n); break;
      default: data = new Uint8Array(buf, 0, n);
    }
  } else if (dtype === 'float32') {
    data = Float32Array.from(t.floatData ?? []);
  } else if (dtype === 'int64') {
    data = BigInt64Array.from((t.int64Data ?? []).map((v) => BigInt((v as Long).toString())));
  } else {
    const ints = (t.int32Data ?? []) as number[];
    const ctor = { float16: Uint16Array, int32: Int32Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array }[dtype as 'int32'];
    data = ctor.from(ints);
  }
  return new nn.TypedTensor(dtype, data, dims);
}

const AT = onnx.AttributeProto.AttributeType;

/** The node's attributes as the schema takes them (ConstantOfShape's tensor `value` as value + dtype). */
function attrsOf(node: onnx.INodeProto): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const a of node.attribute ?? []) {
    const name = a.name ?? '';
    switch (a.type) {
      case AT.INT: out[name] = Number((a.i as Long).toString()); break;
      case AT.INTS: out[name] = (a.ints ?? []).map((v) => Number((v as Long).toString())); break;
      case AT.FLOAT: out[name] = a.f ?? 0; break;
      case AT.FLOATS: out[name] = [...(a.floats ?? [])]; break;
      case AT.STRING: out[name] = Buffer.from(a.s ?? new Uint8Array()).toString('utf8'); break;
      case AT.TENSOR: {
        const v = fromProto(a.t!);
        out[name] = Number(v.data[0]);
        out.dtype = a.t!.dataType ?? 1;
        break;
      }
      default: throw new Error(`attribute ${name} of type ${a.type}`);
    }
  }
  return out;
}

/** Upgrades a node with the schema's adapter; constants it adds become inputs here. */
function upgraded(op: string, opset: number, node: NodeView, values: Map<string, nn.TypedTensor>): void {
  let k = 0;
  const ctx: UpgradeCtx = {
    opset,
    constant: (dtype, shape, vals) => {
      const name = `__const${k++}`;
      values.set(name, tt(dtype, [...vals], shape));
      return name;
    },
    fail: (m) => {
      throw new RangeError(m);
    },
    unsupported: (m) => {
      throw new Error(m);
    },
  };
  schemaOf(op)!.upgrade?.(node, ctx);
}

const cases: string[] = fs.existsSync(ROOT)
  ? fs.readdirSync(ROOT).filter((d) => {
      const f = path.join(ROOT, d, 'model.onnx');
      if (!fs.existsSync(f) || d.endsWith('_expanded') || !fs.existsSync(path.join(ROOT, d, 'test_data_set_0'))) return false;
      const m = onnx.ModelProto.decode(fs.readFileSync(f));
      const nodes = m.graph?.node ?? [];
      return nodes.length === 1 && OPS.has(nodes[0].opType ?? '') && (nodes[0].domain ?? '') === '';
    })
  : [];
// Sequence / optional-typed Identity inputs are not tensors.
const SKIP = new Set(['test_identity_opt', 'test_identity_sequence']);

(cases.length > 0 ? describe : describe.skip)('ONNX backend node tests (libonnx-testdata 1.12)', () => {
  test('finds the node tests of these ops', () => {
    expect(cases.length).toBeGreaterThan(130);
  });

  test.each(cases.filter((c) => !SKIP.has(c)))('%s', (name) => {
    const dir = path.join(ROOT, name);
    const model = onnx.ModelProto.decode(fs.readFileSync(path.join(dir, 'model.onnx')));
    const g = model.graph!;
    const node = g.node![0];
    const opset = Number(((model.opsetImport ?? []).find((o) => !o.domain)?.version as Long | undefined)?.toString() ?? '21');
    const values = new Map<string, nn.TypedTensor>();
    const inits = new Set((g.initializer ?? []).map((t) => t.name));
    for (const t of g.initializer ?? []) values.set(t.name ?? '', fromProto(t));
    (g.input ?? []).filter((v) => !inits.has(v.name)).forEach((v, i) => {
      values.set(v.name ?? '', fromProto(onnx.TensorProto.decode(fs.readFileSync(path.join(dir, 'test_data_set_0', `input_${i}.pb`)))));
    });
    const view: NodeView = { inputs: [...(node.input ?? [])], outputs: [...(node.output ?? [])], attrs: attrsOf(node) };
    upgraded(node.opType!, opset, view, values);
    const ins = view.inputs.map((n) => (n === '' ? null : values.get(n)!));
    const outs = nn.runOp(node.opType!, ins, view.attrs, { numOutputs: view.outputs.length });
    (g.output ?? []).forEach((_, i) => {
      const want = fromProto(onnx.TensorProto.decode(fs.readFileSync(path.join(dir, 'test_data_set_0', `output_${i}.pb`))));
      const w = got(want);
      const r = got(outs[i]);
      expect(r.dtype).toBe(w.dtype);
      expect(r.shape).toEqual(w.shape);
      if (w.dtype === 'float32') {
        r.values.forEach((v, j) => expect(Math.abs(v - w.values[j])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(w.values[j]))));
      } else {
        expect(r.values).toEqual(w.values);
      }
    });
  });
});

describe('upgrades of older opsets', () => {
  function run(op: string, opset: number, inputs: nn.TypedTensor[], attrs: Record<string, AttrValue>, numOutputs = 1): nn.OpOutput[] {
    const values = new Map<string, nn.TypedTensor>();
    const view: NodeView = { inputs: inputs.map((t, i) => { values.set(`in${i}`, t); return `in${i}`; }), outputs: Array.from({ length: numOutputs }, (_, i) => `out${i}`), attrs: { ...attrs } };
    upgraded(op, opset, view, values);
    return nn.runOp(op, view.inputs.map((n) => (n === '' ? null : values.get(n)!)), view.attrs, { numOutputs });
  }

  test('Reshape opset 1 and 4: shape attribute (and consumed_inputs)', () => {
    const v = sample('float32', 6);
    expectTensor(run('Reshape', 4, [f32(v, [2, 3])], { shape: [3, -1] })[0], 'float32', [3, 2], v);
    expectTensor(run('Reshape', 1, [f32(v, [2, 3])], { shape: [6], consumed_inputs: [0] })[0], 'float32', [6], v);
  });

  test('Squeeze / Unsqueeze opset 11: axes attribute', () => {
    expectTensor(run('Squeeze', 11, [input('int32', [1, 3, 1])], { axes: [0] })[0], 'int32', [3, 1], sample('int32', 3));
    expectTensor(run('Squeeze', 11, [input('int32', [1, 3, 1])], {})[0], 'int32', [3], sample('int32', 3));
    expectTensor(run('Unsqueeze', 11, [input('int32', [3])], { axes: [0, -1] })[0], 'int32', [1, 3, 1], sample('int32', 3));
  });

  test('Split opset 11: split attribute', () => {
    const v = sample('float32', 6);
    const outs = run('Split', 11, [f32(v, [6])], { split: [2, 4], axis: 0 }, 2);
    expectTensor(outs[0], 'float32', [2], v.slice(0, 2));
    expectTensor(outs[1], 'float32', [4], v.slice(2));
  });

  test('Slice opset 9: starts, ends, axes attributes', () => {
    const v = sample('float32', 12);
    expectTensor(run('Slice', 9, [f32(v, [3, 4])], { starts: [1], ends: [1000], axes: [1] })[0], 'float32', [3, 3], [1, 2, 3, 5, 6, 7, 9, 10, 11].map((i) => v[i]));
    expectTensor(run('Slice', 9, [f32(v, [3, 4])], { starts: [0, 2], ends: [-1, 4] })[0], 'float32', [2, 2], [2, 3, 6, 7].map((i) => v[i]));
  });

  test('Pad opset 2 (pads, value, mode) and opset 1 (paddings)', () => {
    expectTensor(run('Pad', 2, [f32([1, 2], [2])], { pads: [1, 2], value: 9 })[0], 'float32', [5], [9, 1, 2, 9, 9]);
    expectTensor(run('Pad', 2, [f32([1, 2], [2])], { pads: [1, 1], mode: 'edge' })[0], 'float32', [4], [1, 1, 2, 2]);
    expectTensor(run('Pad', 1, [f32([1, 2], [2])], { paddings: [0, 1] })[0], 'float32', [3], [1, 2, 0]);
  });

  test('Concat opset 1: axis defaults to 1', () => {
    const out = run('Concat', 1, [f32([1, 2], [1, 2]), f32([3], [1, 1])], {})[0];
    expectTensor(out, 'float32', [1, 3], [1, 2, 3]);
  });

  test('constant inputs stay inputs: a given int64 tensor is used as it is', () => {
    expect(got(run('Reshape', 13, [input('int8', [4]), i64([2, 2])], {})[0]).shape).toEqual([2, 2]);
  });
});

test('Tile opset < 6 (tiles and axis inputs) is reported as unsupported', () => {
  const node: NodeView = { inputs: ['x', 't', 'a'], outputs: ['y'], attrs: {} };
  expect(() => upgraded('Tile', 5, node, new Map())).toThrow(/Tile-1 \(tiles and axis inputs\) is not supported/);
});
