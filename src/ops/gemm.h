// nn.gemm: Y[M,N] = alpha * op(A) * op(B) + beta * C, C broadcast to [M,N]
// (ONNX Gemm semantics). Shapes come from the caller; run_gemm re-checks every
// size it relies on before touching memory.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../backend.h"
#include "../span.h"

namespace neonn {

struct GemmParams {
  int64_t a_rows = 0, a_cols = 0;  ///< shape of `a` before transposition
  int64_t b_rows = 0, b_cols = 0;  ///< shape of `b` before transposition
  bool trans_a = false, trans_b = false;
  float alpha = 1.0f, beta = 1.0f;
  bool has_c = false;
  int64_t c_rows = 1, c_cols = 1;  ///< c as 2-D: rows in {1, M}, cols in {1, N}
};

struct GemmBuffers {
  FloatSpan a, b, c;  ///< c.data == nullptr when there is no c
  MutableFloatSpan y;
};

struct GemmCall {
  GemmParams params;
  GemmBuffers buffers;
};

class ArgList;

/// Throws neonn::Error (RangeError kind) on any inconsistency.
void check_gemm(const GemmParams& p, const GemmBuffers& buf);

/// Arguments, positional (the binding passes them so, without property lookups):
/// (a, b, c | null, out, aRows, aCols, bRows, bCols, cRows, cCols, flags, alpha, beta)
/// flags: bit 0 transA, bit 1 transB. Decoding checks everything.
GemmCall decode_gemm(const ArgList& args);

/// Runs on `backend` (resolved for Op::kGemm by the caller). Checks first.
void run_gemm(const Backend& backend, const GemmCall& call);

}  // namespace neonn
