// gemm and gemmSync: one parser, then the same core call sync or on the libuv pool.
#include <napi.h>

#include "../src/ops/gemm.h"
#include "../src/registry.h"
#include "args.h"
#include "op_worker.h"

namespace neonn {
namespace binding {
namespace {

constexpr size_t kGemmArgc = 13;

struct GemmCall {
  GemmParams params;
  GemmBuffers buffers;
};

// Arguments, positional so the sync path does no property lookups:
// (a, b, c | null, out, aRows, aCols, bRows, bCols, cRows, cCols, flags, alpha, beta)
// flags: bit 0 transA, bit 1 transB.
GemmCall parse_gemm_args(const Napi::CallbackInfo& info) {
  NEONN_THROW_TYPEERROR_IF(info.Length() != kGemmArgc,
                           "gemm: native binding expects 13 arguments, got " +
                               std::to_string(info.Length()));
  GemmCall call;
  GemmParams& p = call.params;
  const MutableFloatSpan a = float32_arg(info, 0, "gemm", "a");
  const MutableFloatSpan b = float32_arg(info, 1, "gemm", "b");
  call.buffers.a = FloatSpan{a.data, a.size};
  call.buffers.b = FloatSpan{b.data, b.size};
  p.has_c = !is_nullish(info[2]);
  if (p.has_c) {
    const MutableFloatSpan c = float32_arg(info, 2, "gemm", "c");
    call.buffers.c = FloatSpan{c.data, c.size};
  }
  call.buffers.y = float32_arg(info, 3, "gemm", "out");
  p.a_rows = int_arg(info, 4, "gemm", "a.shape[0]");
  p.a_cols = int_arg(info, 5, "gemm", "a.shape[1]");
  p.b_rows = int_arg(info, 6, "gemm", "b.shape[0]");
  p.b_cols = int_arg(info, 7, "gemm", "b.shape[1]");
  p.c_rows = int_arg(info, 8, "gemm", "c rows");
  p.c_cols = int_arg(info, 9, "gemm", "c cols");
  const int64_t flags = int_arg(info, 10, "gemm", "flags");
  p.trans_a = (flags & 1) != 0;
  p.trans_b = (flags & 2) != 0;
  p.alpha = static_cast<float>(number_arg(info, 11, "gemm", "alpha"));
  p.beta = static_cast<float>(number_arg(info, 12, "gemm", "beta"));
  check_gemm(p, call.buffers);
  return call;
}

// gemmSync(a, b, c, out, aRows, aCols, bRows, bCols, cRows, cCols, flags, alpha, beta): void
Napi::Value GemmSync(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const GemmCall call = parse_gemm_args(info);
    Registry& reg = Registry::instance();
    run_gemm(reg.resolve(reg.active(), Op::kGemm), call.params, call.buffers);
    return info.Env().Undefined();
  });
}

// gemm(a, b, c, out, aRows, aCols, bRows, bCols, cRows, cCols, flags, alpha, beta): Promise<void>
Napi::Value GemmAsync(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const GemmCall call = parse_gemm_args(info);
    Registry& reg = Registry::instance();
    // Resolve now: a setBackend() after queueing does not change a queued op.
    const Backend* backend = &reg.resolve(reg.active(), Op::kGemm);
    auto* worker = new OpWorker(
        info.Env(), "neonn:gemm", [call, backend] { run_gemm(*backend, call.params, call.buffers); },
        {info[0], info[1], info[2], info[3]});
    return OpWorker::Start(worker);
  });
}

}  // namespace

void RegisterGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("gemmSync", Napi::Function::New(env, GemmSync, "gemmSync"));
  exports.Set("gemm", Napi::Function::New(env, GemmAsync, "gemm"));
}

}  // namespace binding
}  // namespace neonn
