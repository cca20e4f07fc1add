#include "backend.h"

namespace neonn {

const char* op_name(Op op) {
  switch (op) {
    case Op::kGemm: return "gemm";
    case Op::kConv2d: return "conv2d";
    case Op::kFullyConnected: return "fullyConnected";
    case Op::kPool2d: return "pool2d";
    case Op::kUnary: return "unary";
    case Op::kPrelu: return "prelu";
    case Op::kSoftmax: return "softmax";
    case Op::kBatchNorm: return "batchNorm";
    case Op::kLrn: return "lrn";
    case Op::kBinary: return "binary";
    case Op::kConcat: return "concat";
    case Op::kTranspose: return "transpose";
    case Op::kPad: return "pad";
    case Op::kCount: break;
  }
  return "?";
}

BackendInfo Backend::info() const {
  BackendInfo info;
  info.name = name_;
  info.available = status().ok;
  info.reason = status().reason;
  info.fallback = fallback_;
  info.ops_run = ops_run_.load(std::memory_order_relaxed);
  return info;
}

[[noreturn]] static void not_provided(const std::string& backend, const char* op) {
  throw Error(ErrorKind::kInternal, "ERR_NEONN_INTERNAL",
              std::string(op) + ": backend " + backend + " does not provide it");
}

void Backend::sgemm(const SgemmArgs&) const { not_provided(name_, "gemm"); }
void Backend::sgemv(const SgemvArgs& v) const {
  SgemmArgs s;
  s.trans_a = v.trans;
  s.m = v.trans ? v.n : v.m;
  s.n = 1;
  s.k = v.trans ? v.m : v.n;
  s.alpha = v.alpha;
  s.a = v.a;
  s.lda = v.lda;
  s.b = v.x;
  s.ldb = 1;
  s.beta = v.beta;
  s.c = v.y;
  s.ldc = 1;
  sgemm(s);
}
void Backend::conv2d(const Conv2dCall&) const { not_provided(name_, "conv2d"); }
void Backend::fully_connected(const FullyConnectedCall&) const { not_provided(name_, "fullyConnected"); }
void Backend::pool2d(const Pool2dCall&) const { not_provided(name_, "pool2d"); }
void Backend::unary(const UnaryCall&) const { not_provided(name_, "unary"); }
void Backend::prelu(const PreluCall&) const { not_provided(name_, "prelu"); }
void Backend::softmax(const SoftmaxCall&) const { not_provided(name_, "softmax"); }
void Backend::batch_norm(const BatchNormCall&) const { not_provided(name_, "batchNorm"); }
void Backend::lrn(const LrnCall&) const { not_provided(name_, "lrn"); }
void Backend::binary(const BinaryCall&) const { not_provided(name_, "binary"); }
void Backend::concat(const ConcatCall&) const { not_provided(name_, "concat"); }
void Backend::transpose(const TransposeCall&) const { not_provided(name_, "transpose"); }
void Backend::pad(const PadCall&) const { not_provided(name_, "pad"); }

}  // namespace neonn
