/**
 * `nn.loadOnnx`: an ONNX model compiled to a native program. The graph is
 * validated and folded at load (see graph.ts), then traced through the public
 * ops into one native program per input shape: weights copied once into
 * native memory, activations planned into one reused arena. `run` executes
 * the whole graph on the libuv pool.
 */
import { createHash } from 'crypto';
import { promises as fsp, readFileSync } from 'fs';
import { NeonnError, checkAttached, typeError, rangeError } from '../errors';
import { backends, getBackend } from '../backends';
import { binding } from '../native';
import type { NativeProgram } from '../native';
import { ProgramSpec, createProgram, disposePrograms, programsMemory, runProgram, runSyncProgram, trace } from '../model/program';
import { CONV_ALGORITHMS, ConvAlgorithm, conv2d, fullyConnected } from '../ops/conv';
import { add, mul, prelu, relu, softmax } from '../ops/elementwise';
import { gemm } from '../ops/gemm';
import { concat, pad, transpose } from '../ops/layout';
import { batchNorm, lrn } from '../ops/normalization';
import { maxPool2d } from '../ops/pool';
import { Tensor, TensorLike, checkTensor, fmtShape, sizeOf } from '../tensor';
import { checkOptions, optEnum } from '../validate';
import { Graph, IntTensor, Port, Step, Value, buildGraph } from './graph';
import { Ctx, MINUS_ONE, ONE, evalNode, isHandled, typedOf, valueOfTyped } from './ops';
import { DType, ElemType, TypedData, WidenedType, allocate, holds } from '../dtype';
import { WidenedData, narrowOutput, widenFeed } from './widened';
import { TValue, execSchemaOp } from '../ir/exec';
import { TypedTensor, toOutput } from '../ir/ops';
import { schemaOf } from '../ir/schema';
import { ADOPT_MIN_BYTES, decodeModel } from './proto';
import { readConfig } from '../config';
import { isDataDependent } from './dynamic';
import { QOP_FLOAT_REASON } from './qop-float';
import { SegmentModel, Segments } from './segments';
import { emptyStep } from './empty';

/** Options of {@link loadOnnx}. */
export interface LoadOnnxOptions {
  /**
   * Pin how given Conv nodes are computed, by node name (or, for an unnamed
   * node, its output name): e.g. `{ conv1: 'im2col', 'conv5_3': 'wt8x8' }`.
   * Under `auto` the pinned layer is measured among that algorithm's paths
   * only; another backend must be able to run it. Unpinned layers: `'auto'`.
   */
  algorithms?: Readonly<Record<string, ConvAlgorithm>>;
  /**
   * Quantized models: `'fuse'` runs each recognized QDQ chain (DequantizeLinear
   * → op → QuantizeLinear) as one integer op (QLinearConv, QLinearMatMul,
   * QLinearAdd, ...; `layers()` says which, and why the others stayed float)
   * and every integer op on neonn's integer kernels; `'float'` runs the graph
   * as written; `'auto'` (default) fuses, then runs each QLinearConv and
   * QLinearMatMul on the faster of its integer kernel and its bit-identical
   * integer-valued float form. Today the integer kernels are reference loops,
   * so `'auto'` picks the float form.
   */
  qdq?: 'auto' | 'fuse' | 'float';
  /**
   * `'fp16'` computes the NHWC regions on XNNPACK (the runs of convs, pooling,
   * add, clamps and concat that the `xnnpack` backend, or `auto` where faster,
   * keeps in XNNPACK's layout) in half precision, where XNNPACK has fp16
   * operators for the CPU (ARMv8.2 cores such as the Pi 5's Cortex-A76,
   * where it halves the memory traffic and doubles the lanes; on x86 it runs
   * but is slower than fp32). Inputs, outputs and every other op stay
   * fp32; results differ from fp32 by half's rounding (about 1e-3 relative).
   * Elsewhere it runs fp32, and `layers()` says so. Default: `NEONN_PRECISION`,
   * else `'fp32'`.
   */
  precision?: 'fp32' | 'fp16';
}

/**
 * Inputs of a run: one tensor per name in `inputNames`, of the input's
 * element type (`inputDtypes`): a float32 tensor, a TypedTensor (or
 * `{ data, shape }`) of another dtype, or `{ data, shape }` of a widened
 * type's own array (Int16Array, Uint16Array, Uint32Array, BigUint64Array,
 * bfloat16 bits in a Uint16Array, an array of strings). An input with no
 * elements (a 0 dim, which nn.Tensor refuses) is `{ data: new Float32Array(0), shape }`:
 * the steps it feeds are computed by their ops' shape rules, and empty outputs come back empty.
 */
export type OnnxFeeds = Readonly<Record<string, TensorLike | TypedTensor | { data: TypedData | WidenedData; shape: readonly number[] }>>;

/** One step of a loaded model, as {@link OnnxModel.layers} lists it. */
export interface OnnxLayer {
  /** The ONNX node(s), e.g. `Conv node #3 "conv1" + Relu node #4 "relu1"`. */
  readonly name: string;
  /** The ONNX op types merged into the step, e.g. `Conv+BatchNormalization+Relu`. */
  readonly op: string;
  /** The native kernels it runs, e.g. `['conv2d']`. */
  readonly kernels: readonly string[];
  /**
   * The backend that serves those kernels under the active backend (fallbacks
   * resolved); for a conv the model has run, the one that really runs it
   * (under `auto`, the measured winner, e.g. `nnpack`).
   */
  readonly backend: string;
  /** For a conv the model has run: how it is computed, e.g. `wt8x8` or `im2col`. */
  readonly algorithm?: string;
  /** For a conv the model has run: native bytes its plan holds (transformed or packed weights). */
  readonly planBytes?: number;
  /**
   * Under `auto`: how the choice was made: `"measured: nnpack/wt8x8 1.071 ms openblas/im2col 3.990 ms"`
   * (ending in `"; cores busy while measuring: used by this process, not saved"` or
   * `"; saved as doubtful (...)"` when so) or `"cached choice (1071 us, margin 23%, 6 samples)"`.
   */
  readonly choice?: string;
  /** `'int8'` when the step computes in integers (a QOperator op, or a QDQ chain fused into one), else `'float'`. */
  readonly precision: 'int8' | 'float';
  /** For a float op between DequantizeLinear and QuantizeLinear that stayed float: why it was not fused. */
  readonly fallback?: string;
}

