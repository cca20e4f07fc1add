/**
 * `nn.quantize`: post-training static quantization of an ONNX float model.
 *
 * 1. The model is prepared: Constant nodes become initializers,
 *    BatchNormalization folds into the Conv before it.
 * 2. Calibration: a copy of it whose every intermediate value is also a graph
 *    output runs in neonn over the calibration inputs; each float value's
 *    range is its min/max (or a percentile of its histogram, two passes).
 * 3. The opset moves to 13 (per-axis Q/DQ) and the quantized ops are placed:
 *    Conv, Gemm, MatMul (int8 weights, per output channel by default,
 *    symmetric; int32 biases with scale x_scale·w_scale), Add and Mul of two
 *    activations, GlobalAveragePool, AveragePool, and MaxPool (whose output
 *    keeps its input's scale). A Relu or Clip that alone reads a quantized
 *    op's output is dropped: the output's range [0, max] saturates the same.
 *    Graph outputs stay float.
 * 4. The quantized model runs in neonn over the same inputs; each output's
 *    error against the float model is reported.
 * @internal
 */
import { promises as fsp } from 'fs';
import { NeonnError, rangeError, typeError } from '../errors';
import { loadOnnx, OnnxModel } from '../onnx/model';
import { decodeModel, onnx } from '../onnx/proto';
import type { Tensor, TensorLike } from '../tensor';
import { checkOptions, optEnum } from '../validate';
import { Editor, constantsToInitializers, dropIdentities, foldBatchNorm, foldConstantReshape, foldConvAdd, intAttr, makeTensor, upgradeOpset } from './edit';

const OP = 'quantize';

/** Options of {@link quantize}. */
export interface QuantizeOptions {
  /** One scale per output channel of each weight (default true); false: one per weight tensor. */
  perChannel?: boolean;
  /** Weights int8 with zero point 0 in [-127, 127] (default true); false: asymmetric int8 with a zero point. */
  symmetricWeights?: boolean;
  /**
   * `'qdq'` (default): QuantizeLinear/DequantizeLinear pairs around the float
   * ops, as onnxruntime's quantizer writes them. `'qoperator'`: QLinearConv,
   * QLinearMatMul and the com.microsoft QLinearAdd / QLinearMul /
   * QLinearGlobalAveragePool / QLinearAveragePool ops, with QuantizeLinear /
   * DequantizeLinear where float and integer parts meet (Gemm and MaxPool stay float there).
   */
  format?: 'qdq' | 'qoperator';
  /** Element type of the activations (default `'uint8'`); both asymmetric. */
  activations?: 'uint8' | 'int8';
  /** Node names or op types (e.g. `'Add'`) to leave in float. */
  exclude?: readonly string[];
  /** How a value's range is picked from calibration: `'minmax'` (default) or `'percentile'`. */
  calibration?: 'minmax' | 'percentile';
  /** With `calibration: 'percentile'`: the share of each value's samples kept inside the range, in percent (default 99.999). */
  percentile?: number;
}

/** A calibration input: a float32 tensor for a one-input model, or feeds by input name. */
export type CalibrationInput = TensorLike | Readonly<Record<string, TensorLike>>;

/** How far one output of the quantized model is from the float model's, over the calibration inputs. */
export interface QuantizeOutputError {
  /** The output's name. */
  readonly name: string;
  /** Largest |quantized − float| over all elements of all calibration inputs. */
  readonly maxAbsError: number;
  /** Mean |quantized − float|. */
  readonly meanAbsError: number;
  /** Largest |float| of the output: the scale the errors compare to. */
  readonly maxAbsFloat: number;
  /** For a classifier-shaped output ([K] or [1, K]): on how many calibration inputs the argmax stayed the same. */
  readonly argmaxAgreement?: { readonly same: number; readonly total: number };
}

/** What {@link quantize} returns. */
export interface QuantizeResult {
  /** The quantized model, ONNX bytes (opset >= 13). */
  readonly onnx: Uint8Array;
  /** Error of each float output against the float model, over the calibration inputs (run in neonn). */
  readonly outputs: readonly QuantizeOutputError[];
  /** The nodes quantized, e.g. `{ Conv: 52, Add: 3 }`. */
  readonly quantizedOps: Readonly<Record<string, number>>;
  /** Relu/Clip nodes folded into the output range of the op before them. */
  readonly foldedActivations: number;
  /** How many values were calibrated. */
  readonly calibratedValues: number;
}

