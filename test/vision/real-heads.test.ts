// nn.vision on real detectors' raw heads, from onnxruntime's stored outputs
// (../shared/real-models): NanoDet-m (grid, DFL) on bus.jpg, RetinaFace
// (SSD priors and variances) on selfie.jpg.
import { readFileSync } from 'fs';
import * as path from 'path';
import { vision } from '../../lib/vision';
import { image } from '../../lib/image';
import { tensor } from '../../lib/tensor';

const MODELS = path.resolve(__dirname, '../../../shared/real-models');
const f32 = (model: string, file: string): Float32Array => {
  const b = readFileSync(path.join(MODELS, model, file));
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
  const scores = tensor(cat([0, 1, 2].map((k) => f32('nanodet_m', `output_${k}.f32`))), [cells, 80]);
  const reg = tensor(cat([3, 4, 5].map((k) => f32('nanodet_m', `output_${k}.f32`))), [cells, 32]);
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

test('RetinaFace on selfie.jpg: its priors (ssdPriors, stride centres) and decodePriors find the faces', () => {
  // outputs: loc [1, 16800, 4], conf [1, 16800, 2] (softmaxed: background, face), landmarks
  const loc = tensor(f32('retinaface_qdq', 'output_0.f32'), [1, 16800, 4]);
  const conf = f32('retinaface_qdq', 'output_1.f32');
  const priors = vision.ssdPriors({ inputSize: [640, 640], strides: [8, 16, 32], minSizes: [[16, 32], [64, 128], [256, 512]] });
  expect(priors.shape).toEqual([16800, 4]);
  const boxes = vision.decodePriors(loc, priors, { variances: [0.1, 0.2] });
  const face = new Float32Array(16800);
  for (let i = 0; i < 16800; i++) face[i] = conf[2 * i + 1];
  const dets = vision.nms(boxes, face, { iouThreshold: 0.4, scoreThreshold: 0.5 });
  // the input was selfie.jpg (2048×1150) stretched to 640×640
  const { transform } = image.fromPixels(new Uint8Array(2048 * 1150 * 3), 2048, 1150, 3, { size: [640, 640] });
  const faces = dets.map((d) => transform.boxToOriginal(d.box, { normalized: true }));
  expect(faces.length).toBeGreaterThanOrEqual(25);
  for (const [x1, y1, x2, y2] of faces) {
    expect(x2 - x1).toBeGreaterThan(10);
    expect(x2 - x1).toBeLessThan(300); // faces, not decoding garbage
    expect(y2 - y1).toBeLessThan(300);
  }
  // the three large faces in front (centres read off the photo), each in exactly one box
  for (const [x, y] of [[1200, 960], [1345, 835], [1500, 850]]) {
    expect(faces.filter(([x1, y1, x2, y2]) => x1 < x && x < x2 && y1 < y && y < y2)).toHaveLength(1);
  }
});
