#include "op_table.h"

#include <cstring>

#include "conv.h"
#include "gemm.h"
#include "pool.h"

namespace neonn {
namespace {

template <typename Call, Call (*Decode)(const ArgList&), void (*Run)(const Backend&, const Call&)>
void exec(const Backend& backend, const ArgList& args) {
  Run(backend, Decode(args));
}

const OpKernel kOps[] = {
    {"gemm", Op::kGemm, exec<GemmCall, decode_gemm, run_gemm>},
    {"conv2d", Op::kConv2d, exec<Conv2dCall, decode_conv2d, run_conv2d>},
    {"fullyConnected", Op::kFullyConnected,
     exec<FullyConnectedCall, decode_fully_connected, run_fully_connected>},
    {"pool2d", Op::kPool2d, exec<Pool2dCall, decode_pool2d, run_pool2d>},
};

}  // namespace

const OpKernel* find_op(const std::string& name) {
  for (const OpKernel& k : kOps) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

}  // namespace neonn
