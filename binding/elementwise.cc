// unary, binary, prelu and softmax through their decoders (src/ops/elementwise.cc,
// argument layouts there).
#include <napi.h>

#include "../src/ops/elementwise.h"
#include "op_entry.h"

namespace neonn {
namespace binding {
namespace {

// unarySync(x, out, kind, alpha, min, max): void
Napi::Value UnarySync(const Napi::CallbackInfo& info) {
  return sync_entry(info, Op::kUnary, decode_unary, run_unary);
}

// unary(x, out, kind, alpha, min, max): Promise<void>
Napi::Value UnaryAsync(const Napi::CallbackInfo& info) {
  return async_entry(info, Op::kUnary, "neonn:unary", decode_unary, run_unary, 1);
}

// binarySync(a, b, out, kind, aRank, ...aDims, bRank, ...bDims): void
Napi::Value BinarySync(const Napi::CallbackInfo& info) {
  return sync_entry(info, Op::kBinary, decode_binary, run_binary);
}

// binary(a, b, out, kind, aRank, ...aDims, bRank, ...bDims): Promise<void>
Napi::Value BinaryAsync(const Napi::CallbackInfo& info) {
  return async_entry(info, Op::kBinary, "neonn:binary", decode_binary, run_binary, 2);
}

// preluSync(x, slope, out, xRank, ...xDims, slopeRank, ...slopeDims): void
Napi::Value PreluSync(const Napi::CallbackInfo& info) {
  return sync_entry(info, Op::kPrelu, decode_prelu, run_prelu);
}

// prelu(x, slope, out, xRank, ...xDims, slopeRank, ...slopeDims): Promise<void>
Napi::Value PreluAsync(const Napi::CallbackInfo& info) {
  return async_entry(info, Op::kPrelu, "neonn:prelu", decode_prelu, run_prelu, 2);
}

// softmaxSync(x, out, log, axis, rank, ...dims): void
Napi::Value SoftmaxSync(const Napi::CallbackInfo& info) {
  return sync_entry(info, Op::kSoftmax, decode_softmax, run_softmax);
}

// softmax(x, out, log, axis, rank, ...dims): Promise<void>
Napi::Value SoftmaxAsync(const Napi::CallbackInfo& info) {
  return async_entry(info, Op::kSoftmax, "neonn:softmax", decode_softmax, run_softmax, 1);
}

}  // namespace

void RegisterElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("unarySync", Napi::Function::New(env, UnarySync, "unarySync"));
  exports.Set("unary", Napi::Function::New(env, UnaryAsync, "unary"));
  exports.Set("binarySync", Napi::Function::New(env, BinarySync, "binarySync"));
  exports.Set("binary", Napi::Function::New(env, BinaryAsync, "binary"));
  exports.Set("preluSync", Napi::Function::New(env, PreluSync, "preluSync"));
  exports.Set("prelu", Napi::Function::New(env, PreluAsync, "prelu"));
  exports.Set("softmaxSync", Napi::Function::New(env, SoftmaxSync, "softmaxSync"));
  exports.Set("softmax", Napi::Function::New(env, SoftmaxAsync, "softmax"));
}

}  // namespace binding
}  // namespace neonn
