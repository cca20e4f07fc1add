/**
 * Decoding ONNX protobuf: models, TensorProtos and node attributes, with the
 * maintained `onnx-proto` package (protobufjs static code). Float tensors
 * come out as neonn float32 Tensors; integer tensors (shapes, pads) as plain
 * number arrays. Every size is checked before anything is allocated.
 * @internal
 */
import { onnx } from 'onnx-proto';
import { NeonnError } from '../errors';
import type { NativeBinding } from '../native';
import { Tensor } from '../tensor';

export { onnx };

/** Largest tensor a model may hold or produce: 2^28 elements (1 GiB of float32). */
export const MAX_ELEMENTS = 2 ** 28;

/** A malformed or unsupported file (a wrong call is a TypeError/RangeError instead). */
export function onnxError(message: string, code = 'ERR_NEONN_ONNX_INVALID'): NeonnError {
  return new NeonnError(`loadOnnx: ${message}`, code, 'loadOnnx');
}

/** The errors {@link unsafeInt} made: a caller that can keep the value exact (as int64 data) catches these. */
const UNSAFE_INT = new WeakSet<Error>();

/** An int64 in the file past ±(2^53 − 1), where sizes, indices and shapes never are. */
function unsafeInt(value: string): NeonnError {
  const e = onnxError(`int64 value ${value} is not a safe JS integer (beyond ±(2^53 - 1))`);
  UNSAFE_INT.add(e);
  return e;
}

/** Whether `e` says an int64 was past ±(2^53 − 1) (INT64_MAX as Slice's "to the end", say). */
export function isUnsafeInt(e: unknown): boolean {
  return e instanceof Error && UNSAFE_INT.has(e);
}

/** protobufjs decodes int64 as a Long object (the `long` package is installed) or a number. */
type Int64 = number | { toNumber(): number; toString(): string };

/** An int64 as a JS number; throws if it is not exactly representable. */
export function toInt(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  const n = v.toNumber();
  if (!Number.isSafeInteger(n) || String(n) !== v.toString()) {
    throw unsafeInt(v.toString());
  }
  return n;
}

/**
 * Decodes a whole model; bytes that are not protobuf (or are cut short) are
 * an ERR_NEONN_ONNX_INVALID NeonnError, never a crash.
 */
export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  if (bytes.length === 0) throw onnxError('the file is empty');
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw onnxError(`not a valid ONNX model (truncated or not protobuf): ${(err as Error).message}`);
  }
  if (!model.graph) throw onnxError('not an ONNX model: it has no graph');
  return model;
}

/** Decodes one serialized TensorProto (`input_0.pb`, `output_0.pb`). */
export function decodeTensor(bytes: Uint8Array): onnx.TensorProto {
  try {
    return onnx.TensorProto.decode(bytes);
  } catch (err) {
    throw onnxError(`not a valid TensorProto: ${(err as Error).message}`);
  }
}

/** The opset version a model imports for `domain` ('' and 'ai.onnx' are the same domain). */
export function opsetVersion(model: onnx.IModelProto, domain = ''): number {
  const want = domain === 'ai.onnx' ? '' : domain;
  for (const o of model.opsetImport ?? []) {
    const d = o.domain === 'ai.onnx' ? '' : o.domain ?? '';
    if (d === want) return toInt(o.version);
  }
  throw onnxError(`the model imports no opset for domain "${domain}"`);
}

const DT = onnx.TensorProto.DataType;
const DT_NAMES = new Map<number, string>(Object.entries(DT).map(([k, v]) => [v as number, k]));

/** Name of a TensorProto data type for messages: `DOUBLE`, `INT64`. */
export function dataTypeName(dt: number | null | undefined): string {
  return DT_NAMES.get(dt ?? 0) ?? `data type ${String(dt)}`;
}

/** Label of a tensor in messages: its name, or the given fallback. */
function label(t: onnx.ITensorProto): string {
  return t.name ? `tensor "${t.name}"` : 'tensor';
}

/**
 * Element count of a shape, refusing negative or non-integer dims and totals
 * above {@link MAX_ELEMENTS} before anyone allocates them.
 * @throws {RangeError} naming `what`
 */
export function checkedCount(what: string, dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`loadOnnx: ${what}: dimension ${d} in [${dims.join(',')}] is not a size`);
    n *= d;
    if (n > MAX_ELEMENTS) throw new RangeError(`loadOnnx: ${what}: shape [${dims.join(',')}] has more than ${MAX_ELEMENTS} elements`);
  }
  return n;
}