const OPTIONS = new Set(['perChannel', 'symmetricWeights', 'format', 'activations', 'exclude', 'calibration', 'percentile']);

interface Settings {
  perChannel: boolean;
  symmetricWeights: boolean;
  format: 'qdq' | 'qoperator';
  activations: 'uint8' | 'int8';
  exclude: string[];
  calibration: 'minmax' | 'percentile';
  percentile: number;
}

function boolOpt(name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') typeError(OP, name, 'a boolean', v);
  return v;
}

function settings(options: QuantizeOptions | undefined): Settings {
  const o = checkOptions(OP, options, OPTIONS);
  const calibration = optEnum(OP, 'calibration', o.calibration, ['minmax', 'percentile'] as const, 'minmax');
  let percentile = 99.999;
  if (o.percentile !== undefined) {
    if (typeof o.percentile !== 'number') typeError(OP, 'percentile', 'a number', o.percentile);
    if (!(o.percentile > 50 && o.percentile <= 100)) rangeError(OP, `"percentile" must be in (50, 100], got ${String(o.percentile)}`);
    if (calibration !== 'percentile') rangeError(OP, '"percentile" applies to calibration: \'percentile\' only');
    percentile = o.percentile;
  }
  let exclude: string[] = [];
  if (o.exclude !== undefined) {
    if (!Array.isArray(o.exclude) || !o.exclude.every((e) => typeof e === 'string')) typeError(OP, 'exclude', 'an array of node names or op types', o.exclude);
    exclude = [...(o.exclude as string[])];
  }
  return {
    perChannel: boolOpt('perChannel', o.perChannel, true),
    symmetricWeights: boolOpt('symmetricWeights', o.symmetricWeights, true),
    format: optEnum(OP, 'format', o.format, ['qdq', 'qoperator'] as const, 'qdq'),
    activations: optEnum(OP, 'activations', o.activations, ['uint8', 'int8'] as const, 'uint8'),
    exclude,
    calibration,
    percentile,
  };
}

async function readModel(v: unknown): Promise<Uint8Array> {
  if (typeof v === 'string') {
    return fsp.readFile(v).catch((e: { code?: string; message?: string }) => {
      throw new NeonnError(`${OP}: cannot read the model file ${JSON.stringify(v)}: ${e.message ?? String(e)}`, e.code ?? 'ERR_NEONN_FILE', OP);
    });
  }
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (v instanceof OnnxModel) typeError(OP, 'modelOrOnnxBytes', 'the model\'s file path or ONNX bytes (a loaded OnnxModel no longer holds its graph)', v);
  return typeError(OP, 'modelOrOnnxBytes', 'a file path, a Uint8Array/Buffer or an ArrayBuffer of ONNX bytes', v);
}

/** The calibration inputs as feeds by input name (shapes and dtypes are checked by the model's run). */
function calibrationFeeds(inputs: unknown, names: readonly string[]): Record<string, TensorLike>[] {
  if (!Array.isArray(inputs)) typeError(OP, 'calibrationInputs', 'an array of tensors or of feeds objects', inputs);
  if (inputs.length === 0) rangeError(OP, '"calibrationInputs" is empty: calibration needs at least one input');
  return inputs.map((x: unknown, i) => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) typeError(OP, `calibrationInputs[${i}]`, 'a tensor or a feeds object', x);
    if ('data' in x && 'shape' in x) {
      if (names.length !== 1) typeError(OP, `calibrationInputs[${i}]`, `a feeds object { ${names.join(', ')} } (the model has ${names.length} inputs)`, x);
      return { [names[0]]: x as TensorLike };
    }
    return x as Record<string, TensorLike>;
  });
}

// ---- calibration -----------------------------------------------------------

interface Stats {
  min: number;
  max: number;
  hist?: Float64Array;
}

const BINS = 2048;

