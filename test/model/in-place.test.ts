// The program planner runs elementwise ops in place: when an op's input
// intermediate is not read after it, the op's output takes that buffer
// (the native kernels accept out === x), so the arena is smaller and the
// results are the same. Inputs still read later, model outputs and inputs
// also read as another argument keep their own buffers. (Weights must be
// the traced constants: a Float32Array the trace has not seen is taken for
// an op's fresh output.)
import * as nn from '../../lib';
import { createProgram, trace } from '../../lib/model/program';
import { binding } from '../../lib/native';
import { expectNativeThrows } from '../native-errors';
import { randomTensor } from '../helpers';

type Spec = ReturnType<typeof trace>;
type Ref = { kind: number; index: number; offset: number; size: number };

const x = randomTensor([1, 4, 9, 9], 1);
const w = randomTensor([4, 4, 3, 3], 2);
const w2 = randomTensor([4, 4, 1, 1], 3);
const scale = randomTensor([4], 4);
const variance = nn.tensor(new Float32Array([0.5, 1, 1.5, 2]), [4]);
const w12 = randomTensor([4, 12, 1, 1], 5);

function compile(forward: () => nn.Tensor[]): Spec {
  return trace([x], [w.data, w2.data, scale.data, variance.data, w12.data], forward, () => 'test');
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

// The planner's decisions, checked bit for bit against the same ops called
// one by one: on one fixed backend, since auto may plan a model's conv on
// another path than a lone call's.
beforeAll(() => nn.setBackend('openblas'));
afterAll(() => nn.setBackend('auto'));

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

describe('concat in place', () => {
  const sliceOf = (out: Ref, at: number, size: number): Ref => ({ kind: out.kind, index: out.index, offset: out.offset + at, size });

  test('at batch 1 each producer writes into its slice of the concat output', () => {
    const forward = (): nn.Tensor[] => {
      const a = nn.relu(nn.conv2d(x, w, { pads: 1 }));
      const b = nn.conv2d(x, w2);
      const c = nn.maxPool2d(x, { kernel: 3, strides: 1, pads: 1 });
      return [nn.conv2d(nn.concat([a, b, c], 1), w12)];
    };
    const spec = compile(forward);
    const cat = spec.steps.findIndex((s) => s.op === 'concat');
    const out = arg(spec, cat, 1);
    const inputs = spec.steps[cat].args[0] as Ref[];
    const n = x.data.length;
    expect(inputs).toEqual([sliceOf(out, 0, n), sliceOf(out, n, n), sliceOf(out, 2 * n, n)]);
    expect(Array.from(run(spec)[0])).toEqual(Array.from(forward()[0].data));
  });

  test('at batch 2, or with one tensor listed twice, the inputs keep their buffers', () => {
    const forward = (): nn.Tensor[] => {
      const x2 = nn.concat([x, x], 0); // [2, 4, 9, 9]
      const a = nn.relu(x2);
      const b = nn.sigmoid(x2);
      const d = nn.tanh(x);
      return [nn.relu(nn.concat([a, b], 1)), nn.relu(nn.concat([d, d], 1))];
    };
    const spec = compile(forward);
    const cats = spec.steps.map((s, i) => [s, i] as const).filter(([s]) => s.op === 'concat');
    for (const [s, i] of cats) {
      const out = arg(spec, i, 1);
      for (const r of s.args[0] as Ref[]) {
        const overlaps = r.kind === out.kind && r.offset < out.offset + out.size && out.offset < r.offset + r.size;
        expect(overlaps).toBe(false);
      }
    }
    const got = run(spec);
    const want = forward();
    got.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(want[i].data)));
  });

  test('the native concat copies nothing for an input that is its slice, and refuses any other overlap', () => {
    // The raw binding: the facade refuses any overlap before native code sees it.
    const concat = (binding as unknown as { concatSync: (...a: unknown[]) => void }).concatSync;
    const buf = new Float32Array(12);
    buf.set([1, 2, 3, 4]);
    const right = new Float32Array([5, 6, 7, 8, 9, 10, 11, 12]);
    concat([buf.subarray(0, 4), right], buf, 1, 2, 1, 4, 1, 8);
    expect(Array.from(buf)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expectNativeThrows(() => concat([buf.subarray(1, 5), right], buf, 1, 2, 1, 4, 1, 8), RangeError, /concat: out overlaps tensors\[0\]|overlap/);
    // At batch 2 the slices interleave: an input inside out is refused even at out's start.
    const buf2 = new Float32Array(24);
    expectNativeThrows(() => concat([buf2.subarray(0, 8), new Float32Array(16)], buf2, 1, 2, 2, 4, 2, 8), RangeError, /overlap/);
  });
});

