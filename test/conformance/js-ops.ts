// Plain-JS (float64) versions of the public ops, written from the ONNX
// operator definitions, with the signatures of NnOps. Two uses: the
// conformance suite runs the ONNX interpreter on them to prove that the
// harness itself (op mapping, opset adapters, data decoding) is right, and the
// property tests use them as an independent oracle. Slow and simple on purpose;
// no argument checking beyond what the arithmetic needs.
import * as nn from '../../lib';
import { gemmOracle } from '../helpers';
import { NnOps } from './nn-ops';

type T = nn.TensorLike;
type Quad = [number, number, number, number];

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const out = (data: ArrayLike<number>, shape: readonly number[]): nn.Tensor => nn.tensor(Float32Array.from(data), [...shape]);

/** A number or [h, w] as [h, w]. */
export function pair(v: number | [number, number] | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  return typeof v === 'number' ? [v, v] : v;
}

/** A number, [h, w] or [top, left, bottom, right] as [top, left, bottom, right]. */
export function quad(v: number | number[] | undefined): Quad {
  if (v === undefined) return [0, 0, 0, 0];
  if (typeof v === 'number') return [v, v, v, v];
  return v.length === 2 ? [v[0], v[1], v[0], v[1]] : [v[0], v[1], v[2], v[3]];
}

/** Row-major strides of a shape. */
function stridesOf(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i];
  }
  return st;
}

/** Numpy broadcasting of two tensors through `f`. */
function broadcast(a: T, b: T, f: (x: number, y: number) => number): nn.Tensor {
  const r = Math.max(a.shape.length, b.shape.length);
  const as = [...ones(r - a.shape.length), ...a.shape];
  const bs = [...ones(r - b.shape.length), ...b.shape];
  const shape = as.map((d, i) => {
    if (d !== bs[i] && d !== 1 && bs[i] !== 1) throw new RangeError(`shapes [${a.shape}] and [${b.shape}] do not broadcast`);
    return Math.max(d, bs[i]);
  });
  const ast = stridesOf(as).map((s, i) => (as[i] === 1 ? 0 : s));
  const bst = stridesOf(bs).map((s, i) => (bs[i] === 1 ? 0 : s));
  const n = size(shape);
  const y = new Float64Array(n);
  const idx = new Array<number>(r).fill(0);
  for (let k = 0; k < n; k++) {
    let ai = 0;
    let bi = 0;
    for (let d = 0; d < r; d++) {
      ai += idx[d] * ast[d];
      bi += idx[d] * bst[d];
    }
    y[k] = f(a.data[ai], b.data[bi]);
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out(y, shape);
}

function ones(n: number): number[] {
  return new Array<number>(Math.max(0, n)).fill(1);
}

function map(x: T, f: (v: number) => number): nn.Tensor {
  return out(Array.from(x.data, f), x.shape);
}

/** Output size of a window op along one axis (ONNX/PyTorch rule, ceil drops windows starting in the end padding). */
export function windowOut(input: number, k: number, s: number, d: number, p0: number, p1: number, ceil: boolean): number {
  const span = input + p0 + p1 - ((k - 1) * d + 1);
  if (span < 0) return 0;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= input + p0) o--;
  return o;
}

function softmaxRows(x: T, axis: number, log: boolean): nn.Tensor {
  const s = x.shape;
  const n = s[axis];
  const inner = size(s.slice(axis + 1));
  const outer = size(s.slice(0, axis));
  const y = new Float64Array(x.data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (j: number): number => (o * n + j) * inner + i;
      let m = -Infinity;
      for (let j = 0; j < n; j++) m = Math.max(m, x.data[at(j)]);
      let sum = 0;
      for (let j = 0; j < n; j++) sum += Math.exp(x.data[at(j)] - m);
      for (let j = 0; j < n; j++) y[at(j)] = log ? x.data[at(j)] - m - Math.log(sum) : Math.exp(x.data[at(j)] - m) / sum;
    }
  }
  return out(y, s);
}

