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

// batchNormSync(x, scale, bias, mean, variance, out, shape, epsilon): void
Napi::Value BatchNormSync(const Napi::CallbackInfo& info) {
  return run_sync<BatchNormArgs>(info, parse_batch_norm, run_batch_norm, Op::kBatchNorm);
}
// batchNorm(x, scale, bias, mean, variance, out, shape, epsilon): Promise<void>
Napi::Value BatchNormAsync(const Napi::CallbackInfo& info) {
  return run_async<BatchNormArgs>(info, parse_batch_norm, run_batch_norm, Op::kBatchNorm,
                                  "neonn:batchNorm");
}
// lrnSync(x, out, shape, size, alpha, beta, bias): void
Napi::Value LrnSync(const Napi::CallbackInfo& info) {
  return run_sync<LrnArgs>(info, parse_lrn, run_lrn, Op::kLrn);
}
// lrn(x, out, shape, size, alpha, beta, bias): Promise<void>
Napi::Value LrnAsync(const Napi::CallbackInfo& info) {
  return run_async<LrnArgs>(info, parse_lrn, run_lrn, Op::kLrn, "neonn:lrn");
}

}  // namespace

void RegisterNormalization(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNormSync", Napi::Function::New(env, BatchNormSync, "batchNormSync"));
  exports.Set("batchNorm", Napi::Function::New(env, BatchNormAsync, "batchNorm"));
  exports.Set("lrnSync", Napi::Function::New(env, LrnSync, "lrnSync"));
  exports.Set("lrn", Napi::Function::New(env, LrnAsync, "lrn"));
}

}  // namespace binding
}  // namespace neonn
