// Argument errors of conv2d, fullyConnected and the pooling ops: each a
// TypeError or RangeError naming the op, the argument, what was expected and
// what came, thrown before any native work.
import * as nn from '../../lib';

const t = (shape: number[]): nn.Tensor => nn.tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
const x = t([1, 3, 4, 4]);
const w = t([4, 3, 3, 3]);

type Case = [string, () => unknown, ErrorConstructor, RegExp];

function check(cases: Case[]): void {
  test.each(cases)('%s', (_label, call, cls, message) => {
    expect(call).toThrow(cls);
    expect(call).toThrow(message);
  });
}

describe('conv2d argument errors', () => {
  check([
    ['x null', () => nn.conv2d(null as never, w), TypeError, /^conv2d: expected "x" to be a float32 Tensor, received null$/],
    ['x with Float64Array data', () => nn.conv2d({ data: new Float64Array(48), shape: [1, 3, 4, 4] } as never, w), TypeError, /expected "x" to be a float32 Tensor, received Float64Array/],
    ['w with Float64Array data', () => nn.conv2d(x, { data: new Float64Array(108), shape: [4, 3, 3, 3] } as never), TypeError, /expected "w" to be a float32 Tensor, received Float64Array/],
    ['x rank 3', () => nn.conv2d(t([3, 4, 4]), w), RangeError, /conv2d: "x" must be 4-D \[N,C,H,W\], got shape \[3,4,4\]/],
    ['w rank 2', () => nn.conv2d(x, t([4, 27])), RangeError, /conv2d: "w" must be 4-D \[Cout,Cin\/group,kH,kW\], got shape \[4,27\]/],
    ['unknown option', () => nn.conv2d(x, w, { algo: 'auto' } as never), TypeError, /conv2d: unknown option "algo"; expected one of bias, strides, pads, dilations, group, activation, algorithm, out/],
    ['algorithm of the wrong type', () => nn.conv2d(x, w, { algorithm: 2 } as never), TypeError, /conv2d: expected "algorithm" to be 'auto' or 'im2col'/],
    ['unknown algorithm', () => nn.conv2d(x, w, { algorithm: 'winograd' } as never), RangeError, /conv2d: "algorithm" must be 'auto' or 'im2col' or .* got "winograd"/],
    ['options a number', () => nn.conv2d(x, w, 3 as never), TypeError, /expected "options" to be an object, received number 3/],
    ['group 0', () => nn.conv2d(x, w, { group: 0 }), RangeError, /conv2d: "group" must be an integer in \[1, 2147483647\], got 0/],
    ['group 1.5', () => nn.conv2d(x, w, { group: 1.5 }), RangeError, /"group" must be an integer in \[1, 2147483647\], got 1.5/],
    ['group NaN', () => nn.conv2d(x, w, { group: NaN }), RangeError, /"group" must be an integer .* got NaN/],
    ['group a string', () => nn.conv2d(x, w, { group: '3' as never }), TypeError, /expected "group" to be a number, received string "3"/],
    ['channels not divisible by group', () => nn.conv2d(x, w, { group: 2 }), RangeError, /conv2d: x.shape\[1\] \(3 input channels\) must be divisible by group \(2\)/],
    ['w.shape[1] != Cin/group', () => nn.conv2d(x, t([4, 4, 3, 3])), RangeError, /^conv2d: w.shape\[1\] must equal x.shape\[1\] \/ group \(3\), got 4$/],
    ['w.shape[1] != Cin/group with group 3', () => nn.conv2d(x, w, { group: 3 }), RangeError, /w.shape\[1\] must equal x.shape\[1\] \/ group \(1\), got 3/],
    ['Cout not divisible by group', () => nn.conv2d(x, t([4, 1, 3, 3]), { group: 3 }), RangeError, /conv2d: w.shape\[0\] \(4 output channels\) must be divisible by group \(3\)/],
    ['strides 0', () => nn.conv2d(x, w, { strides: 0 }), RangeError, /"strides" must be an integer in \[1, 2147483647\], got 0/],
    ['strides [1, -1]', () => nn.conv2d(x, w, { strides: [1, -1] }), RangeError, /"strides\[1\]" must be an integer in \[1, 2147483647\], got -1/],
    ['strides Infinity', () => nn.conv2d(x, w, { strides: Infinity }), RangeError, /"strides" must be an integer .* got Infinity/],
    ['strides [1, 2, 3]', () => nn.conv2d(x, w, { strides: [1, 2, 3] as never }), RangeError, /"strides" must be a number or \[h, w\], got an array of 3/],
    ['strides a string', () => nn.conv2d(x, w, { strides: '1' as never }), TypeError, /expected "strides" to be a number or \[h, w\], received string "1"/],
    ['strides [1, "2"]', () => nn.conv2d(x, w, { strides: [1, '2'] as never }), TypeError, /expected "strides\[1\]" to be a number, received string "2"/],
    ['dilations 0', () => nn.conv2d(x, w, { dilations: 0 }), RangeError, /"dilations" must be an integer in \[1, 2147483647\], got 0/],
    ['dilations 2.5', () => nn.conv2d(x, w, { dilations: [2.5, 1] }), RangeError, /"dilations\[0\]" must be an integer/],
    ['pads -1', () => nn.conv2d(x, w, { pads: -1 }), RangeError, /"pads" must be an integer in \[0, 2147483647\], got -1/],
    ['pads NaN', () => nn.conv2d(x, w, { pads: NaN }), RangeError, /"pads" must be an integer .* got NaN/],
    ['pads of length 3', () => nn.conv2d(x, w, { pads: [1, 1, 1] as never }), RangeError, /"pads" must be a number, \[h, w\] or \[top, left, bottom, right\], got an array of 3/],
    ['pads [0, 0, 0, 0.5]', () => nn.conv2d(x, w, { pads: [0, 0, 0, 0.5] }), RangeError, /"pads\[3\]" must be an integer in \[0, 2147483647\], got 0.5/],
    ['pads an object', () => nn.conv2d(x, w, { pads: {} as never }), TypeError, /expected "pads" to be a number, \[h, w\] or \[top, left, bottom, right\], received Object/],
    ['activation unknown', () => nn.conv2d(x, w, { activation: 'sigmoid' as never }), RangeError, /conv2d: "activation" must be 'none' or 'relu', got "sigmoid"/],
    ['activation not a string', () => nn.conv2d(x, w, { activation: 1 as never }), TypeError, /expected "activation" to be 'none' or 'relu', received number 1/],
    ['bias of wrong length', () => nn.conv2d(x, w, { bias: t([3]) }), RangeError, /conv2d: "bias" must have shape \[4\], got \[3\]/],
    ['bias of rank 2', () => nn.conv2d(x, w, { bias: t([1, 4]) }), RangeError, /"bias" must have shape \[4\], got \[1,4\]/],
    ['bias Float64Array', () => nn.conv2d(x, w, { bias: { data: new Float64Array(4), shape: [4] } as never }), TypeError, /expected "bias" to be a float32 Tensor, received Float64Array/],
    ['kernel larger than the input', () => nn.conv2d(x, t([4, 3, 5, 5])), RangeError, /conv2d: kernel extent along H \(5 = dilation 1 \* \(k 5 - 1\) \+ 1\) is larger than the padded input \(4 = 4 \+ pads 0 \+ 0\): no output/],
    ['dilation pushes the kernel past the padded input', () => nn.conv2d(x, w, { dilations: [1, 3], pads: [0, 1] }), RangeError, /kernel extent along W \(7 = dilation 3 \* \(k 3 - 1\) \+ 1\) is larger than the padded input \(6 = 4 \+ pads 1 \+ 1\)/],
    ['out wrong shape', () => nn.conv2d(x, w, { out: t([1, 4, 4, 4]) }), RangeError, /conv2d: "out" must have shape \[1,4,2,2\], got \[1,4,4,4\]/],
    ['out Float64Array', () => nn.conv2d(x, w, { out: { data: new Float64Array(16), shape: [1, 4, 2, 2] } as never }), TypeError, /expected "out" to be a float32 Tensor, received Float64Array/],
  ]);

  test('out overlapping x, w or bias is refused', () => {
    const buf = new Float32Array(400);
    const xs = nn.tensor(buf.subarray(0, 48), [1, 3, 4, 4]);
    const ws = nn.tensor(buf.subarray(100, 208), [4, 3, 3, 3]);
    const bias = nn.tensor(buf.subarray(300, 304), [4]);
    expect(() => nn.conv2d(xs, w, { out: nn.tensor(buf.subarray(40, 56), [1, 4, 2, 2]) })).toThrow(/conv2d: "out" overlaps "x"/);
    expect(() => nn.conv2d(x, ws, { out: nn.tensor(buf.subarray(200, 216), [1, 4, 2, 2]) })).toThrow(/"out" overlaps "w"/);
    expect(() => nn.conv2d(x, w, { bias, out: nn.tensor(buf.subarray(290, 306), [1, 4, 2, 2]) })).toThrow(/"out" overlaps "bias"/);
  });

  test('a detached input is refused, the process survives', () => {
    const data = new Float32Array(48);
    const xd = nn.tensor(data, [1, 3, 4, 4]);
    structuredClone(data.buffer, { transfer: [data.buffer] });
    expect(() => nn.conv2d(xd, w)).toThrow(nn.NeonnError);
    expect(() => nn.conv2d(xd, w)).toThrow(/conv2d: "x" is backed by a detached ArrayBuffer/);
  });

  test('async conv2d rejects with the same errors', async () => {
    await expect(nn.async.conv2d(x, t([4, 4, 3, 3]))).rejects.toThrow(RangeError);
    await expect(nn.async.conv2d(x, t([4, 4, 3, 3]))).rejects.toThrow(/w.shape\[1\] must equal x.shape\[1\] \/ group \(3\), got 4/);
    await expect(nn.async.conv2d(x, w, { bogus: 1 } as never)).rejects.toThrow(TypeError);
  });
});