/** Inputs planned on by value have at most this many elements. */
const PLANNED_VALUES = 1024;

/** Inputs of hand-written handlers whose values planning reads (the op schema says it for the rest). */
const HANDLER_VALUE_SLOTS: Readonly<Record<string, readonly number[]>> = { Pad: [2], Dropout: [1, 2] };

function readsValueAt(step: Step, slot: number): boolean {
  const op = step.node.opType ?? '';
  const domain = step.node.domain ?? '';
  if (isHandled(op, domain) && HANDLER_VALUE_SLOTS[op]?.includes(slot)) return true;
  const schema = schemaOf(op, domain);
  if (!schema || schema.inputs.length === 0) return false;
  return schema.inputs[Math.min(slot, schema.inputs.length - 1)].constant === true;
}

/**
 * Which inputs a model is planned on by value, when small: integer and bool
 * ones (shapes may derive from them, as ONNX's node tests feed Slice's starts
 * or Reshape's shape), and float ones that feed only inputs whose values
 * planning reads (Resize's scales, Range's start). A float input
 * that any op reads as data is never planned on: each new value would cost a
 * new program.
 */
function inputsByValue(g: Graph, onlyWhereRead = false): boolean[] {
  return g.inputs.map((p) => {
    if (!onlyWhereRead && p.dtype !== 'float32' && p.dtype !== 'float16') return true;
    if (p.dtype === 'float16') return false;
    let uses = 0;
    let onlyValues = true;
    for (const s of g.steps) {
      s.inputs.forEach((n, slot) => {
        if (n !== p.name) return;
        uses++;
        if (!readsValueAt(s, slot)) onlyValues = false;
      });
    }
    return uses > 0 && onlyValues && !g.outputs.some((o) => o.name === p.name);
  });
}

/** A plan-cache key for values planned on (floats by their bits: -0 and NaNs stay apart). */
function valueKey(v: TValue): string {
  if (v.dtype !== 'float32') return v.data.join(',');
  const d = v.data as Float32Array;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex');
}

/** Programs a model keeps, one per input shape: the most recently used ones. */
const MAX_PROGRAMS = 8;

/** A copy of a value into a buffer of its own, as a program step. */
function copyValue(t: TValue, one: Tensor): TValue {
  if (t.dtype === 'float32' && t.data.length > 0 && t instanceof Tensor) return typedOf(mul(t, one));
  if (t.dtype === 'float32' && sizeOf(t.shape) > 0) return typedOf(mul(new Tensor(t.data as Float32Array, t.shape), one));
  const identity = schemaOf('Identity');
  if (!identity) throw new NeonnError(`loadOnnx: a ${t.dtype} graph output that is a constant or an input cannot be copied (no Identity kernel)`, 'ERR_NEONN_ONNX_UNSUPPORTED', 'loadOnnx');
  // Not folded (its input counts as unknown): the copy must be a step of the program.
  return execSchemaOp(identity, [t], {}, 1, { fail: (m) => rangeError('loadOnnx', m), unsupported: (m) => rangeError('loadOnnx', m) }, () => false)[0];
}

/** A float feed with no elements (a 0 dim), which nn.Tensor refuses: `{ data: Float32Array(0), shape }`. */
function emptyFloatFeed(v: unknown): TValue | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const { data, shape } = v as { data?: unknown; shape?: unknown };
  if (!(data instanceof Float32Array) || data.length !== 0 || !Array.isArray(shape)) return undefined;
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || sizeOf(shape) !== 0) return undefined;
  return { dtype: 'float32', data, shape: [...(shape as number[])] };
}

/** A feed: a float32 tensor for a float input, a typed tensor of the input's dtype otherwise. */
function checkFeed(op: string, name: string, dtype: DType, v: unknown): TValue {
  if (dtype === 'float32') {
    const empty = emptyFloatFeed(v);
    if (empty) return empty;
    const x = checkTensor(op, name, v);
    return { dtype, data: x.data, shape: x.shape };
  }
  if (typeof v !== 'object' || v === null) typeError(op, name, `a ${dtype} tensor { data, shape }`, v);
  const { data, shape } = v as { data?: unknown; shape?: unknown };
  if (!holds(dtype, data)) typeError(op, `${name}.data`, `the typed array of ${dtype}${dtype === 'int64' ? ' (BigInt64Array)' : ''}`, data);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) typeError(op, `${name}.shape`, 'an array of dimensions', shape);
  if (data.length === 0) checkAttached(op, name, data, sizeOf(shape));
  if (sizeOf(shape) !== data.length) rangeError(op, `"${name}" shape ${fmtShape(shape)} needs ${sizeOf(shape)} elements, data has ${data.length}`);
  return { dtype, data, shape };
}

interface Compiled {
  /** None when every output is empty: nothing to compute. */
  program?: NativeProgram;
  spec: ProgramSpec;
  outShapes: number[][];
  outDtypes: DType[];
  /** The inputs the program reads, by index: those with elements (an empty one is only ever read for its shape). */
  programInputs: number[];
  /** The outputs the program writes, by index: those with elements (an empty one is made by its shape alone). */
  programOutputs: number[];
  /** label → ONNX op types, per step */
  steps: { label: string; ops: string; precision: 'int8' | 'float'; fallback?: string }[];
  /** run() computes on the calling thread: the last run took less than a hand-off to the thread pool costs. */
  inline?: boolean;
}

