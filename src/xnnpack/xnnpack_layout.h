// NCHW <-> NHWC for the XNNPACK backend: neonn's activations are NCHW,
// XNNPACK's conv and pooling operators take NHWC, so a layer run alone
// transposes its input in and its output back, and an NHWC region (a run of
// layers kept in NHWC, model/region.h) its inputs and outputs. The passes
// also report whether any value was NaN or infinite, which the backend needs
// to keep neonn's NaN semantics (see xnnpack_backend.cc).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace neonn {
namespace xnn {

/// 1 when v is NaN or ±Infinity (all exponent bits set), else 0; branch-free.
inline uint32_t non_finite(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return (~bits & 0x7f800000u) == 0 ? 1u : 0u;
}

/// Source rows per unit of parallel work in transpose_rows.
constexpr size_t kTransposeBlockRows = 64;

/// Columns per unit of parallel work when a transpose interleaves a few rows (interleave_columns).
constexpr size_t kInterleaveColumns = size_t{1} << 13;

/// dst[j][r] = f(src[r][j]) for all R rows of src and columns [j0, j1): an image's few channels (NCHW -> NHWC of a
/// 3-channel input) interleaved in one pass, where the square tiles below would make three-element columns. Four
/// columns at a time in SSE registers (x86-64) without ReLU.
template <size_t R, bool relu>
uint32_t interleave_rows(const float* __restrict src, float* __restrict dst, size_t cols, size_t j0, size_t j1) {
  // The check reads src in order (it vectorizes); the copy then has no dependency through `bad`.
  uint32_t bad = 0;
  for (size_t r = 0; r < R; ++r) {
    for (size_t j = j0; j < j1; ++j) bad |= non_finite(src[r * cols + j]);
  }
  size_t j = j0;
#if defined(__SSE2__)
  if (!relu && R >= 2) {
    for (; j + 4 <= j1; j += 4) {
      const __m128 a = _mm_loadu_ps(src + j), b = _mm_loadu_ps(src + cols + j);
      float* d = dst + j * R;
      if (R == 2) {
        _mm_storeu_ps(d, _mm_unpacklo_ps(a, b));      // a0 b0 a1 b1
        _mm_storeu_ps(d + 4, _mm_unpackhi_ps(a, b));  // a2 b2 a3 b3
      } else if (R == 3) {
        const __m128 c = _mm_loadu_ps(src + 2 * cols + j);
        const __m128 lo = _mm_unpacklo_ps(a, b), hi = _mm_unpackhi_ps(a, b);  // a0 b0 a1 b1, a2 b2 a3 b3
        const __m128 x = _mm_shuffle_ps(c, lo, _MM_SHUFFLE(2, 2, 0, 0));       // c0 c0 a1 a1
        const __m128 y = _mm_shuffle_ps(lo, c, _MM_SHUFFLE(1, 1, 3, 3));       // b1 b1 c1 c1
        const __m128 z = _mm_shuffle_ps(c, hi, _MM_SHUFFLE(3, 2, 3, 2));       // c2 c3 a3 b3
        _mm_storeu_ps(d, _mm_shuffle_ps(lo, x, _MM_SHUFFLE(2, 0, 1, 0)));      // a0 b0 c0 a1
        _mm_storeu_ps(d + 4, _mm_shuffle_ps(y, hi, _MM_SHUFFLE(1, 0, 2, 0)));  // b1 c1 a2 b2
        _mm_storeu_ps(d + 8, _mm_shuffle_ps(z, z, _MM_SHUFFLE(1, 3, 2, 0)));   // c2 a3 b3 c3
      } else {
        __m128 r0 = a, r1 = b, r2 = _mm_loadu_ps(src + 2 * cols + j), r3 = _mm_loadu_ps(src + 3 * cols + j);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_storeu_ps(d, r0);
        _mm_storeu_ps(d + 4, r1);
        _mm_storeu_ps(d + 8, r2);
        _mm_storeu_ps(d + 12, r3);
      }
    }
  }
#endif
  for (; j < j1; ++j) {
    float* d = dst + j * R;
    for (size_t r = 0; r < R; ++r) {
      const float v = src[r * cols + j];
      d[r] = relu ? (v < 0.0f ? 0.0f : v) : v;
    }
  }
  return bad;
}

/// transpose_rows' work for 2-4 rows, over columns [j0, j1) (the unit of parallel work there).
template <bool relu>
uint32_t interleave_columns(const float* src, float* dst, size_t rows, size_t cols, size_t j0, size_t j1) {
  switch (rows) {
    case 2: return interleave_rows<2, relu>(src, dst, cols, j0, j1);
    case 3: return interleave_rows<3, relu>(src, dst, cols, j0, j1);
    default: return interleave_rows<4, relu>(src, dst, cols, j0, j1);
  }
}

#if defined(__SSE2__)
/// One full 16 x 16 tile of transpose_rows without ReLU, as 4 x 4 blocks in SSE registers; 1 when any value read
/// is NaN or infinite (all exponent bits set), as non_finite.
inline uint32_t transpose_tile16(const float* src, float* dst, size_t rows, size_t cols, size_t i0, size_t j0) {
  const __m128i exponent = _mm_set1_epi32(0x7f800000);
  __m128i seen = _mm_setzero_si128();
  for (size_t i = i0; i < i0 + 16; i += 4) {
    for (size_t j = j0; j < j0 + 16; j += 4) {
      __m128 r0 = _mm_loadu_ps(src + (i + 0) * cols + j);
      __m128 r1 = _mm_loadu_ps(src + (i + 1) * cols + j);
      __m128 r2 = _mm_loadu_ps(src + (i + 2) * cols + j);
      __m128 r3 = _mm_loadu_ps(src + (i + 3) * cols + j);
      for (__m128 r : {r0, r1, r2, r3}) {
        const __m128i e = _mm_and_si128(_mm_castps_si128(r), exponent);
        seen = _mm_or_si128(seen, _mm_cmpeq_epi32(e, exponent));
      }
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      _mm_storeu_ps(dst + (j + 0) * rows + i, r0);
      _mm_storeu_ps(dst + (j + 1) * rows + i, r1);
      _mm_storeu_ps(dst + (j + 2) * rows + i, r2);
      _mm_storeu_ps(dst + (j + 3) * rows + i, r3);
    }
  }
  return _mm_movemask_epi8(seen) != 0 ? 1u : 0u;
}
#endif

/// Rows [i0, i1) of dst[j][i] = f(src[i][j]) for a rows x cols row-major src;
/// f is the identity, or ReLU with `relu` (NaN kept, as the reference
/// backend's). Square tiles keep both sides in cache. Returns 1 when any
/// value read is NaN or infinite, else 0.
template <bool relu>
uint32_t transpose_rows(const float* src, float* dst, size_t rows, size_t cols, size_t i0, size_t i1) {
  uint32_t bad = 0;
  auto apply = [&bad](float v) {
    bad |= non_finite(v);
    return relu ? (v < 0.0f ? 0.0f : v) : v;
  };
  if (cols == 1 || rows == 1) {  // a vector: the same layout both ways
    const size_t begin = i0 * cols, end = i1 * cols;
    for (size_t k = begin; k < end; ++k) dst[k] = apply(src[k]);
    return bad;
  }
  if (i0 == 0 && i1 == rows && rows <= 4) return interleave_columns<relu>(src, dst, rows, cols, 0, cols);
  constexpr size_t kTile = 16;
  for (size_t t0 = i0; t0 < i1; t0 += kTile) {
    const size_t t1 = std::min(i1, t0 + kTile);
    for (size_t j0 = 0; j0 < cols; j0 += kTile) {
      const size_t j1 = std::min(cols, j0 + kTile);
#if defined(__SSE2__)
      if (!relu && t1 - t0 == kTile && j1 - j0 == kTile) {
        bad |= transpose_tile16(src, dst, rows, cols, t0, j0);
        continue;
      }
#endif
      for (size_t j = j0; j < j1; ++j) {
        float* d = dst + j * rows;
        const float* s = src + j;
        for (size_t i = t0; i < t1; ++i) d[i] = apply(s[i * cols]);
      }
    }
  }
  return bad;
}

}  // namespace xnn
}  // namespace neonn
