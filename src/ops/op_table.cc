#include "op_table.h"

#include <cstring>

#include "gemm.h"

namespace neonn {
namespace {

template <typename Call, Call (*Decode)(const ArgList&), void (*Run)(const Backend&, const Call&)>
void exec(const Backend& backend, const ArgList& args) {
  Run(backend, Decode(args));
}

const OpKernel kOps[] = {
    {"gemm", Op::kGemm, exec<GemmCall, decode_gemm, run_gemm>},
};

}  // namespace

const OpKernel* find_op(const std::string& name) {
  for (const OpKernel& k : kOps) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

}  // namespace neonn