/**
 * A run shorter than this (µs) is computed by run() on the calling thread, in a macrotask: handing it to the
 * libuv pool and back costs 65–70 µs on this machine's VM, for a run of any size, so such a run finishes
 * sooner here, and the event loop is blocked for at most about what the hand-off itself adds to the caller's
 * wait. onnxruntime-node runs every model on the calling thread.
 */
const INLINE_RUN_MAX_US = 100;

/** Models loaded and not yet disposed or collected, for nn.diagnostics(). */
const liveModels = new Set<WeakRef<OnnxModel>>();

/** @internal The loaded, undisposed models still alive. */
export function liveOnnxModels(): OnnxModel[] {
  const out: OnnxModel[] = [];
  for (const ref of liveModels) {
    const m = ref.deref();
    if (m === undefined || m.isDisposed) liveModels.delete(ref);
    else out.push(m);
  }
  return out;
}

/**
 * A loaded ONNX model. Dispose it to free its native memory at once (a
 * finalizer frees it otherwise).
 * @example
 * const m = await nn.loadOnnx('squeezenet.onnx');
 * const { [m.outputNames[0]]: y } = await m.run({ [m.inputNames[0]]: x });
 */
export class OnnxModel {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Declared input shapes; -1 marks a symbolic or unknown dim (taken from the feed). */
  readonly inputShapes: readonly (readonly number[])[];
  /** Output shapes for the declared input shapes (-1 where they depend on a symbolic dim). */
  readonly outputShapes: readonly (readonly number[])[];
  /** Declared input dims with their symbols, e.g. `[['N', 3, 'height', 'width']]` (`'?'` for an unnamed unknown dim). */
  readonly inputDims: readonly (readonly (number | string)[])[];
  /**
   * Element types of the inputs (feeds of other types than float32 are TypedTensors or `{ data, shape }`;
   * a widened type's data is its own typed array: Int16Array, Uint16Array, Uint32Array, BigUint64Array,
   * bfloat16 bits in a Uint16Array, an array of strings).
   */
  readonly inputDtypes: readonly ElemType[];
  /** Element types of the outputs: a float32 output is a Tensor, a widened type a WidenedTensor, any other a TypedTensor. */
  readonly outputDtypes: readonly ElemType[];
  /** Per output: the widened type it is converted to. */
  private readonly widenedOutputs: readonly (WidenedType | undefined)[];
  private graph: Graph;
  private readonly programs = new Map<string, Compiled>();
  private last: Compiled | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  /** Fixed input shapes: compiled once at load, JS weights dropped. */
  private weightsReleased = false;
  /** Under auto: how the integer path or the float form of QLinearConvs was chosen (measuredQuantizedPath). */
  private quantizedPath?: string;

  private readonly algorithms: ReadonlyMap<string, ConvAlgorithm>;

  /** Per input: whether it is planned on by value when small (see {@link inputsByValue}). */
  private readonly byValue: boolean[];

  private valuesPlanned(input: number, count: number): boolean {
    return this.byValue[input] && count <= PLANNED_VALUES;
  }

  /** A graph with data-dependent ops (NonMaxSuppression, NonZero): its planned segments and the ops between them. */
  private readonly segments?: Segments;

  /**
   * @internal use {@link loadOnnx}
   * @param onlyWhereRead - integer inputs too are planned by value only when every op reading them reads their
   *   values (a later segment's inputs: indices NonMaxSuppression selected must not cost a program per value)
   */
  constructor(
    graph: Graph,
    algorithms: ReadonlyMap<string, ConvAlgorithm> = new Map(),
    listed = true,
    onlyWhereRead = false,
    private readonly precision: 'fp32' | 'fp16' = readConfig().precision ?? 'fp32',
  ) {
    // A Sequential model's graph is not a loaded ONNX model: diagnostics() does not list it.
    if (listed) liveModels.add(new WeakRef(this));
    adoptConstants(graph);
    this.graph = graph;
    this.algorithms = algorithms;
    this.inputNames = Object.freeze(graph.inputs.map((i) => i.name));
    this.outputNames = Object.freeze(graph.outputs.map((o) => o.name));
    this.inputShapes = Object.freeze(graph.inputs.map((i) => Object.freeze([...i.shape])));
    this.inputDims = Object.freeze(graph.inputs.map((i) => Object.freeze([...i.dims])));
    this.inputDtypes = Object.freeze(graph.inputs.map((i) => i.widened ?? i.dtype));
    this.widenedOutputs = graph.outputs.map((o) => o.widened);
    // Planned at load when every input shape is fixed and no input's values are planned on.
    this.byValue = inputsByValue(graph, onlyWhereRead);
    if (graph.steps.some((s) => isDataDependent(s.node))) {
      // A typed feed (int64 indices) is a TValue, which OnnxFeeds (float tensors for users) does not name.
      this.segments = new Segments(graph, (g, first) => new OnnxModel(g, algorithms, false, !first, precision) as unknown as SegmentModel);
      this.outputShapes = Object.freeze(graph.outputs.map((o) => Object.freeze([...o.shape])));
      this.outputDtypes = Object.freeze(graph.outputs.map((o) => o.widened ?? o.dtype));
      this.graph = { ...graph, consts: new Map(), steps: [] };
      return;
    }
    const isStatic = graph.inputs.every((i, k) => i.shape.length > 0 && i.shape.every((d) => d > 0) && !this.valuesPlanned(k, sizeOf(i.shape))) || graph.inputs.length === 0;
    if (isStatic) {
      // Compile now: shape errors show at load, and the weights move to native memory once.
      const c = this.compiled(graph.inputs.map((i) => i.shape));
      this.outputShapes = Object.freeze(c.outShapes.map((s) => Object.freeze([...s])));
      this.outputDtypes = Object.freeze(c.outDtypes.map((d, i) => this.widenedOutputs[i] ?? d));
      // Every shape is fixed: the JS copies of the weights are no longer needed.
      this.graph = { ...graph, consts: new Map() };
      this.weightsReleased = true;
    } else {
      this.outputShapes = Object.freeze(graph.outputs.map((o) => Object.freeze([...o.shape])));
      this.outputDtypes = Object.freeze(graph.outputs.map((o) => o.widened ?? o.dtype));
    }
  }

