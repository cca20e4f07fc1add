// Running a script with Debian's own nodejs for an ARM architecture under
// qemu-user, as test/arm and test/package do. Sysroots come from
// scripts/setup-arm.sh (scripts/arm-sysroot.sh); NEONN_SYSROOT_ARM64 and
// NEONN_SYSROOT_ARMHF point elsewhere.
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface ArmPlatform {
  /** prebuilds/<prebuild> */
  prebuild: 'linux-arm' | 'linux-arm64';
  /** process.arch there */
  arch: 'arm' | 'arm64';
  qemu: string;
  sysroot: string;
  /** The cores emulated, oldest first: a SIGILL on one of them is a failure. */
  cpus: string[];
  /**
   * The kernel set both OpenBLAS builds must pick at run time on each emulated
   * core (openblas_get_corename), including cores only checked for that.
   */
  openblasCores: Record<string, string>;
}

export const ARM_PLATFORMS: ArmPlatform[] = [
  { prebuild: 'linux-arm', arch: 'arm', qemu: 'qemu-arm', sysroot: process.env.NEONN_SYSROOT_ARMHF ?? '/opt/neonn-sysroot-armhf', cpus: ['cortex-a7'], openblasCores: { 'cortex-a7': 'ARMV7' } },
  { prebuild: 'linux-arm64', arch: 'arm64', qemu: 'qemu-aarch64', sysroot: process.env.NEONN_SYSROOT_ARM64 ?? '/opt/neonn-sysroot-arm64', cpus: ['cortex-a53', 'cortex-a72'],
    // cortex-a76: the Raspberry Pi 5, which 0.3.29's detection alone would
    // give generic armv8 kernels (deps/openblas_build.cmake, "Source edits").
    openblasCores: { 'cortex-a53': 'cortexa53', 'cortex-a72': 'cortexa72', 'cortex-a76': 'neoversen1' } },
];

export function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Why `p` cannot be emulated here (null when it can). */
export function emulationMissing(p: ArmPlatform): string | null {
  if (!which(p.qemu)) return `${p.qemu} not installed (scripts/setup-arm.sh installs qemu-user)`;
  if (!fs.existsSync(path.join(p.sysroot, 'usr', 'bin', 'node'))) return `no Debian nodejs sysroot at ${p.sysroot} (scripts/setup-arm.sh)`;
  return null;
}

/** Why prebuilds/<p.prebuild> under `root` is missing (null when it is there). */
export function prebuildMissing(root: string, p: ArmPlatform): string | null {
  const dir = path.join(root, 'prebuilds', p.prebuild);
  if (!fs.existsSync(dir) || !fs.readdirSync(dir).some((f) => f.endsWith('.node'))) return `no prebuild in ${dir} (npm run prebuilds)`;
  return null;
}

/** Says loudly, once per suite, why an emulated suite does not run. */
export function warnSkipped(what: string, why: string): void {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED ${what}: ${why}`);
}

/** Runs `node <args>` for `p` under `qemu -cpu <cpu>`. */
export function runEmulated(
  p: ArmPlatform,
  cpu: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number },
): SpawnSyncReturns<string> {
  // OpenBLAS's own overrides (OPENBLAS_CORETYPE=Haswell, say, set for this x86-64 host) name host cores: the
  // emulated core must be found by OpenBLAS's detection, as on a board.
  const host = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OPENBLAS_')));
  return spawnSync(p.qemu, ['-cpu', cpu, path.join(p.sysroot, 'usr', 'bin', 'node'), ...args], {
    cwd: opts.cwd,
    encoding: 'utf8',
    env: { ...host, NEONN_BACKEND: '', ...opts.env, QEMU_LD_PREFIX: p.sysroot },
    maxBuffer: 64 << 20,
    timeout: opts.timeout ?? 240_000,
  });
}

/**
 * A package with dist/ and one platform's prebuild, and no build/: what
 * `npm install neonn` leaves on a board; `scripts` are copied into its test/.
 * Its node_modules is this checkout's (plain JS dependencies).
 */
export function stagePackage(root: string, p: ArmPlatform, scripts: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `neonn-${p.prebuild}-`));
  fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(root, 'prebuilds', p.prebuild), path.join(dir, 'prebuilds', p.prebuild), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  fs.mkdirSync(path.join(dir, 'test'));
  for (const s of scripts) fs.copyFileSync(s, path.join(dir, 'test', path.basename(s)));
  return dir;
}
