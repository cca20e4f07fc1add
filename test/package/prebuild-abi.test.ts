// What a prebuild asks of the machine it lands on, read from its dynamic
// section: glibc >= 2.34 and libgcc_s, nothing else — in particular no
// libstdc++.so.6 of some minimum version (libstdc++ is linked in statically;
// see CMakeLists.txt and binding/glibc_compat.cc). The README's install
// section promises exactly this baseline (Debian 12 bookworm, Raspberry Pi OS
// bookworm, Ubuntu 22.04, RHEL 9, or later).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');
const TARGETS = ['linux-x64', 'linux-arm64', 'linux-arm'];
const GLIBC_BASELINE = '2.34';
/** The libraries a prebuild may need: glibc's (libc, libm, the loader) and libgcc_s. */
const ALLOWED_NEEDED = /^(libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|ld-linux[-\w.]*\.so\.\d)$/;

function readelf(args: string[], file: string): string {
  const r = spawnSync('readelf', [...args, '-W', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`readelf ${args.join(' ')} ${file} failed: ${r.stderr}`);
  return r.stdout;
}

/** Version needs as `library -> [versions]`, from `readelf -V`'s .gnu.version_r. */
function versionNeeds(file: string): Map<string, string[]> {
  const needs = new Map<string, string[]>();
  let lib: string | null = null;
  let inNeeds = false;
  for (const line of readelf(['-V'], file).split('\n')) {
    if (line.startsWith('Version needs section')) inNeeds = true;
    else if (/^Version \w+ section/.test(line)) inNeeds = false;
    if (!inNeeds) continue;
    const f = /File: (\S+)/.exec(line);
    if (f) {
      lib = f[1];
      needs.set(lib, []);
      continue;
    }
    const n = /Name: (\S+)/.exec(line);
    if (n && lib) needs.get(lib)!.push(n[1]);
  }
  return needs;
}

function cmpVersion(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const haveReadelf = spawnSync('readelf', ['--version']).status === 0;

describe.each(TARGETS)('prebuilds/%s', (target) => {
  const dir = path.join(root, 'prebuilds', target);
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.node')) : [];
  const why = !haveReadelf ? 'readelf not installed (binutils)' : files.length === 0 ? `no prebuild in ${dir} (npm run prebuilds)` : null;
  if (why !== null) {
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED prebuild ABI checks for ${target}: ${why}`);
    test.skip(`${target}: ${why}`, () => undefined);
    return;
  }
  const file = path.join(dir, files[0]);

  test('needs only glibc and libgcc_s: no libstdc++', () => {
    const needed = [...readelf(['-d'], file).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
    expect(needed).toContain('libc.so.6');
    expect(needed.filter((l) => !ALLOWED_NEEDED.test(l))).toEqual([]);
  });

  test(`asks for no symbol version newer than GLIBC_${GLIBC_BASELINE}, and none of libstdc++'s`, () => {
    const needs = versionNeeds(file);
    const all = [...needs.values()].flat();
    expect(all.filter((v) => /^(GLIBCXX|CXXABI)_/.test(v))).toEqual([]);
    const glibc = all.filter((v) => v.startsWith('GLIBC_')).map((v) => v.slice('GLIBC_'.length));
    expect(glibc.length).toBeGreaterThan(0);
    const highest = glibc.sort(cmpVersion)[glibc.length - 1];
    if (cmpVersion(highest, GLIBC_BASELINE) > 0) {
      const culprits = readelf(['--dyn-syms'], file).split('\n').filter((l) => l.includes(`@GLIBC_${highest}`));
      throw new Error(`${target} needs GLIBC_${highest} > ${GLIBC_BASELINE} (README's baseline) for:\n${culprits.join('\n')}`);
    }
  });
});
