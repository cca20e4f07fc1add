#!/usr/bin/env node
// @ts-check
// The write-up's comparison in one command (`npx neonn bench`): every zoo
// model (batch 1, 224×224) on each neonn backend at 1 and N threads, and on
// onnxruntime-node when it is installed, on the very same ONNX bytes. Reports
// load time, median run latency, GFLOP/s (conv + gemm FLOPs counted from the
// ONNX graph), peak RSS and the speed-up vs onnxruntime; writes JSON and an
// SVG bar chart. A benchmark, not a test.
//
// Start-up is measured cold: each neonn pair starts from an empty tuning
// cache (its own NEONN_CACHE_DIR), so its first run pays all of auto's
// measuring, as on a machine that never ran the model; "start" is load plus
// that first run, on both runtimes (ORT's first run sets up its kernels too).
//
// Each runtime × model × backend × threads pair runs in its own child process,
// one at a time, so peak RSS is that pair's alone and neither runtime's idle
// spinning threads disturb the other; a model's neonn pairs run next to its
// onnxruntime pairs, so that the ratios hold up on a machine whose speed drifts.
//
//   npx neonn bench [--quick] [--models squeezenet,resnet50,./my.onnx] [--size HxW] [--backends openblas]
//                   [--reference] [--runs R] [--int8] [--json PATH] [--svg PATH]
//
// --models takes zoo names and paths of .onnx files (the user's own model: its
// float inputs are fed at their declared shapes, a symbolic N as 1 and
// symbolic H, W from --size). --int8 adds, after each zoo model, its int8
// form: the float bytes quantized by nn.quantize (QDQ, per-channel int8
// weights, uint8 activations) on two seeded inputs like the timed one, so the
// fp32 and int8 rows of a model stand side by side, each against
// onnxruntime-node on its own bytes. Results go to ./neonn-bench/ in the
// current directory unless --json / --svg say otherwise.
'use strict';

const fs = require('fs');

/**
 * This process's peak resident set in kilobytes: VmHWM, the high-water mark of its own memory, which a new program
 * starts afresh. (getrusage's maxRSS carries the parent's peak across fork and exec on Linux, so a small model's pair
 * read the bench parent's size, 143 MB here, whatever it used.) maxRSS where /proc is not there.
 */
function peakRss() {
  try {
    const m = /^VmHWM:\s*(\d+)\s*kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS;
}
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { readPiModel, piPeak, describePeak, peakFraction } = require('./pi');

// ---------------------------------------------------------------------------
// Child: one pair, prints one JSON line on stdout.

/** @param {number[]} xs */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

/**
 * The input every pair is timed on (seed 0), and --int8's calibration inputs (seeds 1, 2): values in [-0.5, 0.5).
 * @param {number[]} shape @param {number} seed
 */
function benchInput(shape, seed) {
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < x.length; i++) x[i] = (((i + seed * 7919) * 2654435761) % 1000) / 1000 - 0.5;
  return x;
}

/** Warm-up runs after the first: at least `warmup` in all, and for WARMUP_MS at least (a light model's first
 * dozens of runs still wait on V8 compiling each runtime's JS path; both runtimes get the same).
 * @param {{ warmup: number }} spec @param {() => Promise<unknown>} run */
async function warmUp(spec, run) {
  const until = now() + WARMUP_MS;
  for (let i = 1; i < spec.warmup || now() < until; i++) await run();
}
const WARMUP_MS = 250;

