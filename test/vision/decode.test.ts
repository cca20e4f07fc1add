import { vision } from '../../lib/vision';
import { tensor } from '../../lib/tensor';

const { convertBoxes, iou, ssdPriors, decodePriors, decodeGrid, softmax, topK } = vision;
const arr = (x: { data: Float32Array }): number[] => Array.from(x.data);

describe('box formats', () => {
  const xyxy = tensor(new Float32Array([4, 3, 6, 7, 0, 0, 10, 20]), [2, 4]);
  test('xyxy -> xywh -> cxcywh -> xyxy', () => {
    const xywh = convertBoxes(xyxy, 'xyxy', 'xywh');
    expect(arr(xywh)).toEqual([4, 3, 2, 4, 0, 0, 10, 20]);
    const c = convertBoxes(xywh, 'xywh', 'cxcywh');
    expect(arr(c)).toEqual([5, 5, 2, 4, 5, 10, 10, 20]);
    expect(arr(convertBoxes(c, 'cxcywh', 'xyxy'))).toEqual(arr(xyxy));
    expect(c.shape).toEqual([2, 4]);
  });
  test('keeps a [1, N, 4] shape; a flat array becomes [N, 4]', () => {
    expect(convertBoxes(tensor(new Float32Array(8), [1, 2, 4]), 'xyxy', 'xywh').shape).toEqual([1, 2, 4]);
    expect(convertBoxes(new Float32Array(8), 'xyxy', 'xywh').shape).toEqual([2, 4]);
  });
  test('iou', () => {
    expect(iou([0, 0, 2, 2], [1, 0, 3, 2])).toBeCloseTo(1 / 3, 7);
    expect(iou([1, 1, 2, 2], [1, 1, 2, 2], 'xywh')).toBe(1);
    expect(iou([0, 0, 1, 1], [2, 2, 3, 3])).toBe(0);
  });
  test('errors', () => {
    expect(() => convertBoxes(xyxy, 'xyxy', 'yxyx' as never)).toThrow(/convertBoxes: "to" must be 'xyxy' or 'xywh' or 'cxcywh', got "yxyx"/);
    expect(() => convertBoxes(xyxy, undefined as never, 'xyxy')).toThrow(TypeError);
    expect(() => convertBoxes(tensor(new Float32Array(6), [2, 3]), 'xyxy', 'xywh')).toThrow(/must be \[N, 4\]/);
    expect(() => iou([0, 0, 1], [0, 0, 1, 1])).toThrow(/iou: expected "a" to be four numbers/);
  });
});

describe('ssdPriors / decodePriors', () => {
  test('ULFD RFB-320 layout: 4420 priors, first and last by hand', () => {
    const p = ssdPriors({ inputSize: [240, 320], strides: [8, 16, 32, 64], minSizes: [[10, 16, 24], [32, 48], [64, 96], [128, 192, 256]], clip: true });
    expect(p.shape).toEqual([4420, 4]);
    // cell (0,0) of stride 8, size 10: centre 4/320, 4/240
    expect(arr(p).slice(0, 4)).toEqual(Array.from(Float32Array.from([4 / 320, 4 / 240, 10 / 320, 10 / 240])));
    // last: stride 64 (5x4 map), row 3, col 4, size 256 -> centre (4.5*64/320, 3.5*64/240) = (0.9, 0.9333), w 0.8, h clipped to 1
    expect(arr(p).slice(-4)).toEqual(Array.from(Float32Array.from([0.9, 3.5 * 64 / 240, 0.8, 1])));
  });
  test('zero regression gives the prior itself; exp and variances as the formula says', () => {
    const priors = tensor(new Float32Array([0.5, 0.5, 0.2, 0.4]), [1, 4]);
    expect(arr(decodePriors(new Float32Array(4), priors))).toEqual(Array.from(Float32Array.from([0.4, 0.3, 0.6, 0.7])));
    // dx=1 moves the centre by 0.1*0.2; dw=ln(2)/0.2 doubles the width
    const d = decodePriors(new Float32Array([1, 0, Math.log(2) / 0.2, 0]), priors, { format: 'cxcywh', scaleTo: [100, 200] });
    expect(arr(d).map((v) => +v.toFixed(4))).toEqual([0.52 * 200, 50, 0.4 * 200, 40]);
  });
  test('errors', () => {
    expect(() => ssdPriors({ inputSize: [240, 320], strides: [8, 16], minSizes: [[10]] })).toThrow(/"minSizes" has 1 lists, "strides" 2/);
    expect(() => ssdPriors({ inputSize: [0, 320], strides: [8], minSizes: [[10]] })).toThrow(RangeError);
    expect(() => ssdPriors(undefined as never)).toThrow(TypeError);
    expect(() => decodePriors(new Float32Array(8), new Float32Array(4))).toThrow(/"loc" has 2 rows, "priors" has 1/);
    expect(() => decodePriors(new Float32Array(4), new Float32Array(4), { variances: [0, 1] })).toThrow(/"variances\[0\]" must be a positive/);
  });
});

