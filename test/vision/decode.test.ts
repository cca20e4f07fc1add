import fc from 'fast-check';
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
    expect(() => decodePriors(new Float32Array(0), new Float32Array(0))).toThrow(/decodePriors: "loc" holds no box/);
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

// The native kernels against straightforward JS oracles: the documented formulas in double, rounded to float32.

type Fmt = 'xyxy' | 'xywh' | 'cxcywh';
const FMTS: Fmt[] = ['xyxy', 'xywh', 'cxcywh'];
const f32 = (xs: number[]): number[] => Array.from(Float32Array.from(xs));
const toXyxy = (b: number[], f: Fmt): number[] => f32(f === 'xyxy' ? b : f === 'xywh' ? [b[0], b[1], b[0] + b[2], b[1] + b[3]] : [b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2]);
const fromXyxy = (b: number[], f: Fmt): number[] => f32(f === 'xyxy' ? b : f === 'xywh' ? [b[0], b[1], b[2] - b[0], b[3] - b[1]] : [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]]);
/** Equal up to exp's last bit (glibc's and V8's exp may differ there): relative 1e-6. */
function expectClose(got: ArrayLike<number>, want: number[]): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i], g = got[i];
    if (!Number.isFinite(w)) expect(g).toBe(w);
    else expect(Math.abs(g - w)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(w)));
  }
}
const rows4 = (n: number, lo: number, hi: number): fc.Arbitrary<number[]> => fc.array(fc.float({ min: lo, max: hi, noNaN: true }), { minLength: 4 * n, maxLength: 4 * n });

