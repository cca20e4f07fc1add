// InstanceNormalization, LayerNormalization, GroupNormalization and
// MeanVarianceNormalization: ONNX's node tests and a plain-JS reference
// over contiguous blocks; broadcasting of Scale/B, negative axes, errors.
import * as nn from '../../lib';
import { expectNodeCase, haveTestdata } from './onnx-node';

function rand(shape: number[], seed = 1): nn.Tensor {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    d[i] = (s / 2147483648) * 4 - 1;
  }
  return nn.tensor(d, shape);
}
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-4): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i] - want[i]) > tol * (1 + Math.abs(want[i]))) throw new Error(`[${i}] = ${got[i]}, expected ${want[i]}`);
  }
}
/** Normalizes blocks of `block` elements; affine(i within block, block index) gives [scale, bias]. */
function refBlocks(x: Float32Array, block: number, eps: number, affine: (i: number, b: number) => [number, number], den: (v: number) => number = (v) => Math.sqrt(v + eps)) {
  const y = new Float32Array(x.length), means: number[] = [], invs: number[] = [];
  for (let b = 0; b * block < x.length; b++) {
    const v = x.subarray(b * block, (b + 1) * block);
    const m = v.reduce((a, c) => a + c, 0) / block;
    const va = v.reduce((a, c) => a + (c - m) ** 2, 0) / block;
    means.push(m);
    invs.push(1 / Math.sqrt(va + eps));
    for (let i = 0; i < block; i++) {
      const [s, o] = affine(i, b);
      y[b * block + i] = ((v[i] - m) / den(va)) * s + o;
    }
  }
  return { y, means, invs };
}

(haveTestdata ? describe : describe.skip)('ONNX node tests', () => {
  const names = ['test_instancenorm_epsilon', 'test_instancenorm_example', 'test_mvn'];
  for (const a of ['2d_axis0', '2d_axis1', '2d_axis_negative_1', '2d_axis_negative_2', '3d_axis0_epsilon', '3d_axis1_epsilon', '3d_axis2_epsilon', '3d_axis_negative_1_epsilon', '3d_axis_negative_2_epsilon', '3d_axis_negative_3_epsilon', '4d_axis0', '4d_axis1', '4d_axis2', '4d_axis3', '4d_axis_negative_1', '4d_axis_negative_2', '4d_axis_negative_3', '4d_axis_negative_4', 'default_axis']) {
    names.push(`test_layer_normalization_${a}`);
  }
  test.each(names)('%s', (name) => expectNodeCase(name));
});

describe('InstanceNormalization', () => {
  test.each([[[2, 3, 4, 5]], [[1, 4, 7]], [[1, 2, 2, 3, 3]]])('x=%j epsilon=1e-3', (shape) => {
    const x = rand(shape, 3), s = rand([shape[1]], 4), b = rand([shape[1]], 5);
    const plane = shape.slice(2).reduce((a, c) => a * c, 1);
    const want = refBlocks(x.data, plane, 1e-3, (_i, blk) => [s.data[blk % shape[1]], b.data[blk % shape[1]]]);
    expectClose((nn.runOp('InstanceNormalization', [x, s, b], { epsilon: 1e-3 })[0] as nn.Tensor).data, want.y);
  });
  test('scale of the wrong length', () => expect(() => nn.runOp('InstanceNormalization', [rand([1, 3, 2]), rand([2]), rand([3])])).toThrow(/scale must have shape \[3\]/));
});

describe('LayerNormalization', () => {
  test('x=[2,3,4] axis=-2 Scale=[4] broadcast, B=[3,1], Mean and InvStdDev', () => {
    const x = rand([2, 3, 4], 6), s = rand([4], 7), b = rand([3, 1], 8);
    const [y, mean, inv] = nn.runOp('LayerNormalization', [x, s, b], { axis: -2, epsilon: 1e-5 }, { numOutputs: 3 });
    const want = refBlocks(x.data, 12, 1e-5, (i) => [s.data[i % 4], b.data[Math.floor(i / 4)]]);
    expectClose(y.data as Float32Array, want.y);
    expect([...mean.shape]).toEqual([2, 1, 1]);
    expectClose(mean.data as Float32Array, want.means);
    expectClose(inv.data as Float32Array, want.invs);
  });
  test('x=[5,8] default axis, no B', () => {
    const x = rand([5, 8], 9), s = rand([8], 10);
    const [y] = nn.runOp('LayerNormalization', [x, s]);
    expectClose(y.data as Float32Array, refBlocks(x.data, 8, 1e-5, (i) => [s.data[i], 0]).y);
  });
  test('axis out of range', () => expect(() => nn.runOp('LayerNormalization', [rand([2, 3]), rand([3])], { axis: 2 })).toThrow(/axis 2 is out of range/));
  test('Scale that does not broadcast', () => expect(() => nn.runOp('LayerNormalization', [rand([2, 3]), rand([2])])).toThrow(/Scale must broadcast/));
});

describe('GroupNormalization', () => {
  test.each([['per channel (opset 21)', 6], ['per group (opset 18)', 3]] as const)('x=[2,6,3,2] num_groups=3 scale %s', (_l, len) => {
    const x = rand([2, 6, 3, 2], 11), s = rand([len], 12), b = rand([len], 13);
    const [y] = nn.runOp('GroupNormalization', [x, s, b], { num_groups: 3, epsilon: 1e-4 });
    const want = refBlocks(x.data, 12, 1e-4, (i, blk) => {
      const g = blk % 3, ch = g * 2 + Math.floor(i / 6);
      const k = len === 6 ? ch : g;
      return [s.data[k], b.data[k]];
    });
    expectClose(y.data as Float32Array, want.y);
  });
  test('channels not divisible', () => expect(() => nn.runOp('GroupNormalization', [rand([1, 6, 2]), rand([6]), rand([6])], { num_groups: 4 })).toThrow(/divisible by num_groups/));
  test('scale of another length', () => expect(() => nn.runOp('GroupNormalization', [rand([1, 6, 2]), rand([4]), rand([4])], { num_groups: 3 })).toThrow(/scale and bias must have shape/));
});

describe('MeanVarianceNormalization', () => {
  test('x=[2,3,4] axes=[-1]', () => {
    const x = rand([2, 3, 4], 14);
    const [y] = nn.runOp('MeanVarianceNormalization', [x], { axes: [-1] });
    expectClose(y.data as Float32Array, refBlocks(x.data, 4, 0, () => [1, 0], (v) => Math.sqrt(v) + 1e-9).y);
  });
  test('axis out of range', () => expect(() => nn.runOp('MeanVarianceNormalization', [rand([2, 3])], { axes: [3] })).toThrow(/out of range/));
});