interface Calibration {
  stats: Map<string, Stats>;
  shapes: Map<string, readonly number[]>;
  /** Per calibration input, the float model's outputs (float ones only), by name. */
  reference: Map<string, Float32Array>[];
}

function isFloat(t: { dtype?: string }): boolean {
  return t.dtype === undefined || t.dtype === 'float32';
}

async function calibrate(prepared: Uint8Array, feeds: Record<string, TensorLike>[], s: Settings): Promise<Calibration> {
  const model = onnx.ModelProto.decode(prepared);
  const g = model.graph!;
  const outputs = new Set((g.output ?? []).map((o) => o.name ?? ''));
  const inits = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const watched = [...(g.input ?? []).map((i) => i.name ?? ''), ...(g.node ?? []).flatMap((n) => n.output ?? [])].filter((n) => n !== '' && !outputs.has(n) && !inits.has(n));
  for (const n of new Set(watched)) g.output!.push(onnx.ValueInfoProto.create({ name: n }));
  const originals = [...outputs];
  const m = await loadOnnx(onnx.ModelProto.encode(model).finish());
  const stats = new Map<string, Stats>();
  const shapes = new Map<string, readonly number[]>();
  const reference: Map<string, Float32Array>[] = [];
  try {
    for (const f of feeds) {
      const out = await m.run(f);
      const ref = new Map<string, Float32Array>();
      for (const [name, t] of Object.entries(out)) {
        shapes.set(name, t.shape);
        if (!isFloat(t)) continue;
        if (outputs.has(name)) ref.set(name, Float32Array.from(t.data));
        let lo = Infinity, hi = -Infinity;
        const d = t.data;
        for (let i = 0; i < d.length; i++) {
          const x = d[i];
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
        if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
          if (d.length === 0) continue;
          rangeError(OP, `value "${name}" is not finite (${lo}..${hi}) on calibration input ${reference.length}: it cannot be quantized`);
        }
        const st = stats.get(name);
        if (st) {
          st.min = Math.min(st.min, lo);
          st.max = Math.max(st.max, hi);
        } else stats.set(name, { min: lo, max: hi });
      }
      for (const o of originals) if (!ref.has(o) && isFloat(out[o])) ref.set(o, Float32Array.from(out[o].data));
      reference.push(ref);
    }
    if (s.calibration === 'percentile') {
      for (const f of feeds) {
        const out = await m.run(f);
        for (const [name, st] of stats) {
          const d = out[name].data as Float32Array;
          const hist = (st.hist ??= new Float64Array(BINS));
          const w = st.max - st.min;
          if (!(w > 0)) continue;
          for (let i = 0; i < d.length; i++) hist[Math.min(BINS - 1, Math.floor(((d[i] - st.min) / w) * BINS))]++;
        }
      }
      for (const st of stats.values()) {
        if (!st.hist || !(st.max > st.min)) continue;
        const total = st.hist.reduce((a, b) => a + b, 0);
        const cut = (total * (100 - s.percentile)) / 100;
        const w = (st.max - st.min) / BINS;
        let acc = 0, lo = 0, hi = BINS - 1;
        for (; lo < BINS - 1 && acc + st.hist[lo] <= cut; lo++) acc += st.hist[lo];
        acc = 0;
        for (; hi > lo && acc + st.hist[hi] <= cut; hi--) acc += st.hist[hi];
        [st.min, st.max] = [st.min + lo * w, st.min + (hi + 1) * w];
        st.hist = undefined;
      }
    }
  } finally {
    m.dispose();
  }
  return { stats, shapes, reference };
}

// ---- quantization parameters ------------------------------------------------

