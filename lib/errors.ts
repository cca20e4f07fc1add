/**
 * Error classes and the one helper every argument check goes through, so that
 * messages read the same everywhere:
 * `TypeError: gemm: expected "a" to be a float32 Tensor, received Int32Array`.
 */

/** A runtime failure of neonn itself (not a wrong argument). */
export class NeonnError extends Error {
  /** Stable machine-readable code, e.g. `ERR_NEONN_BACKEND_UNAVAILABLE`. */
  readonly code: string;
  /** The op that failed, e.g. `gemm`, when there is one. */
  readonly op?: string;
  /** The backend the op ran on, when known. */
  readonly backend?: string;

  constructor(message: string, code: string, op?: string, backend?: string) {
    super(message);
    this.name = 'NeonnError';
    this.code = code;
    if (op !== undefined) this.op = op;
    if (backend !== undefined) this.backend = backend;
  }
}

/** How a value looks in an error message: `Int32Array`, `number 3`, `string "x"`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'number':
      return `number ${String(value)}`;
    case 'string':
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'boolean':
      return `boolean ${String(value)}`;
    case 'bigint':
      return `bigint ${String(value)}n`;
    case 'function':
      return 'function';
    case 'symbol':
      return 'symbol';
    default: {
      if (Array.isArray(value)) return `Array(${value.length})`;
      const ctor = (value as { constructor?: { name?: unknown } }).constructor;
      return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'object';
    }
  }
}

/** Throws `TypeError: op: expected "name" to be <expected>, received <what came>`. */
export function typeError(op: string, name: string, expected: string, received: unknown): never {
  throw new TypeError(`${op}: expected "${name}" to be ${expected}, received ${describe(received)}`);
}

/** Throws `RangeError: op: <message>`. */
export function rangeError(op: string, message: string): never {
  throw new RangeError(`${op}: ${message}`);
}

/**
 * Native errors arrive as TypeError/RangeError (re-checks) or as Error with a
 * `code`; the latter become NeonnError carrying op and backend. `stackFrom`
 * keeps the caller's stack for async ops (the native stack is empty).
 */
export function fromNative(err: unknown, op: string, backend: string, stackFrom?: Error): Error {
  // typeof, not instanceof Object: an error from another realm is no instance of this realm's Object.
  if (typeof err !== 'object' || err === null || typeof (err as Error).message !== 'string') {
    return new NeonnError(`${op}: ${String(err)}`, 'ERR_NEONN_INTERNAL', op, backend);
  }
  const e = err as Error & { code?: unknown };
  // Native errors are made in the realm the addon was loaded in, which need not
  // be the caller's (vm contexts, jest): rebuild them here so instanceof works.
  let out: Error;
  if (e.name === 'TypeError') out = new TypeError(e.message);
  else if (e.name === 'RangeError') out = new RangeError(e.message);
  else if (e instanceof NeonnError) out = e;
  else out = new NeonnError(e.message, typeof e.code === 'string' ? e.code : 'ERR_NEONN_INTERNAL', op, backend);
  if (typeof e.code === 'string' && out !== e) (out as { code?: string }).code = e.code;
  const stack = stackFrom?.stack ?? (out === e ? undefined : e.stack);
  if (stack !== undefined) out.stack = `${out.name}: ${out.message}\n${stack.split('\n').slice(1).join('\n')}`;
  return out;
}

/**
 * Throws `NeonnError` code `ERR_NEONN_DETACHED` when `data`'s buffer was
 * detached (transferred with structuredClone/postMessage): it then reads as
 * 0 elements. Called where a size check failed with 0 elements and a
 * non-empty shape, so a detached buffer gets this error, not a size one.
 */
export function checkAttached(op: string, name: string, data: ArrayBufferView, wanted: number): void {
  // ArrayBuffer.prototype.detached is newer than Node 20: use it when present,
  // else a 0-byte buffer under a view that should hold data means detached.
  const buffer = data.buffer as ArrayBufferLike & { detached?: boolean };
  const detached = typeof buffer.detached === 'boolean' ? buffer.detached : buffer.byteLength === 0 && wanted > 0;
  if (detached) {
    throw new NeonnError(`${op}: "${name}" is backed by a detached ArrayBuffer (transferred or detached)`, 'ERR_NEONN_DETACHED', op);
  }
}
