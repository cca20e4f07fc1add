/**
 * QDQ fusion at load: DequantizeLinear → float op → QuantizeLinear chains
 * become one integer op on the QOperator kernels, as onnxruntime's graph
 * optimizer does:
 *
 *   DQ(x), DQ(w int8 const), DQ(b int32 const) → Conv [→ Relu | Clip] → Q  ⇒  QLinearConv
 *   DQ(a), DQ(b) → MatMul → Q                                                ⇒  QLinearMatMul
 *   DQ(a), DQ(b) → Add | Mul → Q                                             ⇒  com.microsoft.QLinearAdd | QLinearMul
 *   DQ(x) → GlobalAveragePool | AveragePool | LeakyRelu | Sigmoid → Q       ⇒  com.microsoft.QLinear…
 *   DQ(x1..xn) → Concat → Q                                                  ⇒  com.microsoft.QLinearConcat
 *   DQ(x) → MaxPool → Q with the same scale and zero point                  ⇒  MaxPool on the 8-bit values
 *
 * A Relu folds when the output's zero point is the type's lowest value (then
 * saturation is the Relu), a Clip when its bounds quantize outside the type's
 * range. A bias folds when its scale is x_scale · w_scale (to float32
 * rounding). Anything else stays float, and the reason is kept for
 * `model.layers()`. DequantizeLinear nodes nothing reads any more go.
 * @internal
 */
import { attrFloat, intsFromProto, onnx, smallTypedFromProto, tensorFromProto } from './proto';

const DT = onnx.TensorProto.DataType;

/** What the pass did to one node of the result. */
export interface FusedInfo {
  /** ONNX op types merged, e.g. `DequantizeLinear+Conv+Relu+QuantizeLinear`. */
  ops: string;
  /** The original nodes, for labels. */
  nodes: onnx.INodeProto[];
}

export interface QdqResult {
  nodes: onnx.INodeProto[];
  /** Fused nodes of `nodes` → what they came from. */
  fused: Map<onnx.INodeProto, FusedInfo>;
  /** Float nodes between DequantizeLinear and QuantizeLinear that stayed float → why. */
  fallbacks: Map<onnx.INodeProto, string>;
  /** Initializers the pass added (zero points a DequantizeLinear left out). */
  initializers: onnx.ITensorProto[];
  /** Whether a com.microsoft op was written. */
  contrib: boolean;
}

interface Dq {
  node: onnx.INodeProto;
  x: string;
  scale: string;
  zero: string;
  scales: Float32Array;
  zeros: number[];
  dtype: number;
  axis: number;
}

/** Where the output zero point is among the inputs of the ops that make 8-bit values. */
const Y_ZERO_POINT: Readonly<Record<string, { index: number; domain?: string }>> = {
  QuantizeLinear: { index: 2 },
  QLinearConv: { index: 7 },
  QLinearMatMul: { index: 7 },
  QLinearAdd: { index: 7, domain: 'com.microsoft' },
  QLinearMul: { index: 7, domain: 'com.microsoft' },
  QLinearGlobalAveragePool: { index: 4, domain: 'com.microsoft' },
  QLinearAveragePool: { index: 4, domain: 'com.microsoft' },
  QLinearLeakyRelu: { index: 4, domain: 'com.microsoft' },
  QLinearSigmoid: { index: 4, domain: 'com.microsoft' },
  QLinearConcat: { index: 1, domain: 'com.microsoft' },
};

const CORE = new Set(['Conv', 'MatMul', 'Add', 'Mul', 'GlobalAveragePool', 'AveragePool', 'LeakyRelu', 'Sigmoid', 'Concat', 'MaxPool']);

/**
 * Fuses the QDQ chains of `nodes` (in topological order or not; the result
 * keeps the order, a fused node where its QuantizeLinear was).
 * `inits` are the graph's initializers by name; `outputs` its output names.
 */
