// batchNorm and lrn, each sync and async, parsed once.
#include <napi.h>

#include "../src/ops/normalization.h"
#include "op_args.h"

namespace neonn {
namespace binding {
namespace {

// (x, scale, bias, mean, variance, out, shape, epsilon)
BatchNormArgs parse_batch_norm(const Napi::CallbackInfo& info) {
  expect_argc(info, 8, "batchNorm");
  BatchNormArgs a;
  a.x = const_float32_arg(info, 0, "batchNorm", "x");
  a.scale = const_float32_arg(info, 1, "batchNorm", "scale");
  a.bias = const_float32_arg(info, 2, "batchNorm", "bias");
  a.mean = const_float32_arg(info, 3, "batchNorm", "mean");
  a.variance = const_float32_arg(info, 4, "batchNorm", "variance");
  a.y = float32_arg(info, 5, "batchNorm", "out");
  a.shape = dims_arg(info, 6, "batchNorm", "shape");
  a.epsilon = number_arg(info, 7, "batchNorm", "epsilon");
  check_batch_norm(a);
  return a;
}

// (x, out, shape, size, alpha, beta, bias)
LrnArgs parse_lrn(const Napi::CallbackInfo& info) {
  expect_argc(info, 7, "lrn");
  LrnArgs a;
  a.x = const_float32_arg(info, 0, "lrn", "x");
  a.y = float32_arg(info, 1, "lrn", "out");
  a.shape = dims_arg(info, 2, "lrn", "shape");
  a.size = int_arg(info, 3, "lrn", "size");
  a.alpha = number_arg(info, 4, "lrn", "alpha");
  a.beta = number_arg(info, 5, "lrn", "beta");
  a.bias = number_arg(info, 6, "lrn", "bias");
  check_lrn(a);
  return a;
}

}  // namespace

void RegisterNormalization(Napi::Env env, Napi::Object exports) {
  // batchNormSync(x, scale, bias, mean, variance, out, shape, epsilon): void; batchNorm(...): Promise<void>
  export_op<BatchNormArgs>(env, exports, "batchNorm", parse_batch_norm, run_batch_norm, Op::kBatchNorm);
  // lrnSync(x, out, shape, size, alpha, beta, bias): void; lrn(...): Promise<void>
  export_op<LrnArgs>(env, exports, "lrn", parse_lrn, run_lrn, Op::kLrn);
}

}  // namespace binding
}  // namespace neonn
