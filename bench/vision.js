#!/usr/bin/env node
// @ts-check
// nn.vision.nms on a face detector's worth of candidates: ULFD RFB-320's
// 4,420 priors and RetinaFace's 16,800 (640x640), decoded from a fixed
// pseudo-random regression, with uniform scores (in 1/64 steps: ties); and on
// ulfd_rfb320's real output when ../shared/real-models is there.
// Prints the fastest and the median time per case (the fastest is the one to
// compare on a busy machine) and the detections kept, and the decoders' times
// for the same sizes.
//
//   node bench/vision.js [--runs 30] [--from <package dir>]
//
// --from loads nn from another checkout (built), e.g. one before nn.vision
// went native, to compare the two on the same machine.
'use strict';

const fs = require('fs');
const path = require('path');

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

const nn = require(path.resolve(arg('from', path.join(__dirname, '..'))));
const runs = Number(arg('runs', '30'));

const now = () => Number(process.hrtime.bigint()) / 1e6;
/** @param {number[]} xs */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Fastest and median ms of `fn` over `runs` runs after two warm-ups; and its last result. */
function time(fn) {
  let out = fn();
  fn();
  const ms = [];
  for (let r = 0; r < runs; r++) {
    const t0 = now();
    out = fn();
    ms.push(now() - t0);
  }
  return { min: Math.min(...ms), ms: median(ms), out };
}

function detector(name) {
  const priors = name === 'ulfd'
    ? nn.vision.ssdPriors({ inputSize: [240, 320], strides: [8, 16, 32, 64], minSizes: [[10, 16, 24], [32, 48], [64, 96], [128, 192, 256]], clip: true, centers: 'cells' })
    : nn.vision.ssdPriors({ inputSize: [640, 640], strides: [8, 16, 32], minSizes: [[16, 32], [64, 128], [256, 512]] });
  const n = priors.shape[0];
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const loc = nn.tensor(new Float32Array(4 * n).map(() => (rand() - 0.5) * 2), [n, 4]);
  const scores = nn.tensor(new Float32Array(n).map(() => Math.floor(rand() * 64) / 64), [n]);
  return { n, priors, loc, scores };
}

const rows = [];
for (const name of ['ulfd', 'retinaface']) {
  const { n, priors, loc, scores } = detector(name);
  const dec = time(() => nn.vision.decodePriors(loc, priors, { scaleTo: [480, 640] }));
  rows.push({ case: `decodePriors ${n}`, min: dec.min, ms: dec.ms, kept: '' });
  const boxes = dec.out;
  for (const [label, opts] of [
    ['IoU 0.3, unthresholded', { iouThreshold: 0.3 }],
    ['IoU 0.5, unthresholded', { iouThreshold: 0.5 }],
    ['IoU 0.3, score >= 0.5', { iouThreshold: 0.3, scoreThreshold: 0.5 }],
    ['IoU 0.3, top 200', { iouThreshold: 0.3, maxDetections: 200 }],
  ]) {
    const r = time(() => nn.vision.nms(boxes, scores, opts));
    rows.push({ case: `nms ${n}, ${label}`, min: r.min, ms: r.ms, kept: r.out.length });
  }
}
// ulfd_rfb320's real output on the shared photo, when ../shared/real-models is there.
const ulfd = path.join(__dirname, '../../shared/real-models/ulfd_rfb320');
if (fs.existsSync(path.join(ulfd, 'output_1.f32'))) {
  const read = (f) => {
    const b = fs.readFileSync(path.join(ulfd, f));
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  };
  const boxes = read('output_1.f32');
  const faces = read('output_0.f32').filter((_, i) => i % 2 === 1);
  for (const [label, opts] of [
    ['IoU 0.3, score >= 0.7', { iouThreshold: 0.3, scoreThreshold: 0.7 }],
    ['IoU 0.3, unthresholded', { iouThreshold: 0.3 }],
  ]) {
    const r = time(() => nn.vision.nms(boxes, faces, opts));
    rows.push({ case: `nms ulfd_rfb320 output, ${label}`, min: r.min, ms: r.ms, kept: r.out.length });
  }
}
const logits = nn.tensor(new Float32Array(16800 * 2).map((_, i) => Math.sin(i)), [16800, 2]);
rows.push({ case: 'softmax [16800, 2]', ...time(() => nn.vision.softmax(logits)), kept: '' });
const probs = nn.tensor(new Float32Array(1000).map((_, i) => Math.sin(i * 7)), [1, 1000]);
rows.push({ case: 'topK [1, 1000], k 5', ...time(() => nn.vision.topK(probs, 5)), kept: '' });

console.log(`nn.vision from ${arg('from', 'this checkout')}, ${runs} runs: fastest / median ms`);
for (const r of rows) {
  console.log(`${r.case.padEnd(40)} ${r.min.toFixed(3).padStart(8)} / ${r.ms.toFixed(3).padStart(8)}  ${r.kept === '' ? '' : `${r.kept} kept`}`);
}
