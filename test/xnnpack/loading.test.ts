// Loading the xnnpack backend, each case in a fresh process (the registry
// probes once per process): a missing file, stand-in libraries compiled here
// that lack a symbol, come from a newer XNNPACK, fail xnn_initialize, or
// refuse every operator. neonn must load regardless, report why xnnpack is
// unavailable, and turn every XNNPACK failure into an error or a fallback,
// never a crash.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '../..');

/** Every symbol neonn resolves from the library (src/xnnpack/xnnpack_api.cc). */
const SYMBOLS = [
  'xnn_initialize',
  'xnn_run_operator',
  'xnn_delete_operator',
  'xnn_create_convolution2d_nhwc_f32',
  'xnn_setup_convolution2d_nhwc_f32',
  'xnn_create_fully_connected_nc_f32',
  'xnn_setup_fully_connected_nc_f32',
  'xnn_create_max_pooling2d_nhwc_f32',
  'xnn_setup_max_pooling2d_nhwc_f32',
  'xnn_create_average_pooling2d_nhwc_f32',
  'xnn_setup_average_pooling2d_nhwc_f32',
  'xnn_create_global_average_pooling_ncw_f32',
  'xnn_setup_global_average_pooling_ncw_f32',
  'xnn_create_add_nd_f32',
  'xnn_setup_add_nd_f32',
  'xnn_create_clamp_nc_f32',
  'xnn_setup_clamp_nc_f32',
  'pthreadpool_create',
  'pthreadpool_destroy',
  'pthreadpool_parallelize_1d',
];

interface StandIn {
  omit?: string[];
  extra?: string[];
  initStatus?: number;
  createStatus?: number;
}

/** C source of a library with XNNPACK's symbol names whose calls return fixed statuses. */
function standInSource(o: StandIn): string {
  const lines = ['#include <stddef.h>'];
  for (const name of [...SYMBOLS, ...(o.extra ?? [])]) {
    if (o.omit?.includes(name)) continue;
    if (name === 'xnn_initialize') lines.push(`int xnn_initialize(const void* a) { (void)a; return ${o.initStatus ?? 0}; }`);
    else if (name === 'pthreadpool_create') lines.push('void* pthreadpool_create(size_t n) { (void)n; return NULL; }');
    else if (name === 'pthreadpool_destroy') lines.push('void pthreadpool_destroy(void* p) { (void)p; }');
    else if (name === 'pthreadpool_parallelize_1d') {
      lines.push('void pthreadpool_parallelize_1d(void* p, void (*f)(void*, size_t), void* c, size_t n, unsigned flags) {');
      lines.push('  (void)p; (void)flags; for (size_t i = 0; i < n; i++) f(c, i); }');
    } else if (name.startsWith('xnn_create_')) lines.push(`int ${name}() { return ${o.createStatus ?? 0}; }`);
    else lines.push(`int ${name}() { return 0; }`);
  }
  return `${lines.join('\n')}\n`;
}

