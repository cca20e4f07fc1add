import fc from 'fast-check';
import { vision } from '../../lib/vision';
import { tensor } from '../../lib/tensor';

const { nms } = vision;
const t = (rows: number[][]): ReturnType<typeof tensor> => tensor(Float32Array.from(rows.flat()), [rows.length, rows[0].length]);

describe('nms: hand-checked cases', () => {
  // Box 0 and 1 overlap with IoU 81/119 ≈ 0.68; box 2 is apart; box 3 overlaps box 2 by IoU 1/7.
  const boxes = t([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30], [25, 20, 35, 30]]);
  test('suppresses the lower-scored of two overlapping boxes, keeps disjoint ones, best first', () => {
    const d = nms(boxes, new Float32Array([0.9, 0.8, 0.7, 0.6]), { iouThreshold: 0.5 });
    expect(d.map((x) => x.index)).toEqual([0, 2, 3]);
    expect(d[0]).toEqual({ index: 0, classId: 0, score: expect.closeTo(0.9, 6), box: [0, 0, 10, 10] });
  });
  test('iouThreshold is strict: a box with IoU exactly at the threshold survives', () => {
    // boxes 2 and 3: intersection 5*10 = 50, union 150: IoU 1/3
    const pair = t([[20, 20, 30, 30], [25, 20, 35, 30]]);
    expect(nms(pair, new Float32Array([1, 0.5]), { iouThreshold: 1 / 3 + 1e-7 }).length).toBe(2);
    expect(nms(pair, new Float32Array([1, 0.5]), { iouThreshold: 0.3 }).map((x) => x.index)).toEqual([0]);
  });
  test('scoreThreshold drops candidates before suppression; maxDetections caps the result', () => {
    const s = new Float32Array([0.9, 0.8, 0.7, 0.6]);
    expect(nms(boxes, s, { scoreThreshold: 0.75, iouThreshold: 0.9 }).map((x) => x.index)).toEqual([0, 1]);
    expect(nms(boxes, s, { maxDetections: 2 }).map((x) => x.index)).toEqual([0, 2]);
    expect(nms(boxes, s, { maxDetections: 0 })).toEqual([]);
  });
  test('equal scores: the lower index wins', () => {
    expect(nms(t([[0, 0, 2, 2], [0, 0, 2, 2]]), new Float32Array([0.5, 0.5])).map((x) => x.index)).toEqual([0]);
  });
  test('[N, C] scores: best class per box, suppressed across classes unless classAware', () => {
    const two = t([[0, 0, 10, 10], [0, 0, 10, 9]]); // IoU 0.9
    const s = t([[0.9, 0.1], [0.2, 0.8]]);
    expect(nms(two, s).map((x) => [x.index, x.classId])).toEqual([[0, 0]]);
    const aware = nms(two, s, { classAware: true });
    // class 0: box 0 (0.9) suppresses box 1 (0.2); class 1: box 1 (0.8) suppresses box 0 (0.1)
    expect(aware.map((x) => [x.index, x.classId])).toEqual([[0, 0], [1, 1]]);
    expect(aware[1].score).toBeCloseTo(0.8, 6);
  });
  test('cxcywh input is converted, detections are xyxy; [1, N, 4] model outputs accepted', () => {
    const d = nms(tensor(new Float32Array([5, 5, 4, 2]), [1, 1, 4]), tensor(new Float32Array([1]), [1, 1]), { format: 'cxcywh' });
    expect(d[0].box).toEqual([3, 4, 7, 6]);
  });
  test('zero-area and disjoint boxes never suppress', () => {
    expect(nms(t([[0, 0, 0, 0], [0, 0, 0, 0]]), new Float32Array([1, 1])).length).toBe(2);
  });
});

