// neonn's thread pool (src/parallel.h: the pthreadpool XNNPACK shares) through
// its test hook: every item of a parallel_for runs exactly once at any thread
// budget, nested loops (also from inside a pthreadpool task, as XNNPACK's
// operators run them) and many concurrent callers never deadlock, and an
// exception thrown inside a chunk stops the loop's further chunks and comes
// back to the caller as a normal error (sync throw, async rejection) instead
// of terminating the process; the pool keeps working afterwards.
import { spawnSync } from 'child_process';
import * as path from 'path';

import * as nn from '../../lib';
import { binding } from '../../lib/native';

const root = path.resolve(__dirname, '..', '..');

const initialThreads = nn.getThreads();
afterEach(() => nn.setThreads(initialThreads));

const NESTED = 1;
const SLOW = 2; // items take microseconds each, so the workers surely join in
const IN_POOL_TASK = 4; // the outer loop as pthreadpool tasks on the shared pool, each running a nested parallel_for

function expectOnce(counts: Float32Array): void {
  const bad = counts.findIndex((v) => v !== 1);
  if (bad >= 0) throw new Error(`item ${bad} ran ${counts[bad]} times`);
}

function thrown(call: () => unknown): Error & { code?: string } {
  try {
    call();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

describe.each([1, 2, 3, 4])('parallel_for at %i threads', (threads) => {
  beforeEach(() => nn.setThreads(threads));

  test.each([
    ['n=1 grain=1', 1, 1, 0],
    ['n=10 grain=1', 10, 1, 0],
    ['n=5 grain=10 (below a grain: inline)', 5, 10, 0],
    ['n=1000 grain=7 slow items', 1000, 7, SLOW],
    ['n=200003 grain=100', 200003, 100, 0],
    ['n=1000 grain=3 nested loops, slow items', 1000, 3, NESTED | SLOW],
    ['n=1000 grain=7 loops inside pthreadpool tasks', 1000, 7, NESTED | IN_POOL_TASK | SLOW],
    ['n=20000 grain=1 loops inside pthreadpool tasks', 20000, 1, NESTED | IN_POOL_TASK],
  ])('%s: every item runs exactly once', (_label, n, grain, flags) => {
    const counts = new Float32Array(n);
    const used = binding.parallelCheckSync(counts, grain, -1, 0, flags);
    expectOnce(counts);
    expect(used).toBeGreaterThanOrEqual(1);
    expect(used).toBeLessThanOrEqual(threads);
  });

  test('a neonn RangeError thrown in a chunk is thrown by the sync call', () => {
    const e = thrown(() => binding.parallelCheckSync(new Float32Array(5000), 10, 4321, 0, SLOW));
    expect(e.name).toBe('RangeError');
    expect(e.code).toBe('ERR_NEONN_RANGE');
    expect(e.message).toBe('parallelCheck: item 4321 failed');
  });

  test('a std::exception thrown in a chunk becomes an internal neonn error', () => {
    const e = thrown(() => binding.parallelCheckSync(new Float32Array(5000), 10, 17, 1, SLOW));
    expect(e.name).toBe('Error');
    expect(e.code).toBe('ERR_NEONN_INTERNAL');
    expect(e.message).toBe('parallelCheck: item 17 failed');
  });

  test('a non-std exception thrown in a chunk becomes an internal neonn error, not a crash', () => {
    const e = thrown(() => binding.parallelCheckSync(new Float32Array(5000), 10, 4999, 2, NESTED));
    expect(e.code).toBe('ERR_NEONN_INTERNAL');
    expect(e.message).toBe('unknown error in a parallel loop');
  });

  test('a chunk that throws stops the loop: later chunks do not start', () => {
    const counts = new Float32Array(5000);
    const e = thrown(() => binding.parallelCheckSync(counts, 10, 0, 0, SLOW));
    expect(e.message).toBe('parallelCheck: item 0 failed');
    // Item 0 starts the first chunk of the first thread: at most the chunks already running elsewhere finish.
    const ran = counts.reduce((a, v) => a + v, 0);
    expect(ran).toBeLessThanOrEqual(counts.length / 2);
    expect(binding.parallelCheckSync(new Float32Array(5000).fill(0), 10, -1, 0, SLOW)).toBeLessThanOrEqual(threads);
  });

  test('an exception in a loop inside a pthreadpool task reaches the caller', () => {
    const e = thrown(() => binding.parallelCheckSync(new Float32Array(5000), 10, 2500, 2, NESTED | IN_POOL_TASK | SLOW));
    expect(e.code).toBe('ERR_NEONN_INTERNAL');
    expect(e.message).toBe('unknown error in a parallel loop');
    const counts = new Float32Array(5000);
    binding.parallelCheckSync(counts, 10, -1, 0, NESTED | IN_POOL_TASK);
    expectOnce(counts);
  });

  test('async: errors reject the promise, and the pool works right after', async () => {
    await expect(binding.parallelCheck(new Float32Array(5000), 10, 3000, 0, SLOW)).rejects.toMatchObject({
      name: 'RangeError',
      code: 'ERR_NEONN_RANGE',
      message: 'parallelCheck: item 3000 failed',
    });
    await expect(binding.parallelCheck(new Float32Array(5000), 10, 3, 1, 0)).rejects.toMatchObject({ code: 'ERR_NEONN_INTERNAL' });
    const counts = new Float32Array(5000);
    await binding.parallelCheck(counts, 10, -1, 0, SLOW);
    expectOnce(counts);
  });

  test('40 concurrent async loops, some failing, some nested: each gets its own result', async () => {
    const calls = Array.from({ length: 40 }, (_, i) => {
      const counts = new Float32Array(3000 + i);
      const throwAt = i % 4 === 0 ? 1000 + i : -1;
      const p = binding.parallelCheck(counts, 5, throwAt, i % 3, (i % 2 ? NESTED : 0) | SLOW);
      return p.then(
        () => (throwAt >= 0 ? `call ${i} should have failed` : counts.every((v) => v === 1) ? 'ok' : `call ${i} miscounted`),
        (e: Error) => (throwAt >= 0 ? 'ok' : `call ${i} failed: ${e.message}`),
      );
    });
    expect(await Promise.all(calls)).toEqual(calls.map(() => 'ok'));
  });
});

test('the budget can shrink and grow between loops', () => {
  for (const t of [3, 1, 2, 4, 1, 3]) {
    nn.setThreads(t);
    const counts = new Float32Array(20000);
    expect(binding.parallelCheckSync(counts, 10, -1, 0, SLOW)).toBeLessThanOrEqual(t);
    expectOnce(counts);
  }
});

test('setThreads while loops run on other threads: each loop still covers its items once', async () => {
  const pending: Promise<string>[] = [];
  for (let i = 0; i < 24; i++) {
    const counts = new Float32Array(4000 + i);
    pending.push(
      binding.parallelCheck(counts, 5, -1, 0, SLOW | (i % 3 === 0 ? NESTED | IN_POOL_TASK : 0)).then(() =>
        counts.every((v) => v === 1) ? 'ok' : `call ${i} miscounted`,
      ),
    );
    nn.setThreads(1 + (i % 3));
  }
  expect(await Promise.all(pending)).toEqual(pending.map(() => 'ok'));
});

const xnnpack = nn.backends().find((b) => b.name === 'xnnpack')?.available === true;
(xnnpack ? test : test.skip)('XNNPACK ops and neonn loops at once on the one pool: every result as alone', async () => {
  const initialBackend = nn.getBackend();
  nn.setThreads(Math.min(2, binding.onlineCores()));
  nn.setBackend('xnnpack');
  try {
    const data = new Float32Array(8 * 24 * 24).map((_, i) => Math.sin(i * 0.37));
    const x = nn.tensor(data, [1, 8, 24, 24]);
    const w = nn.tensor(new Float32Array(8 * 8 * 9).map((_, i) => Math.cos(i * 0.11) / 8), [8, 8, 3, 3]);
    const conv = nn.conv2d(x, w, { pads: 1 }).data;
    const pool = nn.maxPool2d(x, { kernel: 3, strides: 1, pads: 1 }).data;
    const pending: Promise<string>[] = [];
    for (let i = 0; i < 16; i++) {
      const counts = new Float32Array(3000);
      pending.push(binding.parallelCheck(counts, 5, -1, 0, SLOW).then(() => (counts.every((v) => v === 1) ? 'ok' : `loop ${i} miscounted`)));
      pending.push(nn.async.conv2d(x, w, { pads: 1 }).then((y) => (y.data.every((v, k) => v === conv[k]) ? 'ok' : `conv ${i} differs`)));
      pending.push(
        nn.async.maxPool2d(x, { kernel: 3, strides: 1, pads: 1 }).then((y) => (y.data.every((v, k) => v === pool[k]) ? 'ok' : `pool ${i} differs`)),
      );
    }
    expect(await Promise.all(pending)).toEqual(pending.map(() => 'ok'));
  } finally {
    nn.setBackend(initialBackend);
  }
});

test('a budget above the online cores fans a loop out to the cores at most', () => {
  const cores = binding.onlineCores();
  nn.setThreads(200); // clamped, with a one-time warning (test/backends.test.ts)
  expect(nn.getThreads()).toBe(cores);
  const counts = new Float32Array(20000);
  expect(binding.parallelCheckSync(counts, 1, -1, 0, SLOW)).toBeLessThanOrEqual(Math.min(cores, 64));
  expectOnce(counts);
});

describe('process exit with the pool in use', () => {
  // The pool's workers are joined by a static destructor at exit; a libuv
  // thread may still be inside a loop then. Neither may crash or hang.
  test.each([
    ['exit while async loops and ops are running', 'setTimeout(() => process.exit(0), 20);'],
    ['exit from inside a settled callback', 'Promise.race(pending).then(() => process.exit(0));'],
    ['a normal exit after the loops finish', 'Promise.all(pending).then(() => console.log("done"));'],
  ])('%s', (_label, ending) => {
    const script = `
      const nn = require('./dist');
      const { binding } = require('./dist/native');
      nn.setThreads(Math.min(3, binding.onlineCores())); // no clamp warning on stderr
      const x = nn.tensor(new Float32Array(1 << 18).fill(-1), [1, 16, 128, 128]);
      const pending = [];
      for (let i = 0; i < 8; i++) {
        pending.push(binding.parallelCheck(new Float32Array(5000), 5, -1, 0, 3));
        pending.push(nn.async.maxPool2d(x, { kernel: 3, strides: 1, pads: 1 }));
      }
      ${ending}`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', timeout: 60000 });
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
