#include "backend.h"

namespace neonn {

const char* op_name(Op op) {
  switch (op) {
    case Op::kGemm: return "gemm";
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

void Backend::sgemm(const SgemmArgs&) const {
  throw Error(ErrorKind::kInternal, "ERR_NEONN_INTERNAL",
              "gemm: backend " + name_ + " does not provide gemm");
}

}  // namespace neonn
