// Helpers for ONNX's backend node tests (Debian's libonnx-testdata): reading
// a test directory (its model's graph inputs, outputs and op types; its
// serialized TensorProto inputs and expected outputs), turning TensorProtos
// into the typed arrays neonn takes, and comparing neonn's outputs with the
// expected ones (floats within a tolerance, integers and bools exactly).
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { onnx } from 'onnx-proto';

const DT = onnx.TensorProto.DataType;

/** ONNX TensorProto.DataType name of a code, for messages: `DOUBLE`, `STRING`. */
export function elemTypeName(code: number | null | undefined): string {
  const name = (DT as unknown as Record<number, string>)[code ?? 0];
  return name ?? `data type ${String(code)}`;
}

/**
 * neonn's element types (lib/dtype.ts ElemType: its dtypes and the types it
 * holds widened), spelled out so this helper needs nothing of lib.
 */
export type NeonnDType = 'float32' | 'float16' | 'uint8' | 'int8' | 'int32' | 'int64' | 'bool' | 'int16' | 'uint16' | 'uint32' | 'uint64' | 'bfloat16' | 'string';

/**
 * The neonn element type an ONNX element type is fed and expected as:
 * DOUBLE is computed in float32 (neonn's import maps it so); types neonn
 * has no tensors of are undefined.
 */
export function neonnDType(code: number | null | undefined): NeonnDType | undefined {
  switch (code) {
    case DT.FLOAT: case DT.DOUBLE: return 'float32';
    case DT.FLOAT16: return 'float16';
    case DT.UINT8: return 'uint8';
    case DT.INT8: return 'int8';
    case DT.INT32: return 'int32';
    case DT.INT64: return 'int64';
    case DT.BOOL: return 'bool';
    case DT.INT16: return 'int16';
    case DT.UINT16: return 'uint16';
    case DT.UINT32: return 'uint32';
    case DT.UINT64: return 'uint64';
    case DT.BFLOAT16: return 'bfloat16';
    case DT.STRING: return 'string';
    default: return undefined;
  }
}

export type Data = Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array | Uint16Array | Int16Array | Uint32Array | BigUint64Array | string[];

/** A decoded TensorProto: its ONNX element type, the typed array neonn holds it in, its shape. */
export interface Decoded {
  name: string;
  /** ONNX TensorProto.DataType code */
  elemType: number;
  dtype: NeonnDType;
  data: Data;
  shape: number[];
}

/** A tensor whose element type neonn has no tensors of (STRING, UINT32, BFLOAT16...). */
export class UnsupportedDType extends Error {}

type Int64 = number | { toString(): string };

function int64(v: Int64): bigint {
  return typeof v === 'number' ? BigInt(v) : BigInt(v.toString());
}

function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * A serialized TensorProto (`input_0.pb`) as a typed array: FLOAT and DOUBLE
 * as Float32Array, INT64 as BigInt64Array, INT32 as Int32Array, BOOL and
 * UINT8 as Uint8Array, INT8 as Int8Array, FLOAT16 as its bits in a
 * Uint16Array. Reads raw_data (little-endian, possibly unaligned) when
 * present, else the typed field (the small types sit in int32_data).
 * @throws {UnsupportedDType} for element types neonn has no tensors of
 */
