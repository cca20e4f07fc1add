// The trained models of ../shared/real-models (face detectors, a detector,
// OCR, segmentation, int8) against onnxruntime-node's stored outputs: within
// rtol 1e-3 of each output's largest magnitude, on every backend, sync and
// async, at 1 and 2 threads. Models with symbolic input dims also run at a
// second input size, checked against onnxruntime-node run in a child process
// (inside jest's sandbox its native tensors fail its own instanceof checks).
import { existsSync, readFileSync, readdirSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as nn from '../../lib';
import { availableBackends, reportUnavailable } from '../helpers';
import { hasOrt, ortRun } from './ort-run';

const ROOT = path.resolve(__dirname, '../..');
const DIR = path.resolve(ROOT, '../shared/real-models');

interface IoSpec {
  inputs: { name: string; shape: number[]; file: string }[];
  outputs: { name: string; shape: number[]; file: string }[];
}

/**
 * Models whose ops are not all in yet, each with what is missing. Listed
 * models are reported as SKIPPED; one that loads and matches makes the
 * 'pending list only shrinks' test fail, so the list cannot go stale.
 */
const PENDING: Record<string, string> = {};

function f32(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Worst |got - want| over the largest |want|, per output. */
function relError(got: Float32Array, want: Float32Array): number {
  if (got.length !== want.length) return Infinity;
  let mx = 0;
  let err = 0;
  for (let i = 0; i < want.length; i++) {
    mx = Math.max(mx, Math.abs(want[i]));
    const d = Math.abs(got[i] - want[i]);
    err = Math.max(err, Number.isNaN(d) ? Infinity : d);
  }
  return err / (mx || 1);
}

const models = existsSync(DIR) ? readdirSync(DIR).filter((d) => existsSync(path.join(DIR, d, 'io.json'))).sort() : [];
const backends = availableBackends();
reportUnavailable('real models');

test('the shared real models are there', () => {
  expect(models.length).toBeGreaterThanOrEqual(9);
});

function load(name: string): { io: IoSpec; bytes: Uint8Array; feeds: Record<string, nn.Tensor>; want: Float32Array[] } {
  const dir = path.join(DIR, name);
  const io = JSON.parse(readFileSync(path.join(dir, 'io.json'), 'utf8')) as IoSpec;
  const feeds: Record<string, nn.Tensor> = {};
  for (const i of io.inputs) feeds[i.name] = nn.tensor(f32(path.join(dir, i.file)), i.shape);
  return { io, bytes: readFileSync(path.join(dir, 'model.onnx')), feeds, want: io.outputs.map((o) => f32(path.join(dir, o.file))) };
}

describe.each(models.filter((m) => !(m in PENDING)))('%s', (name) => {
  const { io, bytes, feeds, want } = load(name);
  let model: nn.OnnxModel;
  beforeAll(async () => {
    model = await nn.loadOnnx(bytes);
  });
  afterAll(() => {
    model?.dispose();
    nn.setThreads(os.cpus().length);
  });

  test('inputs and outputs as onnxruntime names them', () => {
    expect([...model.inputNames]).toEqual(io.inputs.map((i) => i.name));
    expect([...model.outputNames]).toEqual(io.outputs.map((o) => o.name));
  });

  describe.each(backends)('backend %s', (backend) => {
    test.each([1, 2])('threads %i: sync and async match onnxruntime within 1e-3', async (threads) => {
      nn.setBackend(backend);
      nn.setThreads(threads);
      try {
        const sync = model.runSync(feeds);
        const asyncOuts = await model.run(feeds);
        io.outputs.forEach((o, k) => {
          expect([...sync[o.name].shape]).toEqual(o.shape);
          expect(relError(sync[o.name].data, want[k])).toBeLessThan(1e-3);
          expect(relError(asyncOuts[o.name].data, want[k])).toBeLessThan(1e-3);
        });
      } finally {
        nn.setBackend('auto');
      }
    });
  });
});

/**
 * A second size for each symbolic spatial dim: one detector stride (32) more
 * than the stored one, so every stride-32 head still tiles it. (Smaller sizes
 * are not safe: ppocr_cls's pooling chain needs H >= 48, and onnxruntime runs
 * a window larger than its input where ONNX's output-size formula gives 0.)
 */
function secondShape(declared: readonly (number | string)[], stored: number[]): number[] {
  return stored.map((d, i) => (typeof declared[i] === 'string' && i >= 2 ? d + 32 : d));
}

/**
 * The stored input (a real photo, preprocessed as the model expects) at
 * another size: each spatial position reads the stored one at (y mod H, x mod
 * W). Random values would leave detectors' scores all near 0, where the
 * comparison measures onnxruntime's sigmoid approximation, not the model.
 */
function resampled(stored: Float32Array, from: number[], to: number[]): Float32Array {
  const [, c, h, w] = from;
  const [n2, c2, h2, w2] = to;
  if (from.length !== 4 || c2 !== c) throw new Error(`cannot resample [${from}] to [${to}]`);
  const out = new Float32Array(n2 * c2 * h2 * w2);
  let k = 0;
  for (let b = 0; b < n2; b++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h2; y++)
        for (let x = 0; x < w2; x++) out[k++] = stored[(((b % from[0]) * c + ch) * h + (y % h)) * w + (x % w)];
  return out;
}

const symbolic = models.filter((m) => !(m in PENDING));
(hasOrt ? describe.each(symbolic) : describe.skip.each(symbolic))('%s at a second input size (symbolic dims; a fixed size refuses it)', (name) => {
  if (!hasOrt) console.warn(`SKIPPED real model ${name} at a second size: onnxruntime-node is not installed`);
  const { bytes, io, feeds: stored } = load(name);
  test('matches onnxruntime-node', async () => {
    const model = await nn.loadOnnx(bytes);
    try {
      const dims = model.inputDims;
      if (!dims.some((d) => d.some((x, i) => typeof x === 'string' && i >= 2))) {
        // A fixed spatial size: another size is refused before any native work.
        const inp = io.inputs[0];
        const shape = inp.shape.map((d, i) => (i >= 2 ? d + 32 : d));
        const x = nn.tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
        expect(() => model.runSync({ [inp.name]: x })).toThrow(RangeError);
        return;
      }
      const feeds: Record<string, nn.Tensor> = {};
      io.inputs.forEach((inp, i) => {
        const shape = secondShape(dims[i], inp.shape);
        feeds[inp.name] = nn.tensor(resampled(stored[inp.name].data as Float32Array, inp.shape, shape), shape);
      });
      const want = ortRun(bytes, feeds);
      const got = await model.run(feeds);
      for (const o of io.outputs) {
        expect([...got[o.name].shape]).toEqual(want[o.name].dims);
        expect(relError(got[o.name].data, want[o.name].data)).toBeLessThan(1e-3);
      }
    } finally {
      model.dispose();
    }
  });
});

describe('pending models', () => {
  for (const [name, why] of Object.entries(PENDING)) {
    console.warn(`SKIPPED real model ${name}: ${why}`);
  }
  test.each(Object.keys(PENDING).length > 0 ? Object.keys(PENDING) : ['(none)'])('the pending list only shrinks: %s still fails', async (name) => {
    if (name === '(none)') return;
    const { io, bytes, feeds, want } = load(name);
    let ok = false;
    try {
      const m = await nn.loadOnnx(bytes);
      const outs = m.runSync(feeds);
      ok = io.outputs.every((o, k) => relError(outs[o.name].data, want[k]) < 1e-3);
      m.dispose();
    } catch {
      ok = false;
    }
    if (ok) throw new Error(`${name} now loads and matches: remove it from PENDING in test/onnx/real-models.test.ts`);
  });
});