describe('native decoders against JS oracles', () => {
  test('convertBoxes: every pair of formats, exactly', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 30 }).chain((n) => rows4(n, -1e4, 1e4)), fc.constantFrom(...FMTS), fc.constantFrom(...FMTS), (flat, from, to) => {
      const data = Float32Array.from(flat);
      const want: number[] = [];
      for (let i = 0; i < data.length; i += 4) want.push(...fromXyxy(toXyxy(Array.from(data.subarray(i, i + 4)), from), to));
      expect(arr(convertBoxes(data, from, to))).toEqual(want);
    }), { numRuns: 100 });
  });

  test('decodePriors: variances, scaleTo and format', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 30 }).chain((n) => fc.tuple(rows4(n, -3, 3), rows4(n, 0, 1))),
      fc.tuple(fc.double({ min: 0.01, max: 1, noNaN: true }), fc.double({ min: 0.01, max: 1, noNaN: true })),
      fc.oneof(fc.constant(undefined), fc.tuple(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 2000 }))),
      fc.constantFrom(...FMTS),
      ([loc, pri], variances, scaleTo, format) => {
        const a = Float32Array.from(loc), q = Float32Array.from(pri);
        const [sh, sw] = scaleTo ?? [1, 1];
        const want: number[] = [];
        for (let j = 0; j < a.length; j += 4) {
          const cx = q[j] + a[j] * variances[0] * q[j + 2], cy = q[j + 1] + a[j + 1] * variances[0] * q[j + 3];
          const w = q[j + 2] * Math.exp(a[j + 2] * variances[1]), h = q[j + 3] * Math.exp(a[j + 3] * variances[1]);
          want.push(...fromXyxy(f32([(cx - w / 2) * sw, (cy - h / 2) * sh, (cx + w / 2) * sw, (cy + h / 2) * sh]), format));
        }
        const got = decodePriors(tensor(a, [1, a.length / 4, 4]), q, { variances, scaleTo, format });
        expect(got.shape).toEqual([a.length / 4, 4]);
        expectClose(got.data, want);
      },
    ), { numRuns: 100 });
  });

  test('decodeGrid: distance (1 or more bins) and yolox, several strides, offsets and formats', () => {
    fc.assert(fc.property(
      fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 })),
      fc.uniqueArray(fc.constantFrom(4, 8, 16, 32), { minLength: 1, maxLength: 3 }),
      fc.constantFrom('distance' as const, 'yolox' as const),
      fc.integer({ min: 1, max: 8 }),
      fc.constantFrom(0, 0.5),
      fc.constantFrom(...FMTS),
      fc.integer({ min: 1, max: 1 << 30 }),
      ([h, w], strides, mode, binsWanted, offset, format, seed) => {
        const bins = mode === 'yolox' ? 1 : binsWanted;
        const cells = strides.reduce((n, s) => n + Math.ceil(h / s) * Math.ceil(w / s), 0);
        let r = seed;
        const pred = new Float32Array(cells * 4 * bins).map(() => ((r = (Math.imul(r, 48271) >>> 0) % 2147483647) / 2147483647) * 6 - 3);
        const want: number[] = [];
        let row = 0;
        for (const s of strides) {
          for (let y = 0; y < Math.ceil(h / s); y++) {
            for (let x = 0; x < Math.ceil(w / s); x++, row++) {
              const p = pred.subarray(row * 4 * bins, (row + 1) * 4 * bins);
              const px = (x + offset) * s, py = (y + offset) * s;
              let box: number[];
              if (mode === 'yolox') {
                const cx = px + p[0] * s, cy = py + p[1] * s, bw = Math.exp(p[2]) * s, bh = Math.exp(p[3]) * s;
                box = [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2];
              } else {
                const side = [0, 1, 2, 3].map((k) => {
                  if (bins === 1) return p[k];
                  const l = Array.from(p.subarray(k * bins, (k + 1) * bins));
                  const m = Math.max(...l);
                  const e = l.map((v) => Math.exp(v - m));
                  return e.reduce((acc, v, i) => acc + v * i, 0) / e.reduce((acc, v) => acc + v, 0);
                });
                box = [px - side[0] * s, py - side[1] * s, px + side[2] * s, py + side[3] * s];
              }
              want.push(...fromXyxy(f32(box), format));
            }
          }
        }
        const got = decodeGrid(bins === 1 ? pred : tensor(pred, [cells, 4 * bins]), { inputSize: [h, w], strides, mode, offset, format });
        expect(got.shape).toEqual([cells, 4]);
        expectClose(got.data, want);
      },
    ), { numRuns: 60 });
  });

  test('softmax along each axis of random shapes', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }).chain((shape) => fc.tuple(
        fc.constant(shape),
        fc.array(fc.float({ min: -50, max: 50, noNaN: true }), { minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) }),
        fc.integer({ min: -shape.length, max: shape.length - 1 }),
      )),
      ([shape, values, axis]) => {
        const x = Float32Array.from(values);
        const a = axis < 0 ? axis + shape.length : axis;
        const inner = shape.slice(a + 1).reduce((p, d) => p * d, 1), n = shape[a];
        const want = new Array<number>(x.length);
        for (let base = 0; base < x.length; base++) {
          if (Math.floor(base / inner) % n !== 0) continue; // the first element of a line along the axis
          const line = Array.from({ length: n }, (_, i) => base + i * inner);
          const m = Math.max(...line.map((i) => x[i]));
          const sum = line.reduce((acc, i) => acc + Math.exp(x[i] - m), 0);
          for (const i of line) want[i] = Math.exp(x[i] - m) / sum;
        }
        const got = softmax(tensor(x, shape), axis);
        expect(got.shape).toEqual(shape);
        expectClose(got.data, f32(want));
      },
    ), { numRuns: 100 });
  });

  test('topK: rows of a [..., n] tensor with ties and infinities, against a full stable sort', () => {
    fc.assert(fc.property(
      fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 40 })).chain(([a, b, n]) => fc.tuple(
        fc.constant([a, b, n]),
        fc.array(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom(Infinity, -Infinity)), { minLength: a * b * n, maxLength: a * b * n }),
        fc.integer({ min: 1, max: n }),
      )),
      ([shape, values, k]) => {
        const x = Float32Array.from(values);
        const n = shape[2];
        const { values: v, indices } = topK(tensor(x, shape), k);
        expect(v.shape).toEqual([shape[0], shape[1], k]);
        for (let r = 0; r < x.length / n; r++) {
          const row = x.subarray(r * n, (r + 1) * n);
          const want = Array.from(row.keys()).sort((i, j) => (row[i] === row[j] ? i - j : row[j] > row[i] ? 1 : -1)).slice(0, k);
          expect(Array.from(indices.subarray(r * k, (r + 1) * k))).toEqual(want);
          expect(Array.from(v.data.subarray(r * k, (r + 1) * k))).toEqual(want.map((i) => row[i]));
        }
      },
    ), { numRuns: 150 });
  });

  test('scalars and flat arrays keep their documented shapes', () => {
    expect(softmax(tensor(new Float32Array([3]), [])).data[0]).toBe(1);
    expect(softmax(new Float32Array([1, 1])).shape).toEqual([2]);
    const t1 = topK(tensor(new Float32Array([7]), []), 1);
    expect(t1.values.shape).toEqual([1]);
    expect(Array.from(t1.indices)).toEqual([0]);
    expect(vision.nms(new Float32Array(0), new Float32Array(0))).toEqual([]);
  });

  test('bad input: RangeError/TypeError before any native work', () => {
    expect(() => decodeGrid(tensor(new Float32Array(24), [4, 6]), { inputSize: [8, 8], strides: [4], mode: 'distance' })).toThrow(/rows of 6 numbers do not fit mode 'distance'/);
    expect(() => decodePriors(new Float32Array([NaN, 0, 0, 0]), new Float32Array(4))).toThrow(/"loc" element 0 is NaN/);
    expect(() => decodePriors(new Float32Array(4), new Float32Array([0, 0, Infinity, 1]))).toThrow(/"priors" element 2 is Infinity; finite numbers expected/);
    expect(() => decodeGrid(new Float32Array([0, NaN, 0, 0]), { inputSize: [8, 8], strides: [8], mode: 'yolox' })).toThrow(/"pred" element 1 is NaN/);
    expect(() => convertBoxes('boxes' as never, 'xyxy', 'xywh')).toThrow(TypeError);
    expect(() => softmax(tensor(new Float32Array(4), [2, 2]), 1.5)).toThrow(RangeError);
    expect(() => topK(new Float32Array(3), 1.5)).toThrow(/"k" must be an integer in \[1, 3\], got 1.5/);
    expect(() => topK(new Float32Array(3), '2' as never)).toThrow(TypeError);
  });
});
