// The native elementwise, normalization and layout ops re-check what they
// rely on: called directly with lying shapes (bypassing the TypeScript
// checks), they throw and the process survives. Errors from the raw binding
// come from the addon's realm, so they are compared by name.
import { binding } from '../../lib/native';
import { expectNativeThrows as expectThrows } from '../native-errors';

const f = (n: number): Float32Array => new Float32Array(n);

type Case = [string, string, unknown[], ErrorConstructor, RegExp];
const buf = new Float32Array(64);
/** A shape in the binding's positional form: rank, ...dims. */
const D = (...s: number[]): number[] => [s.length, ...s];

const cases: Case[] = [
  ['unary', 'out shorter than x', [f(6), f(5), 0, 0, 0, 0], RangeError, /relu: out has 5 elements, expected 6/],
  ['unary', 'unknown kind', [f(6), f(6), 9, 0, 0, 0], RangeError, /unary: unknown kind 9/],
  ['unary', 'leakyRelu alpha NaN', [f(6), f(6), 1, NaN, 0, 0], RangeError, /leakyRelu: alpha must be finite/],
  ['unary', 'clip min NaN', [f(6), f(6), 4, 0, NaN, 1], RangeError, /clip: min and max must not be NaN/],
  ['unary', 'clip min > max', [f(6), f(6), 4, 0, 2, 1], RangeError, /clip: min \(2\.0+\) must not exceed max \(1\.0+\)/],
  ['unary', 'partial overlap', [buf.subarray(0, 6), buf.subarray(2, 8), 0, 0, 0, 0], RangeError, /relu: out overlaps x \(only out === x/],
  ['unary', 'x a Float64Array', [new Float64Array(6), f(6), 0, 0, 0, 0], TypeError, /unary: expected "x" to be a Float32Array/],
  ['unary', 'too few arguments', [f(6)], TypeError, /unary: native binding expects 6 arguments, got 1/],
  ['binary', 'shape larger than the data', [f(6), f(6), f(6), 0, ...D(20, 30), ...D(20, 30)], RangeError, /add: a has 6 elements, shape \[20,30\] needs 600/],
  ['binary', 'shapes that do not broadcast', [f(6), f(2), f(6), 0, ...D(2, 3), ...D(2)], RangeError, /add: shapes \[2,3\] and \[2\] do not broadcast/],
  ['binary', 'out too small for the broadcast', [f(4), f(8), f(4), 1, ...D(4), ...D(2, 4)], RangeError, /mul: out has 4 elements, expected 8/],
  ['binary', 'dims whose product overflows', [f(6), f(6), f(6), 0, ...D(2 ** 40, 2 ** 40), ...D(1)], RangeError, /size overflows/],
  ['binary', 'zero dim', [f(6), f(6), f(6), 0, ...D(0, 3), ...D(6)], RangeError, /dimension 0 must be >= 1/],
  ['binary', 'negative dim', [f(6), f(6), f(6), 0, ...D(-2, -3), ...D(6)], RangeError, /dimension 0 must be >= 1/],
  ['binary', 'rank 9', [f(1), f(1), f(1), 0, ...D(1, 1, 1, 1, 1, 1, 1, 1, 1), ...D(1)], RangeError, /binary: aShape has rank 9, expected 0\.\.8/],
  ['binary', 'negative rank', [f(6), f(6), f(6), 0, -1, ...D(6)], RangeError, /binary: aShape has rank -1/],
  ['binary', 'rank larger than the arguments', [f(6), f(6), f(6), 0, 3, 6], TypeError, /binary: native binding expects at least 8 arguments, got 6/],
  ['binary', 'extra arguments', [f(6), f(6), f(6), 0, ...D(6), ...D(6), 7], TypeError, /binary: native binding expects 8 arguments, got 9/],
  ['binary', 'fractional dim', [f(6), f(6), f(6), 0, ...D(2.5, 3), ...D(6)], RangeError, /binary: expected "aShape\[0\]" to be an integer/],
  ['binary', 'a string dim', [f(6), f(6), f(6), 0, 1, '6', ...D(6)], TypeError, /binary: expected "aShape\[0\]" to be a number/],
  ['binary', 'unknown kind', [f(6), f(6), f(6), 4, ...D(6), ...D(6)], RangeError, /binary: unknown kind 4/],
  ['prelu', 'slope not unidirectional', [f(4), f(8), f(4), ...D(4), ...D(2, 4)], RangeError, /prelu: shape \[2,4\] does not broadcast to \[4\]/],
  ['prelu', 'slope data lies', [f(6), f(1), f(6), ...D(2, 3), ...D(3)], RangeError, /prelu: slope has 1 elements, shape \[3\] needs 3/],
  ['softmax', 'axis out of range', [f(6), f(6), 0, 2, ...D(2, 3)], RangeError, /softmax: axis 2 is out of range for rank 2/],
  ['softmax', 'shape lies', [f(6), f(6), 1, 1, ...D(4, 3)], RangeError, /logSoftmax: x has 6 elements, shape \[4,3\] needs 12/],
  ['softmax', 'log neither 0 nor 1', [f(6), f(6), 2, 1, ...D(2, 3)], RangeError, /softmax: log must be 0 or 1, got 2/],
  ['softmax', 'scalar', [f(1), f(1), 0, 0, ...D()], RangeError, /softmax: x must have rank >= 1/],
  ['batchNorm', 'scale of the wrong length', [f(24), f(2), f(3), f(3), f(3), f(24), 1e-5, ...D(2, 3, 4)], RangeError, /batchNorm: scale has 2 elements, expected C = 3/],
  ['batchNorm', 'rank 1', [f(3), f(3), f(3), f(3), f(3), f(3), 1e-5, ...D(3)], RangeError, /batchNorm: x must have rank >= 2/],
  ['batchNorm', 'epsilon NaN', [f(6), f(3), f(3), f(3), f(3), f(6), NaN, ...D(2, 3)], RangeError, /batchNorm: epsilon must be finite and >= 0/],
  ['batchNorm', 'shape lies', [f(6), f(3), f(3), f(3), f(3), f(6), 1e-5, ...D(2, 3, 100)], RangeError, /batchNorm: x has 6 elements, shape \[2,3,100\] needs 600/],
  ['lrn', 'size 0', [f(6), f(6), 0, 1e-4, 0.75, 1, ...D(2, 3)], RangeError, /lrn: size must be a positive integer, got 0/],
  ['lrn', 'out === x', [buf.subarray(0, 6), buf.subarray(0, 6), 3, 1e-4, 0.75, 1, ...D(2, 3)], RangeError, /lrn: out overlaps x$/],
  ['lrn', 'beta Infinity', [f(6), f(6), 3, 1e-4, Infinity, 1, ...D(2, 3)], RangeError, /lrn: alpha, beta and bias must be finite/],
  ['concat', 'shapes lie', [[f(6), f(6)], f(66), 1, ...D(2, 3), 2, 30], RangeError, /concat: tensors\[1\] has 6 elements, shape \[2,30\] needs 60/],
  ['concat', 'out too small', [[f(6), f(6)], f(11), 1, ...D(2, 3), 2, 3], RangeError, /concat: out has 11 elements, expected 12/],
  ['concat', 'dims differ off the axis', [[f(6), f(6)], f(12), 0, ...D(2, 3), 3, 2], RangeError, /concat: tensors\[1\] \[3,2\] differs from tensors\[0\] \[2,3\] outside axis 0/],
  ['concat', 'dims missing for the second tensor', [[f(6), f(6)], f(12), 0, ...D(2, 3)], TypeError, /concat: native binding expects at least 8 arguments, got 6/],
  ['concat', 'empty', [[], f(12), 0, ...D(12)], RangeError, /concat: needs 1\.\.65536 tensors, got 0/],
  ['concat', 'a Float64Array element', [[f(6), new Float64Array(6)], f(12), 0, ...D(2, 3), 2, 3], TypeError, /concat: expected "tensors" to be a Float32Array/],
  ['concat', 'not an array', [f(6), f(6), 0, ...D(2, 3)], TypeError, /concat: expected "tensors" to be an array/],
  ['concat', 'axis out of range', [[f(6)], f(6), -3, ...D(2, 3)], RangeError, /concat: axis -3 is out of range for rank 2/],
  // (an input that is exactly its own slice of out is in place, see test/model/in-place.test.ts)
  ['concat', 'out overlaps an input', [[buf.subarray(1, 7)], buf.subarray(0, 6), 0, ...D(2, 3)], RangeError, /concat: out overlaps tensors\[0\]/],
  ['transpose', 'not a permutation', [f(6), f(6), ...D(2, 3), 1, 1], RangeError, /transpose: perm is not a permutation of 0\.\.1/],
  ['transpose', 'perm missing', [f(6), f(6), ...D(2, 3), 0], TypeError, /transpose: native binding expects at least 7 arguments, got 6/],
  ['transpose', 'perm entry out of range', [f(6), f(6), ...D(2, 3), 0, 7], RangeError, /transpose: perm is not a permutation/],
  ['transpose', 'shape lies', [f(6), f(60), ...D(20, 3), 1, 0], RangeError, /transpose: x has 6 elements, shape \[20,3\] needs 60/],
  ['pad', 'out too small', [f(6), f(6), 0, ...D(2, 3), 1, 1, 1, 1], RangeError, /pad: out has 6 elements, expected 20/],
  ['pad', 'crop to nothing', [f(6), f(6), 0, ...D(2, 3), -2, 0, 0, 0], RangeError, /pad: dimension 0 of x \[2,3\] would become 0/],
  ['pad', 'pads missing', [f(6), f(6), 0, ...D(2, 3), 1, 1], TypeError, /pad: native binding expects at least 10 arguments, got 8/],
  ['pad', 'huge pads', [f(6), f(6), 0, ...D(2, 3), 2 ** 52, 0, 2 ** 52, 0], RangeError, /pad: out has 6 elements, expected 27021597764222982/],
];

describe('native re-checks of the elementwise, normalization and layout ops', () => {
  test.each(cases)('%sSync: %s', (name, _label, args, cls, message) => {
    const fn = (binding as unknown as Record<string, (...a: unknown[]) => unknown>)[`${name}Sync`];
    expectThrows(() => fn(...args), cls, message);
  });

  test.each(cases)('%s (async): %s', (name, _label, args, cls, message) => {
    // Parse errors surface synchronously, before anything is queued.
    const fn = (binding as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
    expectThrows(() => fn(...args), cls, message);
  });

  test('the process is still fine afterwards', async () => {
    const out = f(2);
    binding.binarySync(new Float32Array([1, 2]), new Float32Array([3]), out, 1, 1, 2, 1, 1);
    expect(Array.from(out)).toEqual([3, 6]);
    await binding.concat([new Float32Array([1]), new Float32Array([2])], out, 0, 1, 1, 1);
    expect(Array.from(out)).toEqual([1, 2]);
  });
});
