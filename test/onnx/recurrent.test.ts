// LSTM, GRU and RNN imported from ONNX models built here, at sizes like a
// CRNN text recognizer's, with the attribute forms the node tests do not
// use — activations (a STRINGS attribute) with activation_alpha/beta,
// clip, sequence_lens, every optional input — against onnxruntime-node on
// every backend, sync and async. (onnxruntime refuses layout 1: ONNX's
// *_batchwise node tests and test/kernels/recurrent.test.ts cover it.)
import * as nn from '../../lib';
import { onnx } from '../../lib/onnx/proto';
import { availableBackends, expectClose, randomData, reportUnavailable } from '../helpers';
import { hasOrt, ortRun } from './ort-run';

const AT = onnx.AttributeProto.AttributeType;
type Attr = onnx.IAttributeProto;
const int = (name: string, i: number): Attr => ({ name, type: AT.INT, i });
const flt = (name: string, f: number): Attr => ({ name, type: AT.FLOAT, f });
const str = (name: string, s: string): Attr => ({ name, type: AT.STRING, s: Buffer.from(s) });
const strs = (name: string, v: string[]): Attr => ({ name, type: AT.STRINGS, strings: v.map((s) => Buffer.from(s)) });
const flts = (name: string, v: number[]): Attr => ({ name, type: AT.FLOATS, floats: v });

interface Case {
  name: string;
  op: 'LSTM' | 'GRU' | 'RNN';
  gates: number;
  seq: number;
  batch: number;
  input: number;
  hidden: number;
  dirs: number;
  layout: 0;
  /** per batch row, or none */
  lens?: number[];
  /** initial_h (and initial_c, P for LSTM) given */
  states: boolean;
  attrs: Attr[];
  outputs: string[];
}

const CASES: Case[] = [
  {
    name: 'LSTM bidirectional, every input, activations with alpha/beta',
    op: 'LSTM', gates: 4, seq: 26, batch: 2, input: 48, hidden: 32, dirs: 2, layout: 0, lens: [26, 17], states: true,
    attrs: [
      str('direction', 'bidirectional'),
      strs('activations', ['HardSigmoid', 'Tanh', 'Tanh', 'Sigmoid', 'LeakyRelu', 'Softsign']),
      flts('activation_alpha', [0.25, 0.1]), flts('activation_beta', [0.45]),
    ],
    outputs: ['Y', 'Y_h', 'Y_c'],
  },
  {
    name: 'LSTM batch 1 (a text line), clip, no optional inputs',
    op: 'LSTM', gates: 4, seq: 40, batch: 1, input: 64, hidden: 48, dirs: 2, layout: 0, states: false,
    attrs: [str('direction', 'bidirectional'), flt('clip', 3)],
    outputs: ['Y', 'Y_h'],
  },
  {
    name: 'GRU reverse, linear_before_reset 1, sequence_lens, Elu for g',
    op: 'GRU', gates: 3, seq: 20, batch: 3, input: 24, hidden: 16, dirs: 1, layout: 0, lens: [20, 9, 14], states: true,
    attrs: [str('direction', 'reverse'), int('linear_before_reset', 1), strs('activations', ['Sigmoid', 'Elu']), flts('activation_alpha', [0.7])],
    outputs: ['Y', 'Y_h'],
  },
  {
    name: 'GRU bidirectional, linear_before_reset 0, batch 1',
    op: 'GRU', gates: 3, seq: 30, batch: 1, input: 32, hidden: 24, dirs: 2, layout: 0, states: true,
    attrs: [str('direction', 'bidirectional')],
    outputs: ['Y', 'Y_h'],
  },
  {
    name: 'RNN bidirectional, Relu forward and ScaledTanh backward, sequence_lens',
    op: 'RNN', gates: 1, seq: 12, batch: 2, input: 10, hidden: 20, dirs: 2, layout: 0, lens: [5, 12], states: true,
    attrs: [str('direction', 'bidirectional'), strs('activations', ['Relu', 'ScaledTanh']), flts('activation_alpha', [0.9]), flts('activation_beta', [1.3])],
    outputs: ['Y', 'Y_h'],
  },
];

function model(k: Case, seed: number): { bytes: Uint8Array; xShape: number[] } {
  const gh = k.gates * k.hidden;
  const state = k.layout === 0 ? [k.dirs, k.batch, k.hidden] : [k.batch, k.dirs, k.hidden];
  const f = (name: string, dims: number[], scale: number): onnx.ITensorProto => {
    const d = randomData(dims.reduce((a, b) => a * b, 1), seed++);
    for (let i = 0; i < d.length; i++) d[i] *= scale;
    return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(d.buffer) };
  };
  const w = 1 / Math.sqrt(k.hidden);
  const inits = [f('W', [k.dirs, gh, k.input], w), f('R', [k.dirs, gh, k.hidden], w), f('B', [k.dirs, 2 * gh], 0.2)];
  const inputs = ['X', 'W', 'R', 'B', '', ''];
  if (k.lens) {
    inits.push({ name: 'L', dims: [k.batch], dataType: onnx.TensorProto.DataType.INT32, int32Data: k.lens });
    inputs[4] = 'L';
  }
  if (k.states) {
    inits.push(f('H0', state, 0.5));
    inputs[5] = 'H0';
    if (k.op === 'LSTM') {
      inits.push(f('C0', state, 0.5), f('P', [k.dirs, 3 * k.hidden], 0.3));
      inputs.push('C0', 'P');
    }
  }
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const xShape = k.layout === 0 ? [k.seq, k.batch, k.input] : [k.batch, k.seq, k.input];
  const yShape = k.layout === 0 ? [k.seq, k.dirs, k.batch, k.hidden] : [k.batch, k.seq, k.dirs, k.hidden];
  const vi = (name: string, dims: number[]): onnx.IValueInfoProto => ({
    name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const g: onnx.IGraphProto = {
    name: k.op,
    // onnxruntime requires hidden_size (ONNX does not).
    node: [{ opType: k.op, name: 'rec', input: inputs, output: k.outputs, attribute: [int('hidden_size', k.hidden), ...k.attrs] }],
    initializer: inits,
    input: [vi('X', xShape)],
    output: k.outputs.map((o) => vi(o, o === 'Y' ? yShape : state)),
  };
  const m = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 14 }], graph: g });
  return { bytes: onnx.ModelProto.encode(m).finish(), xShape };
}

const backends = availableBackends();
reportUnavailable('recurrent ops vs onnxruntime-node');

if (!hasOrt) {
  // eslint-disable-next-line no-console
  console.warn('SKIPPED recurrent ops vs onnxruntime-node: onnxruntime-node is not installed');
  test.skip('recurrent ops vs onnxruntime-node: onnxruntime-node is not installed', () => undefined);
} else {
  describe.each(CASES.map((k, i) => [k.name, k, i] as const))('%s', (_name, k, i) => {
    const { bytes, xShape } = model(k, 100 * (i + 1));
    const x = nn.tensor(randomData(xShape.reduce((a, b) => a * b, 1), 7 + i), xShape);
    const want = ortRun(bytes, { X: x });

    test.each(backends)('%s: runSync and run match onnxruntime-node', async (backend) => {
      nn.setBackend(backend);
      const m = await nn.loadOnnx(bytes);
      try {
        for (const outs of [m.runSync({ X: x }), await m.run({ X: x })]) {
          for (const o of k.outputs) {
            expect([...outs[o].shape]).toEqual(want[o].dims);
            expectClose(outs[o].data, want[o].data, 1e-4, 1e-5);
          }
        }
      } finally {
        m.dispose();
        nn.setBackend(backends[0]);
      }
    });
  });
}