/** Round half to even, as ONNX's QuantizeLinear does. */
function rne(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

interface QParams {
  scale: number;
  zero: number;
  dtype: 'uint8' | 'int8';
}

/** Asymmetric parameters over [min(lo, 0), max(hi, 0)]: zero is exact. */
function activationParams(lo: number, hi: number, dtype: 'uint8' | 'int8'): QParams {
  const [qmin, qmax] = dtype === 'uint8' ? [0, 255] : [-128, 127];
  lo = Math.min(lo, 0);
  hi = Math.max(hi, 0);
  const scale = Math.fround((hi - lo) / (qmax - qmin));
  if (!(scale > 0) || !Number.isFinite(scale)) return { scale: 1, zero: dtype === 'uint8' ? 0 : 0, dtype };
  return { scale, zero: clamp(rne(qmin - lo / scale), qmin, qmax), dtype };
}

interface QWeight {
  q: Int8Array;
  scales: Float32Array;
  zeros: Int8Array;
}

/** int8 weights along `axis` (per channel) or as one tensor. */
function quantizeWeight(w: Tensor, axis: number, s: Settings): QWeight {
  const shape = w.shape;
  const channels = s.perChannel ? shape[axis] : 1;
  const inner = s.perChannel ? shape.slice(axis + 1).reduce((a, b) => a * b, 1) : 1;
  const chanOf = (i: number): number => (s.perChannel ? Math.floor(i / inner) % channels : 0);
  const lo = new Float64Array(channels).fill(0);
  const hi = new Float64Array(channels).fill(0);
  const d = w.data;
  for (let i = 0; i < d.length; i++) {
    const c = chanOf(i);
    if (d[i] < lo[c]) lo[c] = d[i];
    if (d[i] > hi[c]) hi[c] = d[i];
  }
  const scales = new Float32Array(channels);
  const zeros = new Int8Array(channels);
  for (let c = 0; c < channels; c++) {
    if (s.symmetricWeights) {
      const a = Math.max(-lo[c], hi[c]);
      scales[c] = a > 0 ? Math.fround(a / 127) : 1;
    } else {
      const p = activationParams(lo[c], hi[c], 'int8');
      scales[c] = p.scale;
      zeros[c] = p.zero;
    }
    if (!(scales[c] > 0)) scales[c] = 1;
  }
  const [qmin, qmax] = s.symmetricWeights ? [-127, 127] : [-128, 127];
  const q = new Int8Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const c = chanOf(i);
    q[i] = clamp(rne(d[i] / scales[c]) + zeros[c], qmin, qmax);
  }
  return { q, scales, zeros };
}

// ---- placement ----------------------------------------------------------------

/** A node to quantize: which inputs are activations, which is the weight (and along which axis), which the bias. */
interface Plan {
  node: onnx.INodeProto;
  acts: number[];
  weight?: { index: number; axis: number; tensor: Tensor };
  bias?: { index: number; tensor: Tensor };
  /** Whether the output is quantized (false: a graph output, or not float). */
  output: boolean;
}

const QOPERATOR_OPS = new Set(['Conv', 'MatMul', 'Add', 'Mul', 'GlobalAveragePool', 'AveragePool']);

function attrF(node: onnx.INodeProto, name: string, dflt: number): number {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  return a ? (a.f ?? 0) : dflt;
}
function attrI(node: onnx.INodeProto, name: string, dflt: number): number {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  return a ? Number(a.i ?? 0) : dflt;
}

