// neonn's own NHWC kernels for regions: see xnnpack_nhwc.h.
#include "xnnpack_nhwc.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "../parallel.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
// GCC 12 warns inside its own AVX-512 intrinsics (their "undefined" pass-through operands) when they are inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace neonn {
namespace xnn {
namespace {

// Loops over the channels, compiled for AVX-512, AVX2 and SSE2 on x86-64 and picked by the CPU at load (GCC's
// function multiversioning); ARM builds vectorize for NEON as they are.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NEONN_NHWC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NEONN_NHWC_CLONES
#endif

// Channels per vector step: one AVX-512 register, two AVX2 ones, four NEON ones.
constexpr size_t kLanes = 16;
#define NEONN_ALWAYS_INLINE inline __attribute__((always_inline))

// Sixteen floats as one value: GCC makes it one AVX-512 register, two AVX2 or four SSE / NEON ones. (The helpers
// taking and returning it are always inlined: no call passes it, so the ABI GCC warns about never applies.)
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));
#pragma GCC diagnostic ignored "-Wpsabi"

NEONN_ALWAYS_INLINE Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// One output pixel's channels [c0, c0 + kLanes): the maximum over the window's rows [y0, y1) and columns
// [x0, x1) of `image` (rows of `in_w` pixels of `ch` channels), clamped to [lo, hi].
NEONN_ALWAYS_INLINE void pool_lanes(const float* image, size_t in_w, size_t ch, size_t c0, size_t y0, size_t y1, size_t x0,
                                    size_t x1, Vec lo, Vec hi, float* o) {
  Vec acc = load(image + (y0 * in_w + x0) * ch + c0);
  for (size_t iy = y0; iy < y1; ++iy) {
    for (size_t ix = iy == y0 ? x0 + 1 : x0; ix < x1; ++ix) {
      const Vec t = load(image + (iy * in_w + ix) * ch + c0);
      acc = t > acc ? t : acc;
    }
  }
  acc = acc < lo ? lo : acc;
  acc = acc > hi ? hi : acc;
  std::memcpy(o + c0, &acc, sizeof acc);
}

// The same for the channels [c0, ch) left over, one at a time.
NEONN_ALWAYS_INLINE void pool_rest(const float* image, size_t in_w, size_t ch, size_t c0, size_t y0, size_t y1, size_t x0,
                                   size_t x1, float lo, float hi, float* o) {
  for (size_t c = c0; c < ch; ++c) {
    float acc = image[(y0 * in_w + x0) * ch + c];
    for (size_t iy = y0; iy < y1; ++iy) {
      for (size_t ix = iy == y0 ? x0 + 1 : x0; ix < x1; ++ix) {
        const float t = image[(iy * in_w + ix) * ch + c];
        acc = t > acc ? t : acc;
      }
    }
    o[c] = std::min(std::max(acc, lo), hi);
  }
}

// Output rows [begin, end) of all images (row r: image r / out_h, row r % out_h).
NEONN_NHWC_CLONES void max_pool_rows(const MaxPoolNhwc& p, const float* x, float* y, size_t begin, size_t end) {
  const size_t ch = p.channels, full = ch / kLanes * kLanes;
  Vec lo, hi;
  for (size_t l = 0; l < kLanes; ++l) lo[l] = p.lo, hi[l] = p.hi;
  for (size_t r = begin; r < end; ++r) {
    const size_t b = r / p.out_h, oy = r % p.out_h;
    // The window's rows inside the input (at least one: max_pool_nhwc_fits).
    const ptrdiff_t top = static_cast<ptrdiff_t>(oy * p.stride_h) - static_cast<ptrdiff_t>(p.pad_top);
    const size_t y0 = static_cast<size_t>(std::max<ptrdiff_t>(top, 0));
    const size_t y1 = static_cast<size_t>(std::min<ptrdiff_t>(top + static_cast<ptrdiff_t>(p.k_h), static_cast<ptrdiff_t>(p.in_h)));
    const float* image = x + b * p.in_h * p.in_w * ch;
    float* out_row = y + r * p.out_w * p.y_stride;
    for (size_t ox = 0; ox < p.out_w; ++ox) {
      const ptrdiff_t left = static_cast<ptrdiff_t>(ox * p.stride_w) - static_cast<ptrdiff_t>(p.pad_left);
      const size_t x0 = static_cast<size_t>(std::max<ptrdiff_t>(left, 0));
      const size_t x1 = static_cast<size_t>(std::min<ptrdiff_t>(left + static_cast<ptrdiff_t>(p.k_w), static_cast<ptrdiff_t>(p.in_w)));
      float* o = out_row + ox * p.y_stride;
      for (size_t c0 = 0; c0 < full; c0 += kLanes) pool_lanes(image, p.in_w, ch, c0, y0, y1, x0, x1, lo, hi, o);
      if (full != ch) pool_rest(image, p.in_w, ch, full, y0, y1, x0, x1, p.lo, p.hi, o);
    }
  }
}

