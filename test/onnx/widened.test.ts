// Element types neonn holds widened (lib/dtype.ts WidenedType: int16 and
// uint16 in int32, uint32 and uint64 in int64, bfloat16 and string in
// float32): fed as their own arrays, given back as WidenedTensors, and Cast
// to them gives the type's range. ONNX's node tests cover Max/Min/Pow on
// them and Cast between float and string or bfloat16; these cover the rest.
import * as nn from '../../lib';
import { DT, Spec, encode, int, port } from './builders';
import { availableBackends } from '../helpers';

const BACKENDS = availableBackends();

/** Runs `s` with `feeds` sync and async on every backend; every run must give the same outputs, which it returns. */
async function runAll(s: Spec, feeds: nn.OnnxFeeds): Promise<Record<string, nn.WidenedTensor>> {
  const m = await nn.loadOnnx(encode(s));
  let first: Record<string, nn.WidenedTensor> | undefined;
  try {
    for (const b of BACKENDS) {
      nn.setBackend(b);
      for (const outs of [m.runSync(feeds), await m.run(feeds)]) {
        const got = outs as unknown as Record<string, nn.WidenedTensor>;
        if (first === undefined) first = got;
        else expect(got).toEqual(first);
      }
    }
  } finally {
    nn.setBackend(BACKENDS[0]);
    m.dispose();
  }
  return first!;
}

const cast = (to: number, opset = 13): Spec => ({
  nodes: [{ opType: 'Cast', input: ['x'], output: ['y'], attribute: [int('to', to)] }],
  inputs: [port('x', [5])],
  outputs: [port('y', [5], to)],
  opset,
});

