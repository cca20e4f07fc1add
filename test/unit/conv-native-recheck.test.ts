// The native conv2d, fullyConnected and pool2d re-check what they rely on:
// called directly with lying sizes (bypassing the TypeScript checks), they
// throw and the process survives. Errors from the raw binding come from the
// addon's realm, so they are compared by name.
import { binding } from '../../lib/native';
import { expectNativeThrows as expectThrows } from '../native-errors';

const f = (n: number): Float32Array => new Float32Array(n);

type Case = [string, unknown[], ErrorConstructor, RegExp];
type Raw = (...a: unknown[]) => unknown;

function both(name: string, sync: Raw, queue: Raw, cases: Case[]): void {
  describe(name, () => {
    test.each(cases)('sync: %s', (_l, args, cls, message) => expectThrows(() => sync(...args), cls, message));
    // Parse errors surface synchronously, before anything is queued.
    test.each(cases)('async: %s', (_l, args, cls, message) => expectThrows(() => queue(...args), cls, message));
  });
}

// x [1,3,4,4], w [4,3,3,3], out [1,4,2,2]
const conv = (patch: Record<number, unknown>): unknown[] => {
  const a: unknown[] = [f(48), f(108), null, f(16), 1, 3, 4, 4, 4, 3, 3, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
  for (const [i, v] of Object.entries(patch)) a[Number(i)] = v;
  return a;
};

both('native conv2d re-checks its arguments', binding.conv2dSync as Raw, binding.conv2d as Raw, [
  ['x shape larger than the data', conv({ 6: 40 }), RangeError, /conv2d: x has 48 elements, expected 480/],
  ['dims whose product overflows', conv({ 4: 2 ** 40, 5: 2 ** 40 }), RangeError, /conv2d: size overflows/],
  ['w smaller than its shape', conv({ 1: f(100) }), RangeError, /conv2d: w has 100 elements, expected 108/],
  ['out smaller than the result', conv({ 3: f(15) }), RangeError, /conv2d: out has 15 elements, expected 16/],
  ['bias of the wrong length', conv({ 2: f(3) }), RangeError, /conv2d: bias has 3 elements, expected 4/],
  ['group not dividing the channels', conv({ 11: 2 }), RangeError, /conv2d: input channels \(3\) are not divisible by group \(2\)/],
  ['group not dividing the output channels', conv({ 5: 3, 8: 4, 11: 3 }), RangeError, /output channels \(4\) are not divisible by group \(3\)/],
  ['zero stride', conv({ 12: 0 }), RangeError, /conv2d: stride must be a positive integer, got 0/],
  ['negative dilation', conv({ 15: -1 }), RangeError, /conv2d: dilation must be a positive integer, got -1/],
  ['negative pad', conv({ 17: -2 }), RangeError, /conv2d: pads must be >= 0, got -2 and 0 along W/],
  ['kernel larger than the padded input', conv({ 9: 5 }), RangeError, /conv2d: kernel extent along H \(5\) is larger than the padded input \(4\): no output/],
  ['unknown algorithm', conv({ 21: 99 }), RangeError, /conv2d: unknown algorithm 99/],
  ['huge dilation', conv({ 14: 2 ** 52 }), RangeError, /kernel extent along H \(9007199254740993\) is larger than the padded input/],
  ['zero batch', conv({ 4: 0 }), RangeError, /conv2d: batch size must be a positive integer, got 0/],
  ['unknown activation', conv({ 20: 7 }), RangeError, /conv2d: unknown activation 7/],
  ['activation that would truncate to 0', conv({ 20: 2 ** 32 }), RangeError, /conv2d: unknown activation 4294967296/],
  ['non-integer group', conv({ 11: 1.5 }), RangeError, /conv2d: expected "group" to be an integer/],
  ['x a Float64Array', conv({ 0: new Float64Array(48) }), TypeError, /conv2d: expected "x" to be a Float32Array/],
  ['bias a plain array', conv({ 2: [1, 2, 3, 4] }), TypeError, /conv2d: expected "bias" to be a Float32Array/],
  ['a string where a number goes', conv({ 9: '3' }), TypeError, /expected "w.shape\[2\]" to be a number/],
  ['too few arguments', [f(48), f(108)], TypeError, /conv2d: native binding expects 22 arguments, got 2/],
]);

const fc = (patch: Record<number, unknown>): unknown[] => {
  const a: unknown[] = [f(12), f(18), null, f(6), 2, 6, 3];
  for (const [i, v] of Object.entries(patch)) a[Number(i)] = v;
  return a;
};

both('native fullyConnected re-checks its arguments', binding.fullyConnectedSync as Raw, binding.fullyConnected as Raw, [
  ['x smaller than n * inFeatures', fc({ 5: 60, 1: f(180) }), RangeError, /fullyConnected: x has 12 elements, expected 120/],
  ['w smaller than its shape', fc({ 1: f(17) }), RangeError, /fullyConnected: w has 17 elements, expected 18/],
  ['out smaller than the result', fc({ 3: f(5) }), RangeError, /fullyConnected: out has 5 elements, expected 6/],
  ['bias of the wrong length', fc({ 2: f(6) }), RangeError, /fullyConnected: bias has 6 elements, expected 3/],
  ['overflowing sizes', fc({ 4: 2 ** 40, 5: 2 ** 40 }), RangeError, /fullyConnected: size overflows/],
  ['zero outFeatures', fc({ 6: 0 }), RangeError, /fullyConnected: outFeatures must be a positive integer, got 0/],
  ['too many arguments', [...fc({}), 1], TypeError, /fullyConnected: native binding expects 7 arguments, got 8/],
]);

// x [1,3,4,4], out [1,3,2,2], max 2x2 stride 2
const pool = (patch: Record<number, unknown>): unknown[] => {
  const a: unknown[] = [f(48), f(12), 0, 1, 3, 4, 4, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0];
  for (const [i, v] of Object.entries(patch)) a[Number(i)] = v;
  return a;
};

both('native pool2d re-checks its arguments', binding.pool2dSync as Raw, binding.pool2d as Raw, [
  ['unknown kind', pool({ 2: 5 }), RangeError, /pool2d: unknown kind 5/],
  ['kind that would truncate to 0', pool({ 2: 2 ** 32 }), RangeError, /pool2d: unknown kind 4294967296/],
  ['x shape larger than the data', pool({ 5: 40, 1: f(60) }), RangeError, /maxPool2d: x has 48 elements, expected 480/],
  ['out smaller than the result', pool({ 1: f(11) }), RangeError, /maxPool2d: out has 11 elements, expected 12/],
  ['pads as wide as the kernel', pool({ 2: 1, 13: 2 }), RangeError, /avgPool2d: pads along H \(2, 0\) must be smaller than the kernel extent \(2\)/],
  ['kernel larger than the input', pool({ 8: 9 }), RangeError, /maxPool2d: kernel extent along W \(9\) is larger than the padded input \(4\)/],
  ['zero stride', pool({ 9: 0 }), RangeError, /maxPool2d: strides must be positive integers, got 0/],
  ['global pooling with a non-[N,C,1,1] out', pool({ 2: 2 }), RangeError, /globalAvgPool: out has 12 elements, expected 3/],
  ['overflowing dims', pool({ 3: 2 ** 40, 4: 2 ** 40 }), RangeError, /maxPool2d: size overflows/],
  ['out a Float64Array', pool({ 1: new Float64Array(12) }), TypeError, /pool2d: expected "out" to be a Float32Array/],
  ['too few arguments', [f(48)], TypeError, /pool2d: native binding expects 18 arguments, got 1/],
]);

describe('native overlap checks and survival', () => {
  test('conv2d out overlapping x or w is refused natively', () => {
    const buf = f(400);
    expectThrows(() => binding.conv2dSync(...(conv({ 0: buf.subarray(0, 48), 3: buf.subarray(40, 56) }) as Parameters<typeof binding.conv2dSync>)), RangeError, /conv2d: out overlaps x/);
    expectThrows(() => binding.conv2dSync(...(conv({ 1: buf.subarray(100, 208), 3: buf.subarray(200, 216) }) as Parameters<typeof binding.conv2dSync>)), RangeError, /conv2d: out overlaps w/);
  });

  test('pool2d and fullyConnected out overlapping x are refused natively', () => {
    const buf = f(100);
    expectThrows(() => binding.pool2dSync(...(pool({ 0: buf.subarray(0, 48), 1: buf.subarray(40, 52) }) as Parameters<typeof binding.pool2dSync>)), RangeError, /maxPool2d: out overlaps x/);
    expectThrows(() => binding.fullyConnectedSync(...(fc({ 0: buf.subarray(0, 12), 3: buf.subarray(10, 16) }) as Parameters<typeof binding.fullyConnectedSync>)), RangeError, /fullyConnected: out overlaps x/);
  });

  test('an algorithm the backend cannot run is refused, sync and async', async () => {
    // direct (NNPACK's 1x1 kernel) on a 3x3 conv: no backend runs it.
    const args = conv({ 21: 6 }) as Parameters<typeof binding.conv2dSync>;
    expectThrows(() => binding.conv2dSync(...args), RangeError, /conv2d: algorithm "direct" cannot run this conv on backend/);
    // The backend is known only when the op runs, so the async form rejects.
    const e = await binding.conv2d(...args).then(() => null, (err: unknown) => err as Error);
    expect(e?.name).toBe('RangeError');
    expect(e?.message).toMatch(/conv2d: algorithm "direct" cannot run this conv on backend/);
  });

  test('the process is still fine afterwards', () => {
    const out = f(1);
    binding.conv2dSync(new Float32Array([2]), new Float32Array([3]), new Float32Array([1]), out, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0);
    expect(out[0]).toBe(7);
  });
});
