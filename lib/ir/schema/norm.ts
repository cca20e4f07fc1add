/**
 * Normalizations with statistics computed per call: InstanceNormalization,
 * LayerNormalization, GroupNormalization (opset 18 per-group or 21
 * per-channel scale, told apart by the scale's length) and
 * MeanVarianceNormalization. Kernels: src/kernels/norm.cc.
 * @internal
 */
import { FLOAT } from '../../dtype';
import type { InferCtx, OpSchema, OutInfo } from './types';

function sameShape(c: InferCtx): number[] {
  return [...c.input(0).shape];
}

function vecOf(c: InferCtx, i: number, len: number, what: string): void {
  const s = c.input(i).shape;
  if (s.length !== 1 || s[0] !== len) c.fail(`${what} must have shape [${len}], got [${s.join(',')}]`);
}

export const NORM: readonly OpSchema[] = [
  {
    name: 'InstanceNormalization',
    doc: 'Per (n, c) normalization over the spatial dims, then scale and B per channel',
    inputs: [
      { name: 'input', dtypes: FLOAT },
      { name: 'scale', dtypes: FLOAT },
      { name: 'B', dtypes: FLOAT },
    ],
    outputs: [{ name: 'output' }],
    // Each block's statistics are taken before it is written: safe in place.
    inPlace: [[0, 0]],
    attrs: { epsilon: { type: 'float', default: 1e-5 } },
    layout: 'nchw',
    infer(c) {
      const x = c.input(0).shape;
      if (x.length < 2) c.fail('input must have at least 2 dims (N, C, ...)');
      vecOf(c, 1, x[1], 'scale');
      vecOf(c, 2, x[1], 'B');
      return [{ dtype: 'float32', shape: sameShape(c) }];
    },
  },
  {
    name: 'LayerNormalization',
    doc: 'Normalization over X.shape[axis:], Scale and B broadcast onto it; optional Mean and InvStdDev',
    inputs: [
      { name: 'X', dtypes: FLOAT },
      { name: 'Scale', dtypes: FLOAT },
      { name: 'B', dtypes: FLOAT, optional: true },
    ],
    outputs: [{ name: 'Y' }, { name: 'Mean', optional: true }, { name: 'InvStdDev', optional: true }],
    // Each block's statistics are taken before it is written: safe in place.
    inPlace: [[0, 0]],
    attrs: { axis: { type: 'int', default: -1 }, epsilon: { type: 'float', default: 1e-5 }, stash_type: { type: 'int', default: 1 } },
    layout: 'any',
    infer(c) {
      const x = c.input(0).shape;
      const r = x.length;
      const axis = c.int('axis');
      if (r < 1) c.fail('X must have at least one dim');
      if (axis < -r || axis >= r) c.fail(`axis ${axis} is out of range for rank ${r}`);
      const a = axis < 0 ? axis + r : axis;
      const normShape = x.slice(a);
      for (const [i, what] of [[1, 'Scale'], [2, 'B']] as const) {
        if (!c.has(i)) continue;
        const s = c.input(i).shape;
        const ok = s.length <= normShape.length && s.every((d, j) => d === 1 || d === normShape[normShape.length - s.length + j]);
        if (!ok) c.fail(`${what} must broadcast to X.shape[axis:]`);
      }
      const stat = [...x.slice(0, a), ...normShape.map(() => 1)];
      const outs: OutInfo[] = [{ dtype: 'float32', shape: [...x] }];
      for (let i = 1; i < Math.min(c.numOutputs, 3); i++) outs.push({ dtype: 'float32', shape: [...stat] });
      return outs;
    },
  },
  {
    name: 'GroupNormalization',
    doc: 'Per (n, group) normalization; scale and bias per group (opset 18) or per channel (21)',
    inputs: [
      { name: 'X', dtypes: FLOAT },
      { name: 'scale', dtypes: FLOAT },
      { name: 'bias', dtypes: FLOAT },
    ],
    outputs: [{ name: 'Y' }],
    // Each block's statistics are taken before it is written: safe in place.
    inPlace: [[0, 0]],
    attrs: { num_groups: { type: 'int', required: true }, epsilon: { type: 'float', default: 1e-5 }, stash_type: { type: 'int', default: 1 } },
    layout: 'nchw',
    infer(c) {
      const x = c.input(0).shape;
      if (x.length < 2) c.fail('X must have at least 2 dims (N, C, ...)');
      const g = c.int('num_groups');
      if (g < 1 || x[1] % g !== 0) c.fail(`channels (${x[1]}) must be divisible by num_groups (${g})`);
      const s = c.input(1).shape, b = c.input(2).shape;
      if (s.length !== 1 || b.length !== 1 || s[0] !== b[0] || (s[0] !== x[1] && s[0] !== g)) c.fail(`scale and bias must have shape [C] (${x[1]}) or [num_groups] (${g})`);
      return [{ dtype: 'float32', shape: [...x] }];
    },
  },
  {
    name: 'MeanVarianceNormalization',
    doc: '(X - mean) / (std + 1e-9) over axes',
    inputs: [{ name: 'X', dtypes: FLOAT }],
    outputs: [{ name: 'Y' }],
    // Each block's statistics are taken before it is written: safe in place.
    inPlace: [[0, 0]],
    attrs: { axes: { type: 'ints', default: [0, 2, 3] } },
    layout: 'any',
    infer(c) {
      const r = c.input(0).shape.length;
      const axes = c.ints('axes') ?? [];
      if (axes.some((a) => a < -r || a >= r)) c.fail(`axes ${JSON.stringify(axes)} are out of range for rank ${r}`);
      return [{ dtype: 'float32', shape: sameShape(c) }];
    },
  },
];