  /**
   * The program for these input shapes (and, for small integer inputs, these
   * values: a model may compute shapes from them, as ONNX's node tests feed
   * Slice's starts or Reshape's shape).
   */
  private compiled(shapes: number[][], feeds?: TValue[]): Compiled {
    const planned = shapes.map((s, i) => (feeds && this.valuesPlanned(i, feeds[i].data.length) ? feeds[i] : undefined));
    const key = shapes.map((s, i) => `${fmtShape(s)}${planned[i] ? `=${valueKey(planned[i]!)}` : ''}`).join(';');
    const hit = this.programs.get(key);
    if (hit) {
      // Most recently used last: the cache evicts from the front.
      this.programs.delete(key);
      this.programs.set(key, hit);
      return hit;
    }
    if (this.weightsReleased) {
      rangeError('OnnxModel', `the model was compiled for input shapes ${[...this.programs.keys()].join(' ')}, got ${key}`);
    }
    const g = this.graph;
    const xs: Value[] = shapes.map((s, i) => {
      const dtype = g.inputs[i].dtype;
      const p = planned[i];
      // Planned by value: an IntTensor of the input's own dtype (int32 stays int32).
      if (p) return valueOfTyped({ dtype, data: p.data.slice() as TypedData, shape: s }, true);
      if (sizeOf(s) === 0) return { dtype, data: allocate(dtype, 0), shape: s };
      if (dtype === 'float32') return new Tensor(new Float32Array(sizeOf(s)), s);
      return { dtype, data: allocate(dtype, Math.max(1, sizeOf(s))), shape: s };
    });
    const one = ONE;
    // Values known when the program is planned, by buffer: the graph's
    // constants and what planning computes from them and from shapes.
    // IntTensors too: a kernel step that reads one (axes an opset upgrade
    // made from an attribute, a folded Shape) must find its buffer among the
    // program's constants, or the tracer takes it for an arena intermediate
    // and the kernel reads zeros.
    const knownBuffers = new Set<ArrayBufferLike>();
    for (const v of g.consts.values()) knownBuffers.add(typedOf(v).data.buffer);
    xs.forEach((x, i) => {
      if (planned[i]) knownBuffers.add(typedOf(x).data.buffer);
    });
    const known = (v: Value): boolean => {
      // An IntTensor is known by construction; the first time a step asks, its buffer joins the known ones.
      if (v instanceof IntTensor) knownBuffers.add(v.data.buffer);
      return knownBuffers.has(typedOf(v).data.buffer);
    };
    const markKnown = (v: Value): void => {
      knownBuffers.add(typedOf(v).data.buffer);
    };
    // Only the constants a step reads become program constants.
    const used = new Set<TypedData>([ONE.data, MINUS_ONE.data]);
    for (const s of g.steps) {
      for (const n of s.inputs) {
        const v = g.consts.get(n);
        if (v !== undefined && !(v instanceof IntTensor)) used.add(typedOf(v).data);
      }
    }
    for (const o of g.outputs) {
      const v = g.consts.get(o.name);
      if (v !== undefined && !(v instanceof IntTensor)) used.add(typedOf(v).data);
    }
    const fixed = new Set<ArrayBufferLike>([...used].map((d) => d.buffer));
    xs.forEach((x) => fixed.add(typedOf(x).data.buffer));
    let current = '';
    const outShapes: number[][] = [];
    const outDtypes: DType[] = [];
    const steps: Compiled['steps'] = [];
    const programInputs = xs.flatMap((x, i) => (sizeOf(x.shape) > 0 ? [i] : []));
    const programOutputs: number[] = [];
    const spec = trace(
      programInputs.map((i) => typedOf(xs[i])),
      [...used],
      () => {
        const env = new Map<string, Value>(g.consts);
        g.inputs.forEach((p, i) => env.set(p.name, xs[i]));
        for (const s of g.steps) {
          current = s.label;
          steps.push({ label: s.label, ops: s.ops, precision: s.precision, ...(s.fallback ? { fallback: s.fallback } : {}) });
          const pin = this.algorithms.get(convKey(s.node));
          const ins = s.inputs.map((n) => (n === '' ? undefined : env.get(n)));
          const ctx: Ctx = {
            node: s.node,
            label: s.label,
            opset: g.opset,
            constant: (i) => ins[i] !== undefined && known(ins[i]!),
            activation: s.activation,
            known,
            markKnown,
            ...(pin ? { algorithm: pin } : {}),
          };
          // A step fed an empty tensor of data: its outputs by the op's shape rule, no native work.
          // (Empty values known when planned, such as ReduceSum's axes [] or Resize's roi [], are parameters.)
          const empty = ins.some((v) => v !== undefined && sizeOf(v.shape) === 0 && !known(v));
          const outs = empty ? emptyStep(s, ins.map((v) => (v === undefined ? undefined : typedOf(v))), g.opset).map((v) => valueOfTyped(v, true)) : evalNode(ctx, ins);
          s.outputs.forEach((name, i) => {
            if (name !== '' && outs[i] !== undefined) env.set(name, outs[i]);
          });
        }
        current = 'graph outputs';
        const taken = new Set<ArrayBufferLike>();
        return g.outputs.flatMap((o: Port, k) => {
          const v = env.get(o.name);
          if (v === undefined) {
            throw new NeonnError(`loadOnnx: graph output "${o.name}" is never computed`, 'ERR_NEONN_ONNX_INVALID', 'loadOnnx');
          }
          let t = typedOf(v);
          if (sizeOf(t.shape) === 0) {
            // Empty: its shape and dtype are all there is; the program does not write it.
            outShapes.push([...t.shape]);
            outDtypes.push(t.dtype);
            return [];
          }
          programOutputs.push(k);
          // An output that is an input, a constant, known at planning time or
          // another output's buffer gets its own copy (x·1 is exact).
          if (fixed.has(t.data.buffer) || taken.has(t.data.buffer) || known(v)) t = copyValue(t, one);
          outShapes.push([...t.shape]);
          outDtypes.push(t.dtype);
          taken.add(t.data.buffer);
          return [t];
        });
      },
      () => current,
      false,
      (buf) => knownBuffers.has(buf),
    );
    const program = programOutputs.length === 0 ? undefined : createProgram(this.precision === 'fp16' ? { ...spec, precision: 'fp16' } : spec);
    const entry: Compiled = { ...(program ? { program } : {}), spec, outShapes, outDtypes, steps, programInputs, programOutputs };
    this.programs.set(key, entry);
    // Bounded: a model fed many sizes keeps the most recent programs only.
    while (this.programs.size > MAX_PROGRAMS) {
      const oldest = this.programs.keys().next().value as string;
      this.programs.get(oldest)!.program?.dispose();
      this.programs.delete(oldest);
    }
    this.last = entry;
    return entry;
  }

