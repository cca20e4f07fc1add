/**
 * What the elementwise, normalization and layout ops add to ./run.ts: an
 * `out` that may alias an input exactly (elementwise ops read each element
 * before writing it), and shapes in the native calls' positional form.
 * @internal
 */
import { rangeError } from '../errors';
import { TensorLike } from '../tensor';
import { outTensor } from './run';

/** An input the output must not overlap, and whether `out` may be exactly it. */
export interface OutInput {
  name: string;
  data: Float32Array;
  sameAllowed: boolean;
}

/**
 * The op's output (see outTensor), except that `out` may be exactly an input
 * marked `sameAllowed` (same buffer, offset and length: in place); a partial
 * overlap with it is still a RangeError.
 */
export function outArg(op: string, v: unknown, shape: readonly number[], inputs: readonly OutInput[]): TensorLike {
  const strict = inputs.filter((x) => !x.sameAllowed).map((x): [string, Float32Array] => [x.name, x.data]);
  const out = outTensor(op, v, [...shape], strict);
  const o = out.data;
  for (const x of inputs) {
    if (!x.sameAllowed || o.buffer !== x.data.buffer) continue;
    if (o.byteOffset === x.data.byteOffset && o.length === x.data.length) continue;
    if (o.byteOffset < x.data.byteOffset + x.data.byteLength && x.data.byteOffset < o.byteOffset + o.byteLength) {
      rangeError(op, `"out" overlaps "${x.name}" (only out === ${x.name}, same shape, is allowed)`);
    }
  }
  return out;
}

/** A shape as the native calls take it: `rank, d0, ..., d(rank-1)`. */
export function dimsArgs(shape: readonly number[]): number[] {
  return [shape.length, ...shape];
}