describe("the op schema's generic kernels, by their inPlace pairs", () => {
  type KernelRef = { ref: Ref; dtype: number; shape: number[] };
  type KernelStep = { op: string; kernel?: string; inputs?: (KernelRef | null)[]; outputs?: KernelRef[] };
  const kstep = (spec: Spec, i: number): KernelStep => spec.steps[i] as unknown as KernelStep;
  const op1 = (name: string, ...ins: nn.Tensor[]): nn.Tensor => nn.runOp(name, ins)[0] as nn.Tensor;

  test('HardSwish then Exp then Add write over the buffer they read', () => {
    const forward = (): nn.Tensor[] => {
      const h = op1('HardSwish', nn.conv2d(x, w, { pads: 1 }));
      const e = op1('Exp', op1('Neg', h));
      return [nn.conv2d(op1('Add', e, x), w2)];
    };
    const spec = compile(forward);
    expect(spec.steps.map((s) => (s as unknown as KernelStep).kernel ?? s.op)).toEqual(['conv2d', 'HardSwish', 'Neg', 'Exp', 'Add', 'conv2d']);
    for (const i of [1, 2, 3]) expect(kstep(spec, i).outputs![0].ref).toEqual(kstep(spec, i).inputs![0]!.ref);
    // Add (e, x): x is the model input, e dies here: out takes e's buffer.
    expect(kstep(spec, 4).outputs![0].ref).toEqual(kstep(spec, 4).inputs![0]!.ref);
    expect(spec.arenaSize).toBe(Math.ceil(x.data.length / 16) * 16); // one activation buffer
    expect(Array.from(run(spec)[0])).toEqual(Array.from(forward()[0].data));
  });

  test('an input read later, or read twice by the step, keeps its buffer; a dtype change never shares', () => {
    const forward = (): nn.Tensor[] => {
      const a = nn.conv2d(x, w, { pads: 1 });
      const s = op1('Sigmoid', a); // a is read again by Mul
      const sq = op1('Mul', s, s); // s is both inputs of this step: out gets a buffer of its own
      const m = op1('Mul', sq, a);
      const c = nn.runOp('Cast', [m], { to: 7 })[0]; // float32 -> int64: its own buffer
      return [op1('Relu', nn.runOp('Cast', [c], { to: 1 })[0] as nn.Tensor)];
    };
    const spec = compile(forward);
    const names = spec.steps.map((s) => (s as unknown as KernelStep).kernel ?? s.op);
    expect(names).toEqual(['conv2d', 'Sigmoid', 'Mul', 'Mul', 'Cast', 'Cast', 'Relu']);
    expect(kstep(spec, 1).outputs![0].ref).not.toEqual(kstep(spec, 1).inputs![0]!.ref); // a is read by the second Mul
    expect(kstep(spec, 2).outputs![0].ref).not.toEqual(kstep(spec, 2).inputs![0]!.ref); // s is also input 1
    expect(kstep(spec, 4).outputs![0].ref).not.toEqual(kstep(spec, 4).inputs![0]!.ref); // Cast changes the dtype
    const got = run(spec)[0];
    const want = forward()[0].data;
    expect(Array.from(got)).toEqual(Array.from(want));
  });
});
