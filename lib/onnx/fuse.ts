/**
 * Graph passes that merge what exporters write as several elementwise steps
 * into fewer (each step of an activation map is a pass over memory):
 *
 * - an affine after a Conv, `Conv → Mul(k) → Add(t)` with constant k and t of
 *   one value or one per output channel (PaddlePaddle's "learnable affine
 *   blocks", a BatchNormalization written out), folds into the Conv's weights
 *   and bias (w·k, b·k + t), as BatchNormalization does (graph.ts fuseConv);
 * - an affine of one value before a Conv that pads nothing, `Mul(k) → Add(t)
 *   → Conv`, folds into that Conv (w·k, b + t·Σw: with no padding every
 *   weight meets a transformed value);
 * - HardSwish written out, `x · Clip(x + 3, 0, 6) / 6` (or `· (1/6)`), becomes
 *   one HardSwish step, which NHWC regions run as one XNNPACK operator.
 *
 * They compute what the steps computed up to float rounding (the folded
 * weights are rounded once; HardSwish is x · clamp(x/6 + 1/2, 0, 1)). The
 * exact float form of a quantized op (qop-float.ts) is left alone: its
 * integer-valued weights are what make it exact.
 * @internal
 */
import type { onnx } from './proto';
import type { Port, Step } from './graph';
import type { Value } from './ops';
import { Tensor } from '../tensor';
import { DTYPE_CODE } from '../dtype';
import { binding } from '../native';
import { attrFloat, attrInt, attrInts, weightsArray } from './proto';

/**
 * Conv weights `w` ([cout, ...] flat) times one factor per output channel, w'[o, ...] = w[o, ...] · k[o], into
 * weight memory the programs share. Computed by the native Mul kernel: the JS loop it replaces ran once per
 * load, mostly before the JIT had compiled it (ResNet-50's 25M weights: about 100 ms of a load).
 */
export function scaleRows(w: Float32Array, k: Float32Array): Float32Array {
  const cout = k.length;
  const per = w.length / cout;
  const out = weightsArray(w.length);
  const f32 = DTYPE_CODE.float32;
  binding.kernelSync('Mul', [{ data: w, shape: [cout, per], dtype: f32 }, { data: k, shape: [cout, 1], dtype: f32 }], [{ data: out, shape: [cout, per], dtype: f32 }], {});
  return out;
}

/**
 * A Conv step reads `x` with new weights `nw` (shaped as `w`) and bias `nb`, kept as constants under fresh
 * names `neonn::<kind>_w<n>` / `_b<n>`: what every pass that folds an affine into a Conv ends with.
 */
export function setConvWeights(conv: Step, consts: Map<string, Value>, kind: string, n: number, x: string, w: Tensor, nw: Float32Array, nb: Float32Array): void {
  const wName = `neonn::${kind}_w${n}`;
  const bName = `neonn::${kind}_b${n}`;
  consts.set(wName, new Tensor(nw, [...w.shape]));
  consts.set(bName, new Tensor(nb, [nb.length]));
  conv.inputs = [x, wName, bName];
}

/** How many steps (and graph outputs) read each value. */
export function useCounts(steps: readonly Step[], outputs: readonly Port[]): Map<string, number> {
  const uses = new Map<string, number>();
  for (const s of steps) for (const i of s.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of outputs) uses.set(o.name, (uses.get(o.name) ?? 0) + 1);
  return uses;
}

/** A constant float32 tensor by value name. */
export function constFloat(consts: ReadonlyMap<string, Value>, name: string | undefined): Tensor | undefined {
  const v = name ? consts.get(name) : undefined;
  return v instanceof Tensor ? v : undefined;
}

/** The value of a rank-0 float constant (broadcast against any value, it keeps that value's shape). */
function scalarOf(consts: ReadonlyMap<string, Value>, name: string | undefined): number | undefined {
  const t = constFloat(consts, name);
  return t && t.shape.length === 0 ? t.data[0] : undefined;
}

/** The other input of a two-input step that reads `x` once; undefined otherwise. */
function otherInput(s: Step, x: string): string | undefined {
  if (s.inputs.length !== 2 || s.inputs[0] === s.inputs[1]) return undefined;
  if (s.inputs[0] === x) return s.inputs[1];
  if (s.inputs[1] === x) return s.inputs[0];
  return undefined;
}

/**
 * A Mul/Add constant as one factor per channel of a [N, C, spatial...] value of rank `rank`: one value of rank
 * at most `rank`, or C values shaped [C, 1, ...] or [1, C, 1, ...] (so the output's shape stays the Conv's).
 */
