/**
 * The example ops of docs/adding-an-op.md (Exp, HardSigmoid, HardSwish),
 * each added as a schema entry, a kernel and this test: against plain-JS
 * formulas, sync and async, and their argument errors.
 */
import * as nn from '../../lib';

const xs = Float32Array.from([-7, -3.5, -3, -1, -0.25, 0, 0.25, 1, 2.9, 3, 3.5, 7, 1e-7, -1e-7]);
const hardSigmoid = (x: number, a: number, b: number): number => Math.max(0, Math.min(1, a * x + b));
const cases: [string, Record<string, number>, (x: number) => number][] = [
  ['Exp', {}, Math.exp],
  ['HardSigmoid', {}, (x) => hardSigmoid(x, 0.2, 0.5)],
  ['HardSigmoid', { alpha: 0.5, beta: 0.25 }, (x) => hardSigmoid(x, 0.5, 0.25)],
  ['HardSwish', {}, (x) => x * hardSigmoid(x, 1 / 6, 0.5)],
];

describe.each(cases)('%s %j x=[2,7]', (op, attrs, f) => {
  const x = nn.tensor(xs.slice(), [2, 7]);
  const check = (y: nn.OpOutput): void => {
    expect(y.dtype).toBe('float32');
    expect([...y.shape]).toEqual([2, 7]);
    xs.forEach((v, i) => expect(y.data[i]).toBeCloseTo(Math.fround(f(v)), 5));
  };
  test('sync', () => check(nn.runOp(op, [x], attrs)[0]));
  test('async', async () => check((await nn.async.runOp(op, [x], attrs))[0]));
});

test('HardSwish: the input is untouched and the result is a new tensor', () => {
  const x = nn.tensor(Float32Array.from([-4, 4]), [2]);
  const [y] = nn.runOp('HardSwish', [x]);
  expect([...x.data]).toEqual([-4, 4]);
  expect(y.data).not.toBe(x.data);
});

describe('errors', () => {
  const x = nn.tensor(new Float32Array(4), [4]);
  test('an unknown attribute', () => expect(() => nn.runOp('HardSigmoid', [x], { gamma: 1 })).toThrow(/HardSigmoid: attribute "gamma" is not supported \(known: alpha, beta\)/));
  test('an attribute of the wrong type', () => expect(() => nn.runOp('HardSigmoid', [x], { alpha: 'big' as never })).toThrow(RangeError));
  test('an integer input', () =>
    expect(() => nn.runOp('HardSwish', [new nn.TypedTensor('int64', new BigInt64Array(2), [2])])).toThrow(/HardSwish: input 0 \("X"\) of type int64 is not supported \(float32\)/));
  test('a missing input', () => expect(() => nn.runOp('Exp', [])).toThrow(/Exp: input 0 \("X"\) is required/));
  test('an unknown op', () => expect(() => nn.runOp('NoSuchOp', [x])).toThrow(/runOp: unknown op "NoSuchOp"/));
  test('not a tensor', () => expect(() => nn.runOp('Exp', [42 as never])).toThrow(TypeError));
  test('a shape that does not match the data', () => expect(() => nn.runOp('Exp', [{ data: new Float32Array(3), shape: [4] }])).toThrow(RangeError));
});

describe('native re-checks (the schema checks bypassed)', () => {
  const binding = require('../../lib/native').binding;
  const t = (data: ArrayBufferView, shape: number[], dtype = 1) => ({ data, shape, dtype });
  test('an output of another shape', () => expect(() => binding.kernelSync('HardSwish', [t(new Float32Array(4), [4])], [t(new Float32Array(4), [2, 2])], {})).toThrow(/HardSwish: output 0 must have shape \[4\], got \[2,2\]/));
  test('a buffer smaller than its shape', () => expect(() => binding.kernelSync('Exp', [t(new Float32Array(2), [4])], [t(new Float32Array(4), [4])], {})).toThrow(/Exp: inputs\[0\]: data has 8 bytes, float32 shape needs 16/));
  test('a missing attribute', () => expect(() => binding.kernelSync('HardSigmoid', [t(new Float32Array(1), [1])], [t(new Float32Array(1), [1])], { alpha: 1 })).toThrow(/attribute "beta" is missing/));
  test('an unknown kernel', () => expect(() => binding.kernelSync('Nope', [], [], {})).toThrow(/no kernel named "Nope"/));
  test('an unknown dtype code', () => expect(() => binding.kernelSync('Exp', [t(new Float32Array(1), [1], 99)], [t(new Float32Array(1), [1])], {})).toThrow(/unknown dtype code/));
});
