// Training-mode forms of ONNX ops, beyond ONNX's node tests: Dropout's mask
// (NumPy's legacy generator, a seed drawn at load when the node has none,
// ratio checks) and BatchNormalization with training_mode=1.
import * as nn from '../../lib';
import { DT, Node, encode, flt, int } from './builders';
import { onnx } from '../../lib/onnx/proto';
import { Mt19937, dropoutMask } from '../../lib/onnx/random';

const input = (name: string, elemType: number, shape: number[]): onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
});

/** Dropout(x, r, t) → y, z, optionally with a seed and a Relu after it (then y is the Relu's output). */
function dropoutModel(opts: { seed?: number; relu?: boolean; shape?: number[] } = {}): Uint8Array {
  const shape = opts.shape ?? [4, 250];
  const nodes: Node[] = [
    { opType: 'Dropout', input: ['x', 'r', 't'], output: [opts.relu ? 'd' : 'y', 'z'], name: 'drop', attribute: opts.seed === undefined ? [] : [int('seed', opts.seed)] },
  ];
  if (opts.relu) nodes.push({ opType: 'Relu', input: ['d'], output: ['y'] });
  return encode({ nodes, inputs: [input('x', DT.FLOAT, shape), input('r', DT.FLOAT, []), input('t', DT.BOOL, [])], outputs: ['y', 'z'] });
}

const ramp = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => (i % 13) - 6 + 0.25);
const feeds = (x: Float32Array, shape: number[], ratio: number, training: boolean): nn.OnnxFeeds =>
  ({ x: nn.tensor(x, shape), r: nn.tensor(Float32Array.of(ratio), []), t: new nn.TypedTensor('bool', Uint8Array.of(training ? 1 : 0), []) }) as unknown as nn.OnnxFeeds;

describe('NumPy legacy generator', () => {
  test('matches np.random.seed(s); np.random.rand()', () => {
    const r = new Mt19937(0);
    expect([r.nextDouble(), r.nextDouble(), r.nextDouble()]).toEqual([0.5488135039273248, 0.7151893663724195, 0.6027633760716439]);
    expect(new Mt19937(42).nextDouble()).toBe(0.3745401188473625);
    // MT19937's reference output for its default seed.
    expect(new Mt19937(5489).nextUint32()).toBe(3499211612);
  });

  test('the mask is uniform >= ratio, element by element', () => {
    // np.random.seed(0); np.random.rand(5) = [0.549, 0.715, 0.603, 0.545, 0.424]
    expect([...dropoutMask(0, 5, 0.5)]).toEqual([1, 1, 1, 1, 0]);
    expect([...dropoutMask(0, 5, 0.6)]).toEqual([0, 1, 1, 0, 0]);
  });
});

describe('Dropout in training mode', () => {
  const shape = [4, 250];
  const x = ramp(1000);

  test('with a seed: y = x · mask / (1 − ratio), the mask NumPy draws for that seed, sync and async', async () => {
    const m = await nn.loadOnnx(dropoutModel({ seed: 7 }));
    const want = dropoutMask(7, 1000, 0.3);
    const scale = Math.fround(1 / 0.7);
    for (const outs of [m.runSync(feeds(x, shape, 0.3, true)), await m.run(feeds(x, shape, 0.3, true))]) {
      const z = outs.z as unknown as nn.TypedTensor;
      expect(z.dtype).toBe('bool');
      expect(z.shape).toEqual(shape);
      expect([...z.data]).toEqual([...want]);
      expect(outs.y.data).toEqual(Float32Array.from(x, (v, i) => Math.fround(v * want[i] * scale)));
    }
    m.dispose();
  });

  test('without a seed: one seed per load, the same mask on every run of that model', async () => {
    const a = await nn.loadOnnx(dropoutModel());
    const b = await nn.loadOnnx(dropoutModel());
    const z1 = [...(a.runSync(feeds(x, shape, 0.5, true)).z as unknown as nn.TypedTensor).data];
    const z2 = [...((await a.run(feeds(x, shape, 0.5, true))).z as unknown as nn.TypedTensor).data];
    const z3 = [...(b.runSync(feeds(x, shape, 0.5, true)).z as unknown as nn.TypedTensor).data];
    expect(z2).toEqual(z1);
    // A second load draws another seed: 1000 coin flips alike by chance is 2^-1000.
    expect(z3).not.toEqual(z1);
    const kept = z1.filter((v) => v === 1).length;
    expect(kept).toBeGreaterThan(400);
    expect(kept).toBeLessThan(600);
    a.dispose();
    b.dispose();
  });

  test('ratio 0 or training_mode false: y = x, mask all true', async () => {
    const m = await nn.loadOnnx(dropoutModel({ seed: 1 }));
    for (const f of [feeds(x, shape, 0, true), feeds(x, shape, 0.5, false)]) {
      const outs = m.runSync(f);
      expect(outs.y.data).toEqual(x);
      expect([...(outs.z as unknown as nn.TypedTensor).data].every((v) => v === 1)).toBe(true);
      // The output is a copy, never the feed itself.
      expect(outs.y.data).not.toBe(x);
    }
    m.dispose();
  });

  test('a training Dropout inside the graph is not removed as an identity', async () => {
    const m = await nn.loadOnnx(dropoutModel({ seed: 3, relu: true }));
    const want = dropoutMask(3, 1000, 0.5);
    // (+ 0: a dropped negative is -0, which ReLU may keep.)
    expect(Float32Array.from(m.runSync(feeds(x, shape, 0.5, true)).y.data, (v) => v + 0)).toEqual(Float32Array.from(x, (v, i) => Math.max(0, v * want[i] * 2)));
    m.dispose();
  });

  test('a ratio outside [0, 1) is a RangeError naming the node, sync and async', async () => {
    const m = await nn.loadOnnx(dropoutModel({ seed: 0 }));
    for (const r of [1, -0.1, 1.5]) {
      expect(() => m.runSync(feeds(x, shape, r, true))).toThrow(RangeError);
      expect(() => m.runSync(feeds(x, shape, r, true))).toThrow(`Dropout node #0 "drop": ratio must be in [0, 1), got ${Math.fround(r)}`);
      await expect(m.run(feeds(x, shape, r, false))).rejects.toThrow(RangeError);
    }
    m.dispose();
  });
});

