#include "gemm.h"

#include <algorithm>
#include <string>

#include "../args.h"
#include "../checked.h"
#include "../registry.h"
#include "../status.h"

namespace neonn {
namespace {

std::string shape2(int64_t r, int64_t c) {
  return "[" + std::to_string(r) + "," + std::to_string(c) + "]";
}

// True when [p, p+n) and [q, q+m) share any byte.
bool overlaps(const void* p, size_t n_bytes, const void* q, size_t m_bytes) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  const auto b = reinterpret_cast<uintptr_t>(q);
  return a < b + m_bytes && b < a + n_bytes;
}

}  // namespace

void check_gemm(const GemmParams& p, const GemmBuffers& buf) {
  const int m = blas_dim(p.trans_a ? p.a_cols : p.a_rows, "gemm: M");
  const int k = blas_dim(p.trans_a ? p.a_rows : p.a_cols, "gemm: K");
  const int kb = blas_dim(p.trans_b ? p.b_cols : p.b_rows, "gemm: K of b");
  const int n = blas_dim(p.trans_b ? p.b_rows : p.b_cols, "gemm: N");
  NEONN_THROW_RANGEERROR_IF(k != kb, "gemm: inner dimensions differ: a gives K=" +
                                         std::to_string(k) + ", b gives K=" + std::to_string(kb));
  NEONN_THROW_RANGEERROR_IF(
      static_cast<uint64_t>(checked_mul(p.a_rows, p.a_cols, "gemm: a")) != buf.a.size,
      "gemm: a has " + std::to_string(buf.a.size) + " elements, shape " +
          shape2(p.a_rows, p.a_cols) + " needs " + std::to_string(p.a_rows * p.a_cols));
  NEONN_THROW_RANGEERROR_IF(
      static_cast<uint64_t>(checked_mul(p.b_rows, p.b_cols, "gemm: b")) != buf.b.size,
      "gemm: b has " + std::to_string(buf.b.size) + " elements, shape " +
          shape2(p.b_rows, p.b_cols) + " needs " + std::to_string(p.b_rows * p.b_cols));
  const int64_t y_size = checked_mul(m, n, "gemm: out");
  NEONN_THROW_RANGEERROR_IF(static_cast<uint64_t>(y_size) != buf.y.size,
                            "gemm: out has " + std::to_string(buf.y.size) + " elements, expected " +
                                std::to_string(y_size) + " for " + shape2(m, n));
  NEONN_THROW_TYPEERROR_IF(buf.a.data == nullptr || buf.b.data == nullptr || buf.y.data == nullptr,
                           "gemm: a buffer is detached or null");
  if (p.has_c) {
    NEONN_THROW_TYPEERROR_IF(buf.c.data == nullptr, "gemm: c is detached or null");
    NEONN_THROW_RANGEERROR_IF((p.c_rows != 1 && p.c_rows != m) || (p.c_cols != 1 && p.c_cols != n),
                              "gemm: c of shape " + shape2(p.c_rows, p.c_cols) +
                                  " does not broadcast to " + shape2(m, n));
    NEONN_THROW_RANGEERROR_IF(static_cast<uint64_t>(p.c_rows * p.c_cols) != buf.c.size,
                              "gemm: c has " + std::to_string(buf.c.size) +
                                  " elements, shape " + shape2(p.c_rows, p.c_cols) + " needs " +
                                  std::to_string(p.c_rows * p.c_cols));
  }
  // The output may be c itself (in place), but no other overlap: BLAS would
  // read what it already overwrote.
  const size_t y_bytes = buf.y.size * sizeof(float);
  NEONN_THROW_RANGEERROR_IF(overlaps(buf.y.data, y_bytes, buf.a.data, buf.a.size * sizeof(float)),
                            "gemm: out overlaps a");
  NEONN_THROW_RANGEERROR_IF(overlaps(buf.y.data, y_bytes, buf.b.data, buf.b.size * sizeof(float)),
                            "gemm: out overlaps b");
  if (p.has_c && !(buf.c.data == buf.y.data && buf.c.size == buf.y.size)) {
    NEONN_THROW_RANGEERROR_IF(
        overlaps(buf.y.data, y_bytes, buf.c.data, buf.c.size * sizeof(float)),
        "gemm: out overlaps c (only out === c, same shape, is allowed)");
  }
}

