/**
 * Backend selection and the thread budget. NEONN_BACKEND / NEONN_THREADS are
 * applied once, when this module loads.
 */
import { readConfig } from './config';
import { NeonnError, fromNative, rangeError, typeError } from './errors';
import { binding } from './native';

/** One backend as `nn.backends()` reports it. */
export interface BackendInfo {
  /** Name to pass to {@link setBackend} or NEONN_BACKEND. */
  readonly name: string;
  /** Whether it can run on this machine. */
  readonly available: boolean;
  /** Why it is unavailable (absent when available). */
  readonly reason?: string;
  /** Library version, e.g. `0.3.29`. */
  readonly version?: string;
  /** Library configuration, e.g. OpenBLAS's `openblas_get_config()`. */
  readonly config?: string;
  /** CPU core the library picked at run time, e.g. `Sandybridge`. */
  readonly core?: string;
  /** Backend that runs the ops this one lacks. */
  readonly fallback?: string;
  /** The shared library it was loaded from at run time (nnpack, xnnpack, blas:<path>). */
  readonly library?: string;
  /** Threads it uses per op. */
  readonly threads: number;
  /** Ops it has executed in this process (shows which backend really ran). */
  readonly opsRun: number;
  /** Convs it ran per algorithm, e.g. `{ wt8x8: 12, im2col: 3 }` (auto counts its choices). */
  readonly convRuns: Readonly<Record<string, number>>;
}

/**
 * Every backend neonn knows, available or not (with the reason).
 * @example
 * nn.backends().filter((b) => b.available).map((b) => b.name); // ['openblas', 'openblas-dl', 'reference']
 */
export function backends(): BackendInfo[] {
  return binding.backends();
}

function listing(): string {
  const all = binding.backends();
  const ok = all.filter((b) => b.available).map((b) => b.name);
  const missing = all.filter((b) => !b.available).map((b) => `${b.name} (${b.reason ?? 'unavailable'})`);
  return `available: ${ok.join(', ')}${missing.length ? `; unavailable: ${missing.join(', ')}` : ''}`;
}

/**
 * Selects the backend for every op that follows (queued async ops keep theirs).
 * @param name - a name from {@link backends}, or `blas:<path>` for any CBLAS
 *   library by path (e.g. Debian's BLIS), loaded on first use
 * @throws {TypeError} if `name` is not a string
 * @throws {RangeError} if no backend has that name (the message lists them)
 * @throws {NeonnError} code `ERR_NEONN_BACKEND_UNAVAILABLE` if it cannot run here
 * @example
 * nn.setBackend('openblas-dl');
 */
export function setBackend(name: string): void {
  if (typeof name !== 'string') typeError('setBackend', 'name', 'a string', name);
  if (name.startsWith('blas:')) return setBlasBackend(name);
  const info = binding.backends().find((b) => b.name === name);
  if (info === undefined) rangeError('setBackend', `unknown backend ${JSON.stringify(name)}; ${listing()}`);
  if (!info.available) {
    throw new NeonnError(
      `setBackend: backend ${JSON.stringify(name)} is unavailable: ${info.reason ?? 'unknown reason'}; ${listing()}`,
      'ERR_NEONN_BACKEND_UNAVAILABLE',
      'setBackend',
      name,
    );
  }
  binding.setBackend(name);
}

/**
 * `blas:<path>`: loads the CBLAS library at <path> (once; later calls reuse
 * it) as a backend whose conv and fullyConnected run im2col + its sgemm.
 */
function setBlasBackend(name: string): void {
  const path = name.slice('blas:'.length);
  if (path === '') rangeError('setBackend', '"blas:" needs a library path, e.g. blas:/usr/lib/x86_64-linux-gnu/libblis.so.4');
  try {
    binding.setBackend(name);
  } catch (e) {
    throw fromNative(e, 'setBackend', name);
  }
}

/** Name of the active backend. */
export function getBackend(): string {
  return binding.getBackend();
}

/**
 * Sets the threads every backend uses per op (one process-wide budget).
 * More threads than the machine has online cores only queue on them (and a
 * pool per library of that many threads makes every op wait for the
 * scheduler), so a larger `n` is clamped to the online core count, with a
 * one-time process warning (code `NEONN_THREADS_CLAMPED`); {@link getThreads}
 * reports the count in effect.
 * @param n - an integer from 1 to 1024
 * @throws {TypeError} if `n` is not a number
 * @throws {RangeError} if `n` is not an integer in range
 * @example
 * nn.setThreads(64); // on 8 cores: a warning, and nn.getThreads() === 8
 */
export function setThreads(n: number): void {
  if (typeof n !== 'number') typeError('setThreads', 'n', 'a number', n);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    rangeError('setThreads', `"n" must be an integer from 1 to 1024, got ${String(n)}`);
  }
  applyThreads(n, 'setThreads');
}

/** Threads per op in effect (NEONN_THREADS, setThreads, or the online core count; never above the cores). */
export function getThreads(): number {
  return binding.getThreads();
}

let clampWarned = false;

/** Sets the budget (the native side clamps it too) and warns, once per process, when it was clamped. */
function applyThreads(n: number, source: string): void {
  const set = binding.setThreads(n);
  if (set < n && !clampWarned) {
    clampWarned = true;
    process.emitWarning(
      `${source}: ${n} threads requested, but this machine has ${binding.onlineCores()} online cores; using ${set}` +
        ' (more threads than cores only wait for each other). This warning is shown once.',
      { code: 'NEONN_THREADS_CLAMPED' },
    );
  }
}

function applyEnvironment(): void {
  const config = readConfig();
  if (config.threads !== undefined) applyThreads(config.threads, `NEONN_THREADS=${config.threads}`);
  if (config.backend !== undefined) {
    try {
      setBackend(config.backend);
    } catch (err) {
      const e = err as Error;
      e.message = `NEONN_BACKEND=${config.backend}: ${e.message}`;
      throw e;
    }
  }
  if (config.debug) {
    process.stderr.write(`neonn: backend ${getBackend()}, ${getThreads()} threads\n`);
  }
}

applyEnvironment();
