/**
 * What the elementwise, normalization and layout ops share: the `out`
 * option, and running a native call sync or on the libuv pool with errors
 * rebuilt in the caller's realm (and, async, with the caller's stack).
 * @internal
 */
import { fromNative, rangeError } from '../errors';
import { binding } from '../native';
import { Tensor, TensorLike, checkTensor, fmtShape, sizeOf } from '../tensor';

/** An input the output must not overlap, and whether `out` may be exactly it (elementwise ops). */
export interface OutInput {
  name: string;
  data: Float32Array;
  sameAllowed: boolean;
}

/**
 * The `out` option of an op whose result has `shape`: validated (exact shape,
 * no overlap with any input except an allowed exact alias), or a new tensor
 * when absent.
 * @throws {TypeError} when out is not a float32 tensor
 * @throws {RangeError} for a wrong shape or an overlapping buffer
 */
export function outArg(op: string, v: unknown, shape: readonly number[], inputs: readonly OutInput[]): Tensor {
  if (v === undefined) {
    const n = sizeOf(shape);
    if (n > 0x7fffffff) rangeError(op, `result ${fmtShape(shape)} has more elements than a Float32Array can hold`);
    return new Tensor(new Float32Array(n), shape);
  }
  const out = checkTensor(op, 'out', v);
  if (out.shape.length !== shape.length || out.shape.some((d, i) => d !== shape[i])) {
    rangeError(op, `"out" must have shape ${fmtShape(shape)}, got ${fmtShape(out.shape)}`);
  }
  const o = out.data;
  for (const x of inputs) {
    if (o.buffer !== x.data.buffer) continue;
    if (x.sameAllowed && o.byteOffset === x.data.byteOffset && o.length === x.data.length) continue;
    if (o.byteOffset < x.data.byteOffset + x.data.byteLength && x.data.byteOffset < o.byteOffset + o.byteLength) {
      rangeError(op, `"out" overlaps "${x.name}"${x.sameAllowed ? ` (only out === ${x.name}, same shape, is allowed)` : ''}`);
    }
  }
  return out instanceof Tensor ? out : new Tensor(out.data, out.shape);
}

/** Runs a validated native call now; returns `out`. */
export function runSync(op: string, out: Tensor, call: () => void): Tensor {
  try {
    call();
  } catch (err) {
    throw fromNative(err, op, binding.getBackend());
  }
  return out;
}

/** Runs a validated native call on the libuv pool; resolves to `out`. */
export async function runAsync(op: string, out: Tensor, call: () => Promise<void>): Promise<Tensor> {
  const backend = binding.getBackend();
  const stack = new Error();
  try {
    await call();
  } catch (err) {
    throw fromNative(err, op, backend, stack);
  }
  return out;
}

/** A tensor argument as a Tensor (no copy). */
export function asTensor(t: TensorLike): Tensor {
  return t instanceof Tensor ? t : new Tensor(t.data, t.shape);
}
