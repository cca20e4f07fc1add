#!/usr/bin/env node
// @ts-check
// Times the convolution layers of classic CNNs (batch 1, 224×224 input) on each
// backend at 1 and N threads, and reports ms, GFLOP/s and GFLOP/s as a
// fraction of this machine's sgemm peak measured in the same run (the machine
// is shared and noisy, so only same-run ratios mean anything).
// Each layer runs as a one-conv model, as it would inside a loaded network:
// weights packed or transformed once (NNPACK's kernel transforms precomputed),
// then timed. nnpack gets one row per algorithm that can run the layer; auto's
// row says what it picked. GFLOP/s counts a direct convolution's
// multiply-adds, so Winograd/FFT rows can pass the sgemm peak.
// A benchmark, not a test.
//
//   npm run bench:layers [-- --quick] [--models vgg16,resnet50] [--backends openblas,openblas-dl] [--reference]
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const nn = require('../dist');
const { OnnxGraphBuilder, attr } = require('../dist/onnx/export');
const { readPiModel, piPeak, describePeak, peakFraction } = require('./pi');

const args = process.argv.slice(2);
const argOf = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const seconds = Number(argOf('--seconds') ?? (quick ? 0.1 : 0.3));
const jsonOut = argOf('--json') ?? path.join(process.cwd(), 'neonn-bench', 'layers.json');

// [name, Cin, H(=W), Cout, k, stride, pad, group]; H is the layer's input size.
/** @type {Record<string, [string, number, number, number, number, number, number, number][]>} */
const MODELS = {
  alexnet: [
    ['conv1 11x11/4', 3, 224, 96, 11, 4, 2, 1],
    ['conv2 5x5 g2', 96, 27, 256, 5, 1, 2, 2],
    ['conv3 3x3', 256, 13, 384, 3, 1, 1, 1],
    ['conv4 3x3 g2', 384, 13, 384, 3, 1, 1, 2],
    ['conv5 3x3 g2', 384, 13, 256, 3, 1, 1, 2],
  ],
  vgg16: [
    ['conv1_1', 3, 224, 64, 3, 1, 1, 1],
    ['conv1_2', 64, 224, 64, 3, 1, 1, 1],
    ['conv2_1', 64, 112, 128, 3, 1, 1, 1],
    ['conv2_2', 128, 112, 128, 3, 1, 1, 1],
    ['conv3_1', 128, 56, 256, 3, 1, 1, 1],
    ['conv3_2', 256, 56, 256, 3, 1, 1, 1],
    ['conv4_1', 256, 28, 512, 3, 1, 1, 1],
    ['conv4_2', 512, 28, 512, 3, 1, 1, 1],
    ['conv5_1', 512, 14, 512, 3, 1, 1, 1],
  ],
  googlenet: [
    ['conv1 7x7/2', 3, 224, 64, 7, 2, 3, 1],
    ['conv2 1x1', 64, 56, 64, 1, 1, 0, 1],
    ['conv2 3x3', 64, 56, 192, 3, 1, 1, 1],
    ['3a 1x1', 192, 28, 64, 1, 1, 0, 1],
    ['3a 3x3', 96, 28, 128, 3, 1, 1, 1],
    ['3a 5x5', 16, 28, 32, 5, 1, 2, 1],
    ['4a 1x1', 480, 14, 192, 1, 1, 0, 1],
    ['4a 3x3', 96, 14, 208, 3, 1, 1, 1],
    ['5b 1x1', 832, 7, 384, 1, 1, 0, 1],
    ['5b 3x3', 192, 7, 384, 3, 1, 1, 1],
  ],
  squeezenet: [
    ['conv1 3x3/2', 3, 224, 64, 3, 2, 0, 1],
    ['fire2 squeeze', 64, 55, 16, 1, 1, 0, 1],
    ['fire2 expand1x1', 16, 55, 64, 1, 1, 0, 1],
    ['fire2 expand3x3', 16, 55, 64, 3, 1, 1, 1],
    ['fire4 expand3x3', 32, 27, 128, 3, 1, 1, 1],
    ['fire8 expand3x3', 64, 13, 256, 3, 1, 1, 1],
    ['conv10 1x1', 512, 13, 1000, 1, 1, 0, 1],
  ],
  resnet50: [
    ['conv1 7x7/2', 3, 224, 64, 7, 2, 3, 1],
    ['layer1 1x1 reduce', 256, 56, 64, 1, 1, 0, 1],
    ['layer1 3x3', 64, 56, 64, 3, 1, 1, 1],
    ['layer1 1x1 expand', 64, 56, 256, 1, 1, 0, 1],
    ['layer2 3x3', 128, 28, 128, 3, 1, 1, 1],
    ['layer3 3x3', 256, 14, 256, 3, 1, 1, 1],
    ['layer3 1x1 expand', 256, 14, 1024, 1, 1, 0, 1],
    ['layer4 3x3', 512, 7, 512, 3, 1, 1, 1],
    ['layer4 1x1 expand', 512, 7, 2048, 1, 1, 0, 1],
  ],
};

