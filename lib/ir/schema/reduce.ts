/**
 * Reductions, ArgMax/ArgMin, TopK and CumSum (kernels: src/kernels/reduce.cc), ONNX
 * semantics. The schema is the newest form: the axes of ReduceX are an
 * optional constant input (ReduceSum from opset 13, the others from 18) and
 * TopK's K an input (opset 10); `upgrade` turns the older attributes into
 * those inputs.
 * @internal
 */
import type { DType } from '../../dtype';
import type { InferCtx, OpSchema } from './types';

const REDUCIBLE: readonly DType[] = ['float32', 'int32', 'int64'];
const ORDERED: readonly DType[] = ['float32', 'int32', 'int64', 'int8', 'uint8'];

/** Which axes are reduced (none: noop_with_empty_axes with empty axes). */
function reducedAxes(c: InferCtx, rank: number): boolean[] {
  const axes = c.has(1) ? c.values(1)! : [];
  if (axes.length === 0) return new Array<boolean>(rank).fill(c.int('noop_with_empty_axes') === 0);
  const red = new Array<boolean>(rank).fill(false);
  for (const a of axes) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) c.fail(`axis ${a} is out of range for rank ${rank}`);
    const n = a < 0 ? a + rank : a;
    if (red[n]) c.fail(`axis ${a} appears twice`);
    red[n] = true;
  }
  return red;
}

function reduce(name: string, doc: string, axesInputSince: number): OpSchema {
  return {
    name,
    doc,
    inputs: [
      { name: 'data', dtypes: REDUCIBLE },
      { name: 'axes', dtypes: ['int64'], optional: true, constant: true },
    ],
    outputs: [{ name: 'reduced' }],
    attrs: { keepdims: { type: 'int', default: 1 }, noop_with_empty_axes: { type: 'int', default: 0 } },
    layout: 'any',
    infer: (c) => {
      const x = c.input(0);
      const red = reducedAxes(c, x.shape.length);
      const keep = c.int('keepdims') !== 0;
      const shape: number[] = [];
      x.shape.forEach((d, i) => {
        if (!red[i]) shape.push(d);
        else if (keep) shape.push(1);
      });
      return [{ dtype: x.dtype, shape }];
    },
    upgrade: (node, c) => {
      if (c.opset >= axesInputSince) return;
      const axes = node.attrs.axes;
      delete node.attrs.axes;
      if (axes === undefined) return;
      if (!Array.isArray(axes)) return c.fail('attribute "axes" must be a list of integers');
      node.inputs[1] = c.constant('int64', [axes.length], axes);
    },
  };
}

function arg(name: string, doc: string): OpSchema {
  return {
    name,
    doc,
    inputs: [{ name: 'data', dtypes: ORDERED }],
    outputs: [{ name: 'reduced' }],
    attrs: { axis: { type: 'int', default: 0 }, keepdims: { type: 'int', default: 1 }, select_last_index: { type: 'int', default: 0 } },
    layout: 'any',
    infer: (c) => {
      const x = c.input(0);
      const r = x.shape.length;
      const axis = c.int('axis');
      if (r === 0) c.fail('input must have rank >= 1');
      if (axis < -r || axis >= r) c.fail(`axis ${axis} is out of range for rank ${r}`);
      const a = axis < 0 ? axis + r : axis;
      if (x.shape[a] === 0 && x.shape.every((d, i) => i === a || d > 0)) c.fail('cannot take the arg of an empty axis');
      const shape: number[] = [];
      x.shape.forEach((d, i) => {
        if (i !== a) shape.push(d);
        else if (c.int('keepdims') !== 0) shape.push(1);
      });
      return [{ dtype: 'int64', shape }];
    },
  };
}

export const REDUCE: readonly OpSchema[] = [
  reduce('ReduceSum', 'Σ over axes', 13),
  reduce('ReduceMean', 'mean over axes', 18),
  reduce('ReduceMax', 'max over axes (NaN propagates)', 18),
  reduce('ReduceMin', 'min over axes (NaN propagates)', 18),
  reduce('ReduceProd', 'Π over axes', 18),
  reduce('ReduceL1', 'Σ|x| over axes', 18),
  reduce('ReduceL2', '√Σx² over axes', 18),
  reduce('ReduceLogSum', 'log Σx over axes', 18),
  reduce('ReduceLogSumExp', 'log Σeˣ over axes (max-shifted)', 18),
  reduce('ReduceSumSquare', 'Σx² over axes', 18),
  arg('ArgMax', 'index of the largest along axis → int64 (ties: first, or last with select_last_index)'),
  arg('ArgMin', 'index of the smallest along axis → int64 (ties: first, or last with select_last_index)'),
  {
    name: 'TopK',
    doc: 'the K largest (or smallest) along axis, sorted, ties by lower index → Values, Indices (int64)',
    inputs: [
      { name: 'X', dtypes: ORDERED },
      { name: 'K', dtypes: ['int64'], constant: true },
    ],
    outputs: [{ name: 'Values' }, { name: 'Indices' }],
    attrs: { axis: { type: 'int', default: -1 }, largest: { type: 'int', default: 1 }, sorted: { type: 'int', default: 1 } },
    layout: 'any',
    infer: (c) => {
      const x = c.input(0);
      const r = x.shape.length;
      if (r === 0) c.fail('input must have rank >= 1');
      const k = c.values(1)!;
      if (k.length !== 1) c.fail(`K must hold one value, got ${k.length}`);
      const axis = c.int('axis');
      if (axis < -r || axis >= r) c.fail(`axis ${axis} is out of range for rank ${r}`);
      const a = axis < 0 ? axis + r : axis;
      if (!(k[0] >= 0 && k[0] <= x.shape[a])) c.fail(`K = ${k[0]} must be in [0, ${x.shape[a]}]`);
      const shape = [...x.shape];
      shape[a] = k[0];
      return [
        { dtype: x.dtype, shape },
        { dtype: 'int64', shape: [...shape] },
      ];
    },
    upgrade: (node, c) => {
      if (c.opset >= 10) return;
      const k = node.attrs.k;
      delete node.attrs.k;
      if (typeof k !== 'number') return c.fail('attribute "k" is required');
      node.inputs[1] = c.constant('int64', [1], [k]);
    },
  },
  {
    name: 'CumSum',
    doc: 'running sum along axis (exclusive: without the element itself; reverse: from the end)',
    inputs: [
      { name: 'x', dtypes: REDUCIBLE },
      // Read by the kernel: it does not decide the output's shape.
      { name: 'axis', dtypes: ['int32', 'int64'] },
    ],
    outputs: [{ name: 'y' }],
    attrs: { exclusive: { type: 'int', default: 0 }, reverse: { type: 'int', default: 0 } },
    layout: 'any',
    infer: (c) => {
      const x = c.input(0);
      const a = c.input(1);
      const r = x.shape.length;
      if (r === 0) c.fail('x must have rank >= 1');
      if (a.shape.length > 1 || a.shape.reduce((p, d) => p * d, 1) !== 1) c.fail(`axis must be a scalar (or hold one value), got shape [${a.shape.join(',')}]`);
      if (a.value !== undefined) {
        const axis = Number(a.value[0]);
        if (axis < -r || axis >= r) c.fail(`axis ${axis} is out of range for rank ${r}`);
      }
      return [{ dtype: x.dtype, shape: [...x.shape] }];
    },
  },
];
