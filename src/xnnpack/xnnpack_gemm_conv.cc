// A region's fp32 convs of one group on neonn's own GEMM (see GemmConvNhwc in xnnpack_nhwc.h).
//
// In NHWC a conv is the GEMM y[pixels, c_out] = x'[pixels, taps * c_in] * w^T + bias, where row m of x' is, tap by
// tap, the c_in inputs of the pixel that tap of output pixel m reads (a row of zeros past the edges): a 1x1 conv of
// stride 1 reads the buffer as it lies. XNNPACK's x86 kernels for it (7 pixels x 32 outputs a step) run over all of
// taps * c_in for every 7 pixels against 32 outputs' weights before they take the next 32 outputs: a layer whose
// weights pass the L2 cache (ResNet-50's last stages: 0.5 to 9 MB per layer) reads them from memory again for every
// 7 pixels, and a 3x3 layer of 512 channels streams 590 KB of weights from L2 per step.
//
// Here the weights are packed once, in panels of 32 outputs ([taps][c_in][32] floats each), and the GEMM is blocked
// as BLAS libraries block theirs: a block of pixels (up to 192) against a chunk of up to 256 of the panel's inputs
// (32 KB: it stays in L1) for every step of up to 12 of the block's pixels, then the next panel, then the next chunk.
// A chunk past the first adds to the sums stored by the one before, and the last one clamps. While a panel's chunk
// is in use, its steps bring the next chunk's weights into L2 (from memory, for the layers whose weights pass the
// caches). Each kernel step is 12 x 2 AVX-512 FMAs (24 sums in registers) on two loads of weights and twelve
// broadcast inputs.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>

#include "../parallel.h"
#include "xnnpack_nhwc.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
// GCC 12 warns inside its own AVX-512 intrinsics (their "undefined" pass-through operands) when they are inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define NEONN_GEMM_CONV_AVX512 1
#else
#define NEONN_GEMM_CONV_AVX512 0
#endif

