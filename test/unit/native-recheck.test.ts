// The native layer re-checks what it relies on: called directly with lying
// shapes (bypassing the TypeScript checks), it throws and the process survives.
// The raw binding's errors come from the addon's realm, not jest's sandbox, so
// they are compared by name (the facade re-creates them in the caller's realm).
import { binding } from '../../lib/native';
import { expectNativeThrows as expectThrows } from '../native-errors';

const f = (n: number): Float32Array => new Float32Array(n);

describe('native gemm re-checks its arguments', () => {
  const cases: [string, unknown[], ErrorConstructor, RegExp][] = [
    ['shape larger than the data', [f(6), f(12), null, f(8), 20, 30, 30, 40, 1, 1, 0, 1, 1], RangeError, /gemm: a has 6 elements, shape \[20,30\] needs 600/],
    ['dims whose product exceeds 32 bits', [f(6), f(12), null, f(8), 2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1, 4, 1, 1, 0, 1, 1], RangeError, /gemm: a has 6 elements, shape \[2147483647,2147483647\] needs 4611686014132420609/],
    ['a dim beyond 32-bit BLAS', [f(6), f(12), null, f(8), 2 ** 40, 3, 3, 4, 1, 1, 0, 1, 1], RangeError, /gemm: M must be in \[1, 2147483647\], got 1099511627776/],
    ['negative dims', [f(6), f(12), null, f(8), -2, -3, 3, 4, 1, 1, 0, 1, 1], RangeError, /must be in \[1, 2147483647\]/],
    ['zero dim', [f(6), f(12), null, f(8), 0, 3, 3, 4, 1, 1, 0, 1, 1], RangeError, /gemm: M must be in \[1, 2147483647\], got 0/],
    ['non-integer dim', [f(6), f(12), null, f(8), 2.5, 3, 3, 4, 1, 1, 0, 1, 1], RangeError, /expected "a.shape\[0\]" to be an integer/],
    ['inner mismatch', [f(6), f(16), null, f(8), 2, 3, 4, 4, 1, 1, 0, 1, 1], RangeError, /inner dimensions differ/],
    ['out too small', [f(6), f(12), null, f(7), 2, 3, 3, 4, 1, 1, 0, 1, 1], RangeError, /gemm: out has 7 elements, expected 8/],
    ['c shape lies', [f(6), f(12), f(2), f(8), 2, 3, 3, 4, 1, 4, 0, 1, 1], RangeError, /gemm: c has 2 elements, shape \[1,4\] needs 4/],
    ['c not broadcastable', [f(6), f(12), f(3), f(8), 2, 3, 3, 4, 1, 3, 0, 1, 1], RangeError, /does not broadcast/],
    ['a Float64Array', [new Float64Array(6), f(12), null, f(8), 2, 3, 3, 4, 1, 1, 0, 1, 1], TypeError, /expected "a" to be a Float32Array/],
    ['a string where a number goes', [f(6), f(12), null, f(8), '2', 3, 3, 4, 1, 1, 0, 1, 1], TypeError, /expected "a.shape\[0\]" to be a number/],
    ['too few arguments', [f(6), f(12)], TypeError, /expects 13 arguments, got 2/],
  ];

  test.each(cases)('sync: %s', (_label, args, cls, message) => {
    expectThrows(() => (binding.gemmSync as (...a: unknown[]) => void)(...args), cls, message);
  });

  test.each(cases)('async: %s', (_label, args, cls, message) => {
    // Parse errors surface synchronously, before anything is queued.
    expectThrows(() => (binding.gemm as (...a: unknown[]) => Promise<void>)(...args), cls, message);
  });

  test('out overlapping a is refused natively too', () => {
    const buf = new Float32Array(32);
    const a = buf.subarray(0, 6);
    const out = buf.subarray(2, 10);
    expectThrows(() => binding.gemmSync(a, f(12), null, out, 2, 3, 3, 4, 1, 1, 0, 1, 1), RangeError, /gemm: out overlaps a/);
  });

  test('the process is still fine afterwards', () => {
    const out = f(1);
    binding.gemmSync(new Float32Array([2]), new Float32Array([3]), null, out, 1, 1, 1, 1, 1, 1, 0, 1, 1);
    expect(out[0]).toBe(6);
  });
});
