// Shared test helpers: seeded data, a plain-JS oracle, closeness checks, and
// the list of backends to run each suite against.
import * as nn from '../lib';

/**
 * Names of the backends available here; suites run once per name. blas:<path>
 * backends are left out: one is loaded only by the test that is about it, and
 * a loaded library stays registered in the worker process (its stand-in adds
 * a marker to every product), so it must not leak into the files jest runs
 * after it in the same worker.
 */
export function availableBackends(): string[] {
  return nn.backends().filter((b) => b.available && !b.name.startsWith('blas:')).map((b) => b.name);
}

/** Prints a loud line for each backend that is not available, with why. */
export function reportUnavailable(suite: string): void {
  for (const b of nn.backends().filter((x) => !x.available)) {
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED ${suite} on backend ${b.name}: unavailable (${b.reason ?? 'no reason given'})`);
  }
}

/** Deterministic pseudo-random floats in [-1, 1). */
export function randomData(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export function randomTensor(shape: number[], seed: number): nn.Tensor {
  return nn.tensor(randomData(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/** Plain-JS gemm oracle in float64 (ONNX Gemm semantics, c broadcast). */
export function gemmOracle(
  a: nn.TensorLike,
  b: nn.TensorLike,
  o: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number; c?: nn.TensorLike } = {},
): Float64Array {
  const [ar, ac] = a.shape;
  const [br, bc] = b.shape;
  const M = o.transA ? ac : ar;
  const K = o.transA ? ar : ac;
  const N = o.transB ? br : bc;
  const alpha = o.alpha ?? 1;
  const beta = o.beta ?? 1;
  const y = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let l = 0; l < K; l++) {
        const av = o.transA ? a.data[l * ac + i] : a.data[i * ac + l];
        const bv = o.transB ? b.data[j * bc + l] : b.data[l * bc + j];
        acc += av * bv;
      }
      let cv = 0;
      if (o.c) {
        const s = o.c.shape;
        const rows = s.length === 2 ? s[0] : 1;
        const cols = s.length === 0 ? 1 : s[s.length - 1];
        cv = o.c.data[(rows === 1 ? 0 : i) * cols + (cols === 1 ? 0 : j)];
      }
      y[i * N + j] = alpha * acc + beta * cv;
    }
  }
  return y;
}

/**
 * [rtol, atol] for a conv computed on `backend`. NNPACK's Winograd and FFT
 * paths (nnpack, and auto when nnpack is there to be picked) round in
 * transformed space: their error scales with the output's magnitude, not each
 * element's, so atol grows with max |want|. Everything else is a direct sum.
 */
export function convTolerance(backend: string, want: ArrayLike<number>): [number, number] {
  const fast = backend === 'nnpack' || (backend === 'auto' && availableBackends().includes('nnpack'));
  if (!fast) return [1e-4, 1e-4];
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  return [1e-3, 1e-4 + 1e-4 * scale];
}

/**
 * Asserts |got - want| <= atol + rtol * |want| elementwise, reporting the
 * first offending index (a fail message that helps, not a wall of numbers).
 */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-4, atol = 1e-5): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      throw new Error(`element ${i}: got ${g}, want ${w} (|diff| ${Math.abs(g - w)} > ${atol} + ${rtol}·|want|)`);
    }
  }
}

/** f() with `backend` selected, the backend before it restored after (also when f throws). */
export function onBackend<T>(backend: string, f: () => T): T {
  const before = nn.getBackend();
  nn.setBackend(backend);
  try {
    return f();
  } finally {
    nn.setBackend(before);
  }
}
