// The sync and async entry points of an op, built from its decoder and its
// core run function: decode (which re-checks everything) on the JS thread,
// then run here or on the libuv pool. A new op family needs only a decoder in
// src/ops/ and two lines in its Register function.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../src/registry.h"
#include "args.h"
#include "napi_args.h"
#include "op_worker.h"

namespace neonn {
namespace binding {

template <typename Call>
using DecodeFn = Call (*)(const ArgList&);
template <typename Call>
using RunFn = void (*)(const Backend&, const Call&);

inline const Backend& resolve_active(Op op) {
  Registry& reg = Registry::instance();
  return reg.resolve(reg.active(), op);
}

/// Decodes and runs on the calling thread; returns undefined.
template <typename Call>
Napi::Value sync_entry(const Napi::CallbackInfo& info, Op op, DecodeFn<Call> decode, RunFn<Call> run) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    run(resolve_active(op), decode(NapiArgs(info)));
    return info.Env().Undefined();
  });
}

/// The call's arguments with every Float32Array (and each one in a list)
/// replaced by a native copy; argument `out` is the result, copied back
/// when the work is done (see OwnedBuffers).
inline ValueArgs owned_args(const Napi::CallbackInfo& info, size_t out, OwnedBuffers& owned) {
  napi_env env = info.Env();
  auto is_float32 = [env](const Napi::Value& v) {
    napi_typedarray_type type;
    return v.IsTypedArray() &&
           napi_get_typedarray_info(env, v, &type, nullptr, nullptr, nullptr, nullptr) == napi_ok &&
           type == napi_float32_array;
  };
  std::vector<ValueArgs::Value> values(info.Length());
  for (size_t i = 0; i < info.Length(); ++i) {
    const Napi::Value v = info[i];
    ValueArgs::Value& a = values[i];
    const std::string what = i == out ? "out" : "argument " + std::to_string(i);
    if (v.IsNumber()) {
      a.kind = ValueArgs::Value::Kind::kNumber;
      a.number = v.As<Napi::Number>().DoubleValue();
    } else if (is_float32(v)) {
      a.kind = ValueArgs::Value::Kind::kSpan;
      void* p = i == out ? owned.copy_result(env, v, what) : owned.copy(env, v, what);
      a.span = MutableFloatSpan{static_cast<float*>(p), v.As<Napi::Float32Array>().ElementLength()};
    } else if (v.IsArray()) {
      a.kind = ValueArgs::Value::Kind::kSpanList;
      Napi::Array list = v.As<Napi::Array>();
      for (uint32_t k = 0; k < list.Length(); ++k) {
        const Napi::Value e = list.Get(k);
        NEONN_THROW_TYPEERROR_IF(!is_float32(e), what + "[" + std::to_string(k) + "] must be a Float32Array");
        a.spans.push_back(FloatSpan{static_cast<const float*>(owned.copy(env, e, what)),
                                    e.As<Napi::Float32Array>().ElementLength()});
      }
    }  // anything else: null (the checking decode already refused what the op cannot take)
  }
  return ValueArgs(std::move(values));
}

/// Decodes now (argument errors throw synchronously), runs on the libuv pool
/// on native copies of the buffers; argument `out` receives the result.
template <typename Call>
Napi::Value async_entry(const Napi::CallbackInfo& info, Op op, const char* resource,
                        DecodeFn<Call> decode, RunFn<Call> run, size_t out) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    // Every check (sizes, overlaps, detached buffers) on the caller's own
    // buffers, then the same decode over the copies the work will use.
    decode(NapiArgs(info));
    const std::string name(resource);
    auto owned = std::make_unique<OwnedBuffers>(info.Env(), name.compare(0, 6, "neonn:") == 0 ? name.substr(6) : name);
    const Call call = decode(owned_args(info, out, *owned));
    // Resolved now: a setBackend() after queueing does not change a queued op.
    const Backend* backend = &resolve_active(op);
    auto* worker = new OpWorker(
        info.Env(), resource, [call, backend, run] { run(*backend, call); }, std::move(owned));
    return OpWorker::Start(worker);
  });
}

}  // namespace binding
}  // namespace neonn
