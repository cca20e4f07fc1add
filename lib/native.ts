/**
 * Loads the addon and declares its raw surface. @internal: nothing here is
 * re-exported; the facade validates every argument before calling in.
 */
import * as fs from 'fs';
import * as path from 'path';

import { addonPathFromEnv } from './config';

/** What the native side reports per backend. */
export interface NativeBackendInfo {
  name: string;
  available: boolean;
  reason?: string;
  version?: string;
  config?: string;
  core?: string;
  fallback?: string;
  library?: string;
  threads: number;
  opsRun: number;
  convRuns: Record<string, number>;
}

/** Positional gemm arguments: see binding/gemm.cc. flags: bit 0 transA, bit 1 transB. */
type GemmArgs = [
  a: Float32Array,
  b: Float32Array,
  c: Float32Array | null,
  out: Float32Array,
  aRows: number,
  aCols: number,
  bRows: number,
  bCols: number,
  cRows: number,
  cCols: number,
  flags: number,
  alpha: number,
  beta: number,
];

// conv family: positional arguments, see binding/conv.cc and binding/pool.cc.
/** activation: 0 none, 1 relu. */
export type Conv2dArgs = [
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  out: Float32Array,
  n: number,
  cIn: number,
  h: number,
  w: number,
  cOut: number,
  kH: number,
  kW: number,
  group: number,
  strideH: number,
  strideW: number,
  dilationH: number,
  dilationW: number,
  padTop: number,
  padLeft: number,
  padBottom: number,
  padRight: number,
  activation: number,
  /** Index into CONV_ALGORITHMS (lib/ops/conv.ts); 0 = auto. */
  algorithm: number,
];
export type FullyConnectedArgs = [
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  out: Float32Array,
  n: number,
  inFeatures: number,
  outFeatures: number,
];
/** kind: 0 max, 1 avg, 2 global avg. flags: bit 0 ceil, bit 1 countIncludePad. */
export type Pool2dArgs = [
  x: Float32Array,
  out: Float32Array,
  kind: number,
  n: number,
  c: number,
  h: number,
  w: number,
  kH: number,
  kW: number,
  strideH: number,
  strideW: number,
  dilationH: number,
  dilationW: number,
  padTop: number,
  padLeft: number,
  padBottom: number,
  padRight: number,
  flags: number,
];
// --- elementwise, normalization and layout families: see src/ops/{elementwise,normalization,layout}.h ---
// A shape goes positionally as `rank, ...dims`.
/** kind: 0 relu, 1 leakyRelu, 2 sigmoid, 3 tanh, 4 clip. */
type UnaryArgs = [x: Float32Array, out: Float32Array, kind: number, alpha: number, min: number, max: number];
/** kind: 0 add, 1 mul; then aRank, ...aDims, bRank, ...bDims. */
type BinaryArgs = [a: Float32Array, b: Float32Array, out: Float32Array, kind: number, ...shapes: number[]];
/** then xRank, ...xDims, slopeRank, ...slopeDims. */
type PreluArgs = [x: Float32Array, slope: Float32Array, out: Float32Array, ...shapes: number[]];
/** log: 0 softmax, 1 logSoftmax; then rank, ...dims. */
type SoftmaxArgs = [x: Float32Array, out: Float32Array, log: number, axis: number, ...shape: number[]];
type BatchNormArgs = [x: Float32Array, scale: Float32Array, bias: Float32Array, mean: Float32Array, variance: Float32Array, out: Float32Array, epsilon: number, ...shape: number[]];
type LrnArgs = [x: Float32Array, out: Float32Array, size: number, alpha: number, beta: number, bias: number, ...shape: number[]];
/** then rank, ...dims of tensors[0], ...dims of tensors[1], ... */
type ConcatArgs = [tensors: Float32Array[], out: Float32Array, axis: number, ...shapes: number[]];
/** then rank, ...dims, ...perm. */
type TransposeArgs = [x: Float32Array, out: Float32Array, ...shapeAndPerm: number[]];
/** then rank, ...dims, ...pads (2 * rank, ONNX order). */
type PadArgs = [x: Float32Array, out: Float32Array, value: number, ...shapeAndPads: number[]];