describe('fullyConnected argument errors', () => {
  const fx = t([2, 6]);
  const fw = t([3, 6]);
  check([
    ['x not a tensor', () => nn.fullyConnected(7 as never, fw), TypeError, /fullyConnected: expected "x" to be a float32 Tensor, received number 7/],
    ['w Float64Array', () => nn.fullyConnected(fx, { data: new Float64Array(18), shape: [3, 6] } as never), TypeError, /expected "w" to be a float32 Tensor, received Float64Array/],
    ['x rank 1', () => nn.fullyConnected(t([6]), fw), RangeError, /fullyConnected: "x" must have rank >= 2 \(\[N, features...\]\), got shape \[6\]/],
    ['w rank 3', () => nn.fullyConnected(fx, t([3, 6, 1])), RangeError, /"w" must be 2-D \[outFeatures,inFeatures\], got shape \[3,6,1\]/],
    ['features differ', () => nn.fullyConnected(fx, t([3, 5])), RangeError, /w.shape\[1\] must equal the features per sample of x \(product of x.shape\[1..\] = 6\), got 5/],
    ['features differ after flattening', () => nn.fullyConnected(t([2, 2, 2, 2]), fw), RangeError, /product of x.shape\[1..\] = 8\), got 6/],
    ['bias wrong length', () => nn.fullyConnected(fx, fw, { bias: t([6]) }), RangeError, /fullyConnected: "bias" must have shape \[3\], got \[6\]/],
    ['unknown option', () => nn.fullyConnected(fx, fw, { activation: 'relu' } as never), TypeError, /fullyConnected: unknown option "activation"; expected one of bias, out/],
    ['out wrong shape', () => nn.fullyConnected(fx, fw, { out: t([3, 2]) }), RangeError, /"out" must have shape \[2,3\], got \[3,2\]/],
  ]);

  test('async fullyConnected rejects', async () => {
    await expect(nn.async.fullyConnected(fx, t([3, 5]))).rejects.toThrow(RangeError);
  });
});

