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