/** Dimensions of a TensorProto as numbers; `[]` is a scalar. Sizes checked. */
export function dimsOf(t: onnx.ITensorProto): number[] {
  const dims = (t.dims ?? []).map(toInt);
  checkedCount(label(t), dims);
  return dims;
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * raw_data is little-endian and usually sits at an odd offset inside the
 * decoded buffer, so read it through a DataView rather than aliasing a typed
 * array on it (which would need alignment and a little-endian host).
 */
function rawView(t: onnx.ITensorProto, bytesPerElement: number, n: number): DataView {
  const raw = t.rawData as Uint8Array;
  if (raw.length !== n * bytesPerElement) {
    throw new RangeError(`loadOnnx: ${label(t)}: raw_data has ${raw.length} bytes, dims ${JSON.stringify(dimsOf(t))} of ${dataTypeName(t.dataType)} need ${n * bytesPerElement}`);
  }
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
}

function hasRaw(t: onnx.ITensorProto): boolean {
  return t.rawData !== null && t.rawData !== undefined && t.rawData.length > 0;
}

function checkCount(t: onnx.ITensorProto, field: string, got: number, n: number): void {
  if (got !== n) {
    throw new RangeError(`loadOnnx: ${label(t)}: ${field} has ${got} values, dims ${JSON.stringify(dimsOf(t))} need ${n}`);
  }
}

function rejectExternal(t: onnx.ITensorProto): void {
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw onnxError(`${label(t)}: external data (data_location EXTERNAL) is not supported: embed the weights in the file`, 'ERR_NEONN_ONNX_UNSUPPORTED');
  }
}

/** How one element type is stored: raw_data width and reader, and its typed field. */
interface Layout {
  bytes: number;
  raw: (v: DataView, byteOffset: number) => number;
  field: string;
  list: (t: onnx.ITensorProto) => ArrayLike<Int64> | null | undefined;
}

function bigToNumber(big: bigint): number {
  if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw unsafeInt(String(big));
  }
  return Number(big);
}

const FLOAT_LAYOUTS = new Map<number, Layout>([
  [DT.FLOAT, { bytes: 4, raw: (v, o) => v.getFloat32(o, true), field: 'float_data', list: (t) => t.floatData }],
  [DT.DOUBLE, { bytes: 8, raw: (v, o) => v.getFloat64(o, true), field: 'double_data', list: (t) => t.doubleData }],
]);

const INT_LAYOUTS = new Map<number, Layout>([
  [DT.INT64, { bytes: 8, raw: (v, o) => bigToNumber(v.getBigInt64(o, true)), field: 'int64_data', list: (t) => t.int64Data }],
  [DT.INT32, { bytes: 4, raw: (v, o) => v.getInt32(o, true), field: 'int32_data', list: (t) => t.int32Data }],
]);

/**
 * The tensor's elements, row-major, from raw_data when present, else from
 * the typed field of its data type; sizes checked against dims.
 */
function elements(t: onnx.ITensorProto, layouts: Map<number, Layout>, expected: string): number[] {
  rejectExternal(t);
  const layout = layouts.get(t.dataType ?? 0);
  if (!layout) throw new TypeError(`loadOnnx: ${label(t)}: expected ${expected} data, got ${dataTypeName(t.dataType)}`);
  const n = elementCount(dimsOf(t));
  // Sizes are checked against the data actually in the file before allocating.
  if (hasRaw(t)) {
    const v = rawView(t, layout.bytes, n);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = layout.raw(v, i * layout.bytes);
    return out;
  }
  const src = layout.list(t) ?? [];
  checkCount(t, layout.field, src.length, n);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = toInt(src[i]);
  return out;
}

/** Whether typed arrays here are little-endian, as raw_data is (every target neonn builds for). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Weights of at least this many bytes go straight into native memory (binding.adoptConstant) that the
 * programs made from them share; smaller constants stay JS arrays that each program copies.
 */
export const ADOPT_MIN_BYTES = 16 * 1024;

/** The addon, loaded on first use: `neonn inspect` and `neonn build` read this module without it. */
let addon: NativeBinding | undefined;