GemmCall decode_gemm(const ArgList& args) {
  const char* op = "gemm";
  args.require_size(13, op);
  GemmCall call;
  GemmParams& p = call.params;
  call.buffers.a = args.input(0, op, "a");
  call.buffers.b = args.input(1, op, "b");
  p.has_c = !args.is_null(2);
  if (p.has_c) call.buffers.c = args.input(2, op, "c");
  call.buffers.y = args.span(3, op, "out");
  p.a_rows = args.integer(4, op, "a.shape[0]");
  p.a_cols = args.integer(5, op, "a.shape[1]");
  p.b_rows = args.integer(6, op, "b.shape[0]");
  p.b_cols = args.integer(7, op, "b.shape[1]");
  p.c_rows = args.integer(8, op, "c rows");
  p.c_cols = args.integer(9, op, "c cols");
  const int64_t flags = args.integer(10, op, "flags");
  p.trans_a = (flags & 1) != 0;
  p.trans_b = (flags & 2) != 0;
  p.alpha = static_cast<float>(args.number(11, op, "alpha"));
  p.beta = static_cast<float>(args.number(12, op, "beta"));
  check_gemm(p, call.buffers);
  return call;
}

void run_gemm(const Backend& backend, const GemmCall& call) {
  const GemmParams& p = call.params;
  const GemmBuffers& buf = call.buffers;
  check_gemm(p, buf);
  SgemmArgs s;
  s.trans_a = p.trans_a;
  s.trans_b = p.trans_b;
  s.m = static_cast<int>(p.trans_a ? p.a_cols : p.a_rows);
  s.k = static_cast<int>(p.trans_a ? p.a_rows : p.a_cols);
  s.n = static_cast<int>(p.trans_b ? p.b_rows : p.b_cols);
  s.alpha = p.alpha;
  s.a = buf.a.data;
  s.lda = static_cast<int>(p.a_cols);
  s.b = buf.b.data;
  s.ldb = static_cast<int>(p.b_cols);
  s.c = buf.y.data;
  s.ldc = s.n;
  s.beta = 0.0f;

  if (p.has_c && p.beta != 0.0f) {
    if (buf.c.data == buf.y.data) {
      s.beta = p.beta;  // full-shape c in place: BLAS scales it
    } else {
      // Broadcast beta * c into y, then accumulate onto it.
      const size_t n = static_cast<size_t>(s.n);
      for (int64_t i = 0; i < s.m; ++i) {
        float* row = buf.y.data + static_cast<size_t>(i) * n;
        const float* crow = buf.c.data + (p.c_rows == 1 ? 0 : static_cast<size_t>(i) * p.c_cols);
        if (p.c_cols == 1) {
          std::fill(row, row + n, p.beta * crow[0]);
        } else {
          for (size_t j = 0; j < n; ++j) row[j] = p.beta * crow[j];
        }
      }
      s.beta = 1.0f;
    }
  }
  if (s.m == 1 && !s.trans_a) {
    // One row of output: y = op(B)ᵀ·a is a matrix-vector product. A GEMV reads
    // B once where a 1-row GEMM packs (copies) it first: the fully connected
    // layers of a batch-1 CNN are exactly this, and memory-bound.
    SgemvArgs v;
    v.trans = !s.trans_b;  // y[n] = sum_k a[k] B[k][n] = (Bᵀ a)[n] when B is [K,N]
    v.m = s.trans_b ? s.n : s.k;
    v.n = s.trans_b ? s.k : s.n;
    v.alpha = s.alpha;
    v.a = s.b;
    v.lda = s.ldb;
    v.x = s.a;
    v.beta = s.beta;
    v.y = s.c;
    v.on_shared_pool = shares_pool_with_xnnpack(Registry::instance().active());
    backend.sgemv(v);
  } else {
    s.on_shared_pool = shares_pool_with_xnnpack(Registry::instance().active());
    backend.sgemm(s);
  }
  backend.count_op();
}

}  // namespace neonn