export function decodeTensor(bytes: Uint8Array): Decoded {
  const t = onnx.TensorProto.decode(bytes);
  const shape = (t.dims ?? []).map((d) => Number(int64(d as Int64)));
  const n = count(shape);
  const elemType = t.dataType ?? 0;
  const dtype = neonnDType(elemType);
  const name = t.name ?? '';
  if (dtype === undefined) throw new UnsupportedDType(`dtype unsupported: ${elemTypeName(elemType)} tensor "${name}" (neonn has no ${elemTypeName(elemType)} tensors)`);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const need = (bytesPer: number): DataView => {
    if (view!.byteLength !== n * bytesPer) throw new Error(`tensor "${name}": raw_data has ${view!.byteLength} bytes, ${n} elements of ${elemTypeName(elemType)} need ${n * bytesPer}`);
    return view!;
  };
  const field = <T>(list: ArrayLike<T> | null | undefined, what: string): ArrayLike<T> => {
    const l = list ?? [];
    if (l.length !== n) throw new Error(`tensor "${name}": ${what} has ${l.length} values, shape [${shape.join(',')}] needs ${n}`);
    return l;
  };
  let data: Data;
  switch (elemType) {
    case DT.FLOAT: {
      const d = new Float32Array(n);
      if (view) { const v = need(4); for (let i = 0; i < n; i++) d[i] = v.getFloat32(i * 4, true); } else d.set(field(t.floatData, 'float_data'));
      data = d;
      break;
    }
    case DT.DOUBLE: {
      const d = new Float32Array(n);
      if (view) { const v = need(8); for (let i = 0; i < n; i++) d[i] = v.getFloat64(i * 8, true); } else d.set(field(t.doubleData, 'double_data'));
      data = d;
      break;
    }
    case DT.INT64: {
      const d = new BigInt64Array(n);
      if (view) { const v = need(8); for (let i = 0; i < n; i++) d[i] = v.getBigInt64(i * 8, true); } else {
        const l = field(t.int64Data as ArrayLike<Int64> | null | undefined, 'int64_data');
        for (let i = 0; i < n; i++) d[i] = int64(l[i]);
      }
      data = d;
      break;
    }
    case DT.INT32: {
      const d = new Int32Array(n);
      if (view) { const v = need(4); for (let i = 0; i < n; i++) d[i] = v.getInt32(i * 4, true); } else d.set(field(t.int32Data, 'int32_data'));
      data = d;
      break;
    }
    case DT.BOOL: case DT.UINT8: case DT.INT8: {
      const d = elemType === DT.INT8 ? new Int8Array(n) : new Uint8Array(n);
      if (view) {
        const v = need(1);
        for (let i = 0; i < n; i++) d[i] = elemType === DT.INT8 ? v.getInt8(i) : v.getUint8(i);
      } else {
        const l = field(t.int32Data, 'int32_data');
        for (let i = 0; i < n; i++) d[i] = elemType === DT.BOOL ? (l[i] ? 1 : 0) : l[i];
      }
      data = d;
      break;
    }
    case DT.INT16: {
      const d = new Int16Array(n);
      if (view) { const v = need(2); for (let i = 0; i < n; i++) d[i] = v.getInt16(i * 2, true); } else d.set(field(t.int32Data, 'int32_data'));
      data = d;
      break;
    }
    case DT.UINT32: {
      const d = new Uint32Array(n);
      if (view) { const v = need(4); for (let i = 0; i < n; i++) d[i] = v.getUint32(i * 4, true); } else {
        const l = field(t.uint64Data as ArrayLike<Int64> | null | undefined, 'uint64_data');
        for (let i = 0; i < n; i++) d[i] = Number(int64(l[i]));
      }
      data = d;
      break;
    }
    case DT.UINT64: {
      const d = new BigUint64Array(n);
      if (view) { const v = need(8); for (let i = 0; i < n; i++) d[i] = v.getBigUint64(i * 8, true); } else {
        const l = field(t.uint64Data as ArrayLike<Int64> | null | undefined, 'uint64_data');
        for (let i = 0; i < n; i++) d[i] = BigInt.asUintN(64, int64(l[i]));
      }
      data = d;
      break;
    }
    case DT.STRING:
      data = Array.from(field(t.stringData, 'string_data'), (b) => Buffer.from(b).toString('utf8'));
      break;
    case DT.FLOAT16: case DT.UINT16: case DT.BFLOAT16: {
      const d = new Uint16Array(n);
      // Not raw: int32_data holds each value's 16 bits.
      if (view) { const v = need(2); for (let i = 0; i < n; i++) d[i] = v.getUint16(i * 2, true); } else d.set(field(t.int32Data, 'int32_data'));
      data = d;
      break;
    }
    default:
      throw new UnsupportedDType(`dtype unsupported: ${elemTypeName(elemType)}`);
  }
  return { name, elemType, dtype, data, shape };
}

/** IEEE half-precision bits as a number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

// ---- the model ---------------------------------------------------------------

/** A graph input or output as the model declares it. */
export interface Port {
  name: string;
  /** ONNX element type; 0 when not a tensor (a sequence or an optional) */
  elemType: number;
  /** 'tensor', 'sequence', 'map', 'optional' or 'sparse' */
  kind: string;
}

/** What the runner needs of a test's model.onnx. */
export interface ModelInfo {
  /** the graph inputs that are not initializers, in order (input_N.pb is the Nth) */
  inputs: Port[];
  outputs: Port[];
  /** `domain:OpType` of every node ('' domain for ONNX's default), subgraphs included */
  ops: string[];
  opset: number;
}

function portOf(v: onnx.IValueInfoProto): Port {
  const t = v.type ?? {};
  const kind = t.tensorType ? 'tensor' : t.sequenceType ? 'sequence' : t.mapType ? 'map' : t.optionalType ? 'optional' : t.sparseTensorType ? 'sparse' : 'tensor';
  return { name: v.name ?? '', elemType: t.tensorType?.elemType ?? 0, kind };
}

function collectOps(g: onnx.IGraphProto, out: Set<string>): void {
  for (const n of g.node ?? []) {
    const domain = n.domain === 'ai.onnx' ? '' : n.domain ?? '';
    out.add(domain ? `${domain}:${n.opType ?? ''}` : n.opType ?? '');
    for (const a of n.attribute ?? []) {
      if (a.g) collectOps(a.g, out);
      for (const sg of a.graphs ?? []) collectOps(sg, out);
    }
  }
}

