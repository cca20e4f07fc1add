// The program planner runs elementwise ops in place: when an op's input
// intermediate is not read after it, the op's output takes that buffer
// (the native kernels accept out === x), so the arena is smaller and the
// results are the same. Inputs still read later, model outputs and inputs
// also read as another argument keep their own buffers.
import * as nn from '../../lib';
import { createProgram, trace } from '../../lib/model/program';
import { randomTensor } from '../helpers';

type Spec = ReturnType<typeof trace>;
type Ref = { kind: number; index: number; offset: number; size: number };

const x = randomTensor([1, 4, 9, 9], 1);
const w = randomTensor([4, 4, 3, 3], 2);
const w2 = randomTensor([4, 4, 1, 1], 3);
const scale = randomTensor([4], 4);
const variance = nn.tensor(new Float32Array([0.5, 1, 1.5, 2]), [4]);

function compile(forward: () => nn.Tensor[]): Spec {
  return trace([x], [w.data, w2.data, scale.data, variance.data], forward, () => 'test');
}

function run(spec: Spec): Float32Array[] {
  const p = createProgram(spec);
  try {
    const outs = spec.outputSizes.map((n) => new Float32Array(n));
    p.runSync([x.data], outs);
    return outs;
  } finally {
    p.dispose();
  }
}

const arg = (spec: Spec, step: number, i: number): Ref => spec.steps[step].args[i] as Ref;

describe('in-place elementwise steps', () => {
  test('relu and clip after a conv write over the conv output', () => {
    const forward = (): nn.Tensor[] => [nn.conv2d(nn.clip(nn.relu(nn.conv2d(x, w, { pads: 1 })), 0, 0.5), w2)];
    const spec = compile(forward);
    expect(spec.steps.map((s) => s.op)).toEqual(['conv2d', 'unary', 'unary', 'conv2d']);
    // unary (x, out, ...): out is x's buffer
    expect(arg(spec, 1, 1)).toEqual(arg(spec, 1, 0));
    expect(arg(spec, 2, 1)).toEqual(arg(spec, 0, 3));
    expect(spec.arenaSize).toBe(Math.ceil(x.data.length / 16) * 16); // one activation buffer, not three
    expect(Array.from(run(spec)[0])).toEqual(Array.from(forward()[0].data));
  });

  test('an input read again later keeps its buffer', () => {
    const forward = (): nn.Tensor[] => {
      const a = nn.conv2d(x, w, { pads: 1 });
      return [nn.conv2d(nn.add(nn.relu(a), a), w2)];
    };
    const spec = compile(forward);
    expect(spec.steps.map((s) => s.op)).toEqual(['conv2d', 'unary', 'binary', 'conv2d']);
    expect(arg(spec, 1, 1)).not.toEqual(arg(spec, 1, 0)); // a is read by add
    // add (a, b, out): both inputs die there, out takes one of them
    const out = arg(spec, 2, 2);
    expect([arg(spec, 2, 0), arg(spec, 2, 1)]).toContainEqual(out);
    expect(Array.from(run(spec)[0])).toEqual(Array.from(forward()[0].data));
  });

  test('a model output gets its own buffer; a batchNorm input that is also its scale is not overwritten', () => {
    const forward = (): nn.Tensor[] => {
      const t = nn.reshape(nn.globalAvgPool(nn.relu(nn.conv2d(x, w, { pads: 1 }))), [1, 4]);
      // t dies at batchNorm, but it is read there as the scale too: out must not overlap it
      const b = nn.batchNorm(t, { scale: nn.reshape(t, [4]), bias: scale, mean: scale, variance: variance });
      return [nn.sigmoid(b)];
    };
    const spec = compile(forward);
    const ops = spec.steps.map((s) => s.op);
    expect(ops).toEqual(['conv2d', 'unary', 'pool2d', 'batchNorm', 'unary']);
    expect(arg(spec, 3, 5)).not.toEqual(arg(spec, 3, 0)); // batchNorm (x, scale, bias, mean, variance, out, ...)
    expect(arg(spec, 4, 1).kind).toBe(3); // sigmoid writes the model output, not over b
    expect(Array.from(run(spec)[0])).toEqual(Array.from(forward()[0].data));
  });
});
