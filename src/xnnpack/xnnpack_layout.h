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
  constexpr size_t kTile = 16;
  for (size_t t0 = i0; t0 < i1; t0 += kTile) {
    const size_t t1 = std::min(i1, t0 + kTile);
    for (size_t j0 = 0; j0 < cols; j0 += kTile) {
      const size_t j1 = std::min(cols, j0 + kTile);
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
