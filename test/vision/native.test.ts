// nn.vision's kernels (src/kernels/vision.cc) called straight through the
// binding, past lib/vision's checks: each re-checks the shapes, values and
// sizes it relies on and throws a RangeError, never reads or writes memory it
// does not own.
import { NativeTensor, binding } from '../../lib/native';
import { expectNativeThrows } from '../native-errors';

const f = (shape: number[], values?: number[]): NativeTensor => ({ data: values ? Float32Array.from(values) : new Float32Array(Math.max(1, shape.reduce((a, b) => a * b, 1))), shape, dtype: 1 });
const i32 = (shape: number[]): NativeTensor => ({ data: new Int32Array(Math.max(1, shape.reduce((a, b) => a * b, 1))), shape, dtype: 6 });
const call = (name: string, ins: NativeTensor[], outs: NativeTensor[], attrs: Record<string, number | number[] | string>) => () => binding.kernelSync(name, ins, outs, attrs);

test('the vision kernels are registered', () => {
  expect(binding.kernelNames()).toEqual(expect.arrayContaining(['VisionConvertBoxes', 'VisionDecodePriors', 'VisionDecodeGrid', 'VisionNonMaxSuppression']));
});

describe('VisionNonMaxSuppression re-checks', () => {
  const attrs = { iou_threshold: 0.5, score_threshold: -Infinity, class_aware: 0, format: 'xyxy' };
  const nms = (boxes: NativeTensor, scores: NativeTensor, kept = i32([2, 2]), count = i32([1]), a: Record<string, number | string> = attrs) => call('VisionNonMaxSuppression', [boxes, scores], [kept, count], a);
  test('runs: two overlapping boxes, one kept', () => {
    const kept = i32([2, 2]), count = i32([1]);
    nms(f([2, 4], [0, 0, 1, 1, 0, 0, 1, 1]), f([2, 1], [0.5, 0.9]), kept, count)();
    expect(Array.from(count.data as Int32Array)).toEqual([1]);
    expect(Array.from((kept.data as Int32Array).subarray(0, 2))).toEqual([1, 0]);
  });
  test.each([
    ['NaN in boxes', nms(f([1, 4], [0, 0, NaN, 1]), f([1, 1])), /boxes must be finite/],
    ['Infinity in boxes', nms(f([1, 4], [0, 0, Infinity, 1]), f([1, 1])), /boxes must be finite/],
    ['NaN in scores (would break the sort)', nms(f([1, 4]), f([1, 1], [NaN])), /scores must not be NaN/],
    ['row counts', nms(f([2, 4]), f([1, 1])), /boxes and scores must have as many rows/],
    ['box columns', nms(f([1, 3]), f([1, 1])), /boxes must have 4 columns/],
    ['box rank', nms(f([4]), f([1, 1])), /boxes must be a matrix/],
    ['no score column', nms(f([1, 4]), f([1, 0])), /scores must have at least one column/],
    ['kept dtype', nms(f([1, 4]), f([1, 1]), f([1, 2])), /kept must be int32, got float32/],
    ['kept shape', nms(f([1, 4]), f([1, 1]), i32([1, 3])), /kept must be \[K, 2\]/],
    ['count shape', nms(f([1, 4]), f([1, 1]), i32([1, 2]), i32([2])), /output 1 must have shape \[1\]/],
    ['iou_threshold', nms(f([1, 4]), f([1, 1]), i32([1, 2]), i32([1]), { ...attrs, iou_threshold: 1.5 }), /iou_threshold must be in \[0, 1\]/],
    ['score_threshold NaN', nms(f([1, 4]), f([1, 1]), i32([1, 2]), i32([1]), { ...attrs, score_threshold: NaN }), /score_threshold must not be NaN/],
    ['format', nms(f([1, 4]), f([1, 1]), i32([1, 2]), i32([1]), { ...attrs, format: 'yxyx' }), /format must be xyxy, xywh or cxcywh, got "yxyx"/],
    ['a missing attribute', nms(f([1, 4]), f([1, 1]), i32([1, 2]), i32([1]), { iou_threshold: 0.5 }), /attribute "score_threshold" is missing/],
    ['a kept buffer smaller than its shape', call('VisionNonMaxSuppression', [f([1, 4]), f([1, 1])], [{ data: new Int32Array(2), shape: [100, 2], dtype: 6 }, i32([1])], attrs), /data has 8 bytes, int32 shape needs 800/],
  ])('%s', (_, fn, re) => expectNativeThrows(fn, RangeError, re));
});

