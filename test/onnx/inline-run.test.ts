// OnnxModel.run() computes a run shorter than a hand-off to the thread pool on the calling thread, in a
// macrotask (model.ts, INLINE_RUN_MAX_US): the same results and the same rules as the pool's runs (queued
// behind each other, inputs read when the run starts, a detached one ERR_NEONN_DETACHED), and a longer model
// still goes to the pool.
import * as nn from '../../lib';
import { encode, floatInit, int, ints, port } from './builders';
import { randomTensor } from '../helpers';

/** Whether the model's last compiled program runs inline (internal state, read for the test only). */
function inline(m: nn.OnnxModel): boolean | undefined {
  return (m as unknown as { last?: { inline?: boolean } }).last?.inline;
}

/**
 * Runs `m` until a run was timed short enough to make the next one inline (on an idle core the first
 * timed run is; on cores busy with other test workers a run may be preempted past the threshold, so
 * up to 50 tries). True when it got there.
 */
async function runUntilInline(m: nn.OnnxModel, feeds: () => nn.OnnxFeeds): Promise<boolean> {
  for (let k = 0; k < 50 && inline(m) !== true; k++) await m.run(feeds());
  return inline(m) === true;
}

const tiny = encode({ nodes: [{ opType: 'Relu', input: ['x'], output: ['y'] }], inputs: [port('x', [8])], outputs: ['y'] });

describe('run() of a very short model on the calling thread', () => {
  test('once a run has been timed short it runs inline; results as runSync, in order, each its own output', async () => {
    const m = await nn.loadOnnx(tiny);
    const x = (k: number): nn.Tensor => nn.tensor(Float32Array.from({ length: 8 }, (_, i) => i - 4 + k), [8]);
    // The first run also plans (and may measure): timed long, it goes to the pool.
    expect(Array.from((await m.run({ x: x(0) })).y.data)).toEqual([0, 0, 0, 0, 0, 1, 2, 3]);
    expect(Array.from((await m.run({ x: x(0) })).y.data)).toEqual([0, 0, 0, 0, 0, 1, 2, 3]);
    expect(await runUntilInline(m, () => ({ x: x(0) }))).toBe(true);
    const outs = await Promise.all([0, 1, 2, 3].map((k) => m.run({ x: x(k) })));
    outs.forEach((o, k) => expect(Array.from(o.y.data)).toEqual(Array.from(m.runSync({ x: x(k) }).y.data)));
    expect(new Set(outs.map((o) => o.y.data)).size).toBe(4);
    m.dispose();
  });

  test('an input detached while its inline run waits is ERR_NEONN_DETACHED; the runs before it are unaffected', async () => {
    const m = await nn.loadOnnx(tiny);
    await m.run({ x: nn.tensor(new Float32Array(8), [8]) });
    expect(await runUntilInline(m, () => ({ x: nn.tensor(new Float32Array(8), [8]) }))).toBe(true);
    const a = Float32Array.from({ length: 8 }, (_, i) => i - 2);
    const b = Float32Array.from({ length: 8 }, (_, i) => i - 3);
    const first = m.run({ x: nn.tensor(a, [8]) });
    const second = m.run({ x: nn.tensor(b, [8]) });
    structuredClone(b.buffer, { transfer: [b.buffer] });
    expect(Array.from((await first).y.data)).toEqual([0, 0, 0, 1, 2, 3, 4, 5]);
    await expect(second).rejects.toMatchObject({ code: 'ERR_NEONN_DETACHED' });
    m.dispose();
  });

  test('a model whose run takes longer than the hand-off stays on the thread pool', async () => {
    const conv = (x: string, w: string, y: string) => ({ opType: 'Conv', input: [x, w], output: [y], attribute: [ints('pads', [1, 1, 1, 1]), int('group', 1)] });
    const big = encode({
      nodes: [conv('x', 'w1', 'a'), conv('a', 'w2', 'y')],
      inputs: [port('x', [1, 16, 96, 96])],
      outputs: ['y'],
      inits: [floatInit('w1', randomTensor([32, 16, 3, 3], 1)), floatInit('w2', randomTensor([16, 32, 3, 3], 2))],
    });
    const m = await nn.loadOnnx(big);
    const x = randomTensor([1, 16, 96, 96], 3);
    const want = Array.from(m.runSync({ x }).y.data);
    // 2 x 42 MFLOP: far over 100 us on any machine here.
    expect(inline(m)).toBe(false);
    expect(Array.from((await m.run({ x })).y.data)).toEqual(want);
    expect(inline(m)).toBe(false);
    m.dispose();
  });
});
