// The auto backend: the default; per conv shape it measures every path the
// other backends offer, keeps the fastest, caches the choice on disk and says
// what it picked. Results must equal the reference backend's whatever it picks.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as nn from '../../lib';
import { expectClose, randomTensor } from '../helpers';

const root = path.resolve(__dirname, '../..');

function child(code: string, env: Record<string, string>): string {
  const r = spawnSync(process.execPath, ['-e', code], {
    cwd: root,
    env: { ...process.env, NEONN_BACKEND: '', NEONN_THREADS: '', ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`child failed (${String(r.status)}): ${r.stderr}`);
  return r.stdout;
}

function withBackend<T>(name: string, f: () => T): T {
  const before = nn.getBackend();
  nn.setBackend(name);
  try {
    return f();
  } finally {
    nn.setBackend(before);
  }
}

/** conv 3x3 → relu → conv 1x1 → global pool, as ONNX bytes with named Conv nodes. */
function smallNet(): Uint8Array {
  const m = new nn.Sequential(
    [
      nn.layers.conv2d({ filters: 16, kernel: 3, pads: 1, activation: 'relu' }),
      nn.layers.conv2d({ filters: 8, kernel: 1 }),
      nn.layers.globalAvgPool(),
    ],
    { inputShape: [8, 20, 20], seed: 3 },
  );
  return nn.saveOnnx(m, undefined, { batch: 1 });
}

describe('auto backend', () => {
  test('is the default backend', () => {
    const out = child(`const nn = require('./dist'); process.stdout.write(nn.getBackend());`, {});
    expect(out).toBe('auto');
  });

  test('lists itself first, available, with where it caches its choices', () => {
    const a = nn.backends()[0];
    expect(a.name).toBe('auto');
    expect(a.available).toBe(true);
    expect(a.config).toContain(process.env.NEONN_CACHE_DIR!);
  });

  test.each([
    ['3x3 pad 1', [1, 8, 14, 14], [16, 8, 3, 3], { pads: 1 }],
    ['1x1', [1, 16, 9, 9], [8, 16, 1, 1], {}],
    ['5x5 stride 2 relu', [2, 3, 17, 17], [4, 3, 5, 5], { strides: 2, activation: 'relu' as const }],
    ['depthwise', [1, 6, 10, 10], [6, 1, 3, 3], { group: 6, pads: 1 }],
  ])('conv2d %s equals the reference backend', (_l, xs, ws, opts) => {
    const x = randomTensor(xs, 5);
    const w = randomTensor(ws, 6);
    const want = withBackend('reference', () => nn.conv2d(x, w, opts));
    const runs = () => nn.backends().find((b) => b.name === 'auto')!.convRuns;
    const before = Object.values(runs()).reduce((s, n) => s + n, 0);
    const got = withBackend('auto', () => nn.conv2d(x, w, opts));
    expectClose(got.data, want.data, 1e-4, 1e-4);
    // auto counts the algorithm it ran.
    expect(Object.values(runs()).reduce((s, n) => s + n, 0)).toBe(before + 1);
  });

  test('a pinned algorithm runs only that path; one no backend offers is a RangeError', () => {
    const x = randomTensor([1, 4, 8, 8], 7);
    const w = randomTensor([4, 4, 3, 3], 8);
    const want = withBackend('reference', () => nn.conv2d(x, w, { pads: 1 }));
    const before = nn.backends().find((b) => b.name === 'auto')!.convRuns.im2col ?? 0;
    expectClose(withBackend('auto', () => nn.conv2d(x, w, { pads: 1, algorithm: 'im2col' })).data, want.data, 1e-4, 1e-4);
    expect(nn.backends().find((b) => b.name === 'auto')!.convRuns.im2col).toBe(before + 1);
    const offered = nn.backends().some((b) => b.available && b.name !== 'auto' && b.name === 'nnpack');
    if (!offered) {
      expect(() => withBackend('auto', () => nn.conv2d(x, w, { pads: 1, algorithm: 'wt8x8' }))).toThrow(
        /conv2d: algorithm "wt8x8" cannot run this conv on backend "auto" \(it can: .*im2col/,
      );
    }
  });
});

describe('auto in a model: per-layer choice, reported, cached on disk', () => {
  let dir: string;
  const file = (): string => path.join(dir, 'auto-v2.tsv');
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-auto-'));
    fs.writeFileSync(path.join(dir, 'net.onnx'), smallNet());
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Loads the net, runs it twice and prints its layers and output.
  const probe = `
    const nn = require('./dist');
    const m = nn.loadOnnxSync(process.env.NET, process.env.PINS ? { algorithms: JSON.parse(process.env.PINS) } : undefined);
    const x = nn.tensor(Float32Array.from({ length: 8 * 20 * 20 }, (_, i) => Math.sin(i)), [1, 8, 20, 20]);
    const y1 = m.runSync({ [m.inputNames[0]]: x });
    const y2 = m.runSync({ [m.inputNames[0]]: x });
    process.stdout.write(JSON.stringify({ layers: m.layers(), y: Array.from(Object.values(y2)[0].data), same: Object.values(y1)[0].data.every((v, i) => v === Object.values(y2)[0].data[i]) }));
  `;
  // The cache's mechanics, not the measuring, are under test here: the test
  // clock (src/auto/measure.h) gives every sample a fixed, clean time, so what
  // is saved does not depend on how busy the machine is (honest.test.ts tests
  // that part). The convs themselves really run.
  // Regions off: an NHWC region that beats the first layer's time leaves the next unmeasured (regions.test.ts).
  const CLEAN = 'openblas=100;openblas-dl=200;*=300';
  const run = (env: Record<string, string> = {}): { layers: nn.OnnxLayer[]; y: number[]; same: boolean } =>
    JSON.parse(child(probe, { NEONN_CACHE_DIR: dir, NET: path.join(dir, 'net.onnx'), NEONN_TEST_AUTO_CLOCK: CLEAN, NEONN_REGIONS: 'off', ...env }));

  test('with the real clock, a layer is saved exactly when its note does not say the cores were busy', () => {
    const own = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-auto-real-'));
    try {
      const r = run({ NEONN_TEST_AUTO_CLOCK: '', NEONN_CACHE_DIR: own });
      const convs = r.layers.filter((l) => l.op.startsWith('Conv'));
      expect(convs).toHaveLength(2);
      const saved = fs.existsSync(path.join(own, 'auto-v2.tsv'))
        ? fs.readFileSync(path.join(own, 'auto-v2.tsv'), 'utf8').trim().split('\n').filter((l) => l.includes('|plan|') && l.split('\t')[0].endsWith(';'))
        : [];
      const busy = convs.filter((l) => /not saved/.test(l.choice!)).length;
      expect(saved).toHaveLength(convs.length - busy);
    } finally {
      fs.rmSync(own, { recursive: true, force: true });
    }
  });

  test('first process measures each conv and says what it picked; the file records it', () => {
    const r = run();
    const convs = r.layers.filter((l) => l.op.startsWith('Conv'));
    expect(convs).toHaveLength(2);
    for (const l of convs) {
      expect(l.algorithm).toBeDefined();
      // Measured alone, or moved onto the model's one thread pool afterwards.
      expect(l.choice).toMatch(/^(measured: |one thread pool for the model: ).*\d+\.\d{3} ms/);
      expect(nn.backends().map((b) => b.name)).toContain(l.backend);
    }
    expect(r.same).toBe(true);
    // A layer moved onto one pool shares its backend with every other conv.
    if (convs.some((l) => l.choice!.startsWith('one thread pool'))) {
      expect(new Set(convs.map((l) => l.backend)).size).toBe(1);
    }
    const lines = fs.readFileSync(file(), 'utf8').trim().split('\n');
    // One line per layer for the winner (the key ends in the candidate list),
    // and one per candidate backend with its best time (key + "|<backend>").
    const plans = lines.filter((l) => l.includes('|plan|'));
    expect(plans.filter((l) => l.split('\t')[0].endsWith(';'))).toHaveLength(2);
    const perBackend = plans.filter((l) => !l.split('\t')[0].endsWith(';'));
    expect(perBackend.length).toBeGreaterThanOrEqual(2);
    for (const l of perBackend) expect(l.split('\t')[0].endsWith(`|${l.split('\t')[1]}`)).toBe(true);
    for (const l of lines) expect(l.split('\t')).toHaveLength(7);
  });

  test('a second process reuses the choices without measuring, with the same results', () => {
    const first = run();
    const before = fs.readFileSync(file(), 'utf8');
    const r = run();
    // Each layer's cached choice, or (the NHWC region's decision cached too) the region's.
    for (const l of r.layers.filter((x) => x.op.startsWith('Conv'))) {
      expect(l.choice).toMatch(/^(cached choice|one thread pool for the model)|^measured: NHWC region .*\(measured by an earlier process: .*auto-v2\.tsv\)$/);
    }
    expect(fs.readFileSync(file(), 'utf8')).toBe(before);
    expectClose(Float32Array.from(r.y), Float32Array.from(first.y), 1e-5, 1e-6);
  });

  test('another thread count is measured anew', () => {
    run({ NEONN_THREADS: '1' });
    const lines = fs.readFileSync(file(), 'utf8').trim().split('\n');
    expect(lines.some((l) => l.includes('|plan|t1|'))).toBe(true);
  });

  test('garbage lines in the cache file are ignored', () => {
    fs.appendFileSync(file(), 'not a line\n\t\t\t\nkey\tnobackend\twt8x8\t5\n');
    const r = run();
    expect(r.layers.filter((l) => l.op.startsWith('Conv'))).toHaveLength(2);
  });

  test('NEONN_CACHE_DIR=off keeps choices in memory; an unusable directory only costs measurements', () => {
    const off = run({ NEONN_CACHE_DIR: 'off' });
    for (const l of off.layers.filter((x) => x.op.startsWith('Conv'))) expect(l.choice).toMatch(/^(measured|one thread pool for the model)/);
    const blocker = path.join(dir, 'a-file');
    fs.writeFileSync(blocker, '');
    const bad = run({ NEONN_CACHE_DIR: path.join(blocker, 'sub') });
    expectClose(Float32Array.from(bad.y), Float32Array.from(off.y), 1e-5, 1e-6);
  });

  test('a layer can be pinned by Conv node name', () => {
    const names = run().layers.filter((l) => l.op.startsWith('Conv')).map((l) => /"([^"]+)"/.exec(l.name)![1]);
    const r = run({ PINS: JSON.stringify({ [names[1]]: 'im2col' }) });
    const pinned = r.layers.find((l) => l.name.includes(`"${names[1]}"`))!;
    expect(pinned.algorithm).toBe('im2col');
  });
});

describe('loadOnnx algorithms option', () => {
  const bytes = smallNet();
  test('unknown node names, algorithms and types are refused', () => {
    expect(() => nn.loadOnnxSync(bytes, { algorithms: { nope: 'im2col' } })).toThrow(RangeError);
    expect(() => nn.loadOnnxSync(bytes, { algorithms: { nope: 'im2col' } })).toThrow(/loadOnnxSync: "algorithms" names no Conv node: "nope"/);
    const conv = nn.loadOnnxSync(bytes).layers().find((l) => l.op.startsWith('Conv'))!;
    const name = /"([^"]+)"/.exec(conv.name)![1];
    expect(() => nn.loadOnnxSync(bytes, { algorithms: { [name]: 'fast' as never } })).toThrow(/loadOnnxSync: "algorithms\[".*"\]" must be 'auto' or 'im2col'/);
    expect(() => nn.loadOnnxSync(bytes, { algorithms: [] as never })).toThrow(TypeError);
    expect(() => nn.loadOnnxSync(bytes, { algos: {} } as never)).toThrow(/loadOnnxSync: unknown option "algos"/);
  });

  test('a pinned layer reports its algorithm and the model stays correct', () => {
    const conv = nn.loadOnnxSync(bytes).layers().find((l) => l.op.startsWith('Conv'))!;
    const name = /"([^"]+)"/.exec(conv.name)![1];
    const x = randomTensor([1, 8, 20, 20], 9);
    const ref = withBackend('reference', () => {
      const m = nn.loadOnnxSync(bytes);
      return Object.values(m.runSync({ [m.inputNames[0]]: x }))[0];
    });
    const m = nn.loadOnnxSync(bytes, { algorithms: { [name]: 'im2col' } });
    const got = withBackend('auto', () => Object.values(m.runSync({ [m.inputNames[0]]: x }))[0]);
    expectClose(got.data, ref.data, 1e-4, 1e-5);
    const layer = withBackend('auto', () => m.layers().find((l) => l.name === conv.name)!);
    expect(layer.algorithm).toBe('im2col');
    expect(layer.planBytes).toBeGreaterThanOrEqual(0);
  });
});