function adoptConstant(viewOrBytes: ArrayBufferView | number): ArrayBuffer | null {
  addon ??= (require('../native') as typeof import('../native')).binding;
  return addon.adoptConstant(viewOrBytes);
}

/**
 * A zeroed Float32Array for weights a pass computes (a Conv with its BatchNormalization folded in): big ones
 * in native memory the programs will share, as the file's weights are (no JS array to copy and collect).
 * Written by the pass that made it, before any program reads it.
 */
export function weightsArray(n: number): Float32Array {
  const adopted = n * 4 >= ADOPT_MIN_BYTES ? adoptConstant(n * 4) : null;
  return adopted ? new Float32Array(adopted, 0, n) : new Float32Array(n);
}

/**
 * A FLOAT or DOUBLE TensorProto as a float32 {@link Tensor} (doubles are
 * rounded to float32). Reads raw_data, float_data or double_data.
 * @throws for any other data type or a size that does not match dims
 */
export function tensorFromProto(t: onnx.ITensorProto): Tensor {
  const dims = dimsOf(t);
  // Fast path for the weights: float raw_data copied bytewise (it may sit unaligned).
  if (LITTLE_ENDIAN && t.dataType === DT.FLOAT && hasRaw(t) && t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) {
    const n = elementCount(dims);
    rawView(t, 4, n);
    const raw = t.rawData as Uint8Array;
    // Big weights are copied once, into the native memory programs will share, not into a JS array first.
    const adopted = raw.byteLength >= ADOPT_MIN_BYTES ? adoptConstant(raw) : null;
    if (adopted) return new Tensor(new Float32Array(adopted, 0, n), dims);
    const data = new Float32Array(n);
    new Uint8Array(data.buffer).set(t.rawData as Uint8Array);
    return new Tensor(data, dims);
  }
  return new Tensor(Float32Array.from(elements(t, FLOAT_LAYOUTS, 'FLOAT or DOUBLE')), dims);
}

/**
 * An INT64 or INT32 TensorProto (shapes, pads, axes) as a flat number array,
 * row-major; its dims are {@link dimsOf}.
 */
export function intsFromProto(t: onnx.ITensorProto): number[] {
  return elements(t, INT_LAYOUTS, 'INT64 or INT32');
}

// ---- attributes ----------------------------------------------------------

const AT = onnx.AttributeProto.AttributeType;
type Node = onnx.INodeProto;

function nodeLabel(node: Node): string {
  return `${node.opType ?? '?'} node${node.name ? ` "${node.name}"` : ''}`;
}

/**
 * The attribute `name` of `node`, or undefined. Throws if it exists with
 * another type: a file that says `axis: 1.0` is wrong, not a default.
 */
function attr(node: Node, name: string, type: onnx.AttributeProto.AttributeType): onnx.IAttributeProto | undefined {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  if (a === undefined) return undefined;
  // Files from old exporters may leave `type` unset (0); trust the field then.
  if (a.type && a.type !== type) {
    // An unknown type number has no name: say the number (AT[99] is undefined).
    const got = AT[a.type] ?? `${a.type} (not an ONNX attribute type)`;
    throw new TypeError(`loadOnnx: ${nodeLabel(node)}: attribute "${name}" has type ${got}, expected ${AT[type]}`);
  }
  return a;
}

export function hasAttr(node: Node, name: string): boolean {
  return (node.attribute ?? []).some((x) => x.name === name);
}

export function attrInt(node: Node, name: string, dflt: number): number {
  const a = attr(node, name, AT.INT);
  return a === undefined ? dflt : toInt(a.i);
}

export function attrFloat(node: Node, name: string, dflt: number): number {
  const a = attr(node, name, AT.FLOAT);
  return a === undefined ? dflt : a.f ?? 0;
}

export function attrInts(node: Node, name: string): number[] | undefined;
export function attrInts(node: Node, name: string, dflt: number[]): number[];
export function attrInts(node: Node, name: string, dflt?: number[]): number[] | undefined {
  const a = attr(node, name, AT.INTS);
  return a === undefined ? dflt : (a.ints ?? []).map(toInt);
}

export function attrFloats(node: Node, name: string): number[] | undefined;
export function attrFloats(node: Node, name: string, dflt: number[]): number[];
export function attrFloats(node: Node, name: string, dflt?: number[]): number[] | undefined {
  const a = attr(node, name, AT.FLOATS);
  return a === undefined ? dflt : [...(a.floats ?? [])];
}

