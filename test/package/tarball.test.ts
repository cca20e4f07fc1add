// `npm pack` + `npm install <tarball>` into an empty project, both ways:
//  - with the prebuilds, `require('neonn')` loads prebuilds/<platform>-<arch>
//    and runs a conv with no install script run and no compiler: here, and
//    under emulated arm64 (cortex-a53) and armhf (cortex-a7) Node;
//  - with no matching prebuild, it fails with an error that says how to build
//    from source, and `npx neonn build` in that installed copy compiles the
//    addon, after which the conv runs.
// npm 11 runs no dependency's install script until the user approves it;
// --ignore-scripts makes every npm behave so.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { convOracle } from '../conv-oracle';
import { ARM_PLATFORMS, emulationMissing, prebuildMissing, runEmulated, warnSkipped, which } from '../arm/qemu';

const root = path.resolve(__dirname, '..', '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-tarball-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The environment for nested npm: none of the npm_* variables of an outer `npm test`. */
function npmEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('npm_')) env[k] = v;
  return { ...env, NEONN_BACKEND: '', ...extra };
}

function sh(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: npmEnv(), timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (status ${r.status}):\n${r.stderr}`);
  return r.stdout;
}

let packed: string | null = null;
/** The tarball as `npm pack` makes it (dist/ is built by `npm test`'s pretest), made once. */
function pack(): string {
  if (packed === null) {
    const out = path.join(work, 'pack');
    fs.mkdirSync(out);
    const name = sh('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', out], root).trim().split('\n').pop()!;
    packed = path.join(out, name);
  }
  return packed;
}

/** The same tarball without prebuilds/: a platform no prebuild matches. */
function withoutPrebuilds(tgz: string): string {
  const dir = path.join(work, 'unpacked');
  fs.mkdirSync(dir);
  sh('tar', ['xzf', tgz, '-C', dir], work);
  fs.rmSync(path.join(dir, 'package', 'prebuilds'), { recursive: true, force: true });
  const out = path.join(work, 'neonn-no-prebuilds.tgz');
  sh('tar', ['czf', out, '-C', dir, 'package'], work);
  return out;
}

// What the consumer runs: a conv on fixed data; prints inputs, output and
// which binary was loaded.
const CONSUMER_JS = `
const nn = require('neonn');
const data = (n, seed) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 0.37));
const x = nn.tensor(data(2 * 6 * 6, 1), [1, 2, 6, 6]);
const w = nn.tensor(data(3 * 2 * 3 * 3, 2), [3, 2, 3, 3]);
const bias = nn.tensor(data(3, 3), [3]);
const y = nn.conv2d(x, w, { bias, pads: 1, strides: [1, 2] });
const d = nn.diagnostics();
const pkg = require('path').dirname(require.resolve('neonn/package.json'));
console.log(JSON.stringify({
  arch: process.arch,
  addon: require('path').relative(pkg, require('node-gyp-build').path(pkg)),
  flavour: d.build.flavour,
  x: Array.from(x.data), w: Array.from(w.data), bias: Array.from(bias.data), y: Array.from(y.data), shape: y.shape,
}));
`;

/** An empty project with `tgz` installed as npm 11 does it: no install scripts. */
function install(tgz: string, name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tgz], dir);
  fs.writeFileSync(path.join(dir, 'conv.js'), CONSUMER_JS);
  expect(fs.existsSync(path.join(dir, 'node_modules', 'neonn', 'build'))).toBe(false);
  return dir;
}

interface ConsumerResult {
  arch: string;
  addon: string;
  flavour: string;
  x: number[];
  w: number[];
  bias: number[];
  y: number[];
  shape: number[];
}

function parse(r: { status: number | null; signal?: NodeJS.Signals | null; stdout: string; stderr: string }, what: string): ConsumerResult {
  if (r.status !== 0) throw new Error(`${what} failed (status ${r.status}, signal ${r.signal ?? null}):\n${r.stderr.slice(0, 3000)}`);
  return JSON.parse(r.stdout) as ConsumerResult;
}

/** The conv matches a float64 oracle on the inputs the consumer printed. */
function expectConvRight(got: ConsumerResult): void {
  const want = convOracle({ data: Float32Array.from(got.x), shape: [1, 2, 6, 6] }, { data: Float32Array.from(got.w), shape: [3, 2, 3, 3] }, {
    bias: { data: Float32Array.from(got.bias), shape: [3] },
    pads: 1,
    strides: [1, 2],
  });
  expect(got.shape).toEqual(want.shape);
  expect(got.y.length).toBe(want.data.length);
  for (let i = 0; i < want.data.length; i++) {
    if (!(Math.abs(got.y[i] - want.data[i]) <= 1e-5 * 18 + 1e-4 * Math.abs(want.data[i]))) {
      throw new Error(`y[${i}] = ${got.y[i]}, oracle ${want.data[i]}`);
    }
  }
}

function runNode(dir: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env: npmEnv(), timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const host = `linux-${process.arch}`;
const hostPrebuild = path.join(root, 'prebuilds', host);
const noHostPrebuild = fs.existsSync(hostPrebuild) ? null : `no prebuild in ${hostPrebuild} (npm run prebuilds)`;

describe('npm pack, then npm install of the tarball with its prebuilds', () => {
  if (noHostPrebuild !== null) {
    warnSkipped('tarball install with prebuilds', noHostPrebuild);
    test.skip(noHostPrebuild, () => undefined);
    return;
  }
  let dir: string;
  beforeAll(() => {
    dir = install(pack(), 'consumer-prebuilt');
  }, 120_000);

  test(`${host}: require('neonn') loads prebuilds/${host} with no install script run, and a conv is right`, () => {
    const got = parse(runNode(dir, ['conv.js']), 'the consumer');
    expect(got.arch).toBe(process.arch);
    expect(got.addon).toMatch(new RegExp(`^prebuilds/${host}/neonn\\.glibc\\.node$`));
    expectConvRight(got);
  });

  test("the README's first example, as written, in a fresh `npm init -y` project with the tarball: tsc (CommonJS, strict), then node", () => {
    const fresh = path.join(work, 'readme-consumer');
    fs.mkdirSync(fresh);
    sh('npm', ['init', '-y'], fresh);
    sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', pack()], fresh);
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const m = /<!-- readme-example[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(readme);
    expect(m).not.toBeNull();
    fs.writeFileSync(path.join(fresh, 'index.ts'), m![1]);
    // What `npm i -D typescript @types/node` would add, taken from this checkout (no network needed);
    // @types/node may already be there, through a dependency of neonn's.
    const typesNode = path.join(fresh, 'node_modules', '@types', 'node');
    if (!fs.existsSync(typesNode)) {
      fs.mkdirSync(path.dirname(typesNode), { recursive: true });
      fs.symlinkSync(path.join(root, 'node_modules', '@types', 'node'), typesNode, 'dir');
    }
    // tsc --init's settings: CommonJS, strict, esModuleInterop; no skipLibCheck, so neonn's .d.ts are checked.
    const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--module', 'commonjs', '--target', 'es2016', '--strict', '--esModuleInterop', 'index.ts'], { cwd: fresh, encoding: 'utf8' });
    expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
    expect(tsc.status).toBe(0);
    const r = runNode(fresh, ['index.js']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['auto [ 1, 10 ]', 'true']);
  }, 180_000);

  describe.each(ARM_PLATFORMS.map((p) => ({ ...p, cpu: p.cpus[0] })))('the same project under emulated $arch node, -cpu $cpu', (p) => {
    const why = emulationMissing(p) ?? prebuildMissing(root, p);
    if (why !== null) {
      warnSkipped(`tarball install under emulated ${p.arch}`, why);
      test.skip(why, () => undefined);
      return;
    }
    test(`loads prebuilds/${p.prebuild} (no compiler there), NEON build, and a conv is right`, () => {
      const got = parse(runEmulated(p, p.cpu, ['conv.js'], { cwd: dir, timeout: 60_000 }), `the consumer on ${p.arch}/${p.cpu}`);
      expect(got.arch).toBe(p.arch);
      expect(got.addon).toMatch(new RegExp(`^prebuilds/${p.prebuild}/neonn\\.glibc\\.node$`));
      expect(got.flavour).toBe('neon');
      expectConvRight(got);
    });
  });
});

/**
 * An OpenBLAS cache holding both builds for this machine, so that the source
 * build below compiles the addon but does not rebuild OpenBLAS (5+ minutes):
 * NEONN_DEPS_CACHE, else the one this checkout's own builds used, else the
 * default ~/.cache/neonn-deps (or the older deps/.cache).
 */
function openblasCache(): string | null {
  const candidates: string[] = [];
  if (process.env.NEONN_DEPS_CACHE) candidates.push(path.resolve(root, process.env.NEONN_DEPS_CACHE));
  for (const b of ['build', `build-${host}`]) {
    const dir = path.join(root, b, 'neonn_openblas');
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.cmake'))) {
      const m = /set\(OB_CACHE \[==\[(.*)\]==\]\)/.exec(fs.readFileSync(path.join(dir, f), 'utf8'));
      if (m) candidates.push(m[1]);
    }
  }
  const xdg = process.env.XDG_CACHE_HOME || (process.env.HOME ? path.join(process.env.HOME, '.cache') : '');
  if (xdg) candidates.push(path.join(xdg, 'neonn-deps'));
  candidates.push(path.join(root, 'deps', '.cache'));
  const has = (cache: string, flavour: string): boolean =>
    fs.existsSync(cache) &&
    fs.readdirSync(cache).some((d) => new RegExp(`^openblas-[\\d.]+-${host}-${flavour}-[0-9a-f]+$`).test(d) && fs.existsSync(path.join(cache, d, `neonn_${flavour}.o`)));
  return candidates.find((c) => has(c, 'openblas') && has(c, 'openblas-dl')) ?? null;
}

/** Runs `npx neonn build`; stops it at once if it would build OpenBLAS rather than take it from the cache. */
function npxBuild(dir: string, cache: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npx', ['neonn', 'build'], { cwd: dir, env: npmEnv({ NEONN_DEPS_CACHE: cache }), detached: true });
    let output = '';
    const onData = (b: Buffer): void => {
      output += b.toString();
      if (/OpenBLAS \S+ for \S+: built at build time/.test(output) && child.pid !== undefined) {
        output += `\n[test] stopped: ${cache} has no OpenBLAS for this configuration\n`;
        process.kill(-child.pid, 'SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (status) => resolve({ status, output }));
  });
}

describe('npm install of a tarball with no matching prebuild', () => {
  const cache = openblasCache();
  const why = !which('cmake') || !which('g++') ? 'cmake or g++ not installed (scripts/setup.sh)' : cache === null ? `no OpenBLAS cache for ${host} (build the addon once: npm run build:native)` : null;
  let dir: string;
  beforeAll(() => {
    dir = install(withoutPrebuilds(pack()), 'consumer-source');
  }, 120_000);

  test('require("neonn") fails with an error saying how to build from source', () => {
    const r = runNode(dir, ['conv.js']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/neonn: could not load the native addon/);
    expect(r.stderr).toMatch(new RegExp(`prebuilds/${host} \\(missing\\)`));
    expect(r.stderr).toMatch(/^ {6}npx neonn build$/m);
    expect(r.stderr).toMatch(/^ {6}npm install-scripts approve neonn && npm rebuild neonn$/m);
  });

  if (why !== null) {
    warnSkipped('the source build of an installed tarball', why);
    test.skip(why, () => undefined);
    return;
  }
  test('npx neonn build compiles the addon there (OpenBLAS from the cache), then the conv runs', async () => {
    const r = await npxBuild(dir, cache!);
    if (r.status !== 0) throw new Error(`npx neonn build failed (status ${r.status}):\n${r.output.slice(-3000)}`);
    // OpenBLAS came from the cache; the addon itself was compiled here.
    expect(r.output).toMatch(/OpenBLAS openblas for \S+: cached/);
    expect(r.output).toMatch(/OpenBLAS openblas-dl for \S+: cached/);
    expect(r.output).toMatch(/Building CXX object CMakeFiles\/neonn\.dir\/binding\/addon\.cc\.o/);
    const got = parse(runNode(dir, ['conv.js']), 'the consumer after npx neonn build');
    expect(got.addon).toBe(path.join('build', 'Release', 'neonn.node'));
    expectConvRight(got);
  }, 240_000);
});
