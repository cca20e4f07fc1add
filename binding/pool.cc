// pool2d/pool2dSync: maxPool2d, avgPool2d and globalAvgPool through one decoder
// (src/ops/pool.cc, argument layout there).
#include <napi.h>

#include <string>

#include "../src/ops/pool.h"
#include "args.h"
#include "op_entry.h"

namespace neonn {
namespace binding {
namespace {

// pool2dSync(x, out, kind, n, c, h, w, kH, kW, sH, sW, dH, dW, pT, pL, pB, pR, flags): void
Napi::Value Pool2dSync(const Napi::CallbackInfo& info) {
  return sync_entry(info, Op::kPool2d, decode_pool2d, run_pool2d);
}

// pool2d(x, out, kind, n, c, h, w, kH, kW, sH, sW, dH, dW, pT, pL, pB, pR, flags): Promise<void>
Napi::Value Pool2dAsync(const Napi::CallbackInfo& info) {
  return async_entry(info, Op::kPool2d, "neonn:pool2d", decode_pool2d, run_pool2d, 1);
}

}  // namespace

void RegisterPool(Napi::Env env, Napi::Object exports) {
  exports.Set("pool2dSync", Napi::Function::New(env, Pool2dSync, "pool2dSync"));
  exports.Set("pool2d", Napi::Function::New(env, Pool2dAsync, "pool2d"));
}

}  // namespace binding
}  // namespace neonn
