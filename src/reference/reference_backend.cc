#include "reference_backend.h"

#include <cstddef>

// conv family (conv2d, fullyConnected, pool2d)
#include "../ops/pool.h"
#include "conv.h"
#include "reference_ops.h"

namespace neonn {
namespace {

class ReferenceBackend final : public Backend {
 public:
  ReferenceBackend() : Backend("reference", "") {}

  const Status& status() const override { return status_; }

  BackendInfo info() const override {
    BackendInfo i = Backend::info();
    i.version = "builtin";
    i.config = "plain C++ loops, double accumulation; conv and gemm on one thread, the other ops split over the thread budget";
    i.threads = 1;
    return i;
  }

  bool provides(Op op) const override {
    switch (op) {
      case Op::kGemm:
      // conv family
      case Op::kConv2d:
      case Op::kFullyConnected:
      case Op::kPool2d:
      // --- elementwise, normalization and layout families (reference_ops.h) ---
      case Op::kUnary:
      case Op::kPrelu:
      case Op::kSoftmax:
      case Op::kBinary:
      case Op::kBatchNorm:
      case Op::kLrn:
      case Op::kConcat:
      case Op::kTranspose:
      case Op::kPad:
        return true;
      default:
        return false;
    }
  }

  // conv family: direct loops in reference/conv.cc, pooling in ops/pool.cc.
  void conv2d(const Conv2dCall& c) const override {
    reference_conv2d(c);
    count_conv(ConvAlgorithm::kReference);
  }
  std::vector<ConvAlgorithm> conv_algorithms(const Conv2dCall&) const override {
    return {ConvAlgorithm::kReference};
  }
  void fully_connected(const FullyConnectedCall& c) const override { reference_fully_connected(c); }
  void pool2d(const Pool2dCall& c) const override { pool2d_loops(c); }

  void sgemm(const SgemmArgs& p) const override {
    // Accumulate in double: this is the oracle the fast paths are checked against.
    for (int i = 0; i < p.m; ++i) {
      for (int j = 0; j < p.n; ++j) {
        double acc = 0.0;
        for (int l = 0; l < p.k; ++l) {
          const float av = p.trans_a ? p.a[static_cast<size_t>(l) * p.lda + i]
                                     : p.a[static_cast<size_t>(i) * p.lda + l];
          const float bv = p.trans_b ? p.b[static_cast<size_t>(j) * p.ldb + l]
                                     : p.b[static_cast<size_t>(l) * p.ldb + j];
          acc += static_cast<double>(av) * bv;
        }
        float& c = p.c[static_cast<size_t>(i) * p.ldc + j];
        // BLAS rule: with beta == 0, C is output only (NaN in it must not leak).
        const double prior = p.beta == 0.0f ? 0.0 : static_cast<double>(p.beta) * c;
        c = static_cast<float>(p.alpha * acc + prior);
      }
    }
  }

  // --- elementwise, normalization and layout families (reference_ops.h) ---
  void unary(const UnaryCall& call) const override { reference::unary(call); }
  void prelu(const PreluCall& call) const override { reference::prelu(call); }
  void softmax(const SoftmaxCall& call) const override { reference::softmax(call); }
  void binary(const BinaryCall& call) const override { reference::binary(call); }
  void batch_norm(const BatchNormCall& call) const override { reference::batch_norm(call); }
  void lrn(const LrnCall& call) const override { reference::lrn(call); }
  void concat(const ConcatCall& call) const override { reference::concat(call); }
  void transpose(const TransposeCall& call) const override { reference::transpose(call); }
  void pad(const PadCall& call) const override { reference::pad(call); }
  // --- end elementwise, normalization and layout families ---

 private:
  Status status_ = Status::Ok();
};

}  // namespace

std::unique_ptr<Backend> make_reference_backend() { return std::make_unique<ReferenceBackend>(); }

}  // namespace neonn
