/**
 * Spatial float32 ops over NC[D][H]W tensors, ONNX semantics: Resize and
 * Upsample, ConvTranspose, Conv and the pools for any spatial rank 1-3
 * (the planner sends 2-D Conv/MaxPool/AveragePool/GlobalAveragePool to the
 * hand-tuned families), and MatMul with numpy broadcasting.
 * Kernels: src/kernels/{resize,conv_nd,pool_nd,matmul}.cc.
 * @internal
 */
import { DType, FLOAT } from '../../dtype';
import type { InferCtx, NodeView, OpSchema, OutInfo, UpgradeCtx } from './types';

const COORD_MODES = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize', 'tf_half_pixel_for_nn'] as const;
/** 'simple' is neonn's own: Resize<11 and Upsample round down when enlarging, up when shrinking. */
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil', 'simple'] as const;

/** Resize's output shape from X's shape and the constant scales or sizes (the kernel computes the same). */
function resizeShape(c: InferCtx, inShape: readonly number[], scales: number[] | undefined, sizes: number[] | undefined, axesAttr: number[] | undefined): number[] {
  const rank = inShape.length;
  if (rank < 1) c.fail('X must have at least one dimension');
  const axes: number[] = [];
  for (const a of axesAttr ?? inShape.map((_, i) => i)) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) c.fail(`axis ${a} is out of range for rank ${rank}`);
    const n = a < 0 ? a + rank : a;
    if (axes.includes(n)) c.fail('axes must not repeat');
    axes.push(n);
  }
  const out = [...inShape];
  const hasSizes = sizes !== undefined && sizes.length > 0;
  const hasScales = scales !== undefined && scales.length > 0;
  if (hasSizes === hasScales) c.fail('exactly one of scales and sizes must be given');
  if (hasSizes) {
    if (sizes!.length !== axes.length) c.fail(`sizes must have ${axes.length} values, got ${sizes!.length}`);
    if (sizes!.some((s) => s < 0)) c.fail('sizes must be non-negative');
    const policy = c.hasAttr('keep_aspect_ratio_policy') ? c.str('keep_aspect_ratio_policy') : 'stretch';
    if (policy === 'stretch') {
      axes.forEach((a, i) => (out[a] = sizes![i]));
    } else {
      let s = policy === 'not_larger' ? Infinity : 0;
      axes.forEach((a, i) => {
        if (inShape[a] <= 0) c.fail('keep_aspect_ratio_policy needs non-empty resized axes');
        const r = sizes![i] / inShape[a];
        s = policy === 'not_larger' ? Math.min(s, r) : Math.max(s, r);
      });
      for (const a of axes) out[a] = Math.floor(s * inShape[a] + 0.5);
    }
  } else {
    if (scales!.length !== axes.length) c.fail(`scales must have ${axes.length} values, got ${scales!.length}`);
    axes.forEach((a, i) => {
      const s = scales![i];
      if (!(Number.isFinite(s) && s > 0)) c.fail(`scales must be positive, got ${s}`);
      out[a] = Math.floor(inShape[a] * s);
    });
  }
  return out;
}

const RESIZE: OpSchema = {
  name: 'Resize',
  doc: 'Nearest, N-linear or cubic resize of the trailing dims (ONNX Resize, opsets 10-19)',
  inputs: [
    { name: 'X', dtypes: FLOAT },
    { name: 'roi', dtypes: FLOAT, optional: true, constant: true },
    { name: 'scales', dtypes: FLOAT, optional: true, constant: true },
    { name: 'sizes', dtypes: ['int64'], optional: true, constant: true },
  ],
  outputs: [{ name: 'Y' }],
  attrs: {
    mode: { type: 'string', default: 'nearest', values: ['nearest', 'linear', 'cubic'] },
    coordinate_transformation_mode: { type: 'string', default: 'half_pixel', values: COORD_MODES },
    nearest_mode: { type: 'string', default: 'round_prefer_floor', values: NEAREST_MODES },
    cubic_coeff_a: { type: 'float', default: -0.75 },
    exclude_outside: { type: 'int', default: 0 },
    extrapolation_value: { type: 'float', default: 0 },
    antialias: { type: 'int', default: 0 },
    axes: { type: 'ints' },
    keep_aspect_ratio_policy: { type: 'string', default: 'stretch', values: ['stretch', 'not_larger', 'not_smaller'] },
  },
  layout: 'nchw',
  infer(c) {
    const x = c.input(0);
    const scales = c.values(2);
    const shape = resizeShape(c, x.shape, scales, c.values(3), c.ints('axes'));
    if (c.int('antialias') !== 0 && c.str('mode') !== 'nearest') {
      // Downscaling widens the filter by 1/scale: more than 256 taps is not supported (the kernel checks the same).
      const support = c.str('mode') === 'linear' ? 1 : 2;
      shape.forEach((d, i) => {
        const s = d / x.shape[i];
        if (x.shape[i] > 0 && s < 1 && 2 - 2 * (Math.floor(-support / s) + 1) > 256) c.unsupported('antialias with a scale this small is not supported');
      });
    }
    if (c.str('coordinate_transformation_mode') === 'tf_crop_and_resize') {
      const roi = c.values(1);
      const n = (c.ints('axes') ?? x.shape).length;
      if (roi === undefined || roi.length !== 2 * n) c.fail(`roi must have ${2 * n} values for tf_crop_and_resize`);
    }
    return [{ dtype: 'float32', shape }];
  },
  upgrade(node: NodeView, c: UpgradeCtx) {
    if (c.opset < 11) {
      // Resize-10: (X, scales), mode only, asymmetric coordinates.
      node.inputs = [node.inputs[0], '', node.inputs[1] ?? ''];
      node.attrs = { mode: node.attrs.mode ?? 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'simple' };
    }
  },
};