function perChannel(consts: ReadonlyMap<string, Value>, name: string, channels: number, rank: number): Float32Array | undefined {
  const t = constFloat(consts, name);
  if (!t || t.shape.length > rank) return undefined;
  if (t.data.length === 1) return new Float32Array(channels).fill(t.data[0]);
  const dims = [...t.shape];
  while (dims.length < rank) dims.unshift(1);
  if (t.data.length !== channels || dims[1] !== channels || dims.some((d, i) => i !== 1 && d !== 1)) return undefined;
  return Float32Array.from(t.data);
}

const isOp = (s: Step | undefined, op: string): s is Step => s !== undefined && s.node.opType === op && (s.node.domain ?? '') === '';

/** The step that alone reads `name` (not a graph output), if it is `op`. */
function soleReader(steps: readonly Step[], removed: ReadonlySet<Step>, uses: ReadonlyMap<string, number>, outNames: ReadonlySet<string>, name: string, op: string): Step | undefined {
  if (uses.get(name) !== 1 || outNames.has(name)) return undefined;
  const r = steps.find((s) => !removed.has(s) && s.inputs.includes(name));
  return isOp(r, op) ? r : undefined;
}

/** Conv → Mul(k) [→ Add(t)] and Conv → Add(t) with per-channel constants fold into the Conv. */
export function fuseConvAffine(steps: Step[], outputs: readonly Port[], consts: Map<string, Value>): Step[] {
  const outNames = new Set(outputs.map((o) => o.name));
  const removed = new Set<Step>();
  let uses = useCounts(steps, outputs);
  let fresh = 0;
  for (const conv of steps) {
    // A quantized op's exact float form (qop-float.ts: its `fallback` says so) keeps its integer-valued weights.
    if (!isOp(conv, 'Conv') || removed.has(conv) || conv.activation !== 'none' || conv.outputs.length !== 1 || conv.fallback) continue;
    for (;;) {
      const w = constFloat(consts, conv.inputs[1]);
      if (!w || w.shape.length < 3) break;
      const cout = w.shape[0];
      const b = conv.inputs[2] ? constFloat(consts, conv.inputs[2]) : undefined;
      if (conv.inputs[2] && (!b || b.data.length !== cout)) break;
      const mul = soleReader(steps, removed, uses, outNames, conv.outputs[0], 'Mul');
      const add = mul ? undefined : soleReader(steps, removed, uses, outNames, conv.outputs[0], 'Add');
      const step = mul ?? add;
      if (!step) break;
      const other = otherInput(step, conv.outputs[0]);
      const k = other !== undefined ? perChannel(consts, other, cout, w.shape.length) : undefined;
      if (!k) break;
      // An Add leaves the weights as they are: the same (immutable) constant under the new name.
      const nw = mul ? scaleRows(w.data, k) : w.data;
      const nb = new Float32Array(cout);
      for (let o = 0; o < cout; o++) nb[o] = mul ? (b ? b.data[o] : 0) * k[o] : (b ? b.data[o] : 0) + k[o];
      setConvWeights(conv, consts, 'affine', fresh++, conv.inputs[0], w, nw, nb);
      conv.outputs = [step.outputs[0]];
      conv.ops += `+${step.node.opType ?? ''}`;
      conv.label += ` + ${step.label}`;
      removed.add(step);
      uses = useCounts(steps.filter((s) => !removed.has(s)), outputs);
    }
  }
  return steps.filter((s) => !removed.has(s));
}

/** A step's constant input of one value (any shape of one element), the other input being `x`. */
function oneValue(consts: ReadonlyMap<string, Value>, s: Step, x: string): number | undefined {
  const other = otherInput(s, x);
  const t = other !== undefined ? constFloat(consts, other) : undefined;
  return t && t.data.length === 1 && t.shape.length <= 1 ? t.data[0] : undefined;
}

/** Whether a Conv step pads nothing (its pads all 0, auto_pad NOTSET or VALID). */
function padsNothing(s: Step): boolean {
  const auto = s.node.attribute?.find((a) => a.name === 'auto_pad');
  const mode = auto?.s ? new TextDecoder().decode(auto.s) : 'NOTSET';
  if (mode !== 'NOTSET' && mode !== 'VALID') return false;
  return (attrInts(s.node, 'pads') ?? []).every((p) => p === 0);
}

