// MatMul, float32, numpy semantics: 1-D operands promoted ([K] -> [1,K] on
// the left, [K,1] on the right, the added dim dropped from the result) and
// the batch dims broadcast. One sgemm per batch on the active backend (the
// GEMM the conv and gemm families resolve), a batch whose B repeats reads
// the same B; when B is shared by every batch and A is contiguous, the
// batches fold into M and it is one GEMM.
#include <algorithm>
#include <string>
#include <vector>

#include "../registry.h"
#include "kernel.h"

namespace neonn {
namespace {

int gemm_dim(const KernelCall& c, int64_t v, const char* what) {
  c.check(v >= 0 && v <= 0x7fffffff, std::string(what) + " is too large for the GEMM");
  return static_cast<int>(v);
}

void matmul(const KernelCall& c) {
  const TensorRef& a = c.in(0);
  const TensorRef& b = c.in(1);
  c.expect_dtype(a, DType::kFloat32, "A");
  c.expect_dtype(b, DType::kFloat32, "B");
  c.expect_dtype(c.out(0), DType::kFloat32, "Y");
  c.check(a.rank() >= 1 && b.rank() >= 1, "A and B must have at least one dim");
  std::vector<int64_t> as = a.shape, bs = b.shape;
  const bool a1 = as.size() == 1, b1 = bs.size() == 1;
  if (a1) as.insert(as.begin(), 1);
  if (b1) bs.push_back(1);
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  c.check(bs[bs.size() - 2] == k, "A's last dim (" + std::to_string(k) + ") must equal B's second to last (" + std::to_string(bs[bs.size() - 2]) + ")");
  const std::vector<int64_t> abatch(as.begin(), as.end() - 2), bbatch(bs.begin(), bs.end() - 2);
  const std::vector<int64_t> batch = broadcast_shapes(abatch, bbatch, c.op);
  std::vector<int64_t> out = batch;
  if (!a1) out.push_back(m);
  if (!b1) out.push_back(n);
  c.expect_out_shape(0, out);
  size_t nb = 1;
  for (int64_t d : batch) nb *= static_cast<size_t>(d);
  const std::vector<int64_t> astr = broadcast_strides(abatch, batch), bstr = broadcast_strides(bbatch, batch);
  const float* pa = a.as<float>();
  const float* pb = b.as<float>();
  float* py = c.out(0).as<float>();
  if (nb == 0 || m == 0 || n == 0) return;
  if (k == 0) {
    std::fill(py, py + c.out(0).count(), 0.0f);
    return;
  }
  Registry& r = Registry::instance();
  const Backend& be = r.resolve(r.active(), Op::kGemm);
  bool b_shared = true, a_dense = true;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (bstr[i] != 0) b_shared = false;
    if (astr[i] == 0 && batch[i] != 1) a_dense = false;
  }
  SgemmArgs s;
  s.k = gemm_dim(c, k, "K");
  s.n = gemm_dim(c, n, "N");
  s.lda = s.k;
  s.ldb = s.n;
  s.ldc = s.n;
  s.alpha = 1.0f;
  s.beta = 0.0f;
  if (b_shared && a_dense) {
    s.m = gemm_dim(c, static_cast<int64_t>(nb) * m, "batch * M");
    s.a = pa;
    s.b = pb;
    s.c = py;
    be.sgemm(s);
    return;
  }
  s.m = gemm_dim(c, m, "M");
  for (size_t i = 0; i < nb; ++i) {
    size_t rem = i;
    int64_t ao = 0, bo = 0;
    for (size_t d = batch.size(); d-- > 0;) {
      const int64_t idx = static_cast<int64_t>(rem % static_cast<size_t>(batch[d]));
      rem /= static_cast<size_t>(batch[d]);
      ao += idx * astr[d];
      bo += idx * bstr[d];
    }
    s.a = pa + ao * m * k;
    s.b = pb + bo * k * n;
    s.c = py + i * static_cast<size_t>(m * n);
    be.sgemm(s);
  }
}

}  // namespace

NEONN_KERNEL(MatMul, matmul);

}  // namespace neonn
