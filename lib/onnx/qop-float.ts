/**
 * The float path for QOperator files, the mirror of QDQ fusion (qdq.ts). With
 * constant weights, scales and zero points:
 *
 *   QLinearConv(x, xs, xz, w, ws, wz, ys, yz, B)
 *     ⇒ DequantizeLinear(x, 1, xz) → Conv(w − wz, B) → Mul(xs·ws / ys) → QuantizeLinear(·, 1, yz)
 *   QLinearMatMul(a, as, az, b, bs, bz, ys, yz)
 *     ⇒ DequantizeLinear(a, 1, az) → MatMul(b − bz) → Mul(as·bs / ys) → QuantizeLinear(·, 1, yz)
 *
 * The conv or matmul runs on the float fast path (BLAS, XNNPACK) over
 * integer-valued floats, so its sums are the integer op's int32 accumulators
 * exactly while they stay below 2^24 in magnitude; the multiplier is the one
 * the integer kernel uses (float32 (xs·ws)/ys per output channel), and
 * QuantizeLinear with scale 1 rounds half to even and saturates as it does.
 * So the result is the integer op's, bit for bit, except where a partial sum
 * passes 2^24 (or a Winograd/FFT conv, NNPACK's, is chosen). A node whose bias
 * or weights could not be held exactly is left integer.
 *
 * Dynamic quantization's ConvInteger and MatMulInteger (constant weights) take
 * the same form without the requantization: DequantizeLinear(x, 1, x_zp) →
 * Conv/MatMul(w − w_zp) → Cast(int32), their int32 sums under the same bound.
 * `qdq: 'auto'` uses it where neonn's integer kernels are the slower path: every QLinearMatMul, and every
 * QLinearConv unless the backend runs quantized regions (xnnpack, auto).
 * @internal
 */
import { LITTLE_ENDIAN, intsFromProto, onnx, smallTypedFromProto, tensorFromProto } from './proto';

const DT = onnx.TensorProto.DataType;

/** Why a QLinear op of the file runs float (what layers() shows). */
export const QOP_FLOAT_REASON = "runs float (integer-valued, exact): neonn's integer kernels are reference loops, slower than its float path here (qdq: 'fuse' keeps the QLinear op)";

export interface QopFloatResult {
  nodes: onnx.INodeProto[];
  /** Initializers the rewrite made (integer-valued float weights and biases, multipliers, the scale 1). */
  initializers: onnx.ITensorProto[];
  /** Each node written in place of a QLinear op → that op (for labels and fallback reasons). */
  from: Map<onnx.INodeProto, onnx.INodeProto>;
}

/** Integers a float32 holds exactly. */
const EXACT = 2 ** 24;

/**
 * QLinearConv/QLinearMatMul with constant parameters become their float form; every other node is kept.
 * `integerConvs`: a 2-D QLinearConv whose weights minus their zero points fit int8 stays integer (the backend
 * runs it in a quantized NHWC region on XNNPACK's qs8 operators, the faster path).
 */
