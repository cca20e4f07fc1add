/**
 * Runs one schema op on typed values: checks the inputs against the
 * schema (count, dtypes, planning-time constants), fills attribute defaults
 * and checks their types, infers the outputs, then calls the op's native
 * kernel — or, while a program is being planned, records that call (see
 * ops/run.ts `recording`). The same path serves `nn.ops.*`, constant
 * folding at load and the program planner.
 * @internal
 */
import { NeonnError, describe } from '../errors';
import { DType, DTYPE_CODE, TypedData, allocate, toNumbers } from '../dtype';
import type { NativeTensor } from '../native';
import { nativeSync } from '../ops/run';
import { fmtShape, sizeOf } from '../tensor';
import type { AttrValue, InferCtx, InferInput, OpSchema, OutInfo } from './schema/types';

/** A typed tensor value: dtype, shape and the typed array holding it. */
export interface TValue {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TypedData;
}

/** How an op reports bad input: plain RangeErrors for a direct call, NeonnErrors naming the node at load. */
export interface Errors {
  fail(message: string): never;
  unsupported(message: string): never;
}

/** The errors of a direct call `op(...)`: RangeError for both kinds. */
export function callErrors(op: string): Errors {
  return {
    fail: (m) => {
      throw new RangeError(`${op}: ${m}`);
    },
    unsupported: (m) => {
      throw new NeonnError(`${op}: ${m}`, 'ERR_NEONN_UNSUPPORTED', op);
    },
  };
}

/** The largest element count of one tensor neonn allocates. */
const MAX_ELEMENTS = 0x7fffffff;

/**
 * Checks and completes a node's attributes against the schema: unknown
 * names, wrong types and out-of-list strings are errors; defaults fill in.
 */
export function checkAttrs(schema: OpSchema, attrs: Readonly<Record<string, AttrValue>>, err: Errors): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const name of Object.keys(attrs)) {
    if (!Object.prototype.hasOwnProperty.call(schema.attrs, name)) {
      err.unsupported(`attribute "${name}" is not supported (known: ${Object.keys(schema.attrs).join(', ') || 'none'})`);
    }
  }
  for (const [name, spec] of Object.entries(schema.attrs)) {
    const v = Object.prototype.hasOwnProperty.call(attrs, name) ? attrs[name] : spec.default;
    if (v === undefined) {
      if (spec.required) err.fail(`attribute "${name}" is required`);
      continue;
    }
    switch (spec.type) {
      case 'int':
        if (typeof v !== 'number' || !Number.isInteger(v)) err.fail(`attribute "${name}" must be an integer, got ${describe(v)}`);
        break;
      case 'float':
        if (typeof v !== 'number') err.fail(`attribute "${name}" must be a number, got ${describe(v)}`);
        break;
      case 'ints':
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x))) err.fail(`attribute "${name}" must be a list of integers, got ${describe(v)}`);
        break;
      case 'floats':
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) err.fail(`attribute "${name}" must be a list of numbers, got ${describe(v)}`);
        break;
      case 'string':
        if (typeof v !== 'string') err.fail(`attribute "${name}" must be a string, got ${describe(v)}`);
        if (spec.values && !spec.values.includes(v)) err.unsupported(`attribute "${name}" = ${JSON.stringify(v)} is not supported (${spec.values.map((x) => JSON.stringify(x)).join(', ')})`);
        break;
      case 'strings':
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) err.fail(`attribute "${name}" must be a list of strings, got ${describe(v)}`);
        break;
    }
    out[name] = v;
  }
  return out;
}

/** Checks the inputs' count and dtypes against the schema. */
export function checkInputs(schema: OpSchema, inputs: readonly (InferInput | undefined)[], err: Errors): void {
  const specs = schema.inputs;
  const variadic = specs.length > 0 && specs[specs.length - 1].variadic === true;
  if (!variadic && inputs.length > specs.length) err.fail(`takes at most ${specs.length} inputs, got ${inputs.length}`);
  for (let i = 0; i < Math.max(inputs.length, specs.length); i++) {
    const spec = specs[Math.min(i, specs.length - 1)];
    const v = inputs[i];
    if (v === undefined) {
      if (i < specs.length && !spec.optional) err.fail(`input ${i} ("${spec.name}") is required`);
      continue;
    }
    if (!spec.dtypes.includes(v.dtype)) err.unsupported(`input ${i} ("${spec.name}") of type ${v.dtype} is not supported (${spec.dtypes.join(', ')})`);
    if (spec.constant && v.value === undefined) err.unsupported(`input ${i} ("${spec.name}") must be known when the model is planned (a constant or computed from shapes), not computed from the data`);
  }
}

