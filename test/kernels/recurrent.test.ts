// LSTM, GRU and RNN (one recurrent driver, three cells) through nn.runOp /
// nn.async.runOp against a plain-JS recurrence written from ONNX's
// equations: directions, sequence_lens, initial states, peepholes, layout 1,
// clip, input_forget, linear_before_reset, other activations; the argument
// errors, and the kernel's own re-checks when the schema is bypassed.
import * as nn from '../../lib';

function rand(shape: number[], seed: number, scale = 1): nn.Tensor {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    d[i] = ((s / 2147483648) * 2 - 1) * scale;
  }
  return nn.tensor(d, shape);
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])))) throw new Error(`[${i}] = ${got[i]}, expected ${want[i]}`);
  }
}

type Fn = (x: number) => number;
const ACT: Record<string, (alpha: number, beta: number) => Fn> = {
  Sigmoid: () => (x) => 1 / (1 + Math.exp(-x)),
  Tanh: () => Math.tanh,
  Relu: () => (x) => Math.max(0, x),
  HardSigmoid: (a, b) => (x) => Math.max(0, Math.min(1, a * x + b)),
};

interface RefOpts {
  direction: 'forward' | 'reverse' | 'bidirectional';
  lens?: number[];
  clip?: number;
  /** Per direction, the cell's count each; [name, alpha, beta]. */
  acts: [string, number, number][];
}

/**
 * Steps every (direction, row) on its own; `cell(d, pre, state)` gets the
 * gate pre-activations and returns the new state. Layout 0 shapes.
 * x [seq, batch, in], w [dirs, G·H, in], r [dirs, G·H, H], b [dirs, 2·G·H].
 */
function refRecurrent(
  x: nn.Tensor, w: nn.Tensor, r: nn.Tensor, b: nn.Tensor | null, states: (nn.Tensor | null)[], o: RefOpts,
  cell: (d: number, xw: (k: number) => number, hr: (k: number) => number, st: number[][], fs: Fn[]) => number[][],
): { y: Float32Array; finals: Float32Array[] } {
  const [seq, batch, inp] = x.shape;
  const dirs = w.shape[0], gh = w.shape[1], hid = r.shape[2];
  const y = new Float32Array(seq * dirs * batch * hid);
  const finals = states.map(() => new Float32Array(dirs * batch * hid));
  const per = o.acts.length / dirs;
  for (let d = 0; d < dirs; d++) {
    const fs = o.acts.slice(d * per, (d + 1) * per).map(([n, a, be]) => ACT[n](a, be));
    const reverse = o.direction === 'reverse' || d === 1;
    for (let bi = 0; bi < batch; bi++) {
      const len = o.lens ? o.lens[bi] : seq;
      let st = states.map((s) => Array.from({ length: hid }, (_, j) => (s ? s.data[(d * batch + bi) * hid + j] : 0)));
      for (let s = 0; s < len; s++) {
        const t = reverse ? len - 1 - s : s;
        const h = st[0];
        const xw = (k: number): number => {
          let v = b ? b.data[d * 2 * gh + k] : 0;
          for (let i = 0; i < inp; i++) v += x.data[(t * batch + bi) * inp + i] * w.data[(d * gh + k) * inp + i];
          return v;
        };
        const hr = (k: number): number => {
          let v = b ? b.data[d * 2 * gh + gh + k] : 0;
          for (let j = 0; j < hid; j++) v += h[j] * r.data[(d * gh + k) * hid + j];
          return v;
        };
        st = cell(d, xw, hr, st, fs);
        for (let j = 0; j < hid; j++) y[((t * dirs + d) * batch + bi) * hid + j] = st[0][j];
      }
      st.forEach((v, k) => v.forEach((e, j) => (finals[k][(d * batch + bi) * hid + j] = e)));
    }
  }
  return { y, finals };
}

