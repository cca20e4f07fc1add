/**
 * Option readers shared by every op. Each throws through the helpers in
 * errors.ts, so messages name the op, the argument, what was expected and
 * what came.
 */
import { rangeError, typeError } from './errors';

/**
 * Checks that `options` is undefined or a plain object whose keys are all in
 * `allowed`; returns it (or `{}`).
 * @throws {TypeError} for a non-object or an unknown key (a typo must not be silently ignored)
 */
export function checkOptions<T extends object>(op: string, options: T | undefined, allowed: ReadonlySet<string>): Partial<T> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    typeError(op, 'options', 'an object', options);
  }
  for (const key in options) {
    if (!allowed.has(key)) {
      throw new TypeError(`${op}: unknown option ${JSON.stringify(key)}; expected one of ${[...allowed].join(', ')}`);
    }
  }
  return options;
}

/** An optional boolean option (default false). */
export function optBool(op: string, name: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') typeError(op, name, 'a boolean', v);
  return v;
}

/** An optional finite number option. NaN and ±Infinity are RangeErrors. */
export function optFinite(op: string, name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number') typeError(op, name, 'a number', v);
  if (!Number.isFinite(v)) rangeError(op, `"${name}" must be a finite number, got ${String(v)}`);
  return v;
}

// --- window hyperparameters (conv2d, pooling): number | [h, w] pairs and pads ---

/** The largest kernel, stride, dilation, pad or group neonn accepts (a 32-bit int). */
export const MAX_HYPERPARAMETER = 0x7fffffff;

function checkInt(op: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number') typeError(op, name, 'a number', v);
  if (!Number.isInteger(v) || v < min || v > MAX_HYPERPARAMETER) {
    rangeError(op, `"${name}" must be an integer in [${min}, ${MAX_HYPERPARAMETER}], got ${String(v)}`);
  }
  return v;
}

/** An optional integer option in [min, 2^31-1]; NaN, fractions and out-of-range values are RangeErrors. */
export function optInt(op: string, name: string, v: unknown, dflt: number, min: number): number {
  return v === undefined ? dflt : checkInt(op, name, v, min);
}

/**
 * A `number | [h, w]` hyperparameter (kernel, strides, dilations), each entry
 * an integer >= `min`. `dflt` applies when `v` is undefined; without one, the
 * option is required.
 * @throws {TypeError} for anything but a number or an array of two numbers
 * @throws {RangeError} for a wrong array length or an entry out of range
 */
export function optPair(op: string, name: string, v: unknown, min: number, dflt?: number): [number, number] {
  if (v === undefined && dflt !== undefined) return [dflt, dflt];
  if (typeof v === 'number') {
    const n = checkInt(op, name, v, min);
    return [n, n];
  }
  if (!Array.isArray(v)) typeError(op, name, 'a number or [h, w]', v);
  if (v.length !== 2) rangeError(op, `"${name}" must be a number or [h, w], got an array of ${v.length}`);
  return [checkInt(op, `${name}[0]`, v[0], min), checkInt(op, `${name}[1]`, v[1], min)];
}

/**
 * Pads as `[top, left, bottom, right]` from a number (all sides), `[h, w]`
 * (symmetric) or `[top, left, bottom, right]`; default 0. Entries are integers >= 0.
 * @throws {TypeError} for anything but a number or an array of numbers
 * @throws {RangeError} for a wrong array length or a negative/non-integer entry
 */
export function optPads(op: string, name: string, v: unknown): [number, number, number, number] {
  if (v === undefined) return [0, 0, 0, 0];
  if (typeof v === 'number') {
    const p = checkInt(op, name, v, 0);
    return [p, p, p, p];
  }
  if (!Array.isArray(v)) typeError(op, name, 'a number, [h, w] or [top, left, bottom, right]', v);
  if (v.length !== 2 && v.length !== 4) {
    rangeError(op, `"${name}" must be a number, [h, w] or [top, left, bottom, right], got an array of ${v.length}`);
  }
  const p = v.map((e: unknown, i: number) => checkInt(op, `${name}[${i}]`, e, 0));
  return p.length === 2 ? [p[0], p[1], p[0], p[1]] : [p[0], p[1], p[2], p[3]];
}

/** A string option that must be one of `allowed`; `dflt` when undefined. */
export function optEnum<T extends string>(op: string, name: string, v: unknown, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  const list = allowed.map((a) => `'${a}'`).join(' or ');
  if (typeof v !== 'string') typeError(op, name, list, v);
  if (!(allowed as readonly string[]).includes(v)) rangeError(op, `"${name}" must be ${list}, got ${JSON.stringify(v)}`);
  return v as T;
}

// --- helpers of the elementwise, normalization and layout ops ---------------

/** An integer argument (TypeError if not a number, RangeError if not an integer). */
export function intArg(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number') typeError(op, name, 'an integer', v);
  if (!Number.isInteger(v)) rangeError(op, `"${name}" must be an integer, got ${String(v)}`);
  return v;
}

/** An axis in [-rank, rank) (or up to `rank` inclusive when `inclusive`), made non-negative. */
export function axisArg(op: string, name: string, v: unknown, rank: number, inclusive = false): number {
  const axis = intArg(op, name, v);
  const hi = inclusive ? rank : rank - 1;
  if (axis < -rank || axis > hi) {
    rangeError(op, `"${name}" ${axis} is out of range for rank ${rank}: expected ${-rank}..${hi}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** An array of integers (TypeError for anything else), copied. */
export function intListArg(op: string, name: string, v: unknown): number[] {
  if (!Array.isArray(v)) typeError(op, name, 'an array of integers', v);
  return v.map((d: unknown, i) => intArg(op, `${name}[${i}]`, d));
}
