// The ARM prebuilds, run as they would run on a board: Debian's own nodejs
// for that architecture under qemu-user, emulating the oldest cores we ship
// for (a SIGILL there is a failure: an instruction those boards lack). The
// results of every op, backend, sync/async path and a Sequential model must
// match this machine's at the usual tolerance.
//
// Needs: qemu-user, sysroots made by scripts/arm-sysroot.sh, and the
// prebuilds (npm run prebuild). .ci/run sets all of it up; elsewhere the
// tests say loudly that they were skipped and why.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');
const suite = path.join(__dirname, 'suite.js');

interface Platform {
  prebuild: string;
  qemu: string;
  sysroot: string;
  cpus: string[];
}
const PLATFORMS: Platform[] = [
  { prebuild: 'linux-arm', qemu: 'qemu-arm', sysroot: process.env.NEONN_SYSROOT_ARMHF ?? '/opt/neonn-sysroot-armhf', cpus: ['cortex-a7'] },
  { prebuild: 'linux-arm64', qemu: 'qemu-aarch64', sysroot: process.env.NEONN_SYSROOT_ARM64 ?? '/opt/neonn-sysroot-arm64', cpus: ['cortex-a53', 'cortex-a72'] },
];

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function missing(p: Platform): string | null {
  if (!which(p.qemu)) return `${p.qemu} not installed (apt-get install qemu-user)`;
  if (!fs.existsSync(path.join(p.sysroot, 'usr', 'bin', 'node'))) return `no sysroot at ${p.sysroot} (scripts/arm-sysroot.sh)`;
  const dir = path.join(root, 'prebuilds', p.prebuild);
  if (!fs.existsSync(dir) || !fs.readdirSync(dir).some((f) => f.endsWith('.node'))) return `no prebuild in ${dir} (npm run prebuild)`;
  return null;
}

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

/** A package with dist/ and one platform's prebuild, and no build/: what `npm install neonn` leaves on a board. */
function stage(p: Platform): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `neonn-${p.prebuild}-`));
  fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(root, 'prebuilds', p.prebuild), path.join(dir, 'prebuilds', p.prebuild), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  fs.mkdirSync(path.join(dir, 'test'));
  fs.copyFileSync(suite, path.join(dir, 'test', 'suite.js'));
  return dir;
}

let native: SuiteResult;
beforeAll(() => {
  native = parse(spawnSync(process.execPath, [suite], { cwd: root, encoding: 'utf8', env: { ...process.env, NEONN_BACKEND: '' }, maxBuffer: 64 << 20 }), 'native suite');
});

describe.each(PLATFORMS)('$prebuild prebuild under qemu-user', (p) => {
  const why = missing(p);
  if (why !== null) {
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED emulated ${p.prebuild} tests: ${why}`);
    test.skip(`${p.prebuild}: ${why}`, () => undefined);
    return;
  }
  let dir: string;
  beforeAll(() => {
    dir = stage(p);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each(p.cpus)('-cpu %s: loads the prebuild, NEON build, every op matches x86-64', (cpu) => {
    const r = spawnSync(p.qemu, ['-cpu', cpu, path.join(p.sysroot, 'usr', 'bin', 'node'), path.join(dir, 'test', 'suite.js')], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, QEMU_LD_PREFIX: p.sysroot, NEONN_BACKEND: '' },
      maxBuffer: 64 << 20,
      timeout: 240_000,
    });
    const arm = parse(r, `${p.prebuild} on ${cpu}`);
    expect(arm.arch).toBe(p.prebuild === 'linux-arm' ? 'arm' : 'arm64');
    expect(arm.flavour).toBe('neon');
    expect(arm.features).toEqual(expect.arrayContaining(p.prebuild === 'linux-arm' ? ['neon', 'vfpv4'] : ['asimd']));
    expect(arm.errors).toEqual(native.errors);
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
});