// L floats as one value (L = 16, 8 or 4: one AVX-512, AVX2 or SSE / NEON register), its load and a broadcast.
template <size_t L>
struct Lanes;
template <>
struct Lanes<16> {
  typedef float V __attribute__((vector_size(64)));
};
template <>
struct Lanes<8> {
  typedef float V __attribute__((vector_size(32)));
};
template <>
struct Lanes<4> {
  typedef float V __attribute__((vector_size(16)));
};
template <typename V>
NEONN_ALWAYS_INLINE V load_as(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename V>
NEONN_ALWAYS_INLINE V splat(float f) {
  V v;
  for (size_t l = 0; l < sizeof v / sizeof f; ++l) v[l] = f;
  return v;
}

// The depthwise conv's channels [c0, c0 + L) of one output row (input rows `rows`, null outside the input): the
// nine weights in registers; eight output pixels at a time where every tap is inside the input (eight independent
// sums, so that the multiply-adds do not wait on each other), one at a time at the edges.
template <size_t L>
NEONN_ALWAYS_INLINE void dw_lanes(const DwConvNhwc& p, const float* const* rows, float* out_row, size_t c0, size_t ox0, size_t ox1,
                                  size_t xa, size_t xb) {
  typedef typename Lanes<L>::V V;
  const size_t ch = p.channels, s = p.stride;
  const ptrdiff_t in_w = static_cast<ptrdiff_t>(p.in_w);
  const V lo = splat<V>(p.lo), hi = splat<V>(p.hi);
  // Weights and bias: channel c0 sits at lane c0 % 16 of its block of 16.
  const float* wb = p.w.data() + (c0 / kLanes * 9) * kLanes + c0 % kLanes;
  V w[9];
  for (size_t t = 0; t < 9; ++t) w[t] = load_as<V>(wb + t * kLanes);
  const V bias = load_as<V>(p.bias.data() + c0);
  auto put = [&](size_t ox, V v) {
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    std::memcpy(out_row + ox * p.y_stride + c0, &v, sizeof v);
  };
  // One pixel, any column (the taps outside the input skipped).
  auto one = [&](size_t ox) {
    V acc = bias;
    const ptrdiff_t ix0 = static_cast<ptrdiff_t>(ox * s) - static_cast<ptrdiff_t>(p.pad_left);
    for (size_t ky = 0; ky < 3; ++ky) {
      if (rows[ky] == nullptr) continue;
      for (ptrdiff_t kx = 0; kx < 3; ++kx) {
        const ptrdiff_t ix = ix0 + kx;
        if (ix >= 0 && ix < in_w) acc += load_as<V>(rows[ky] + static_cast<size_t>(ix) * ch + c0) * w[ky * 3 + static_cast<size_t>(kx)];
      }
    }
    put(ox, acc);
  };
  // Columns [xa, xb): the edges one at a time, the inside eight at a time.
  size_t ox = xa;
  for (; ox < std::min(ox0, xb); ++ox) one(ox);
  for (; ox + 8 <= std::min(ox1, xb); ox += 8) {
    V acc[8];
    for (size_t j = 0; j < 8; ++j) acc[j] = bias;
    const size_t ix0 = ox * s - p.pad_left;
    for (size_t ky = 0; ky < 3; ++ky) {
      if (rows[ky] == nullptr) continue;
      // The row's input pixels, each loaded once for the taps that read it (10 at stride 1, 17 at stride 2).
      const float* q = rows[ky] + ix0 * ch + c0;
      if (s == 1) {
        V in[10];
        for (size_t i = 0; i < 10; ++i) in[i] = load_as<V>(q + i * ch);
        for (size_t kx = 0; kx < 3; ++kx) {
          for (size_t j = 0; j < 8; ++j) acc[j] += in[j + kx] * w[ky * 3 + kx];
        }
      } else {
        V in[17];
        for (size_t i = 0; i < 17; ++i) in[i] = load_as<V>(q + i * ch);
        for (size_t kx = 0; kx < 3; ++kx) {
          for (size_t j = 0; j < 8; ++j) acc[j] += in[2 * j + kx] * w[ky * 3 + kx];
        }
      }
    }
    for (size_t j = 0; j < 8; ++j) put(ox + j, acc[j]);
  }
  for (; ox < xb; ++ox) one(ox);
}

constexpr size_t kDwTileBytes = 24 * 1024;  // input a column tile of a depthwise conv's row reads (half of L1)

// The depthwise 3x3 conv's output rows [begin, end) (row r: image r / out_h, row r % out_h): blocks of 16 channels,
// then one of 8 and one of 4 for what is left, then single channels.
NEONN_ALWAYS_INLINE void dw_rows_impl(const DwConvNhwc& p, const float* x, float* y, size_t begin, size_t end) {
  const size_t ch = p.channels, s = p.stride;
  const ptrdiff_t in_w = static_cast<ptrdiff_t>(p.in_w);
  // Output columns [ox0, ox1) read columns inside the input only.
  const size_t ox0 = std::min(p.out_w, (p.pad_left + s - 1) / s);
  size_t ox1 = ox0;
  while (ox1 < p.out_w && static_cast<ptrdiff_t>(ox1 * s) - static_cast<ptrdiff_t>(p.pad_left) + 2 < in_w) ++ox1;
  for (size_t r = begin; r < end; ++r) {
    const size_t b = r / p.out_h, oy = r % p.out_h;
    const float* image = x + b * p.in_h * p.in_w * ch;
    const float* rows[3];
    for (size_t ky = 0; ky < 3; ++ky) {
      const ptrdiff_t iy = static_cast<ptrdiff_t>(oy * s + ky) - static_cast<ptrdiff_t>(p.pad_top);
      rows[ky] = iy >= 0 && iy < static_cast<ptrdiff_t>(p.in_h) ? image + static_cast<size_t>(iy) * p.in_w * ch : nullptr;
    }
    float* out_row = y + r * p.out_w * p.y_stride;
    // Columns in tiles whose three input rows (all channels) stay in L1 while each block of channels passes over them
    // (64 channels of an 80-pixel row are 60 KB over three rows: they ran at 0.6x the speed of narrower rows); the
    // first tile takes the left edge as well, so that the others start on a step of eight.
    const size_t tile = std::max<size_t>(8, kDwTileBytes / (3 * ch * s * sizeof(float)) / 8 * 8);
    size_t c0 = 0;
    for (size_t xa = 0, xb = 0; xa < p.out_w; xa = xb) {
      xb = std::min(p.out_w, (xa == 0 ? ox0 : xa) + tile);
      for (c0 = 0; c0 + 16 <= ch; c0 += 16) dw_lanes<16>(p, rows, out_row, c0, ox0, ox1, xa, xb);
      if (c0 + 8 <= ch) dw_lanes<8>(p, rows, out_row, c0, ox0, ox1, xa, xb), c0 += 8;
      if (c0 + 4 <= ch) dw_lanes<4>(p, rows, out_row, c0, ox0, ox1, xa, xb), c0 += 4;
    }
    // The last channels, one at a time.
    for (size_t c = c0; c < ch; ++c) {
      const float* wc = p.w.data() + (c / kLanes * 9) * kLanes + c % kLanes;
      for (size_t ox = 0; ox < p.out_w; ++ox) {
        float acc = p.bias[c];
        const ptrdiff_t ix0 = static_cast<ptrdiff_t>(ox * s) - static_cast<ptrdiff_t>(p.pad_left);
        for (size_t ky = 0; ky < 3; ++ky) {
          if (rows[ky] == nullptr) continue;
          for (ptrdiff_t kx = 0; kx < 3; ++kx) {
            const ptrdiff_t ix = ix0 + kx;
            if (ix >= 0 && ix < in_w) acc += rows[ky][static_cast<size_t>(ix) * ch + c] * wc[(ky * 3 + static_cast<size_t>(kx)) * kLanes];
          }
        }
        out_row[ox * p.y_stride + c] = std::min(std::max(acc, p.lo), p.hi);
      }
    }
  }
}

// The narrow conv's output rows [begin, end): per output pixel one vector of its (up to 16) channels; eight pixels at
// a time where every tap's column is inside the input, one at a time at the edges. kNchw: x is the region's NCHW
// entry itself (the conv reads it where it lies: no transpose in).
template <bool kNchw>
NEONN_ALWAYS_INLINE void narrow_rows_impl(const NarrowConvNhwc& p, const float* x, float* y, size_t begin, size_t end) {
  const size_t cin = p.c_in, sw = p.stride_w, kw = p.k_w;
  // Floats from one input pixel to the next in a row, from one channel to the next, from one row to the next.
  const size_t pix = kNchw ? 1 : cin, chan = kNchw ? p.in_h * p.in_w : 1, row_floats = kNchw ? p.in_w : p.in_w * cin;
  const ptrdiff_t in_w = static_cast<ptrdiff_t>(p.in_w);
  Vec lo, hi;
  for (size_t l = 0; l < kLanes; ++l) lo[l] = p.lo, hi[l] = p.hi;
  const Vec bias = load(p.bias.data());
  const size_t out_bytes = p.c_out * sizeof(float);
  // Output columns [ox0, ox1) read columns inside the input only.
  const size_t ox0 = std::min(p.out_w, (p.pad_left + sw - 1) / sw);
  size_t ox1 = ox0;
  while (ox1 < p.out_w && static_cast<ptrdiff_t>(ox1 * sw + kw) - static_cast<ptrdiff_t>(p.pad_left) <= in_w) ++ox1;
  auto store = [&](float* o, Vec v) {
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    if (p.c_out == kLanes) {
      std::memcpy(o, &v, sizeof v);
    } else {
      std::memcpy(o, &v, out_bytes);
    }
  };
  for (size_t r = begin; r < end; ++r) {
    const size_t b = r / p.out_h, oy = r % p.out_h;
    const float* image = x + b * p.in_h * p.in_w * cin;
    float* out_row = y + r * p.out_w * p.y_stride;
    // The kernel's rows inside the input.
    const ptrdiff_t top = static_cast<ptrdiff_t>(oy * p.stride_h) - static_cast<ptrdiff_t>(p.pad_top);
    const size_t ky0 = static_cast<size_t>(std::max<ptrdiff_t>(0, -top));
    const size_t ky1 = static_cast<size_t>(std::max<ptrdiff_t>(0, std::min<ptrdiff_t>(static_cast<ptrdiff_t>(p.k_h), static_cast<ptrdiff_t>(p.in_h) - top)));
    auto one = [&](size_t ox) {
      Vec acc = bias;
      const ptrdiff_t left = static_cast<ptrdiff_t>(ox * sw) - static_cast<ptrdiff_t>(p.pad_left);
      for (size_t ky = ky0; ky < ky1; ++ky) {
        const float* row = image + static_cast<size_t>(top + static_cast<ptrdiff_t>(ky)) * row_floats;
        for (size_t kx = 0; kx < kw; ++kx) {
          const ptrdiff_t ix = left + static_cast<ptrdiff_t>(kx);
          if (ix < 0 || ix >= in_w) continue;
          const float* px = row + static_cast<size_t>(ix) * pix;
          const float* wk = p.w.data() + (ky * kw + kx) * cin * kLanes;
          for (size_t ci = 0; ci < cin; ++ci) acc += load(wk + ci * kLanes) * px[ci * chan];
        }
      }
      store(out_row + ox * p.y_stride, acc);
    };
    size_t ox = 0;
    for (; ox < ox0; ++ox) one(ox);
    for (; ox + 8 <= ox1; ox += 8) {
      Vec acc[8];
      for (size_t j = 0; j < 8; ++j) acc[j] = bias;
      const size_t left = ox * sw - p.pad_left;
      for (size_t ky = ky0; ky < ky1; ++ky) {
        const float* row = image + static_cast<size_t>(top + static_cast<ptrdiff_t>(ky)) * row_floats + left * pix;
        for (size_t kx = 0; kx < kw; ++kx) {
          const float* px = row + kx * pix;
          const float* wk = p.w.data() + (ky * kw + kx) * cin * kLanes;
          for (size_t ci = 0; ci < cin; ++ci) {
            const Vec wv = load(wk + ci * kLanes);
            for (size_t j = 0; j < 8; ++j) acc[j] += wv * px[j * sw * pix + ci * chan];
          }
        }
      }
      for (size_t j = 0; j < 8; ++j) store(out_row + (ox + j) * p.y_stride, acc[j]);
    }
    for (; ox < p.out_w; ++ox) one(ox);
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NEONN_NHWC_AVX512 1
// The depthwise and narrow kernels are compiled for AVX-512 with FMA only, and used where the CPU has both.
bool avx512_fma() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  return yes;
}
__attribute__((target("avx512f,fma"))) void dw_rows_avx512(const DwConvNhwc& p, const float* x, float* y, size_t begin, size_t end) {
  dw_rows_impl(p, x, y, begin, end);
}
__attribute__((target("avx512f,fma"))) void narrow_rows_avx512(const NarrowConvNhwc& p, const float* x, float* y, size_t begin, size_t end) {
  narrow_rows_impl<false>(p, x, y, begin, end);
}
__attribute__((target("avx512f,fma"))) void narrow_rows_nchw_avx512(const NarrowConvNhwc& p, const float* x, float* y, size_t begin,
                                                                    size_t end) {
  narrow_rows_impl<true>(p, x, y, begin, end);
}

// The int8 depthwise conv: AVX-512 with byte and word ops (BW), 256-bit masked forms (VL) and DQ; with VNNI, its
// multiply-adds in one instruction each.
bool avx512_bw() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return yes;
}
bool avx512_vnni() {
  static const bool yes = avx512_bw() && __builtin_cpu_supports("avx512vnni");
  return yes;
}
namespace qdw_bw {
#define NEONN_QDW_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#define NEONN_QDW_MAC(acc, x, w) _mm512_add_epi32(acc, _mm512_madd_epi16(x, w))
#include "xnnpack_qdw.inc"
#undef NEONN_QDW_TARGET
#undef NEONN_QDW_MAC
}  // namespace qdw_bw
namespace qdw_vnni {
#define NEONN_QDW_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define NEONN_QDW_MAC(acc, x, w) _mm512_dpwssd_epi32(acc, x, w)
#include "xnnpack_qdw.inc"
#undef NEONN_QDW_TARGET
#undef NEONN_QDW_MAC
}  // namespace qdw_vnni
#else
#define NEONN_NHWC_AVX512 0
#endif

// 1 when one of x[0, n) has every exponent bit set (NaN or infinite).
NEONN_NHWC_CLONES uint32_t any_non_finite(const float* x, size_t n) {
  uint32_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    bad |= (~bits & 0x7f800000u) == 0 ? 1u : 0u;
  }
  return bad;
}

}  // namespace