describe('auto keeps a model on one thread pool at several threads', () => {
  // Measured per layer alone, a model may alternate between libraries whose
  // idle workers spin (each OpenBLAS build, pthreadpool); moved onto one
  // pool, each layer says so and names the pool, and runs stay identical.
  const probe = `
    const nn = require('./dist');
    nn.setThreads(2);
    const m = nn.loadOnnxSync(nn.zoo.onnx.squeezenet({ seed: 3, softmax: false }));
    const x = nn.tensor(Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i / 7)), [1, 3, 224, 224]);
    const a = m.runSync({ [m.inputNames[0]]: x });
    const b = m.runSync({ [m.inputNames[0]]: x });
    const layers = m.layers().filter((l) => l.algorithm !== undefined);
    process.stdout.write(JSON.stringify({ layers, same: Object.values(a)[0].data.every((v, i) => v === Object.values(b)[0].data[i]) }));
  `;
  test('SqueezeNet at 2 threads: moved layers share one backend; the first run equals the second', () => {
    const r = JSON.parse(child(probe, { NEONN_CACHE_DIR: 'off' })) as { layers: nn.OnnxLayer[]; same: boolean };
    expect(r.same).toBe(true);
    expect(r.layers.length).toBe(26);
    const moved = r.layers.filter((l) => l.choice!.startsWith('one thread pool for the model: '));
    const pools = new Set(moved.map((l) => /model: ([^/]+)\//.exec(l.choice!)![1]));
    expect(pools.size).toBeLessThanOrEqual(1);
    for (const l of moved) expect(l.backend).toBe([...pools][0]);
  });
});