function pool(x: T, o: { kernel: number | [number, number]; strides?: number | [number, number]; pads?: number | number[]; dilations?: number | [number, number]; ceil?: boolean }, kind: 'max' | 'avg', countIncludePad: boolean): nn.Tensor {
  const [N, C, H, W] = x.shape;
  const [kh, kw] = pair(o.kernel, 1);
  const [sh, sw] = pair(o.strides, 1);
  const [dh, dw] = pair(o.dilations, 1);
  const [pt, pl, pb, pr] = quad(o.pads);
  const OH = windowOut(H, kh, sh, dh, pt, pb, o.ceil ?? false);
  const OW = windowOut(W, kw, sw, dw, pl, pr, o.ceil ?? false);
  if (OH <= 0 || OW <= 0) throw new RangeError(`${kind}Pool2d: kernel larger than padded input`);
  const y = new Float64Array(N * C * OH * OW);
  let k = 0;
  for (let nc = 0; nc < N * C; nc++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let acc = kind === 'max' ? -Infinity : 0;
        let count = 0;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const h = oh * sh - pt + i * dh;
            const w = ow * sw - pl + j * dw;
            // With count_include_pad, the divisor counts the padded area but not
            // the part of a ceil-mode window beyond it.
            if (countIncludePad && h < H + pb && w < W + pr) count++;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const v = x.data[(nc * H + h) * W + w];
            if (kind === 'max') acc = Math.max(acc, v);
            else acc += v;
            if (!countIncludePad) count++;
          }
        }
        y[k++] = kind === 'max' ? acc : acc / count;
      }
    }
  }
  return out(y, [N, C, OH, OW]);
}