function plan(ed: Editor, cal: Calibration, s: Settings, known: ReadonlySet<string>): { plans: Plan[]; folded: number } {
  const act = (n: string | undefined): boolean => n !== undefined && n !== '' && cal.stats.has(n) && !ed.inits.has(n);
  const unknown = s.exclude.filter((e) => !known.has(e));
  if (unknown.length > 0) rangeError(OP, `"exclude" names no node or op type of the model: ${unknown.map((e) => JSON.stringify(e)).join(', ')}`);
  const excluded = new Set(s.exclude);
  const plans: Plan[] = [];
  let folded = 0;
  for (const node of [...ed.nodes]) {
    const op = node.opType ?? '';
    if ((node.domain ?? '') !== '' || excluded.has(op) || (node.name && excluded.has(node.name))) continue;
    const ins = node.input ?? [];
    let p: Plan | undefined;
    if (op === 'Conv' && act(ins[0])) {
      const w = ed.floatInit(ins[1]);
      const b = ins[2] ? ed.floatInit(ins[2]) : undefined;
      if (w && w.shape.length >= 3 && (!ins[2] || (b && b.data.length === w.shape[0]))) p = { node, acts: [0], weight: { index: 1, axis: 0, tensor: w }, ...(b ? { bias: { index: 2, tensor: b } } : {}), output: false };
    } else if (op === 'Gemm' && act(ins[0]) && attrI(node, 'transA', 0) === 0) {
      const w = ed.floatInit(ins[1]);
      if (w && w.shape.length === 2) {
        const axis = attrI(node, 'transB', 0) ? 0 : 1;
        const c = ins[2] ? ed.floatInit(ins[2]) : undefined;
        const simple = attrF(node, 'alpha', 1) === 1 && attrF(node, 'beta', 1) === 1;
        p = { node, acts: [0], weight: { index: 1, axis, tensor: w }, ...(c && simple && c.shape.length === 1 && c.data.length === w.shape[axis] ? { bias: { index: 2, tensor: c } } : {}), output: false };
      }
    } else if (op === 'MatMul' && act(ins[0])) {
      const w = ed.floatInit(ins[1]);
      if (w && w.shape.length === 2) p = { node, acts: [0], weight: { index: 1, axis: 1, tensor: w }, output: false };
      else if (act(ins[1])) p = { node, acts: [0, 1], output: false };
    } else if ((op === 'Add' || op === 'Mul') && act(ins[0]) && act(ins[1])) {
      p = { node, acts: [0, 1], output: false };
    } else if ((op === 'GlobalAveragePool' || op === 'AveragePool') && act(ins[0])) {
      p = { node, acts: [0], output: false };
    } else if (op === 'MaxPool' && act(ins[0]) && (node.output ?? []).slice(1).every((o) => o === '')) {
      p = { node, acts: [0], output: false };
    }
    if (!p) continue;
    // A Relu/Clip alone reading the output folds into the output's range.
    const y = node.output![0];
    const r = ['Conv', 'Gemm', 'MatMul', 'Add'].includes(op) && !ed.isGraphOutput(y) && ed.uses(y) === 1 ? ed.nodes.find((n) => (n.input ?? [])[0] === y) : undefined;
    const convertible = s.format === 'qdq' || QOPERATOR_OPS.has(op);
    if (r && convertible && !excluded.has(r.opType ?? '') && foldable(ed, r) && act(r.output![0]) && !ed.isGraphOutput(r.output![0])) {
      node.output = [r.output![0]];
      ed.nodes = ed.nodes.filter((n) => n !== r);
      folded++;
    }
    const out = node.output![0];
    p.output = act(out) && !ed.isGraphOutput(out);
    plans.push(p);
  }
  return { plans, folded };
}

/** A Relu, or a Clip with constant bounds around 0: the quantized range [0, max] (or within the bounds) applies it. */
function foldable(ed: Editor, n: onnx.INodeProto): boolean {
  if ((n.domain ?? '') !== '') return false;
  if (n.opType === 'Relu') return true;
  if (n.opType !== 'Clip') return false;
  const bound = (i: number, dflt: number): number | undefined => {
    const name = n.input?.[i];
    if (!name) return dflt;
    const t = ed.floatInit(name);
    return t && t.data.length === 1 ? t.data[0] : undefined;
  };
  const lo = bound(1, -Infinity), hi = bound(2, Infinity);
  return lo !== undefined && hi !== undefined && lo <= 0 && hi >= 0;
}

/** Parameters of every quantized value; a MaxPool's output keeps its input's. */
function paramsOf(plans: Plan[], cal: Calibration, s: Settings): Map<string, QParams> {
  const params = new Map<string, QParams>();
  const of = (name: string): QParams => {
    const st = cal.stats.get(name)!;
    return activationParams(st.min, st.max, s.activations);
  };
  for (const p of plans) {
    for (const i of p.acts) params.set(p.node.input![i], of(p.node.input![i]));
    if (p.output) params.set(p.node.output![0], of(p.node.output![0]));
  }
  for (const p of plans) {
    if (p.node.opType === 'MaxPool' && p.output) params.set(p.node.output![0], params.get(p.node.input![0])!);
  }
  return params;
}

function scalarParams(ed: Editor, name: string, p: QParams): [string, string] {
  const scale = ed.addInit(makeTensor(ed.fresh(`${name}_scale`), Float32Array.of(p.scale), []));
  const zero = ed.addInit(makeTensor(ed.fresh(`${name}_zero_point`), p.dtype === 'uint8' ? Uint8Array.of(p.zero) : Int8Array.of(p.zero), []));
  return [scale, zero];
}