namespace neonn {
namespace xnn {

namespace {

constexpr size_t kRows = 12;      // pixels a kernel step computes
constexpr size_t kPanel = 32;     // output channels a kernel step computes (two registers)
constexpr size_t kChunk = 256;    // inputs a panel's chunk holds (32 KB of weights: L1)
constexpr size_t kBlock = 192;    // pixels a block holds (16 steps)
constexpr size_t kTable = 2048;   // input pointers of a block's chunk (16 KB on the stack)
constexpr size_t kMaxTaps = 49;   // 7x7 (a larger kernel is XNNPACK's)

}  // namespace

#if NEONN_GEMM_CONV_AVX512
namespace {

// The chunks of inputs of a pass over the sums: `taps` taps of all c_in inputs, or `inputs` of one tap's.
struct Chunk {
  size_t tap = 0, taps = 0, c0 = 0, inputs = 0;
  size_t size() const { return taps * inputs; }
};

// The chunk after `c` (c.taps == 0 past the last).
Chunk next_chunk(const GemmConvNhwc& p, const Chunk& c) {
  const size_t taps = p.k_h * p.k_w;
  Chunk n;
  if (p.chunk_inputs == 0) {
    n.tap = c.tap + c.taps, n.c0 = 0, n.inputs = p.c_in;
    n.taps = n.tap < taps ? std::min(p.chunk_taps, taps - n.tap) : 0;
  } else {
    n.tap = c.tap, n.c0 = c.c0 + c.inputs, n.taps = 1;
    if (n.c0 >= p.c_in) n.tap += 1, n.c0 = 0;
    n.inputs = std::min(p.chunk_inputs, p.c_in - n.c0);
    if (n.tap >= taps) n.taps = 0;
  }
  return n;
}

Chunk first_chunk(const GemmConvNhwc& p) {
  Chunk c;
  c.taps = p.chunk_inputs == 0 ? std::min(p.chunk_taps, p.k_h * p.k_w) : 1;
  c.inputs = p.chunk_inputs == 0 ? p.c_in : std::min(p.chunk_inputs, p.c_in);
  return c;
}

#define NEONN_GC_TARGET __attribute__((target("avx512f,fma")))
// Every loop over a step's pixels unrolled, so that its sums stay in registers.
#define NEONN_GC_UNROLL _Pragma("GCC unroll 16")

enum : unsigned { kFirst = 1, kLast = 2 };

// One kernel step's operands, passed by reference (in registers they would crowd out the loop's).
struct Step {
  const float* const* a;  // pixel r's inputs for the chunk's tap j start at a[j * as + r]
  size_t as, taps, kc;    // the chunk: taps x kc inputs
  const float* b;         // the panel's chunk: taps x kc rows of 32 weights
  const float* pf;        // kc cache lines from here are brought into L2 meanwhile (the next chunk's weights)
  const float* bias;      // the panel's 32
  float* y;               // the step's first pixel's first output channel
  size_t ys;              // floats between output pixels
  __mmask16 m0, m1;       // the panel's output channels that exist
  unsigned mode;          // kFirst: start from the bias, else from what y holds; kLast: add `res`, clamp
  float lo, hi;
  const float* res;       // kLast: the folded add's value at the step's first pixel (null: none)
  size_t rs;              // floats between its pixels
};

// Sums of R (<= kRows) pixels against a panel's chunk, stored to y.
template <size_t R>
NEONN_GC_TARGET void tile(const Step& st) {
  __m512 s0[R], s1[R];
  if (st.mode & kFirst) {
    // The step's output lines, owned before its sums are ready (a 1x1 conv of 64 inputs writes 4x what it reads).
    NEONN_GC_UNROLL
    for (size_t r = 0; r < R; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(st.y + r * st.ys), _MM_HINT_ET0);
      _mm_prefetch(reinterpret_cast<const char*>(st.y + r * st.ys + 16), _MM_HINT_ET0);
    }
  }
  if (st.mode & kFirst) {
    const __m512 b0 = _mm512_loadu_ps(st.bias), b1 = _mm512_loadu_ps(st.bias + 16);
    NEONN_GC_UNROLL
    for (size_t r = 0; r < R; ++r) s0[r] = b0, s1[r] = b1;
  } else {
    NEONN_GC_UNROLL
    for (size_t r = 0; r < R; ++r) {
      s0[r] = _mm512_maskz_loadu_ps(st.m0, st.y + r * st.ys);
      s1[r] = _mm512_maskz_loadu_ps(st.m1, st.y + r * st.ys + 16);
    }
  }
  const float* b = st.b;
  const char* pf = reinterpret_cast<const char*>(st.pf);
  const size_t kc = st.kc;
  for (size_t j = 0; j < st.taps; ++j) {
    const float* ar[R];
    NEONN_GC_UNROLL
    for (size_t r = 0; r < R; ++r) ar[r] = st.a[j * st.as + r];
    for (size_t k = 0; k < kc; ++k) {
      _mm_prefetch(pf + k * 64, _MM_HINT_T1);
      const __m512 w0 = _mm512_loadu_ps(b + k * kPanel), w1 = _mm512_loadu_ps(b + k * kPanel + 16);
      NEONN_GC_UNROLL
      for (size_t r = 0; r < R; ++r) {
        const __m512 v = _mm512_set1_ps(ar[r][k]);
        s0[r] = _mm512_fmadd_ps(v, w0, s0[r]);
        s1[r] = _mm512_fmadd_ps(v, w1, s1[r]);
      }
    }
    b += kc * kPanel;
    pf += kc * 64;
  }
  if ((st.mode & kLast) && st.res != nullptr) {
    NEONN_GC_UNROLL
    for (size_t r = 0; r < R; ++r) {
      s0[r] = _mm512_add_ps(s0[r], _mm512_maskz_loadu_ps(st.m0, st.res + r * st.rs));
      s1[r] = _mm512_add_ps(s1[r], _mm512_maskz_loadu_ps(st.m1, st.res + r * st.rs + 16));
    }
  }
  if (st.mode & kLast) {
    const __m512 lo = _mm512_set1_ps(st.lo), hi = _mm512_set1_ps(st.hi);
    NEONN_GC_UNROLL
    for (size_t r = 0; r < R; ++r) {
      s0[r] = _mm512_min_ps(_mm512_max_ps(s0[r], lo), hi);
      s1[r] = _mm512_min_ps(_mm512_max_ps(s1[r], lo), hi);
    }
  }
  NEONN_GC_UNROLL
  for (size_t r = 0; r < R; ++r) {
    _mm512_mask_storeu_ps(st.y + r * st.ys, st.m0, s0[r]);
    _mm512_mask_storeu_ps(st.y + r * st.ys + 16, st.m1, s1[r]);
  }
}

using TileFn = void (*)(const Step&);

template <size_t... R>
struct Tiles {
  static constexpr TileFn table[sizeof...(R)] = {&tile<R + 1>...};
};

// Pixels [m_begin, m_end) (at most kBlock, and at most kTable over the chunks' taps) against panels [p_begin, p_end).
NEONN_GC_TARGET void block_avx512(const GemmConvNhwc& p, const float* x, float* y, size_t m_begin, size_t m_end, size_t p_begin,
                                  size_t p_end) {
  static constexpr auto& kernels = Tiles<0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11>::table;
  static_assert(sizeof(kernels) / sizeof(kernels[0]) == kRows, "one kernel per row count");
  const size_t rows = m_end - m_begin, taps = p.k_h * p.k_w, k_all = taps * p.c_in, per_image = p.out_h * p.out_w;
  // Each pixel's image and the input row and column its tap (0, 0) reads (before the padding: may be negative).
  size_t image_base[kBlock];
  ptrdiff_t iy0[kBlock], ix0[kBlock];
  for (size_t r = 0; r < rows; ++r) {
    const size_t m = m_begin + r, img = m / per_image, rem = m % per_image;
    image_base[r] = img * p.in_h;
    iy0[r] = static_cast<ptrdiff_t>((rem / p.out_w) * p.stride_h) - static_cast<ptrdiff_t>(p.pad_top);
    ix0[r] = static_cast<ptrdiff_t>((rem % p.out_w) * p.stride_w) - static_cast<ptrdiff_t>(p.pad_left);
  }
  // Steps of equal size (49 pixels: 10, 10, 10, 10, 9, not 12, 12, 12, 12, 1).
  const size_t steps = (rows + kRows - 1) / kRows, base = rows / steps, extra = rows % steps;
  const float* table[kTable];
  for (Chunk c = first_chunk(p); c.taps != 0;) {
    const Chunk n = next_chunk(p, c);
    const unsigned mode = (c.tap == 0 && c.c0 == 0 ? kFirst : 0u) | (n.taps == 0 ? kLast : 0u);
    // The chunk's inputs: table[j * rows + r] for its tap j and pixel r.
    for (size_t j = 0; j < c.taps; ++j) {
      const size_t t = c.tap + j;
      const ptrdiff_t dy = static_cast<ptrdiff_t>((t / p.k_w) * p.dilation_h), dx = static_cast<ptrdiff_t>((t % p.k_w) * p.dilation_w);
      for (size_t r = 0; r < rows; ++r) {
        const ptrdiff_t iy = iy0[r] + dy, ix = ix0[r] + dx;
        const bool inside = iy >= 0 && ix >= 0 && static_cast<size_t>(iy) < p.in_h && static_cast<size_t>(ix) < p.in_w;
        table[j * rows + r] = (inside ? x + ((image_base[r] + static_cast<size_t>(iy)) * p.in_w + static_cast<size_t>(ix)) * p.c_in
                                      : p.zeros.data()) +
                              c.c0;
      }
    }
    auto masks = [&](size_t panel, Step& st) {
      const size_t live = std::min(kPanel, p.c_out - panel * kPanel);
      st.m0 = live >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << live) - 1);
      st.m1 = live >= 32 ? __mmask16(0xffff) : live <= 16 ? __mmask16(0) : static_cast<__mmask16>((1u << (live - 16)) - 1);
    };
    const float* chunk_w = p.w.data() + (c.tap * p.c_in + c.c0) * kPanel;  // the chunk's weights in panel 0
    Step st{table, rows, c.taps, c.inputs, nullptr, nullptr, nullptr, nullptr, p.y_stride, 0, 0, mode, p.lo, p.hi, nullptr, p.residual_stride};
    if (mode == (kFirst | kLast)) {
      // One pass (at most kChunk inputs in all): step by step, each against every panel, so that each output pixel's
      // channels are written in one go (a 1x1 conv of 64 inputs to 256 outputs writes 4x what it reads), while the
      // panels' weights (at most 256 rows of 32 each) wait in L2 and the step's inputs in L1.
      size_t r0 = 0;
      for (size_t s = 0; s < steps; ++s) {
        const size_t count = base + (s < extra ? 1 : 0);
        st.a = table + r0;
        for (size_t panel = p_begin; panel < p_end; ++panel) {
          masks(panel, st);
          st.b = chunk_w + panel * k_all * kPanel;
          st.pf = panel + 1 < p_end ? st.b + k_all * kPanel : st.b;
          st.bias = p.bias.data() + panel * kPanel;
          st.y = y + (m_begin + r0) * p.y_stride + panel * kPanel;
          st.res = p.residual != nullptr ? p.residual + (m_begin + r0) * p.residual_stride + panel * kPanel : nullptr;
          kernels[count - 1](st);
        }
        r0 += count;
      }
    } else {
      // Panel by panel, each chunk's weights (32 KB) in L1 for all the block's steps, which bring the next chunk's
      // into L2 (the next panel's, or the first panel's next chunk), a cache line (half a row of 32) per input each.
      for (size_t panel = p_begin; panel < p_end; ++panel) {
        masks(panel, st);
        st.b = chunk_w + panel * k_all * kPanel;
        st.bias = p.bias.data() + panel * kPanel;
        const float* next = nullptr;
        size_t next_size = 0;
        if (panel + 1 < p_end) {
          next = st.b + k_all * kPanel, next_size = c.size();
        } else if (n.taps != 0) {
          next = p.w.data() + p_begin * k_all * kPanel + (n.tap * p.c_in + n.c0) * kPanel, next_size = n.size();
        }
        const size_t share = (next_size + steps - 1) / steps;
        size_t r0 = 0;
        for (size_t s = 0; s < steps; ++s) {
          const size_t count = base + (s < extra ? 1 : 0);
          st.a = table + r0;
          st.pf = next != nullptr && s * share < next_size ? next + s * share * kPanel : st.b;
          st.y = y + (m_begin + r0) * p.y_stride + panel * kPanel;
          st.res = p.residual != nullptr ? p.residual + (m_begin + r0) * p.residual_stride + panel * kPanel : nullptr;
          kernels[count - 1](st);
          r0 += count;
        }
      }
    }
    c = n;
  }
}

