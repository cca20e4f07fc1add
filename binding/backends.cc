// backends(), setBackend(), getBackend(), setThreads(), getThreads().
#include <napi.h>

#include "../src/cpu.h"
#include "../src/registry.h"
#include "args.h"

namespace neonn {
namespace binding {
namespace {

Napi::Object info_to_js(Napi::Env env, const BackendInfo& i) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", i.name);
  o.Set("available", i.available);
  if (!i.reason.empty()) o.Set("reason", i.reason);
  if (!i.version.empty()) o.Set("version", i.version);
  if (!i.config.empty()) o.Set("config", i.config);
  if (!i.core.empty()) o.Set("core", i.core);
  if (!i.fallback.empty()) o.Set("fallback", i.fallback);
  if (!i.library.empty()) o.Set("library", i.library);
  o.Set("threads", i.threads);
  o.Set("opsRun", static_cast<double>(i.ops_run));
  Napi::Object conv = Napi::Object::New(env);
  for (const auto& r : i.conv_runs) conv.Set(r.first, static_cast<double>(r.second));
  o.Set("convRuns", conv);
  return o;
}

// backends(): BackendInfo[]
Napi::Value Backends(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto& all = Registry::instance().all();
    Napi::Array out = Napi::Array::New(info.Env(), all.size());
    for (size_t i = 0; i < all.size(); ++i) {
      out.Set(static_cast<uint32_t>(i), info_to_js(info.Env(), all[i]->info()));
    }
    return out;
  });
}

// setBackend(name: string): void
Napi::Value SetBackend(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    NEONN_THROW_TYPEERROR_IF(info.Length() < 1 || !info[0].IsString(),
                             "setBackend: expected \"name\" to be a string");
    Registry::instance().set_active(info[0].As<Napi::String>().Utf8Value());
    return info.Env().Undefined();
  });
}

// getBackend(): string
Napi::Value GetBackend(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), Registry::instance().active().name());
}

// setThreads(n: number): void
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    NEONN_THROW_TYPEERROR_IF(info.Length() < 1, "setThreads: expected \"n\"");
    const int64_t n = int_arg(info, 0, "setThreads", "n");
    NEONN_THROW_RANGEERROR_IF(n < 1 || n > 1024,
                              "setThreads: n must be in [1, 1024], got " + std::to_string(n));
    Registry::instance().set_threads(static_cast<int>(n));
    return info.Env().Undefined();
  });
}

// getThreads(): number
Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), Registry::instance().threads());
}

// onlineCores(): number
Napi::Value OnlineCores(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), Registry::online_cores());
}

// buildInfo(): { flavour, target, compiler }
Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("flavour", NEONN_FLAVOUR);
#if defined(__x86_64__)
  o.Set("target", "x86_64");
#elif defined(__aarch64__)
  o.Set("target", "aarch64 (ARMv8-A)");
#elif defined(__arm__) && defined(__ARM_NEON)
  o.Set("target", "arm (ARMv7-A, NEON)");
#elif defined(__arm__)
  o.Set("target", "arm");
#else
  o.Set("target", "unknown");
#endif
#if defined(__VERSION__)
  o.Set("compiler", __VERSION__);
#endif
  const std::vector<std::string> features = cpu_features();
  Napi::Array f = Napi::Array::New(info.Env(), features.size());
  for (size_t i = 0; i < features.size(); ++i) f.Set(static_cast<uint32_t>(i), features[i]);
  o.Set("cpuFeatures", f);
  return o;
}

}  // namespace

void RegisterBackends(Napi::Env env, Napi::Object exports) {
  exports.Set("backends", Napi::Function::New(env, Backends, "backends"));
  exports.Set("setBackend", Napi::Function::New(env, SetBackend, "setBackend"));
  exports.Set("getBackend", Napi::Function::New(env, GetBackend, "getBackend"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads, "getThreads"));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("onlineCores", Napi::Function::New(env, OnlineCores, "onlineCores"));
}

}  // namespace binding
}  // namespace neonn