describe('pooling argument errors', () => {
  check([
    ['maxPool2d without options', () => nn.maxPool2d(x, undefined as never), TypeError, /maxPool2d: expected "kernel" to be a number or \[h, w\], received undefined/],
    ['maxPool2d kernel missing', () => nn.maxPool2d(x, { strides: 2 } as never), TypeError, /maxPool2d: expected "kernel" to be a number or \[h, w\], received undefined/],
    ['maxPool2d kernel 0', () => nn.maxPool2d(x, { kernel: 0 }), RangeError, /maxPool2d: "kernel" must be an integer in \[1, 2147483647\], got 0/],
    ['maxPool2d x rank 2', () => nn.maxPool2d(t([4, 4]), { kernel: 2 }), RangeError, /maxPool2d: "x" must be 4-D \[N,C,H,W\], got shape \[4,4\]/],
    ['maxPool2d x Float64Array', () => nn.maxPool2d({ data: new Float64Array(16), shape: [1, 1, 4, 4] } as never, { kernel: 2 }), TypeError, /expected "x" to be a float32 Tensor, received Float64Array/],
    ['maxPool2d pads as wide as the kernel', () => nn.maxPool2d(x, { kernel: 2, pads: [0, 0, 2, 0] }), RangeError, /maxPool2d: pads along H \(0, 2\) must be smaller than the kernel extent \(2\)/],
    ['maxPool2d kernel larger than the input', () => nn.maxPool2d(x, { kernel: [2, 5] }), RangeError, /maxPool2d: kernel extent along W \(5 = dilation 1 \* \(k 5 - 1\) \+ 1\) is larger than the padded input \(4 = 4 \+ pads 0 \+ 0\): no output/],
    ['maxPool2d dilations 0', () => nn.maxPool2d(x, { kernel: 2, dilations: 0 }), RangeError, /"dilations" must be an integer in \[1, 2147483647\], got 0/],
    ['maxPool2d ceil not a boolean', () => nn.maxPool2d(x, { kernel: 2, ceil: 1 as never }), TypeError, /maxPool2d: expected "ceil" to be a boolean, received number 1/],
    ['maxPool2d countIncludePad is an avgPool2d option', () => nn.maxPool2d(x, { kernel: 2, countIncludePad: true } as never), TypeError, /maxPool2d: unknown option "countIncludePad"; expected one of kernel, strides, pads, dilations, ceil, out/],
    ['maxPool2d strides NaN', () => nn.maxPool2d(x, { kernel: 2, strides: NaN }), RangeError, /"strides" must be an integer .* got NaN/],
    ['avgPool2d dilations are not an option', () => nn.avgPool2d(x, { kernel: 2, dilations: 2 } as never), TypeError, /avgPool2d: unknown option "dilations"; expected one of kernel, strides, pads, ceil, countIncludePad, out/],
    ['avgPool2d countIncludePad a string', () => nn.avgPool2d(x, { kernel: 2, countIncludePad: 'yes' as never }), TypeError, /expected "countIncludePad" to be a boolean, received string "yes"/],
    ['avgPool2d pads -1', () => nn.avgPool2d(x, { kernel: 2, pads: -1 }), RangeError, /avgPool2d: "pads" must be an integer in \[0, 2147483647\], got -1/],
    ['avgPool2d out wrong shape', () => nn.avgPool2d(x, { kernel: 2, out: t([1, 3, 2, 2]) }), RangeError, /avgPool2d: "out" must have shape \[1,3,3,3\], got \[1,3,2,2\]/],
    ['globalAvgPool x rank 3', () => nn.globalAvgPool(t([3, 4, 4])), RangeError, /globalAvgPool: "x" must be 4-D \[N,C,H,W\], got shape \[3,4,4\]/],
    ['globalAvgPool unknown option', () => nn.globalAvgPool(x, { kernel: 2 } as never), TypeError, /globalAvgPool: unknown option "kernel"; expected one of out/],
    ['globalAvgPool out wrong shape', () => nn.globalAvgPool(x, { out: t([1, 3]) }), RangeError, /globalAvgPool: "out" must have shape \[1,3,1,1\], got \[1,3\]/],
  ]);

  test('out overlapping x is refused', () => {
    const buf = new Float32Array(100);
    const xs = nn.tensor(buf.subarray(0, 48), [1, 3, 4, 4]);
    expect(() => nn.maxPool2d(xs, { kernel: 2, strides: 2, out: nn.tensor(buf.subarray(40, 52), [1, 3, 2, 2]) })).toThrow(/maxPool2d: "out" overlaps "x"/);
    expect(() => nn.globalAvgPool(xs, { out: nn.tensor(buf.subarray(0, 3), [1, 3, 1, 1]) })).toThrow(/globalAvgPool: "out" overlaps "x"/);
  });

  test('async pooling rejects with the same errors', async () => {
    await expect(nn.async.maxPool2d(x, { kernel: 9 })).rejects.toThrow(RangeError);
    await expect(nn.async.avgPool2d(x, { kernel: 2, bogus: 1 } as never)).rejects.toThrow(TypeError);
    await expect(nn.async.globalAvgPool(t([4]))).rejects.toThrow(/"x" must be 4-D/);
  });
});
