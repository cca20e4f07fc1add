/**
 * Output size of a sliding window along one axis (conv2d and pooling).
 * @internal
 */
import { rangeError } from '../errors';

/** One spatial axis of a window op, as the caller gave it. */
export interface WindowAxis {
  /** "H" or "W" */
  axis: string;
  input: number;
  kernel: number;
  stride: number;
  dilation: number;
  padBegin: number;
  padEnd: number;
}

/**
 * `floor((in + pads - dilation*(k-1) - 1) / stride) + 1`, or with `ceil` the
 * ONNX ceil-mode size (the last window must start inside the input or the
 * begin padding).
 * @throws {RangeError} when the kernel extent exceeds the padded input
 */
export function windowOutputSize(op: string, a: WindowAxis, ceil = false): number {
  const extent = a.dilation * (a.kernel - 1) + 1;
  const padded = a.input + a.padBegin + a.padEnd;
  if (extent > padded) {
    rangeError(
      op,
      `kernel extent along ${a.axis} (${extent} = dilation ${a.dilation} * (k ${a.kernel} - 1) + 1) is larger than the padded input (${padded} = ${a.input} + pads ${a.padBegin} + ${a.padEnd}): no output`,
    );
  }
  const span = padded - extent;
  let out = (ceil ? Math.ceil(span / a.stride) : Math.floor(span / a.stride)) + 1;
  if (ceil && (out - 1) * a.stride >= a.input + a.padBegin) out -= 1;
  return out;
}