bool all_finite(const float* x, size_t n) {
  std::atomic<uint32_t> bad{0};
  parallel_for(n, parallel_grain(1), [&](size_t begin, size_t end) {
    if (any_non_finite(x + begin, end - begin) != 0) bad.store(1, std::memory_order_relaxed);
  });
  return bad.load() == 0;
}

bool max_pool_nhwc_fits(const MaxPoolNhwc& p) {
  if (p.n == 0 || p.channels == 0 || p.out_h == 0 || p.out_w == 0 || p.k_h == 0 || p.k_w == 0 || p.stride_h == 0 ||
      p.stride_w == 0 || p.y_stride < p.channels || p.pad_top >= p.k_h || p.pad_left >= p.k_w) {
    return false;
  }
  // The last window of each axis starts inside the input.
  return (p.out_h - 1) * p.stride_h < p.in_h + p.pad_top && (p.out_w - 1) * p.stride_w < p.in_w + p.pad_left;
}

void max_pool_nhwc(const MaxPoolNhwc& p, const float* x, float* y) {
  parallel_for(p.n * p.out_h, parallel_grain(p.out_w * p.channels * p.k_h * p.k_w),
               [&](size_t begin, size_t end) { max_pool_rows(p, x, y, begin, end); });
}

std::unique_ptr<DwConvNhwc> make_dw_conv_nhwc(const Conv2dCall& c, float lo, float hi, size_t y_stride) {
  if (c.group != c.c_in || c.c_out != c.c_in || c.k_h != 3 || c.k_w != 3 || c.dilation_h != 1 || c.dilation_w != 1 ||
      c.stride_h != c.stride_w || (c.stride_h != 1 && c.stride_h != 2) || c.pad_top > 2 || c.pad_left > 2 || c.n <= 0 ||
      c.c_in <= 0 || c.out_h <= 0 || c.out_w <= 0 || y_stride < static_cast<size_t>(c.c_out) || c.w.data == nullptr ||
      c.w.size != static_cast<size_t>(c.c_out) * 9 || (c.bias.data != nullptr && c.bias.size != static_cast<size_t>(c.c_out))) {
    return nullptr;
  }
  auto p = std::make_unique<DwConvNhwc>();
#if NEONN_NHWC_AVX512
  if (avx512_fma()) p->rows = dw_rows_avx512;
#endif
  if (p->rows == nullptr) return nullptr;
  p->n = static_cast<size_t>(c.n), p->in_h = static_cast<size_t>(c.in_h), p->in_w = static_cast<size_t>(c.in_w);
  p->channels = static_cast<size_t>(c.c_in), p->out_h = static_cast<size_t>(c.out_h), p->out_w = static_cast<size_t>(c.out_w);
  p->stride = static_cast<size_t>(c.stride_h), p->pad_top = static_cast<size_t>(c.pad_top), p->pad_left = static_cast<size_t>(c.pad_left);
  p->y_stride = y_stride, p->lo = lo, p->hi = hi;
  const size_t ch = p->channels, blocks = (ch + kLanes - 1) / kLanes;
  p->w.assign(blocks * 9 * kLanes, 0.0f);
  p->bias.assign(blocks * kLanes, 0.0f);
  for (size_t k = 0; k < ch; ++k) {
    for (size_t t = 0; t < 9; ++t) p->w[(k / kLanes * 9 + t) * kLanes + k % kLanes] = c.w.data[k * 9 + t];
    if (c.bias.data != nullptr) p->bias[k] = c.bias.data[k];
  }
  return p;
}

