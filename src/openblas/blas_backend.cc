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
    api_.sgemv(kCblasRowMajor, v.trans ? kCblasTrans : kCblasNoTrans, v.m, v.n, v.alpha, v.a, v.lda, v.x, 1, v.beta, v.y, 1);
  }

  void sgemm(const SgemmArgs& p) const override {
    api_.sgemm(kCblasRowMajor, p.trans_a ? kCblasTrans : kCblasNoTrans,
               p.trans_b ? kCblasTrans : kCblasNoTrans, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b,
               p.ldb, p.beta, p.c, p.ldc);
  }

 private:
  CblasApi api_;
  std::string description_;
  std::string library_;
  Status status_;
  std::mutex threads_mutex_;
};

}  // namespace

std::unique_ptr<Backend> make_blas_backend(std::string name, const CblasApi& api,
                                           std::string description, std::string library) {
  return std::make_unique<BlasBackend>(std::move(name), api, std::move(description), std::move(library));
}

}  // namespace neonn
