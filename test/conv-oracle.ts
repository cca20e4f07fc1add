// Plain-JS float64 oracles for conv2d, fullyConnected and pooling, written
// from the ONNX operator definitions, independent of the library's code.
import type { TensorLike } from '../lib';

export type Pair = number | [number, number];
export type Pads = number | [number, number] | [number, number, number, number];

export function pair(v: Pair | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  return typeof v === 'number' ? [v, v] : v;
}

/** [top, left, bottom, right] */
export function pads4(v: Pads | undefined): [number, number, number, number] {
  if (v === undefined) return [0, 0, 0, 0];
  if (typeof v === 'number') return [v, v, v, v];
  return v.length === 2 ? [v[0], v[1], v[0], v[1]] : v;
}

export interface ConvOracleOptions {
  bias?: TensorLike;
  strides?: Pair;
  pads?: Pads;
  dilations?: Pair;
  group?: number;
  activation?: 'none' | 'relu';
}

/** ONNX Conv (cross-correlation), NCHW, weights [Cout, Cin/group, kH, kW]. */
export function convOracle(x: TensorLike, w: TensorLike, o: ConvOracleOptions = {}): { data: Float64Array; shape: number[] } {
  const [N, C, H, W] = x.shape;
  const [M, Cg, KH, KW] = w.shape;
  const [sh, sw] = pair(o.strides, 1);
  const [dh, dw] = pair(o.dilations, 1);
  const [pt, pl, pb, pr] = pads4(o.pads);
  const G = o.group ?? 1;
  const OH = Math.floor((H + pt + pb - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + pl + pr - dw * (KW - 1) - 1) / sw) + 1;
  const Mg = M / G;
  const y = new Float64Array(N * M * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let acc = o.bias ? o.bias.data[m] : 0;
          for (let c = 0; c < Cg; c++) {
            for (let i = 0; i < KH; i++) {
              for (let j = 0; j < KW; j++) {
                const ih = oh * sh - pt + i * dh;
                const iw = ow * sw - pl + j * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += x.data[((n * C + g * Cg + c) * H + ih) * W + iw] * w.data[((m * Cg + c) * KH + i) * KW + j];
              }
            }
          }
          if (o.activation === 'relu' && acc < 0) acc = 0;
          y[((n * M + m) * OH + oh) * OW + ow] = acc;
        }
      }
    }
  }
  return { data: y, shape: [N, M, OH, OW] };
}

/** y = flatten(x) · wᵀ + bias */
export function fullyConnectedOracle(x: TensorLike, w: TensorLike, bias?: TensorLike): Float64Array {
  const N = x.shape[0];
  const K = x.data.length / N;
  const M = w.shape[0];
  const y = new Float64Array(N * M);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      let acc = bias ? bias.data[m] : 0;
      for (let k = 0; k < K; k++) acc += x.data[n * K + k] * w.data[m * K + k];
      y[n * M + m] = acc;
    }
  }
  return y;
}

export interface PoolOracleOptions {
  kernel: Pair;
  strides?: Pair;
  pads?: Pads;
  dilations?: Pair;
  ceil?: boolean;
  countIncludePad?: boolean;
}

function outLen(inp: number, k: number, s: number, d: number, p0: number, p1: number, ceil: boolean): number {
  const span = inp + p0 + p1 - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // The last window has to start inside the input or the leading padding.
  if (ceil && (out - 1) * s >= inp + p0) out--;
  return out;
}

/** ONNX MaxPool / AveragePool (PyTorch's divisor rule for count_include_pad with ceil). */
export function poolOracle(kind: 'max' | 'avg', x: TensorLike, o: PoolOracleOptions): { data: Float64Array; shape: number[] } {
  const [N, C, H, W] = x.shape;
  const [kh, kw] = pair(o.kernel, 1);
  const [sh, sw] = pair(o.strides, 1);
  const [dh, dw] = pair(o.dilations, 1);
  const [pt, pl, pb, pr] = pads4(o.pads);
  const OH = outLen(H, kh, sh, dh, pt, pb, o.ceil ?? false);
  const OW = outLen(W, kw, sw, dw, pl, pr, o.ceil ?? false);
  const y = new Float64Array(N * C * OH * OW);
  for (let p = 0; p < N * C; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const h0 = oh * sh - pt;
        const w0 = ow * sw - pl;
        let best = -Infinity;
        let sum = 0;
        let n = 0;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const ih = h0 + i * dh;
            const iw = w0 + j * dw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const v = x.data[(p * H + ih) * W + iw];
            best = Math.max(best, v);
            sum += v;
            n++;
          }
        }
        let value: number;
        if (kind === 'max') {
          value = best;
        } else if (o.countIncludePad) {
          const rows = Math.min(h0 + kh, H + pb) - Math.max(h0, -pt);
          const cols = Math.min(w0 + kw, W + pr) - Math.max(w0, -pl);
          value = sum / (rows * cols);
        } else {
          value = sum / n;
        }
        y[(p * OH + oh) * OW + ow] = value;
      }
    }
  }
  return { data: y, shape: [N, C, OH, OW] };
}

export function globalAvgPoolOracle(x: TensorLike): Float64Array {
  const [N, C, H, W] = x.shape;
  const y = new Float64Array(N * C);
  for (let p = 0; p < N * C; p++) {
    let s = 0;
    for (let i = 0; i < H * W; i++) s += x.data[p * H * W + i];
    y[p] = s / (H * W);
  }
  return y;
}