void dw_conv_nhwc(const DwConvNhwc& p, const float* x, float* y) {
  parallel_for(p.n * p.out_h, parallel_grain(p.out_w * p.channels * 9), [&](size_t begin, size_t end) { p.rows(p, x, y, begin, end); });
}

ConvGeometry ConvGeometry::of(const Conv2dCall& c) {
  ConvGeometry g;
  g.n = static_cast<size_t>(c.n), g.in_h = static_cast<size_t>(c.in_h), g.in_w = static_cast<size_t>(c.in_w);
  g.c_in = static_cast<size_t>(c.c_in), g.c_out = static_cast<size_t>(c.c_out);
  g.out_h = static_cast<size_t>(c.out_h), g.out_w = static_cast<size_t>(c.out_w);
  g.k_h = static_cast<size_t>(c.k_h), g.k_w = static_cast<size_t>(c.k_w);
  g.stride_h = static_cast<size_t>(c.stride_h), g.stride_w = static_cast<size_t>(c.stride_w);
  g.dilation_h = static_cast<size_t>(c.dilation_h), g.dilation_w = static_cast<size_t>(c.dilation_w);
  g.pad_top = static_cast<size_t>(c.pad_top), g.pad_left = static_cast<size_t>(c.pad_left);
  return g;
}

