/**
 * `nn.runOp` / `nn.async.runOp` and `nn.ops.<Name>`: every op of the op
 * schema callable directly, its checks and its native call derived from the
 * schema entry (ONNX semantics, ONNX attribute names).
 */
import { NeonnError, checkAttached, fromNative, typeError } from '../errors';
import { DType, DTYPE_CODE, TypedData, allocate, dtypeOfData, holds } from '../dtype';
import { binding } from '../native';
import { Tensor, sizeOf } from '../tensor';
import { Errors, TValue, callErrors, execSchemaOp, inferNode, nativeTensor } from './exec';
import { SCHEMA, schemaOf } from './schema';
import type { AttrValue, OpSchema } from './schema/types';

/** A tensor of any dtype: a typed array and a shape (bool as a Uint8Array of 0/1). */
export class TypedTensor implements TValue {
  readonly dtype: DType;
  readonly data: TypedData;
  readonly shape: readonly number[];

  /**
   * @param dtype - the element type; `data` must be its typed array (int64: BigInt64Array)
   * @param data - the elements, not copied
   * @param shape - dimensions (0 allowed: an empty tensor)
   */
  constructor(dtype: DType, data: TypedData, shape?: readonly number[]) {
    if (!Object.prototype.hasOwnProperty.call(DTYPE_CODE, dtype)) typeError('TypedTensor', 'dtype', `one of ${Object.keys(DTYPE_CODE).join(', ')}`, dtype);
    if (!holds(dtype, data)) typeError('TypedTensor', 'data', `the typed array of ${dtype}`, data);
    const s = shape ?? [data.length];
    if (!Array.isArray(s) || !s.every((d) => Number.isInteger(d) && d >= 0)) typeError('TypedTensor', 'shape', 'an array of non-negative integers', s);
    if (sizeOf(s) !== data.length) throw new RangeError(`TypedTensor: shape [${s.join(',')}] needs ${sizeOf(s)} elements, data has ${data.length}`);
    this.dtype = dtype;
    this.data = data;
    this.shape = Object.freeze([...s]);
  }
}

/** An op's input: a float32 Tensor (or `{ data: Float32Array, shape }`), a TypedTensor, or null for an omitted optional one. */
export type OpInput = Tensor | TypedTensor | { data: TypedData; shape: readonly number[]; dtype?: DType } | null | undefined;

/** A float32 result is a {@link Tensor}, any other a {@link TypedTensor}. */
export type OpOutput = Tensor | TypedTensor;

function toValue(op: string, i: number, v: OpInput): TValue | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'object') typeError(op, `inputs[${i}]`, 'a tensor or null', v);
  const data = (v as { data?: unknown }).data;
  const dtype = (v as { dtype?: DType }).dtype ?? dtypeOfData(data);
  if (dtype === undefined || !holds(dtype, data)) typeError(op, `inputs[${i}].data`, 'a typed array matching its dtype', data);
  const shape = (v as { shape?: unknown }).shape;
  if (!Array.isArray(shape)) typeError(op, `inputs[${i}].shape`, 'an array of dimensions', shape);
  if (data.length === 0) checkAttached(op, `inputs[${i}]`, data, sizeOf(shape));
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || sizeOf(shape) !== data.length) {
    throw new RangeError(`${op}: inputs[${i}] shape [${shape.join(',')}] does not match its ${data.length} elements (detached buffer?)`);
  }
  return { dtype, data, shape };
}

/** The op's result as the caller sees it: exactly its elements (empty tensors were given a 1-element buffer). */
export function toOutput(v: TValue): OpOutput {
  const n = sizeOf(v.shape);
  const data = v.data.length === n ? v.data : (v.data.subarray(0, n) as TypedData);
  return v.dtype === 'float32' && n > 0 ? new Tensor(data as Float32Array, v.shape) : new TypedTensor(v.dtype, data, v.shape);
}

function lookup(name: unknown, domain: unknown): OpSchema {
  if (typeof name !== 'string') typeError('runOp', 'name', 'an op name (string)', name);
  if (domain !== undefined && typeof domain !== 'string') typeError('runOp', 'domain', 'a string', domain);
  const s = schemaOf(name, (domain as string | undefined) ?? '');
  if (!s) throw new RangeError(`runOp: unknown op "${name}" (see nn.opNames())`);
  return s;
}