/** @internal Native functions of the elementwise, normalization and layout families. */
interface NativeCnnOps {
  unarySync(...args: UnaryArgs): void;
  unary(...args: UnaryArgs): Promise<void>;
  binarySync(...args: BinaryArgs): void;
  binary(...args: BinaryArgs): Promise<void>;
  preluSync(...args: PreluArgs): void;
  prelu(...args: PreluArgs): Promise<void>;
  softmaxSync(...args: SoftmaxArgs): void;
  softmax(...args: SoftmaxArgs): Promise<void>;
  batchNormSync(...args: BatchNormArgs): void;
  batchNorm(...args: BatchNormArgs): Promise<void>;
  lrnSync(...args: LrnArgs): void;
  lrn(...args: LrnArgs): Promise<void>;
  concatSync(...args: ConcatArgs): void;
  concat(...args: ConcatArgs): Promise<void>;
  transposeSync(...args: TransposeArgs): void;
  transpose(...args: TransposeArgs): Promise<void>;
  padSync(...args: PadArgs): void;
  pad(...args: PadArgs): Promise<void>;
}
// --- end elementwise, normalization and layout families ---

/** @internal A compiled model (binding/model.cc). */
export interface NativeProgram {
  runSync(inputs: ArrayBufferView[], outputs: ArrayBufferView[]): void;
  run(inputs: ArrayBufferView[], outputs: ArrayBufferView[]): Promise<void>;
  dispose(): void;
  memoryBytes(): number;
  /** Conv steps planned by the last run: who runs each and how. */
  plannedLayers(): { step: number; label: string; resolved: string; backend: string; algorithm: string; bytes: number; note?: string }[];
  /** Wall time of the last whole run in microseconds, on whichever thread ran it (0 before one). */
  lastRunMicros(): number;
}

/** A tensor of the generic kernel interface (binding/kernel_args.h). dtype: ONNX code. */
export interface NativeTensor {
  data: ArrayBufferView;
  shape: readonly number[];
  dtype: number;
}

/** The op schema's generic kernels: see binding/kernels.cc. */
interface NativeKernels {
  kernelSync(name: string, inputs: (NativeTensor | null)[], outputs: NativeTensor[], attrs: Record<string, number | readonly number[] | string | readonly string[]>): void;
  kernel(name: string, inputs: (NativeTensor | null)[], outputs: NativeTensor[], attrs: Record<string, number | readonly number[] | string | readonly string[]>): Promise<void>;
  kernelNames(): string[];
}

/** @internal The addon's exports. */
export interface NativeBinding extends NativeCnnOps, NativeKernels {
  napiVersion: number;
  NeonnProgram: new (spec: unknown) => NativeProgram;
  /**
   * The view's bytes (or that many zero bytes) copied once into native memory that every program listing
   * it as a constant shares; an ArrayBuffer over that memory to view instead, or null (empty, already
   * adopted, or the runtime forbids external buffers: programs then copy it). See binding/model.cc.
   */
  adoptConstant(viewOrBytes: ArrayBufferView | number): ArrayBuffer | null;
  backends(): NativeBackendInfo[];
  setBackend(name: string): void;
  getBackend(): string;
  /** Returns the count set: n clamped to the online cores. */
  setThreads(n: number): number;
  getThreads(): number;
  onlineCores(): number;
  /** Bytes of C heap in use (glibc mallinfo2), or -1 where glibc cannot say. */
  mallocInUse(): number;
  /** Test hook for neonn's worker pool: counts[i] += 1 per item over parallel_for; see binding/backends.cc. */
  parallelCheckSync(counts: Float32Array, grain: number, throwAt: number, throwKind: number, flags: number): number;
  parallelCheck(counts: Float32Array, grain: number, throwAt: number, throwKind: number, flags: number): Promise<void>;
  /** auto's measured choice among alternatives that `run(i)` runs (src/auto/choice.h); `run` null: look up only (index -1: none). */
  chooseMeasured(kind: string, structure: string, names: string[], run: ((i: number) => void) | null): { index: number; note: string; cached: boolean };
  buildInfo(): { flavour: string; target: string; compiler?: string; cpuFeatures: string[] };
  gemmSync(...args: GemmArgs): void;
  gemm(...args: GemmArgs): Promise<void>;
  // conv family
  conv2dSync(...args: Conv2dArgs): void;
  conv2d(...args: Conv2dArgs): Promise<void>;
  fullyConnectedSync(...args: FullyConnectedArgs): void;
  fullyConnected(...args: FullyConnectedArgs): Promise<void>;
  pool2dSync(...args: Pool2dArgs): void;
  pool2d(...args: Pool2dArgs): Promise<void>;
}