function refLstm(x: nn.Tensor, w: nn.Tensor, r: nn.Tensor, b: nn.Tensor | null, h0: nn.Tensor | null, c0: nn.Tensor | null, p: nn.Tensor | null, o: RefOpts & { inputForget?: boolean }) {
  const hid = r.shape[2];
  const clip = (v: number): number => (o.clip === undefined ? v : Math.max(-o.clip, Math.min(o.clip, v)));
  return refRecurrent(x, w, r, b, [h0, c0], o, (d, xw, hr, [, c], [f, g, hh]) => {
    const P = (k: number, j: number): number => (p ? p.data[d * 3 * hid + k * hid + j] : 0);
    const pre = (gate: number, j: number): number => xw(gate * hid + j) + hr(gate * hid + j);
    const hn: number[] = [], cn: number[] = [];
    for (let j = 0; j < hid; j++) {
      const i = f(clip(pre(0, j) + P(0, j) * c[j]));
      const fg = o.inputForget ? 1 - i : f(clip(pre(2, j) + P(2, j) * c[j]));
      const cc = g(clip(pre(3, j)));
      cn.push(fg * c[j] + i * cc);
      const og = f(clip(pre(1, j) + P(1, j) * cn[j]));
      hn.push(og * hh(cn[j]));
    }
    return [hn, cn];
  });
}

function refGru(x: nn.Tensor, w: nn.Tensor, r: nn.Tensor, b: nn.Tensor | null, h0: nn.Tensor | null, o: RefOpts & { lbr: boolean }) {
  const hid = r.shape[2];
  const clip = (v: number): number => (o.clip === undefined ? v : Math.max(-o.clip, Math.min(o.clip, v)));
  return refRecurrent(x, w, r, b, [h0], o, (d, xw, hr, [h], [f, g]) => {
    const z = h.map((_, j) => f(clip(xw(j) + hr(j))));
    const rg = h.map((_, j) => f(clip(xw(hid + j) + hr(hid + j))));
    const hn: number[] = [];
    for (let j = 0; j < hid; j++) {
      let lin: number;
      if (o.lbr) lin = rg[j] * hr(2 * hid + j);
      else {
        // (r⊙Hₜ₋₁)·Rhᵀ + Rbh
        lin = b ? b.data[d * 6 * hid + 3 * hid + 2 * hid + j] : 0;
        for (let k = 0; k < hid; k++) lin += rg[k] * h[k] * r.data[(d * 3 * hid + 2 * hid + j) * hid + k];
      }
      const hh = g(clip(xw(2 * hid + j) + lin));
      hn.push((1 - z[j]) * hh + z[j] * h[j]);
    }
    return [hn];
  });
}

function refRnn(x: nn.Tensor, w: nn.Tensor, r: nn.Tensor, b: nn.Tensor | null, h0: nn.Tensor | null, o: RefOpts) {
  const clip = (v: number): number => (o.clip === undefined ? v : Math.max(-o.clip, Math.min(o.clip, v)));
  return refRecurrent(x, w, r, b, [h0], o, (_d, xw, hr, [h], [f]) => [h.map((_, j) => f(clip(xw(j) + hr(j))))]);
}

/** Swaps the first two dims of a tensor (layout 0 <-> 1 for X and the states; Y needs [1,2,0,3]). */
function transpose(t: { data: Float32Array; shape: readonly number[] }, perm: number[]): nn.Tensor {
  const shape = perm.map((p) => t.shape[p]);
  const src = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(t.data.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let off = 0;
    for (let k = 0; k < shape.length; k++) off += idx[k] * src[perm[k]];
    out[o] = t.data[off];
    for (let k = shape.length - 1; k >= 0 && ++idx[k] === shape[k]; k--) idx[k] = 0;
  }
  return nn.tensor(out, shape);
}

const DEFAULT_LSTM: [string, number, number][] = [['Sigmoid', 0, 0], ['Tanh', 0, 0], ['Tanh', 0, 0]];

function cellCase(gates: number, seq: number, batch: number, inp: number, hid: number, dirs: number, seed: number) {
  return {
    x: rand([seq, batch, inp], seed),
    w: rand([dirs, gates * hid, inp], seed + 1, 0.5),
    r: rand([dirs, gates * hid, hid], seed + 2, 0.5),
    b: rand([dirs, 2 * gates * hid], seed + 3, 0.5),
    h0: rand([dirs, batch, hid], seed + 4),
  };
}

function lstmCase(seq: number, batch: number, inp: number, hid: number, dirs: number, seed: number) {
  return { ...cellCase(4, seq, batch, inp, hid, dirs, seed), c0: rand([dirs, batch, hid], seed + 5), p: rand([dirs, 3 * hid], seed + 6, 0.5) };
}

const lens = (v: number[]): nn.TypedTensor => new nn.TypedTensor('int32', Int32Array.from(v), [v.length]);
const data = (o: nn.OpOutput): Float32Array => (o as nn.Tensor).data;