/** Reads a model's inputs, outputs, op types and default-domain opset. */
export function modelInfo(bytes: Uint8Array): ModelInfo {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph ?? {};
  const inits = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const ops = new Set<string>();
  collectOps(g, ops);
  const opsetEntry = (m.opsetImport ?? []).find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  return {
    inputs: (g.input ?? []).filter((i) => !inits.has(i.name ?? '')).map(portOf),
    outputs: (g.output ?? []).map(portOf),
    ops: [...ops].sort(),
    opset: opsetEntry ? Number(int64(opsetEntry.version as Int64)) : 0,
  };
}

/** A test's data sets: `test_data_set_N` directories, each with its input and output files in index order. */
export function dataSets(dir: string): { name: string; inputs: string[]; outputs: string[] }[] {
  const byIndex = (files: string[], prefix: string): string[] =>
    files
      .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
      .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)));
  return readdirSync(dir)
    .filter((d) => d.startsWith('test_data_set_'))
    .sort()
    .map((d) => {
      const files = readdirSync(path.join(dir, d));
      return {
        name: d,
        inputs: byIndex(files, 'input_').map((f) => path.join(dir, d, f)),
        outputs: byIndex(files, 'output_').map((f) => path.join(dir, d, f)),
      };
    });
}

export function readTensor(file: string): Decoded {
  return decodeTensor(readFileSync(file));
}

// ---- comparing -----------------------------------------------------------------

/** Tolerances: |got - want| <= ATOL + RTOL * (largest finite |want| of the output). */
export const RTOL = 1e-3;
export const ATOL = 1e-5;
/** float16 outputs: half precision rounds at 2^-11 relative, more than RTOL of a small element. */
export const RTOL_F16 = 2e-3;
export const ATOL_F16 = 1e-3;

/** An output as neonn gives it: a Tensor or a TypedTensor (float32 Tensors have no dtype field). */
export interface Got {
  dtype?: string;
  data: ArrayLike<number | bigint | string>;
  shape: readonly number[];
}

function fmt(v: number | bigint | string): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'bigint' ? `${v}` : Number.isInteger(v) ? `${v}` : v.toPrecision(7);
}

/**
 * Why `got` does not match `want` (dtype, shape, then the first element
 * outside tolerance and how many are), or undefined when it matches. NaN
 * matches NaN; infinities match only themselves.
 */
export function mismatch(label: string, want: Decoded, got: Got): string | undefined {
  const gotDtype = got.dtype ?? 'float32';
  if (gotDtype !== want.dtype) return `${label}: dtype ${gotDtype}, expected ${want.dtype} (${elemTypeName(want.elemType)})`;
  if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
    return `${label}: shape [${got.shape.join(',')}], expected [${want.shape.join(',')}]`;
  }
  const n = want.data.length;
  if (got.data.length < n) return `${label}: ${got.data.length} elements, expected ${n}`;
  const isFloat = want.dtype === 'float32' || want.dtype === 'float16';
  if (!isFloat) {
    let bad = -1;
    let nBad = 0;
    for (let i = 0; i < n; i++) {
      if (got.data[i] !== want.data[i]) {
        if (bad < 0) bad = i;
        nBad++;
      }
    }
    return bad < 0 ? undefined : `${label}: ${nBad} of ${n} values differ, first at [${bad}]: got ${fmt(got.data[bad])}, expected ${fmt(want.data[bad])}`;
  }
  const half = want.dtype === 'float16';
  const value = (d: ArrayLike<number | bigint | string>, i: number): number => (half ? halfToFloat(Number(d[i])) : Number(d[i]));
  let maxAbs = 0;
  for (let i = 0; i < n; i++) {
    const w = Math.abs(value(want.data, i));
    if (Number.isFinite(w) && w > maxAbs) maxAbs = w;
  }
  const tol = (half ? ATOL_F16 : ATOL) + (half ? RTOL_F16 : RTOL) * maxAbs;
  let bad = -1;
  let nBad = 0;
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const w = value(want.data, i);
    const g = value(got.data, i);
    let ok: boolean;
    if (Number.isNaN(w)) ok = Number.isNaN(g);
    else if (!Number.isFinite(w)) ok = g === w;
    else ok = Math.abs(g - w) <= tol;
    if (!ok) {
      if (bad < 0) bad = i;
      nBad++;
      if (Number.isFinite(w) && Number.isFinite(g)) worst = Math.max(worst, Math.abs(g - w));
    }
  }
  if (bad < 0) return undefined;
  return `${label}: ${nBad} of ${n} values outside ${tol.toPrecision(3)}, first at [${bad}]: got ${fmt(value(got.data, bad))}, expected ${fmt(value(want.data, bad))}${worst > 0 ? ` (largest difference ${worst.toPrecision(3)})` : ''}`;
}
