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