describe('nms: argument errors', () => {
  const b = t([[0, 0, 1, 1]]);
  const s = new Float32Array([1]);
  test.each([
    [() => nms(new Float32Array([1, 2, 3]), s), RangeError, /"boxes" has 3 elements, not a multiple of 4/],
    [() => nms(t([[0, 0, 1]]), s), RangeError, /"boxes" must be \[N, 4\], got \[1,3\]/],
    [() => nms(b, new Float32Array([1, 2])), RangeError, /"scores" has 2 rows, "boxes" has 1/],
    [() => nms([0, 0, 1, 1] as never, s), TypeError, /nms: expected "boxes" to be a float32 Tensor, received Array/],
    [() => nms(b, s, { iouThreshold: 2 }), RangeError, /"iouThreshold" must be a number in \[0, 1\], got 2/],
    [() => nms(b, s, { iouThreshold: '0.5' as never }), TypeError, /expected "iouThreshold" to be a number, received string/],
    [() => nms(b, s, { maxDetections: 1.5 }), RangeError, /"maxDetections" must be an integer/],
    [() => nms(b, s, { iou: 0.5 } as never), TypeError, /unknown option "iou"/],
    [() => nms(b, s, { format: 'yxyx' as never }), RangeError, /"format" must be 'xyxy' or 'xywh' or 'cxcywh'/],
    [() => nms(t([[0, 0, NaN, 1]]), s), RangeError, /"boxes" element 2 is NaN/],
    [() => nms(b, new Float32Array([NaN])), RangeError, /"scores" element 0 is NaN/],
    [() => nms(tensor(new Float32Array(8), [2, 1, 4]), new Float32Array(2)), RangeError, /leading dims of 1/],
    // finite, but not as xyxy: found by the kernel, reported under nms's name
    [() => nms(new Float32Array([3e38, 0, -3e38, 1]), s, { format: 'cxcywh' }), RangeError, /^nms: boxes overflow float32 when converted to xyxy$/],
    [() => nms(t([[0, 0, Infinity, 1]]), s), RangeError, /"boxes" element 2 is Infinity; finite numbers expected/],
  ])('argument case %#', (f, E, re) => {
    expect(f).toThrow(E);
    expect(f).toThrow(re);
  });
});

/** The textbook NMS: repeatedly take the best remaining box, drop all it overlaps; all pairs' IoUs up front. */
function naiveNms(boxes: number[][], scores: number[], iouThreshold: number, scoreThreshold: number): number[] {
  const iouOf = (a: number[], b: number[]): number => {
    const f = Float32Array.from([...a, ...b]);
    const iw = Math.min(f[2], f[6]) - Math.max(f[0], f[4]);
    const ih = Math.min(f[3], f[7]) - Math.max(f[1], f[5]);
    if (iw <= 0 || ih <= 0) return 0;
    const inter = iw * ih;
    const union = Math.max(0, f[2] - f[0]) * Math.max(0, f[3] - f[1]) + Math.max(0, f[6] - f[4]) * Math.max(0, f[7] - f[5]) - inter;
    return union > 0 ? inter / union : 0;
  };
  const table = boxes.map((a) => boxes.map((b) => iouOf(a, b)));
  const f32 = Float32Array.from(scores);
  const alive = new Set(scores.map((_, i) => i).filter((i) => f32[i] >= scoreThreshold));
  const kept: number[] = [];
  while (alive.size > 0) {
    let best = -1;
    for (const i of alive) if (best < 0 || f32[i] > f32[best] || (f32[i] === f32[best] && i < best)) best = i;
    kept.push(best);
    for (const i of [...alive]) if (i === best || table[best][i] > iouThreshold) alive.delete(i);
  }
  return kept;
}

