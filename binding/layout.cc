// concat, transpose and pad through their decoders (src/ops/layout.cc, argument
// layouts there). concat's inputs come as one array, which the worker keeps
// alive with its elements (the facade passes a fresh array nobody else holds).
#include <napi.h>

#include "../src/ops/layout.h"
#include "op_entry.h"

namespace neonn {
namespace binding {
namespace {

// concatSync(tensors, out, axis, rank, ...dims of each tensor): void
Napi::Value ConcatSync(const Napi::CallbackInfo& info) {
  return sync_entry(info, Op::kConcat, decode_concat, run_concat);
}

// concat(tensors, out, axis, rank, ...dims of each tensor): Promise<void>
Napi::Value ConcatAsync(const Napi::CallbackInfo& info) {
  return async_entry(info, Op::kConcat, "neonn:concat", decode_concat, run_concat, 1);
}

// transposeSync(x, out, rank, ...dims, ...perm): void
Napi::Value TransposeSync(const Napi::CallbackInfo& info) {
  return sync_entry(info, Op::kTranspose, decode_transpose, run_transpose);
}

// transpose(x, out, rank, ...dims, ...perm): Promise<void>
Napi::Value TransposeAsync(const Napi::CallbackInfo& info) {
  return async_entry(info, Op::kTranspose, "neonn:transpose", decode_transpose, run_transpose, 1);
}

// padSync(x, out, value, rank, ...dims, ...pads): void
Napi::Value PadSync(const Napi::CallbackInfo& info) {
  return sync_entry(info, Op::kPad, decode_pad, run_pad);
}

// pad(x, out, value, rank, ...dims, ...pads): Promise<void>
Napi::Value PadAsync(const Napi::CallbackInfo& info) {
  return async_entry(info, Op::kPad, "neonn:pad", decode_pad, run_pad, 1);
}

}  // namespace

void RegisterLayout(Napi::Env env, Napi::Object exports) {
  exports.Set("concatSync", Napi::Function::New(env, ConcatSync, "concatSync"));
  exports.Set("concat", Napi::Function::New(env, ConcatAsync, "concat"));
  exports.Set("transposeSync", Napi::Function::New(env, TransposeSync, "transposeSync"));
  exports.Set("transpose", Napi::Function::New(env, TransposeAsync, "transpose"));
  exports.Set("padSync", Napi::Function::New(env, PadSync, "padSync"));
  exports.Set("pad", Napi::Function::New(env, PadAsync, "pad"));
}

}  // namespace binding
}  // namespace neonn