/** @param {{ runtime: 'neonn' | 'ort', file: string, shapes: number[][], backend: string, threads: number, runs: number, warmup: number }} spec */
async function child(spec) {
  const bytes = fs.readFileSync(spec.file);
  const inputs = spec.shapes.map((/** @type {number[]} */ shape) => benchInput(shape, 0));
  const times = [];
  let loadMs;
  let firstMs;
  if (spec.runtime === 'neonn') {
    const nn = require('../dist');
    nn.setBackend(spec.backend);
    nn.setThreads(spec.threads);
    const t0 = now();
    const model = await nn.loadOnnx(bytes);
    loadMs = now() - t0;
    /** @type {Record<string, any>} */
    const feeds = {};
    model.inputNames.forEach((/** @type {string} */ n, /** @type {number} */ i) => (feeds[n] = nn.tensor(inputs[i], spec.shapes[i])));
    const t1 = now();
    await model.run(feeds);
    firstMs = now() - t1;
    await warmUp(spec, () => model.run(feeds));
    for (let i = 0; i < spec.runs; i++) {
      const t = now();
      await model.run(feeds);
      times.push(now() - t);
    }
    model.dispose();
  } else {
    const ort = require('onnxruntime-node');
    const t0 = now();
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: spec.threads, interOpNumThreads: 1 });
    loadMs = now() - t0;
    /** @type {Record<string, any>} */
    const feeds = {};
    session.inputNames.forEach((/** @type {string} */ n, /** @type {number} */ i) => (feeds[n] = new ort.Tensor('float32', inputs[i], spec.shapes[i])));
    const t1 = now();
    await session.run(feeds);
    firstMs = now() - t1;
    await warmUp(spec, () => session.run(feeds));
    for (let i = 0; i < spec.runs; i++) {
      const t = now();
      await session.run(feeds);
      times.push(now() - t);
    }
    await session.release();
  }
  const peakRssMB = peakRss() / 1024;
  process.stdout.write(`${JSON.stringify({ loadMs, firstMs, medianMs: median(times), times, peakRssMB })}\n`);
}

/**
 * --int8: the float file quantized by nn.quantize (QDQ) on two inputs like the timed one, written to `out`.
 * @param {{ file: string, out: string, shape: number[] }} spec
 */
async function quantizeChild(spec) {
  const nn = require('../dist');
  const calibration = [1, 2].map((seed) => nn.tensor(benchInput(spec.shape, seed), spec.shape));
  const { onnx } = await nn.quantize(fs.readFileSync(spec.file), calibration, { format: 'qdq' });
  fs.writeFileSync(spec.out, onnx);
}

// ---------------------------------------------------------------------------
// FLOPs of a model: shapes propagated through the ONNX graph from its input.

/** @param {any} node @param {string} name @param {any} [dflt] */
function attrOf(node, name, dflt) {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  if (!a) return dflt;
  if (a.ints && a.ints.length) return a.ints.map(Number);
  if (a.s && a.s.length) return Buffer.from(a.s).toString();
  return Number(a.i ?? a.f ?? dflt);
}

/**
 * Conv (2·Cout·Cin/g·kH·kW·OH·OW per image) and Gemm/MatMul (2·M·K·N) FLOPs.
 * Every other op passes its first input's shape on, except the few that
 * change it (pools, Concat, Flatten/Reshape).
 * @param {Uint8Array} bytes
 * @param {number[][]} inputShapes  the fed graph inputs' shapes, in order
 */
function countFlops(bytes, inputShapes) {
  const { onnx } = require('onnx-proto');
  const m = onnx.ModelProto.decode(bytes);
  const g = /** @type {any} */ (m.graph);
  /** @type {Map<string, number[]>} */
  const shapes = new Map();
  for (const t of g.initializer ?? []) shapes.set(t.name, (t.dims ?? []).map(Number));
  const fed = (g.input ?? []).filter((/** @type {any} */ i) => !shapes.has(i.name));
  fed.forEach((/** @type {any} */ i, /** @type {number} */ k) => shapes.set(i.name, inputShapes[k]));
  let flops = 0;
  for (const node of g.node ?? []) {
    const ins = (node.input ?? []).map((/** @type {string} */ n) => shapes.get(n));
    const x = ins[0] ?? [];
    let out = x;
    const op = node.opType;
    if (op === 'Conv' || op === 'QLinearConv' || op === 'MaxPool' || op === 'AveragePool') {
      const conv = op === 'Conv' || op === 'QLinearConv';
      // QLinearConv(x, x_scale, x_zp, w, ...): its weights are input 3.
      if (op === 'QLinearConv') ins[1] = ins[3];
      const k = conv ? ins[1].slice(2) : attrOf(node, 'kernel_shape');
      const s = attrOf(node, 'strides', [1, 1]);
      const d = attrOf(node, 'dilations', [1, 1]);
      const p = attrOf(node, 'pads', [0, 0, 0, 0]);
      const autoPad = attrOf(node, 'auto_pad', 'NOTSET');
      const ceil = !conv && attrOf(node, 'ceil_mode', 0) === 1;
      const sp = [0, 1].map((j) => {
        if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(x[2 + j] / s[j]);
        const eff = (k[j] - 1) * d[j] + 1;
        const r = (x[2 + j] + p[j] + p[j + 2] - eff) / s[j];
        return (ceil ? Math.ceil(r) : Math.floor(r)) + 1;
      });
      out = [x[0], conv ? ins[1][0] : x[1], sp[0], sp[1]];
      if (conv) flops += 2 * out[0] * out[1] * ins[1][1] * k[0] * k[1] * sp[0] * sp[1];
    } else if (op === 'GlobalAveragePool' || op === 'GlobalMaxPool') {
      out = [x[0], x[1], 1, 1];
    } else if (op === 'Concat') {
      const axis = attrOf(node, 'axis', 1);
      out = [...x];
      out[axis] = ins.reduce((/** @type {number} */ a, /** @type {number[]} */ t) => a + t[axis], 0);
    } else if (op === 'Flatten' || op === 'Reshape') {
      out = [x[0], x.slice(1).reduce((a, b) => a * b, 1)];
    } else if (op === 'Gemm' || op === 'MatMul' || op === 'QLinearMatMul') {
      const w = op === 'QLinearMatMul' ? ins[3] : ins[1];
      const transB = op === 'Gemm' && attrOf(node, 'transB', 0) === 1;
      const [kk, n] = transB ? [w[1], w[0]] : [w[0], w[1]];
      out = [x[0], n];
      flops += 2 * x[0] * kk * n;
    }
    for (const o of node.output ?? []) shapes.set(o, out);
  }
  return flops;
}

