// batchNorm and lrn through their decoders (src/ops/normalization.cc, argument
// layouts there).
#include <napi.h>

#include "../src/ops/normalization.h"
#include "op_entry.h"

namespace neonn {
namespace binding {
namespace {

// batchNormSync(x, scale, bias, mean, variance, out, epsilon, rank, ...dims): void
Napi::Value BatchNormSync(const Napi::CallbackInfo& info) {
  return sync_entry(info, Op::kBatchNorm, decode_batch_norm, run_batch_norm);
}

// batchNorm(x, scale, bias, mean, variance, out, epsilon, rank, ...dims): Promise<void>
Napi::Value BatchNormAsync(const Napi::CallbackInfo& info) {
  return async_entry(info, Op::kBatchNorm, "neonn:batchNorm", decode_batch_norm, run_batch_norm, 5);
}

// lrnSync(x, out, size, alpha, beta, bias, rank, ...dims): void
Napi::Value LrnSync(const Napi::CallbackInfo& info) {
  return sync_entry(info, Op::kLrn, decode_lrn, run_lrn);
}

// lrn(x, out, size, alpha, beta, bias, rank, ...dims): Promise<void>
Napi::Value LrnAsync(const Napi::CallbackInfo& info) {
  return async_entry(info, Op::kLrn, "neonn:lrn", decode_lrn, run_lrn, 1);
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