function checkAttrObject(op: string, attrs: unknown): Record<string, AttrValue> {
  if (attrs === undefined) return {};
  if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) typeError(op, 'attrs', 'an object of attributes', attrs);
  return attrs as Record<string, AttrValue>;
}

/** Options of {@link runOp}. */
export interface RunOpOptions {
  /** The op's domain ('' for ONNX's default domain, 'com.microsoft' for contrib ops). */
  domain?: string;
  /** How many outputs to produce (Split). Default: the schema's non-optional outputs. */
  numOutputs?: number;
}

function defaultOutputs(s: OpSchema, options: RunOpOptions | undefined): number {
  const n = options?.numOutputs;
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 1024)) throw new RangeError(`${s.name}: "numOutputs" must be an integer in [1, 1024], got ${String(n)}`);
  return n ?? s.outputs.filter((o) => !o.optional).length;
}

/**
 * Runs one op of the op schema on the calling thread, with ONNX semantics
 * and attribute names.
 * @param name - the op, e.g. `'Resize'`, `'HardSwish'`
 * @param inputs - its inputs in schema order (null for an omitted optional one)
 * @param attrs - its attributes; omitted ones take the schema's defaults
 * @returns its outputs
 * @throws {TypeError} for inputs that are not tensors
 * @throws {RangeError} for inconsistent shapes, dtypes or attributes
 * @example
 * const [y] = nn.runOp('HardSwish', [x]);
 */
export function runOp(name: string, inputs: readonly OpInput[], attrs?: Record<string, AttrValue>, options?: RunOpOptions): OpOutput[] {
  const s = lookup(name, options?.domain);
  if (!Array.isArray(inputs)) typeError(s.name, 'inputs', 'an array of tensors', inputs);
  const vals = inputs.map((v, i) => toValue(s.name, i, v));
  const err = callErrors(s.name);
  try {
    return execSchemaOp(s, vals, checkAttrObject(s.name, attrs), defaultOutputs(s, options), err).map(toOutput);
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError || e instanceof NeonnError) throw e;
    throw fromNative(e, s.name, binding.getBackend());
  }
}

/** {@link runOp} on the libuv pool. */
export async function runOpAsync(name: string, inputs: readonly OpInput[], attrs?: Record<string, AttrValue>, options?: RunOpOptions): Promise<OpOutput[]> {
  const s = lookup(name, options?.domain);
  if (!Array.isArray(inputs)) typeError(s.name, 'inputs', 'an array of tensors', inputs);
  const vals = inputs.map((v, i) => toValue(s.name, i, v));
  const err: Errors = callErrors(s.name);
  const infos = vals.map((v) => (v === undefined ? undefined : { dtype: v.dtype, shape: v.shape, value: v.data }));
  const { attrs: full, outs } = inferNode(s, infos, checkAttrObject(s.name, attrs), defaultOutputs(s, options), err);
  if (outs.every((o) => o.value !== undefined)) return outs.map((o) => toOutput({ dtype: o.dtype, shape: o.shape, data: o.value! }));
  const kernel = s.kernel === undefined ? s.name : s.kernel;
  if (kernel === null) return err.unsupported('has no kernel for these inputs');
  const values: TValue[] = outs.map((o) => ({ dtype: o.dtype, shape: o.shape, data: allocate(o.dtype, Math.max(1, sizeOf(o.shape))) }));
  const stack = new Error();
  try {
    await binding.kernel(kernel, vals.map((v) => (v === undefined ? null : nativeTensor(v))), values.map(nativeTensor), full);
  } catch (e) {
    throw fromNative(e, s.name, binding.getBackend(), stack);
  }
  return values.map(toOutput);
}

/** The names of every op in the schema (`domain.Name` outside ONNX's default domain). */
export function opNames(): string[] {
  return [...SCHEMA.values()].map((s) => (s.domain ? `${s.domain}.${s.name}` : s.name)).sort();
}