bool avx512_fma() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  return yes;
}

}  // namespace
#endif

bool gemm_conv_fits(const Conv2dCall& c) {
#if NEONN_GEMM_CONV_AVX512
  if (c.group != 1 || c.k_h <= 0 || c.k_w <= 0 || c.k_h * c.k_w > static_cast<int64_t>(kMaxTaps) || c.stride_h <= 0 ||
      c.stride_w <= 0 || c.dilation_h <= 0 || c.dilation_w <= 0 || c.pad_top < 0 || c.pad_left < 0 || c.n <= 0 || c.in_h <= 0 ||
      c.in_w <= 0 || c.out_h <= 0 || c.out_w <= 0 || c.c_in <= 0 || c.c_out <= 0 || c.w.data == nullptr || !avx512_fma()) {
    return false;
  }
  // The input's, the output's and the weights' element counts, each under 2^31 (no product overflows on the way).
  const int64_t limit = int64_t{1} << 31;
  auto under = [&](std::initializer_list<int64_t> dims) {
    int64_t v = 1;
    for (int64_t d : dims) {
      if (__builtin_mul_overflow(v, d, &v) || v >= limit) return false;
    }
    return true;
  };
  return under({c.n, c.in_h, c.in_w, c.c_in}) && under({c.n, c.out_h, c.out_w, c.c_out}) && under({c.c_out, c.c_in, c.k_h, c.k_w}) &&
         c.w.size == static_cast<size_t>(c.c_out * c.c_in * c.k_h * c.k_w) &&
         (c.bias.data == nullptr || c.bias.size == static_cast<size_t>(c.c_out));
#else
  (void)c;
  return false;
#endif
}

