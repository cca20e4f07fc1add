// Plain-JS helpers of the data-movement kernel tests: typed tensors of every
// dtype, flat index arithmetic, and a reference "gather by index map" that
// the tests specialize per op (out[i] = x[map(i)], or a fill).
import * as nn from '../../lib';
import type { DType, TypedData } from '../../lib/dtype';

export const DTYPES: readonly DType[] = ['float32', 'float16', 'int32', 'int64', 'int8', 'uint8', 'bool'];

export const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
export const label = (s: readonly number[]): string => `[${s.join(',')}]`;

export function typed(dtype: DType, vals: readonly number[]): TypedData {
  switch (dtype) {
    case 'float32': return Float32Array.from(vals);
    case 'float16': return Uint16Array.from(vals);
    case 'int32': return Int32Array.from(vals);
    case 'int64': return BigInt64Array.from(vals.map((v) => BigInt(v)));
    case 'int8': return Int8Array.from(vals);
    case 'uint8': case 'bool': return Uint8Array.from(vals);
  }
}

export function tt(dtype: DType, vals: readonly number[], shape: readonly number[] = [vals.length]): nn.TypedTensor {
  return new nn.TypedTensor(dtype, typed(dtype, vals), shape);
}
export const i64 = (vals: readonly number[], shape?: readonly number[]): nn.TypedTensor => tt('int64', vals, shape);
export const i32 = (vals: readonly number[], shape?: readonly number[]): nn.TypedTensor => tt('int32', vals, shape);
export const f32 = (vals: readonly number[], shape?: readonly number[]): nn.TypedTensor => tt('float32', vals, shape);

/** Distinct-ish values of a dtype for element i (float16: arbitrary bit patterns, moved not computed). */
export function sample(dtype: DType, n: number, seed = 1): number[] {
  return Array.from({ length: n }, (_, i) => {
    const h = ((i + 1) * 2654435761 + seed * 40503) >>> 0;
    switch (dtype) {
      case 'float32': return ((h % 20001) - 10000) / 64;
      case 'float16': return h & 0x7bff; // finite, non-NaN bit patterns
      case 'int32': return (h % 200001) - 100000;
      case 'int64': return (h % 2000000001) - 1000000000;
      case 'int8': return (h % 256) - 128;
      case 'uint8': return h % 256;
      case 'bool': return h & 1;
    }
  });
}

export function input(dtype: DType, shape: readonly number[], seed = 1): nn.TypedTensor {
  return tt(dtype, sample(dtype, size(shape), seed), shape);
}

/** An output's dtype, shape and elements as numbers. */
export function got(o: nn.OpOutput): { dtype: DType; shape: number[]; values: number[] } {
  const dtype = o instanceof nn.TypedTensor ? o.dtype : 'float32';
  return { dtype, shape: [...o.shape], values: Array.from(o.data as ArrayLike<number | bigint>, (v) => Number(v)) };
}

export function run(op: string, inputs: nn.OpInput[], attrs: Record<string, number | number[] | string> = {}, numOutputs?: number): nn.OpOutput[] {
  return nn.runOp(op, inputs, attrs, numOutputs === undefined ? undefined : { numOutputs });
}

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = i % shape[k];
    i = Math.floor(i / shape[k]);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let off = 0;
  for (let k = 0; k < shape.length; k++) off = off * shape[k] + idx[k];
  return off;
}

/** out[i] = src[map(multi-index i)], or `fill` where map returns -1. */
export function gatherRef(src: readonly number[], outShape: readonly number[], map: (idx: number[]) => number, fill = 0): number[] {
  return Array.from({ length: size(outShape) }, (_, i) => {
    const j = map(unravel(i, outShape));
    return j < 0 ? fill : src[j];
  });
}

/** Expects op output `o` to be dtype/shape/values exactly. */
export function expectTensor(o: nn.OpOutput, dtype: DType, shape: readonly number[], values: readonly number[]): void {
  const g = got(o);
  expect(g.dtype).toBe(dtype);
  expect(g.shape).toEqual([...shape]);
  expect(g.values).toEqual([...values]);
}
