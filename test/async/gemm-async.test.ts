// nn.async.gemm: runs on the libuv pool, keeps inputs alive, survives many
// concurrent calls and garbage collection.
import { spawnSync } from 'child_process';
import * as path from 'path';

import * as nn from '../../lib';
import { availableBackends, expectClose, gemmOracle, randomTensor } from '../helpers';

const root = path.resolve(__dirname, '..', '..');
const backends = availableBackends();
afterAll(() => nn.setBackend(backends[0]));

describe.each(backends)('async gemm on %s', (backend) => {
  beforeAll(() => nn.setBackend(backend));

  test('matches the oracle and returns a new tensor', async () => {
    const a = randomTensor([33, 17], 1);
    const b = randomTensor([17, 9], 2);
    const y = await nn.async.gemm(a, b, { alpha: 2 });
    expect(y.shape).toEqual([33, 9]);
    expectClose(y.data, gemmOracle(a, b, { alpha: 2 }));
  });

  test('100 concurrent calls of different sizes all come back right', async () => {
    const jobs = Array.from({ length: 100 }, (_, i) => {
      const M = 1 + (i % 13) * 5;
      const N = 1 + ((i * 7) % 11) * 6;
      const K = 1 + ((i * 3) % 17) * 4;
      const a = randomTensor([M, K], i);
      const b = randomTensor([K, N], i + 1000);
      const c = randomTensor([1, N], i + 2000);
      return { a, b, c, promise: nn.async.gemm(a, b, { c, beta: 0.5 }) };
    });
    const results = await Promise.all(jobs.map((j) => j.promise));
    results.forEach((y, i) => expectClose(y.data, gemmOracle(jobs[i].a, jobs[i].b, { c: jobs[i].c, beta: 0.5 }), 1e-4, 1e-4));
  });
});

describe('async gemm does not block the event loop', () => {
  test('a setImmediate scheduled before the call runs before the result arrives', async () => {
    nn.setBackend('openblas');
    const a = randomTensor([512, 512], 1);
    let ticked = false;
    setImmediate(() => {
      ticked = true;
    });
    // Were the work done on the main thread, the promise would settle in a
    // microtask before the check phase runs the immediate.
    await nn.async.gemm(a, a);
    expect(ticked).toBe(true);
  });

  test('queued ops keep the backend they were queued with', async () => {
    nn.setBackend('reference');
    const before = nn.backends().find((b) => b.name === 'reference')!.opsRun;
    const a = randomTensor([64, 64], 2);
    const p = nn.async.gemm(a, a);
    nn.setBackend('openblas');
    await p;
    expect(nn.backends().find((b) => b.name === 'reference')!.opsRun).toBe(before + 1);
  });
});

describe('inputs stay alive until the promise settles (--expose-gc child)', () => {
  test('dropping every reference and collecting garbage mid-flight is harmless', () => {
    const script = `
      const nn = require('neonn');
      function rnd(n, s) { const d = new Float32Array(n); for (let i = 0; i < n; i++) { s = (s * 1664525 + 1013904223) >>> 0; d[i] = s / 2 ** 32 - 0.5; } return d; }
      async function main() {
        const pending = [];
        const expected = [];
        for (let i = 0; i < 50; i++) {
          const n = 64 + i;
          const a = rnd(n * n, i + 1), b = rnd(n * n, i + 7);
          const ref = nn.gemm(nn.tensor(a, [n, n]), nn.tensor(b, [n, n]));
          expected.push(ref.data);
          // Only the promise is kept: a, b and the tensors are garbage now.
          pending.push(nn.async.gemm(nn.tensor(a.slice(), [n, n]), nn.tensor(b.slice(), [n, n])));
        }
        for (let i = 0; i < 5; i++) { global.gc(); new Array(1e5).fill({}); }
        const got = await Promise.all(pending);
        let bad = 0;
        got.forEach((y, i) => { for (let j = 0; j < y.data.length; j++) if (Math.abs(y.data[j] - expected[i][j]) > 1e-4) bad++; });
        console.log(JSON.stringify({ n: got.length, bad }));
      }
      main().catch((e) => { console.error(e); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, NEONN_BACKEND: '' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ n: 50, bad: 0 });
  });
});
