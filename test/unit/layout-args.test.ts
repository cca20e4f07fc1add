// Argument errors of concat, flatten, reshape, transpose and pad.
import * as nn from '../../lib';

const t = (shape: number[]): nn.Tensor => nn.tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
const x = t([2, 3, 4]);

const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
  ['concat: not an array', () => nn.concat(x as never, 0), TypeError, /concat: expected "tensors" to be an array of float32 Tensors, received Tensor/],
  ['concat: empty', () => nn.concat([], 0), RangeError, /concat: "tensors" must hold at least one tensor/],
  ['concat: a non-tensor element', () => nn.concat([x, 5 as never], 0), TypeError, /concat: expected "tensors\[1\]" to be a float32 Tensor, received number 5/],
  ['concat: a Float64Array element', () => nn.concat([x, { data: new Float64Array(24), shape: [2, 3, 4] } as never], 0), TypeError, /concat: expected "tensors\[1\]" to be a float32 Tensor, received Float64Array/],
  ['concat: axis missing', () => nn.concat([x, x], undefined as never), TypeError, /concat: expected "axis" to be an integer, received undefined/],
  ['concat: axis out of range', () => nn.concat([x, x], 3), RangeError, /concat: "axis" 3 is out of range for rank 3: expected -3..2/],
  ['concat: axis -4', () => nn.concat([x, x], -4), RangeError, /concat: "axis" -4 is out of range for rank 3/],
  ['concat: ranks differ', () => nn.concat([x, t([2, 3])], 0), RangeError, /concat: "tensors\[1\]" \[2,3\] must match "tensors\[0\]" \[2,3,4\] except on axis 0/],
  ['concat: dims differ off the axis', () => nn.concat([x, t([2, 5, 4])], 0), RangeError, /concat: "tensors\[1\]" \[2,5,4\] must match "tensors\[0\]" \[2,3,4\] except on axis 0/],
  ['concat: scalars', () => nn.concat([t([]), t([])], 0), RangeError, /concat: "tensors\[0\]" must have rank >= 1, got a scalar/],
  ['concat: out wrong shape', () => nn.concat([x, x], 1, { out: t([2, 3, 8]) }), RangeError, /concat: "out" must have shape \[2,6,4\], got \[2,3,8\]/],
  ['concat: out is an input', () => nn.concat([x], 0, { out: x }), RangeError, /concat: "out" overlaps "tensors\[0\]"$/],
  ['flatten: axis out of range', () => nn.flatten(x, 4), RangeError, /flatten: "axis" 4 is out of range for rank 3: expected -3..3/],
  ['flatten: axis not an integer', () => nn.flatten(x, 1.5), RangeError, /flatten: "axis" must be an integer, got 1.5/],
  ['flatten: out wrong shape', () => nn.flatten(x, 1, { out: t([24]) }), RangeError, /flatten: "out" must have shape \[2,12\], got \[24\]/],
  ['reshape: shape not an array', () => nn.reshape(x, 24 as never), TypeError, /reshape: expected "shape" to be an array of integers, received number 24/],
  ['reshape: two -1', () => nn.reshape(x, [-1, -1]), RangeError, /reshape: "shape" \[-1,-1\] has more than one -1/],
  ['reshape: dim below -1', () => nn.reshape(x, [-2, 12]), RangeError, /reshape: "shape\[0\]" must be >= -1, got -2/],
  ['reshape: 0 past the rank', () => nn.reshape(x, [2, 3, 2, 0]), RangeError, /reshape: "shape\[3\]" is 0 \(copy x's dim\) but x \[2,3,4\] has rank 3/],
  ['reshape: element count differs', () => nn.reshape(x, [5, 5]), RangeError, /reshape: cannot reshape x \[2,3,4\] \(24 elements\) to \[5,5\] \(25 elements\)/],
  ['reshape: -1 not inferable', () => nn.reshape(x, [5, -1]), RangeError, /reshape: cannot reshape x \[2,3,4\] \(24 elements\) to \[5,-1\]/],
  ['reshape: fractional dim', () => nn.reshape(x, [2.5, 2]), RangeError, /reshape: "shape\[0\]" must be an integer, got 2.5/],
  ['reshape: a string dim', () => nn.reshape(x, ['2', 12] as never), TypeError, /reshape: expected "shape\[0\]" to be an integer, received string "2"/],
  ['reshape: rank 9', () => nn.reshape(t([1]), [1, 1, 1, 1, 1, 1, 1, 1, 1]), RangeError, /reshape: result has rank 9, at most 8 is supported/],
  ['transpose: not a permutation (repeat)', () => nn.transpose(x, [0, 0, 1]), RangeError, /transpose: "perm" \[0,0,1\] must be a permutation of 0..2 \(x \[2,3,4\]\)/],
  ['transpose: wrong length', () => nn.transpose(x, [1, 0]), RangeError, /transpose: "perm" \[1,0\] must be a permutation of 0..2/],
  ['transpose: out of range', () => nn.transpose(x, [0, 1, 3]), RangeError, /transpose: "perm" \[0,1,3\] must be a permutation/],
  ['transpose: negative entry', () => nn.transpose(x, [-1, 0, 1]), RangeError, /transpose: "perm" \[-1,0,1\] must be a permutation/],
  ['transpose: perm not an array', () => nn.transpose(x, 'abc' as never), TypeError, /transpose: expected "perm" to be an array of integers, received string "abc"/],
  ['pad: wrong number of pads', () => nn.pad(x, [1, 1]), RangeError, /pad: "pads" must have 2 \* rank = 6 entries \[x1_begin, ..., x1_end, ...\], got 2/],
  ['pad: crop below one element', () => nn.pad(x, [0, 0, -2, 0, 0, -2]), RangeError, /pad: "pads" \[0,0,-2,0,0,-2\] would make dim 2 of x \[2,3,4\] 0; it must stay >= 1/],
  ['pad: value NaN', () => nn.pad(x, [0, 0, 0, 0, 0, 0], NaN), RangeError, /pad: "value" must be a finite number, got NaN/],
  ['pad: value a string', () => nn.pad(x, [0, 0, 0, 0, 0, 0], '0' as never), TypeError, /pad: expected "value" to be a number, received string "0"/],
  ['pad: pads fractional', () => nn.pad(x, [0, 0, 0.5, 0, 0, 0]), RangeError, /pad: "pads\[2\]" must be an integer, got 0.5/],
  ['pad: out wrong shape', () => nn.pad(x, [0, 0, 1, 0, 0, 1], 0, { out: x }), RangeError, /pad: "out" must have shape \[2,3,6\], got \[2,3,4\]/],
  ['pad: out === x', () => nn.pad(x, [0, 0, 0, 0, 0, 0], 0, { out: x }), RangeError, /pad: "out" overlaps "x"$/],
];

describe('layout argument errors', () => {
  test.each(cases)('%s', (_label, call, cls, message) => {
    expect(call).toThrow(cls);
    expect(call).toThrow(message);
  });

  test('transpose: out overlapping x is refused', () => {
    const buf = new Float32Array(12);
    const a = nn.tensor(buf.subarray(0, 6), [2, 3]);
    expect(() => nn.transpose(a, undefined, { out: nn.tensor(buf.subarray(3, 9), [3, 2]) })).toThrow(/transpose: "out" overlaps "x"$/);
  });

  test('async variants reject', async () => {
    await expect(nn.async.concat([], 0)).rejects.toThrow(RangeError);
    await expect(nn.async.transpose(x, [0, 0, 1])).rejects.toThrow(/must be a permutation/);
    await expect(nn.async.pad(x, [1])).rejects.toThrow(/pad: "pads" must have 2 \* rank = 6 entries/);
  });
});
