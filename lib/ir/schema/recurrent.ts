/**
 * ONNX's recurrent ops LSTM, GRU and RNN (float32): one declaration
 * written once for the three — the inputs, attributes, shape checks and
 * output shapes they share — with each op's gate count, activations and
 * extra inputs. Kernel: src/kernels/recurrent.cc (one recurrent driver, three
 * cells).
 * @internal
 */
import { FLOAT, INTS } from '../../dtype';
import type { AttrSpec, InferCtx, InputSpec, OpSchema, OutputSpec } from './types';

/** The activations a recurrent op may name (case-insensitive, as onnxruntime reads them); the kernel has the same list. */
export const RECURRENT_ACTIVATIONS: readonly string[] = [
  'Sigmoid', 'Tanh', 'Relu', 'HardSigmoid', 'LeakyRelu', 'ThresholdedRelu', 'ScaledTanh', 'Affine', 'Elu', 'Softsign', 'Softplus',
];

interface RecurrentKind {
  name: 'LSTM' | 'GRU' | 'RNN';
  doc: string;
  /** Gates stacked in W and R (LSTM i,o,f,c: 4; GRU z,r,h: 3; RNN: 1). */
  gates: number;
  /** The activations of one direction, by default. */
  activations: readonly string[];
  /** Inputs after X, W, R, B, sequence_lens, initial_h. */
  extraInputs: readonly InputSpec[];
  extraOutputs: readonly OutputSpec[];
  extraAttrs: Record<string, AttrSpec>;
}

function dims(s: readonly number[]): string {
  return `[${s.join(',')}]`;
}

function expectShape(c: InferCtx, i: number, want: readonly number[], what: string): void {
  if (!c.has(i)) return;
  const got = c.input(i).shape;
  if (got.length !== want.length || got.some((d, k) => d !== want[k])) c.fail(`${what} must have shape ${dims(want)}, got ${dims(got)}`);
}