export const jsOps: NnOps = {
  gemm(a, b, o = {}) {
    const M = o.transA ? a.shape[1] : a.shape[0];
    const N = o.transB ? b.shape[0] : b.shape[1];
    return out(gemmOracle(a, b, o), [M, N]);
  },
  conv2d(x, w, o = {}) {
    const [N, C, H, W] = x.shape;
    const [CO, CIg, KH, KW] = w.shape;
    const g = o.group ?? 1;
    const [sh, sw] = pair(o.strides, 1);
    const [dh, dw] = pair(o.dilations, 1);
    const [pt, pl, pb, pr] = quad(o.pads);
    if (C % g !== 0 || CO % g !== 0 || CIg !== C / g) throw new RangeError('conv2d: channels and group disagree');
    const OH = windowOut(H, KH, sh, dh, pt, pb, false);
    const OW = windowOut(W, KW, sw, dw, pl, pr, false);
    if (OH <= 0 || OW <= 0) throw new RangeError('conv2d: kernel larger than padded input');
    const COg = CO / g;
    const y = new Float64Array(N * CO * OH * OW);
    for (let n = 0; n < N; n++) {
      for (let co = 0; co < CO; co++) {
        const c0 = Math.floor(co / COg) * CIg;
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            let acc = o.bias ? o.bias.data[co] : 0;
            for (let ci = 0; ci < CIg; ci++) {
              for (let i = 0; i < KH; i++) {
                const h = oh * sh - pt + i * dh;
                if (h < 0 || h >= H) continue;
                for (let j = 0; j < KW; j++) {
                  const ww = ow * sw - pl + j * dw;
                  if (ww < 0 || ww >= W) continue;
                  acc += x.data[((n * C + c0 + ci) * H + h) * W + ww] * w.data[((co * CIg + ci) * KH + i) * KW + j];
                }
              }
            }
            y[((n * CO + co) * OH + oh) * OW + ow] = o.activation === 'relu' ? Math.max(0, acc) : acc;
          }
        }
      }
    }
    return out(y, [N, CO, OH, OW]);
  },
  fullyConnected(x, w, o = {}) {
    const flat = { data: x.data, shape: [x.shape[0], x.data.length / x.shape[0]] };
    return jsOps.gemm(flat, w, { transB: true, ...(o.bias ? { c: o.bias } : {}) });
  },
  maxPool2d: (x, o) => pool(x, o, 'max', false),
  avgPool2d: (x, o) => pool(x, o, 'avg', o.countIncludePad ?? false),
  globalAvgPool(x) {
    const [N, C, H, W] = x.shape;
    const y = new Float64Array(N * C);
    for (let i = 0; i < N * C; i++) {
      let s = 0;
      for (let k = 0; k < H * W; k++) s += x.data[i * H * W + k];
      y[i] = s / (H * W);
    }
    return out(y, [N, C, 1, 1]);
  },
  relu: (x) => map(x, (v) => Math.max(0, v)),
  leakyRelu: (x, alpha = 0.01) => map(x, (v) => (v < 0 ? alpha * v : v)),
  prelu: (x, slope) => broadcast(x, slope, (v, s) => (v < 0 ? s * v : v)),
  sigmoid: (x) => map(x, (v) => 1 / (1 + Math.exp(-v))),
  tanh: (x) => map(x, Math.tanh),
  clip: (x, min, max) => map(x, (v) => Math.min(max, Math.max(min, v))),
  softmax: (x, o = {}) => softmaxRows(x, ((o.axis ?? -1) + x.shape.length) % x.shape.length, false),
  logSoftmax: (x, o = {}) => softmaxRows(x, ((o.axis ?? -1) + x.shape.length) % x.shape.length, true),
  batchNorm(x, o) {
    const C = x.shape[1];
    const inner = size(x.shape.slice(2));
    const eps = o.epsilon ?? 1e-5;
    return out(
      Array.from(x.data, (v, i) => {
        const c = Math.floor(i / inner) % C;
        return (o.scale.data[c] * (v - o.mean.data[c])) / Math.sqrt(o.variance.data[c] + eps) + o.bias.data[c];
      }),
      x.shape,
    );
  },
  lrn(x, o) {
    const C = x.shape[1];
    const inner = size(x.shape.slice(2));
    const { size: n, alpha = 1e-4, beta = 0.75, bias = 1 } = o;
    return out(
      Array.from(x.data, (v, i) => {
        const c = Math.floor(i / inner) % C;
        let sq = 0;
        for (let k = Math.max(0, c - Math.floor((n - 1) / 2)); k <= Math.min(C - 1, c + Math.ceil((n - 1) / 2)); k++) {
          const u = x.data[i + (k - c) * inner];
          sq += u * u;
        }
        return v / (bias + (alpha / n) * sq) ** beta;
      }),
      x.shape,
    );
  },
  add: (a, b) => broadcast(a, b, (x, y) => x + y),
  mul: (a, b) => broadcast(a, b, (x, y) => x * y),
  concat(xs, axis) {
    const s0 = xs[0].shape;
    const outer = size(s0.slice(0, axis));
    const inner = size(s0.slice(axis + 1));
    const shape = [...s0];
    shape[axis] = xs.reduce((p, t) => p + t.shape[axis], 0);
    const y: number[] = [];
    for (let o = 0; o < outer; o++) {
      for (const t of xs) {
        const chunk = t.shape[axis] * inner;
        for (let k = 0; k < chunk; k++) y.push(t.data[o * chunk + k]);
      }
    }
    return out(y, shape);
  },
  flatten: (x, axis = 1) => out(x.data, [size(x.shape.slice(0, axis)), size(x.shape.slice(axis))]),
  reshape: (x, shape) => out(x.data, shape),
  transpose(x, perm) {
    const r = x.shape.length;
    const p = perm ?? x.shape.map((_, i) => r - 1 - i);
    const shape = p.map((a) => x.shape[a]);
    const st = stridesOf(x.shape);
    const n = x.data.length;
    const y = new Float64Array(n);
    const idx = new Array<number>(r).fill(0);
    for (let k = 0; k < n; k++) {
      let src = 0;
      for (let d = 0; d < r; d++) src += idx[d] * st[p[d]];
      y[k] = x.data[src];
      for (let d = r - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
    return out(y, shape);
  },
  pad(x, pads, value = 0) {
    const r = x.shape.length;
    const shape = x.shape.map((d, i) => d + pads[i] + pads[i + r]);
    const n = size(shape);
    const st = stridesOf(x.shape);
    const y = new Float64Array(n);
    const idx = new Array<number>(r).fill(0);
    for (let k = 0; k < n; k++) {
      let src = 0;
      let inside = true;
      for (let d = 0; d < r; d++) {
        const s = idx[d] - pads[d];
        if (s < 0 || s >= x.shape[d]) inside = false;
        src += s * st[d];
      }
      y[k] = inside ? x.data[src] : value;
      for (let d = r - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
    return out(y, shape);
  },
};