std::unique_ptr<NarrowConvNhwc> make_narrow_conv_nhwc(const Conv2dCall& c, float lo, float hi, size_t y_stride) {
  if (c.group != 1 || c.c_out <= 0 || c.c_out > static_cast<int64_t>(kLanes) || c.c_in <= 0 || c.dilation_h != 1 ||
      c.dilation_w != 1 || c.k_h <= 0 || c.k_w <= 0 || c.stride_h <= 0 || c.stride_w <= 0 || c.pad_top < 0 || c.pad_left < 0 ||
      c.n <= 0 || c.out_h <= 0 || c.out_w <= 0 || y_stride < static_cast<size_t>(c.c_out) || c.w.data == nullptr ||
      c.w.size != static_cast<size_t>(c.c_out * c.c_in * c.k_h * c.k_w) ||
      (c.bias.data != nullptr && c.bias.size != static_cast<size_t>(c.c_out))) {
    return nullptr;
  }
  auto p = std::make_unique<NarrowConvNhwc>();
#if NEONN_NHWC_AVX512
  if (avx512_fma()) p->rows = narrow_rows_avx512;
#endif
  if (p->rows == nullptr) return nullptr;
  static_cast<ConvGeometry&>(*p) = ConvGeometry::of(c);
  p->y_stride = y_stride, p->lo = lo, p->hi = hi;
  const size_t taps = p->k_h * p->k_w, cin = p->c_in;
  p->w.assign(taps * cin * kLanes, 0.0f);
  p->bias.assign(kLanes, 0.0f);
  // ONNX's [Cout][Cin][kH][kW] -> [kH][kW][Cin][16].
  for (size_t co = 0; co < p->c_out; ++co) {
    for (size_t ci = 0; ci < cin; ++ci) {
      for (size_t t = 0; t < taps; ++t) p->w[(t * cin + ci) * kLanes + co] = c.w.data[(co * cin + ci) * taps + t];
    }
    if (c.bias.data != nullptr) p->bias[co] = c.bias.data[co];
  }
  return p;
}

