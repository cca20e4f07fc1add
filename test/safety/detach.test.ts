// Buffers detached (transferred) while async work uses them (issue 14): the
// work runs on native copies made at call time, so a transferred input gives
// the correct result, and a result buffer detached mid-flight is a NeonnError
// ERR_NEONN_DETACHED, never an empty result, wrong numbers or a crash. The
// reproducers run in --expose-gc children so the transferred memory is
// really collected while the work is in flight.
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as nn from '../../lib';
import { binding } from '../../lib/native';
import { createProgram, trace } from '../../lib/model/program';
import { encode, floatInit, int, ints, port } from '../onnx/builders';
import { expectClose, randomTensor } from '../helpers';

const root = path.resolve(__dirname, '..', '..');

/** Transfers `a`'s buffer away (as postMessage would); `a` reads as empty after. */
function detach(a: ArrayBufferView): void {
  structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
}

/** Runs `script` in a node child with --expose-gc; `nn` is this checkout's build. */
function child(script: string, args: string[] = []): unknown {
  const prelude = `
    const nn = require(${JSON.stringify(root)});
    function rnd(n, s) { const d = new Float32Array(n); for (let i = 0; i < n; i++) { s = (s * 1664525 + 1013904223) >>> 0; d[i] = s / 2 ** 32 - 0.5; } return d; }
    function detach(a) { structuredClone(a.buffer, { transfer: [a.buffer] }); }
    function churn() { global.gc(); for (let i = 0; i < 30; i++) new Float32Array(1 << 16).fill(7); }
    function diff(a, b) { let bad = 0; for (let j = 0; j < b.length; j++) if (!(Math.abs(a[j] - b[j]) <= 1e-3 + 1e-3 * Math.abs(b[j]))) bad++; return a.length === b.length ? bad : -1; }
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', prelude + script, '--', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NEONN_BACKEND: '' },
    timeout: 120_000,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

describe('inputs transferred away while the work runs (--expose-gc child)', () => {
  test('nn.async.conv2d with x and w transferred and collected gives the correct result, 20 of 20', () => {
    const got = child(`
      (async () => {
        const bad = [];
        for (let r = 0; r < 20; r++) {
          const x = rnd(16 * 56 * 56, r + 1), w = rnd(32 * 16 * 9, r + 3);
          const want = nn.conv2d(nn.tensor(x, [1, 16, 56, 56]), nn.tensor(w, [32, 16, 3, 3]), { pads: 1 }).data;
          const xs = x.slice(), ws = w.slice();
          const p = nn.async.conv2d(nn.tensor(xs, [1, 16, 56, 56]), nn.tensor(ws, [32, 16, 3, 3]), { pads: 1 });
          detach(xs); detach(ws); churn();
          bad.push(diff((await p).data, want));
        }
        console.log(JSON.stringify(bad));
      })().catch((e) => { console.error(e); process.exit(1); });`);
    expect(got).toEqual(new Array(20).fill(0));
  });

  test('nn.async.runOp (a generic kernel) and Sequential.predict with their input transferred give the correct result', () => {
    const got = child(`
      (async () => {
        const x = rnd(64 * 128 * 128, 5);
        const want = nn.runOp('HardSwish', [nn.tensor(x, [1, 64, 128, 128])])[0].data;
        const xs = x.slice();
        const p = nn.async.runOp('HardSwish', [nn.tensor(xs, [1, 64, 128, 128])]);
        detach(xs); churn();
        const op = diff((await p)[0].data, want);
        const m = new nn.Sequential([nn.layers.conv2d({ filters: 16, kernel: 3, pads: 1, activation: 'relu' }), nn.layers.conv2d({ filters: 16, kernel: 3, pads: 1 })], { inputShape: [8, 96, 96], seed: 2 });
        const img = rnd(8 * 96 * 96, 9);
        const wantM = m.predictSync(nn.tensor(img, [1, 8, 96, 96])).data;
        const imgs = img.slice();
        const q = m.predict(nn.tensor(imgs, [1, 8, 96, 96]));
        await new Promise((r) => setImmediate(r));  // the queued run has started
        detach(imgs); churn();
        const seq = diff((await q).data, wantM);
        m.dispose();
        console.log(JSON.stringify({ op, seq }));
      })().catch((e) => { console.error(e); process.exit(1); });`);
    expect(got).toEqual({ op: 0, seq: 0 });
  });

  test('OnnxModel.run with its input detached 30 ms in: the correct result or ERR_NEONN_DETACHED, never wrong numbers', () => {
    // Four convs on 1x8x160x160: several runs queue behind each other on one model.
    const w = (o: number, i: number, seed: number): nn.Tensor => randomTensor([o, i, 3, 3], seed);
    const conv = (x: string, wn: string, y: string) => ({ opType: 'Conv', input: [x, wn], output: [y], attribute: [ints('pads', [1, 1, 1, 1]), int('group', 1)] });
    const bytes = encode({
      nodes: [conv('x', 'w1', 'a'), { opType: 'Relu', input: ['a'], output: ['b'] }, conv('b', 'w2', 'c'), { opType: 'Relu', input: ['c'], output: ['d'] }, conv('d', 'w3', 'e'), conv('e', 'w4', 'y')],
      inputs: [port('x', [1, 8, 160, 160])],
      outputs: ['y'],
      inits: [floatInit('w1', w(16, 8, 1)), floatInit('w2', w(16, 16, 2)), floatInit('w3', w(16, 16, 3)), floatInit('w4', w(8, 16, 4))],
    });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'neonn-detach-'));
    try {
      const file = path.join(dir, 'm.onnx');
      writeFileSync(file, bytes);
      const got = child(`
        (async () => {
          const m = nn.loadOnnxSync(process.argv[process.argv.length - 1]);
          const x = rnd(8 * 160 * 160, 11);
          const want = m.runSync({ x: nn.tensor(x, [1, 8, 160, 160]) }).y.data;
          const xs = [0, 1, 2, 3].map(() => x.slice());
          const runs = xs.map((d) => m.run({ x: nn.tensor(d, [1, 8, 160, 160]) }).then((r) => diff(r.y.data, want), (e) => e.code));
          await new Promise((r) => setTimeout(r, 30));
          xs.forEach(detach); churn();
          const out = await Promise.all(runs);
          m.dispose();
          console.log(JSON.stringify(out));
        })().catch((e) => { console.error(e); process.exit(1); });`, [file]) as (number | string)[];
      expect(got).toHaveLength(4);
      expect(got[0]).toBe(0); // in flight when detached: computed on its copy
      for (const r of got) expect([0, 'ERR_NEONN_DETACHED']).toContain(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a result buffer detached while the work runs is ERR_NEONN_DETACHED', () => {
  const x = randomTensor([1, 16, 64, 64], 1);
  const w = randomTensor([32, 16, 3, 3], 2);

  async function rejection(p: Promise<unknown>): Promise<{ name: string; code?: string; message: string }> {
    try {
      await p;
    } catch (e) {
      return e as { name: string; code?: string; message: string };
    }
    throw new Error('resolved');
  }

  test('nn.async.conv2d with `out` detached: NeonnError, not an empty result', async () => {
    const out = nn.tensor(new Float32Array(32 * 64 * 64), [1, 32, 64, 64]);
    const p = nn.async.conv2d(x, w, { pads: 1, out });
    detach(out.data);
    const e = await rejection(p);
    expect(e).toBeInstanceOf(nn.NeonnError);
    expect(e.code).toBe('ERR_NEONN_DETACHED');
    expect(e.message).toMatch(/^conv2d: "out" was detached \(transferred\) while the op ran; no result was written/);
  });

  test('nn.async.relu and nn.async.concat with `out` detached', async () => {
    const outR = nn.tensor(new Float32Array(x.data.length), [...x.shape]);
    const p = nn.async.relu(x, { out: outR });
    detach(outR.data);
    expect((await rejection(p)).code).toBe('ERR_NEONN_DETACHED');
    const outC = nn.tensor(new Float32Array(2 * x.data.length), [1, 32, 64, 64]);
    const q = nn.async.concat([x, x], 1, { out: outC });
    detach(outC.data);
    expect((await rejection(q)).code).toBe('ERR_NEONN_DETACHED');
  });

  test('the same op with `out` left attached writes its result (the copy-back works)', async () => {
    const out = nn.tensor(new Float32Array(32 * 64 * 64), [1, 32, 64, 64]);
    const y = await nn.async.conv2d(x, w, { pads: 1, out });
    expect(y.data).toBe(out.data);
    expectClose(out.data, nn.conv2d(x, w, { pads: 1 }).data, 1e-4, 1e-4);
  });

  test('an in-place async op (out === x) stays in place', async () => {
    const data = Float32Array.from([-1, 2, -3, 4]);
    const t = nn.tensor(data, [4]);
    await nn.async.relu(t, { out: t });
    expect([...data]).toEqual([0, 2, 0, 4]);
  });

  test('a generic kernel (binding.kernel) with its output detached', async () => {
    const n = 1 << 20;
    const input = { data: new Float32Array(n).fill(-2), shape: [n], dtype: 1 };
    const output = { data: new Float32Array(n), shape: [n], dtype: 1 };
    const p = binding.kernel('HardSwish', [input], [output], {});
    detach(output.data);
    const e = await rejection(p);
    expect(e.code).toBe('ERR_NEONN_DETACHED');
    expect(e.message).toMatch(/HardSwish: "outputs\[0\]\.data" was detached/);
  });

  test('a model run (native program) with its output detached', async () => {
    // The program a model compiles to (one conv), made as the planner makes it.
    const x = randomTensor([1, 4, 32, 32], 3);
    const w = randomTensor([8, 4, 3, 3], 4);
    const program = createProgram(trace([x], [w.data], () => [nn.conv2d(x, w, { pads: 1 })], () => 'test'));
    try {
      const out = new Float32Array(8 * 32 * 32);
      const p = program.run([x.data], [out]);
      detach(out);
      const e = await rejection(p);
      expect(e.code).toBe('ERR_NEONN_DETACHED');
      expect(e.message).toMatch(/^model: "outputs\[0\]" was detached/);
    } finally {
      program.dispose();
    }
  });
});

describe('a buffer already detached at call time: ERR_NEONN_DETACHED before any native work', () => {
  const w = randomTensor([4, 3, 3, 3], 2);
  const detached = (shape: number[]): nn.Tensor => {
    const t = nn.tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
    detach(t.data);
    return t;
  };

  test('sync and async ops, runOp, Sequential.predict and OnnxModel.run', async () => {
    const x = detached([1, 3, 8, 8]);
    const isDetached = (e: unknown): void => {
      expect(e).toBeInstanceOf(nn.NeonnError);
      expect((e as nn.NeonnError).code).toBe('ERR_NEONN_DETACHED');
      expect((e as Error).message).toMatch(/is backed by a detached ArrayBuffer/);
    };
    const caught = async (fn: () => unknown): Promise<unknown> => {
      try {
        await fn();
      } catch (e) {
        return e;
      }
      return 'no error';
    };
    isDetached(await caught(() => nn.conv2d(x, w)));
    isDetached(await caught(() => nn.async.conv2d(x, w)));
    isDetached(await caught(() => nn.async.conv2d(randomTensor([1, 3, 8, 8], 1), w, { out: detached([1, 4, 6, 6]) })));
    isDetached(await caught(() => nn.runOp('Relu', [x])));
    isDetached(await caught(() => nn.async.runOp('Relu', [x])));
    const m = new nn.Sequential([nn.layers.relu()], { inputShape: [3, 8, 8] });
    isDetached(await caught(() => m.predict(x)));
    m.dispose();
    const om = nn.loadOnnxSync(encode({ nodes: [{ opType: 'Relu', input: ['x'], output: ['y'] }], inputs: [port('x', [1, 3, 8, 8])], outputs: ['y'] }));
    isDetached(await caught(() => om.run({ x })));
    om.dispose();
  });

  test('the native re-check: a detached typed array passed straight to the binding', () => {
    const a = new Float32Array(8);
    detach(a);
    let e: unknown;
    try {
      binding.kernelSync('Relu', [{ data: a, shape: [8], dtype: 1 }], [{ data: new Float32Array(8), shape: [8], dtype: 1 }], {});
    } catch (err) {
      e = err;
    }
    expect((e as { code?: string }).code).toBe('ERR_NEONN_DETACHED');
    expect((e as Error).message).toMatch(/inputs\[0\]: "data" is backed by a detached ArrayBuffer/);
  });
});
