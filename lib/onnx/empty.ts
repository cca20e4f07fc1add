/**
 * Steps on empty tensors (what a NonMaxSuppression that selected nothing
 * feeds the rest of a detector's graph): the result's shape and dtype by the
 * op's shape rule, with no data. Ops with no rule here are refused with a
 * clear error naming the node.
 * @internal
 */
import { NeonnError } from '../errors';
import { DType, allocate, fromNumbers } from '../dtype';
import type { TValue } from '../ir/exec';
import { sizeOf } from '../tensor';
import type { Step } from './graph';
import { Ctx, evalNode, typedOf, valueOfTyped } from './ops';
import { attrInt, attrInts } from './proto';

const SAME_SHAPE = new Set([
  'Identity', 'Cast', 'CastLike', 'Relu', 'Sigmoid', 'Tanh', 'Exp', 'Log', 'Abs', 'Neg', 'Sqrt', 'Floor', 'Ceil', 'Round', 'Sign', 'Not',
  'Clip', 'LeakyRelu', 'HardSigmoid', 'HardSwish', 'Softplus', 'Erf', 'Reciprocal', 'IsNaN', 'IsInf', 'Softmax', 'LogSoftmax', 'Dropout',
]);
const BROADCAST = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or',
  'Xor', 'Where', 'PRelu', 'BitShift',
]);
const TO_BOOL = new Set(['Not', 'IsNaN', 'IsInf', 'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor']);

const DTYPE_OF_CODE: Readonly<Record<number, DType>> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16' };

function refuse(s: Step, why: string): never {
  throw new NeonnError(`run: ${s.label}: ${why}`, 'ERR_NEONN_ONNX_UNSUPPORTED', 'run');
}

function empty(dtype: DType, shape: number[]): TValue {
  return { dtype, data: allocate(dtype, sizeOf(shape)), shape };
}

function ints(v: TValue | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  return Array.from(v.data as ArrayLike<number | bigint>, (x) => Number(x));
}

function axis(s: Step, a: number, rank: number): number {
  if (a < -rank || a >= rank) refuse(s, `axis ${a} is out of range for rank ${rank}`);
  return a < 0 ? a + rank : a;
}

function broadcast(s: Step, shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((x) => x.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const dims = shapes.map((x) => x[x.length - rank + i] ?? 1);
    const big = dims.filter((d) => d !== 1);
    if (new Set(big).size > 1) refuse(s, `shapes ${shapes.map((x) => `[${x.join(',')}]`).join(' and ')} do not broadcast`);
    out.push(big.length > 0 ? big[0] : 1);
  }
  return out;
}

/** ONNX Slice's output size along one axis. */
function sliceDim(dim: number, start: number, end: number, step: number): number {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  let b = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    b = clamp(b, 0, dim);
    e = clamp(e, 0, dim);
    return Math.max(0, Math.ceil((e - b) / step));
  }
  b = clamp(b, -1, dim - 1);
  e = clamp(e, -1, dim - 1);
  return Math.max(0, Math.ceil((e - b) / step));
}