describe('nms: property, against the naive O(N^2) NMS', () => {
  const coord = fc.integer({ min: 0, max: 40 });
  const box = fc.tuple(coord, coord, fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 }))
    .map(([x, y, w, h]) => [x, y, x + w, y + h]);
  test('same kept indices for random boxes, scores (with ties) and thresholds', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(box, fc.integer({ min: 0, max: 10 }).map((v) => v / 10)), { minLength: 1, maxLength: 60 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (rows, iouThreshold, scoreThreshold) => {
        const boxes = rows.map((r) => r[0]);
        const scores = rows.map((r) => r[1]);
        const got = nms(Float32Array.from(boxes.flat()), Float32Array.from(scores), { iouThreshold, scoreThreshold });
        expect(got.map((d) => d.index)).toEqual(naiveNms(boxes, scores, iouThreshold, scoreThreshold));
      },
    ), { numRuns: 300 });
  });
  test('same result with small and huge boxes mixed (huge ones skip the grid) and empty or inverted boxes', () => {
    const small = fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }))
      .map(([x, y, w, h]) => [x, y, x + w, y + h]);
    const huge = fc.tuple(fc.integer({ min: -50, max: 300 }), fc.integer({ min: -50, max: 300 }), fc.integer({ min: 50, max: 400 }), fc.integer({ min: 50, max: 400 }))
      .map(([x, y, w, h]) => [x, y, x + w, y + h]);
    const inverted = fc.tuple(coord, coord, coord, coord).map(([a, b, c, d]) => [a + c, b + d, a, b]);
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.oneof({ arbitrary: small, weight: 6 }, { arbitrary: huge, weight: 2 }, { arbitrary: inverted, weight: 1 }), fc.integer({ min: 0, max: 20 }).map((v) => v / 20)), { minLength: 1, maxLength: 150 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (rows, iouThreshold) => {
        const boxes = rows.map((r) => r[0]);
        const scores = rows.map((r) => r[1]);
        const got = nms(Float32Array.from(boxes.flat()), Float32Array.from(scores), { iouThreshold });
        expect(got.map((d) => d.index)).toEqual(naiveNms(boxes, scores, iouThreshold, -Infinity));
      },
    ), { numRuns: 200 });
  });
  test('classAware equals the naive NMS run class by class, merged by score', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(box, fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }))), { minLength: 1, maxLength: 40 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (rows, iouThreshold) => {
        const boxes = rows.map((r) => r[0]);
        const scores = rows.map((r) => r[1].map((v) => v / 10));
        const got = nms(Float32Array.from(boxes.flat()), tensor(Float32Array.from(scores.flat()), [rows.length, 3]), { iouThreshold, classAware: true });
        const want: [number, number, number][] = [];
        for (let c = 0; c < 3; c++) {
          const sc = scores.map((s) => s[c]);
          for (const i of naiveNms(boxes, sc, iouThreshold, -Infinity)) want.push([Math.fround(sc[i]), i, c]);
        }
        want.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
        expect(got.map((d) => [d.index, d.classId])).toEqual(want.map(([, i, c]) => [i, c]));
      },
    ), { numRuns: 200 });
  });
});

/** A box given in `format` as xyxy, as the NMS reads it: the formula in double, then float32. */
function toXyxy(b: number[], format: 'xyxy' | 'xywh' | 'cxcywh'): number[] {
  const [a, c, d, e] = Array.from(Float32Array.from(b));
  const x = format === 'xyxy' ? [a, c, d, e] : format === 'xywh' ? [a, c, a + d, c + e] : [a - d / 2, c - e / 2, a + d / 2, c + e / 2];
  return Array.from(Float32Array.from(x));
}

/** The best class of a row of scores (the first on ties), as `nms` picks it without classAware. */
const bestClass = (row: number[]): number => row.reduce((best, v, k) => (Math.fround(v) > Math.fround(row[best]) ? k : best), 0);