interface WeightNames {
  q: string;
  scale: string;
  zero: string;
  scales: Float32Array;
}

function weightInits(ed: Editor, name: string, w: QWeight, shape: readonly number[]): WeightNames {
  const dims = w.scales.length > 1 ? [w.scales.length] : [];
  return {
    q: ed.addInit(makeTensor(ed.fresh(`${name}_quantized`), w.q, shape)),
    scale: ed.addInit(makeTensor(ed.fresh(`${name}_scale`), w.scales, dims)),
    zero: ed.addInit(makeTensor(ed.fresh(`${name}_zero_point`), w.zeros, dims)),
    scales: w.scales,
  };
}

/** int32 bias with scale x_scale·w_scale per channel. */
function biasInit(ed: Editor, name: string, b: Tensor, xScale: number, wScales: Float32Array): { q: string; scale: string; scales: Float32Array } {
  const n = b.data.length;
  const scales = new Float32Array(n);
  const q = new Int32Array(n);
  for (let c = 0; c < n; c++) {
    scales[c] = Math.fround(xScale * wScales[wScales.length === 1 ? 0 : c]);
    q[c] = clamp(rne(b.data[c] / scales[c]), -(2 ** 31) + 1, 2 ** 31 - 1);
  }
  return {
    q: ed.addInit(makeTensor(ed.fresh(`${name}_quantized`), q, [n])),
    scale: ed.addInit(makeTensor(ed.fresh(`${name}_scale`), scales, [n])),
    scales,
  };
}

/** Replaces reads of `from` by `to` in every node of the graph (nodes not added yet keep theirs). */
function rewire(ed: Editor, from: string, to: string): void {
  for (const n of ed.nodes) n.input = (n.input ?? []).map((i) => (i === from ? to : i));
}

function emitQdq(ed: Editor, plans: Plan[], params: Map<string, QParams>, s: Settings): void {
  const added: onnx.INodeProto[] = [];
  // Weights and biases first, while each node still reads its activation by its own name.
  for (const p of plans) {
    if (!p.weight) continue;
    const ins = p.node.input!;
    const wName = ins[p.weight.index];
    const w = weightInits(ed, wName, quantizeWeight(p.weight.tensor, p.weight.axis, s), p.weight.tensor.shape);
    const wdq = ed.fresh(`${wName}_DequantizeLinear_Output`);
    added.push(ed.node('DequantizeLinear', [w.q, w.scale, w.zero], [wdq], w.scales.length > 1 ? [intAttr('axis', p.weight.axis)] : []));
    ins[p.weight.index] = wdq;
    if (p.bias) {
      const b = biasInit(ed, ins[p.bias.index], p.bias.tensor, params.get(ins[p.acts[0]])!.scale, w.scales);
      const bdq = ed.fresh(`${ins[p.bias.index]}_DequantizeLinear_Output`);
      added.push(ed.node('DequantizeLinear', [b.q, b.scale], [bdq], [intAttr('axis', 0)]));
      ins[p.bias.index] = bdq;
    }
  }
  // One Q/DQ pair per quantized value; every node reads the DequantizeLinear's output.
  for (const [name, p] of params) {
    const [scale, zero] = scalarParams(ed, name, p);
    const q = ed.fresh(`${name}_QuantizeLinear_Output`);
    const dq = ed.fresh(`${name}_DequantizeLinear_Output`);
    rewire(ed, name, dq);
    added.push(ed.node('QuantizeLinear', [name, scale, zero], [q]), ed.node('DequantizeLinear', [q, scale, zero], [dq]));
  }
  ed.nodes = [...ed.nodes, ...added];
}