/** The outputs of one step fed at least one empty tensor. */
export function emptyStep(s: Step, ins: (TValue | undefined)[], opset: number): TValue[] {
  const op = s.node.opType ?? '';
  const x = ins[0];
  const node = s.node;
  if (x === undefined) refuse(s, 'its first input is missing');
  if (SAME_SHAPE.has(op)) {
    let dtype = TO_BOOL.has(op) ? 'bool' : x.dtype;
    if (op === 'Cast') dtype = DTYPE_OF_CODE[attrInt(node, 'to', 1)] ?? refuse(s, `"to" = ${attrInt(node, 'to', 1)} is not a dtype neonn holds`);
    if (op === 'CastLike' && ins[1]) dtype = ins[1].dtype;
    // Dropout's mask: bool from opset 10, the data's type before.
    if (op === 'Dropout') return [empty(dtype, [...x.shape]), empty(opset >= 10 ? 'bool' : dtype, [...x.shape])];
    return [empty(dtype, [...x.shape])];
  }
  if (BROADCAST.has(op)) {
    const shape = broadcast(s, ins.filter((v): v is TValue => v !== undefined).map((v) => v.shape));
    const dtype = TO_BOOL.has(op) ? 'bool' : op === 'Where' ? (ins[1] ?? x).dtype : x.dtype;
    return [empty(dtype, shape)];
  }
  const rank = x.shape.length;
  switch (op) {
    case 'Shape': {
      let start = attrInt(node, 'start', 0), end = attrInt(node, 'end', rank);
      start = Math.min(Math.max(start < 0 ? start + rank : start, 0), rank);
      end = Math.min(Math.max(end < 0 ? end + rank : end, 0), rank);
      const dims = x.shape.slice(start, Math.max(start, end));
      return [{ dtype: 'int64', data: fromNumbers('int64', dims), shape: [dims.length] }];
    }
    case 'Size':
      return [{ dtype: 'int64', data: fromNumbers('int64', [sizeOf(x.shape)]), shape: [] }];
    case 'Transpose': {
      const perm = attrInts(node, 'perm') ?? x.shape.map((_, i) => rank - 1 - i);
      return [empty(x.dtype, perm.map((p) => x.shape[p]))];
    }
    case 'Flatten': {
      const a = attrInt(node, 'axis', 1);
      const at = a < 0 ? a + rank : a;
      return [empty(x.dtype, [sizeOf(x.shape.slice(0, at)), sizeOf(x.shape.slice(at))])];
    }
    case 'Unsqueeze': {
      const axes = (opset >= 13 ? ints(ins[1]) : attrInts(node, 'axes')) ?? refuse(s, '"axes" is required');
      const outRank = rank + axes.length;
      const at = new Set(axes.map((a) => axis(s, a, outRank)));
      const shape: number[] = [];
      let k = 0;
      for (let i = 0; i < outRank; i++) shape.push(at.has(i) ? 1 : x.shape[k++]);
      return [empty(x.dtype, shape)];
    }
    case 'Squeeze': {
      const axes = opset >= 13 ? ints(ins[1]) : attrInts(node, 'axes');
      const at = new Set(axes ? axes.map((a) => axis(s, a, rank)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : [])));
      for (const a of at) if (x.shape[a] !== 1) refuse(s, `cannot squeeze axis ${a} of size ${x.shape[a]}`);
      return [empty(x.dtype, x.shape.filter((_, i) => !at.has(i)))];
    }
    case 'Reshape': {
      const want = ints(ins[1]) ?? attrInts(node, 'shape') ?? refuse(s, 'the shape is missing');
      const allowZero = attrInt(node, 'allowzero', 0) === 1;
      const shape = want.map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
      const free = shape.indexOf(-1);
      if (free >= 0) {
        const rest = sizeOf(shape.filter((_, i) => i !== free));
        // 0 elements into a -1 with the rest non-zero: the -1 is 0; with a zero elsewhere it is ambiguous.
        if (rest === 0) refuse(s, `cannot infer the -1 of shape [${want.join(',')}] for an empty tensor`);
        shape[free] = sizeOf(x.shape) / rest;
      }
      if (sizeOf(shape) !== sizeOf(x.shape)) refuse(s, `cannot reshape [${x.shape.join(',')}] to [${want.join(',')}]`);
      return [empty(x.dtype, shape)];
    }
    case 'Gather': {
      const idx = ins[1] ?? refuse(s, 'indices are missing');
      const a = axis(s, attrInt(node, 'axis', 0), rank);
      if (sizeOf(idx.shape) > 0 && x.shape[a] === 0) refuse(s, 'an index into an empty axis is out of range');
      return [empty(x.dtype, [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)])];
    }
    case 'GatherND': {
      const idx = ins[1] ?? refuse(s, 'indices are missing');
      const batch = attrInt(node, 'batch_dims', 0);
      const k = idx.shape[idx.shape.length - 1];
      if (sizeOf(idx.shape) > 0 && sizeOf(x.shape) === 0) refuse(s, 'an index into an empty tensor is out of range');
      return [empty(x.dtype, [...idx.shape.slice(0, -1), ...x.shape.slice(batch + k)])];
    }
    case 'GatherElements': {
      const idx = ins[1] ?? refuse(s, 'indices are missing');
      if (sizeOf(idx.shape) > 0) refuse(s, 'an index into an empty tensor is out of range');
      return [empty(x.dtype, [...idx.shape])];
    }
    case 'Concat': {
      const a = axis(s, attrInt(node, 'axis', 0), rank);
      const parts = ins.filter((v): v is TValue => v !== undefined);
      const full = parts.filter((v) => sizeOf(v.shape) > 0);
      const shape = [...x.shape];
      shape[a] = parts.reduce((n, v) => n + v.shape[a], 0);
      if (full.length === 0) return [empty(x.dtype, shape)];
      if (full.length === 1) return [full[0]];
      // The non-empty parts hold every element: concatenated on their kernel.
      const ctx: Ctx = { node: { ...node, input: full.map((_, i) => `in${i}`) }, label: s.label, opset, constant: () => true, activation: 'none' };
      return evalNode(ctx, full.map((v) => valueOfTyped(v, true))).map(typedOf);
    }
    case 'Slice': {
      let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
      if (opset >= 10) {
        starts = ints(ins[1]) ?? refuse(s, 'starts are missing');
        ends = ints(ins[2]) ?? refuse(s, 'ends are missing');
        axes = ints(ins[3]);
        steps = ints(ins[4]);
      } else {
        starts = attrInts(node, 'starts') ?? refuse(s, 'starts are missing');
        ends = attrInts(node, 'ends') ?? refuse(s, 'ends are missing');
        axes = attrInts(node, 'axes');
      }
      const shape = [...x.shape];
      starts.forEach((st, i) => {
        const a = axis(s, axes ? axes[i] : i, rank);
        const step = steps ? steps[i] : 1;
        if (step === 0) refuse(s, 'a step of 0');
        shape[a] = sliceDim(x.shape[a], st, ends[i], step);
      });
      return [empty(x.dtype, shape)];
    }
    case 'Split': {
      if (rank === 0) refuse(s, 'the input must have rank >= 1');
      const a = axis(s, attrInt(node, 'axis', 0), rank);
      const count = (node.output ?? []).length;
      const dim = x.shape[a];
      const sizes = (opset >= 13 ? ints(ins[1]) : attrInts(node, 'split')) ?? (() => {
        // No split given: equal parts (opset 18's num_outputs: the last one smaller).
        const part = Math.ceil(dim / count);
        return Array.from({ length: count }, (_, i) => Math.max(0, Math.min(part, dim - i * part)));
      })();
      if (sizes.length !== count || sizes.some((n) => n < 0) || sizes.reduce((p, n) => p + n, 0) !== dim) {
        refuse(s, `split [${sizes.join(',')}] does not divide axis ${a} of size ${dim} into ${count} outputs`);
      }
      return sizes.map((n) => empty(x.dtype, x.shape.map((d, i) => (i === a ? n : d))));
    }
    case 'ReduceMax': case 'ReduceMin': case 'ReduceSum': case 'ReduceMean': case 'ArgMax': case 'ArgMin': case 'TopK':
      refuse(s, `${op} of an empty tensor [${x.shape.join(',')}] (nothing selected upstream) has no value`);
      break;
    default:
      break;
  }
  return refuse(s, `${op} on an empty tensor [${x.shape.join(',')}] is not supported`);
}

