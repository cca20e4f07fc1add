// nn.tensor: zero-copy wrapping and every way a shape can be wrong.
import * as nn from '../../lib';

describe('tensor', () => {
  test('wraps without copying', () => {
    const data = new Float32Array(6);
    const t = nn.tensor(data, [2, 3]);
    expect(t.data).toBe(data);
    data[4] = 7;
    expect(t.data[4]).toBe(7);
    expect(t.shape).toEqual([2, 3]);
    expect(t.size).toBe(6);
    expect(t.rank).toBe(2);
    expect(Object.isFrozen(t.shape)).toBe(true);
  });

  test('shape defaults to [length]; [] is a scalar', () => {
    expect(nn.tensor(new Float32Array(5)).shape).toEqual([5]);
    expect(nn.tensor(new Float32Array(1), []).shape).toEqual([]);
  });

  test('the caller cannot change the shape afterwards', () => {
    const shape = [2, 3];
    const t = nn.tensor(new Float32Array(6), shape);
    shape[0] = 3;
    expect(t.shape).toEqual([2, 3]);
  });

  test.each([
    ['a number[]', [1, 2, 3]],
    ['a Float64Array', new Float64Array(3)],
    ['an Int32Array', new Int32Array(3)],
    ['null', null],
    ['a string', 'abc'],
  ])('data as %s is a TypeError', (_label, data) => {
    expect(() => nn.tensor(data as unknown as Float32Array, [3])).toThrow(TypeError);
    expect(() => nn.tensor(data as unknown as Float32Array, [3])).toThrow(/tensor: expected "data" to be a Float32Array, received/);
  });

  test('Float64Array message names the class', () => {
    expect(() => nn.tensor(new Float64Array(3) as unknown as Float32Array, [3])).toThrow(/received Float64Array/);
  });

  test.each([
    ['zero dim', [0, 3], /"shape\[0\]" must be a positive integer, got 0/],
    ['negative dim', [2, -3], /"shape\[1\]" must be a positive integer, got -3/],
    ['fractional dim', [1.5, 4], /"shape\[0\]" must be a positive integer, got 1.5/],
    ['NaN dim', [NaN, 6], /"shape\[0\]" must be a positive integer, got NaN/],
    ['Infinity dim', [Infinity], /"shape\[0\]" must be a positive integer, got Infinity/],
    ['length mismatch', [2, 2], /"shape" \[2,2\] needs 4 elements, data has 6/],
    ['overflowing product', [2 ** 31, 2 ** 31, 2 ** 31], /more elements than any buffer can hold/],
    ['rank too high', [1, 1, 1, 1, 1, 1, 1, 1, 6], /rank 9, at most 8/],
  ])('%s is a RangeError', (_label, shape, message) => {
    const f = (): unknown => nn.tensor(new Float32Array(6), shape as number[]);
    expect(f).toThrow(RangeError);
    expect(f).toThrow(message as RegExp);
  });

  test.each([
    ['a string dim', ['2', 3], /expected "shape\[0\]" to be a number, received string "2"/],
    ['shape not an array', 6, /expected "shape" to be an array of dimensions, received number 6/],
  ])('%s is a TypeError', (_label, shape, message) => {
    const f = (): unknown => nn.tensor(new Float32Array(6), shape as unknown as number[]);
    expect(f).toThrow(TypeError);
    expect(f).toThrow(message as RegExp);
  });
});