function emitQOperator(ed: Editor, plans: Plan[], params: Map<string, QParams>, s: Settings): void {
  const converted = plans.filter((p) => QOPERATOR_OPS.has(p.node.opType ?? '') && p.output && p.acts.every((i) => params.has(p.node.input![i])));
  const producedQ = new Set(converted.map((p) => p.node.output![0]));
  const readQ = new Set(converted.flatMap((p) => p.acts.map((i) => p.node.input![i])));
  const qName = new Map<string, string>();
  const sp = new Map<string, [string, string]>();
  const pOf = (name: string): [string, string] => {
    let v = sp.get(name);
    if (!v) sp.set(name, (v = scalarParams(ed, name, params.get(name)!)));
    return v;
  };
  const added: onnx.INodeProto[] = [];
  const replaced = new Map<onnx.INodeProto, onnx.INodeProto>();
  for (const name of new Set([...producedQ, ...readQ])) qName.set(name, ed.fresh(`${name}_quantized`));
  // Values a QLinear op reads that a float op produces: QuantizeLinear.
  for (const name of readQ) {
    if (producedQ.has(name)) continue;
    const [scale, zero] = pOf(name);
    added.push(ed.node('QuantizeLinear', [name, scale, zero], [qName.get(name)!]));
  }
  let contrib = false;
  for (const p of converted) {
    const n = p.node;
    const op = n.opType!;
    const ins = n.input!;
    const y = n.output![0];
    const q = (i: number): string[] => [qName.get(ins[i])!, ...pOf(ins[i])];
    const yq = [qName.get(y)!];
    const [ys, yz] = pOf(y);
    let qn: onnx.NodeProto;
    if (op === 'Conv' || op === 'MatMul') {
      let b: string[];
      let bias: string[] = [];
      if (p.weight) {
        const w = weightInits(ed, ins[1], quantizeWeight(p.weight.tensor, p.weight.axis, s), p.weight.tensor.shape);
        b = [w.q, w.scale, w.zero];
        if (p.bias) bias = [biasInit(ed, ins[2], p.bias.tensor, params.get(ins[0])!.scale, w.scales).q];
      } else b = q(1);
      qn = ed.node(op === 'Conv' ? 'QLinearConv' : 'QLinearMatMul', [...q(0), ...b, ys, yz, ...bias], yq, op === 'Conv' ? (n.attribute as onnx.AttributeProto[]) : []);
    } else if (op === 'Add' || op === 'Mul') {
      qn = ed.node(`QLinear${op}`, [...q(0), ...q(1), ys, yz], yq, [], 'com.microsoft');
      contrib = true;
    } else {
      const attrs = op === 'AveragePool' ? [...(n.attribute ?? [])] : [];
      qn = ed.node(`QLinear${op}`, [...q(0), ys, yz], yq, [...attrs, intAttr('channels_last', 0)], 'com.microsoft');
      contrib = true;
    }
    replaced.set(n, qn);
  }
  ed.nodes = ed.nodes.map((n) => replaced.get(n) ?? n);
  const qlinear = new Set<onnx.INodeProto>(replaced.values());
  // Values a QLinear op produces that float ops or the graph read: DequantizeLinear back to the float name.
  for (const name of producedQ) {
    const floatReaders = ed.nodes.some((n) => !qlinear.has(n) && (n.input ?? []).includes(name));
    if (floatReaders || ed.isGraphOutput(name)) {
      added.push(ed.node('DequantizeLinear', [qName.get(name)!, ...pOf(name)], [name]));
    }
  }
  ed.nodes = [...ed.nodes, ...added];
  if (contrib && !(ed.model.opsetImport ?? []).some((o) => o.domain === 'com.microsoft')) {
    ed.model.opsetImport = [...(ed.model.opsetImport ?? []), onnx.OperatorSetIdProto.create({ domain: 'com.microsoft', version: 1 })];
  }
}

// ---- error report -------------------------------------------------------------

