#include "op_table.h"

#include <cstring>

#include "conv.h"
#include "elementwise.h"
#include "layout.h"
#include "normalization.h"
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
    // --- elementwise, normalization and layout families ---
    {"unary", Op::kUnary, exec<UnaryArgs, decode_unary, run_unary>},
    {"binary", Op::kBinary, exec<BinaryArgs, decode_binary, run_binary>},
    {"prelu", Op::kPrelu, exec<PreluArgs, decode_prelu, run_prelu>},
    {"softmax", Op::kSoftmax, exec<SoftmaxArgs, decode_softmax, run_softmax>},
    {"batchNorm", Op::kBatchNorm, exec<BatchNormArgs, decode_batch_norm, run_batch_norm>},
    {"lrn", Op::kLrn, exec<LrnArgs, decode_lrn, run_lrn>},
    {"concat", Op::kConcat, exec<ConcatArgs, decode_concat, run_concat>},
    {"transpose", Op::kTranspose, exec<TransposeArgs, decode_transpose, run_transpose>},
    {"pad", Op::kPad, exec<PadArgs, decode_pad, run_pad>},
};

}  // namespace

const OpKernel* find_op(const std::string& name) {
  for (const OpKernel& k : kOps) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

}  // namespace neonn