export function attrString(node: Node, name: string, dflt: string): string {
  const a = attr(node, name, AT.STRING);
  return a === undefined ? dflt : Buffer.from(a.s ?? new Uint8Array(0)).toString('utf8');
}

export function attrTensor(node: Node, name: string): onnx.ITensorProto | undefined {
  const a = attr(node, name, AT.TENSOR);
  return a === undefined ? undefined : a.t ?? undefined;
}

// ---- any dtype, as a typed value --------------------------------------------

const BYTE_TYPES = new Map<number, { dtype: 'uint8' | 'int8' | 'bool' | 'float16'; bytes: number }>([
  [DT.UINT8, { dtype: 'uint8', bytes: 1 }],
  [DT.INT8, { dtype: 'int8', bytes: 1 }],
  [DT.BOOL, { dtype: 'bool', bytes: 1 }],
  [DT.FLOAT16, { dtype: 'float16', bytes: 2 }],
]);

/**
 * A UINT8/INT8/BOOL/FLOAT16 TensorProto as its typed array (float16 as its
 * bits) from raw_data or int32_data (where ONNX stores these types unpacked).
 */
export function smallTypedFromProto(t: onnx.ITensorProto): { dtype: 'uint8' | 'int8' | 'bool' | 'float16'; data: Uint8Array | Int8Array | Uint16Array; shape: number[] } {
  rejectExternal(t);
  const kind = BYTE_TYPES.get(t.dataType ?? 0);
  if (!kind) throw new TypeError(`loadOnnx: ${label(t)}: unsupported data type ${dataTypeName(t.dataType)}`);
  const dims = dimsOf(t);
  const n = elementCount(dims);
  const data = kind.dtype === 'float16' ? new Uint16Array(n) : kind.dtype === 'int8' ? new Int8Array(n) : new Uint8Array(n);
  if (hasRaw(t)) {
    const v = rawView(t, kind.bytes, n);
    if (kind.bytes === 1 || LITTLE_ENDIAN) {
      // The bytes as they are (int8 weights: millions of them, once per load).
      new Uint8Array(data.buffer, data.byteOffset, n * kind.bytes).set(t.rawData as Uint8Array);
    } else {
      for (let i = 0; i < n; i++) data[i] = v.getUint16(i * 2, true);
    }
  } else {
    const src = t.int32Data ?? [];
    checkCount(t, 'int32_data', src.length, n);
    // ONNX stores these unpacked, one per int32: a value outside the type (a uint8 zero point of 300) is a broken file, not a wrap.
    const [lo, hi] = kind.dtype === 'uint8' ? [0, 255] : kind.dtype === 'int8' ? [-128, 127] : kind.dtype === 'float16' ? [0, 65535] : [-(2 ** 31), 2 ** 31 - 1];
    for (let i = 0; i < n; i++) {
      if (src[i] < lo || src[i] > hi) throw onnxError(`${label(t)}: int32_data[${i}] = ${src[i]} is out of range for ${dataTypeName(t.dataType)} [${lo}, ${hi}]`);
      data[i] = kind.dtype === 'bool' ? (src[i] ? 1 : 0) : src[i];
    }
  }
  return { dtype: kind.dtype, data, shape: dims };
}

/**
 * An int64 attribute value as a JS number, saturated to ±(2^53 − 1): ONNX
 * writes INT64_MAX / INT64_MIN as "to the end" (Slice's ends), which the
 * saturated value still means; no shape or index is that large.
 */
export function toIntSaturated(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, v));
  const big = BigInt(v.toString());
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  return Number(big > max ? max : big < -max ? -max : big);
}

/** An INT64 TensorProto's values, exact (also past 2^53), from raw_data or int64_data. */
export function int64FromProto(t: onnx.ITensorProto): BigInt64Array {
  rejectExternal(t);
  const n = elementCount(dimsOf(t));
  const out = new BigInt64Array(n);
  if (hasRaw(t)) {
    const v = rawView(t, 8, n);
    for (let i = 0; i < n; i++) out[i] = v.getBigInt64(i * 8, true);
    return out;
  }
  const src = t.int64Data ?? [];
  checkCount(t, 'int64_data', src.length, n);
  for (let i = 0; i < n; i++) out[i] = BigInt(src[i].toString());
  return out;
}