async function measure(bytes: Uint8Array, feeds: Record<string, TensorLike>[], cal: Calibration): Promise<QuantizeOutputError[]> {
  // The integer model as onnxruntime runs it by default: every chain fused into its integer op.
  const m = await loadOnnx(bytes, { qdq: 'fuse' });
  try {
    const names = m.outputNames.filter((n) => cal.reference[0].has(n));
    const acc = names.map(() => ({ max: 0, sum: 0, count: 0, ref: 0, same: 0, classifier: false }));
    for (let k = 0; k < feeds.length; k++) {
      const out = await m.run(feeds[k]);
      names.forEach((name, j) => {
        const got = out[name].data as Float32Array;
        const want = cal.reference[k].get(name)!;
        const a = acc[j];
        for (let i = 0; i < want.length; i++) {
          const e = Math.abs(got[i] - want[i]);
          if (!(e <= a.max)) a.max = e;
          a.sum += e;
          a.ref = Math.max(a.ref, Math.abs(want[i]));
        }
        a.count += want.length;
        const shape = out[name].shape;
        if (want.length >= 2 && (shape.length === 1 || (shape.length === 2 && shape[0] === 1))) {
          a.classifier = true;
          if (argmax(got) === argmax(want)) a.same++;
        }
      });
    }
    return names.map((name, j) => ({
      name,
      maxAbsError: acc[j].max,
      meanAbsError: acc[j].sum / Math.max(1, acc[j].count),
      maxAbsFloat: acc[j].ref,
      ...(acc[j].classifier ? { argmaxAgreement: { same: acc[j].same, total: feeds.length } } : {}),
    }));
  } finally {
    m.dispose();
  }
}

function argmax(d: Float32Array): number {
  let best = 0;
  for (let i = 1; i < d.length; i++) if (d[i] > d[best]) best = i;
  return best;
}

/**
 * Post-training static quantization: runs the float model over the
 * calibration inputs, picks each activation's range, and returns the int8
 * model as ONNX bytes (that neonn and onnxruntime both run) with each
 * output's error against the float model over the same inputs.
 *
 * Weights of Conv, Gemm and MatMul become int8 (per output channel and
 * symmetric by default), their biases int32 (scale = input scale × weight
 * scale); activations uint8 (or int8), asymmetric. Graph outputs stay float.
 * A model below opset 13 is moved to opset 13 (per-axis Q/DQ needs it).
 * @param modelOrOnnxBytes - the float model: a file path or its ONNX bytes
 * @param calibrationInputs - representative inputs: tensors for a one-input model, or feeds objects by input name
 * @param options - see {@link QuantizeOptions}
 * @throws {TypeError} for a wrong argument or option, {RangeError} for an empty calibration set, a bad option value, an input of the wrong shape, or a model that cannot be moved to opset 13
 * @throws {NeonnError} for bytes that are not ONNX or a model neonn cannot run
 * @example
 * const { onnx, outputs } = await nn.quantize('mnist.onnx', [x1, x2, x3]);
 * fs.writeFileSync('mnist.int8.onnx', onnx);
 * console.log(outputs[0].maxAbsError, outputs[0].argmaxAgreement);
 */
export async function quantize(modelOrOnnxBytes: string | Uint8Array | ArrayBuffer, calibrationInputs: readonly CalibrationInput[], options?: QuantizeOptions): Promise<QuantizeResult> {
  const s = settings(options);
  if (!Array.isArray(calibrationInputs)) typeError(OP, 'calibrationInputs', 'an array of tensors or of feeds objects', calibrationInputs);
  const bytes = await readModel(modelOrOnnxBytes);
  const ed = new Editor(decodeModel(bytes));
  // Names the user may exclude: every node's and op type of the model as given.
  const known = new Set(ed.nodes.flatMap((n) => [n.name ?? '', n.opType ?? '']));
  constantsToInitializers(ed);
  dropIdentities(ed);
  foldConstantReshape(ed);
  foldBatchNorm(ed);
  foldConvAdd(ed);
  const feeds = calibrationFeeds(calibrationInputs, (ed.graph.input ?? []).map((i) => i.name ?? ''));
  const cal = await calibrate(ed.finish(), feeds, s);
  upgradeOpset(ed, cal.shapes);
  const { plans, folded } = plan(ed, cal, s, known);
  const params = paramsOf(plans, cal, s);
  if (s.format === 'qdq') emitQdq(ed, plans, params, s);
  else emitQOperator(ed, plans, params, s);
  ed.model.producerName = 'neonn quantize';
  ed.model.producerVersion = '';
  const out = ed.finish();
  const quantizedOps: Record<string, number> = {};
  for (const p of plans) quantizedOps[p.node.opType!] = (quantizedOps[p.node.opType!] ?? 0) + 1;
  return { onnx: out, outputs: await measure(out, feeds, cal), quantizedOps, foldedActivations: folded, calibratedValues: cal.stats.size };
}