  /** The feeds checked against the inputs' names, dtypes and shapes (symbols consistent), in input order. */
  private checkFeeds(op: string, feeds: unknown): TValue[] {
    if (this.disposed) throw new NeonnError(`${op}: the model was disposed`, 'ERR_NEONN_DISPOSED', op);
    if (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds)) typeError(op, 'feeds', `an object { ${this.inputNames.map((n) => JSON.stringify(n)).join(', ')} }`, feeds);
    const rec = feeds as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      if (!this.inputNames.includes(k)) throw new TypeError(`${op}: unknown input ${JSON.stringify(k)} (the model's inputs: ${this.inputNames.join(', ')})`);
    }
    const symbols = new Map<string, { size: number; input: string }>();
    const xs = this.inputNames.map((name, i) => {
      if (!(name in rec)) throw new TypeError(`${op}: input ${JSON.stringify(name)} is missing from the feeds`);
      const port = this.graph.inputs[i];
      const x = port.widened ? widenFeed(op, name, port.widened, rec[name]) : checkFeed(op, name, port.dtype, rec[name]);
      const want = this.inputShapes[i];
      const dims = this.inputDims[i];
      const declared = `[${dims.join(',')}]`;
      if (want.length > 0 && (x.shape.length !== want.length || want.some((d, k) => d > 0 && x.shape[k] !== d))) {
        rangeError(op, `input "${name}" must have shape ${declared}, got ${fmtShape(x.shape)}`);
      }
      dims.forEach((d, k) => {
        if (typeof d !== 'string' || d === '?') return;
        const seen = symbols.get(d);
        if (seen && seen.size !== x.shape[k]) {
          rangeError(op, `input "${name}" must have shape ${declared} with ${d} = ${seen.size} (as input "${seen.input}" has it), got ${fmtShape(x.shape)}`);
        }
        symbols.set(d, { size: x.shape[k], input: name });
      });
      return x;
    });
    return xs;
  }

  private prepare(op: string, feeds: unknown): { inputs: TypedData[]; entry: Compiled; outs: TValue[]; written: TypedData[] } {
    const xs = this.checkFeeds(op, feeds);
    const entry = this.compiled(xs.map((x) => [...x.shape]), xs);
    this.last = entry;
    const outs = entry.outShapes.map((s, i): TValue => ({ dtype: entry.outDtypes[i], shape: s, data: allocate(entry.outDtypes[i], sizeOf(s)) }));
    return { inputs: entry.programInputs.map((i) => xs[i].data), entry, outs, written: entry.programOutputs.map((i) => outs[i].data) };
  }

  /** Outputs by name: float32 ones as Tensors, others as TypedTensors, widened types as WidenedTensors (see `outputDtypes`). */
  private named(outs: TValue[]): Record<string, Tensor> {
    const r: Record<string, Tensor> = {};
    this.outputNames.forEach((n, i) => {
      const widened = this.widenedOutputs[i];
      r[n] = (widened ? narrowOutput(widened, outs[i]) : toOutput(outs[i])) as Tensor;
    });
    return r;
  }

  /**
   * Runs the graph on the calling thread.
   * @param feeds - one float32 tensor per input name
   * @returns the outputs by name
   * @throws {TypeError} for a missing or unknown input, {RangeError} for a wrong shape
   */
  runSync(feeds: OnnxFeeds): Record<string, Tensor> {
    if (this.segments) return this.named(this.segments.runSync(this.feedMap('runSync', feeds)));
    const p = this.prepare('runSync', feeds);
    if (p.entry.program) {
      p.entry.program.runSync(p.inputs, p.written);
      p.entry.inline = p.entry.program.lastRunMicros() < INLINE_RUN_MAX_US;
    }
    return this.named(p.outs);
  }

  /** Runs the whole graph on the libuv pool; calls on one model run one after another. */
  async run(feeds: OnnxFeeds): Promise<Record<string, Tensor>> {
    if (this.segments) {
      const segments = this.segments;
      const env = this.feedMap('run', feeds);
      const go = this.queue.then(() => segments.run(env));
      this.queue = go.catch(() => undefined);
      return this.named(await go);
    }
    const p = this.prepare('run', feeds);
    const stack = new Error();
    const { entry } = p;
    const program = entry.program;
    const go = this.queue.then(async () => {
      if (!program) return;
      if (entry.inline) {
        // A run shorter than the hand-off to the thread pool: here, in a macrotask, its inputs read when it
        // starts as a queued run's are (a detached one is ERR_NEONN_DETACHED, as there).
        await new Promise<void>((resolve) => setImmediate(resolve));
        p.inputs.forEach((d, i) => checkAttached('run', this.inputNames[entry.programInputs[i]] ?? `inputs[${i}]`, d, 1));
        runSyncProgram('run', program, p.inputs, p.written, stack);
      } else {
        await runProgram('run', program, p.inputs, p.written, stack);
      }
      entry.inline = program.lastRunMicros() < INLINE_RUN_MAX_US;
    });
    this.queue = go.catch(() => undefined);
    await go;
    return this.named(p.outs);
  }

  private feedMap(op: string, feeds: unknown): Map<string, TValue> {
    const xs = this.checkFeeds(op, feeds);
    return new Map(this.inputNames.map((n, i) => [n, xs[i]]));
  }

  /** How a quantized model's path (integer or its float form) was chosen: layers() says it. @internal */
  setQuantizedPath(note: string): void {
    this.quantizedPath = note;
  }

  /** Whether {@link dispose} was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * The steps of the last compiled program: the ONNX node(s) each came from
   * (after folding and fusion), its native kernels and the backend that
   * serves them under the active backend; convs also say which algorithm ran
   * and, under `auto`, how it was chosen.
   */
  layers(): OnnxLayer[] {
    if (this.disposed) throw new NeonnError('layers: the model was disposed', 'ERR_NEONN_DISPOSED', 'layers');
    if (this.segments) {
      return this.segments.describe().flatMap((p): OnnxLayer[] => {
        if (p.op) return [{ name: p.op.label, op: p.op.ops, kernels: [p.op.ops], backend: 'js', precision: 'float' }];
        return p.model instanceof OnnxModel ? p.model.layers() : [];
      });
    }
    const c = this.last;
    if (!c) return [];
    const kernels = new Map<string, string[]>();
    for (const s of c.spec.steps) {
      const k = kernels.get(s.label) ?? [];
      if (!k.includes(s.op)) k.push(s.op);
      kernels.set(s.label, k);
    }
    const planned = new Map((c.program?.plannedLayers() ?? []).map((p) => [p.label, p]));
    return c.steps
      .filter((s) => kernels.has(s.label))
      .map((s) => {
        const ks = kernels.get(s.label)!;
        const layer: OnnxLayer = {
          name: s.label,
          op: s.ops,
          kernels: ks,
          backend: [...new Set(ks.map(servingBackend))].join('+'),
          precision: s.precision,
          ...(s.fallback ? { fallback: s.fallback === QOP_FLOAT_REASON && this.quantizedPath ? `runs float (integer-valued, exact): ${this.quantizedPath}` : s.fallback } : {}),
          ...(this.quantizedPath && s.precision === 'int8' ? { choice: this.quantizedPath } : {}),
        };
        const p = planned.get(s.label);
        // A plan made under another backend says nothing of the active one until the next run.
        if (p === undefined || p.resolved !== servingBackend('conv2d')) return layer;
        const others = ks.filter((k) => k !== 'conv2d').map(servingBackend);
        return {
          ...layer,
          backend: [...new Set([p.backend, ...others])].join('+'),
          algorithm: p.algorithm,
          planBytes: p.bytes,
          ...(p.note !== undefined ? { choice: layer.choice ? `${p.note}; ${layer.choice}` : p.note } : {}),
        };
      });
  }

  /** Native memory held (weights copies + arenas), in bytes. */
  memoryBytes(): number {
    if (this.segments) return this.segments.memoryBytes();
    return programsMemory(this.programs.values());
  }

  /** Frees the native memory now (a run in flight finishes first). Later calls throw ERR_NEONN_DISPOSED. */
  dispose(): void {
    this.segments?.dispose();
    disposePrograms(this.programs);
    this.last = undefined;
    this.graph = { ...this.graph, consts: new Map(), steps: [] };
    this.disposed = true;
  }
}