/** The package root (dist/.. or lib/..). */
export const packageRoot = path.resolve(__dirname, '..');

function glibcVersion(): string {
  try {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    return report?.header?.glibcVersionRuntime ?? 'none (musl?)';
  } catch {
    return 'unknown';
  }
}

function loadFailure(cause: unknown, tried = [path.join(packageRoot, 'build', 'Release', 'neonn.node'), path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`)]): Error {
  const armv = (process.config.variables as { arm_version?: string }).arm_version;
  const lines = [
    'neonn: could not load the native addon.',
    `  platform=${process.platform} arch=${process.arch}${armv ? ` armv=${armv}` : ''} glibc=${glibcVersion()} node=${process.versions.node} napi=${process.versions.napi}`,
    '  looked in:',
    ...tried.map((p) => `    ${p}${fs.existsSync(p) ? '' : ' (missing)'}`),
    `  cause: ${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}`,
    '  prebuilt binaries exist for linux-x64, linux-arm64 and linux-arm (glibc >= 2.34).',
    '  Otherwise build from source, in the project that installed neonn (needs cmake >= 3.18,',
    '  g++, make, perl, and OpenBLAS source: Debian deb-src or NEONN_OPENBLAS_SOURCE; a few minutes):',
    '      npx neonn build',
    "  or let npm run neonn's install script, which builds when no prebuild matches (npm 11",
    "  runs a dependency's install script only once approved):",
    '      npm install-scripts approve neonn && npm rebuild neonn',
  ];
  const err = new Error(lines.join('\n'));
  (err as { code?: string }).code = 'ERR_NEONN_LOAD';
  (err as { cause?: unknown }).cause = cause;
  return err;
}

/**
 * How long OpenBLAS's idle threads spin before they sleep, as 2^n cycles: its
 * built-in default is 2^28 (about 0.1 s), read once when the addon loads.
 * neonn runs OpenBLAS layers between XNNPACK regions and its own loops on the
 * same cores, and a spinning OpenBLAS thread then takes a core from them: a
 * batch-1 classifier on OpenBLAS before the next run's int8 region made
 * MobileNetV2 int8 at 2 threads 2.8x slower (README, int8). 2^4 cycles lets
 * them sleep at once; measured neutral on OpenBLAS-only models. A value the
 * user set (OPENBLAS_THREAD_TIMEOUT or GOTO_THREAD_TIMEOUT) is kept.
 */
const OPENBLAS_THREAD_TIMEOUT = '4';

function load(): NativeBinding {
  if (process.env.OPENBLAS_THREAD_TIMEOUT === undefined && process.env.GOTO_THREAD_TIMEOUT === undefined) {
    process.env.OPENBLAS_THREAD_TIMEOUT = OPENBLAS_THREAD_TIMEOUT;
  }
  const explicit = addonPathFromEnv();
  if (explicit !== undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(path.resolve(explicit)) as NativeBinding;
    } catch (err) {
      throw loadFailure(err, [path.resolve(explicit)]);
    }
  }
  try {
    // node-gyp-build: prebuilds/<platform>-<arch>/ first, else build/Release.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    return nodeGypBuild(packageRoot) as NativeBinding;
  } catch (err) {
    throw loadFailure(err);
  }
}

/** @internal */
export const binding: NativeBinding = load();
