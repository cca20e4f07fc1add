// A QuantizeLinear whose only reader is a DequantizeLinear with the same per-tensor scale and zero point becomes
// one QuantizeDequantize step (lib/onnx/fuse.ts fuseQuantizeDequantize): bit for bit what the pair computes
// (checked against the formula on ties, saturation both ways, NaN and infinities, int8 and uint8, and against
// onnxruntime running the pair), on every backend, inside an NHWC region too; and what must stay two steps.
import * as nn from '../../lib';
import { DT, Node, Spec, encode, floatInit, int, ints, port } from './builders';
import { availableBackends, randomTensor } from '../helpers';
import { hasOrt, ortRun } from './ort-run';

const scalarF = (name: string, v: number) => ({ name, dims: [], dataType: DT.FLOAT, floatData: [v] });
const zeroPoint = (name: string, v: number, dataType: number) => ({ name, dims: [], dataType, int32Data: [v] });
const op = (opType: string, input: string[], output: string): Node => ({ opType, input, output: [output] });

/** The pair's value by ONNX's definition: saturate(round_half_even(x / s) + zp), then (q - zp) · s, in float32. */
function pair(x: number, s: number, zp: number, lo: number, hi: number): number {
  const v = Math.fround(x / s);
  let r: number;
  if (Number.isNaN(v)) r = 0;
  else if (!Number.isFinite(v)) r = v;
  else {
    const f = Math.floor(v);
    r = v - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(v);
  }
  const q = Math.min(hi, Math.max(lo, r + zp));
  return Math.fround((q - zp) * s);
}

function qdq(dtype: number, zp: number, extraOutput = false): Spec {
  return {
    nodes: [op('QuantizeLinear', ['x', 's', 'z'], 'q'), op('DequantizeLinear', ['q', 's2', 'z2'], 'y')],
    inputs: [port('x', [1, 2, 4, 8])],
    outputs: extraOutput ? ['y', port('q', [1, 2, 4, 8], dtype)] : ['y'],
    inits: [scalarF('s', 0.05), zeroPoint('z', zp, dtype), scalarF('s2', 0.05), zeroPoint('z2', zp, dtype)],
  };
}

const special = [0.025, 0.075, -0.025, -0.075, 0.125, 100, -100, NaN, Infinity, -Infinity, 0, -0, 6.35, -6.4, 6.375, 12.775];

function input(): Float32Array {
  const r = randomTensor([1, 2, 4, 8], 7).data.map((v) => v * 8);
  r.set(special);
  return r;
}

describe('QuantizeLinear → DequantizeLinear made one step', () => {
  for (const [name, dtype, zp, lo, hi] of [
    ['int8', DT.INT8, -3, -128, 127],
    ['uint8', DT.UINT8, 130, 0, 255],
  ] as const) {
    test.each(availableBackends())(`${name}: %s: one step, the pair's bits`, (backend) => {
      const before = nn.getBackend();
      nn.setBackend(backend);
      try {
        const m = nn.loadOnnxSync(encode(qdq(dtype, zp)));
        const x = input();
        const y = m.runSync({ x: nn.tensor(x, [1, 2, 4, 8]) }).y.data;
        expect(m.layers().map((l) => l.op)).toEqual(['QuantizeLinear+DequantizeLinear']);
        const want = Array.from(x, (v) => pair(v, Math.fround(0.05), zp, lo, hi));
        expect(Array.from(y)).toEqual(want);
        m.dispose();
      } finally {
        nn.setBackend(before);
      }
    });
  }

  (hasOrt ? test : test.skip)('as onnxruntime runs the pair, between convs (an NHWC region under auto and xnnpack)', async () => {
    const conv = (x: string, w: string, y: string): Node => ({ opType: 'Conv', input: [x, w], output: [y], attribute: [ints('pads', [1, 1, 1, 1]), int('group', 1)] });
    const spec: Spec = {
      nodes: [conv('x', 'w1', 'a'), op('QuantizeLinear', ['a', 's', 'z'], 'q'), op('DequantizeLinear', ['q', 's', 'z'], 'b'), op('LeakyRelu', ['b'], 'c'), conv('c', 'w2', 'y')],
      inputs: [port('x', [1, 8, 12, 12])],
      outputs: ['y'],
      inits: [floatInit('w1', randomTensor([16, 8, 3, 3], 1)), floatInit('w2', randomTensor([8, 16, 3, 3], 2)), scalarF('s', 0.02), zeroPoint('z', 5, DT.INT8)],
    };
    const bytes = encode(spec);
    const x = randomTensor([1, 8, 12, 12], 3);
    const want = ortRun(bytes, { x }).y;
    for (const backend of availableBackends()) {
      const before = nn.getBackend();
      nn.setBackend(backend);
      try {
        const m = nn.loadOnnxSync(bytes);
        expect(m.layers().map((l) => l.op)).toContain('QuantizeLinear+DequantizeLinear');
        const y = (await m.run({ x })).y.data;
        // Under xnnpack the pair no longer ends a region: conv, pair, LeakyRelu and conv are one.
        if (backend === 'xnnpack') expect(m.layers()[0].choice).toMatch(/NHWC region on XNNPACK: 4 steps \(0-3\)/);
        const peak = Math.max(...Array.from(want.data, Math.abs));
        for (let i = 0; i < y.length; i++) expect(Math.abs(y[i] - want.data[i])).toBeLessThanOrEqual(1e-4 * peak);
        m.dispose();
      } finally {
        nn.setBackend(before);
      }
    }
  });

  test('stays two steps when the quantized value is also read elsewhere, or the parameters differ', () => {
    const read = nn.loadOnnxSync(encode(qdq(DT.INT8, 0, true)));
    expect(read.layers().map((l) => l.op)).toEqual(['QuantizeLinear', 'DequantizeLinear']);
    const other = qdq(DT.INT8, 0);
    other.inits = [scalarF('s', 0.05), zeroPoint('z', 0, DT.INT8), scalarF('s2', 0.1), zeroPoint('z2', 0, DT.INT8)];
    const m = nn.loadOnnxSync(encode(other));
    expect(m.layers().map((l) => l.op)).toEqual(['QuantizeLinear', 'DequantizeLinear']);
    const x = input();
    const y = m.runSync({ x: nn.tensor(x, [1, 2, 4, 8]) }).y.data;
    // Quantized with 0.05, dequantized with 0.1: twice the value, as written.
    expect(Array.from(y)).toEqual(Array.from(x, (v) => Math.fround(2 * pair(v, Math.fround(0.05), 0, -128, 127))));
  });
});
