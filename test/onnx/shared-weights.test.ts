// A model planned per input shape (a symbolic batch) holds its weights once:
// every program it makes (one per shape, at most 8, least recently used
// evicted) shares the same native copy, which the model's JS side views
// instead of keeping its own. Measured in a child process with --expose-gc on
// dist/ (as memory.test.ts), with glibc's mallinfo2 (`mallocInUse`).
//
// The model: one Conv with 2.4 MB of weights on a 4x4 image, batch symbolic.
// Before the weights were shared, each new batch size copied them (5 sizes:
// +11.8 MB); now a size adds its arena (tens of KB). The results of every size
// are checked against batch 1 after programs were evicted and V8 collected,
// and dispose() with a collection gives the memory back.
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encode, floatInit, ints, port } from './builders';

const root = path.resolve(__dirname, '../..');
const C = 256;
const MB = 2 ** 20;

function convModel(): Uint8Array {
  const w = new Float32Array(C * C * 9);
  for (let i = 0; i < w.length; i++) w[i] = (((i * 2654435761) >>> 0) % 1000) / 1000 - 0.5;
  return encode({
    nodes: [{ opType: 'Conv', input: ['x', 'w'], output: ['y'], attribute: [ints('pads', [1, 1, 1, 1])] }],
    inputs: [port('x', ['N', C, 4, 4])],
    outputs: [port('y', ['N', C, 4, 4])],
    inits: [floatInit('w', { data: w, shape: [C, C, 3, 3] })],
  });
}

test('the programs of a symbolic-batch model share one copy of its weights, and dispose gives it back', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'neonn-shared-'));
  const file = path.join(dir, 'conv.onnx');
  writeFileSync(file, convModel());
  const script = `
    const nn = require('./dist');
    const { binding } = require('./dist/native');
    const fs = require('fs');
    nn.setBackend('reference');
    const C = ${C}, HW = 16;
    const input = (n) => nn.tensor(Float32Array.from({ length: n * C * HW }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5), [n, C, 4, 4]);
    async function settle() {
      for (let k = 0; k < 3; k++) {
        global.gc();
        await new Promise((r) => setImmediate(r)); // finalizers of collected buffers run in immediates
      }
      return binding.mallocInUse();
    }
    const bytes = fs.readFileSync(${JSON.stringify(file)}); // as big as the weights: read before the baseline
    // One load, every size, dispose: what the model holds while it lives (its results checked).
    async function cycle(measure) {
      const m = nn.loadOnnxSync(bytes);
      const one = (await m.run({ x: input(1) })).y.data;
      let worst = 0;
      const check = async (n) => {
        const y = (await m.run({ x: input(n) })).y.data;
        if (y.length !== n * C * HW) throw new Error('batch ' + n + ': ' + y.length + ' values');
        for (let i = 0; i < one.length; i++) worst = Math.max(worst, Math.abs(y[i] - one[i]));
      };
      const first = await measure();
      for (let n = 2; n <= 6; n++) await check(n);
      const six = await measure();
      // More sizes than the cache keeps: batch 2..6 are evicted, then made again, views collected meanwhile.
      for (let n = 7; n <= 16; n++) await check(n);
      await measure();
      for (let n = 2; n <= 6; n++) await check(n);
      const again = (await m.run({ x: input(1) })).y.data;
      for (let i = 0; i < one.length; i++) worst = Math.max(worst, Math.abs(again[i] - one[i]));
      m.dispose();
      return { first, six, worst, sum: one.reduce((a, b) => a + Math.abs(b), 0) };
    }
    async function main() {
      // A first cycle warms what the process keeps per input shape whatever the model (about 0.2 MB a size here).
      await cycle(async () => 0);
      const base = await settle();
      const r = await cycle(settle);
      const after = await settle();
      console.log(JSON.stringify({ base, after, ...r }));
    }
    main().catch((e) => { console.error(e); process.exit(1); });`;
  try {
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, NEONN_BACKEND: '' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout) as { base: number; first: number; six: number; after: number; worst: number; sum: number };
    const weights = C * C * 9 * 4;
    // eslint-disable-next-line no-console
    console.log(`C heap: base ${(s.base / MB).toFixed(2)}, batch 1 ${(s.first / MB).toFixed(2)}, batches 1-6 ${(s.six / MB).toFixed(2)}, disposed ${(s.after / MB).toFixed(2)} MB (weights ${(weights / MB).toFixed(2)} MB)`);
    expect(s.base).toBeGreaterThan(0); // glibc reports
    expect(s.sum).toBeGreaterThan(0); // the conv computed something
    expect(s.worst).toBe(0); // batch item 0 is the same image at every size: the same bits
    // Loaded and run at batch 1: the weights once (JS arrays plus the program's copy would be twice).
    expect(s.first - s.base).toBeGreaterThan(weights * 0.9);
    expect(s.first - s.base).toBeLessThan(weights * 1.5);
    expect(s.six - s.first).toBeLessThan(weights / 2); // five more programs, no copy of them
    expect(s.after - s.base).toBeLessThan(weights / 2); // and back after dispose
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 90000);