export function qoperatorToFloat(nodes: readonly onnx.INodeProto[], inits: ReadonlyMap<string, onnx.ITensorProto>, integerConvs = false): QopFloatResult {
  const constants = new Map(inits);
  for (const n of nodes) {
    if (n.opType === 'Constant' && !n.domain && n.output?.[0]) {
      const v = (n.attribute ?? []).find((a) => a.name === 'value')?.t;
      if (v) constants.set(n.output[0], v);
    }
  }
  const floats = (name: string | undefined): Float32Array | undefined => {
    const t = name ? constants.get(name) : undefined;
    if (!t || t.dataType !== DT.FLOAT) return undefined;
    try {
      return tensorFromProto(t).data;
    } catch {
      return undefined;
    }
  };
  const ints = (name: string | undefined): { values: ArrayLike<number>; dims: number[]; dtype: number } | undefined => {
    const t = name ? constants.get(name) : undefined;
    if (!t) return undefined;
    try {
      const dims = (t.dims ?? []).map(Number);
      if (t.dataType === DT.UINT8 || t.dataType === DT.INT8) return { values: smallTypedFromProto(t).data, dims, dtype: t.dataType };
      if (t.dataType === DT.INT32) return { values: intsFromProto(t), dims, dtype: t.dataType };
    } catch {
      return undefined;
    }
    return undefined;
  };
  const scalarZeroPoints = new Set(nodes.filter((n) => n.opType === 'DynamicQuantizeLinear' && !n.domain && n.output?.[2]).map((n) => n.output![2]));
  const taken = new Set<string>([...constants.keys(), ...nodes.flatMap((n) => [...(n.input ?? []), ...(n.output ?? [])])]);
  let serial = 0;
  const fresh = (base: string): string => {
    let name: string;
    do name = `${base}__neonn_float${serial++}`;
    while (taken.has(name));
    taken.add(name);
    return name;
  };
  const initializers: onnx.ITensorProto[] = [];
  const addFloat = (base: string, data: ArrayLike<number>, dims: number[]): string => {
    const name = fresh(base);
    // raw_data over the array itself: a weight's millions of values were a JS number array first.
    const f = data instanceof Float32Array ? data : Float32Array.from(data);
    initializers.push(LITTLE_ENDIAN ? { name, dataType: DT.FLOAT, dims, rawData: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) } : { name, dataType: DT.FLOAT, dims, floatData: Array.from(f) });
    return name;
  };
  let one: string | undefined;
  const scaleOne = (): string => (one ??= addFloat('one', [1], []));

  const out: onnx.INodeProto[] = [];
  const from = new Map<onnx.INodeProto, onnx.INodeProto>();
  for (const n of nodes) {
    const made = rewrite(n);
    if (!made) {
      out.push(n);
      continue;
    }
    for (const m of made) from.set(m, n);
    out.push(...made);
  }
  return { nodes: out, initializers, from };

  function rewrite(n: onnx.INodeProto): onnx.INodeProto[] | undefined {
    if (n.domain && n.domain !== 'ai.onnx') return undefined;
    if (n.opType === 'ConvInteger' || n.opType === 'MatMulInteger') return rewriteInteger(n);
    const conv = n.opType === 'QLinearConv';
    if (!conv && n.opType !== 'QLinearMatMul') return undefined;
    const ins = n.input ?? [];
    const y = n.output?.[0];
    if (!y || ins.length < 8 || !ins[0]) return undefined;
    const xs = floats(ins[1]), ws = floats(ins[4]), ys = floats(ins[6]);
    const xz = ints(ins[2]), w = ints(ins[3]), wz = ints(ins[5]), yz = ints(ins[7]);
    if (!xs || !ws || !ys || !xz || !w || !wz || !yz) return undefined;
    if (xs.length !== 1 || ys.length !== 1 || xz.values.length !== 1 || yz.values.length !== 1) return undefined;
    if (w.dtype === DT.INT32 || xz.dtype === DT.INT32 || yz.dtype === DT.INT32) return undefined;
    // Output channels: axis 0 of a conv weight [M, C/g, k...], the last axis of a matmul's 2-D b [K, N].
    if (!conv && w.dims.length !== 2) return undefined;
    if (conv && w.dims.length < 3) return undefined;
    const channels = conv ? w.dims[0] : w.dims[1];
    if ((ws.length !== 1 && ws.length !== channels) || (wz.values.length !== 1 && wz.values.length !== channels)) return undefined;
    const wf = minusZeroPoints(w.values, wz.values, conv);
    // The region's conv (XNNPACK qs8) also needs each requantization scale below 256.
    const regionScales = () => Array.from({ length: channels }, (_, c) => Math.fround(Math.fround(xs[0] * ws[ws.length === 1 ? 0 : c]) / ys[0])).every((m) => m < 256);
    if (conv && integerConvs && w.dims.length === 4 && fitsInt8(wf) && regionScales()) return undefined;
    // The integer kernel's multiplier, in float32 and in its order: (xs · ws) / ys.
    const mult = new Float32Array(channels);
    for (let c = 0; c < channels; c++) mult[c] = Math.fround(Math.fround(xs[0] * ws[ws.length === 1 ? 0 : c]) / ys[0]);
    let bias: string | undefined;
    if (conv && ins[8]) {
      const b = ints(ins[8]);
      if (!b || b.dtype !== DT.INT32 || b.values.length !== channels) return undefined;
      for (let c = 0; c < channels; c++) if (Math.abs(b.values[c]) >= EXACT) return undefined;
      bias = addFloat(`${ins[8]}_float`, b.values, [channels]);
    }
    const made: onnx.INodeProto[] = [];
    const add = (opType: string, input: string[], output: string, attribute: onnx.IAttributeProto[] = []): string => {
      made.push({ opType, input, output: [output], attribute, name: `${n.name ?? n.opType}/${opType}` });
      return output;
    };
    const xf = add('DequantizeLinear', [ins[0], scaleOne(), ins[2]], fresh(ins[0]));
    const weights = addFloat(`${ins[3]}_float`, wf, w.dims);
    const acc = add(conv ? 'Conv' : 'MatMul', conv ? [xf, weights, ...(bias ? [bias] : [])] : [xf, weights], fresh(`${y}_acc`), conv ? [...(n.attribute ?? [])] : []);
    // Per channel: [1, M, 1, ...] against a conv's [N, M, spatial...]; [N] against a matmul's last axis.
    const multDims = conv ? [1, channels, ...w.dims.slice(2).map(() => 1)] : [channels];
    const scaled = add('Mul', [acc, addFloat(`${y}_multiplier`, mult, multDims)], fresh(`${y}_scaled`));
    add('QuantizeLinear', [scaled, scaleOne(), ins[7]], y);
    return made;
  }

  /**
   * ConvInteger(x, w, x_zp, w_zp) / MatMulInteger(a, b, a_zp, b_zp) with constant weights and weight zero points
   * (dynamic quantization: x and its zero point come from DynamicQuantizeLinear at run time):
   * DequantizeLinear(x, 1, x_zp) → Conv/MatMul over w − w_zp → Cast to int32, the integer op's int32 sums.
   */
  function rewriteInteger(n: onnx.INodeProto): onnx.INodeProto[] | undefined {
    const conv = n.opType === 'ConvInteger';
    const ins = n.input ?? [];
    const y = n.output?.[0];
    if (!y || ins.length < 2 || !ins[0]) return undefined;
    const w = ints(ins[1]);
    if (!w || w.dtype === DT.INT32) return undefined;
    if (!conv && w.dims.length !== 2) return undefined;
    if (conv && w.dims.length < 3) return undefined;
    const channels = conv ? w.dims[0] : w.dims[1];
    let wzero: ArrayLike<number> = [0];
    if (ins[3]) {
      const wz = ints(ins[3]);
      if (!wz || wz.dtype === DT.INT32 || (wz.values.length !== 1 && wz.values.length !== channels)) return undefined;
      wzero = wz.values;
    }
    // One zero point for all of x folds into DequantizeLinear: a constant of one value, or the scalar
    // DynamicQuantizeLinear computes (MatMulInteger's may otherwise be one per row of A).
    if (ins[2] && !scalarZeroPoints.has(ins[2])) {
      const xz = ints(ins[2]);
      if (!xz || xz.values.length !== 1) return undefined;
    }
    const wf = minusZeroPoints(w.values, wzero, conv);
    const made: onnx.INodeProto[] = [];
    const add = (opType: string, input: string[], output: string, attribute: onnx.IAttributeProto[] = []): string => {
      made.push({ opType, input, output: [output], attribute, name: `${n.name ?? n.opType}/${opType}` });
      return output;
    };
    const xf = add('DequantizeLinear', ins[2] ? [ins[0], scaleOne(), ins[2]] : [ins[0], scaleOne()], fresh(ins[0]));
    const weights = addFloat(`${ins[1]}_float`, wf, w.dims);
    const acc = add(conv ? 'Conv' : 'MatMul', [xf, weights], fresh(`${y}_acc`), conv ? [...(n.attribute ?? [])] : []);
    add('Cast', [acc], y, [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: DT.INT32 }]);
    return made;
  }
}

