// The xnnpack backend's XNNPACK is built into the addon (deps/xnnpack.cmake):
// nothing to install, nothing loaded at run time. In a fresh process it is
// available, says so in nn.backends(), ignores the old NEONN_XNNPACK_LIBRARY,
// and runs every op family it takes with the reference backend's results.
import { spawnSync } from 'child_process';
import * as path from 'path';

const root = path.resolve(__dirname, '../..');

/** Runs `code` (with `nn` loaded) in a child; parses its JSON output. */
function child(code: string, env: Record<string, string> = {}): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['-e', `const nn = require('./dist');\n${code}`], {
    cwd: root,
    env: { ...process.env, NEONN_BACKEND: '', NEONN_THREADS: '', NEONN_CACHE_DIR: 'off', ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`child exited with ${String(r.status)} (${String(r.signal)}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const RUN_ALL = `
  const t = (shape) => nn.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i)), shape);
  const x = t([1, 8, 16, 16]);
  const w = t([4, 8, 3, 3]);
  const fx = t([8, 30]);
  const fw = t([5, 30]);
  const big = t([1, 16, 64, 64]);
  const ops = () => [nn.conv2d(x, w, { pads: 1 }).data, nn.maxPool2d(x, { kernel: 3, strides: 2 }).data,
                     nn.avgPool2d(x, { kernel: 2, strides: 2 }).data, nn.globalAvgPool(big).data,
                     nn.fullyConnected(fx, fw).data, nn.relu(big).data, nn.add(big, big).data];
  nn.setBackend('reference');
  const want = ops();
  nn.setBackend('xnnpack');
  const got = ops();
  const diff = Math.max(...got.map((g, k) => Math.max(...g.map((v, i) => Math.abs(v - want[k][i])))));
  const info = nn.backends().find((b) => b.name === 'xnnpack');
  process.stdout.write(JSON.stringify({ diff, info, convRuns: info.convRuns }));`;

describe('built-in xnnpack', () => {
  test('available in a fresh process, built in, whatever NEONN_XNNPACK_LIBRARY says', () => {
    const envs: Record<string, string>[] = [{}, { NEONN_XNNPACK_LIBRARY: '/nonexistent/libXNNPACK.so.0' }];
    for (const env of envs) {
      const out = child(RUN_ALL, env) as { diff: number; info: { available: boolean; library: string }; convRuns: Record<string, number> };
      expect(out.info.available).toBe(true);
      expect(out.info.library).toMatch(/^built in \(XNNPACK 0\.0~git20241108/);
      expect(out.diff).toBeLessThan(1e-4);
      expect(out.convRuns.xnnpack).toBe(1);
    }
  });
});
