/**
 * A model's inputs and outputs of the types neonn holds widened (lib/dtype.ts
 * {@link WidenedType}): each fed as its own typed array (a string input as an
 * array of strings) and converted into its holder before the program runs,
 * and each output converted back after it ran.
 * @internal
 */
import { typeError } from '../errors';
import { TypedData, WidenedType } from '../dtype';
import type { TValue } from '../ir/exec';
import { sizeOf } from '../tensor';

/** What a widened input is fed as and an output is given as. */
export type WidenedData = Int16Array | Uint16Array | Uint32Array | BigUint64Array | string[];

/** An output of a widened type (`bfloat16`: its 16 bits per value). */
export class WidenedTensor {
  constructor(
    readonly dtype: WidenedType,
    readonly data: WidenedData,
    readonly shape: readonly number[],
  ) {
    Object.freeze(this);
  }
}

const ARRAY_NAME: Readonly<Record<WidenedType, string>> = {
  int16: 'Int16Array',
  uint16: 'Uint16Array',
  uint32: 'Uint32Array',
  uint64: 'BigUint64Array',
  bfloat16: 'Uint16Array (each value\'s bfloat16 bits)',
  string: 'array of strings',
};

function isData(type: WidenedType, data: unknown): data is WidenedData {
  switch (type) {
    case 'int16': return data instanceof Int16Array;
    case 'uint16': case 'bfloat16': return data instanceof Uint16Array;
    case 'uint32': return data instanceof Uint32Array;
    case 'uint64': return data instanceof BigUint64Array;
    case 'string': return Array.isArray(data) && data.every((s) => typeof s === 'string');
  }
}

/** A decimal number as ONNX's Cast from string reads it (no hex, no empty string). */
const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/** A string as the number it spells: decimal or scientific, or ONNX's reserved "NaN", "INF", "+INF", "-INF" (any case). */
function parseNumber(op: string, name: string, i: number, s: string): number {
  const t = s.trim().toUpperCase();
  if (t === 'NAN') return NaN;
  if (t === 'INF' || t === '+INF') return Infinity;
  if (t === '-INF') return -Infinity;
  if (!DECIMAL.test(s)) throw new RangeError(`${op}: input "${name}"[${i}] = ${JSON.stringify(s)} is not a number (neonn holds string tensors as the numbers they spell)`);
  return Number(s);
}

/** A float32 value in the fewest digits that read back as the same float32 ("NaN", "INF", "-INF" for the special values). */
export function formatFloat32(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'INF';
  if (x === -Infinity) return '-INF';
  if (Object.is(x, -0)) return '-0';
  for (let p = 1; p < 9; p++) {
    const v = Number(x.toPrecision(p));
    if (Math.fround(v) === x) return String(v);
  }
  return String(Number(x.toPrecision(9)));
}

const TWO_63 = 2n ** 63n;

/**
 * A feed of a widened type, checked and converted into its holder.
 * @throws {TypeError} for data that is not the type's array
 * @throws {RangeError} for a uint64 value of 2^63 or more, or a string that is not a number
 */
export function widenFeed(op: string, name: string, type: WidenedType, v: unknown): TValue {
  if (typeof v !== 'object' || v === null) typeError(op, name, `a ${type} tensor { data, shape }`, v);
  const { data, shape } = v as { data?: unknown; shape?: unknown };
  if (!isData(type, data)) typeError(op, `${name}.data`, `an ${ARRAY_NAME[type]} (the input is ${type})`, data);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) typeError(op, `${name}.shape`, 'an array of dimensions', shape);
  if (sizeOf(shape) !== data.length) throw new RangeError(`${op}: "${name}" shape [${shape.join(',')}] needs ${sizeOf(shape)} elements, data has ${data.length}`);
  const n = data.length;
  let held: TypedData;
  switch (type) {
    case 'int16': case 'uint16':
      held = Int32Array.from(data as Int16Array | Uint16Array);
      return { dtype: 'int32', data: held, shape };
    case 'uint32': {
      const d = new BigInt64Array(n);
      (data as Uint32Array).forEach((x, i) => (d[i] = BigInt(x)));
      return { dtype: 'int64', data: d, shape };
    }
    case 'uint64': {
      const d = new BigInt64Array(n);
      (data as BigUint64Array).forEach((x, i) => {
        if (x >= TWO_63) throw new RangeError(`${op}: input "${name}"[${i}] = ${x}: uint64 values of 2^63 or more are not supported (neonn holds uint64 in int64)`);
        d[i] = x;
      });
      return { dtype: 'int64', data: d, shape };
    }
    case 'bfloat16': {
      const bits = new Uint32Array(n);
      (data as Uint16Array).forEach((b, i) => (bits[i] = b << 16));
      return { dtype: 'float32', data: new Float32Array(bits.buffer), shape };
    }
    case 'string':
      return { dtype: 'float32', data: Float32Array.from(data as string[], (s, i) => parseNumber(op, name, i, s)), shape };
  }
}

/** bfloat16 bits of a float32, rounded to nearest even (a value a Cast already rounded is exact). */
function bfloat16Bits(f: Float32Array): Uint16Array {
  const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i];
    out[i] = (x & 0x7fffffff) > 0x7f800000 ? (x >>> 16) | 0x40 : (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** An output held in `v` as its declared widened type. */
export function narrowOutput(type: WidenedType, v: TValue): WidenedTensor {
  const n = sizeOf(v.shape);
  const d = v.data.subarray(0, n);
  switch (type) {
    case 'int16': return new WidenedTensor(type, Int16Array.from(d as Int32Array), v.shape);
    case 'uint16': return new WidenedTensor(type, Uint16Array.from(d as Int32Array), v.shape);
    case 'uint32': return new WidenedTensor(type, Uint32Array.from(d as BigInt64Array, (x) => Number(BigInt.asUintN(32, x))), v.shape);
    case 'uint64': return new WidenedTensor(type, BigUint64Array.from(d as BigInt64Array, (x) => BigInt.asUintN(64, x)), v.shape);
    case 'bfloat16': return new WidenedTensor(type, bfloat16Bits(d as Float32Array), v.shape);
    case 'string': return new WidenedTensor(type, Array.from(d as Float32Array, formatFloat32), v.shape);
  }
}
