/**
 * NumPy's legacy generator (`np.random.seed(seed)` then `np.random.uniform`):
 * MT19937 seeded by init_genrand, doubles of 53 random bits. ONNX's
 * reference Dropout draws its training mask with it, so a model's mask for a
 * given seed is the one ONNX's test data (and a NumPy user) expects.
 * @internal
 */

const N = 624;
const M = 397;

/** MT19937 with NumPy's integer seeding (`RandomState(seed)`, `np.random.seed(seed)`). */
export class Mt19937 {
  private readonly mt = new Uint32Array(N);
  private index = N;

  /** @param seed - taken modulo 2^32, as NumPy takes seeds in [0, 2^32) */
  constructor(seed: number) {
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      // 1812433253 · prev in 32 bits, by 16-bit halves (a double would lose the low bits).
      this.mt[i] = ((((prev >>> 16) * 1812433253) << 16) + (prev & 0xffff) * 1812433253 + i) >>> 0;
    }
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
      mt[i] = mt[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.index = 0;
  }

  /** The next 32-bit output (genrand_int32). */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A double in [0, 1) from 53 random bits (NumPy's random_sample). */
  nextDouble(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }
}

/**
 * ONNX Dropout's training mask for `count` elements in row-major order:
 * `np.random.seed(seed); np.random.uniform(0, 1, shape) >= ratio`, as 1s and 0s.
 */
export function dropoutMask(seed: number, count: number, ratio: number): Uint8Array {
  const rng = new Mt19937(seed);
  const mask = new Uint8Array(count);
  for (let i = 0; i < count; i++) mask[i] = rng.nextDouble() >= ratio ? 1 : 0;
  return mask;
}
