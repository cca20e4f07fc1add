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