const t = (shape: number[]): Tensor => new Tensor(new Float32Array(sizeOf(shape)).fill(1), shape);

/** One tiny call per native kernel, to see which backend's counter moves. */
const PROBES: Record<string, () => unknown> = {
  gemm: () => gemm(t([1, 1]), t([1, 1])),
  conv2d: () => conv2d(t([1, 1, 1, 1]), t([1, 1, 1, 1])),
  fullyConnected: () => fullyConnected(t([1, 1]), t([1, 1])),
  pool2d: () => maxPool2d(t([1, 1, 1, 1]), { kernel: 1 }),
  unary: () => relu(t([1])),
  binary: () => add(t([1]), t([1])),
  prelu: () => prelu(t([1]), t([1])),
  softmax: () => softmax(t([1, 1]), { axis: 1 }),
  batchNorm: () => batchNorm(t([1, 1]), { scale: t([1]), bias: t([1]), mean: t([1]), variance: t([1]) }),
  lrn: () => lrn(t([1, 1, 1, 1]), { size: 1 }),
  concat: () => concat([t([1]), t([1])], 0),
  transpose: () => transpose(t([1, 1]), [1, 0]),
  pad: () => pad(t([1]), [1, 1], 0),
};
const served = new Map<string, string>();

/** The backend whose op counter a kernel moves under the active backend (cached). */
function servingBackend(kernel: string): string {
  const key = `${getBackend()}:${kernel}`;
  const hit = served.get(key);
  if (hit) return hit;
  const probe = PROBES[kernel];
  if (!probe) return getBackend();
  const before = new Map(backends().map((b) => [b.name, b.opsRun]));
  probe();
  const moved = backends().find((b) => b.opsRun > (before.get(b.name) ?? 0));
  const name = moved?.name ?? getBackend();
  served.set(key, name);
  return name;
}

