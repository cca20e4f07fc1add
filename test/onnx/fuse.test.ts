// Graph passes of lib/onnx/fuse.ts: an affine after a Conv folded into it, an affine of one value before a Conv
// that pads nothing folded into it, HardSwish written out as Add/Clip/Mul/Div made one step. Each checked
// against onnxruntime running the graph as written, on every backend, and for what must not fuse.
import * as nn from '../../lib';
import { availableBackends, randomTensor } from '../helpers';
import { Node, Spec, encode, floatInit, int, ints, port } from './builders';
import { hasOrt, ortRun } from './ort-run';

const scalar = (name: string, v: number): ReturnType<typeof floatInit> => ({ name, dims: [], dataType: 1, floatData: [v] });
const conv = (x: string, w: string, y: string, pads = 1, b?: string): Node => ({
  opType: 'Conv', input: b ? [x, w, b] : [x, w], output: [y], attribute: [ints('pads', [pads, pads, pads, pads]), int('group', 1)],
});
const op = (opType: string, input: string[], output: string): Node => ({ opType, input, output: [output] });

/** x · Clip(x + 3, 0, 6) / 6 of `x` into `y`, with constants c3, c0, c6. */
const hardSwish = (x: string, y: string): Node[] => [
  op('Add', [x, 'c3'], `${y}_a`),
  op('Clip', [`${y}_a`, 'c0', 'c6'], `${y}_c`),
  op('Mul', [x, `${y}_c`], `${y}_m`),
  op('Div', [`${y}_m`, 'c6'], y),
];

function net(pads2: number): Spec {
  return {
    nodes: [
      conv('x', 'w1', 'a', 1, 'b1'),
      op('Mul', ['k1', 'a'], 'a1'), // one value, first operand
      op('Add', ['a1', 't1'], 'a2'), // one per channel, [1, C, 1, 1]
      ...hardSwish('a2', 'h'),
      op('Mul', ['h', 'k2'], 'h1'),
      op('Add', ['h1', 't2'], 'h2'),
      conv('h2', 'w2', 'y', pads2),
    ],
    inputs: [port('x', [1, 3, 9, 8])],
    outputs: ['y'],
    inits: [
      floatInit('w1', randomTensor([6, 3, 3, 3], 1)),
      floatInit('b1', randomTensor([6], 2)),
      { name: 'k1', dims: [1], dataType: 1, floatData: [0.8] },
      floatInit('t1', randomTensor([1, 6, 1, 1], 3)),
      scalar('c3', 3),
      scalar('c0', 0),
      scalar('c6', 6),
      { name: 'k2', dims: [1], dataType: 1, floatData: [1.3] },
      { name: 't2', dims: [1], dataType: 1, floatData: [-0.2] },
      floatInit('w2', randomTensor([4, 6, 1, 1], 4)),
    ],
  };
}

const ops = (m: nn.OnnxModel): string[] => m.layers().map((l) => l.op);

describe('fusion passes', () => {
  const x = randomTensor([1, 3, 9, 8], 5);
  test.each(availableBackends())('%s: folded and fused, the same values as the graph as written (onnxruntime)', (backend) => {
    const spec = net(0);
    const before = nn.getBackend();
    nn.setBackend(backend);
    try {
      const m = nn.loadOnnxSync(encode(spec));
      const got = m.runSync({ x }).y;
      expect(ops(m)).toEqual(['Conv+Mul+Add', 'Add+Clip+Mul+Div (HardSwish)', 'Mul+Add+Conv']);
      m.dispose();
      if (!hasOrt) return;
      const want = ortRun(encode(spec), { x }).y.data;
      const scale = Math.max(...Array.from(want, Math.abs));
      expect(got.data.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) expect(Math.abs(got.data[i] - want[i])).toBeLessThanOrEqual(1e-4 * scale + 1e-6);
    } finally {
      nn.setBackend(before);
    }
  });

  test('an affine before a Conv that pads stays (its padded zeros are not transformed)', () => {
    const spec = net(1);
    spec.inits = spec.inits!.map((t) => (t.name === 'w2' ? floatInit('w2', randomTensor([4, 6, 3, 3], 4)) : t));
    const m = nn.loadOnnxSync(encode(spec));
    expect(ops(m)).toEqual(['Conv+Mul+Add', 'Add+Clip+Mul+Div (HardSwish)', 'Mul', 'Add', 'Conv']);
    const got = m.runSync({ x }).y.data;
    m.dispose();
    if (!hasOrt) return;
    const want = ortRun(encode(spec), { x }).y.data;
    const scale = Math.max(...Array.from(want, Math.abs));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-4 * scale + 1e-6);
  });

  test('what must not fuse: a Conv output read twice, a constant that changes the shape, other Clip bounds, a graph output inside', () => {
    const w = floatInit('w', randomTensor([4, 3, 3, 3], 7));
    const base = { inputs: [port('x', [1, 3, 9, 8])], inits: [w, scalar('c3', 3), scalar('c0', 0), scalar('c6', 6), scalar('c5', 5)] };
    // The Conv's output also feeds the graph's second output: the Mul stays a step.
    const twice = nn.loadOnnxSync(encode({ ...base, nodes: [conv('x', 'w', 'a'), op('Mul', ['a', 'c3'], 'y')], outputs: ['y', 'a'] }));
    expect(ops(twice)).toEqual(['Conv', 'Mul']);
    twice.dispose();
    // A [1, 1, 1, 1, 1] constant would make the output rank 5: not folded.
    const rank5 = { name: 'k5', dims: [1, 1, 1, 1, 1], dataType: 1, floatData: [2] };
    const wide = nn.loadOnnxSync(encode({ ...base, inits: [...base.inits, rank5], nodes: [conv('x', 'w', 'a'), op('Mul', ['a', 'k5'], 'y')], outputs: ['y'] }));
    expect(ops(wide)).toEqual(['Conv', 'Mul']);
    expect(wide.runSync({ x }).y.shape).toEqual([1, 1, 4, 9, 8]);
    wide.dispose();
    // Clip(0, 5): not HardSwish.
    const clip5 = [op('Add', ['x', 'c3'], 'a'), op('Clip', ['a', 'c0', 'c5'], 'c'), op('Mul', ['x', 'c'], 'm'), op('Div', ['m', 'c6'], 'y')];
    const other = nn.loadOnnxSync(encode({ ...base, nodes: clip5, outputs: ['y'] }));
    expect(ops(other)).toEqual(['Add', 'Clip', 'Mul', 'Div']);
    other.dispose();
    // The Clip's output is also a graph output: nothing fuses.
    const exposed = nn.loadOnnxSync(encode({ ...base, nodes: hardSwish('x', 'y'), outputs: ['y', 'y_c'] }));
    expect(ops(exposed)).toEqual(['Add', 'Clip', 'Mul', 'Div']);
    exposed.dispose();
  });
});
