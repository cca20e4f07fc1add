// nn.gemm: Y[M,N] = alpha * op(A) * op(B) + beta * C, C broadcast to [M,N]
// (ONNX Gemm semantics). Shapes come from the caller; run_gemm re-checks every
// size it relies on before touching memory.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../backend.h"

namespace neonn {

struct GemmParams {
  int64_t a_rows = 0, a_cols = 0;  ///< shape of `a` before transposition
  int64_t b_rows = 0, b_cols = 0;  ///< shape of `b` before transposition
  bool trans_a = false, trans_b = false;
  float alpha = 1.0f, beta = 1.0f;
  bool has_c = false;
  int64_t c_rows = 1, c_cols = 1;  ///< c as 2-D: rows in {1, M}, cols in {1, N}
};

/// Raw float buffers with their element counts (as read from the typed arrays).
struct FloatSpan {
  const float* data = nullptr;
  size_t size = 0;
};
struct MutableFloatSpan {
  float* data = nullptr;
  size_t size = 0;
};

struct GemmBuffers {
  FloatSpan a, b, c;  ///< c.data == nullptr when there is no c
  MutableFloatSpan y;
};

/// Throws neonn::Error (RangeError kind) on any inconsistency.
void check_gemm(const GemmParams& p, const GemmBuffers& buf);

/// Runs on `backend` (resolved for Op::kGemm by the caller). Checks first.
void run_gemm(const Backend& backend, const GemmParams& p, const GemmBuffers& buf);

}  // namespace neonn