/**
 * Integer weights minus their zero points, as floats: one zero point for all, or one per output channel (a conv
 * weight's [M, C/g, k...] rows of M; a matmul's [K, N] columns). The weights come as one of several array types;
 * they are widened to float32 natively first, so that every loop here reads one type (millions of values).
 */
function minusZeroPoints(values: ArrayLike<number>, zeroPoints: ArrayLike<number>, conv: boolean): Float32Array {
  const wf = ArrayBuffer.isView(values) ? new Float32Array(values as unknown as ArrayLike<number>) : Float32Array.from(values);
  const channels = zeroPoints.length;
  if (channels === 1) {
    const z = zeroPoints[0];
    if (z !== 0) for (let i = 0; i < wf.length; i++) wf[i] -= z;
  } else if (conv) {
    const per = wf.length / channels;
    for (let c = 0; c < channels; c++) {
      const z = zeroPoints[c];
      const row = wf.subarray(c * per, (c + 1) * per);
      for (let i = 0; i < row.length; i++) row[i] -= z;
    }
  } else {
    const z = Float32Array.from(zeroPoints);
    for (let i = 0; i < wf.length; i += channels) {
      for (let c = 0; c < channels; c++) wf[i + c] -= z[c];
    }
  }
  return wf;
}

/** Whether every value of `a` is within int8's range. */
function fitsInt8(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] < -128 || a[i] > 127) return false;
  return true;
}
