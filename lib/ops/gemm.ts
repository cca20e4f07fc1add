/**
 * General matrix multiply, ONNX Gemm semantics:
 * `Y[M,N] = alpha * op(a) * op(b) + beta * c`, `c` broadcast to `[M,N]`.
 */
import { rangeError } from '../errors';
import { binding } from '../native';
import { Tensor, TensorLike, checkTensor, fmtShape } from '../tensor';
import { checkOptions, optBool, optFinite } from '../validate';
import { outTensor, nativeSync, runAsync, runSync } from './run';

/** Options of {@link gemm}. */
export interface GemmOptions {
  /** Use `a` transposed (`a` is then `[K,M]`). Default false. */
  transA?: boolean;
  /** Use `b` transposed (`b` is then `[N,K]`). Default false. */
  transB?: boolean;
  /** Scale of the product. Default 1. */
  alpha?: number;
  /** Scale of `c`. Default 1. */
  beta?: number;
  /** Added term, broadcastable to `[M,N]`: shape `[]`, `[1]`, `[N]`, `[1,N]`, `[M,1]` or `[M,N]`. */
  c?: TensorLike;
  /** Write the result here (shape `[M,N]`) instead of a new tensor; may be `c` itself. */
  out?: TensorLike;
}

const GEMM_OPTIONS = new Set(['transA', 'transB', 'alpha', 'beta', 'c', 'out']);

/** Validated, positional form of a gemm call, ready for the native side. */
interface GemmCall {
  a: TensorLike;
  b: TensorLike;
  c: Float32Array | null;
  out: TensorLike;
  cRows: number;
  cCols: number;
  flags: number;
  alpha: number;
  beta: number;
}

function prepareGemm(op: string, aIn: unknown, bIn: unknown, options: GemmOptions | undefined): GemmCall {
  const a = checkTensor(op, 'a', aIn);
  const b = checkTensor(op, 'b', bIn);
  if (a.shape.length !== 2) rangeError(op, `"a" must be 2-D [M,K], got shape ${fmtShape(a.shape)}`);
  if (b.shape.length !== 2) rangeError(op, `"b" must be 2-D [K,N], got shape ${fmtShape(b.shape)}`);
  const opts = checkOptions(op, options, GEMM_OPTIONS);
  const transA = optBool(op, 'transA', opts.transA);
  const transB = optBool(op, 'transB', opts.transB);
  const alpha = optFinite(op, 'alpha', opts.alpha, 1);
  const beta = optFinite(op, 'beta', opts.beta, 1);
  const M = transA ? a.shape[1] : a.shape[0];
  const K = transA ? a.shape[0] : a.shape[1];
  const Kb = transB ? b.shape[1] : b.shape[0];
  const N = transB ? b.shape[0] : b.shape[1];
  if (K !== Kb) {
    rangeError(op, `inner dimensions differ: a${transA ? 'ᵀ' : ''} ${fmtShape(a.shape)} has K=${K}, b${transB ? 'ᵀ' : ''} ${fmtShape(b.shape)} has K=${Kb}`);
  }
  if (M > 0x7fffffff || N > 0x7fffffff || K > 0x7fffffff) rangeError(op, `M, N and K must each be below 2^31, got M=${M} N=${N} K=${K}`);

  let c: Float32Array | null = null;
  let cRows = 1;
  let cCols = 1;
  if (opts.c !== undefined && opts.c !== null) {
    const ct = checkTensor(op, 'c', opts.c);
    const s = ct.shape;
    if (s.length === 1) {
      cCols = s[0];
    } else if (s.length === 2) {
      cRows = s[0];
      cCols = s[1];
    } else if (s.length !== 0) {
      rangeError(op, `"c" must have rank 0, 1 or 2, got shape ${fmtShape(s)}`);
    }
    if ((cRows !== 1 && cRows !== M) || (cCols !== 1 && cCols !== N)) {
      rangeError(op, `"c" of shape ${fmtShape(s)} does not broadcast to [M,N] = ${fmtShape([M, N])}`);
    }
    c = ct.data;
  }

  // out may be c itself (accumulate in place); any other overlap is refused.
  const od = (opts.out as { data?: unknown } | undefined)?.data;
  const cIsOut = c !== null && od instanceof Float32Array && c.buffer === od.buffer && c.byteOffset === od.byteOffset && c.length === od.length;
  const out = outTensor(op, opts.out, [M, N], cIsOut ? [['a', a.data], ['b', b.data]] : [['a', a.data], ['b', b.data], ['c', c, 'only out === c, same shape, is allowed']]);
  return { a, b, c, out, cRows, cCols, flags: (transA ? 1 : 0) | (transB ? 2 : 0), alpha, beta };
}

/**
 * General matrix multiply: `alpha * op(a) · op(b) + beta * c`, on the active backend.
 * @param a - `[M,K]` (or `[K,M]` with `transA`)
 * @param b - `[K,N]` (or `[N,K]` with `transB`)
 * @param options - transA, transB, alpha, beta, c, out
 * @returns the `[M,N]` result (`out` when given)
 * @throws {TypeError} for a non-tensor argument or an unknown option
 * @throws {RangeError} for mismatched shapes, a non-broadcastable `c`, a wrong `out`
 * @example
 * const y = nn.gemm(nn.tensor(a, [2, 3]), nn.tensor(b, [3, 4]), { alpha: 0.5 });
 */
export function gemm(a: TensorLike, b: TensorLike, options?: GemmOptions): Tensor {
  const g = prepareGemm('gemm', a, b, options);
  return runSync('gemm', g.out, () =>
    nativeSync('gemm', g.a.data, g.b.data, g.c, g.out.data, g.a.shape[0], g.a.shape[1], g.b.shape[0], g.b.shape[1], g.cRows, g.cCols, g.flags, g.alpha, g.beta),
  );
}

/**
 * {@link gemm} on the libuv thread pool: the event loop stays free; the
 * inputs are copied when the call starts, so they may be changed or
 * transferred afterwards. Argument errors reject; an `out` transferred before
 * the result is written rejects with `ERR_NEONN_DETACHED`.
 * @example
 * const y = await nn.async.gemm(a, b);
 */
export async function gemmAsync(a: TensorLike, b: TensorLike, options?: GemmOptions): Promise<Tensor> {
  const g = prepareGemm('gemm', a, b, options);
  return runAsync('gemm', g.out, () =>
    binding.gemm(g.a.data, g.b.data, g.c, g.out.data, g.a.shape[0], g.a.shape[1], g.b.shape[0], g.b.shape[1], g.cRows, g.cCols, g.flags, g.alpha, g.beta),
  );
}