describe('BatchNormalization with training_mode=1', () => {
  const [N, C, H, W] = [2, 3, 4, 5];
  const x = Float32Array.from({ length: N * C * H * W }, (_, i) => Math.sin(i * 0.7) * 3 + (i % 5));
  const w = Float32Array.from([1, 0.5, 0, -1, 2, 0.25, 0, 0, 1]); // [C, C, 1, 1]
  const params = { s: [1, 2, 0.5], bias: [0, 1, -1], mean: [0.5, -1, 2], var: [1, 4, 0.25] };

  /** x → Conv 1x1 (W) → BatchNormalization(training_mode=1) → y (and running mean and var when `stats`). */
  function model(stats: boolean, momentum?: number): Uint8Array {
    const inits: onnx.ITensorProto[] = [{ name: 'w', dims: [C, C, 1, 1], dataType: DT.FLOAT, floatData: [...w] }];
    for (const [name, v] of Object.entries(params)) inits.push({ name, dims: [C], dataType: DT.FLOAT, floatData: v });
    const attrs = [int('training_mode', 1), ...(momentum === undefined ? [] : [flt('momentum', momentum)])];
    return encode({
      opset: 15,
      nodes: [
        { opType: 'Conv', input: ['x', 'w'], output: ['c'] },
        { opType: 'BatchNormalization', input: ['c', 's', 'bias', 'mean', 'var'], output: stats ? ['y', 'rm', 'rv'] : ['y'], attribute: attrs },
      ],
      inputs: [input('x', DT.FLOAT, [N, C, H, W])],
      outputs: stats ? ['y', 'rm', 'rv'] : ['y'],
      inits,
    });
  }

  /** The formula in doubles: the conv, the batch's statistics, y and the running ones. */
  function reference(momentum: number): { y: number[]; rm: number[]; rv: number[] } {
    const hw = H * W;
    const c = new Array<number>(x.length).fill(0);
    for (let n = 0; n < N; n++) for (let o = 0; o < C; o++) for (let i = 0; i < C; i++) for (let p = 0; p < hw; p++) c[(n * C + o) * hw + p] += w[o * C + i] * x[(n * C + i) * hw + p];
    const at = (n: number, ch: number, p: number): number => c[(n * C + ch) * hw + p];
    const y = new Array<number>(x.length);
    const rm: number[] = [];
    const rv: number[] = [];
    for (let ch = 0; ch < C; ch++) {
      let m = 0;
      for (let n = 0; n < N; n++) for (let p = 0; p < hw; p++) m += at(n, ch, p) / (N * hw);
      let v = 0;
      for (let n = 0; n < N; n++) for (let p = 0; p < hw; p++) v += (at(n, ch, p) - m) ** 2 / (N * hw);
      for (let n = 0; n < N; n++) for (let p = 0; p < hw; p++) y[(n * C + ch) * hw + p] = ((at(n, ch, p) - m) / Math.sqrt(v + 1e-5)) * params.s[ch] + params.bias[ch];
      rm.push(params.mean[ch] * momentum + m * (1 - momentum));
      rv.push(params.var[ch] * momentum + v * (1 - momentum));
    }
    return { y, rm, rv };
  }

  const close = (got: ArrayLike<number>, want: number[]): void => {
    expect(got.length).toBe(want.length);
    want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));
  };

  test('normalizes by the batch, not the running statistics, and updates them (default momentum 0.9), sync and async', async () => {
    const m = await nn.loadOnnx(model(true));
    const want = reference(0.9);
    for (const outs of [m.runSync({ x: nn.tensor(x, [N, C, H, W]) }), await m.run({ x: nn.tensor(x, [N, C, H, W]) })]) {
      close(outs.y.data, want.y);
      close(outs.rm.data, want.rm);
      close(outs.rv.data, want.rv);
    }
    m.dispose();
  });

  test('is not folded into the Conv before it (only y read, another momentum)', async () => {
    const m = await nn.loadOnnx(model(false, 0.5));
    expect(m.layers().map((l) => l.op)).not.toContain('Conv+BatchNormalization');
    close(m.runSync({ x: nn.tensor(x, [N, C, H, W]) }).y.data, reference(0.5).y);
    m.dispose();
  });
});
