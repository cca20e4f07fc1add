/**
 * Element types of values in the graph IR and of the typed tensors the
 * generic kernels take. Codes are ONNX's TensorProto.DataType numbers, which
 * the native side (src/kernels/kernel.h) uses too.
 */

/** An element type. */
export type DType = 'float32' | 'float16' | 'uint8' | 'int8' | 'int32' | 'int64' | 'bool';

/** ONNX TensorProto.DataType code of each dtype. */
export const DTYPE_CODE: Readonly<Record<DType, number>> = Object.freeze({
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
});

/** Bytes per element. */
export const DTYPE_SIZE: Readonly<Record<DType, number>> = Object.freeze({
  float32: 4,
  uint8: 1,
  int8: 1,
  int32: 4,
  int64: 8,
  bool: 1,
  float16: 2,
});

/** The typed array that holds each dtype (bool as one byte, 0 or 1; float16 as its bits). */
export type TypedData = Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array | Uint16Array;

export const ALL_DTYPES: readonly DType[] = ['float32', 'float16', 'uint8', 'int8', 'int32', 'int64', 'bool'];
export const FLOAT: readonly DType[] = ['float32'];
export const INTS: readonly DType[] = ['int64', 'int32'];
export const NUMERIC: readonly DType[] = ['float32', 'int32', 'int64', 'int8', 'uint8'];

/** A zeroed typed array of `n` elements of `dtype`. */
export function allocate(dtype: DType, n: number): TypedData {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'uint8': case 'bool': return new Uint8Array(n);
    case 'int8': return new Int8Array(n);
    case 'int32': return new Int32Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'float16': return new Uint16Array(n);
  }
}

/** Whether `data` is the typed array `dtype` is held in. */
export function holds(dtype: DType, data: unknown): data is TypedData {
  switch (dtype) {
    case 'float32': return data instanceof Float32Array;
    case 'uint8': case 'bool': return data instanceof Uint8Array;
    case 'int8': return data instanceof Int8Array;
    case 'int32': return data instanceof Int32Array;
    case 'int64': return data instanceof BigInt64Array;
    case 'float16': return data instanceof Uint16Array;
  }
}

/** The dtype a typed array holds by default (Uint8Array: uint8). */
export function dtypeOfData(data: unknown): DType | undefined {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint16Array) return 'float16';
  return undefined;
}

/** Values as JS numbers (int64 through Number: shapes and indices fit). */
export function toNumbers(data: TypedData): number[] {
  const out = new Array<number>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}

/** A typed array of `dtype` from numbers (int64 via BigInt; bool as 0/1). */
export function fromNumbers(dtype: DType, values: readonly number[]): TypedData {
  const d = allocate(dtype, values.length);
  if (d instanceof BigInt64Array) values.forEach((v, i) => (d[i] = BigInt(Math.trunc(v))));
  else if (dtype === 'bool') values.forEach((v, i) => (d[i] = v ? 1 : 0));
  else (d as Float32Array).set(values);
  return d;
}

/**
 * Element types an ONNX model may declare that neonn holds in a wider dtype:
 * at a model's inputs and outputs they are converted (feeds of their own
 * typed arrays in, their own typed arrays out), and a Cast to one writes the
 * holder with the type's range (src/kernels/elem_cast.cc). Inside the graph
 * ops compute in the holder: int16 + int16 that overflows 16 bits wraps only
 * at the next Cast or output. A string is held as the float32 it spells
 * (ONNX's Cast between string and numbers).
 */
export type WidenedType = 'int16' | 'uint16' | 'uint32' | 'uint64' | 'bfloat16' | 'string';

/** The dtype each widened type is held in. */
export const WIDENED_HOLDER: Readonly<Record<WidenedType, DType>> = Object.freeze({
  int16: 'int32',
  uint16: 'int32',
  uint32: 'int64',
  uint64: 'int64',
  bfloat16: 'float32',
  string: 'float32',
});

/** ONNX TensorProto.DataType code of each widened type. */
export const WIDENED_CODE: Readonly<Record<WidenedType, number>> = Object.freeze({
  uint16: 4,
  int16: 5,
  string: 8,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
});

/** An element type a model's input or output may have: a dtype neonn computes in, or one it holds widened. */
export type ElemType = DType | WidenedType;