let dir: string;
const libs: Record<string, string> = {};
const standIns: Record<string, StandIn> = {
  noMaxPoolSetup: { omit: ['xnn_setup_max_pooling2d_nhwc_f32'] },
  noPthreadpool: { omit: ['pthreadpool_create', 'pthreadpool_parallelize_1d'] },
  newer: { extra: ['xnn_create_weights_cache'] },
  initFails: { initStatus: 5 },
  refusesAll: { createStatus: 4 },
  outOfMemory: { createStatus: 6 },
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-xnnpack-'));
  for (const [name, o] of Object.entries(standIns)) {
    const src = path.join(dir, `${name}.c`);
    fs.writeFileSync(src, standInSource(o));
    libs[name] = path.join(dir, `lib${name}.so`);
    execFileSync('cc', ['-shared', '-fPIC', '-O1', '-w', '-o', libs[name], src]);
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs `code` (with `nn` loaded) in a child with NEONN_XNNPACK_LIBRARY=library; parses its JSON output. */
function child(library: string, code: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['-e', `const nn = require('./dist');\n${code}`], {
    cwd: root,
    env: { ...process.env, NEONN_BACKEND: '', NEONN_THREADS: '', NEONN_CACHE_DIR: 'off', NEONN_XNNPACK_LIBRARY: library },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`child exited with ${String(r.status)} (${String(r.signal)}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

// The xnnpack entry, what setBackend('xnnpack') threw, and that the rest still works.
const PROBE = `
  const x = nn.backends().find((b) => b.name === 'xnnpack');
  let error = null;
  try { nn.setBackend('xnnpack'); } catch (e) { error = { name: e.name, code: e.code, message: e.message }; }
  const a = nn.tensor(new Float32Array(16).fill(1), [4, 4]);
  process.stdout.write(JSON.stringify({ xnnpack: x, error, backend: nn.getBackend(), gemm: nn.gemm(a, a).data[0] }));`;

interface Probe {
  xnnpack: { available: boolean; reason?: string; library?: string };
  error: { name: string; code: string; message: string } | null;
  backend: string;
  gemm: number;
}

function expectUnavailable(library: string, reason: RegExp): void {
  const out = child(library, PROBE) as unknown as Probe;
  expect(out.xnnpack.available).toBe(false);
  expect(out.xnnpack.reason).toMatch(reason);
  expect(out.error).not.toBeNull();
  expect(out.error!.code).toBe('ERR_NEONN_BACKEND_UNAVAILABLE');
  expect(out.error!.message).toMatch(/^setBackend: backend "xnnpack" is unavailable: /);
  expect(out.error!.message).toContain(out.xnnpack.reason!);
  expect(out.error!.message).toMatch(/available: auto, openblas, openblas-dl, (nnpack, )?reference/);
  expect(out.backend).toBe('auto');
  expect(out.gemm).toBe(4);
}

describe('xnnpack backend loading', () => {
  test('NEONN_XNNPACK_LIBRARY naming a missing file: unavailable, the path in the reason', () => {
    expectUnavailable('/nonexistent/libXNNPACK.so', /^cannot load \/nonexistent\/libXNNPACK\.so: .*No such file.*\(NEONN_XNNPACK_LIBRARY\)$/);
  });

  test('a library without one of the symbols: the reason names it', () => {
    expectUnavailable(libs.noMaxPoolSetup, new RegExp(`^${libs.noMaxPoolSetup} lacks xnn_setup_max_pooling2d_nhwc_f32: not a usable XNNPACK library$`));
  });

  test('pthreadpool is resolved through the same library; missing, it is named too', () => {
    expectUnavailable(libs.noPthreadpool, /lacks pthreadpool_create, pthreadpool_parallelize_1d: /);
  });

  test('a newer XNNPACK (operator calls with cache arguments) is refused, not called', () => {
    expectUnavailable(libs.newer, /is a newer XNNPACK than neonn supports \(it has xnn_create_weights_cache; .*0\.0~git20220216/);
  });

  test('xnn_initialize failing: its status is the reason', () => {
    expectUnavailable(libs.initFails, /^xnn_initialize failed: unsupported hardware \(.*libinitFails\.so\)$/);
  });

  test('operators XNNPACK refuses: conv2d, pooling and fullyConnected fall back; a pinned xnnpack conv is a RangeError', () => {
    const out = child(
      libs.refusesAll,
      `
      const t = (shape) => nn.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i)), shape);
      const x = t([1, 8, 16, 16]);
      const w = t([4, 8, 3, 3]);
      const fx = t([8, 30]);
      const fw = t([5, 30]);
      const ops = () => [nn.conv2d(x, w, { pads: 1 }).data, nn.maxPool2d(x, { kernel: 3, strides: 2 }).data,
                         nn.avgPool2d(x, { kernel: 2, strides: 2 }).data, nn.globalAvgPool(x).data,
                         nn.fullyConnected(fx, fw).data, nn.relu(x).data];
      nn.setBackend('reference');
      const want = ops();
      nn.setBackend('xnnpack');
      const got = ops();
      let pinned = null;
      try { nn.conv2d(x, w, { pads: 1, algorithm: 'xnnpack' }); } catch (e) { pinned = { name: e.name, message: e.message }; }
      const diff = Math.max(...got.map((g, k) => Math.max(...g.map((v, i) => Math.abs(v - want[k][i])))));
      const info = nn.backends().find((b) => b.name === 'xnnpack');
      process.stdout.write(JSON.stringify({ diff, pinned, available: info.available, config: info.config, im2col: nn.backends().find((b) => b.name === 'openblas').convRuns.im2col }));`,
    );
    expect(out.available).toBe(true);
    expect(out.diff).toBeLessThan(1e-4);
    expect(out.im2col).toBe(1);
    expect(out.pinned).toEqual({ name: 'RangeError', message: 'conv2d: XNNPACK xnn_create_convolution2d_nhwc_f32 failed: unsupported parameter' });
    // The probe of the elementwise kernels fails too: add/relu/clip stay on the fallback.
    expect(out.config).toMatch(/add\/relu\/clip on the fallback/);
  });

  test('XNNPACK out of memory: a NeonnError naming the call, and the process goes on', () => {
    const out = child(
      libs.outOfMemory,
      `
      nn.setBackend('xnnpack');
      const x = nn.tensor(new Float32Array(2 * 8 * 8).fill(1), [1, 2, 8, 8]);
      const w = nn.tensor(new Float32Array(2 * 2 * 3 * 3).fill(1), [2, 2, 3, 3]);
      let error = null;
      try { nn.conv2d(x, w); } catch (e) { error = { name: e.name, code: e.code, message: e.message }; }
      nn.setBackend('openblas');
      process.stdout.write(JSON.stringify({ error, after: nn.conv2d(x, w).data[0] }));`,
    );
    expect(out.error).toEqual({ name: 'NeonnError', code: 'ERR_NEONN_NO_MEMORY', message: 'conv2d: XNNPACK xnn_create_convolution2d_nhwc_f32 failed: out of memory' });
    expect(out.after).toBe(18);
  });
});
