#include "backend.h"

#include "model/region.h"
#include "ops/conv.h"

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

const char* conv_algorithm_name(ConvAlgorithm a) {
  switch (a) {
    case ConvAlgorithm::kAuto: return "auto";
    case ConvAlgorithm::kIm2col: return "im2col";
    case ConvAlgorithm::kWt8x8: return "wt8x8";
    case ConvAlgorithm::kFt8x8: return "ft8x8";
    case ConvAlgorithm::kFt16x16: return "ft16x16";
    case ConvAlgorithm::kImplicitGemm: return "implicit_gemm";
    case ConvAlgorithm::kDirect: return "direct";
    case ConvAlgorithm::kXnnpack: return "xnnpack";
    case ConvAlgorithm::kReference: return "reference";
    case ConvAlgorithm::kCount: break;
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
  for (size_t a = 0; a < static_cast<size_t>(ConvAlgorithm::kCount); ++a) {
    const uint64_t n = conv_runs_[a].load(std::memory_order_relaxed);
    if (n != 0) info.conv_runs.emplace_back(conv_algorithm_name(static_cast<ConvAlgorithm>(a)), n);
  }
  return info;
}

std::vector<ConvAlgorithm> Backend::conv_algorithms(const Conv2dCall&) const { return {}; }

namespace {

// The plan of a backend with nothing to prepare: each run is a conv2d call.
class DirectCallPlan final : public ConvPlan {
 public:
  DirectCallPlan(const Backend& backend, ConvAlgorithm algorithm, ConvAlgorithm reported)
      : backend_(backend), algorithm_(algorithm), reported_(reported) {}
  void run(const Conv2dCall& call) const override {
    Conv2dCall c = call;
    c.algorithm = algorithm_;
    backend_.conv2d(c);
  }
  const std::string& backend() const override { return backend_.name(); }
  ConvAlgorithm algorithm() const override { return reported_; }

 private:
  const Backend& backend_;
  ConvAlgorithm algorithm_, reported_;
};

}  // namespace

void check_conv_algorithm(const Backend& backend, const Conv2dCall& call) {
  if (call.algorithm == ConvAlgorithm::kAuto) return;
  const std::vector<ConvAlgorithm> algos = backend.conv_algorithms(call);
  for (ConvAlgorithm a : algos) {
    if (a == call.algorithm) return;
  }
  std::string can;
  for (ConvAlgorithm a : algos) can += std::string(can.empty() ? "" : ", ") + conv_algorithm_name(a);
  throw_range_error(std::string("conv2d: algorithm \"") + conv_algorithm_name(call.algorithm) +
                    "\" cannot run this conv on backend \"" + backend.name() + "\"" +
                    (can.empty() ? std::string() : " (it can: " + can + ")"));
}

std::unique_ptr<RegionPlan> Backend::plan_region(const RegionGraph& /*graph*/) const { return nullptr; }

std::unique_ptr<ConvPlan> Backend::plan_conv2d(const Conv2dCall& call, ConvAlgorithm algorithm) const {
  Conv2dCall c = call;
  c.algorithm = algorithm;
  check_conv_algorithm(*this, c);
  ConvAlgorithm reported = algorithm;
  if (reported == ConvAlgorithm::kAuto) {
    const std::vector<ConvAlgorithm> algos = conv_algorithms(call);
    if (!algos.empty()) reported = algos.front();
  }
  return std::make_unique<DirectCallPlan>(*this, algorithm, reported);
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