const UPSAMPLE: OpSchema = {
  name: 'Upsample',
  doc: 'Nearest or N-linear upsampling with asymmetric coordinates (ONNX Upsample 7, 9)',
  inputs: [
    { name: 'X', dtypes: FLOAT },
    { name: 'scales', dtypes: FLOAT, constant: true },
  ],
  outputs: [{ name: 'Y' }],
  attrs: { mode: { type: 'string', default: 'nearest', values: ['nearest', 'linear', 'bilinear'] } },
  layout: 'nchw',
  infer(c) {
    const x = c.input(0);
    const scales = c.values(1) ?? [];
    if (scales.length !== x.shape.length) c.fail(`scales must have ${x.shape.length} values, got ${scales.length}`);
    return [{ dtype: 'float32', shape: resizeShape(c, x.shape, scales, undefined, undefined) }];
  },
  upgrade(node: NodeView, c: UpgradeCtx) {
    if (c.opset < 9) {
      const s = node.attrs.scales;
      if (!Array.isArray(s)) c.fail('Upsample-7 needs the "scales" attribute');
      node.inputs = [node.inputs[0], c.constant('float32', [s.length], s)];
      delete node.attrs.scales;
    }
  },
};

// ---- convolution and pooling over 1-3 spatial dims ----------------------

const AUTO_PAD = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] as const;

/** An ints attribute of n values (dflt each when absent or empty), each >= lo. */
function intsAttr(c: InferCtx, name: string, n: number, dflt: number, lo: number): number[] {
  const v = c.ints(name);
  if (v === undefined || v.length === 0) return new Array<number>(n).fill(dflt);
  if (v.length !== n) c.fail(`${name} must have ${n} values, got ${v.length}`);
  if (v.some((x) => x < lo)) c.fail(`${name} values must be >= ${lo}`);
  return v;
}

/** X [N, C, spatial...] with 1-3 spatial dims. */
function spatialInput(c: InferCtx): readonly number[] {
  const x = c.input(0);
  if (x.shape.length < 3 || x.shape.length > 5) c.fail(`X must have 3 to 5 dims (N, C and 1-3 spatial), got ${x.shape.length}`);
  return x.shape;
}

/** Conv/pool output spatial dims (src/kernels/spatial_geom.h computes the same). */
function windowOut(c: InferCtx, spatialIn: readonly number[], kernel: readonly number[], allowCeil: boolean): number[] {
  const r = spatialIn.length;
  if (kernel.length !== r) c.fail(`kernel_shape must have ${r} values`);
  const s = intsAttr(c, 'strides', r, 1, 1);
  const d = intsAttr(c, 'dilations', r, 1, 1);
  const p = intsAttr(c, 'pads', 2 * r, 0, 0);
  const ap = c.str('auto_pad');
  const ceil = allowCeil && c.hasAttr('ceil_mode') && c.int('ceil_mode') !== 0;
  return spatialIn.map((inp, i) => {
    const k = kernel[i];
    if (!(k >= 1)) c.fail('kernel dims must be positive');
    const ext = (k - 1) * d[i] + 1;
    if (ap === 'SAME_UPPER' || ap === 'SAME_LOWER') return Math.ceil(inp / s[i]);
    if (ap === 'VALID') {
      if (inp < ext) c.fail(`the window (${ext}) is larger than the input (${inp})`);
      return Math.floor((inp - ext) / s[i]) + 1;
    }
    const span = inp + p[i] + p[r + i] - ext;
    if (span < 0) c.fail(`the window (${ext}) is larger than the padded input (${inp + p[i] + p[r + i]})`);
    let out = (ceil ? Math.ceil(span / s[i]) : Math.floor(span / s[i])) + 1;
    if (ceil && (out - 1) * s[i] >= inp + p[i]) out--;
    return out;
  });
}

