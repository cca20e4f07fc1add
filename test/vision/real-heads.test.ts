// nn.vision on a real detector's raw head: NanoDet-m (416×416, COCO) on
// bus.jpg, from onnxruntime's stored outputs (../shared/real-models/nanodet_m).
import { readFileSync } from 'fs';
import * as path from 'path';
import { vision } from '../../lib/vision';
import { image } from '../../lib/image';
import { tensor } from '../../lib/tensor';

const DIR = path.resolve(__dirname, '../../../shared/real-models/nanodet_m');
const f32 = (file: string): Float32Array => {
  const b = readFileSync(path.join(DIR, file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
function cat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

test('NanoDet-m on bus.jpg: DFL grid decoding + class-aware NMS find the bus and the four people', () => {
  // outputs in session order: class scores (sigmoid) at strides 8, 16, 32, then box distributions (4 sides x 8 bins)
  const cells = 52 * 52 + 26 * 26 + 13 * 13;
  const scores = tensor(cat([0, 1, 2].map((k) => f32(`output_${k}.f32`))), [cells, 80]);
  const reg = tensor(cat([3, 4, 5].map((k) => f32(`output_${k}.f32`))), [cells, 32]);
  const boxes = vision.decodeGrid(reg, { inputSize: [416, 416], strides: [8, 16, 32], mode: 'distance', offset: 0.5 });
  const dets = vision.nms(boxes, scores, { iouThreshold: 0.6, scoreThreshold: 0.35, classAware: true });
  // the input was bus.jpg (810×1080) stretched to 416×416
  const { transform } = image.fromPixels(new Uint8Array(810 * 1080 * 3), 810, 1080, 3, { size: [416, 416] });
  const found = dets.map((d) => ({ cls: d.classId, box: transform.boxToOriginal(d.box) }));
  expect(found.map((d) => d.cls).sort()).toEqual([0, 0, 0, 0, 5]); // COCO: 0 person, 5 bus
  const contains = (b: number[], [x, y]: number[]): boolean => b[0] < x && x < b[2] && b[1] < y && y < b[3];
  // points on each one, read off the photo: the bus's side, the man in the beige coat, the man in black,
  // the person cut off at the right edge, the one at the left edge
  expect(contains(found.find((d) => d.cls === 5)!.box, [450, 480])).toBe(true);
  const people = found.filter((d) => d.cls === 0).map((d) => d.box);
  for (const p of [[130, 650], [290, 600], [760, 650], [25, 700]]) {
    expect(people.filter((b) => contains(b, p))).toHaveLength(1);
  }
  for (const b of people) expect(b[2] - b[0]).toBeLessThan(260); // one person each, not the group
});
