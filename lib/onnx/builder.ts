/**
 * A small ONNX graph builder over the `onnx-proto` schema types (protobufjs
 * static code): what `saveOnnx` writes a Sequential model with, what a
 * Sequential model compiles through (the same graph as ONNX import), and what
 * the zoo builds its models with. Models are opset 13, IR version 7, producer
 * "neonn".
 */
import * as os from 'os';

import type { onnx as OnnxNs } from 'onnx-proto';

import { NeonnError, rangeError } from '../errors';

/** The opset every exported model imports (default domain). */
export const EXPORT_OPSET = 13;
/** IR version 7: the one that goes with opset 13 (ONNX 1.8). */
export const EXPORT_IR_VERSION = 7;

const FLOAT = 1; // TensorProto.DataType.FLOAT

// onnx-proto is loaded on first use: importing neonn must not pay for (or
// depend on) the protobuf code when nothing is exported.
let onnxNs: typeof OnnxNs | undefined;
function schema(): typeof OnnxNs {
  if (!onnxNs) {
    try {
      onnxNs = (require('onnx-proto') as { onnx: typeof OnnxNs }).onnx;
    } catch (err) {
      throw new NeonnError(`ONNX export needs the npm package "onnx-proto" (npm install onnx-proto): ${(err as Error).message}`, 'ERR_NEONN_MISSING_DEPENDENCY', 'saveOnnx');
    }
  }
  return onnxNs;
}

/** A typed node attribute: ONNX distinguishes 1 (INT) from 1.0 (FLOAT), JS numbers don't. */
export type OnnxAttribute =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string };

/** Attribute constructors: `{ kernel_shape: attr.ints([3, 3]), epsilon: attr.float(1e-5) }`. */
export const attr = {
  int: (value: number): OnnxAttribute => ({ kind: 'int', value }),
  float: (value: number): OnnxAttribute => ({ kind: 'float', value }),
  ints: (value: readonly number[]): OnnxAttribute => ({ kind: 'ints', value: [...value] }),
  floats: (value: readonly number[]): OnnxAttribute => ({ kind: 'floats', value: [...value] }),
  string: (value: string): OnnxAttribute => ({ kind: 'string', value }),
};

/** A dimension: a size, or a name for a dynamic one (e.g. `'N'` for the batch). */
export type OnnxDim = number | string;

function encodeAttribute(name: string, a: OnnxAttribute): OnnxNs.IAttributeProto {
  const T = schema().AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] };
    case 'floats':
      return { name, type: T.FLOATS, floats: [...a.value] };
    case 'string':
      return { name, type: T.STRING, s: Buffer.from(a.value, 'utf8') };
  }
}

function valueInfo(name: string, dims: readonly OnnxDim[]): OnnxNs.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** Float32 data as little-endian bytes (ONNX raw_data is little-endian whatever the host). */
function littleEndianBytes(data: Float32Array): Uint8Array {
  if (os.endianness() === 'LE') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

/**
 * Builds one ONNX graph: inputs, float initializers, nodes in topological
 * order, outputs. Every name is checked when it is used, so a builder bug is
 * an error here rather than a model onnxruntime refuses.
 * @example
 * const g = new OnnxGraphBuilder('tiny');
 * const x = g.addInput('x', ['N', 4]);
 * const w = g.addInitializer('w', new Float32Array(8), [2, 4]);
 * g.addOutput(g.addNode('Gemm', [x, w], { transB: attr.int(1) }), ['N', 2]);
 * const bytes = g.toBytes();
 */
export class OnnxGraphBuilder {
  private readonly inputs: OnnxNs.IValueInfoProto[] = [];
  private readonly outputs: OnnxNs.IValueInfoProto[] = [];
  private readonly initializers: OnnxNs.ITensorProto[] = [];
  private readonly nodes: OnnxNs.INodeProto[] = [];
  private readonly defined = new Set<string>();
  private readonly counters = new Map<string, number>();
  /** Number of float parameters in the initializers. */
  parameterCount = 0;

  constructor(readonly name: string) {}

  /** A fresh value name `prefix`, `prefix_1`, … */
  uniqueName(prefix: string): string {
    const n = this.counters.get(prefix) ?? 0;
    this.counters.set(prefix, n + 1);
    const name = n === 0 ? prefix : `${prefix}_${n}`;
    return this.defined.has(name) ? this.uniqueName(prefix) : name;
  }

  private define(name: string): string {
    if (this.defined.has(name)) rangeError('OnnxGraphBuilder', `the name ${JSON.stringify(name)} is already defined`);
    this.defined.add(name);
    return name;
  }

  /** Declares a graph input; returns its name. */
  addInput(name: string, dims: readonly OnnxDim[]): string {
    this.inputs.push(valueInfo(this.define(name), dims));
    return name;
  }

  /** Declares an already defined value as a graph output. */
  addOutput(name: string, dims: readonly OnnxDim[]): void {
    if (!this.defined.has(name)) rangeError('OnnxGraphBuilder', `output ${JSON.stringify(name)} is not defined`);
    this.outputs.push(valueInfo(name, dims));
  }

  /** A float32 initializer (stored as raw_data); returns its name. */
  addInitializer(name: string, data: Float32Array, dims: readonly number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) rangeError('OnnxGraphBuilder', `initializer ${JSON.stringify(name)} has ${data.length} values, its dims [${dims.join(',')}] need ${size}`);
    this.initializers.push({ name: this.define(name), dataType: FLOAT, dims: [...dims], rawData: littleEndianBytes(data) });
    this.parameterCount += size;
    return name;
  }

  /**
   * Appends a node. Its inputs must be defined already (nodes go in
   * topological order); `''` is an omitted optional input.
   * @returns the name of its first output (made unique from the op type unless `outputs` names them)
   */
  addNode(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, OnnxAttribute>> = {}, outputs?: readonly string[]): string {
    for (const i of inputs) {
      if (i !== '' && !this.defined.has(i)) rangeError('OnnxGraphBuilder', `${opType} input ${JSON.stringify(i)} is not defined`);
    }
    const outs = (outputs ?? [this.uniqueName(opType.toLowerCase())]).map((o) => this.define(o));
    this.nodes.push({
      opType,
      name: `${opType}_${this.nodes.length}`,
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attributes).map(([k, v]) => encodeAttribute(k, v)),
    });
    return outs[0];
  }

  /** @internal The ModelProto as an object (what `toBytes` encodes; `loadOnnx`'s graph builder reads it as is). */
  toModel(docString = ''): OnnxNs.IModelProto {
    if (this.outputs.length === 0) rangeError('OnnxGraphBuilder', 'the graph has no outputs');
    return {
      irVersion: EXPORT_IR_VERSION,
      opsetImport: [{ domain: '', version: EXPORT_OPSET }],
      producerName: 'neonn',
      producerVersion: '0.1.0',
      docString,
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    };
  }

  /** The serialized ModelProto. */
  toBytes(docString = ''): Uint8Array {
    return schema().ModelProto.encode(this.toModel(docString)).finish();
  }
}
