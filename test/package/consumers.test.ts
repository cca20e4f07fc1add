// The built package works for CommonJS and ESM consumers, with types.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');

function node(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, NEONN_BACKEND: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('package entry points', () => {
  test('dist has the CJS, ESM and type entry points package.json names', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const ex = pkg.exports['.'];
    for (const rel of [pkg.main, pkg.types, ex.import.default, ex.import.types, ex.require.default, ex.require.types]) {
      expect(fs.existsSync(path.join(root, rel))).toBe(true);
    }
  });

  test('require("neonn") from CommonJS', () => {
    const r = node(['-e', `const nn = require('neonn'); const a = nn.tensor(new Float32Array([1,2,3,4]), [2,2]); console.log(Array.from(nn.gemm(a, a).data).join(','))`]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('7,10,15,22');
  });

  test('import from ESM: named and default exports, one module instance', () => {
    const r = node(['--input-type=module', '-e', `
      import * as nn from 'neonn';
      import def from 'neonn';
      import { createRequire } from 'module';
      const cjs = createRequire(import.meta.url)('neonn');
      const a = nn.tensor(new Float32Array([1,2,3,4]), [2,2]);
      const y = await nn.async.gemm(a, a);
      console.log(Array.from(y.data).join(','), typeof nn.gemm, def.gemm === nn.gemm, cjs.Tensor === nn.Tensor);`]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('7,10,15,22 function true true');
  });

  test('the addon exports only the Node-API entry points (both OpenBLAS builds stay private)', () => {
    const addon = path.join(root, 'build', 'Release', 'neonn.node');
    const r = spawnSync('nm', ['-D', '--defined-only', addon], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const names = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).pop());
    expect(names.sort()).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
  });

  test('npx neonn info prints backends and their OpenBLAS config', () => {
    const r = node([path.join(root, 'dist', 'cli.js'), 'info']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/openblas-dl\s+available, version \d+\.\d+\.\d+, core \S+/);
    expect(r.stdout).toMatch(/OpenBLAS \d+\.\d+\.\d+/);
  });
});