/** The name a Conv is pinned by: its node name, else its first output. */
function convKey(node: { name?: string | null; output?: string[] | null }): string {
  return node.name ? node.name : (node.output?.[0] ?? '');
}

const LOAD_OPTIONS = new Set(['algorithms', 'qdq', 'precision']);

function fromBytes(op: string, bytes: Uint8Array, options: LoadOnnxOptions | undefined): OnnxModel {
  const opts = checkOptions(op, options, LOAD_OPTIONS);
  const pins = new Map<string, ConvAlgorithm>();
  if (opts.algorithms !== undefined) {
    if (typeof opts.algorithms !== 'object' || opts.algorithms === null || Array.isArray(opts.algorithms)) {
      typeError(op, 'algorithms', 'an object { convNodeName: algorithm }', opts.algorithms);
    }
    for (const [k, v] of Object.entries(opts.algorithms as Record<string, unknown>)) {
      pins.set(k, optEnum(op, `algorithms[${JSON.stringify(k)}]`, v, CONV_ALGORITHMS, 'auto'));
    }
  }
  const qdq = optEnum(op, 'qdq', opts.qdq, ['auto', 'fuse', 'float'] as const, 'auto');
  const precision = optEnum(op, 'precision', opts.precision, ['fp32', 'fp16'] as const, readConfig().precision ?? 'fp32');
  const regions = quantizedRegions();
  const graph = buildGraph(decodeModel(bytes), { qdq, integerConvs: regions });
  if (pins.size > 0) {
    const convs = new Set(graph.steps.filter((s) => s.node.opType === 'Conv').map((s) => convKey(s.node)));
    const unknown = [...pins.keys()].filter((k) => !convs.has(k));
    if (unknown.length > 0) {
      rangeError(op, `"algorithms" names no Conv node: ${unknown.map((k) => JSON.stringify(k)).join(', ')} (Conv nodes: ${[...convs].slice(0, 8).join(', ')}${convs.size > 8 ? ', ...' : ''})`);
    }
  }
  if (qdq === 'auto' && regions && getBackend() === 'auto' && graph.steps.some((st) => st.node.opType === 'QLinearConv')) {
    return measuredQuantizedPath(bytes, graph, pins, precision);
  }
  return new OnnxModel(graph, pins, true, false, precision);
}

/**
 * The graph's large constants (weights) moved, in place, into native memory that JS views and every program
 * of the model shares: one copy of the weights however many input shapes are planned, instead of the JS
 * arrays plus a copy per program (a model planned once at load drops its views then: its program holds the
 * only copy). Most weights are adopted as they are read from the file (tensorFromProto); this takes what
 * the passes made since (weights with a BatchNormalization folded in). The memory goes when the last program
 * holding it is disposed and V8 has collected the model's views (dispose() drops them). IntTensors (shapes,
 * axes: small, read as numbers) stay as they are.
 */
function adoptConstants(graph: Graph): void {
  const moved = new Map<TypedData, TypedData>();
  for (const [name, v] of graph.consts) {
    if (v instanceof IntTensor) continue;
    const t = typedOf(v);
    if (t.data.byteLength < ADOPT_MIN_BYTES) continue;
    let data = moved.get(t.data);
    if (data === undefined) {
      const buffer = binding.adoptConstant(t.data);
      if (buffer === null) continue;
      const View = t.data.constructor as new (b: ArrayBuffer, offset: number, length: number) => TypedData;
      data = new View(buffer, 0, t.data.length);
      moved.set(t.data, data);
    }
    graph.consts.set(name, v instanceof Tensor ? new Tensor(data as Float32Array, v.shape) : { dtype: t.dtype, data, shape: t.shape });
  }
}

/** Models whose integer path holds more native memory than this, or runs longer once, are not measured. */
const MEASURE_MAX_BYTES = 256 * 2 ** 20;
const MEASURE_MAX_MS = 250;

/**
 * Deterministic feeds for timing a model with these inputs: float inputs in [0, 1) (an image's range), others
 * zero; a symbolic first dim (the batch) at 1. Undefined when another dim is symbolic (no size to time at).
 */
function timingFeeds(inputs: readonly Port[]): OnnxFeeds | undefined {
  const feeds: Record<string, TensorLike | TypedTensor> = {};
  let seed = 12345;
  for (const p of inputs) {
    const shape = p.shape.map((d, k) => (d > 0 ? d : k === 0 ? 1 : -1));
    if (shape.length === 0 || shape.some((d) => d <= 0) || p.widened) return undefined;
    if (p.dtype === 'float32') {
      const d = new Float32Array(sizeOf(shape));
      for (let k = 0; k < d.length; k++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        d[k] = (seed >>> 8) / 16777216;
      }
      feeds[p.name] = { data: d, shape };
    } else {
      feeds[p.name] = new TypedTensor(p.dtype, allocate(p.dtype, sizeOf(shape)), shape);
    }
  }
  return feeds;
}