// ---------------------------------------------------------------------------
// Parent.

/** A --models entry that names a file rather than a zoo model. @param {string} m */
function isFile(m) {
  return m.endsWith('.onnx') || m.includes('/');
}

/** `--size HxW` as [H, W], or undefined. @param {string | undefined} v */
function parseSize(v) {
  if (v === undefined) return undefined;
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new RangeError(`--size must be HxW (e.g. 320x320), got ${JSON.stringify(v)}`);
  return [Number(m[1]), Number(m[2])];
}

/**
 * The shapes a user's model is fed at: its declared input dims, a symbolic
 * batch as 1 and symbolic spatial dims (rank-4 inputs) from --size.
 * @param {any} nn @param {Uint8Array} bytes @param {string} file @param {number[] | undefined} size
 */
async function feedShapes(nn, bytes, file, size) {
  const model = await nn.loadOnnx(bytes);
  try {
    return model.inputDims.map((/** @type {(number | string)[]} */ dims, /** @type {number} */ i) => {
      const name = model.inputNames[i];
      if (model.inputDtypes[i] !== 'float32') {
        throw new RangeError(`${file}: input "${name}" is ${model.inputDtypes[i]}; bench feeds float32 inputs only`);
      }
      return dims.map((d, k) => {
        if (typeof d === 'number') return d;
        if (k === 0) return 1;
        if (dims.length === 4 && k >= 2 && size) return size[k - 2];
        throw new RangeError(`${file}: input "${name}" has symbolic dim ${d} (shape [${dims.join(',')}]): give --size HxW`);
      });
    });
  } finally {
    model.dispose();
  }
}


/** @param {number} v */
const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** @param {string} s */
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Horizontal bars, one group per model, one bar per runtime/backend/threads,
 * on a log10 ms axis (the models span three orders of magnitude).
 * @param {{ model: string, label: string, medianMs: number, runtime: string }[]} rows
 */