export function fuseQdq(nodes: onnx.INodeProto[], inits: ReadonlyMap<string, onnx.ITensorProto>, outputs: ReadonlySet<string>): QdqResult {
  const producer = new Map<string, onnx.INodeProto>();
  const readers = new Map<string, number>();
  for (const n of nodes) {
    for (const o of n.output ?? []) if (o) producer.set(o, n);
    for (const i of n.input ?? []) if (i) readers.set(i, (readers.get(i) ?? 0) + 1);
  }
  for (const o of outputs) readers.set(o, (readers.get(o) ?? 0) + 1);
  const constants = new Map<string, onnx.ITensorProto>(inits);
  for (const n of nodes) {
    if (n.opType === 'Constant' && !n.domain && n.output?.[0]) {
      const v = (n.attribute ?? []).find((a) => a.name === 'value')?.t;
      if (v) constants.set(n.output[0], v);
    }
  }
  const isDefault = (n: onnx.INodeProto): boolean => !n.domain || n.domain === 'ai.onnx';
  const added: onnx.ITensorProto[] = [];
  let serial = 0;

  const floats = (name: string): Float32Array | undefined => {
    const t = constants.get(name);
    if (!t || t.dataType !== DT.FLOAT) return undefined;
    try {
      return tensorFromProto(t).data;
    } catch {
      return undefined;
    }
  };
  const ints = (name: string): { values: number[]; dtype: number } | undefined => {
    const t = constants.get(name);
    if (!t) return undefined;
    try {
      if (t.dataType === DT.UINT8 || t.dataType === DT.INT8) return { values: Array.from(smallTypedFromProto(t).data), dtype: t.dataType };
      if (t.dataType === DT.INT32) return { values: intsFromProto(t), dtype: t.dataType };
    } catch {
      return undefined;
    }
    return undefined;
  };
  /**
   * The 8-bit type of a value: an initializer's, or that of the zero point
   * of the QuantizeLinear or QLinear op that makes it.
   */
  const dtypeOf = (name: string, depth = 0): number | undefined => {
    const c = constants.get(name);
    if (c) return c.dataType ?? undefined;
    const p = producer.get(name);
    if (!p) return undefined;
    const zp = Y_ZERO_POINT[p.opType ?? ''];
    if (zp !== undefined && (p.domain ?? '') === (zp.domain ?? '')) {
      const z = p.input?.[zp.index];
      return z ? ints(z)?.dtype : DT.UINT8;
    }
    if (p.opType === 'MaxPool' && depth < 8) return dtypeOf(p.input?.[0] ?? '', depth + 1);
    return undefined;
  };
  const dqOf = (name: string): Dq | undefined => {
    const n = producer.get(name);
    if (!n || n.opType !== 'DequantizeLinear' || !isDefault(n)) return undefined;
    const [x, scale, zero] = n.input ?? [];
    const scales = scale ? floats(scale) : undefined;
    const dtype = dtypeOf(x);
    if (!scales || dtype === undefined || scales.some((s) => !(s > 0))) return undefined;
    const z = zero ? ints(zero) : undefined;
    if (zero && (!z || z.dtype !== dtype)) return undefined;
    return { node: n, x, scale, zero: zero ?? '', scales, zeros: z ? z.values : [0], dtype, axis: Number((n.attribute ?? []).find((a) => a.name === 'axis')?.i ?? 1) };
  };
  /** A zero-point input: the given one, or a fresh zero constant of the type. */
  const zeroInput = (zero: string, dtype: number): string => {
    if (zero) return zero;
    const name = `neonn::qdq_zero${serial++}`;
    added.push({ name, dataType: dtype, dims: [], rawData: new Uint8Array(1) });
    return name;
  };
  const perTensor = (d: Dq): boolean => d.scales.length === 1 && d.zeros.length === 1;

  const fused = new Map<onnx.INodeProto, FusedInfo>();
  const fallbacks = new Map<onnx.INodeProto, string>();
  const replace = new Map<onnx.INodeProto, onnx.INodeProto>();
  const gone = new Set<onnx.INodeProto>();
  let contrib = false;

  for (const q of nodes) {
    if (q.opType !== 'QuantizeLinear' || !isDefault(q)) continue;
    const [t, ys, yzName] = q.input ?? [];
    const y = q.output?.[0];
    const yScale = ys ? floats(ys) : undefined;
    const yz = yzName ? ints(yzName) : { values: [0], dtype: DT.UINT8 };
    if (!y || !yScale || yScale.length !== 1 || !yz || yz.values.length !== 1 || Number((q.attribute ?? []).find((a) => a.name === 'saturate')?.i ?? 1) !== 1) continue;
    const [qmin, qmax] = yz.dtype === DT.UINT8 ? [0, 255] : [-128, 127];
    let core = producer.get(t);
    let act: onnx.INodeProto | undefined;
    if (core && (core.opType === 'Relu' || core.opType === 'Clip') && isDefault(core) && readers.get(t) === 1) {
      act = core;
      core = producer.get(core.input![0]);
    }
    if (!core || !isDefault(core) || !CORE.has(core.opType ?? '') || gone.has(core)) continue;
    const coreOut = core.output![0];
    const why = (reason: string): void => {
      fallbacks.set(core!, reason);
    };
    const ins = core.input ?? [];
    const dqs = ins.map((i) => (i ? dqOf(i) : undefined));
    if (readers.get(coreOut) !== 1 || outputs.has(coreOut) || (core.output ?? []).slice(1).some((o) => o && readers.has(o))) {
      why(`its output is also read by another node or is a graph output`);
      continue;
    }
    if (act) {
      const ok = act.opType === 'Relu' ? yz.values[0] === qmin : clipFolds(act, floats, yScale[0], yz.values[0], qmin, qmax);
      if (!ok) {
        why(`the ${act.opType} before QuantizeLinear does not fold into the output range (zero point ${yz.values[0]}${act.opType === 'Relu' ? `, not ${qmin}` : ''})`);
        continue;
      }
    }
    const op = core.opType!;
    const yIns = [ys, zeroInput(yzName ?? '', yz.dtype)];
    let made: onnx.INodeProto | undefined;
    const triple = (d: Dq): string[] => [d.x, d.scale, zeroInput(d.zero, d.dtype)];
    /** Why the inputs at `idx` do not qualify (each must be a per-tensor DequantizeLinear of an 8-bit value), or ''. */
    const inputProblem = (idx: number[]): string => {
      const notDq = idx.filter((i) => !dqs[i]);
      if (notDq.length > 0) {
        const p = producer.get(ins[notDq[0]] ?? '');
        return `its input ${notDq[0]} ${p && p.opType === 'DequantizeLinear' ? 'is a DequantizeLinear of a value of unknown type or with a non-constant scale' : `comes from ${p ? `a float ${p.opType}` : 'no DequantizeLinear'}`}`;
      }
      const perAxis = idx.filter((i) => !perTensor(dqs[i]!));
      return perAxis.length > 0 ? `its input ${perAxis[0]} is quantized per axis, not per tensor` : '';
    };
    if (op === 'Conv') {
      const [dx, dw, db] = dqs;
      if (!dx || !dw || !perTensor(dx) || (ins[2] && !db)) {
        why('its input or weight is not a per-tensor / per-channel DequantizeLinear');
        continue;
      }
      let bias: string[] = [];
      if (db) {
        const b = ints(db.x);
        const ok = b && b.dtype === DT.INT32 && db.zeros.every((z) => z === 0) && db.scales.every((s, c) => Math.abs(s - Math.fround(dx.scales[0] * dw.scales[dw.scales.length === 1 ? 0 : c])) <= 1e-6 * s);
        if (!ok) {
          why('its bias is not int32 with scale x_scale · w_scale');
          continue;
        }
        bias = [db.x];
      }
      if (dw.scales.length > 1 && dw.axis !== 0) {
        why('its weight is quantized along another axis than the output channels');
        continue;
      }
      made = { opType: 'QLinearConv', input: [...triple(dx), ...triple(dw), ...yIns, ...bias], output: [y], attribute: core.attribute, name: core.name };
    } else if (op === 'MatMul') {
      const [da, db] = dqs;
      if (!da || !db || !perTensor(da) || (!perTensor(db) && db.axis !== 1 && db.axis !== -1)) {
        why('its inputs are not DequantizeLinear per tensor (b: or per column)');
        continue;
      }
      made = { opType: 'QLinearMatMul', input: [...triple(da), ...triple(db), ...yIns], output: [y], name: core.name };
    } else if (op === 'Concat') {
      const problem = inputProblem(ins.map((_, i) => i));
      if (problem) {
        why(problem);
        continue;
      }
      made = { opType: 'QLinearConcat', domain: 'com.microsoft', input: [...yIns, ...dqs.flatMap((d) => triple(d!))], output: [y], attribute: core.attribute, name: core.name };
    } else if (op === 'MaxPool') {
      const d = dqs[0];
      const problem = inputProblem([0]);
      if (!d || problem) {
        why(problem);
        continue;
      }
      if (d.scales[0] !== yScale[0] || d.zeros[0] !== yz.values[0] || d.dtype !== yz.dtype) {
        why('its input and output scale or zero point differ');
        continue;
      }
      made = { opType: 'MaxPool', input: [d.x], output: [y], attribute: core.attribute, name: core.name };
    } else {
      const two = op === 'Add' || op === 'Mul';
      const used = two ? dqs.slice(0, 2) : dqs.slice(0, 1);
      const problem = inputProblem(two ? [0, 1] : [0]);
      if (problem) {
        why(problem);
        continue;
      }
      const attrs = op === 'AveragePool' || op === 'GlobalAveragePool' ? [...(core.attribute ?? []), { name: 'channels_last', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] : op === 'LeakyRelu' ? [{ name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOAT, f: attrFloat(core, 'alpha', 0.01) }] : [];
      made = { opType: `QLinear${op}`, domain: 'com.microsoft', input: [...used.flatMap((d) => triple(d!)), ...yIns], output: [y], attribute: attrs, name: core.name };
    }
    if (made.domain === 'com.microsoft') contrib = true;
    const parts = [...new Set(dqs.filter((d): d is Dq => d !== undefined).map((d) => d.node))];
    fused.set(made, { ops: ['DequantizeLinear', op, ...(act ? [act.opType!] : []), 'QuantizeLinear'].join('+'), nodes: [...parts, core, ...(act ? [act] : []), q] });
    replace.set(q, made);
    gone.add(core);
    if (act) gone.add(act);
    fallbacks.delete(core);
  }
  let out = nodes.filter((n) => !gone.has(n)).map((n) => replace.get(n) ?? n);
  // DequantizeLinear nodes nothing reads any more.
  for (;;) {
    const read = new Set<string>(outputs);
    for (const n of out) for (const i of n.input ?? []) read.add(i);
    const next = out.filter((n) => !(n.opType === 'DequantizeLinear' && isDefault(n) && !(n.output ?? []).some((o) => read.has(o))));
    if (next.length === out.length) break;
    out = next;
  }
  return { nodes: out, fused, fallbacks, initializers: added, contrib };
}

/** A Clip whose bounds quantize to the type's ends or beyond: saturation alone applies it. */
function clipFolds(clip: onnx.INodeProto, floats: (n: string) => Float32Array | undefined, scale: number, zero: number, qmin: number, qmax: number): boolean {
  const bound = (i: number, attr: string, dflt: number): number | undefined => {
    const name = clip.input?.[i];
    if (name) {
      const v = floats(name);
      return v && v.length === 1 ? v[0] : undefined;
    }
    return attrFloat(clip, attr, dflt);
  };
  const lo = bound(1, 'min', -Infinity);
  const hi = bound(2, 'max', Infinity);
  if (lo === undefined || hi === undefined) return false;
  return Math.round(lo / scale) + zero <= qmin && Math.round(hi / scale) + zero >= qmax;
}
