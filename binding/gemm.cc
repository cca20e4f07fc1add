// gemm and gemmSync: the core's decoder, then the same run sync or on the libuv pool.
#include <napi.h>

#include "../src/ops/gemm.h"
#include "op_entry.h"

namespace neonn {
namespace binding {
namespace {

// gemmSync(a, b, c | null, out, aRows, aCols, bRows, bCols, cRows, cCols, flags, alpha, beta): void
Napi::Value GemmSync(const Napi::CallbackInfo& info) {
  return sync_entry<GemmCall>(info, Op::kGemm, decode_gemm, run_gemm);
}

// gemm(a, b, c | null, out, aRows, aCols, bRows, bCols, cRows, cCols, flags, alpha, beta): Promise<void>
Napi::Value GemmAsync(const Napi::CallbackInfo& info) {
  return async_entry<GemmCall>(info, Op::kGemm, "neonn:gemm", decode_gemm, run_gemm, 3);
}

}  // namespace

void RegisterGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("gemmSync", Napi::Function::New(env, GemmSync, "gemmSync"));
  exports.Set("gemm", Napi::Function::New(env, GemmAsync, "gemm"));
}

}  // namespace binding
}  // namespace neonn