const modelNames = (argOf('--models') ?? Object.keys(MODELS).join(',')).split(',');
for (const m of modelNames) if (!MODELS[m]) throw new RangeError(`unknown model ${m}; known: ${Object.keys(MODELS).join(', ')}`);
const available = nn.backends().filter((b) => b.available).map((b) => b.name);
const backendNames = (argOf('--backends') ?? available.filter((b) => b !== 'reference' || args.includes('--reference')).join(',')).split(',');
const maxThreads = nn.getThreads();
const threadCounts = maxThreads > 1 ? [1, maxThreads] : [1];

function fill(n, seed) {
  const d = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    d[i] = (s / 2 ** 32 - 0.5) * 0.1;
  }
  return d;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeIt(fn) {
  fn();
  const times = [];
  const start = process.hrtime.bigint();
  while (times.length < 3 || (Number(process.hrtime.bigint() - start) / 1e9 < seconds && times.length < 1000)) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

const NNPACK_ALGORITHMS = ['wt8x8', 'ft8x8', 'ft16x16', 'implicit_gemm', 'direct'];

/** A one-Conv ONNX model (node "conv") with the given weights. */
function convModel(x, w, bias, s, p, g) {
  const b = new OnnxGraphBuilder('layer');
  const input = b.addInput('x', x.shape);
  const wn = b.addInitializer('w', w.data, w.shape);
  const bn = b.addInitializer('b', bias.data, bias.shape);
  const y = b.addNode('Conv', [input, wn, bn], { strides: attr.ints([s, s]), pads: attr.ints([p, p, p, p]), group: attr.int(g) }, ['y']);
  b.addOutput(y, [1, w.shape[0], Math.floor((x.shape[2] + 2 * p - w.shape[2]) / s) + 1, Math.floor((x.shape[3] + 2 * p - w.shape[3]) / s) + 1]);
  return b.toBytes();
}

/**
 * Loads `bytes` on the active backend (pinning `algorithm` unless it is
 * undefined), times runSync and reports the layer's algorithm and backend.
 * Undefined when that algorithm cannot run the layer here.
 */
function timeLayer(bytes, x, algorithm) {
  let m;
  try {
    m = nn.loadOnnxSync(bytes, algorithm ? { algorithms: { Conv_0: algorithm } } : undefined);
    m.runSync({ x });
  } catch (e) {
    m?.dispose();
    if (algorithm && e instanceof RangeError) return undefined;
    throw e;
  }
  const ms = timeIt(() => m.runSync({ x }));
  const layer = m.layers().find((l) => l.kernels.includes('conv2d'));
  m.dispose();
  return { ms, algorithm: layer?.algorithm ?? '?', servedBy: layer?.backend ?? '?' };
}

/** Best sgemm GFLOP/s of the OpenBLAS builds at `threads`: the peak layers are measured against. */
function sgemmPeak(threads) {
  const n = quick ? 512 : 1024;
  const a = nn.tensor(fill(n * n, 1), [n, n]);
  const out = nn.tensor(new Float32Array(n * n), [n, n]);
  let best = 0;
  for (const b of available.filter((x) => x.startsWith('openblas'))) {
    nn.setBackend(b);
    nn.setThreads(threads);
    for (let r = 0; r < 2; r++) best = Math.max(best, (2 * n ** 3) / (timeIt(() => nn.gemm(a, a, { out })) * 1e6));
  }
  return best;
}

function main() {
  if (typeof nn.conv2d !== 'function') {
    console.error('bench:layers needs nn.conv2d, which this build does not have yet');
    process.exit(1);
  }
  console.log(`neonn conv layer benchmark — ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, batch 1`);
  const peaks = Object.fromEntries(threadCounts.map((t) => [t, sgemmPeak(t)]));
  console.log(`sgemm peak (best OpenBLAS build, ${quick ? 512 : 1024}³): ${threadCounts.map((t) => `${peaks[t].toFixed(1)} GFLOP/s at ${t} thread${t > 1 ? 's' : ''}`).join(', ')}`);
  const pi = piPeak(readPiModel());
  if (pi) console.log(`${describePeak(pi)}; "% of Pi peak" is against the cores in use`);
  console.log('');
  const rows = [];
  console.log(`| model | layer | x | w | backend | threads | ms | GFLOP/s | % of sgemm peak |${pi ? ' % of Pi peak |' : ''}`);
  console.log(`|---|---|---|---|---|---|---|---|---|${pi ? '---|' : ''}`);
  for (const model of modelNames) {
    for (const [layer, cin, hw, cout, k, s, p, g] of MODELS[model]) {
      const x = nn.tensor(fill(cin * hw * hw, 2), [1, cin, hw, hw]);
      const w = nn.tensor(fill(cout * (cin / g) * k * k, 3), [cout, cin / g, k, k]);
      const bias = nn.tensor(fill(cout, 4), [cout]);
      const oh = Math.floor((hw + 2 * p - k) / s) + 1;
      const flops = 2 * cout * (cin / g) * k * k * oh * oh;
      const bytes = convModel(x, w, bias, s, p, g);
      for (const backend of backendNames) {
        nn.setBackend(backend);
        for (const pin of backend === 'nnpack' ? NNPACK_ALGORITHMS : [undefined]) {
          for (const threads of threadCounts) {
            nn.setThreads(threads);
            const t = timeLayer(bytes, x, pin);
            if (t === undefined) break; // this algorithm cannot run the layer
            const { ms, algorithm, servedBy } = t;
            const gflops = flops / (ms * 1e6);
            const row = { model, layer, x: [1, cin, hw, hw], w: [cout, cin / g, k, k], stride: s, pad: p, group: g, backend, servedBy, algorithm, threads, ms, gflops, peakFraction: gflops / peaks[threads], ...(pi ? { piPeakFraction: peakFraction(pi, gflops, threads) } : {}) };
            rows.push(row);
            const ofPi = row.piPeakFraction !== undefined ? ` ${(row.piPeakFraction * 100).toFixed(0)}% |` : '';
            const how = backend === servedBy ? algorithm : `${servedBy}/${algorithm}`;
            console.log(`| ${model} | ${layer} | [1,${cin},${hw},${hw}] | [${cout},${cin / g},${k},${k}]${s > 1 ? ` s${s}` : ''}${g > 1 ? ` g${g}` : ''} | ${backend} (${how}) | ${threads} | ${ms.toFixed(2)} | ${gflops.toFixed(1)} | ${(row.peakFraction * 100).toFixed(0)}% |${ofPi}`);
          }
        }
      }
    }
  }
  nn.setThreads(maxThreads);
  // The targets: every VGG-16 layer at >= 80% of peak at 1 thread on the best OpenBLAS build;
  // 2 threads >= 1.8x 1 thread on VGG-16's layers.
  const vgg = rows.filter((r) => r.model === 'vgg16' && r.backend.startsWith('openblas'));
  if (vgg.length) {
    const layers = [...new Set(vgg.map((r) => r.layer))];
    const best1 = layers.map((l) => Math.max(...vgg.filter((r) => r.layer === l && r.threads === 1).map((r) => r.peakFraction)));
    const below = layers.filter((_, i) => best1[i] < 0.8);
    console.log(`\nVGG-16, best OpenBLAS build, 1 thread: ${layers.length - below.length}/${layers.length} layers ≥ 80% of sgemm peak${below.length ? ` (below: ${below.join(', ')})` : ''}`);
    if (threadCounts.length > 1) {
      const speedups = layers.map((l) => {
        const t1 = Math.min(...vgg.filter((r) => r.layer === l && r.threads === 1).map((r) => r.ms));
        const tn = Math.min(...vgg.filter((r) => r.layer === l && r.threads === maxThreads).map((r) => r.ms));
        return t1 / tn;
      });
      console.log(`VGG-16, ${maxThreads} threads vs 1: median speed-up ${median(speedups).toFixed(2)}× (target ≥ 1.8×; sgemm itself: ${(peaks[maxThreads] / peaks[1]).toFixed(2)}× here)`);
    }
  }
  // Issue #5's target: Winograd >= 1.5x the best im2col path on VGG's 3x3 layers with >= 64 channels.
  const bestOf = (l, t, pred) => Math.min(...rows.filter((r) => r.model === 'vgg16' && r.layer === l && r.threads === t && pred(r)).map((r) => r.ms));
  const wide = [...new Set(rows.filter((r) => r.model === 'vgg16' && r.x[1] >= 64).map((r) => r.layer))];
  if (wide.length && rows.some((r) => r.algorithm === 'wt8x8')) {
    for (const t of threadCounts) {
      const ratios = wide.map((l) => ({ l, r: bestOf(l, t, (r) => r.algorithm === 'im2col') / bestOf(l, t, (r) => r.algorithm === 'wt8x8') }));
      const met = ratios.filter((x) => x.r >= 1.5).length;
      console.log(`VGG-16 3x3 layers with >= 64 channels, ${t} thread${t > 1 ? 's' : ''}: Winograd (nnpack wt8x8) vs best im2col ${ratios.map((x) => `${x.l} ${x.r.toFixed(2)}×`).join(', ')} — ${met}/${ratios.length} ≥ 1.5× (target: all)`);
    }
  }
  const autos = rows.filter((r) => r.backend === 'auto');
  if (autos.length) {
    const picks = {};
    for (const r of autos) picks[`${r.servedBy}/${r.algorithm}`] = (picks[`${r.servedBy}/${r.algorithm}`] ?? 0) + 1;
    console.log(`auto picked: ${Object.entries(picks).map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  }
  fs.mkdirSync(path.dirname(jsonOut), { recursive: true });
  fs.writeFileSync(jsonOut, JSON.stringify({ cpu: os.cpus()[0]?.model, date: new Date().toISOString(), peaks, pi, rows }, null, 2));
  console.log(`JSON: ${path.relative(process.cwd(), jsonOut)}`);
}

main();