/**
 * Under \`auto\`, a model with QLinearConvs that quantized NHWC regions would run: its integer path against its
 * exact float form (the same bits), measured at load as auto measures a conv and cached the same way, so that a
 * quantized model never runs slower than its float form on this CPU. A decision made before (this process, or
 * the cache file) makes only the chosen model. A symbolic batch is measured at 1; with other symbolic dims there
 * is no size to measure at: the integer path runs unmeasured, and layers() says so.
 */
function measuredQuantizedPath(bytes: Uint8Array, graph: Graph, pins: Map<string, ConvAlgorithm>, precision: 'fp32' | 'fp16'): OnnxModel {
  const listed = (m: OnnxModel, note: string): OnnxModel => {
    m.setQuantizedPath(note);
    liveModels.add(new WeakRef(m));
    return m;
  };
  const integerModel = (): OnnxModel => new OnnxModel(graph, pins, false, false, precision);
  const floatModel = (): OnnxModel => new OnnxModel(buildGraph(decodeModel(bytes), { qdq: 'auto', integerConvs: false }), pins, false, false, precision);
  const feeds = timingFeeds(graph.inputs);
  if (!feeds) return listed(integerModel(), 'integer path, not measured: an input has a symbolic dim other than the batch (no size to measure at)');
  const batchOne = graph.inputs.some((p) => p.shape[0] !== undefined && p.shape[0] <= 0);
  const at = (note: string): string => (batchOne ? `${note} at batch 1` : note);
  const shapes = Object.values(feeds).map((f) => f.shape.join('x'));
  const structure = `${createHash('sha256').update(bytes).digest('hex')}|${precision}|${shapes.join(';')}`;
  const names = ['integer', 'float'];
  const saved = binding.chooseMeasured('qdq', structure, names, null);
  if (saved.index >= 0) return listed(saved.index === 1 ? floatModel() : integerModel(), at(saved.note));
  const integer = integerModel();
  // Measuring makes the float form beside it and runs each about 7 times: not for a model that is big at this
  // size (a batch of 64 images, a 4K frame), where that would cost more memory and load time than it can save.
  if (integer.memoryBytes() > MEASURE_MAX_BYTES) {
    return listed(integer, `integer path, not measured: it holds ${(integer.memoryBytes() / 2 ** 20).toFixed(0)} MB at this size, and measuring makes the float form beside it`);
  }
  const t0 = performance.now();
  integer.runSync(feeds);
  const first = performance.now() - t0;
  if (first > MEASURE_MAX_MS) return listed(integer, at(`integer path, not measured: one run took ${first.toFixed(0)} ms at load`));
  let float: OnnxModel;
  try {
    float = floatModel();
  } catch (e) {
    return listed(integer, `integer path, not measured: the float form did not load (${(e as Error).message.split('\n')[0]})`);
  }
  const models = [integer, float];
  let choice: { index: number; note: string };
  try {
    choice = binding.chooseMeasured('qdq', structure, names, (i) => void models[i].runSync(feeds));
  } catch (e) {
    integer.dispose();
    float.dispose();
    throw e;
  }
  const [chosen, other] = choice.index === 1 ? [float, integer] : [integer, float];
  other.dispose();
  return listed(chosen, at(choice.note));
}

/**
 * Whether the active backend runs QLinearConv in quantized NHWC regions (XNNPACK's qs8 operators): xnnpack, or
 * auto with XNNPACK available, regions not turned off. Decided at load, for the backend active then.
 */
function quantizedRegions(): boolean {
  const b = getBackend();
  if (b !== 'auto' && b !== 'xnnpack') return false;
  readConfig();  // NEONN_REGIONS checked
  if ((process.env.NEONN_REGIONS ?? '').trim() === 'off') return false;
  return backends().some((x) => x.name === 'xnnpack' && x.available);
}

/** A model file that cannot be read: the op, the path and why, with the system's code (ENOENT, EACCES, ...). */
function unreadable(op: string, file: string, e: unknown): never {
  const err = e as { code?: string; message?: string };
  throw new NeonnError(`${op}: cannot read the model file ${JSON.stringify(file)}: ${err.message ?? String(e)}`, err.code ?? 'ERR_NEONN_FILE', op);
}

function asBytes(op: string, v: unknown): Uint8Array | string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  return typeError(op, 'pathOrBytes', 'a file path, a Uint8Array/Buffer or an ArrayBuffer', v);
}

/**
 * Loads an ONNX model from a file path or its bytes. The graph is checked,
 * its constants folded, and (for fixed input shapes) compiled at once.
 * @throws {TypeError} for a wrong argument
 * @throws {NeonnError} ERR_NEONN_ONNX_INVALID (not ONNX, truncated, broken graph) or ERR_NEONN_ONNX_UNSUPPORTED (unknown ops listed by node, external data)
 * @throws {RangeError} for absurd or negative sizes
 * @example
 * const m = await nn.loadOnnx('resnet50.onnx');
 * console.log(m.inputNames, m.inputShapes, m.outputShapes);
 */
export async function loadOnnx(pathOrBytes: string | Uint8Array | ArrayBuffer, options?: LoadOnnxOptions): Promise<OnnxModel> {
  const v = asBytes('loadOnnx', pathOrBytes);
  return fromBytes('loadOnnx', typeof v === 'string' ? await fsp.readFile(v).catch((e: unknown) => unreadable('loadOnnx', v, e)) : v, options);
}

/** {@link loadOnnx} on the calling thread. */
export function loadOnnxSync(pathOrBytes: string | Uint8Array | ArrayBuffer, options?: LoadOnnxOptions): OnnxModel {
  const v = asBytes('loadOnnxSync', pathOrBytes);
  let bytes: Uint8Array;
  try {
    bytes = typeof v === 'string' ? readFileSync(v) : v;
  } catch (e) {
    return unreadable('loadOnnxSync', v as string, e);
  }
  return fromBytes('loadOnnxSync', bytes, options);
}