const WINDOW_ATTRS = {
  auto_pad: { type: 'string', default: 'NOTSET', values: AUTO_PAD },
  pads: { type: 'ints' },
  strides: { type: 'ints' },
  dilations: { type: 'ints' },
  kernel_shape: { type: 'ints' },
} as const;

const CONV: OpSchema = {
  name: 'Conv',
  doc: 'Convolution over 1-3 spatial dims (2-D runs on the conv family), ONNX Conv',
  inputs: [
    { name: 'X', dtypes: FLOAT },
    { name: 'W', dtypes: FLOAT },
    { name: 'B', dtypes: FLOAT, optional: true },
  ],
  outputs: [{ name: 'Y' }],
  attrs: { ...WINDOW_ATTRS, group: { type: 'int', default: 1 } },
  layout: 'nchw',
  infer(c) {
    const x = spatialInput(c);
    const w = c.input(1).shape;
    const g = c.int('group');
    if (w.length !== x.length) c.fail(`W must have the rank of X (${x.length}), got ${w.length}`);
    if (g < 1 || x[1] % g !== 0 || w[1] * g !== x[1]) c.fail(`input channels (${x[1]}) must equal W.shape[1] * group (${w[1] * g})`);
    if (w[0] % g !== 0) c.fail(`output channels (${w[0]}) must be divisible by group`);
    const ks = c.ints('kernel_shape');
    if (ks && ks.length > 0 && ks.some((k, i) => k !== w[2 + i])) c.fail("kernel_shape must equal W's spatial dims");
    if (c.has(2) && (c.input(2).shape.length !== 1 || c.input(2).shape[0] !== w[0])) c.fail(`B must have shape [${w[0]}]`);
    return [{ dtype: 'float32', shape: [x[0], w[0], ...windowOut(c, x.slice(2), w.slice(2), false)] }];
  },
};

const CONV_TRANSPOSE: OpSchema = {
  name: 'ConvTranspose',
  doc: 'Transposed convolution over 1-3 spatial dims (GEMM + col2im), ONNX ConvTranspose',
  inputs: [
    { name: 'X', dtypes: FLOAT },
    { name: 'W', dtypes: FLOAT },
    { name: 'B', dtypes: FLOAT, optional: true },
  ],
  outputs: [{ name: 'Y' }],
  attrs: { ...WINDOW_ATTRS, group: { type: 'int', default: 1 }, output_padding: { type: 'ints' }, output_shape: { type: 'ints' } },
  layout: 'nchw',
  infer(c) {
    const x = spatialInput(c);
    const w = c.input(1).shape;
    const g = c.int('group');
    const r = x.length - 2;
    if (w.length !== x.length) c.fail(`W must have the rank of X (${x.length}), got ${w.length}`);
    if (g < 1 || x[1] % g !== 0) c.fail(`input channels (${x[1]}) must be divisible by group (${g})`);
    if (w[0] !== x[1]) c.fail(`W.shape[0] (${w[0]}) must equal the input channels (${x[1]})`);
    const cout = w[1] * g;
    const ks = c.ints('kernel_shape');
    if (ks && ks.length > 0 && ks.some((k, i) => k !== w[2 + i])) c.fail("kernel_shape must equal W's spatial dims");
    if (c.has(2) && (c.input(2).shape.length !== 1 || c.input(2).shape[0] !== cout)) c.fail(`B must have shape [${cout}]`);
    const s = intsAttr(c, 'strides', r, 1, 1);
    const d = intsAttr(c, 'dilations', r, 1, 1);
    const op = intsAttr(c, 'output_padding', r, 0, 0);
    const p = intsAttr(c, 'pads', 2 * r, 0, 0);
    let os = c.ints('output_shape') ?? [];
    if (os.length === r + 2) os = os.slice(2);
    if (os.length !== 0 && os.length !== r) c.fail(`output_shape must have ${r} values`);
    const ap = c.str('auto_pad');
    const out = x.slice(2).map((inp, i) => {
      if (op[i] >= Math.max(s[i], d[i])) c.fail('output_padding must be smaller than the stride or the dilation');
      const full = s[i] * Math.max(inp - 1, 0) + op[i] + (w[2 + i] - 1) * d[i] + 1;
      if (os.length > 0 || ap === 'SAME_UPPER' || ap === 'SAME_LOWER') {
        const o = os.length > 0 ? os[i] : inp * s[i];
        if (!(o >= 0)) c.fail('output_shape values must be non-negative');
        return o;
      }
      const o = ap === 'VALID' ? full : full - p[i] - p[r + i];
      if (o < 0) c.fail('the pads are larger than the output');
      return o;
    });
    return [{ dtype: 'float32', shape: [x[0], cout, ...out] }];
  },
};

