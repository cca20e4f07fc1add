// The quick starts (examples/quickstart/) as a user's own project compiles
// and runs them: a fresh folder with `neonn` in its node_modules, tsc with
// the project kind's settings (CommonJS: "module": "commonjs" as tsc --init
// writes it; ESM: a .mts file under "nodenext"), strict and without
// skipLibCheck, so neonn's own .d.ts files are checked too, then node on the
// output. The README's first example
// is the CommonJS one, so it must also run as written in an ES module.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const DIR = path.join(ROOT, 'examples', 'quickstart');

/** A consumer project holding `file`, compiled with `compilerOptions`; returns what node prints running `out`. */
function compileAndRun(file: string, compilerOptions: Record<string, unknown>, out: string): { status: number | null; stdout: string; stderr: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-quickstart-'));
  try {
    fs.mkdirSync(path.join(dir, 'node_modules', '@types'), { recursive: true });
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'neonn'), 'dir');
    fs.symlinkSync(path.join(ROOT, 'node_modules', '@types', 'node'), path.join(dir, 'node_modules', '@types', 'node'), 'dir');
    fs.copyFileSync(path.join(DIR, file), path.join(dir, file));
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, target: 'es2022', outDir: 'out', ...compilerOptions }, files: [file] }));
    const tsc = spawnSync(process.execPath, [TSC, '-p', dir], { encoding: 'utf8' });
    if (tsc.status !== 0) return { status: tsc.status, stdout: tsc.stdout, stderr: `tsc: ${tsc.stdout}${tsc.stderr}` };
    const r = spawnSync(process.execPath, [path.join(dir, 'out', out)], { cwd: dir, encoding: 'utf8', env: { ...process.env, NEONN_BACKEND: '' } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('CommonJS project (tsc --init settings): cjs.ts compiles and prints what its comments say', () => {
  const r = compileAndRun('cjs.ts', { module: 'commonjs', esModuleInterop: true }, 'cjs.js');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout.trim().split('\n')).toEqual(['auto [ 1, 10 ]', 'true']);
}, 120000);

test('ES module project: esm.mts (top-level await) compiles under nodenext and runs', () => {
  const r = compileAndRun('esm.mts', { module: 'nodenext', moduleResolution: 'nodenext' }, 'esm.mjs');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout.trim().split('\n')).toEqual(['auto [ 1, 10 ]', 'true']);
}, 120000);

test("the README's first example is the CommonJS quick start, comments and all", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const m = /<!-- readme-example[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(readme);
  expect(m).not.toBeNull();
  const body = (s: string): string => s.replace(/^\/\/.*\n/gm, '').trim();
  expect(body(m![1])).toBe(body(fs.readFileSync(path.join(DIR, 'cjs.ts'), 'utf8')));
});
