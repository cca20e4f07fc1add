// The ARM prebuilds, run as they would run on a board: Debian's own nodejs
// for that architecture under qemu-user, emulating the oldest cores we ship
// for (a SIGILL there is a failure: an instruction those boards lack). The
// results of every op, backend, sync/async path and a Sequential model must
// match this machine's at the usual tolerance.
//
// Needs: qemu-user, sysroots made by scripts/arm-sysroot.sh, and the
// prebuilds (npm run prebuilds). .ci/run sets all of it up; elsewhere the
// tests say loudly that they were skipped and why.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ARM_PLATFORMS, emulationMissing, prebuildMissing, runEmulated, stagePackage, warnSkipped } from './qemu';

const root = path.resolve(__dirname, '..', '..');
const suite = path.join(__dirname, 'suite.js');
const coresScript = path.join(__dirname, 'cores.js');

interface SuiteResult {
  arch: string;
  features: string[];
  cores: string[];
  flavour: string;
  results: Record<string, number[]>;
  errors: string[];
}

function parse(r: ReturnType<typeof spawnSync>, what: string): SuiteResult {
  if (r.status !== 0 || r.signal) {
    throw new Error(`${what} failed (status ${r.status}, signal ${r.signal}):\n${String(r.stderr).slice(0, 2000)}`);
  }
  return JSON.parse(String(r.stdout)) as SuiteResult;
}

let native: SuiteResult;
beforeAll(() => {
  // Without NNPACK (loaded at run time), as under emulation: auto then
  // chooses among the same backends on both sides (XNNPACK is built in).
  const env = { ...process.env, NEONN_BACKEND: '', NEONN_NNPACK_LIBRARY: '/nonexistent/libnnpack.so' };
  native = parse(spawnSync(process.execPath, [suite], { cwd: root, encoding: 'utf8', env, maxBuffer: 64 << 20 }), 'native suite');
});

describe.each(ARM_PLATFORMS)('$prebuild prebuild under qemu-user', (p) => {
  const why = emulationMissing(p) ?? prebuildMissing(root, p);
  if (why !== null) {
    warnSkipped(`emulated ${p.prebuild} tests`, why);
    test.skip(`${p.prebuild}: ${why}`, () => undefined);
    return;
  }
  let dir: string;
  beforeAll(() => {
    dir = stagePackage(root, p, [suite, coresScript]);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each(p.cpus)('-cpu %s: loads the prebuild, NEON build, every op matches x86-64', (cpu) => {
    const arm = parse(runEmulated(p, cpu, [path.join(dir, 'test', 'suite.js')], { cwd: dir }), `${p.prebuild} on ${cpu}`);
    expect(arm.arch).toBe(p.arch);
    expect(arm.flavour).toBe('neon');
    expect(arm.features).toEqual(expect.arrayContaining(p.prebuild === 'linux-arm' ? ['neon', 'vfpv4'] : ['asimd']));
    expect(arm.errors).toEqual(native.errors);
    // Both OpenBLAS builds picked this core's kernels (not a generic fallback).
    const core = p.openblasCores[cpu];
    expect(arm.cores.sort()).toEqual([`openblas-dl:${core}`, `openblas:${core}`]);
    expect(Object.keys(arm.results).sort()).toEqual(Object.keys(native.results).sort());
    for (const [name, want] of Object.entries(native.results)) {
      const got = arm.results[name];
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        if (!(Math.abs(got[i] - want[i]) <= 1e-4 + 1e-4 * Math.abs(want[i]))) {
          throw new Error(`${name}[${i}] on ${p.prebuild}/${cpu}: ${got[i]} vs x86-64 ${want[i]}`);
        }
      }
    }
  });

  // Cores checked only for OpenBLAS's choice (the full suite above runs on the
  // oldest ones).
  const extra = Object.keys(p.openblasCores).filter((cpu) => !p.cpus.includes(cpu));
  if (extra.length > 0) {
    test.each(extra)('-cpu %s: both OpenBLAS builds pick the expected kernels', (cpu) => {
      const r = runEmulated(p, cpu, [path.join(dir, 'test', 'cores.js')], { cwd: dir });
      if (r.status !== 0 || r.signal) throw new Error(`cores.js on ${p.prebuild}/${cpu} failed (status ${r.status}, signal ${r.signal}):\n${String(r.stderr).slice(0, 2000)}`);
      const want = p.openblasCores[cpu];
      expect(JSON.parse(r.stdout)).toEqual({ openblas: want, 'openblas-dl': want });
    });
  }
});