/** Mul(k) → Add(t) (either, or both) of one value each, read only by a Conv that pads nothing, folds into it. */
export function fuseAffineIntoConv(steps: Step[], outputs: readonly Port[], consts: Map<string, Value>): Step[] {
  const outNames = new Set(outputs.map((o) => o.name));
  const removed = new Set<Step>();
  let uses = useCounts(steps, outputs);
  let fresh = 0;
  for (const first of steps) {
    if (removed.has(first) || !(isOp(first, 'Mul') || isOp(first, 'Add'))) continue;
    const x = first.inputs.find((n) => !consts.has(n));
    if (x === undefined) continue;
    const k1 = oneValue(consts, first, x);
    if (k1 === undefined) continue;
    let k = isOp(first, 'Mul') ? k1 : 1;
    let t = isOp(first, 'Add') ? k1 : 0;
    const chain = [first];
    let last = first;
    if (isOp(first, 'Mul')) {
      const add = soleReader(steps, removed, uses, outNames, first.outputs[0], 'Add');
      const t2 = add ? oneValue(consts, add, first.outputs[0]) : undefined;
      if (add && t2 !== undefined) {
        t = t2;
        chain.push(add);
        last = add;
      }
    }
    const conv = soleReader(steps, removed, uses, outNames, last.outputs[0], 'Conv');
    if (!conv || conv.inputs[0] !== last.outputs[0] || conv.activation !== 'none' || conv.fallback || !padsNothing(conv)) continue;
    const w = constFloat(consts, conv.inputs[1]);
    if (!w || w.shape.length < 3) continue;
    const cout = w.shape[0];
    const b = conv.inputs[2] ? constFloat(consts, conv.inputs[2]) : undefined;
    if (conv.inputs[2] && (!b || b.data.length !== cout)) continue;
    const per = w.data.length / cout;
    const nw = weightsArray(w.data.length);
    const nb = new Float32Array(cout);
    for (let o = 0; o < cout; o++) {
      let sum = 0;
      for (let j = 0; j < per; j++) {
        sum += w.data[o * per + j];
        nw[o * per + j] = w.data[o * per + j] * k;
      }
      nb[o] = (b ? b.data[o] : 0) + t * sum;
    }
    setConvWeights(conv, consts, 'pre_affine', fresh++, x, w, nw, nb);
    conv.ops = `${chain.map((c) => c.ops).join('+')}+${conv.ops}`;
    conv.label = `${chain.map((c) => c.label).join(' + ')} + ${conv.label}`;
    for (const c of chain) removed.add(c);
    uses = useCounts(steps.filter((s) => !removed.has(s)), outputs);
  }
  return steps.filter((s) => !removed.has(s));
}

/** Clip's bounds as constants: inputs (opset 11+) or attributes (before). */
function clipBounds(s: Step, consts: ReadonlyMap<string, Value>, opset: number): [number, number] | undefined {
  if (opset < 11) return [attrFloat(s.node, 'min', -3.4028234663852886e38), attrFloat(s.node, 'max', 3.4028234663852886e38)];
  const lo = s.inputs[1] ? scalarOf(consts, s.inputs[1]) : -Infinity;
  const hi = s.inputs[2] ? scalarOf(consts, s.inputs[2]) : Infinity;
  return lo === undefined || hi === undefined ? undefined : [lo, hi];
}

/** `x · Clip(x + 3, 0, 6) / 6` (or `· (1/6)`) becomes one HardSwish step. */
export function fuseHardSwish(steps: Step[], outputs: readonly Port[], consts: ReadonlyMap<string, Value>, opset: number): Step[] {
  const outNames = new Set(outputs.map((o) => o.name));
  const removed = new Set<Step>();
  let uses = useCounts(steps, outputs);
  for (const add of steps) {
    if (!isOp(add, 'Add') || removed.has(add)) continue;
    const x = add.inputs.find((n) => scalarOf(consts, n) === undefined);
    if (x === undefined || scalarOf(consts, otherInput(add, x)) !== 3) continue;
    const clip = soleReader(steps, removed, uses, outNames, add.outputs[0], 'Clip');
    const bounds = clip && clipBounds(clip, consts, opset);
    if (!clip || !bounds || bounds[0] !== 0 || bounds[1] !== 6) continue;
    const mul = soleReader(steps, removed, uses, outNames, clip.outputs[0], 'Mul');
    if (!mul || otherInput(mul, clip.outputs[0]) !== x) continue;
    const scale = soleReader(steps, removed, uses, outNames, mul.outputs[0], 'Div') ?? soleReader(steps, removed, uses, outNames, mul.outputs[0], 'Mul');
    if (!scale || scale.inputs[0] !== mul.outputs[0]) continue;
    const by = scalarOf(consts, scale.inputs[1]);
    const div = scale.node.opType === 'Div';
    if (by === undefined || (div ? by !== 6 : Math.abs(by - 1 / 6) > 1e-7)) continue;
    // Its constants are rank 0, so every step kept x's shape: HardSwish(x) has it too.
    const node: onnx.INodeProto = { opType: 'HardSwish', input: [x], output: [scale.outputs[0]], name: scale.node.name ?? '', domain: '' };
    scale.node = node;
    scale.inputs = [x];
    scale.ops = `${add.ops}+${clip.ops}+${mul.ops}+${scale.ops} (HardSwish)`;
    scale.label = `${add.label} + ${clip.label} + ${mul.label} + ${scale.label}`;
    for (const s of [add, clip, mul]) removed.add(s);
    uses = useCounts(steps.filter((s) => !removed.has(s)), outputs);
  }
  return steps.filter((s) => !removed.has(s));
}

