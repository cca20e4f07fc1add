/**
 * Every NEONN_* environment variable, read and validated in one place, once,
 * when neonn loads. Explicit calls (setBackend, setThreads) override them.
 */

/** The environment-derived configuration. */
export interface Config {
  /** NEONN_BACKEND: backend to select at load (undefined: the default). */
  readonly backend?: string;
  /** NEONN_THREADS: threads per op for every backend (undefined: online cores; more than the cores are clamped with a warning). */
  readonly threads?: number;
  /** NEONN_NNPACK_LIBRARY: path of libnnpack.so for the nnpack backend. */
  readonly nnpackLibrary?: string;
  /** NODE_DEBUG contains "neonn": log backend choices and fallbacks to stderr. */
  readonly debug: boolean;
  /** NEONN_PRECISION: the default of loadOnnx's `precision` option (undefined: 'fp32'). */
  readonly precision?: 'fp32' | 'fp16';
}

/** The variables neonn reads, with what each does (for `neonn info` and docs). */
export const ENV_VARS: Readonly<Record<string, string>> = {
  NEONN_BACKEND: 'backend to use: a name from nn.backends() or blas:<path> (default: auto)',
  NEONN_CACHE_DIR: "where auto keeps its per-layer choices (default: $XDG_CACHE_HOME/neonn or ~/.cache/neonn; 'off': memory only)",
  NEONN_THREADS: 'threads per op, shared by every backend (default and most: the online cores; more are clamped with a warning)',
  NEONN_NNPACK_LIBRARY: 'path to libnnpack.so for the nnpack backend',
  NEONN_PRECISION: "default of loadOnnx's precision option: 'fp16' computes XNNPACK's NHWC regions in half precision where XNNPACK runs fp16 on the CPU (default 'fp32')",
  NEONN_REGIONS: "'off': run every layer on its own, never as an NHWC region on XNNPACK (xnnpack, and auto's measured choice); default 'on'",
  NEONN_WINOGRAD: "3x3 stride-1 convs of NHWC regions as Winograd F(4x4, 3x3): 'auto' (default: where the channels and output size make it pay), 'on' (every such conv), 'off' (never: XNNPACK's direct conv, whose rounding is a plain sum's)",
  NEONN_OPENBLAS_SOURCE: 'build time: OpenBLAS source directory or tarball to build from',
  NEONN_DEPS_CACHE: 'build time: where the OpenBLAS builds are cached (default deps/.cache)',
  NEONN_ADDON_PATH: 'load this neonn.node instead of the prebuild or build/Release (npm run test:asan: the sanitizer build)',
};

/**
 * Parses the environment.
 * @throws {RangeError} when a variable is set to an invalid value (the message names it)
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const backend = nonEmpty(env.NEONN_BACKEND);
  const threadsRaw = nonEmpty(env.NEONN_THREADS);
  let threads: number | undefined;
  if (threadsRaw !== undefined) {
    if (!/^[0-9]+$/.test(threadsRaw) || Number(threadsRaw) < 1 || Number(threadsRaw) > 1024) {
      throw new RangeError(`NEONN_THREADS must be an integer from 1 to 1024, got ${JSON.stringify(threadsRaw)}`);
    }
    threads = Number(threadsRaw);
  }
  const regions = nonEmpty(env.NEONN_REGIONS);
  if (regions !== undefined && regions !== 'on' && regions !== 'off') {
    throw new RangeError(`NEONN_REGIONS must be "on" or "off", got ${JSON.stringify(regions)}`);
  }
  const winograd = nonEmpty(env.NEONN_WINOGRAD);
  if (winograd !== undefined && winograd !== 'auto' && winograd !== 'on' && winograd !== 'off') {
    throw new RangeError(`NEONN_WINOGRAD must be "auto", "on" or "off", got ${JSON.stringify(winograd)}`);
  }
  const precision = nonEmpty(env.NEONN_PRECISION);
  if (precision !== undefined && precision !== 'fp32' && precision !== 'fp16') {
    throw new RangeError(`NEONN_PRECISION must be "fp32" or "fp16", got ${JSON.stringify(precision)}`);
  }
  const debug = /\bneonn\b/i.test(env.NODE_DEBUG ?? '');
  return { backend, threads, nnpackLibrary: nonEmpty(env.NEONN_NNPACK_LIBRARY), debug, ...(precision ? { precision } : {}) };
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t === undefined || t === '' ? undefined : t;
}

/**
 * NEONN_ADDON_PATH: an explicit addon file to load (the sanitizer build in
 * build-asan/), or undefined for the usual search. Read apart from
 * readConfig: the addon loads before anything else is configured.
 */
export function addonPathFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return nonEmpty(env.NEONN_ADDON_PATH);
}