describe('LSTM against a JS recurrence', () => {
  test.each([
    ['forward', [5, 5, 5]],
    ['reverse', [5, 3, 1]],
    ['bidirectional', [4, 5, 2]],
  ] as const)('direction %s, sequence_lens %j, initial states, peepholes, bias: Y, Y_h, Y_c', (direction, ls) => {
    const dirs = direction === 'bidirectional' ? 2 : 1;
    const k = lstmCase(5, 3, 4, 6, dirs, 11);
    const want = refLstm(k.x, k.w, k.r, k.b, k.h0, k.c0, k.p, { direction, lens: [...ls], acts: [...DEFAULT_LSTM, ...(dirs === 2 ? DEFAULT_LSTM : [])] });
    const outs = nn.runOp('LSTM', [k.x, k.w, k.r, k.b, lens([...ls]), k.h0, k.c0, k.p], { direction, hidden_size: 6 }, { numOutputs: 3 });
    expect(outs.map((t) => t.shape)).toEqual([[5, dirs, 3, 6], [dirs, 3, 6], [dirs, 3, 6]]);
    expectClose(data(outs[0]), want.y);
    expectClose(data(outs[1]), want.finals[0]);
    expectClose(data(outs[2]), want.finals[1]);
    // Rows past their length are zeros in Y; Y_h is the state at the last valid step.
    const y = data(outs[0]);
    expect(ls.some((l) => l < 5)).toBe(direction !== 'forward');
    for (let t = 0; t < 5; t++) {
      for (let b = 0; b < 3; b++) {
        const row = y.subarray(((t * dirs + 0) * 3 + b) * 6, ((t * dirs + 0) * 3 + b + 1) * 6);
        if (t >= ls[b]) expect(Array.from(row)).toEqual([0, 0, 0, 0, 0, 0]);
        else expect(row.some((v) => v !== 0)).toBe(true);
      }
    }
  });

  test('no optional inputs: defaults (zero states, no bias), only Y by default', () => {
    const k = lstmCase(3, 2, 3, 4, 1, 21);
    const want = refLstm(k.x, k.w, k.r, null, null, null, null, { direction: 'forward', acts: DEFAULT_LSTM });
    const outs = nn.runOp('LSTM', [k.x, k.w, k.r]);
    expect(outs.length).toBe(1);
    expectClose(data(outs[0]), want.y);
  });

  test('layout 1 (batch first) is layout 0 transposed, bidirectional with sequence_lens and states', () => {
    const k = lstmCase(4, 3, 2, 5, 2, 31);
    const ls = [2, 4, 3];
    const want = refLstm(k.x, k.w, k.r, k.b, k.h0, k.c0, k.p, { direction: 'bidirectional', lens: ls, acts: [...DEFAULT_LSTM, ...DEFAULT_LSTM] });
    const swap = [1, 0, 2];
    const outs = nn.runOp('LSTM', [transpose(k.x, swap), k.w, k.r, k.b, lens(ls), transpose(k.h0, swap), transpose(k.c0, swap), k.p], { direction: 'bidirectional', layout: 1 }, { numOutputs: 3 });
    expect(outs.map((t) => t.shape)).toEqual([[3, 4, 2, 5], [3, 2, 5], [3, 2, 5]]);
    expectClose(data(outs[0]), transpose({ data: want.y, shape: [4, 2, 3, 5] }, [2, 0, 1, 3]).data);
    expectClose(data(outs[1]), transpose({ data: want.finals[0], shape: [2, 3, 5] }, swap).data);
    expectClose(data(outs[2]), transpose({ data: want.finals[1], shape: [2, 3, 5] }, swap).data);
  });

  test('clip, input_forget and other activations (HardSigmoid with alpha/beta, Relu)', () => {
    const k = lstmCase(4, 2, 3, 4, 1, 41);
    const acts: [string, number, number][] = [['HardSigmoid', 0.3, 0.4], ['Relu', 0, 0], ['Tanh', 0, 0]];
    const want = refLstm(k.x, k.w, k.r, k.b, k.h0, k.c0, k.p, { direction: 'forward', clip: 0.7, inputForget: true, acts });
    const outs = nn.runOp('LSTM', [k.x, k.w, k.r, k.b, null, k.h0, k.c0, k.p], {
      clip: 0.7, input_forget: 1, activations: ['HardSigmoid', 'Relu', 'Tanh'], activation_alpha: [0.3], activation_beta: [0.4],
    }, { numOutputs: 2 });
    expectClose(data(outs[0]), want.y);
    expectClose(data(outs[1]), want.finals[0]);
    // Not the default activations' result: the attributes were used.
    const dflt = refLstm(k.x, k.w, k.r, k.b, k.h0, k.c0, k.p, { direction: 'forward', acts: DEFAULT_LSTM });
    expect(Math.max(...data(outs[0]).map((v, i) => Math.abs(v - dflt.y[i])))).toBeGreaterThan(1e-3);
  });

  test('batch 1 (the matrix-vector path), bidirectional', () => {
    const k = lstmCase(6, 1, 5, 7, 2, 57);
    const want = refLstm(k.x, k.w, k.r, k.b, k.h0, k.c0, k.p, { direction: 'bidirectional', acts: [...DEFAULT_LSTM, ...DEFAULT_LSTM] });
    const outs = nn.runOp('LSTM', [k.x, k.w, k.r, k.b, null, k.h0, k.c0, k.p], { direction: 'bidirectional' }, { numOutputs: 3 });
    expectClose(data(outs[0]), want.y);
    expectClose(data(outs[2]), want.finals[1]);
  });

  test('async gives the sync results', async () => {
    const k = lstmCase(5, 2, 3, 4, 2, 51);
    const ins = [k.x, k.w, k.r, k.b, lens([5, 2]), k.h0, k.c0, k.p];
    const sync = nn.runOp('LSTM', ins, { direction: 'bidirectional' }, { numOutputs: 3 });
    const async = await nn.async.runOp('LSTM', ins, { direction: 'bidirectional' }, { numOutputs: 3 });
    expect(async.map((t) => t.shape)).toEqual(sync.map((t) => t.shape));
    async.forEach((t, i) => expect(Array.from(data(t))).toEqual(Array.from(data(sync[i]))));
  });
});

