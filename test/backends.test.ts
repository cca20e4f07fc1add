// Backend listing, selection and threads; NEONN_* variables in child processes
// (they are read once at load, so each setting needs a fresh process).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import * as nn from '../lib';
import { randomTensor } from './helpers';

const root = path.resolve(__dirname, '..');

function runChild(code: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['-e', code], {
    cwd: root,
    env: { ...process.env, NEONN_BACKEND: '', NEONN_THREADS: '', ...env },
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('backends()', () => {
  const list = nn.backends();

  test('lists openblas, openblas-dl and reference, available, with versions', () => {
    expect(list.map((b) => b.name)).toEqual(expect.arrayContaining(['openblas', 'openblas-dl', 'reference']));
    for (const name of ['openblas', 'openblas-dl', 'reference']) {
      const b = list.find((x) => x.name === name)!;
      expect(b.available).toBe(true);
      expect(b.reason).toBeUndefined();
      expect(typeof b.version).toBe('string');
    }
  });

  test('OpenBLAS builds report their config string and the core they picked', () => {
    for (const name of ['openblas', 'openblas-dl']) {
      const b = list.find((x) => x.name === name)!;
      expect(b.config).toMatch(/^OpenBLAS \d+\.\d+\.\d+/);
      expect(b.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(b.core).toMatch(/\S/);
      expect(b.fallback).toBe('reference');
    }
  });

  // The x64 builds carry Nehalem, Sandy Bridge, Haswell and SkylakeX kernels
  // (deps/openblas.cmake): each CPU must get the newest set it can run, by the
  // flags the kernel reports. (Zen 1-3 run the Haswell set, reported as such;
  // Cooper Lake, Sapphire Rapids, Zen 4 and 5 the SkylakeX set.)
  const x64Linux = process.arch === 'x64' && fs.existsSync('/proc/cpuinfo');
  (x64Linux && !process.env.OPENBLAS_CORETYPE ? test : test.skip)('x64: both OpenBLAS builds run the newest kernels this CPU supports', () => {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? '';
    const flags = new Set(line.replace(/^flags\s*:/, '').trim().split(/\s+/));
    const has = (...f: string[]) => f.every((x) => flags.has(x));
    const want = has('avx512f', 'avx512bw', 'avx512dq', 'avx512vl')
      ? 'SkylakeX'
      : has('avx2', 'fma')
        ? 'Haswell'
        : has('avx')
          ? 'Sandybridge'
          : has('sse4_2')
            ? 'Nehalem'
            : 'Prescott';
    for (const name of ['openblas', 'openblas-dl']) {
      expect(list.find((x) => x.name === name)!.core).toBe(want);
    }
  });
  if (process.env.OPENBLAS_CORETYPE) console.warn('SKIPPED the OpenBLAS core detection test: OPENBLAS_CORETYPE is set');

  test('each entry is a fresh plain object (callers may mutate it)', () => {
    const a = nn.backends();
    (a[0] as { name: string }).name = 'mutated';
    expect(nn.backends()[0].name).not.toBe('mutated');
  });
});

describe('setBackend / getBackend', () => {
  const initial = nn.getBackend();
  afterAll(() => nn.setBackend(initial));

  test('switches and reports the active backend; ops run on it', () => {
    const a = randomTensor([8, 8], 1);
    for (const name of ['reference', 'openblas-dl', 'openblas']) {
      nn.setBackend(name);
      expect(nn.getBackend()).toBe(name);
      const before = nn.backends().find((b) => b.name === name)!.opsRun;
      nn.gemm(a, a);
      expect(nn.backends().find((b) => b.name === name)!.opsRun).toBe(before + 1);
    }
  });

  test('an unknown name is a RangeError listing what is available', () => {
    expect(() => nn.setBackend('cuda')).toThrow(RangeError);
    expect(() => nn.setBackend('cuda')).toThrow(/setBackend: unknown backend "cuda"; available: .*openblas, openblas-dl.*reference/);
  });

  test('a non-string is a TypeError', () => {
    expect(() => nn.setBackend(3 as never)).toThrow(TypeError);
    expect(() => nn.setBackend(3 as never)).toThrow(/expected "name" to be a string, received number 3/);
  });
});

describe('setThreads / getThreads', () => {
  const initial = nn.getThreads();
  afterAll(() => nn.setThreads(initial));

  test('defaults to the online cores and reaches every OpenBLAS build', () => {
    expect(initial).toBe(nn.diagnostics().cpu.cores);
    nn.setThreads(1);
    expect(nn.getThreads()).toBe(1);
    for (const b of nn.backends().filter((x) => x.name.startsWith('openblas'))) expect(b.threads).toBe(1);
    nn.setThreads(2);
    for (const b of nn.backends().filter((x) => x.name.startsWith('openblas'))) expect(b.threads).toBe(2);
  });

  test.each([
    [0, RangeError, /"n" must be an integer from 1 to 1024, got 0/],
    [1.5, RangeError, /got 1.5/],
    [NaN, RangeError, /got NaN/],
    [5000, RangeError, /got 5000/],
    ['2', TypeError, /expected "n" to be a number, received string "2"/],
  ])('setThreads(%p) throws', (n, cls, message) => {
    expect(() => nn.setThreads(n as number)).toThrow(cls as ErrorConstructor);
    expect(() => nn.setThreads(n as number)).toThrow(message as RegExp);
  });
});

describe('environment variables (child processes)', () => {
  const probe = `
    const nn = require('neonn');
    const a = nn.tensor(new Float32Array(64).fill(1), [8, 8]);
    const y = nn.gemm(a, a);
    console.log(JSON.stringify({ backend: nn.getBackend(), threads: nn.getThreads(), y0: y.data[0],
      ops: Object.fromEntries(nn.backends().map((b) => [b.name, b.opsRun])),
      obThreads: Object.fromEntries(nn.backends().map((b) => [b.name, b.threads])) }));`;

  test.each(['openblas', 'openblas-dl', 'reference'])('NEONN_BACKEND=%s selects it and gemm runs there', (name) => {
    const r = runChild(probe, { NEONN_BACKEND: name });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.backend).toBe(name);
    expect(out.y0).toBe(8);
    for (const [b, n] of Object.entries(out.ops)) expect(n).toBe(b === name ? 1 : 0);
  });

  test('NEONN_BACKEND unknown: loading fails with the list of backends', () => {
    const r = runChild(probe, { NEONN_BACKEND: 'nope' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/NEONN_BACKEND=nope: setBackend: unknown backend "nope"; available: auto, openblas, openblas-dl/);
  });

  test('NEONN_THREADS=1 sets every backend to one thread', () => {
    const r = runChild(probe, { NEONN_THREADS: '1', NEONN_BACKEND: 'openblas-dl' });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.threads).toBe(1);
    expect(out.obThreads['openblas']).toBe(1);
    expect(out.obThreads['openblas-dl']).toBe(1);
  });

  test.each(['0', 'two', '-3', '1.5'])('NEONN_THREADS=%s is a clear error', (v) => {
    const r = runChild(probe, { NEONN_THREADS: v });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/NEONN_THREADS must be an integer from 1 to 1024, got/);
  });
});

describe('threads above the online cores are clamped, with one warning', () => {
  // A pool of NEONN_THREADS threads per library used to be created as asked:
  // NEONN_THREADS=999 on 2 cores made ~1,200 threads and each op waited for
  // the scheduler. Now every pool is sized to the online cores at most.
  const cores = nn.diagnostics().cpu.cores;

  // Counts this process's threads before neonn loads and after a conv on each
  // available backend (each library then has its pool up), and the warnings.
  const probe = `
    const fs = require('fs');
    const tasks = () => fs.readdirSync('/proc/self/task').length;
    const warnings = [];
    process.on('warning', (w) => warnings.push({ code: w.code, message: w.message }));
    const before = tasks();
    const nn = require('./dist');
    if (process.env.SET) { nn.setThreads(Number(process.env.SET)); nn.setThreads(Number(process.env.SET) + 1); }
    const x = nn.tensor(Float32Array.from({ length: 16 * 40 * 40 }, (_, i) => Math.sin(i)), [1, 16, 40, 40]);
    const w = nn.tensor(Float32Array.from({ length: 32 * 16 * 9 }, (_, i) => Math.cos(i)), [32, 16, 3, 3]);
    const ran = [];
    for (const b of nn.backends().filter((b) => b.available && !b.name.startsWith('blas:'))) {
      nn.setBackend(b.name);
      nn.conv2d(x, w, { pads: 1 });
      nn.maxPool2d(x, { kernel: 2, strides: 2 });
      ran.push(b.name);
    }
    setImmediate(() => console.log(JSON.stringify({ threads: nn.getThreads(), before, after: tasks(), ran, warnings,
      backendThreads: Object.fromEntries(nn.backends().filter((b) => b.available).map((b) => [b.name, b.threads])) })));`;

  // Each library's pool has at most `cores` threads (the caller included or
  // not): one per available backend plus neonn's own pool and libuv's 4.
  const bound = (ran: string[]): number => (ran.length + 1) * cores + 4;

  test('NEONN_THREADS=999: getThreads() is the core count, one warning, bounded threads', () => {
    const r = runChild(probe, { NEONN_THREADS: '999', NEONN_CACHE_DIR: 'off' });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.threads).toBe(cores);
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0].code).toBe('NEONN_THREADS_CLAMPED');
    expect(out.warnings[0].message).toMatch(new RegExp(`NEONN_THREADS=999: 999 threads requested, but this machine has ${cores} online cores; using ${cores}`));
    for (const [, t] of Object.entries(out.backendThreads)) expect(t as number).toBeLessThanOrEqual(cores);
    expect(out.ran.length).toBeGreaterThanOrEqual(3);
    expect(out.after - out.before).toBeLessThanOrEqual(bound(out.ran));
  });

  test('setThreads(10 x cores) twice: clamped, warned once, bounded threads', () => {
    const r = runChild(probe, { SET: String(10 * cores), NEONN_CACHE_DIR: 'off' });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.threads).toBe(cores);
    expect(out.warnings.map((w: { code: string }) => w.code)).toEqual(['NEONN_THREADS_CLAMPED']);
    expect(out.warnings[0].message).toMatch(/^setThreads: \d+ threads requested/);
    expect(out.after - out.before).toBeLessThanOrEqual(bound(out.ran));
  });

  test('the core count itself is no warning', () => {
    const r = runChild(probe, { NEONN_THREADS: String(cores), NEONN_CACHE_DIR: 'off' });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.threads).toBe(cores);
    expect(out.warnings).toEqual([]);
  });
});
