/**
 * What every op facade does around its native call: validate or allocate
 * `out`, then run sync or on the libuv pool with errors mapped by fromNative.
 * @internal
 */
import { fromNative, rangeError } from '../errors';
import { binding, NativeBinding } from '../native';
import { Tensor, TensorLike, checkTensor, fmtShape, sizeOf } from '../tensor';

/** The largest element count of a result neonn allocates (a 32-bit BLAS size). */
const MAX_RESULT = 0x7fffffff;

function overlaps(a: Float32Array, b: Float32Array): boolean {
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/**
 * The op's output: `out` checked to have exactly `shape` and to share no
 * memory with any of `inputs` (each `[name, data, note?]`; the note is added
 * to the error), or a new zeroed tensor of `shape`.
 */
export function outTensor(op: string, out: unknown, shape: number[], inputs: [string, Float32Array | null, string?][]): TensorLike {
  if (out === undefined) {
    const size = sizeOf(shape);
    if (size > MAX_RESULT) rangeError(op, `result ${fmtShape(shape)} has more elements than a Float32Array can hold`);
    return new Tensor(new Float32Array(size), shape);
  }
  const o = checkTensor(op, 'out', out);
  if (o.shape.length !== shape.length || o.shape.some((d, i) => d !== shape[i])) {
    rangeError(op, `"out" must have shape ${fmtShape(shape)}, got ${fmtShape(o.shape)}`);
  }
  for (const [name, data, note] of inputs) {
    if (data !== null && overlaps(o.data, data)) rangeError(op, `"out" overlaps "${name}"${note ? ` (${note})` : ''}`);
  }
  return o;
}

function asTensor(t: TensorLike): Tensor {
  return t instanceof Tensor ? t : new Tensor(t.data, t.shape);
}

/** Runs a sync native call and returns `out` as a Tensor. */
export function runSync(op: string, out: TensorLike, call: () => void): Tensor {
  try {
    call();
  } catch (err) {
    throw fromNative(err, op, binding.getBackend());
  }
  return asTensor(out);
}

/** Awaits an async native call (the caller's stack kept) and returns `out` as a Tensor. */
export async function runAsync(op: string, out: TensorLike, call: () => Promise<void>): Promise<Tensor> {
  const backend = binding.getBackend();
  const stack = new Error();
  try {
    await call();
  } catch (err) {
    throw fromNative(err, op, backend, stack);
  }
  return asTensor(out);
}

/** The ops whose native entry points have a sync form `<op>Sync`. */
type SyncName = { [K in keyof NativeBinding]: K extends `${infer Op}Sync` ? Op : never }[keyof NativeBinding];
type SyncArgs<Op extends SyncName> = NativeBinding[`${Op}Sync`] extends (...args: infer A) => void ? A : never;

/** Receives the native calls made while a program is being planned, instead of running them. */
export type Recorder = (op: string, args: unknown[]) => void;
let recorder: Recorder | undefined;

/**
 * Calls `fn` with every native op call it makes recorded by `r` (not run):
 * how the planner turns the public ops into program steps.
 */
export function recording<T>(r: Recorder | undefined, fn: () => T): T {
  const saved = recorder;
  recorder = r;
  try {
    return fn();
  } finally {
    recorder = saved;
  }
}

/** The one way the facades call a sync native op: run now, or recorded while planning. */
export function nativeSync<Op extends SyncName>(op: Op, ...args: SyncArgs<Op>): void {
  if (recorder !== undefined) {
    recorder(op, args);
    return;
  }
  (binding[`${op}Sync`] as unknown as (...a: unknown[]) => void)(...args);
}
