// Argument errors of the elementwise ops: each a TypeError or RangeError
// naming the op, the argument, what was expected and what came, thrown
// before any native work (and rejected, not thrown, by the async variants).
import * as nn from '../../lib';

const t = (shape: number[]): nn.Tensor => nn.tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
const x = t([2, 3]);

type Case = [string, () => unknown, ErrorConstructor, RegExp];

const cases: Case[] = [
  // every unary op: x and out
  ...(['relu', 'sigmoid', 'tanh'] as const).flatMap((op): Case[] => [
    [`${op}: x null`, () => nn[op](null as never), TypeError, new RegExp(`${op}: expected "x" to be a float32 Tensor, received null`)],
    [`${op}: x a Float64Array tensor-like`, () => nn[op]({ data: new Float64Array(6), shape: [2, 3] } as never), TypeError, new RegExp(`${op}: expected "x" to be a float32 Tensor, received Float64Array`)],
    [`${op}: out wrong shape`, () => nn[op](x, { out: t([3, 2]) }), RangeError, new RegExp(`${op}: "out" must have shape \\[2,3\\], got \\[3,2\\]`)],
    [`${op}: unknown option`, () => nn[op](x, { outt: x } as never), TypeError, new RegExp(`${op}: unknown option "outt"; expected one of out`)],
  ]),
  ['relu: options not an object', () => nn.relu(x, 3 as never), TypeError, /relu: expected "options" to be an object, received number 3/],
  ['relu: out a Float64Array', () => nn.relu(x, { out: { data: new Float64Array(6), shape: [2, 3] } as never }), TypeError, /relu: expected "out" to be a float32 Tensor, received Float64Array/],
  ['leakyRelu: alpha NaN', () => nn.leakyRelu(x, NaN), RangeError, /leakyRelu: "alpha" must be a finite number, got NaN/],
  ['leakyRelu: alpha Infinity', () => nn.leakyRelu(x, Infinity), RangeError, /leakyRelu: "alpha" must be a finite number, got Infinity/],
  ['leakyRelu: alpha a string', () => nn.leakyRelu(x, '0.1' as never), TypeError, /leakyRelu: expected "alpha" to be a number, received string "0.1"/],
  ['clip: min NaN', () => nn.clip(x, NaN, 1), RangeError, /clip: "min" must not be NaN/],
  ['clip: max NaN', () => nn.clip(x, 0, NaN), RangeError, /clip: "max" must not be NaN/],
  ['clip: min > max', () => nn.clip(x, 2, 1), RangeError, /clip: "min" \(2\) must not exceed "max" \(1\)/],
  ['clip: min +Infinity, max 0', () => nn.clip(x, Infinity, 0), RangeError, /clip: "min" \(Infinity\) must not exceed "max" \(0\)/],
  ['clip: max a boolean', () => nn.clip(x, 0, true as never), TypeError, /clip: expected "max" to be a number, received boolean true/],
  ['prelu: slope not broadcastable', () => nn.prelu(t([2, 3, 4, 5]), t([3])), RangeError, /prelu: "slope" of shape \[3\] does not broadcast to x \[2,3,4,5\]/],
  ['prelu: slope bigger than x', () => nn.prelu(t([3]), t([2, 3])), RangeError, /prelu: "slope" of shape \[2,3\] does not broadcast to x \[3\]/],
  ['prelu: slope missing', () => nn.prelu(x, undefined as never), TypeError, /prelu: expected "slope" to be a float32 Tensor, received undefined/],
  ['softmax: axis 2 on rank 2', () => nn.softmax(x, { axis: 2 }), RangeError, /softmax: "axis" 2 is out of range for rank 2: expected -2..1/],
  ['softmax: axis -3 on rank 2', () => nn.softmax(x, { axis: -3 }), RangeError, /softmax: "axis" -3 is out of range for rank 2/],
  ['softmax: axis 0.5', () => nn.softmax(x, { axis: 0.5 }), RangeError, /softmax: "axis" must be an integer, got 0.5/],
  ['softmax: axis NaN', () => nn.softmax(x, { axis: NaN }), RangeError, /softmax: "axis" must be an integer, got NaN/],
  ['softmax: axis a string', () => nn.softmax(x, { axis: '1' as never }), TypeError, /softmax: expected "axis" to be an integer, received string "1"/],
  ['softmax: scalar x', () => nn.softmax(t([])), RangeError, /softmax: "x" must have rank >= 1, got a scalar/],
  ['logSoftmax: axis out of range', () => nn.logSoftmax(x, { axis: 5 }), RangeError, /logSoftmax: "axis" 5 is out of range for rank 2/],
  ['logSoftmax: unknown option', () => nn.logSoftmax(x, { dim: 1 } as never), TypeError, /logSoftmax: unknown option "dim"; expected one of axis, out/],
  ['add: incompatible shapes', () => nn.add(t([2, 3]), t([2])), RangeError, /add: shapes \[2,3\] and \[2\] do not broadcast/],
  ['mul: incompatible shapes', () => nn.mul(t([2, 3, 4]), t([3, 1, 5])), RangeError, /mul: shapes \[2,3,4\] and \[3,1,5\] do not broadcast/],
  ['sub: incompatible shapes', () => nn.sub(t([2, 3]), t([4])), RangeError, /sub: shapes \[2,3\] and \[4\] do not broadcast/],
  ['div: a not a tensor', () => nn.div([1, 2] as never, x), TypeError, /div: expected "a" to be a float32 Tensor/],
  ['add: b a number', () => nn.add(x, 1 as never), TypeError, /add: expected "b" to be a float32 Tensor, received number 1/],
  ['add: out of an operand shape, not the result shape', () => nn.add(t([4]), t([2, 4]), { out: t([4]) }), RangeError, /add: "out" must have shape \[2,4\], got \[4\]/],
  ['mul: a with a lying shape', () => nn.mul({ data: new Float32Array(5), shape: [2, 3] }, x), RangeError, /mul: "a.shape" \[2,3\] needs 6 elements, data has 5/],
];