function svgChart(rows, title) {
  const models = [...new Set(rows.map((r) => r.model))];
  const bar = 16;
  const gap = 4;
  const left = 230;
  const width = 860;
  const plotW = width - left - 70;
  const top = 62;
  const maxMs = Math.max(...rows.map((r) => r.medianMs), 1);
  const minMs = Math.min(...rows.map((r) => r.medianMs), 1);
  const lo = Math.floor(Math.log10(minMs));
  const hi = Math.ceil(Math.log10(maxMs)) + (Math.log10(maxMs) % 1 === 0 ? 1 : 0);
  const xOf = (/** @type {number} */ ms) => left + ((Math.log10(ms) - lo) / (hi - lo)) * plotW;
  const parts = [];
  let y = top;
  for (const model of models) {
    const rs = rows.filter((r) => r.model === model);
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${esc(model)}</text>`);
    y += 18;
    for (const r of rs) {
      const w = Math.max(1, xOf(r.medianMs) - left);
      const colour = r.runtime === 'ort' ? '#d95f02' : '#1b9e77';
      parts.push(`<text x="${left - 6}" y="${y + bar - 4}" text-anchor="end">${esc(r.label)}</text>`);
      parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${colour}"><title>${esc(`${model} ${r.label}: ${fmt(r.medianMs)} ms`)}</title></rect>`);
      parts.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + bar - 4}">${fmt(r.medianMs)} ms</text>`);
      y += bar + gap;
    }
    y += 10;
  }
  const axisY = y;
  const axis = [`<line x1="${left}" y1="${top - 5}" x2="${left}" y2="${axisY}" stroke="#333"/>`, `<line x1="${left}" y1="${axisY}" x2="${left + plotW}" y2="${axisY}" stroke="#333"/>`];
  for (let e = lo; e <= hi; e++) {
    const x = xOf(10 ** e);
    axis.push(`<line x1="${x.toFixed(1)}" y1="${top - 5}" x2="${x.toFixed(1)}" y2="${axisY}" stroke="#ddd"/>`);
    axis.push(`<text x="${x.toFixed(1)}" y="${axisY + 16}" text-anchor="middle">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)}</text>`);
  }
  axis.push(`<text x="${left + plotW / 2}" y="${axisY + 34}" text-anchor="middle">median latency, ms (log scale; shorter is faster)</text>`);
  const height = axisY + 50;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<rect x="10" y="32" width="12" height="12" fill="#1b9e77"/><text x="26" y="42">neonn (backend, threads)</text>`,
    `<rect x="190" y="32" width="12" height="12" fill="#d95f02"/><text x="206" y="42">onnxruntime-node (threads)</text>`,
    ...axis,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** A cli-progress bar on stderr, or a one-line counter when the package is missing. */
function progress(total) {
  try {
    const { SingleBar, Presets } = require('cli-progress');
    const bar = new SingleBar({ format: 'bench [{bar}] {value}/{total} {pair}', stream: process.stderr, hideCursor: true, clearOnComplete: true }, Presets.shades_classic);
    bar.start(total, 0, { pair: '' });
    return { tick: (/** @type {string} */ pair) => bar.increment(1, { pair }), label: (/** @type {string} */ pair) => bar.update({ pair }), stop: () => bar.stop() };
  } catch {
    let n = 0;
    const write = (/** @type {string} */ pair) => process.stderr.isTTY && process.stderr.write(`\rbench ${n}/${total} ${pair}\x1b[K`);
    return {
      tick: (/** @type {string} */ pair) => {
        n++;
        if (process.stderr.isTTY) write(pair);
        else process.stderr.write(`bench ${n}/${total} ${pair}\n`);
      },
      label: write,
      stop: () => process.stderr.isTTY && process.stderr.write('\n'),
    };
  }
}

function underEmulation() {
  if (process.env.QEMU_LD_PREFIX) return true;
  if (process.arch !== 'arm' && process.arch !== 'arm64') return false;
  let cpuinfo = '';
  try {
    cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    /* not Linux proc: trust os.cpus() */
  }
  return !/CPU implementer|CPU part/.test(cpuinfo) && !/arm|cortex|neoverse|apple/i.test(os.cpus()[0]?.model ?? '');
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(JSON.parse(args[1]));
  if (args[0] === '--quantize') return quantizeChild(JSON.parse(args[1]));
  const argOf = (/** @type {string} */ name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const nn = require('../dist');
  const quick = args.includes('--quick');
  const runs = Number(argOf('--runs') ?? (quick ? 8 : 15));
  const warmup = quick ? 1 : 2;
  const jsonOut = argOf('--json') ?? path.join(process.cwd(), 'neonn-bench', 'models.json');
  const svgOut = argOf('--svg') ?? jsonOut.replace(/\.json$/, '') + '.svg';
  const names = /** @type {readonly string[]} */ (nn.zoo.names);
  const modelNames = (argOf('--models') ?? (quick ? 'squeezenet,googlenet,mobilenetV2' : names.join(','))).split(',');
  const size = parseSize(argOf('--size'));
  const int8 = args.includes('--int8');
  for (const m of modelNames) {
    if (isFile(m)) {
      if (!fs.existsSync(m)) throw new RangeError(`model file ${m} does not exist`);
    } else if (!names.includes(m)) {
      throw new RangeError(`unknown model ${m}; known: ${names.join(', ')}, or a path to a .onnx file`);
    }
  }
  const available = nn.backends().filter((b) => b.available).map((b) => b.name);
  const backendNames = (argOf('--backends') ?? available.filter((b) => b !== 'reference' || args.includes('--reference')).join(',')).split(',');
  for (const b of backendNames) if (!available.includes(b)) throw new RangeError(`backend ${b} is not available here; available: ${available.join(', ')}`);
  const maxThreads = nn.getThreads();
  const threadCounts = quick || maxThreads === 1 ? [maxThreads] : [1, maxThreads];
  let ortFound = true;
  try {
    require.resolve('onnxruntime-node');
    require('onnxruntime-node');
  } catch (err) {
    ortFound = false;
    console.error(`onnxruntime-node was not found (${String(/** @type {Error} */ (err).message).split('\n')[0]}): neonn only, no "vs ORT" column`);
  }
  if (underEmulation()) console.error('WARNING: running under emulation (qemu): these timings mean nothing about real hardware');
  const pi = piPeak(readPiModel());

  console.log(`neonn model benchmark — ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, batch 1 (zoo models at 224×224), median of ${runs} runs after ${warmup} warm-up runs and at least ${WARMUP_MS} ms of them${quick ? ' (quick)' : ''}`);
  if (pi) console.log(`${describePeak(pi)}; "% of Pi peak" is against the cores in use (threads × ${pi.ghz} GHz × ${pi.flopsPerCycle})`);
  console.log('each pair runs in its own process: peak RSS is that pair\'s own high-water mark (VmHWM, node itself included); load = loadOnnx / InferenceSession.create on the bytes;');
  console.log('1st run = the first run after it (neonn: from an empty tuning cache, so all of auto\'s measuring); start = load + 1st run\n');

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-bench-'));
  /** @type {{ model: string, file: string, flops: number }[]} */
  const models = (await Promise.all(
    modelNames.map(async (model) => {
      if (isFile(model)) {
        const bytes = fs.readFileSync(model);
        const shapes = await feedShapes(nn, bytes, model, size);
        // A file called model.onnx is named by its folder (real-models/yunet/model.onnx: yunet).
        const base = path.basename(model, '.onnx');
        const label = base === 'model' ? path.basename(path.dirname(path.resolve(model))) : base;
        return { model: label, file: path.resolve(model), shapes, flops: countFlops(bytes, shapes) };
      }
      const bytes = /** @type {any} */ (nn.zoo.onnx)[model]({ seed: 1 });
      const file = path.join(tmp, `${model}.onnx`);
      fs.writeFileSync(file, bytes);
      const shapes = [[1, 3, 224, 224]];
      const fp32 = { model, file, shapes, flops: countFlops(bytes, shapes) };
      if (!int8) return [fp32];
      // In a child: quantizing grows this process (the pairs read their own VmHWM, but this keeps the parent small).
      const qfile = path.join(tmp, `${model}-int8.onnx`);
      const r = spawnSync(process.execPath, [__filename, '--quantize', JSON.stringify({ file, out: qfile, shape: shapes[0] })], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`quantizing ${model} failed: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
      return [fp32, { model: `${model} int8`, file: qfile, shapes, flops: countFlops(fs.readFileSync(qfile), shapes) }];
    }),
  )).flat();

  /** @type {{ runtime: 'neonn' | 'ort', model: string, file: string, shapes: number[][], flops: number, backend: string, threads: number }[]} */
  const pairs = [];
  // Model by model: its neonn pairs, then its onnxruntime pairs (each in its own process, one at a time), so that a
  // drift of this machine's speed during the run moves both sides of a ratio alike.
  for (const m of models) {
    for (const backend of backendNames) for (const threads of threadCounts) pairs.push({ runtime: 'neonn', ...m, backend, threads });
    if (ortFound) for (const threads of threadCounts) pairs.push({ runtime: 'ort', ...m, backend: 'onnxruntime', threads });
  }

  const bar = progress(pairs.length);
  const rows = [];
  const failures = [];
  for (const p of pairs) {
    const label = `${p.model} ${p.backend} t${p.threads}`;
    bar.label(label);
    const spec = { runtime: p.runtime, file: p.file, shapes: p.shapes, backend: p.backend, threads: p.threads, runs, warmup };
    // A cold start: an empty tuning cache of the pair's own (auto measures everything in its first run).
    const cacheDir = fs.mkdtempSync(path.join(tmp, 'cache-'));
    const r = spawnSync(process.execPath, [__filename, '--child', JSON.stringify(spec)], { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, OMP_NUM_THREADS: String(p.threads), NEONN_CACHE_DIR: cacheDir } });
    const line = r.status === 0 ? r.stdout.trim().split('\n').pop() : undefined;
    if (!line) {
      failures.push(`${label}: exit ${r.status ?? r.signal}: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
    } else {
      const res = JSON.parse(line);
      rows.push({ model: p.model, runtime: p.runtime, backend: p.backend, threads: p.threads, loadMs: res.loadMs, firstMs: res.firstMs, medianMs: res.medianMs, gflops: p.flops / (res.medianMs * 1e6), peakRssMB: res.peakRssMB, flops: p.flops, times: res.times });
    }
    bar.tick(label);
  }
  bar.stop();
  fs.rmSync(tmp, { recursive: true, force: true });

  const ortOf = (/** @type {any} */ r) => rows.find((o) => o.runtime === 'ort' && o.model === r.model && o.threads === r.threads);
  for (const r of rows) {
    const o = ortOf(r);
    r.vsOrt = r.runtime === 'neonn' && o ? o.medianMs / r.medianMs : null;
    r.startVsOrt = r.runtime === 'neonn' && o ? (o.loadMs + o.firstMs) / (r.loadMs + r.firstMs) : null;
    if (pi) r.piPeakFraction = peakFraction(pi, r.gflops, r.threads);
  }
  console.log(`| model | backend | threads | load ms | 1st run ms | median ms | GFLOP/s |${pi ? ' % of Pi peak |' : ''} peak RSS MB | vs ORT | start vs ORT |`);
  console.log(`|---|---|---|---|---|---|---|${pi ? '---|' : ''}---|---|---|`);
  const ratio = (/** @type {number | null} */ v) => (v == null ? '–' : `${v.toFixed(2)}×`);
  for (const r of rows) {
    const [vs, start] = r.runtime === 'ort' ? ['1.00×', '1.00×'] : [ratio(r.vsOrt), ratio(r.startVsOrt)];
    const ofPeak = pi ? ` ${(r.piPeakFraction * 100).toFixed(0)}% |` : '';
    console.log(`| ${r.model} | ${r.backend} | ${r.threads} | ${fmt(r.loadMs)} | ${fmt(r.firstMs)} | ${fmt(r.medianMs)} | ${r.gflops.toFixed(1)} |${ofPeak} ${r.peakRssMB.toFixed(0)} | ${vs} | ${start} |`);
  }
  console.log('\nGFLOP/s counts Conv and Gemm FLOPs (QLinearConv and QLinearMatMul too) from the ONNX graph (2 per multiply-add). vs ORT: onnxruntime-node median / neonn median at the same threads (> 1 means neonn is faster); start vs ORT: the same for load + 1st run.');
  for (const f of failures) console.error(`failed: ${f}`);

  fs.mkdirSync(path.dirname(jsonOut), { recursive: true });
  fs.writeFileSync(jsonOut, JSON.stringify({ cpu: os.cpus()[0]?.model, cores: os.cpus().length, date: new Date().toISOString(), node: process.version, quick, runs, warmup, ort: ortFound, emulated: underEmulation(), pi, rows, failures }, null, 2));
  const chartRows = rows.map((r) => ({ model: r.model, runtime: r.runtime, medianMs: r.medianMs, label: `${r.runtime === 'ort' ? 'onnxruntime' : `neonn ${r.backend}`} t${r.threads}` }));
  fs.mkdirSync(path.dirname(svgOut), { recursive: true });
  fs.writeFileSync(svgOut, svgChart(chartRows, `neonn vs onnxruntime-node — batch 1, ${os.cpus()[0]?.model ?? 'cpu'}`));
  console.log(`JSON: ${path.relative(process.cwd(), jsonOut)}\nSVG:  ${path.relative(process.cwd(), svgOut)}`);
  if (failures.length) process.exitCode = 1;
}

main().catch((err) => {
  // A bad argument (unknown model, symbolic dims without --size): one line, exit 2.
  if (err instanceof RangeError) {
    console.error(`neonn bench: ${err.message}`);
    process.exitCode = 2;
    return;
  }
  console.error(err && err.stack ? err.stack : err);
  process.exitCode = 1;
});
