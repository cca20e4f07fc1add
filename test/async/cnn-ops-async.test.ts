// nn.async.* for the elementwise, normalization and layout ops: same results
// as the sync ops on every backend, many concurrent calls, inputs kept alive.
import { spawnSync } from 'child_process';
import * as path from 'path';

import * as nn from '../../lib';
import { availableBackends, expectClose, randomTensor } from '../helpers';

const root = path.resolve(__dirname, '..', '..');
const backends = availableBackends();
afterAll(() => nn.setBackend(backends[0]));

const x = randomTensor([2, 3, 4, 5], 1);
const c3 = (seed: number): nn.Tensor => randomTensor([3], seed);
const bn = { scale: c3(2), bias: c3(3), mean: c3(4), variance: nn.tensor(new Float32Array([0.5, 1, 2]), [3]) };
const slope = randomTensor([3, 1, 1], 5);
const b = randomTensor([4, 1], 6);

// [name, sync call, async call]: the async result must equal the sync one.
const pairs: [string, () => nn.Tensor, () => Promise<nn.Tensor>][] = [
  ['relu', () => nn.relu(x), () => nn.async.relu(x)],
  ['leakyRelu', () => nn.leakyRelu(x, 0.3), () => nn.async.leakyRelu(x, 0.3)],
  ['sigmoid', () => nn.sigmoid(x), () => nn.async.sigmoid(x)],
  ['tanh', () => nn.tanh(x), () => nn.async.tanh(x)],
  ['clip', () => nn.clip(x, -0.2, 0.3), () => nn.async.clip(x, -0.2, 0.3)],
  ['prelu', () => nn.prelu(x, slope), () => nn.async.prelu(x, slope)],
  ['softmax', () => nn.softmax(x, { axis: 1 }), () => nn.async.softmax(x, { axis: 1 })],
  ['logSoftmax', () => nn.logSoftmax(x, { axis: -2 }), () => nn.async.logSoftmax(x, { axis: -2 })],
  ['add', () => nn.add(x, b), () => nn.async.add(x, b)],
  ['mul', () => nn.mul(x, b), () => nn.async.mul(x, b)],
  ['sub', () => nn.sub(x, b), () => nn.async.sub(x, b)],
  ['div', () => nn.div(x, b), () => nn.async.div(x, b)],
  ['batchNorm', () => nn.batchNorm(x, bn), () => nn.async.batchNorm(x, bn)],
  ['lrn', () => nn.lrn(x, { size: 3 }), () => nn.async.lrn(x, { size: 3 })],
  ['concat', () => nn.concat([x, x, x], 1), () => nn.async.concat([x, x, x], 1)],
  ['transpose', () => nn.transpose(x, [0, 2, 3, 1]), () => nn.async.transpose(x, [0, 2, 3, 1])],
  ['pad', () => nn.pad(x, [0, 0, 1, 1, 0, 0, 1, 1], 2), () => nn.async.pad(x, [0, 0, 1, 1, 0, 0, 1, 1], 2)],
];

describe.each(backends)('async cnn ops on %s', (backend) => {
  beforeAll(() => nn.setBackend(backend));

  test.each(pairs)('%s matches the sync op', async (_name, sync, async) => {
    const want = sync();
    const got = await async();
    expect(got).toBeInstanceOf(nn.Tensor);
    expect(got.shape).toEqual(want.shape);
    expect(Array.from(got.data)).toEqual(Array.from(want.data));
  });

  test('in place: await nn.async.relu(x, { out: x })', async () => {
    const v = randomTensor([64], 7);
    const want = Array.from(v.data, (e) => Math.max(e, 0));
    expect(await nn.async.relu(v, { out: v })).toBe(v);
    expectClose(v.data, want);
  });

  test('150 concurrent calls of every op come back right', async () => {
    const wants = pairs.map(([, sync]) => Array.from(sync().data));
    const jobs = Array.from({ length: 150 }, (_, i) => pairs[i % pairs.length][2]());
    const got = await Promise.all(jobs);
    got.forEach((y, i) => expect(Array.from(y.data)).toEqual(wants[i % pairs.length]));
  });
});

describe('inputs stay alive until the promise settles (--expose-gc child)', () => {
  test('concat and add survive dropped references and collection mid-flight', () => {
    const script = `
      const nn = require('neonn');
      function rnd(n, s) { const d = new Float32Array(n); for (let i = 0; i < n; i++) { s = (s * 1664525 + 1013904223) >>> 0; d[i] = s / 2 ** 32 - 0.5; } return d; }
      async function main() {
        const pending = [], expected = [];
        for (let i = 0; i < 40; i++) {
          const n = 2000 + i;
          const a = rnd(n, i + 1), b = rnd(n, i + 7);
          expected.push(nn.concat([nn.tensor(a), nn.tensor(b)], 0).data, nn.add(nn.tensor(a), nn.tensor(b)).data);
          // Only the promises are kept: the inputs and the array are garbage now.
          pending.push(nn.async.concat([nn.tensor(a.slice()), nn.tensor(b.slice())], 0));
          pending.push(nn.async.add(nn.tensor(a.slice()), nn.tensor(b.slice())));
        }
        for (let i = 0; i < 5; i++) { global.gc(); new Array(1e5).fill({}); }
        const got = await Promise.all(pending);
        let bad = 0;
        got.forEach((y, i) => { for (let j = 0; j < y.data.length; j++) if (y.data[j] !== expected[i][j]) bad++; });
        console.log(JSON.stringify({ n: got.length, bad }));
      }
      main().catch((e) => { console.error(e); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, NEONN_BACKEND: '' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ n: 80, bad: 0 });
  });
});
