// Resize and Upsample: ONNX's node tests, a plain-JS bilinear/nearest
// reference on NCHW for the fast plane path, N-D axes, upgrades and errors.
import * as nn from '../../lib';
import { schemaOf } from '../../lib/ir/schema';
import type { AttrValue, NodeView } from '../../lib/ir/schema/types';
import { expectNodeCase, haveTestdata } from './onnx-node';

const i64 = (v: number[]) => new nn.TypedTensor('int64', BigInt64Array.from(v.map(BigInt)), [v.length]);
const f32 = (v: number[]) => new nn.TypedTensor('float32', Float32Array.from(v), [v.length]);
function rand(shape: number[], seed = 1): nn.Tensor {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    d[i] = (s / 2147483648) * 2 - 1;
  }
  return nn.tensor(d, shape);
}
function run(inputs: (nn.Tensor | nn.TypedTensor | null)[], attrs: Record<string, AttrValue> = {}): nn.Tensor {
  return nn.runOp('Resize', inputs, attrs)[0] as nn.Tensor;
}
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i] - want[i]) > tol * (1 + Math.abs(want[i]))) throw new Error(`[${i}] = ${got[i]}, expected ${want[i]}`);
  }
}

/** Plain-JS reference for 4-D NCHW, resizing H and W, linear or nearest (round_prefer_floor / floor). */
function refResize2d(x: nn.Tensor, oh: number, ow: number, mode: string, coord: string, nearest = 'round_prefer_floor'): Float32Array {
  const [n, c, ih, iw] = x.shape;
  const sy = oh / ih, sx = ow / iw;
  const src = (o: number, s: number, inLen: number, outLen: number): number => {
    if (coord === 'half_pixel') return (o + 0.5) / s - 0.5;
    if (coord === 'pytorch_half_pixel') return outLen > 1 ? (o + 0.5) / s - 0.5 : 0;
    if (coord === 'align_corners') return outLen === 1 ? 0 : (o * (inLen - 1)) / (outLen - 1);
    if (coord === 'asymmetric') return o / s;
    throw new Error(coord);
  };
  const clamp = (i: number, len: number) => Math.min(Math.max(i, 0), len - 1);
  const y = new Float32Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++) {
    for (let r = 0; r < oh; r++) {
      for (let q = 0; q < ow; q++) {
        const fy = src(r, sy, ih, oh), fx = src(q, sx, iw, ow);
        const at = (yy: number, xx: number) => x.data[p * ih * iw + clamp(yy, ih) * iw + clamp(xx, iw)];
        let v: number;
        if (mode === 'nearest') {
          const rnd = (f: number) => (nearest === 'floor' ? Math.floor(f) : f === Math.floor(f) + 0.5 ? Math.floor(f) : Math.round(f));
          v = at(rnd(fy), rnd(fx));
        } else {
          const y0 = Math.floor(fy), x0 = Math.floor(fx), wy = fy - y0, wx = fx - x0;
          v = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x0 + 1)) + wy * ((1 - wx) * at(y0 + 1, x0) + wx * at(y0 + 1, x0 + 1));
        }
        y[(p * oh + r) * ow + q] = v;
      }
    }
  }
  return y;
}

(haveTestdata ? describe : describe.skip)('Resize: ONNX node tests', () => {
  test.each([
    'test_resize_downsample_scales_cubic',
    'test_resize_downsample_scales_cubic_A_n0p5_exclude_outside',
    'test_resize_downsample_scales_cubic_align_corners',
    'test_resize_downsample_scales_linear',
    'test_resize_downsample_scales_linear_align_corners',
    'test_resize_downsample_scales_nearest',
    'test_resize_downsample_sizes_cubic',
    'test_resize_downsample_sizes_linear_pytorch_half_pixel',
    'test_resize_downsample_sizes_nearest',
    'test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn',
    'test_resize_tf_crop_and_resize',
    'test_resize_upsample_scales_cubic',
    'test_resize_upsample_scales_cubic_A_n0p5_exclude_outside',
    'test_resize_upsample_scales_cubic_align_corners',
    'test_resize_upsample_scales_cubic_asymmetric',
    'test_resize_upsample_scales_linear',
    'test_resize_upsample_scales_linear_align_corners',
    'test_resize_upsample_scales_nearest',
    'test_resize_upsample_sizes_cubic',
    'test_resize_upsample_sizes_nearest',
    'test_resize_upsample_sizes_nearest_ceil_half_pixel',
    'test_resize_upsample_sizes_nearest_floor_align_corners',
    'test_resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric',
  ])('%s', (name) => expectNodeCase(name));

  test('test_upsample_nearest (Upsample-9: x=[1,1,2,2] scales=[1,1,2,3])', () => expectNodeCase('test_upsample_nearest'));
});