function poolSchema(name: string, doc: string, extra: OpSchema['attrs'], withIndices: boolean, allowCeil: boolean, dtypes: readonly DType[] = FLOAT): OpSchema {
  return {
    name,
    doc,
    inputs: [{ name: 'X', dtypes }],
    outputs: withIndices ? [{ name: 'Y' }, { name: 'Indices', optional: true }] : [{ name: 'Y' }],
    attrs: { ...WINDOW_ATTRS, kernel_shape: { type: 'ints', required: true }, ...extra },
    layout: 'nchw',
    infer(c) {
      const x = spatialInput(c);
      const shape = [x[0], x[1], ...windowOut(c, x.slice(2), c.ints('kernel_shape')!, allowCeil)];
      const outs: OutInfo[] = [{ dtype: c.input(0).dtype, shape }];
      if (withIndices && c.numOutputs > 1) outs.push({ dtype: 'int64', shape: [...shape] });
      return outs;
    },
  };
}

function globalPool(name: string, doc: string, extra: OpSchema['attrs'] = {}): OpSchema {
  return {
    name,
    doc,
    inputs: [{ name: 'X', dtypes: FLOAT }],
    outputs: [{ name: 'Y' }],
    attrs: extra,
    layout: 'nchw',
    infer(c) {
      const x = c.input(0).shape;
      if (x.length < 3) c.fail(`X must have at least 3 dims (N, C, spatial...), got ${x.length}`);
      return [{ dtype: 'float32', shape: [x[0], x[1], ...x.slice(2).map(() => 1)] }];
    },
  };
}

const POOLS: readonly OpSchema[] = [
  poolSchema('MaxPool', 'Max over windows of 1-3 spatial dims, with the optional flat int64 Indices', { ceil_mode: { type: 'int', default: 0 }, storage_order: { type: 'int', default: 0 } }, true, true, ['float32', 'uint8', 'int8']),
  poolSchema('AveragePool', 'Mean over windows of 1-3 spatial dims', { ceil_mode: { type: 'int', default: 0 }, count_include_pad: { type: 'int', default: 0 } }, false, true),
  poolSchema('LpPool', 'Lp norm over windows of 1-3 spatial dims', { ceil_mode: { type: 'int', default: 0 }, p: { type: 'int', default: 2 } }, false, true),
  globalPool('GlobalMaxPool', 'Max over all spatial dims'),
  globalPool('GlobalAveragePool', 'Mean over all spatial dims'),
  globalPool('GlobalLpPool', 'Lp norm over all spatial dims', { p: { type: 'int', default: 2 } }),
];

// ---- MatMul ---------------------------------------------------------------

const MATMUL: OpSchema = {
  name: 'MatMul',
  doc: 'Matrix product with numpy broadcasting of the batch dims (1-D operands promoted)',
  inputs: [
    { name: 'A', dtypes: FLOAT },
    { name: 'B', dtypes: FLOAT },
  ],
  outputs: [{ name: 'Y' }],
  attrs: {},
  layout: 'any',
  infer(c) {
    const a0 = c.input(0).shape, b0 = c.input(1).shape;
    if (a0.length < 1 || b0.length < 1) c.fail('A and B must have at least one dim');
    const a = a0.length === 1 ? [1, ...a0] : [...a0];
    const b = b0.length === 1 ? [...b0, 1] : [...b0];
    const k = a[a.length - 1];
    if (b[b.length - 2] !== k) c.fail(`A's last dim (${k}) must equal B's second to last (${b[b.length - 2]})`);
    const ab = a.slice(0, -2), bb = b.slice(0, -2);
    const r = Math.max(ab.length, bb.length);
    const batch: number[] = [];
    for (let i = 0; i < r; i++) {
      const x = ab[ab.length - r + i] ?? 1, y = bb[bb.length - r + i] ?? 1;
      if (x !== y && x !== 1 && y !== 1) c.fail(`batch dims [${ab.join(',')}] and [${bb.join(',')}] do not broadcast`);
      batch.push(x === 1 ? y : x);
    }
    const out = [...batch];
    if (a0.length > 1) out.push(a[a.length - 2]);
    if (b0.length > 1) out.push(b[b.length - 1]);
    return [{ dtype: 'float32', shape: out }];
  },
};