std::unique_ptr<GemmConvNhwc> make_gemm_conv_nhwc(const Conv2dCall& c, float lo, float hi, size_t y_stride) {
#if NEONN_GEMM_CONV_AVX512
  if (!gemm_conv_fits(c) || y_stride < static_cast<size_t>(c.c_out)) return nullptr;
  auto p = std::make_unique<GemmConvNhwc>();
  static_cast<ConvGeometry&>(*p) = ConvGeometry::of(c);
  p->y_stride = y_stride, p->lo = lo, p->hi = hi;
  const size_t k = p->c_in, n = p->c_out, taps = p->k_h * p->k_w, panels = (n + kPanel - 1) / kPanel;
  // Chunks of about equal size, each at most kChunk inputs: whole taps of a narrow input, or equal parts of one tap's
  // inputs (a short last chunk would waste a pass over the sums).
  if (k <= kChunk) {
    const size_t most = std::min(taps, kChunk / k), chunks = (taps + most - 1) / most;
    p->chunk_taps = (taps + chunks - 1) / chunks, p->chunk_inputs = 0;
  } else {
    const size_t chunks = (k + kChunk - 1) / kChunk;
    p->chunk_taps = 1, p->chunk_inputs = (k + chunks - 1) / chunks;
  }
  p->w.assign(panels * taps * k * kPanel, 0.0f);
  p->bias.assign(panels * kPanel, 0.0f);
  p->zeros.assign(k, 0.0f);
  // ONNX's weights are [c_out][c_in][k_h][k_w]; a panel's are [tap][c_in][32].
  for (size_t o = 0; o < n; ++o) {
    float* panel = p->w.data() + (o / kPanel) * taps * k * kPanel + o % kPanel;
    for (size_t i = 0; i < k; ++i) {
      for (size_t t = 0; t < taps; ++t) panel[(t * k + i) * kPanel] = c.w.data[(o * k + i) * taps + t];
    }
    if (c.bias.data != nullptr) p->bias[o] = c.bias.data[o];
  }
  p->block = block_avx512;
  return p;
#else
  (void)c, (void)lo, (void)hi, (void)y_stride;
  return nullptr;
#endif
}