describe('elementwise argument errors', () => {
  test.each(cases)('%s', (_label, call, cls, message) => {
    expect(call).toThrow(cls);
    expect(call).toThrow(message);
  });
});

describe('out overlapping an input', () => {
  const buf = new Float32Array(32);
  const a = nn.tensor(buf.subarray(0, 6), [2, 3]);
  const shifted = nn.tensor(buf.subarray(2, 8), [2, 3]);

  test('unary: out partly overlapping x is refused; the same view is fine', () => {
    expect(() => nn.relu(a, { out: shifted })).toThrow(RangeError);
    expect(() => nn.relu(a, { out: shifted })).toThrow(/relu: "out" overlaps "x" \(only out === x, same shape, is allowed\)/);
    expect(() => nn.relu(a, { out: nn.tensor(buf.subarray(0, 6), [2, 3]) })).not.toThrow();
  });

  test('add: out partly overlapping b is refused', () => {
    expect(() => nn.add(x, a, { out: shifted })).toThrow(/add: "out" overlaps "b"/);
  });

  test('prelu: out over slope is refused even when shapes match', () => {
    expect(() => nn.prelu(x, a, { out: a })).toThrow(/prelu: "out" overlaps "slope"$/);
  });

  test('softmax: out partly overlapping x is refused', () => {
    expect(() => nn.softmax(a, { out: shifted })).toThrow(/softmax: "out" overlaps "x"/);
  });
});

describe('async variants reject with the same errors', () => {
  test.each([
    ['relu', () => nn.async.relu(null as never), TypeError, /relu: expected "x" to be a float32 Tensor/],
    ['leakyRelu', () => nn.async.leakyRelu(x, NaN), RangeError, /leakyRelu: "alpha" must be a finite number/],
    ['clip', () => nn.async.clip(x, 1, 0), RangeError, /clip: "min" \(1\) must not exceed "max" \(0\)/],
    ['sigmoid', () => nn.async.sigmoid(x, { out: t([1]) }), RangeError, /sigmoid: "out" must have shape/],
    ['tanh', () => nn.async.tanh(x, { bad: 1 } as never), TypeError, /tanh: unknown option "bad"/],
    ['prelu', () => nn.async.prelu(t([2, 3, 4, 5]), t([3])), RangeError, /prelu: "slope" of shape \[3\] does not broadcast/],
    ['softmax', () => nn.async.softmax(x, { axis: 9 }), RangeError, /softmax: "axis" 9 is out of range/],
    ['logSoftmax', () => nn.async.logSoftmax(x, { axis: -9 }), RangeError, /logSoftmax: "axis" -9 is out of range/],
    ['add', () => nn.async.add(t([2, 3]), t([2])), RangeError, /add: shapes \[2,3\] and \[2\] do not broadcast/],
    ['mul', () => nn.async.mul(t([2]), t([3])), RangeError, /mul: shapes \[2\] and \[3\] do not broadcast/],
    ['sub', () => nn.async.sub(t([2]), t([3])), RangeError, /sub: shapes \[2\] and \[3\] do not broadcast/],
    ['div', () => nn.async.div(t([2]), t([3])), RangeError, /div: shapes \[2\] and \[3\] do not broadcast/],
  ] as [string, () => Promise<unknown>, ErrorConstructor, RegExp][])('%s', async (_l, call, cls, message) => {
    await expect(call()).rejects.toThrow(cls);
    await expect(call()).rejects.toThrow(message);
  });
});