bool narrow_conv_read_nchw(NarrowConvNhwc& p) {
#if NEONN_NHWC_AVX512
  if (p.rows == narrow_rows_avx512) {
    p.rows = narrow_rows_nchw_avx512;
    return true;
  }
#else
  (void)p;
#endif
  return false;
}

void narrow_conv_nhwc(const NarrowConvNhwc& p, const float* x, float* y) {
  parallel_for(p.n * p.out_h, parallel_grain(p.out_w * p.c_in * p.k_h * p.k_w * kLanes),
               [&](size_t begin, size_t end) { p.rows(p, x, y, begin, end); });
}

std::unique_ptr<QDwConvNhwc> make_qdw_conv_nhwc(const QuantConv& c, int32_t x_zp, float x_scale, int32_t y_zp, float y_scale) {
  if (c.group != c.c_in || c.c_out != c.c_in || c.k_h != 3 || c.k_w != 3 || c.dilation_h != 1 || c.dilation_w != 1 ||
      c.stride_h != c.stride_w || (c.stride_h != 1 && c.stride_h != 2) || c.pad_top < 0 || c.pad_left < 0 || c.pad_top > 2 ||
      c.pad_left > 2 || c.n <= 0 || c.c_in <= 0 || c.in_h <= 0 || c.in_w <= 0 || c.out_h <= 0 || c.out_w <= 0 ||
      c.w.size() != static_cast<size_t>(c.c_out) * 9 || (c.w_scale.size() != 1 && c.w_scale.size() != static_cast<size_t>(c.c_out)) ||
      (!c.bias.empty() && c.bias.size() != static_cast<size_t>(c.c_out)) || x_zp < -128 || x_zp > 127 || y_zp < -128 || y_zp > 127) {
    return nullptr;
  }
  // Every output pixel's window starts inside the input's padded extent (as XNNPACK's output size has it).
  if ((c.out_h - 1) * c.stride_h > c.in_h + c.pad_top + c.pad_bottom - 3 || (c.out_w - 1) * c.stride_w > c.in_w + c.pad_left + c.pad_right - 3) {
    return nullptr;
  }
  auto p = std::make_unique<QDwConvNhwc>();
#if NEONN_NHWC_AVX512
  if (avx512_vnni()) {
    p->rows = c.stride_h == 1 ? qdw_vnni::qdw_rows<1> : qdw_vnni::qdw_rows<2>;
  } else if (avx512_bw()) {
    p->rows = c.stride_h == 1 ? qdw_bw::qdw_rows<1> : qdw_bw::qdw_rows<2>;
  }
#endif
  if (p->rows == nullptr) return nullptr;
  p->n = static_cast<size_t>(c.n), p->in_h = static_cast<size_t>(c.in_h), p->in_w = static_cast<size_t>(c.in_w);
  p->channels = static_cast<size_t>(c.c_in), p->out_h = static_cast<size_t>(c.out_h), p->out_w = static_cast<size_t>(c.out_w);
  p->stride = static_cast<size_t>(c.stride_h), p->pad_top = static_cast<size_t>(c.pad_top), p->pad_left = static_cast<size_t>(c.pad_left);
  p->x_zp = x_zp, p->y_zp = y_zp;
  const size_t ch = p->channels, blocks = (ch + 31) / 32;
  p->w.assign(blocks * 9 * 32, 0);
  p->bias.assign(blocks * 32, 0);
  p->scale.assign(blocks * 32, 0.0f);
  for (size_t k = 0; k < ch; ++k) {
    for (size_t t = 0; t < 9; ++t) p->w[(k / 32 * 9 + t) * 32 + k % 32] = c.w[k * 9 + t];
    // Even channels at lanes [0, 16) of the block, odd ones at [16, 32).
    const size_t at = k / 32 * 32 + (k % 2) * 16 + (k % 32) / 2;
    if (!qs8_channel(c, k, 9, x_zp, x_scale, y_scale, &p->scale[at], &p->bias[at])) return nullptr;
  }
  return p;
}

bool qs8_channel(const QuantConv& c, size_t o, size_t per, int32_t x_zp, float x_scale, float y_scale, float* multiplier, int32_t* bias) {
  *multiplier = x_scale * c.w_scale[c.w_scale.size() == 1 ? 0 : o] / y_scale;
  if (!(*multiplier < 256.0f)) return false;
  uint32_t sum = 0;
  for (size_t i = 0; i < per; ++i) sum += static_cast<uint32_t>(static_cast<int32_t>(c.w[o * per + i]));
  *bias = static_cast<int32_t>(static_cast<uint32_t>(c.bias.empty() ? 0 : c.bias[o]) - static_cast<uint32_t>(x_zp) * sum);
  return true;
}

}  // namespace xnn
}  // namespace neonn