void gemm_conv_nhwc(const GemmConvNhwc& p, const float* x, float* y) {
  // Blocks of pixels whose chunk of inputs stays in L2, each against groups of panels: as many groups as give every
  // thread a few blocks, so that a layer of few pixels (a 7 x 7 map) still splits.
  const size_t pixels = p.n * p.out_h * p.out_w, panels = (p.c_out + kPanel - 1) / kPanel;
  const size_t chunk_taps = p.chunk_inputs == 0 ? p.chunk_taps : 1;
  const size_t most = std::min(kBlock, kTable / chunk_taps);
  // Blocks of equal size (196 pixels: 98 and 98, not 192 and 4).
  const size_t m_blocks = (pixels + most - 1) / most, block = (pixels + m_blocks - 1) / m_blocks;
  const size_t threads = static_cast<size_t>(parallel_threads());
  const size_t want = threads > 1 ? 4 * threads : 1;
  const size_t groups = m_blocks >= want ? 1 : std::min(panels, (want + m_blocks - 1) / m_blocks);
  const size_t per_group = (panels + groups - 1) / groups;
  parallel_for(m_blocks * groups, 1, [&](size_t begin, size_t end) {
    for (size_t t = begin; t < end; ++t) {
      const size_t mb = t / groups, g = t % groups;
      const size_t m_begin = mb * block, m_end = std::min(pixels, m_begin + block);
      const size_t p_begin = g * per_group, p_end = std::min(panels, p_begin + per_group);
      if (p_begin < p_end) p.block(p, x, y, m_begin, m_end, p_begin, p_end);
    }
  });
}

}  // namespace xnn
}  // namespace neonn
