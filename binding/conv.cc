// conv2d/conv2dSync and fullyConnected/fullyConnectedSync: the core's decoders
// (src/ops/conv.cc, argument layouts there), run sync or on the libuv pool.
#include <napi.h>

#include <string>

#include "../src/ops/conv.h"
#include "args.h"
#include "op_entry.h"

namespace neonn {
namespace binding {
namespace {

// conv2dSync(x, w, bias, out, n, cIn, h, w, cOut, kH, kW, group, sH, sW, dH, dW, pT, pL, pB, pR, activation): void
Napi::Value Conv2dSync(const Napi::CallbackInfo& info) {
  return sync_entry(info, Op::kConv2d, decode_conv2d, run_conv2d);
}

// conv2d(x, w, bias, out, n, cIn, h, w, cOut, kH, kW, group, sH, sW, dH, dW, pT, pL, pB, pR, activation): Promise<void>
Napi::Value Conv2dAsync(const Napi::CallbackInfo& info) {
  return async_entry(info, Op::kConv2d, "neonn:conv2d", decode_conv2d, run_conv2d, 3);
}

// fullyConnectedSync(x, w, bias, out, n, inFeatures, outFeatures): void
Napi::Value FullyConnectedSync(const Napi::CallbackInfo& info) {
  return sync_entry(info, Op::kFullyConnected, decode_fully_connected, run_fully_connected);
}

// fullyConnected(x, w, bias, out, n, inFeatures, outFeatures): Promise<void>
Napi::Value FullyConnectedAsync(const Napi::CallbackInfo& info) {
  return async_entry(info, Op::kFullyConnected, "neonn:fullyConnected", decode_fully_connected,
                     run_fully_connected, 3);
}

}  // namespace

void RegisterConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dSync", Napi::Function::New(env, Conv2dSync, "conv2dSync"));
  exports.Set("conv2d", Napi::Function::New(env, Conv2dAsync, "conv2d"));
  exports.Set("fullyConnectedSync", Napi::Function::New(env, FullyConnectedSync, "fullyConnectedSync"));
  exports.Set("fullyConnected", Napi::Function::New(env, FullyConnectedAsync, "fullyConnected"));
}

}  // namespace binding
}  // namespace neonn