function recurrent(k: RecurrentKind): OpSchema {
  return {
    name: k.name,
    doc: k.doc,
    inputs: [
      { name: 'X', dtypes: FLOAT },
      { name: 'W', dtypes: FLOAT },
      { name: 'R', dtypes: FLOAT },
      { name: 'B', dtypes: FLOAT, optional: true },
      // int32 in ONNX; ONNX's own test_lstm_with_peepholes feeds int64.
      { name: 'sequence_lens', dtypes: INTS, optional: true },
      { name: 'initial_h', dtypes: FLOAT, optional: true },
      ...k.extraInputs,
    ],
    // Y is optional in ONNX too; it is always computed (the driver writes it as it goes).
    outputs: [{ name: 'Y' }, { name: 'Y_h', optional: true }, ...k.extraOutputs],
    attrs: {
      direction: { type: 'string', default: 'forward', values: ['forward', 'reverse', 'bidirectional'] },
      hidden_size: { type: 'int' },
      activations: { type: 'strings' },
      activation_alpha: { type: 'floats' },
      activation_beta: { type: 'floats' },
      clip: { type: 'float' },
      layout: { type: 'int', default: 0 },
      ...k.extraAttrs,
    },
    layout: 'any',
    infer(c) {
      const x = c.input(0).shape;
      const r = c.input(2).shape;
      const layout = c.int('layout');
      if (layout !== 0 && layout !== 1) c.fail(`layout must be 0 or 1, got ${layout}`);
      const dirs = c.str('direction') === 'bidirectional' ? 2 : 1;
      if (x.length !== 3) c.fail(`X must have 3 dims (${layout === 0 ? 'seq_length, batch_size' : 'batch_size, seq_length'}, input_size), got ${dims(x)}`);
      const [seq, batch] = layout === 0 ? [x[0], x[1]] : [x[1], x[0]];
      if (r.length !== 3) c.fail(`R must have 3 dims (num_directions, ${k.gates}·hidden_size, hidden_size), got ${dims(r)}`);
      const hidden = c.hasAttr('hidden_size') ? c.int('hidden_size') : r[2];
      if (hidden < 1) c.fail(`hidden_size must be positive, got ${hidden}`);
      if (r[2] !== hidden) c.fail(`hidden_size is ${hidden} but R's last dim is ${r[2]}`);
      const gh = k.gates * hidden;
      expectShape(c, 1, [dirs, gh, x[2]], `W (num_directions ${dirs}, ${k.gates}·hidden_size, input_size)`);
      expectShape(c, 2, [dirs, gh, hidden], `R (num_directions ${dirs}, ${k.gates}·hidden_size, hidden_size)`);
      expectShape(c, 3, [dirs, 2 * gh], 'B');
      expectShape(c, 4, [batch], 'sequence_lens');
      const state = layout === 0 ? [dirs, batch, hidden] : [batch, dirs, hidden];
      expectShape(c, 5, state, 'initial_h');
      if (k.name === 'LSTM') {
        expectShape(c, 6, state, 'initial_c');
        expectShape(c, 7, [dirs, 3 * hidden], 'P');
      }
      const acts = c.strs('activations');
      const per = k.activations.length;
      if (acts !== undefined && acts.length > 0) {
        if (acts.length !== per * dirs && acts.length !== per) c.fail(`activations must name ${per * dirs} functions (${per} per direction), got ${acts.length}`);
        for (const a of acts) {
          if (!RECURRENT_ACTIVATIONS.some((n) => n.toLowerCase() === a.toLowerCase())) c.unsupported(`activation "${a}" is not supported (${RECURRENT_ACTIVATIONS.join(', ')})`);
        }
      }
      if (c.hasAttr('clip') && !(c.float('clip') > 0)) c.fail(`clip must be positive, got ${c.float('clip')}`);
      if (c.numOutputs > 2 + k.extraOutputs.length) c.fail(`has at most ${2 + k.extraOutputs.length} outputs, got ${c.numOutputs}`);
      const y = layout === 0 ? [seq, dirs, batch, hidden] : [batch, seq, dirs, hidden];
      const outs = [{ dtype: 'float32' as const, shape: y }];
      for (let i = 1; i < c.numOutputs; i++) outs.push({ dtype: 'float32', shape: [...state] });
      return outs;
    },
    upgrade(node) {
      // LSTM/GRU/RNN-1's output_sequence only said whether Y is wanted; Y is always computed.
      delete node.attrs.output_sequence;
    },
  };
}

export const RECURRENT: readonly OpSchema[] = [
  recurrent({
    name: 'LSTM',
    doc: 'Long short-term memory over a sequence (gates i,o,f,c; peepholes; forward, reverse or bidirectional; sequence_lens)',
    gates: 4,
    activations: ['Sigmoid', 'Tanh', 'Tanh'],
    extraInputs: [
      { name: 'initial_c', dtypes: FLOAT, optional: true },
      { name: 'P', dtypes: FLOAT, optional: true },
    ],
    extraOutputs: [{ name: 'Y_c', optional: true }],
    extraAttrs: { input_forget: { type: 'int', default: 0 } },
  }),
  recurrent({
    name: 'GRU',
    doc: 'Gated recurrent unit over a sequence (gates z,r,h; linear_before_reset; forward, reverse or bidirectional)',
    gates: 3,
    activations: ['Sigmoid', 'Tanh'],
    extraInputs: [],
    extraOutputs: [],
    extraAttrs: { linear_before_reset: { type: 'int', default: 0 } },
  }),
  recurrent({
    name: 'RNN',
    doc: 'Simple recurrent layer Hₜ = f(Xₜ·Wᵀ + Hₜ₋₁·Rᵀ + Wb + Rb) (forward, reverse or bidirectional)',
    gates: 1,
    activations: ['Tanh'],
    extraInputs: [],
    extraOutputs: [],
    extraAttrs: {},
  }),
];