describe('Resize: fast NCHW planes against the JS reference', () => {
  const cases: [number[], number[], string, string][] = [
    [[1, 3, 8, 10], [16, 20], 'linear', 'half_pixel'],
    [[2, 2, 5, 7], [13, 4], 'linear', 'align_corners'],
    [[1, 4, 6, 6], [3, 9], 'linear', 'pytorch_half_pixel'],
    [[1, 2, 7, 5], [14, 10], 'linear', 'asymmetric'],
    [[1, 3, 8, 10], [16, 20], 'nearest', 'asymmetric'],
    [[1, 3, 9, 6], [4, 11], 'nearest', 'half_pixel'],
    [[1, 1, 1, 1], [3, 5], 'linear', 'half_pixel'],
  ];
  test.each(cases)('x=%j sizes HW=%j mode=%s coord=%s', (shape, hw, mode, coord) => {
    const x = rand(shape, shape[2] * 7 + hw[1]);
    const y = run([x, null, null, i64([shape[0], shape[1], hw[0], hw[1]])], { mode, coordinate_transformation_mode: coord });
    expect([...y.shape]).toEqual([shape[0], shape[1], hw[0], hw[1]]);
    expectClose(y.data, refResize2d(x, hw[0], hw[1], mode, coord));
  });

  test('x=[1,2,4,4] scales=[1,1,2,2] linear half_pixel (the ppocr/yunet form) and nearest floor', () => {
    const x = rand([1, 2, 4, 4], 3);
    const y = run([x, f32([]), f32([1, 1, 2, 2])], { mode: 'linear' });
    expectClose(y.data, refResize2d(x, 8, 8, 'linear', 'half_pixel'));
    const z = run([x, null, f32([1, 1, 2, 2])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
    expectClose(z.data, refResize2d(x, 8, 8, 'nearest', 'asymmetric', 'floor'));
  });

  test('x=[1,16,40,40] → [80,80] bilinear with 2 threads equals 1 thread', () => {
    const x = rand([1, 16, 40, 40], 9);
    const t = nn.getThreads();
    nn.setThreads(1);
    const a = run([x, null, f32([1, 1, 2, 2])], { mode: 'linear' });
    nn.setThreads(2);
    const b = run([x, null, f32([1, 1, 2, 2])], { mode: 'linear' });
    nn.setThreads(t);
    expect(b.data).toEqual(a.data);
    expectClose(a.data, refResize2d(x, 80, 80, 'linear', 'half_pixel'));
  });
});

describe('Resize: other ranks and attributes', () => {
  test('x=[2,5] linear over the last axis, sizes=[2,9], asymmetric', () => {
    const x = rand([2, 5], 4);
    const y = run([x, null, null, i64([2, 9])], { mode: 'linear', coordinate_transformation_mode: 'align_corners' });
    const want: number[] = [];
    for (let r = 0; r < 2; r++) {
      for (let q = 0; q < 9; q++) {
        const f = (q * 4) / 8, i0 = Math.floor(f), w = f - i0;
        want.push((1 - w) * x.data[r * 5 + i0] + w * x.data[r * 5 + Math.min(i0 + 1, 4)]);
      }
    }
    expectClose(y.data, want);
  });

  test.each([
    ['linear', 'align_corners', 0],
    ['cubic', 'half_pixel', 0],
    ['cubic', 'asymmetric', 1],
    ['nearest', 'half_pixel', 0],
  ])('x=[1,1,3,4,5] %s %s exclude_outside=%i over axes=[-3,-2,-1] (general path) equals separable 1-D passes', (mode, coord, excl) => {
    const x = rand([1, 1, 3, 4, 5], 5);
    const attrs = { mode, coordinate_transformation_mode: coord, exclude_outside: excl };
    const y = run([x, null, null, i64([5, 7, 3])], { ...attrs, axes: [-3, -2, -1] });
    expect([...y.shape]).toEqual([1, 1, 5, 7, 3]);
    // Separable: resize W, then H, then D, each alone (plane path).
    let t: nn.Tensor = x;
    for (const [ax, n] of [[4, 3], [3, 7], [2, 5]] as const) {
      t = run([t, null, null, i64([n])], { ...attrs, axes: [ax] });
    }
    expectClose(y.data, t.data, 1e-4);
  });

  // ONNX 1.13's test_resize_downsample_scales_{linear,cubic}_antialias (x = 1..16 as [1,1,4,4], scales 0.6).
  test.each([
    ['linear', [2.875, 4.5, 9.375, 11.0]],
    ['cubic', [2.5180721, 4.2858863, 9.589329, 11.357142]],
  ] as const)('x=[1,1,4,4] scales=[1,1,0.6,0.6] antialias mode=%s (opset 18)', (mode, want) => {
    const x = nn.tensor(Float32Array.from({ length: 16 }, (_, i) => i + 1), [1, 1, 4, 4]);
    expectClose(run([x, null, f32([1, 1, 0.6, 0.6])], { mode, antialias: 1 }).data, want, 1e-6);
  });

  test.each(['linear', 'cubic'])('x=[1,1,9,8,21] → [4,3,5] antialias %s over 3 axes (general path) equals separable passes', (mode) => {
    const x = rand([1, 1, 9, 8, 21], 15);
    const attrs = { mode, antialias: 1 };
    const y = run([x, null, null, i64([4, 3, 5])], { ...attrs, axes: [2, 3, 4] });
    let t: nn.Tensor = x;
    for (const [ax, n] of [[4, 5], [3, 3], [2, 4]] as const) {
      t = run([t, null, null, i64([n])], { ...attrs, axes: [ax] });
    }
    expectClose(y.data, t.data, 1e-4);
    // And a wide filter really averages: downscaling a constant keeps it.
    const ones = nn.tensor(new Float32Array(9 * 8 * 21).fill(3), [1, 1, 9, 8, 21]);
    expectClose(run([ones, null, null, i64([4, 3, 5])], { ...attrs, axes: [2, 3, 4] }).data, new Array(60).fill(3), 1e-5);
  });

  test('x=[1,1,4,6] sizes=[2,2] axes=[2,3] keep_aspect_ratio_policy not_larger / not_smaller', () => {
    const x = rand([1, 1, 4, 6], 6);
    expect([...run([x, null, null, i64([2, 2])], { axes: [2, 3], keep_aspect_ratio_policy: 'not_larger' }).shape]).toEqual([1, 1, 1, 2]);
    expect([...run([x, null, null, i64([2, 2])], { axes: [2, 3], keep_aspect_ratio_policy: 'not_smaller' }).shape]).toEqual([1, 1, 2, 3]);
  });

  test('x=[1,1,3,3] tf_crop_and_resize with extrapolation_value: outside the box', () => {
    const x = nn.tensor(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), [1, 1, 3, 3]);
    const roi = f32([0, 0, 0.5, 0.5, 1, 1, 1.5, 1.5]);
    const y = run([x, roi, null, i64([1, 1, 2, 2])], { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: 10 });
    // Source coordinates 1 and 3 (of 0..2): 3 is outside.
    expect([...y.data]).toEqual([5, 10, 10, 10]);
  });

  test('Upsample-7 upgrade: the scales attribute becomes a constant input; Resize-10 gets an empty roi', () => {
    const consts: number[][] = [];
    const ctx = { opset: 7, constant: (_d: string, _s: number[], v: readonly number[]) => (consts.push([...v]), 'c0'), fail: (m: string): never => { throw new Error(m); }, unsupported: (m: string): never => { throw new Error(m); } };
    const up: NodeView = { inputs: ['x'], outputs: ['y'], attrs: { scales: [1, 1, 2, 2], mode: 'nearest' } };
    schemaOf('Upsample')!.upgrade!(up, ctx as never);
    expect(up.inputs).toEqual(['x', 'c0']);
    expect(up.attrs).toEqual({ mode: 'nearest' });
    expect(consts).toEqual([[1, 1, 2, 2]]);
    const rs: NodeView = { inputs: ['x', 's'], outputs: ['y'], attrs: { mode: 'linear' } };
    schemaOf('Resize')!.upgrade!(rs, { ...ctx, opset: 10 } as never);
    expect(rs.inputs).toEqual(['x', '', 's']);
    expect(rs.attrs.coordinate_transformation_mode).toBe('asymmetric');
    // Resize-10 nearest: floor when enlarging, ceil when shrinking (x=[1,1,2,4] scales .6 → [[1,3]]).
    const x = nn.tensor(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [1, 1, 2, 4]);
    expectClose(run([x, null, f32([1, 1, 0.6, 0.6])], rs.attrs).data, [1, 2.6666667]);
    expect([...run([x, null, f32([1, 1, 0.6, 0.6])], { ...rs.attrs, mode: 'nearest' }).data]).toEqual([1, 3]);
  });

  test('Upsample-9 linear x=[1,2,3,4] scales=[1,1,2,3]: asymmetric bilinear', () => {
    const x = rand([1, 2, 3, 4], 12);
    const [y] = nn.runOp('Upsample', [x, f32([1, 1, 2, 3])], { mode: 'linear' });
    expect([...y.shape]).toEqual([1, 2, 6, 12]);
    expectClose(y.data as Float32Array, refResize2d(x, 6, 12, 'linear', 'asymmetric'));
  });

  test('int32 sizes are not accepted (ONNX: int64)', () => {
    const x = rand([1, 1, 2, 2]);
    expect(() => run([x, null, null, new nn.TypedTensor('int32', Int32Array.from([1, 1, 4, 4]), [4])])).toThrow(/sizes.*int32 is not supported/);
  });

  test('x=[2,3,4] scales all 1 (half_pixel, align_corners): a copy', () => {
    const x = rand([2, 3, 4], 13);
    expect(run([x, null, f32([1, 1, 1])], { mode: 'linear' }).data).toEqual(x.data);
    expect(run([x, null, f32([1, 1, 1])], { mode: 'cubic', coordinate_transformation_mode: 'align_corners' }).data).toEqual(x.data);
  });

  test('async: x=[1,2,3,3] → [6,6] equals sync', async () => {
    const x = rand([1, 2, 3, 3], 8);
    const [a] = await nn.async.runOp('Resize', [x, null, f32([1, 1, 2, 2])], { mode: 'linear' });
    expect(a.data).toEqual(run([x, null, f32([1, 1, 2, 2])], { mode: 'linear' }).data);
  });
});

describe('Resize: errors', () => {
  const x = rand([1, 1, 2, 2]);
  test('both scales and sizes', () => expect(() => run([x, null, f32([1, 1, 2, 2]), i64([1, 1, 4, 4])])).toThrow(/exactly one of scales and sizes/));
  test('neither', () => expect(() => run([x])).toThrow(/exactly one of scales and sizes/));
  test('wrong count', () => expect(() => run([x, null, f32([2, 2])])).toThrow(RangeError));
  test('non-positive scale', () => expect(() => run([x, null, f32([1, 1, 0, 2])])).toThrow(/scales must be positive/));
  test('negative size', () => expect(() => run([x, null, null, i64([1, 1, -1, 2])])).toThrow(/sizes must be non-negative/));
  test('axis out of range', () => expect(() => run([x, null, null, i64([3])], { axes: [4] })).toThrow(/out of range/));
  test('tf_crop_and_resize without roi', () => expect(() => run([x, null, null, i64([1, 1, 3, 3])], { coordinate_transformation_mode: 'tf_crop_and_resize' })).toThrow(/roi must have 8 values/));
  test('antialias with a filter of more than 256 taps is unsupported', () => {
    expect(() => run([rand([1, 1, 1, 2000]), null, f32([1, 1, 1, 0.001])], { antialias: 1, mode: 'linear' })).toThrow(/antialias with a scale this small is not supported/);
  });
  test('antialias changes nothing for nearest or upscaling', () => {
    expect(run([x, null, f32([1, 1, 0.5, 0.5])], { antialias: 1 }).data).toEqual(run([x, null, f32([1, 1, 0.5, 0.5])]).data);
    expect(run([x, null, f32([1, 1, 2, 3])], { antialias: 1, mode: 'linear' }).data).toEqual(run([x, null, f32([1, 1, 2, 3])], { mode: 'linear' }).data);
  });
  test('unknown mode', () => expect(() => run([x, null, f32([1, 1, 2, 2])], { mode: 'area' })).toThrow(/mode/));
});