describe('the decoders re-check', () => {
  test.each([
    ['convert: columns', call('VisionConvertBoxes', [f([2, 2])], [f([2, 4])], { from: 'xyxy', to: 'xywh' }), /boxes must have 4 columns/],
    ['convert: output shape', call('VisionConvertBoxes', [f([2, 4])], [f([1, 4])], { from: 'xyxy', to: 'xywh' }), /output 0 must have shape \[2,4\], got \[1,4\]/],
    ['convert: format', call('VisionConvertBoxes', [f([2, 4])], [f([2, 4])], { from: 'ltrb', to: 'xywh' }), /from must be xyxy, xywh or cxcywh/],
    ['priors: rows', call('VisionDecodePriors', [f([2, 4]), f([3, 4])], [f([2, 4])], { variances: [0.1, 0.2], scale: [1, 1], format: 'xyxy' }), /loc and priors must have as many rows/],
    ['priors: variances', call('VisionDecodePriors', [f([2, 4]), f([2, 4])], [f([2, 4])], { variances: [0, 0.2], scale: [1, 1], format: 'xyxy' }), /variances must be two positive finite numbers/],
    ['priors: scale', call('VisionDecodePriors', [f([2, 4]), f([2, 4])], [f([2, 4])], { variances: [0.1, 0.2], scale: [1], format: 'xyxy' }), /scale must be two finite numbers/],
    ['priors: output dtype', call('VisionDecodePriors', [f([2, 4]), f([2, 4])], [i32([2, 4])], { variances: [0.1, 0.2], scale: [1, 1], format: 'xyxy' }), /output must be float32, got int32/],
    ['grid: cells', call('VisionDecodeGrid', [f([3, 4])], [f([3, 4])], { input_size: [16, 16], strides: [8], mode: 'yolox', offset: 0, format: 'xyxy' }), /pred has 3 rows, the strides make 4 cells/],
    ['grid: row width', call('VisionDecodeGrid', [f([4, 6])], [f([4, 4])], { input_size: [16, 16], strides: [8], mode: 'distance', offset: 0, format: 'xyxy' }), /pred rows of 6 numbers do not fit mode distance/],
    ['grid: yolox bins', call('VisionDecodeGrid', [f([4, 8])], [f([4, 4])], { input_size: [16, 16], strides: [8], mode: 'yolox', offset: 0, format: 'xyxy' }), /do not fit mode yolox/],
    ['grid: stride 0', call('VisionDecodeGrid', [f([4, 4])], [f([4, 4])], { input_size: [16, 16], strides: [0], mode: 'yolox', offset: 0, format: 'xyxy' }), /strides must be positive integers/],
    ['grid: cell count overflow', call('VisionDecodeGrid', [f([4, 4])], [f([4, 4])], { input_size: [2147483647, 2147483647], strides: [1], mode: 'yolox', offset: 0, format: 'xyxy' }), /2\^31 cells or more/],
    ['grid: offset', call('VisionDecodeGrid', [f([4, 4])], [f([4, 4])], { input_size: [16, 16], strides: [8], mode: 'yolox', offset: Infinity, format: 'xyxy' }), /offset must be finite/],
    ['grid: mode', call('VisionDecodeGrid', [f([4, 4])], [f([4, 4])], { input_size: [16, 16], strides: [8], mode: 'anchor', offset: 0, format: 'xyxy' }), /mode must be distance or yolox/],
    ['topK: indices of another dtype', call('TopK', [f([1, 3]), { data: Int32Array.of(1), shape: [1], dtype: 6 }], [f([1, 1]), f([1, 1])], {}), /Indices must be int64, got float32/],
  ])('%s', (_, fn, re) => expectNativeThrows(fn, RangeError, re));
});
