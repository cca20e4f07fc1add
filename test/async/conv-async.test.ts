// nn.async.conv2d / fullyConnected / maxPool2d / avgPool2d / globalAvgPool:
// run on the libuv pool, keep inputs alive, survive concurrent calls and GC.
import { spawnSync } from 'child_process';
import * as path from 'path';

import * as nn from '../../lib';
import { convOracle, fullyConnectedOracle, globalAvgPoolOracle, poolOracle } from '../conv-oracle';
import { availableBackends, expectClose, randomTensor } from '../helpers';

const root = path.resolve(__dirname, '..', '..');
const backends = availableBackends();
afterAll(() => nn.setBackend(backends[0]));

describe.each(backends)('async conv family on %s', (backend) => {
  beforeAll(() => nn.setBackend(backend));

  test('conv2d x=[2,4,9,9] w=[6,2,3,3] g=2 s=2 p=1 bias relu', async () => {
    const x = randomTensor([2, 4, 9, 9], 1);
    const w = randomTensor([6, 2, 3, 3], 2);
    const bias = randomTensor([6], 3);
    const opts = { bias, group: 2, strides: 2, pads: 1, activation: 'relu' as const };
    const y = await nn.async.conv2d(x, w, opts);
    expect(y.shape).toEqual([2, 6, 5, 5]);
    expectClose(y.data, convOracle(x, w, opts).data);
  });

  test('conv2d writes into out', async () => {
    const x = randomTensor([1, 3, 5, 5], 4);
    const w = randomTensor([2, 3, 1, 1], 5);
    const out = nn.tensor(new Float32Array(50).fill(NaN), [1, 2, 5, 5]);
    expect(await nn.async.conv2d(x, w, { out })).toBe(out);
    expectClose(out.data, convOracle(x, w).data);
  });

  test('fullyConnected x=[3,2,5] w=[4,10] bias', async () => {
    const x = randomTensor([3, 2, 5], 6);
    const w = randomTensor([4, 10], 7);
    const bias = randomTensor([4], 8);
    const y = await nn.async.fullyConnected(x, w, { bias });
    expect(y.shape).toEqual([3, 4]);
    expectClose(y.data, fullyConnectedOracle(x, w, bias));
  });

  test('maxPool2d, avgPool2d (ceil, countIncludePad), globalAvgPool', async () => {
    const x = randomTensor([2, 3, 7, 7], 9);
    const mo = { kernel: 3, strides: 2, pads: 1 };
    const ao = { kernel: 2, strides: 2, ceil: true, countIncludePad: true };
    const [m, a, g] = await Promise.all([nn.async.maxPool2d(x, mo), nn.async.avgPool2d(x, ao), nn.async.globalAvgPool(x)]);
    expectClose(m.data, poolOracle('max', x, mo).data);
    expectClose(a.data, poolOracle('avg', x, ao).data);
    expectClose(g.data, globalAvgPoolOracle(x));
  });

  test('40 concurrent convs of different shapes all come back right', async () => {
    const jobs = Array.from({ length: 40 }, (_, i) => {
      const cin = 1 + (i % 4) * 2;
      const cout = 1 + (i % 5);
      const k = 1 + (i % 3);
      const x = randomTensor([1 + (i % 2), cin, 6 + (i % 7), 5 + (i % 4)], i);
      const w = randomTensor([cout, cin, k, k], i + 100);
      const opts = { pads: i % 2, strides: 1 + (i % 2) };
      return { x, w, opts, promise: nn.async.conv2d(x, w, opts) };
    });
    const ys = await Promise.all(jobs.map((j) => j.promise));
    ys.forEach((y, i) => expectClose(y.data, convOracle(jobs[i].x, jobs[i].w, jobs[i].opts).data));
  });
});

describe('async conv2d keeps the backend it was queued with', () => {
  test('setBackend after queueing does not move the op', async () => {
    const other = backends.find((b) => b !== 'reference') ?? 'reference';
    const runs = (name: string): number => nn.backends().find((b) => b.name === name)!.opsRun;
    nn.setBackend('reference');
    const before = runs('reference');
    const otherBefore = runs(other);
    const p = nn.async.conv2d(randomTensor([1, 2, 6, 6], 1), randomTensor([3, 2, 3, 3], 2));
    nn.setBackend(other);
    await p;
    expect(runs('reference')).toBe(before + 1);
    if (other !== 'reference') expect(runs(other)).toBe(otherBefore);
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
        for (let i = 0; i < 30; i++) {
          const h = 8 + i;
          const x = rnd(2 * 4 * h * h, i + 1), w = rnd(8 * 4 * 9, i + 7), b = rnd(8, i + 9);
          const opts = (bias) => ({ bias: nn.tensor(bias, [8]), pads: 1, activation: 'relu' });
          expected.push(nn.conv2d(nn.tensor(x, [2, 4, h, h]), nn.tensor(w, [8, 4, 3, 3]), opts(b)).data);
          // Only the promise is kept: the arrays and tensors are garbage now.
          pending.push(nn.async.conv2d(nn.tensor(x.slice(), [2, 4, h, h]), nn.tensor(w.slice(), [8, 4, 3, 3]), opts(b.slice())));
          pending.push(nn.async.maxPool2d(nn.tensor(x.slice(), [2, 4, h, h]), { kernel: 2, strides: 2 }));
        }
        for (let i = 0; i < 5; i++) { global.gc(); new Array(1e5).fill({}); }
        const got = await Promise.all(pending);
        let bad = 0;
        got.forEach((y, i) => { if (i % 2) return; const e = expected[i / 2]; for (let j = 0; j < y.data.length; j++) if (Math.abs(y.data[j] - e[j]) > 1e-4) bad++; });
        console.log(JSON.stringify({ n: got.length, bad }));
      }
      main().catch((e) => { console.error(e); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, NEONN_BACKEND: '' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ n: 60, bad: 0 });
  });
});