describe('widened element types', () => {
  test('int16 and uint16 inputs and outputs keep their values and arrays', async () => {
    for (const [t, Arr, vals] of [[DT.INT16, Int16Array, [-32768, -1, 0, 7, 32767]], [DT.UINT16, Uint16Array, [0, 1, 255, 40000, 65535]]] as const) {
      const s: Spec = {
        nodes: [{ opType: 'Max', input: ['a', 'b'], output: ['y'] }],
        inputs: [port('a', [5], t), port('b', [5], t)],
        outputs: [port('y', [5], t)],
      };
      const a = Arr.from(vals);
      const b = Arr.from(vals).reverse();
      const { y } = await runAll(s, { a: { data: a, shape: [5] }, b: { data: b, shape: [5] } });
      expect(y).toBeInstanceOf(nn.WidenedTensor);
      expect(y.data).toBeInstanceOf(Arr);
      expect(Array.from(y.data as Int16Array)).toEqual(vals.map((v, i) => Math.max(v, vals[4 - i])));
    }
  });

  test('model.inputDtypes and outputDtypes name the declared type', () => {
    const m = nn.loadOnnxSync(encode(cast(DT.UINT32)));
    expect(m.inputDtypes).toEqual(['float32']);
    expect(m.outputDtypes).toEqual(['uint32']);
    m.dispose();
  });

  test('Cast to a narrow integer type gives its range (low bits kept)', async () => {
    const x = nn.tensor(new Float32Array([70000, -1.5, 32767, -32769, 3]), [5]);
    expect(Array.from((await runAll(cast(DT.INT16), { x })).y.data as Int16Array)).toEqual([4464, -1, 32767, 32767, 3]);
    expect(Array.from((await runAll(cast(DT.UINT16), { x })).y.data as Uint16Array)).toEqual([4464, 65535, 32767, 32767, 3]);
    expect(Array.from((await runAll(cast(DT.UINT32), { x })).y.data as Uint32Array)).toEqual([70000, 4294967295, 32767, 4294934527, 3]);
    expect(Array.from((await runAll(cast(DT.UINT64), { x })).y.data as BigUint64Array)).toEqual([70000n, 2n ** 64n - 1n, 32767n, 2n ** 64n - 32769n, 3n]);
  });

  test('uint64 feeds of 2^63 or more are a RangeError naming the input; a wrong array a TypeError', () => {
    const s: Spec = {
      nodes: [{ opType: 'Max', input: ['a', 'b'], output: ['y'] }],
      inputs: [port('a', [2], DT.UINT64), port('b', [2], DT.UINT64)],
      outputs: [port('y', [2], DT.UINT64)],
    };
    const m = nn.loadOnnxSync(encode(s));
    const ok = { data: new BigUint64Array([1n, 2n ** 63n - 1n]), shape: [2] };
    expect(Array.from(m.runSync({ a: ok, b: ok }).y.data as unknown as BigUint64Array)).toEqual([1n, 2n ** 63n - 1n]);
    expect(() => m.runSync({ a: ok, b: { data: new BigUint64Array([0n, 2n ** 63n]), shape: [2] } })).toThrow(/input "b"\[1\] = 9223372036854775808: uint64 values of 2\^63/);
    expect(() => m.runSync({ a: ok, b: { data: new BigInt64Array(2), shape: [2] } })).toThrow(TypeError);
    expect(() => m.runSync({ a: ok, b: { data: new BigUint64Array(3), shape: [2] } })).toThrow(RangeError);
    m.dispose();
  });

  test('strings: parsed as ONNX reads numbers, written in the fewest digits that read back', async () => {
    const toFloat: Spec = {
      nodes: [{ opType: 'Cast', input: ['s'], output: ['y'], attribute: [int('to', DT.FLOAT)] }],
      inputs: [port('s', [6], DT.STRING)],
      outputs: ['y'],
    };
    const m = nn.loadOnnxSync(encode(toFloat));
    const y = m.runSync({ s: { data: ['1e-5', ' 2.5 ', '-inf', 'nan', '+INF', '.5'], shape: [6] } }).y;
    expect(Array.from(y.data)).toEqual([Math.fround(1e-5), 2.5, -Infinity, NaN, Infinity, 0.5]);
    for (const bad of ['abc', '0x10', '', '1.5.2']) {
      expect(() => m.runSync({ s: { data: ['1', '2', bad, '3', '4', '5'], shape: [6] } })).toThrow(new RegExp(`input "s"\\[2\\] = ${JSON.stringify(bad).replace(/\./g, '\\.')} is not a number`));
    }
    expect(() => m.runSync({ s: { data: [1, 2, 3, 4, 5, 6], shape: [6] } } as unknown as nn.OnnxFeeds)).toThrow(TypeError);
    m.dispose();

    const x = nn.tensor(new Float32Array([0.1, 1, -0, 1e-7, 3.4028234663852886e38]), [5]);
    const { y: s } = await runAll({ ...cast(DT.STRING) }, { x });
    expect(s.data).toEqual(['0.1', '1', '-0', '1e-7', '3.4028235e+38']);
    const special = await runAll(cast(DT.STRING), { x: nn.tensor(new Float32Array([NaN, Infinity, -Infinity, 16777216, 0.3]), [5]) });
    expect(special.y.data).toEqual(['NaN', 'INF', '-INF', '16777216', '0.3']);
  });

  test('bfloat16: fed and given as bits; Cast truncates before opset 19 (ONNX\'s reference) and rounds to nearest even from 19', async () => {
    // 1.005859375 = 0x3f80c000: between bfloat16 0x3f80 and 0x3f81, nearer 0x3f81.
    const x = nn.tensor(new Float32Array([1.005859375, -2, 1.00390625, NaN, 65536]), [5]);
    expect(Array.from((await runAll(cast(DT.BFLOAT16, 13), { x })).y.data as Uint16Array)).toEqual([0x3f80, 0xc000, 0x3f80, 0x7fc0, 0x4780]);
    expect(Array.from((await runAll(cast(DT.BFLOAT16, 19), { x })).y.data as Uint16Array)).toEqual([0x3f81, 0xc000, 0x3f80, 0x7fc0, 0x4780]);
    const back: Spec = {
      nodes: [{ opType: 'Cast', input: ['b'], output: ['y'], attribute: [int('to', DT.FLOAT)] }],
      inputs: [port('b', [3], DT.BFLOAT16)],
      outputs: ['y'],
    };
    const m = nn.loadOnnxSync(encode(back));
    expect(Array.from(m.runSync({ b: { data: new Uint16Array([0x3f81, 0xc000, 0xff80]), shape: [3] } }).y.data)).toEqual([1.0078125, -2, -Infinity]);
    m.dispose();
  });
});

test('int64 feeds past 2^53 stay exact when the program is planned on their values', () => {
  const s: Spec = {
    nodes: [{ opType: 'Max', input: ['a', 'b'], output: ['y'] }],
    inputs: [port('a', [3], DT.INT64), port('b', [3], DT.INT64)],
    outputs: [port('y', [3], DT.INT64)],
  };
  const m = nn.loadOnnxSync(encode(s));
  const big = new nn.TypedTensor('int64', new BigInt64Array([2n ** 63n - 1n, 2n ** 60n + 1n, -(2n ** 53n) - 3n]), [3]);
  const zero = new nn.TypedTensor('int64', new BigInt64Array([0n, 0n, -(2n ** 62n)]), [3]);
  expect(Array.from(m.runSync({ a: big, b: zero }).y.data as unknown as BigInt64Array)).toEqual([2n ** 63n - 1n, 2n ** 60n + 1n, -(2n ** 53n) - 3n]);
  m.dispose();
});