describe('nms: native kernel against the naive NMS, harder inputs', () => {
  // Quarter steps: many exact ties in coordinates, sides of 0, and inverted boxes (negative sides).
  const q = (lo: number, hi: number): fc.Arbitrary<number> => fc.integer({ min: lo * 4, max: hi * 4 }).map((v) => v / 4);
  const anyBox = fc.tuple(q(-30, 30), q(-30, 30), q(-5, 25), q(-5, 25));
  const score = fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 8 }).map((v) => v / 8), weight: 8 },
    { arbitrary: fc.constantFrom(Infinity, -Infinity, 0, -0), weight: 1 },
  );
  const format = fc.constantFrom('xyxy' as const, 'xywh' as const, 'cxcywh' as const);

  test('any format, degenerate and inverted boxes, infinite and tied scores, thresholds, maxDetections', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(anyBox, score), { minLength: 1, maxLength: 80 }),
      format,
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.oneof(fc.constant(undefined), fc.constantFrom(-Infinity, 0, 0.5, 1, Infinity)),
      fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 10 })),
      (rows, fmt, iouThreshold, scoreThreshold, maxDetections) => {
        const given = rows.map((r) => r[0]);
        const scores = rows.map((r) => r[1]);
        const got = nms(Float32Array.from(given.flat()), Float32Array.from(scores), { iouThreshold, scoreThreshold, maxDetections, format: fmt });
        const xyxy = given.map((b) => toXyxy(b, fmt));
        const want = naiveNms(xyxy, scores, iouThreshold, scoreThreshold ?? -Infinity).slice(0, maxDetections ?? Infinity);
        expect(got.map((d) => d.index)).toEqual(want);
        for (const d of got) {
          expect(d.box).toEqual(xyxy[d.index]);
          expect(d.score).toBe(Math.fround(scores[d.index]));
          expect(d.classId).toBe(0);
        }
      },
    ), { numRuns: 300 });
  });

  test('[N, C] scores: classAware (with scoreThreshold and maxDetections) and best-class modes', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 4 }).chain((c) => fc.tuple(
        fc.constant(c),
        fc.array(fc.tuple(anyBox, fc.array(score, { minLength: c, maxLength: c })), { minLength: 1, maxLength: 40 }),
      )),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom(-Infinity, 0.25, 0.5),
      fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 12 })),
      ([c, rows], iouThreshold, scoreThreshold, maxDetections) => {
        const boxes = rows.map((r) => toXyxy(r[0], 'xyxy'));
        const scores = rows.map((r) => r[1]);
        const s = tensor(Float32Array.from(scores.flat()), [rows.length, c]);
        const opts = { iouThreshold, scoreThreshold, maxDetections };
        const aware = nms(Float32Array.from(boxes.flat()), s, { ...opts, classAware: true });
        const want: [number, number, number][] = [];
        for (let k = 0; k < c; k++) {
          const sc = scores.map((r) => r[k]);
          for (const i of naiveNms(boxes, sc, iouThreshold, scoreThreshold)) want.push([Math.fround(sc[i]), i, k]);
        }
        // best first; equal scores (infinities included) by box, then class
        want.sort((a, b) => (a[0] === b[0] ? 0 : b[0] > a[0] ? 1 : -1) || a[1] - b[1] || a[2] - b[2]);
        expect(aware.map((d) => [d.index, d.classId])).toEqual(want.slice(0, maxDetections ?? Infinity).map(([, i, k]) => [i, k]));

        const best = scores.map(bestClass);
        const plain = nms(Float32Array.from(boxes.flat()), s, opts);
        const top = scores.map((r, i) => r[best[i]]);
        expect(plain.map((d) => [d.index, d.classId])).toEqual(naiveNms(boxes, top, iouThreshold, scoreThreshold).slice(0, maxDetections ?? Infinity).map((i) => [i, best[i]]));
      },
    ), { numRuns: 200 });
  });

  /**
   * Greedy NMS comparing each candidate with every kept box: exact, O(N * kept), for inputs too big for
   * the table. (Conditionals, not Math.min/max: those are some 20 times slower in jest's sandbox.)
   */
  function greedyNms(boxes: Float32Array, scores: Float32Array, iouThreshold: number): number[] {
    const order = Array.from(scores.keys()).sort((a, b) => (scores[a] === scores[b] ? a - b : scores[b] - scores[a]));
    const kept: number[] = [];
    for (const i of order) {
      const p = 4 * i;
      const ax1 = boxes[p], ay1 = boxes[p + 1], ax2 = boxes[p + 2], ay2 = boxes[p + 3];
      const areaA = ax2 > ax1 && ay2 > ay1 ? (ax2 - ax1) * (ay2 - ay1) : 0;
      let suppressed = false;
      for (let t = 0; t < kept.length && !suppressed; t++) {
        const q = 4 * kept[t];
        const bx1 = boxes[q], by1 = boxes[q + 1], bx2 = boxes[q + 2], by2 = boxes[q + 3];
        const iw = (ax2 < bx2 ? ax2 : bx2) - (ax1 > bx1 ? ax1 : bx1), ih = (ay2 < by2 ? ay2 : by2) - (ay1 > by1 ? ay1 : by1);
        if (iw <= 0 || ih <= 0) continue;
        const inter = iw * ih;
        const union = areaA + (bx2 > bx1 && by2 > by1 ? (bx2 - bx1) * (by2 - by1) : 0) - inter;
        suppressed = union > 0 && inter / union > iouThreshold;
      }
      if (!suppressed) kept.push(i);
    }
    return kept;
  }

  /** A detector's worth of boxes: RetinaFace's 16,800 priors at 640x640 (or ULFD's 4,420), jittered; scores in 1/64 steps (ties). */
  function detectorBoxes(big: boolean, seed: number): { boxes: Float32Array; scores: Float32Array } {
    let s = seed;
    const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const priors = big
      ? vision.ssdPriors({ inputSize: [640, 640], strides: [8, 16, 32], minSizes: [[16, 32], [64, 128], [256, 512]] })
      : vision.ssdPriors({ inputSize: [240, 320], strides: [8, 16, 32, 64], minSizes: [[10, 16, 24], [32, 48], [64, 96], [128, 192, 256]], clip: true, centers: 'cells' });
    const n = priors.shape[0];
    const loc = new Float32Array(4 * n).map(() => (rand() - 0.5) * 4);
    const boxes = vision.decodePriors(loc, priors, { scaleTo: [640, 640] }).data;
    const scores = new Float32Array(n).map(() => Math.floor(rand() * 64) / 64);
    return { boxes, scores };
  }

  test.each([
    ['4,420 (ULFD)', 0.3],
    ['16,800 (RetinaFace)', 0.3],
    ['16,800 (RetinaFace)', 0.7],
  ])('big n: %s boxes, the exact greedy NMS at IoU %s', (what, iouThreshold) => {
    const big = (what as string).startsWith('16');
    const { boxes, scores } = detectorBoxes(big, 7);
    expect(scores.length).toBe(big ? 16800 : 4420);
    const got = nms(boxes, scores, { iouThreshold: iouThreshold as number });
    expect(got.length).toBeGreaterThan(10);
    expect(got.map((d) => d.index)).toEqual(greedyNms(boxes, scores, iouThreshold as number));
  });

  test('big n, extreme layouts: all boxes equal (one kept), all disjoint (all kept, best first)', () => {
    const n = 16800;
    const same = new Float32Array(4 * n).map((_, i) => [1, 2, 30, 40][i % 4]);
    const scores = new Float32Array(n).map((_, i) => (i * 37) % 101);
    const one = nms(same, scores);
    expect(one.map((d) => d.index)).toEqual([scores.indexOf(100)]); // the first of the best
    const grid = new Float32Array(4 * n).map((_, k) => {
      const i = k >> 2, x = (i % 120) * 3, y = Math.floor(i / 120) * 3;
      return [x, y, x + 2, y + 2][k % 4];
    });
    const all = nms(grid, scores, { iouThreshold: 0 });
    expect(all.length).toBe(n);
    expect(all.map((d) => d.index)).toEqual(Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b));
  });
});