describe('LSTM argument errors (before native work)', () => {
  const k = lstmCase(3, 2, 3, 4, 1, 61);
  test('W of the wrong shape', () => {
    expect(() => nn.runOp('LSTM', [k.x, rand([1, 12, 3], 1), k.r])).toThrow(RangeError);
    expect(() => nn.runOp('LSTM', [k.x, rand([1, 16, 2], 1), k.r])).toThrow(/LSTM: W .* must have shape \[1,16,3\], got \[1,16,2\]/);
  });
  test('bad direction', () => {
    expect(() => nn.runOp('LSTM', [k.x, k.w, k.r], { direction: 'sideways' })).toThrow(/direction.*"sideways" is not supported/);
  });
  test('hidden_size mismatch', () => {
    expect(() => nn.runOp('LSTM', [k.x, k.w, k.r], { hidden_size: 5 })).toThrow(RangeError);
    expect(() => nn.runOp('LSTM', [k.x, k.w, k.r], { hidden_size: 5 })).toThrow(/hidden_size is 5 but R's last dim is 4/);
  });
  test('bidirectional with one direction of weights', () => {
    expect(() => nn.runOp('LSTM', [k.x, k.w, k.r], { direction: 'bidirectional' })).toThrow(/W .*must have shape \[2,16,3\]/);
  });
  test('states, B, P and sequence_lens of the wrong shape or type', () => {
    expect(() => nn.runOp('LSTM', [k.x, k.w, k.r, rand([1, 16], 1)])).toThrow(/B must have shape \[1,32\]/);
    expect(() => nn.runOp('LSTM', [k.x, k.w, k.r, null, lens([3])])).toThrow(/sequence_lens must have shape \[2\]/);
    expect(() => nn.runOp('LSTM', [k.x, k.w, k.r, null, null, rand([1, 3, 4], 1)])).toThrow(/initial_h must have shape \[1,2,4\]/);
    expect(() => nn.runOp('LSTM', [k.x, k.w, k.r, null, null, null, null, rand([1, 8], 1)])).toThrow(/P must have shape \[1,12\]/);
    expect(() => nn.runOp('LSTM', [k.x, k.w, k.r, null, new nn.TypedTensor('uint8', Uint8Array.from([1, 2]), [2])])).toThrow(/sequence_lens.*uint8 is not supported/);
  });
  test('layout, clip, activations', () => {
    expect(() => nn.runOp('LSTM', [k.x, k.w, k.r], { layout: 2 })).toThrow(/layout must be 0 or 1/);
    expect(() => nn.runOp('LSTM', [k.x, k.w, k.r], { clip: 0 })).toThrow(/clip must be positive/);
    expect(() => nn.runOp('LSTM', [k.x, k.w, k.r], { activations: ['Sigmoid', 'Tanh'] })).toThrow(/activations must name 3 functions/);
    expect(() => nn.runOp('LSTM', [k.x, k.w, k.r], { activations: ['Sigmoid', 'Gelu', 'Tanh'] })).toThrow(/activation "Gelu" is not supported/);
    expect(() => nn.runOp('LSTM', [k.x, k.w, k.r], { activations: 'Tanh' })).toThrow(/attribute "activations" must be a list of strings/);
  });
  test('sequence_lens values past seq_length: a RangeError from the kernel', () => {
    expect(() => nn.runOp('LSTM', [k.x, k.w, k.r, null, lens([3, 4])])).toThrow(/sequence_lens values must be in \[0, seq_length\]/);
  });
});

describe('GRU against a JS recurrence', () => {
  const acts = (dirs: number): [string, number, number][] => Array.from({ length: dirs }, () => [['Sigmoid', 0, 0], ['Tanh', 0, 0]] as [string, number, number][]).flat();
  test.each([
    ['forward', 0, [4, 4]],
    ['forward', 1, [4, 2]],
    ['reverse', 0, [3, 4]],
    ['bidirectional', 1, [2, 4]],
    ['bidirectional', 0, [4, 1]],
    ['bidirectional', 0, [3]],
  ] as const)('direction %s, linear_before_reset %d, sequence_lens %j: Y and Y_h', (direction, lbr, ls) => {
    const dirs = direction === 'bidirectional' ? 2 : 1;
    const batch = ls.length;
    const k = cellCase(3, 4, batch, 3, 5, dirs, 71 + lbr);
    const want = refGru(k.x, k.w, k.r, k.b, k.h0, { direction, lens: [...ls], lbr: lbr === 1, acts: acts(dirs) });
    const outs = nn.runOp('GRU', [k.x, k.w, k.r, k.b, lens([...ls]), k.h0], { direction, linear_before_reset: lbr }, { numOutputs: 2 });
    expect(outs.map((t) => t.shape)).toEqual([[4, dirs, batch, 5], [dirs, batch, 5]]);
    expectClose(data(outs[0]), want.y);
    expectClose(data(outs[1]), want.finals[0]);
  });

  test('layout 1, clip, Relu for g; async gives the sync results', async () => {
    const k = cellCase(3, 3, 2, 4, 3, 1, 81);
    const a: [string, number, number][] = [['Sigmoid', 0, 0], ['Relu', 0, 0]];
    const want = refGru(k.x, k.w, k.r, k.b, k.h0, { direction: 'forward', lbr: false, clip: 0.5, acts: a });
    const swap = [1, 0, 2];
    const ins = [transpose(k.x, swap), k.w, k.r, k.b, null, transpose(k.h0, swap)];
    const attrs = { layout: 1, clip: 0.5, activations: ['Sigmoid', 'Relu'] };
    const outs = nn.runOp('GRU', ins, attrs, { numOutputs: 2 });
    expectClose(data(outs[0]), transpose({ data: want.y, shape: [3, 1, 2, 3] }, [2, 0, 1, 3]).data);
    expectClose(data(outs[1]), transpose({ data: want.finals[0], shape: [1, 2, 3] }, swap).data);
    const async = await nn.async.runOp('GRU', ins, attrs, { numOutputs: 2 });
    async.forEach((t, i) => expect(Array.from(data(t))).toEqual(Array.from(data(outs[i]))));
  });

  test('errors: W with LSTM\'s gate count, a third output', () => {
    const k = cellCase(3, 2, 1, 2, 3, 1, 91);
    expect(() => nn.runOp('GRU', [k.x, rand([1, 12, 2], 1), k.r])).toThrow(/GRU: W .*must have shape \[1,9,2\], got \[1,12,2\]/);
    expect(() => nn.runOp('GRU', [k.x, k.w, k.r], {}, { numOutputs: 3 })).toThrow(/has at most 2 outputs/);
    expect(() => nn.runOp('GRU', [k.x, k.w, k.r], { input_forget: 1 })).toThrow(/attribute "input_forget" is not supported/);
  });
});

describe('RNN against a JS recurrence', () => {
  test.each([
    ['forward', [3, 3, 3]],
    ['reverse', [1, 3, 2]],
    ['bidirectional', [3, 0, 2]],
  ] as const)('direction %s, sequence_lens %j: Y and Y_h', (direction, ls) => {
    const dirs = direction === 'bidirectional' ? 2 : 1;
    const k = cellCase(1, 3, 3, 4, 5, dirs, 101);
    const want = refRnn(k.x, k.w, k.r, k.b, k.h0, { direction, lens: [...ls], acts: Array.from({ length: dirs }, (): [string, number, number] => ['Tanh', 0, 0]) });
    const outs = nn.runOp('RNN', [k.x, k.w, k.r, k.b, lens([...ls]), k.h0], { direction }, { numOutputs: 2 });
    expectClose(data(outs[0]), want.y);
    expectClose(data(outs[1]), want.finals[0]);
  });

  test('layout 1 with Relu and no bias or initial state', () => {
    const k = cellCase(1, 4, 2, 3, 3, 1, 111);
    const want = refRnn(k.x, k.w, k.r, null, null, { direction: 'forward', acts: [['Relu', 0, 0]] });
    const outs = nn.runOp('RNN', [transpose(k.x, [1, 0, 2]), k.w, k.r], { layout: 1, activations: ['Relu'] }, { numOutputs: 2 });
    expectClose(data(outs[0]), transpose({ data: want.y, shape: [4, 1, 2, 3] }, [2, 0, 1, 3]).data);
    expectClose(data(outs[1]), transpose({ data: want.finals[0], shape: [1, 2, 3] }, [1, 0, 2]).data);
  });
});

describe('native re-checks (the schema checks bypassed)', () => {
  const binding = require('../../lib/native').binding;
  const t = (shape: number[], dtype = 1) => ({ data: new Float32Array(Math.max(1, shape.reduce((a, b) => a * b, 1))), shape, dtype });
  const ins = () => [t([3, 2, 4]), t([1, 20, 4]), t([1, 20, 5])];
  test('W of the wrong shape, a missing hidden dim match, a wrong output shape', () => {
    expect(() => binding.kernelSync('LSTM', [t([3, 2, 4]), t([1, 20, 3]), t([1, 20, 5])], [t([3, 1, 2, 5])], {})).toThrow(/LSTM: W has the wrong shape/);
    expect(() => binding.kernelSync('LSTM', ins(), [t([3, 1, 2, 5])], { hidden_size: 4 })).toThrow(/hidden_size does not match R/);
    expect(() => binding.kernelSync('LSTM', ins(), [t([3, 1, 2, 4])], {})).toThrow(/LSTM: output 0 must have shape \[3,1,2,5\]/);
    expect(() => binding.kernelSync('GRU', ins(), [t([3, 1, 2, 5])], {})).toThrow(/GRU: W has the wrong shape/);
  });
  test('activations: not a list of strings, an unknown name, a mixed list', () => {
    expect(() => binding.kernelSync('LSTM', ins(), [t([3, 1, 2, 5])], { activations: [1, 2, 3] })).toThrow(/attribute "activations" must be a list of strings/);
    expect(() => binding.kernelSync('LSTM', ins(), [t([3, 1, 2, 5])], { activations: ['Sigmoid', 'Gelu', 'Tanh'] })).toThrow(/activation "Gelu" is not supported/);
    expect(() => binding.kernelSync('LSTM', ins(), [t([3, 1, 2, 5])], { activations: ['Sigmoid', 2, 'Tanh'] })).toThrow(/attribute "activations" must hold strings only/);
  });
  test('direction and layout values, too many outputs', () => {
    expect(() => binding.kernelSync('RNN', [t([3, 2, 4]), t([1, 5, 4]), t([1, 5, 5])], [t([3, 1, 2, 5])], { direction: 'up' })).toThrow(/direction must be forward, reverse or bidirectional/);
    expect(() => binding.kernelSync('RNN', [t([3, 2, 4]), t([1, 5, 4]), t([1, 5, 5])], [t([3, 1, 2, 5])], { layout: 3 })).toThrow(/layout must be 0 or 1/);
    expect(() => binding.kernelSync('RNN', [t([3, 2, 4]), t([1, 5, 4]), t([1, 5, 5])], [t([3, 1, 2, 5]), t([1, 2, 5]), t([1, 2, 5])], {})).toThrow(/has 1 to 2 outputs/);
  });
});
