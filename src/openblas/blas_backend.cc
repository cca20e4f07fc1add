#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>

#include "openblas_backend.h"

// conv family
#include "../blas/conv_im2col.h"
#include "../parallel.h"

namespace neonn {
namespace {

class BlasBackend final : public Backend {
 public:
  BlasBackend(std::string name, const CblasApi& api, std::string description, std::string library)
      : Backend(std::move(name), "reference"),
        api_(api),
        description_(std::move(description)),
        library_(std::move(library)) {
    status_ = api_.sgemm != nullptr ? Status::Ok()
                                    : Status::Unavailable("cblas_sgemm not found");
  }

  const Status& status() const override { return status_; }

  BackendInfo info() const override {
    BackendInfo i = Backend::info();
    i.library = library_;
    if (api_.get_config != nullptr) {
      i.config = api_.get_config();
      // "OpenBLAS 0.3.29 DYNAMIC_ARCH ..." -> "0.3.29"
      const std::string& c = i.config;
      const size_t sp = c.find(' ');
      if (c.rfind("OpenBLAS", 0) == 0 && sp != std::string::npos) {
        const size_t end = c.find(' ', sp + 1);
        i.version = c.substr(sp + 1, end == std::string::npos ? std::string::npos : end - sp - 1);
      }
    } else {
      i.config = description_;
    }
    if (api_.get_corename != nullptr) i.core = api_.get_corename();
    i.threads = api_.get_num_threads != nullptr ? api_.get_num_threads() : 1;
    return i;
  }

  void set_threads(int n) override {
    if (api_.set_num_threads == nullptr) return;
    // OpenBLAS grows its pool inside set_num_threads; one caller at a time.
    std::lock_guard<std::mutex> lock(threads_mutex_);
    api_.set_num_threads(clamp_threads(n));
  }

  bool provides(Op op) const override {
    // conv family: conv2d and fullyConnected run on sgemm; pooling falls back.
    return op == Op::kGemm || op == Op::kConv2d || op == Op::kFullyConnected;
  }

  // conv family
  void conv2d(const Conv2dCall& c) const override {
    blas_conv2d(*this, c);
    count_conv(ConvAlgorithm::kIm2col);
  }
  std::vector<ConvAlgorithm> conv_algorithms(const Conv2dCall&) const override {
    return {ConvAlgorithm::kIm2col};
  }
  void fully_connected(const FullyConnectedCall& c) const override { blas_fully_connected(*this, c); }

  void sgemv(const SgemvArgs& v) const override {
    if (api_.sgemv == nullptr) return Backend::sgemv(v);
    // y's elements in blocks on the shared pool, as sgemm's columns (below): y = A·x splits A's rows, y = Aᵀ·x its
    // columns. A batch-1 classifier is memory-bound: each block streams its own rows of the weights.
    const int outs = v.trans ? v.n : v.m;
    shared_pool_blocks(v.on_shared_pool, outs, 2.0 * v.m * v.n, [&](int o0, int o1) {
      SgemvArgs b = v;
      b.y = v.y + o0;
      if (v.trans) {
        b.a = v.a + o0;
        b.n = o1 - o0;
      } else {
        b.a = v.a + static_cast<size_t>(o0) * static_cast<size_t>(v.lda);
        b.m = o1 - o0;
      }
      api_.sgemv(kCblasRowMajor, b.trans ? kCblasTrans : kCblasNoTrans, b.m, b.n, b.alpha, b.a, b.lda, b.x, 1, b.beta, b.y, 1);
    });
  }

  void sgemm(const SgemmArgs& p) const override {
    // Measured at 2 threads on this machine: PP-OCRv4 text detection (two ConvTransposes on OpenBLAS inside a model
    // XNNPACK's pool runs) 7.8-12 ms a run with OpenBLAS's own threads, 6.4 ms on the shared pool.
    shared_pool_blocks(p.on_shared_pool, p.n, 2.0 * p.m * p.n * p.k, [&](int n0, int n1) {
      const float* b = p.trans_b ? p.b + static_cast<size_t>(n0) * static_cast<size_t>(p.ldb) : p.b + n0;
      api_.sgemm(kCblasRowMajor, p.trans_a ? kCblasTrans : kCblasNoTrans, p.trans_b ? kCblasTrans : kCblasNoTrans, p.m,
                 n1 - n0, p.k, p.alpha, p.a, p.lda, b, p.ldb, p.beta, p.c + n0, p.ldc);
    });
  }

 private:
  // Runs block(o0, o1) over [0, outs): at once on OpenBLAS's own threads, or, `on_shared_pool` (a model whose other
  // steps keep neonn's shared pool busy: its workers spin between XNNPACK's operators on the cores OpenBLAS's threads
  // would need), in blocks of kBlockOutputs outputs that the pool's workers take, OpenBLAS at one thread. The blocks
  // do not depend on the thread count (one thread runs the same blocks in turn): OpenBLAS's kernels may round a
  // narrower call differently, and results must not change with the threads.
  template <typename F>
  void shared_pool_blocks(bool on_shared_pool, int outs, double flops, F&& block) const {
    if (!on_shared_pool || api_.set_num_threads == nullptr || api_.get_num_threads == nullptr) return block(0, outs);
    constexpr int kBlockOutputs = 256;
    const size_t blocks = static_cast<size_t>((outs + kBlockOutputs - 1) / kBlockOutputs);
    auto run = [&](size_t lo, size_t hi) {
      for (size_t i = lo; i < hi; ++i) {
        const int o0 = static_cast<int>(i) * kBlockOutputs;
        block(o0, std::min(outs, o0 + kBlockOutputs));
      }
    };
    if (blocks <= 1 || api_.get_num_threads() <= 1) return run(0, blocks);
    std::lock_guard<std::mutex> lock(threads_mutex_);
    const int threads = api_.get_num_threads();
    if (threads <= 1) return run(0, blocks);
    api_.set_num_threads(1);
    try {
      parallel_for(blocks, flops >= (1 << 20) ? 1 : blocks, run);  // small: inline
    } catch (...) {
      api_.set_num_threads(threads);
      throw;
    }
    api_.set_num_threads(threads);
  }

  CblasApi api_;
  std::string description_;
  std::string library_;
  Status status_;
  mutable std::mutex threads_mutex_;  // set_threads, and the shared-pool GEMMs' OpenBLAS thread count
};

}  // namespace

std::unique_ptr<Backend> make_blas_backend(std::string name, const CblasApi& api,
                                           std::string description, std::string library) {
  return std::make_unique<BlasBackend>(std::move(name), api, std::move(description), std::move(library));
}

}  // namespace neonn
