// The addon's entry point: one Register*() per op family.
#include <napi.h>

namespace neonn {
namespace binding {
void RegisterBackends(Napi::Env env, Napi::Object exports);
void RegisterGemm(Napi::Env env, Napi::Object exports);
void RegisterModel(Napi::Env env, Napi::Object exports);
// conv family
void RegisterConv(Napi::Env env, Napi::Object exports);
void RegisterPool(Napi::Env env, Napi::Object exports);
void RegisterElementwise(Napi::Env env, Napi::Object exports);    // binding/elementwise.cc
void RegisterNormalization(Napi::Env env, Napi::Object exports);  // binding/normalization.cc
void RegisterLayout(Napi::Env env, Napi::Object exports);         // binding/layout.cc
void RegisterKernels(Napi::Env env, Napi::Object exports);        // binding/kernels.cc: the op schema's generic kernels
}  // namespace binding
}  // namespace neonn

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  neonn::binding::RegisterBackends(env, exports);
  neonn::binding::RegisterGemm(env, exports);
  neonn::binding::RegisterModel(env, exports);
  // conv family
  neonn::binding::RegisterConv(env, exports);
  neonn::binding::RegisterPool(env, exports);
  neonn::binding::RegisterElementwise(env, exports);
  neonn::binding::RegisterNormalization(env, exports);
  neonn::binding::RegisterLayout(env, exports);
  neonn::binding::RegisterKernels(env, exports);
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  return exports;
}

}  // namespace

NODE_API_MODULE(neonn, Init)