/** One einsum term: letter ids (0-51) in order, -1 for "...". */
function einsumTerm(c: InferCtx, t: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < t.length; ) {
    const ch = t[i];
    if (ch === ' ') {
      i++;
    } else if (ch === '.') {
      if (t.slice(i, i + 3) !== '...' || out.includes(-1)) c.fail('equation has a malformed or repeated "..."');
      out.push(-1);
      i += 3;
    } else if (/[a-z]/.test(ch)) {
      out.push(ch.charCodeAt(0) - 97);
      i++;
    } else if (/[A-Z]/.test(ch)) {
      out.push(26 + ch.charCodeAt(0) - 65);
      i++;
    } else {
      c.fail(`equation has an unexpected character '${ch}'`);
    }
  }
  return out;
}

const EINSUM: OpSchema = {
  name: 'Einsum',
  doc: 'Einstein summation (reference loops; diagonals, "..." broadcasting, implicit output)',
  inputs: [{ name: 'Inputs', dtypes: FLOAT, variadic: true }],
  outputs: [{ name: 'Output' }],
  attrs: { equation: { type: 'string', required: true } },
  layout: 'any',
  infer(c) {
    const eq = c.str('equation');
    const arrow = eq.indexOf('->');
    const terms = (arrow < 0 ? eq : eq.slice(0, arrow)).split(',').map((t) => einsumTerm(c, t));
    const n = c.inputs.length;
    if (terms.length !== n) c.fail(`equation has ${terms.length} terms for ${n} inputs`);
    let ell = 0;
    terms.forEach((t, i) => {
      const r = c.input(i).shape.length, letters = t.filter((l) => l >= 0).length;
      if (t.includes(-1) ? r < letters : r !== letters) c.fail(`term ${i} has ${letters} labels for an input of rank ${r}`);
      if (t.includes(-1)) ell = Math.max(ell, r - letters);
    });
    const dim = new Map<number, number>();
    const count = new Array<number>(52).fill(0);
    terms.forEach((t, i) => {
      const shape = c.input(i).shape;
      const ne = shape.length - t.filter((l) => l >= 0).length;
      let axis = 0;
      const bind = (label: number, d: number, bc: boolean) => {
        const cur = dim.get(label);
        if (cur === undefined || (bc && cur === 1)) dim.set(label, d);
        else if (d !== cur && !(bc && d === 1)) c.fail(`dimension ${d} of input ${i} does not match ${cur}`);
      };
      for (const l of t) {
        if (l < 0) for (let k = 0; k < ne; k++) bind(52 + (ell - ne) + k, shape[axis++], true);
        else {
          count[l]++;
          bind(l, shape[axis++], false);
        }
      }
    });
    const ellLabels = Array.from({ length: ell }, (_, k) => 52 + k);
    let outLabels: number[];
    if (arrow >= 0) {
      const o = einsumTerm(c, eq.slice(arrow + 2));
      outLabels = [];
      for (const l of o) {
        if (l < 0) outLabels.push(...ellLabels);
        else {
          if (!dim.has(l)) c.fail('output label is not in any input');
          if (outLabels.includes(l)) c.fail('output labels must not repeat');
          outLabels.push(l);
        }
      }
      if (!o.includes(-1) && ellLabels.some((l) => (dim.get(l) ?? 1) !== 1)) c.fail('the output must keep "..." when the inputs\' "..." dims are not 1');
    } else {
      outLabels = [...ellLabels, ...count.map((k, l) => (k === 1 ? l : -1)).filter((l) => l >= 0)];
    }
    return [{ dtype: 'float32', shape: outLabels.map((l) => dim.get(l) ?? 1) }];
  },
};

export const SPATIAL: readonly OpSchema[] = [RESIZE, UPSAMPLE, CONV, CONV_TRANSPOSE, ...POOLS, MATMUL, EINSUM];
