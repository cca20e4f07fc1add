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

/// dst[j][r] = f(src[r][j]) for all R rows of src at once: an image's few channels (NCHW -> NHWC of a 3-channel
/// input) interleaved in one pass, where the square tiles below would make three-element columns.
template <size_t R, bool relu>
uint32_t interleave_rows(const float* __restrict src, float* __restrict dst, size_t cols) {
  // The check reads src in order (it vectorizes); the copy then has no dependency through `bad`.
  uint32_t bad = 0;
  for (size_t k = 0; k < R * cols; ++k) bad |= non_finite(src[k]);
  for (size_t j = 0; j < cols; ++j) {
    float* d = dst + j * R;
    for (size_t r = 0; r < R; ++r) {
      const float v = src[r * cols + j];
      d[r] = relu ? (v < 0.0f ? 0.0f : v) : v;
    }
  }
  return bad;
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
  if (i0 == 0 && i1 == rows) {
    switch (rows) {
      case 2: return interleave_rows<2, relu>(src, dst, cols);
      case 3: return interleave_rows<3, relu>(src, dst, cols);
      case 4: return interleave_rows<4, relu>(src, dst, cols);
      default: break;
    }
  }
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