/** A constant of one element: its number, or undefined. */
function oneConst(consts: ReadonlyMap<string, Value>, name: string | undefined): { value: number; dtype: string } | undefined {
  const v = name ? consts.get(name) : undefined;
  if (v === undefined) return undefined;
  const data = v.data as ArrayLike<number | bigint>;
  if (data.length !== 1) return undefined;
  return { value: Number(data[0]), dtype: v instanceof Tensor ? 'float32' : (v as { dtype: string }).dtype };
}

/** ONNX AttributeProto types of the attributes a fused node carries. */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;

/**
 * QuantizeLinear → DequantizeLinear with one scale and zero point (constants, equal on both), the quantized
 * value read by nothing else, becomes one neonn QuantizeDequantize step (lib/ir/schema/quant.ts): the same bits
 * in one pass, and an elementwise float step NHWC regions can run. What a QDQ model keeps between float ops
 * (RetinaFace's LeakyRelu and Concat) was two passes over memory and broke the regions around them.
 */
export function fuseQuantizeDequantize(steps: Step[], outputs: readonly Port[], consts: ReadonlyMap<string, Value>): Step[] {
  const outNames = new Set(outputs.map((o) => o.name));
  const uses = useCounts(steps, outputs);
  const removed = new Set<Step>();
  const fused = new Map<Step, Step>();
  for (const q of steps) {
    if (!isOp(q, 'QuantizeLinear') || q.inputs.length < 3 || consts.has(q.inputs[0])) continue;
    if (attrInt(q.node, 'block_size', 0) !== 0) continue;
    const d = soleReader(steps, removed, uses, outNames, q.outputs[0], 'DequantizeLinear');
    if (!d || d.inputs[0] !== q.outputs[0] || d.inputs.length < 3) continue;
    const [qs, qz, ds, dz] = [q.inputs[1], q.inputs[2], d.inputs[1], d.inputs[2]].map((n) => oneConst(consts, n));
    if (!qs || !qz || !ds || !dz || qs.dtype !== 'float32' || ds.dtype !== 'float32') continue;
    if (qs.value !== ds.value || qz.value !== dz.value || qz.dtype !== dz.dtype || (qz.dtype !== 'uint8' && qz.dtype !== 'int8')) continue;
    // What the pair's own checks would reject (a bad scale, an output_dtype the zero point contradicts) stays
    // the pair, so that loading reports it.
    if (!(qs.value > 0 && Number.isFinite(qs.value))) continue;
    const od = attrInt(q.node, 'output_dtype', 0);
    if (od !== 0 && od !== (qz.dtype === 'uint8' ? 2 : 3)) continue;
    const node: onnx.INodeProto = {
      name: q.node.name ?? '',
      opType: 'QuantizeDequantize',
      domain: 'neonn',
      input: [q.inputs[0]],
      output: [d.outputs[0]],
      attribute: [
        { name: 'scale', type: ATTR_FLOAT, f: qs.value },
        { name: 'zero_point', type: ATTR_INT, i: qz.value },
        { name: 'to', type: ATTR_INT, i: qz.dtype === 'uint8' ? 2 : 3 },
      ],
    };
    removed.add(d);
    fused.set(q, { ...q, node, label: `${q.label} + ${d.label}`, inputs: [q.inputs[0]], outputs: [d.outputs[0]], ops: 'QuantizeLinear+DequantizeLinear', precision: 'float' });
  }
  return steps.filter((s) => !removed.has(s)).map((s) => fused.get(s) ?? s);
}
