// Feeds and outputs with no elements (a 0 dim) in a model's compiled program:
// a step fed an empty tensor is computed by its op's shape rule, an empty
// output by its shape alone, and the program (if any output has elements)
// computes the rest. Sync and async; bad shapes are still refused.
import * as nn from '../../lib';
import { DT, Node, encode, int, intInit, port } from './builders';

const empty = (shape: number[]): nn.TensorLike => ({ data: new Float32Array(0), shape });
const shapeOf = (t: { shape: readonly number[] }): number[] => [...t.shape];

/** a → Relu → ra; b → Reshape([-1, 4]) → rb; a → Slice(axis 1, [start, 10)) → sa. */
function model(sliceStart: number): Uint8Array {
  const nodes: Node[] = [
    { opType: 'Relu', input: ['a'], output: ['ra'] },
    { opType: 'Reshape', input: ['b', 'to'], output: ['rb'] },
    { opType: 'Slice', input: ['a', 'st', 'en', 'ax'], output: ['sa'], name: 'slice' },
  ];
  return encode({
    nodes,
    inputs: [port('a', ['n', 3]), port('b', ['m', 2, 4])],
    outputs: ['ra', 'rb', 'sa'],
    inits: [intInit('to', [-1, 4]), intInit('st', [sliceStart]), intInit('en', [10]), intInit('ax', [1])],
  });
}

describe('zero-size tensors in a compiled model', () => {
  const a = nn.tensor(Float32Array.of(-1, 2, -3, 4, -5, 6), [2, 3]);

  test('an empty feed: its outputs by shape, the other outputs by the program, sync and async', async () => {
    const m = await nn.loadOnnx(model(1));
    for (const outs of [m.runSync({ a, b: empty([0, 2, 4]) }), await m.run({ a, b: empty([0, 2, 4]) })]) {
      expect([...outs.ra.data]).toEqual([0, 2, 0, 4, 0, 6]);
      expect(shapeOf(outs.rb)).toEqual([0, 4]);
      expect(outs.rb.data.length).toBe(0);
      expect([...outs.sa.data]).toEqual([2, -3, -5, 6]);
    }
    // The same model fed elements again: another program, as before.
    const full = m.runSync({ a, b: nn.tensor(new Float32Array(8).fill(1), [1, 2, 4]) });
    expect(shapeOf(full.rb)).toEqual([2, 4]);
    m.dispose();
  });

  test('every output empty: nothing to run, no program', async () => {
    const m = await nn.loadOnnx(model(5));
    const feeds = { a: empty([0, 3]), b: empty([0, 2, 4]) };
    for (const outs of [m.runSync(feeds), await m.run(feeds)]) {
      expect(shapeOf(outs.ra)).toEqual([0, 3]);
      expect(shapeOf(outs.rb)).toEqual([0, 4]);
      expect(shapeOf(outs.sa)).toEqual([0, 0]);
    }
    expect(m.memoryBytes()).toBe(0);
    m.dispose();
  });

  test('an output a step leaves empty (a Slice past the end) next to outputs with elements', async () => {
    const m = await nn.loadOnnx(model(7));
    const outs = await m.run({ a, b: nn.tensor(new Float32Array(8), [1, 2, 4]) });
    expect(shapeOf(outs.sa)).toEqual([2, 0]);
    expect(outs.sa.data.length).toBe(0);
    expect([...outs.ra.data]).toEqual([0, 2, 0, 4, 0, 6]);
    m.dispose();
  });

  test('an op with no rule for empty tensors is refused naming the node', async () => {
    const m = await nn.loadOnnx(
      encode({
        nodes: [{ opType: 'Conv', input: ['x', 'w'], output: ['y'], name: 'c1', attribute: [int('group', 1)] }],
        inputs: [port('x', ['n', 1, 2, 2])],
        outputs: ['y'],
        inits: [{ name: 'w', dims: [1, 1, 1, 1], dataType: DT.FLOAT, floatData: [2] }],
      }),
    );
    expect(() => m.runSync({ x: empty([0, 1, 2, 2]) })).toThrow(/Conv node #0 "c1": Conv on an empty tensor \[0,1,2,2\] is not supported/);
    await expect(m.run({ x: empty([0, 1, 2, 2]) })).rejects.toThrow(/Conv node #0 "c1"/);
    m.dispose();
  });

  test('bad feeds are still refused: elements that do not fit the shape, a declared dim, negative or fractional dims', async () => {
    const m = await nn.loadOnnx(model(1));
    expect(() => m.runSync({ a, b: { data: new Float32Array(3), shape: [0, 2, 4] } })).toThrow(/"b\.shape\[0\]" must be a positive integer, got 0/);
    expect(() => m.runSync({ a, b: empty([0, 3, 4]) })).toThrow(RangeError);
    expect(() => m.runSync({ a, b: empty([0, 3, 4]) })).toThrow(/input "b" must have shape \[m,2,4\], got \[0,3,4\]/);
    expect(() => m.runSync({ a, b: empty([-1, 2, 4]) })).toThrow(/b/);
    expect(() => m.runSync({ a, b: empty([0.5, 2, 4]) })).toThrow(/b/);
    expect(() => nn.tensor(new Float32Array(0), [0, 3])).toThrow(RangeError);
    m.dispose();
  });
});