describe('decodeGrid', () => {
  test('distance mode: ltrb in strides around the cell point, cells row-major per stride', () => {
    // 16x16 input, strides 8 and 16: 4 + 1 cells
    const pred = new Float32Array(5 * 4);
    pred.set([1, 1, 1, 1], 4 * 3); // cell (row 1, col 1) at stride 8: point (8, 8)
    pred.set([0.5, 0, 0.5, 1], 4 * 4); // the stride-16 cell: point (0, 0)
    const b = arr(decodeGrid(pred, { inputSize: [16, 16], strides: [8, 16], mode: 'distance' }));
    expect(b.slice(12, 16)).toEqual([0, 0, 16, 16]);
    expect(b.slice(16, 20)).toEqual([-8, 0, 8, 16]);
    expect(b.slice(0, 4)).toEqual([0, 0, 0, 0]);
    const half = arr(decodeGrid(pred, { inputSize: [16, 16], strides: [8, 16], mode: 'distance', offset: 0.5 }));
    expect(half.slice(12, 16)).toEqual([4, 4, 20, 20]);
  });
  test('distance mode with bins: the softmax expectation of each side', () => {
    // 2 bins per side; equal logits -> 0.5 stride; logits (0, big) -> 1 stride
    const pred = new Float32Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 50, 0, 50, 0, 50, 0, 50]);
    const b = arr(decodeGrid(tensor(pred, [1, 2, 8]), { inputSize: [8, 16], strides: [8], mode: 'distance' }));
    expect(b.slice(0, 4)).toEqual([-4, -4, 4, 4]);
    expect(b.slice(4, 8)).toEqual([0, -8, 16, 8]);
  });
  test('yolox mode', () => {
    const b = arr(decodeGrid(new Float32Array([0.5, 0.5, Math.log(2), 0]), { inputSize: [32, 32], strides: [32], mode: 'yolox' }));
    expect(b.map((v) => +v.toFixed(4))).toEqual([-16, 0, 48, 32]);
  });
  test('errors', () => {
    expect(() => decodeGrid(new Float32Array(8), { inputSize: [16, 16], strides: [8], mode: 'distance' })).toThrow(/"pred" has 2 rows; strides 8 on 16x16 make 4 cells/);
    expect(() => decodeGrid(tensor(new Float32Array(8), [1, 8]), { inputSize: [8, 8], strides: [8], mode: 'yolox' })).toThrow(/do not fit mode 'yolox'/);
    expect(() => decodeGrid(new Float32Array(4), { inputSize: [8, 8], strides: [8] } as never)).toThrow(TypeError);
    expect(() => decodeGrid(new Float32Array(4), { inputSize: [8, 8], strides: [8], mode: 'anchor' as never })).toThrow(RangeError);
  });
});

describe('softmax / topK', () => {
  test('softmax along the last and the first axis', () => {
    const x = tensor(new Float32Array([0, Math.log(3), 1000, 1000]), [2, 2]);
    expect(arr(softmax(x)).map((v) => +v.toFixed(6))).toEqual([0.25, 0.75, 0.5, 0.5]);
    const y = softmax(x, 0);
    expect(y.data[0]).toBe(0);
    expect(y.data[2]).toBe(1);
    expect(y.data[1]).toBeCloseTo(0, 6);
    expect(() => softmax(x, 2)).toThrow(/softmax: "axis" 2 is out of range for rank 2/);
  });
  test('topK: largest first, ties in index order, per row', () => {
    const x = tensor(new Float32Array([1, 5, 3, 5, 0, -1, -2, -3, -4, -5]), [2, 5]);
    const r = topK(x, 3);
    expect(r.values.shape).toEqual([2, 3]);
    expect(Array.from(r.indices)).toEqual([1, 3, 2, 0, 1, 2]);
    expect(arr(r.values)).toEqual([5, 5, 3, -1, -2, -3]);
    expect(() => topK(x, 6)).toThrow(/"k" must be an integer in \[1, 5\], got 6/);
    expect(() => topK(new Float32Array([NaN, 1]), 1)).toThrow(/element 0 is NaN/);
  });
  test('topK agrees with a full sort on a long row', () => {
    const x = new Float32Array(1000).map((_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
    const want = Array.from(x.keys()).sort((a, b) => x[b] - x[a] || a - b).slice(0, 10);
    expect(Array.from(topK(x, 10).indices)).toEqual(want);
  });
});