/** The inference context of one node. */
export function inferContext(schema: OpSchema, inputs: readonly (InferInput | undefined)[], attrs: Readonly<Record<string, AttrValue>>, numOutputs: number, err: Errors): InferCtx {
  const attr = (name: string): AttrValue | undefined => attrs[name];
  return {
    op: schema.name,
    inputs,
    numOutputs,
    input: (i) => inputs[i] ?? err.fail(`input ${i} is required`),
    has: (i) => inputs[i] !== undefined,
    values: (i) => {
      const v = inputs[i];
      if (v === undefined) return undefined;
      if (v.value === undefined) return err.unsupported(`input ${i} must be known when the model is planned, not computed from the data`);
      return toNumbers(v.value);
    },
    int: (n) => attr(n) as number,
    float: (n) => attr(n) as number,
    ints: (n) => attr(n) as number[] | undefined,
    floats: (n) => attr(n) as number[] | undefined,
    str: (n) => attr(n) as string,
    strs: (n) => attr(n) as string[] | undefined,
    hasAttr: (n) => attr(n) !== undefined,
    fail: err.fail,
    unsupported: err.unsupported,
  };
}

/** Checks the inputs, completes the attributes and infers the outputs. */
export function inferNode(schema: OpSchema, inputs: readonly (InferInput | undefined)[], attrs: Readonly<Record<string, AttrValue>>, numOutputs: number, err: Errors): { attrs: Record<string, AttrValue>; outs: OutInfo[] } {
  checkInputs(schema, inputs, err);
  const full = checkAttrs(schema, attrs, err);
  const outs = schema.infer(inferContext(schema, inputs, full, numOutputs, err));
  for (const o of outs) {
    for (const d of o.shape) if (!Number.isInteger(d) || d < 0) err.fail(`output shape ${fmtShape(o.shape)} is invalid`);
    if (sizeOf(o.shape) > MAX_ELEMENTS) err.fail(`output ${fmtShape(o.shape)} has more elements than neonn allocates (2^31 - 1)`);
  }
  return { attrs: full, outs };
}

export function nativeTensor(v: TValue): NativeTensor {
  return { data: v.data, shape: v.shape, dtype: DTYPE_CODE[v.dtype] };
}

/**
 * Runs (or records, while planning) one op over typed values and returns
 * its outputs. Outputs whose values inference computed need no kernel.
 */
/** Results execSchemaOp computed by shape inference, with no kernel (Shape, Size, small Range): planning-time constants. */
const FOLDED = new WeakSet<TypedData>();

/** Whether `data` is a result shape inference computed (see {@link execSchemaOp}). */
export function isFolded(data: TypedData): boolean {
  return FOLDED.has(data);
}

export function execSchemaOp(schema: OpSchema, inputs: readonly (TValue | undefined)[], attrs: Readonly<Record<string, AttrValue>>, numOutputs: number, err: Errors, isConstant: (i: number) => boolean = () => true): TValue[] {
  const infos: (InferInput | undefined)[] = inputs.map((v, i) => (v === undefined ? undefined : { dtype: v.dtype, shape: v.shape, ...(isConstant(i) ? { value: v.data } : {}) }));
  const { attrs: full, outs } = inferNode(schema, infos, attrs, numOutputs, err);
  // Every output computed by inference, or empty (a Slice past the end, a split of size 0): no kernel to run.
  if (outs.every((o) => o.value !== undefined || sizeOf(o.shape) === 0)) {
    return outs.map((o) => {
      if (o.value === undefined) return { dtype: o.dtype, shape: o.shape, data: allocate(o.dtype, 0) };
      FOLDED.add(o.value);
      return { dtype: o.dtype, shape: o.shape, data: o.value };
    });
  }
  const kernel = schema.kernel === undefined ? schema.name : schema.kernel;
  if (kernel === null) return err.unsupported('has no kernel for these inputs');
  const values: TValue[] = outs.map((o) => ({ dtype: o.dtype, shape: o.shape, data: allocate(o.dtype, Math.max(1, sizeOf(o.shape))) }));
  nativeSync('kernel', kernel, inputs.map((v) => (v === undefined ? null : nativeTensor(v))), values.map(nativeTensor), full);
  return values;
}
