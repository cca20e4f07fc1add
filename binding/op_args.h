// Readers shared by the elementwise, normalization and layout bindings
// (shapes, integer lists, lists of Float32Arrays), and the one sync/async
// pair every such op uses: parse into a plain XxxArgs, then run it here or
// on the libuv pool.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "../src/ops/dims.h"
#include "../src/registry.h"
#include "args.h"
#include "op_worker.h"

namespace neonn {
namespace binding {

/// A read-only Float32Array argument.
inline FloatSpan const_float32_arg(const Napi::CallbackInfo& info, size_t i, const char* op,
                                   const char* name) {
  const MutableFloatSpan s = float32_arg(info, i, op, name);
  return FloatSpan{s.data, s.size};
}

/// An array of at most `max_len` integers (each within +-2^53).
inline std::vector<int64_t> int_list_value(const Napi::Value& value, const char* op,
                                           const char* name, uint32_t max_len) {
  NEONN_THROW_TYPEERROR_IF(!value.IsArray(),
                           std::string(op) + ": expected \"" + name + "\" to be an array of integers");
  const Napi::Array arr = value.As<Napi::Array>();
  const uint32_t n = arr.Length();
  NEONN_THROW_RANGEERROR_IF(n > max_len, std::string(op) + ": \"" + name + "\" has " +
                                             std::to_string(n) + " entries, at most " +
                                             std::to_string(max_len) + " allowed");
  std::vector<int64_t> out(n);
  for (uint32_t k = 0; k < n; ++k) {
    const Napi::Value v = arr.Get(k);
    const std::string what = std::string(name) + "[" + std::to_string(k) + "]";
    NEONN_THROW_TYPEERROR_IF(!v.IsNumber(),
                             std::string(op) + ": expected \"" + what + "\" to be a number");
    const double d = v.As<Napi::Number>().DoubleValue();
    NEONN_THROW_RANGEERROR_IF(!(std::floor(d) == d) || std::fabs(d) > 9007199254740992.0,
                              std::string(op) + ": expected \"" + what + "\" to be an integer");
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

inline std::vector<int64_t> int_list_arg(const Napi::CallbackInfo& info, size_t i, const char* op,
                                         const char* name, uint32_t max_len) {
  return int_list_value(info[i], op, name, max_len);
}

/// A shape: an array of at most kMaxRank integers (positivity is the core's check).
inline Dims dims_arg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  return make_dims(int_list_arg(info, i, op, name, kMaxRank), std::string(op) + ": " + name);
}

inline bool bool_arg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  NEONN_THROW_TYPEERROR_IF(!info[i].IsBoolean(),
                           std::string(op) + ": expected \"" + name + "\" to be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

inline void expect_argc(const Napi::CallbackInfo& info, size_t n, const char* op) {
  NEONN_THROW_TYPEERROR_IF(info.Length() != n, std::string(op) + ": native binding expects " +
                                                   std::to_string(n) + " arguments, got " +
                                                   std::to_string(info.Length()));
}

template <typename Args>
using ParseFn = Args (*)(const Napi::CallbackInfo&);
template <typename Args>
using RunFn = void (*)(const Backend&, const Args&);

/// Parses (every check runs here, so argument errors throw synchronously) and runs now.
template <typename Args>
Napi::Value run_sync(const Napi::CallbackInfo& info, ParseFn<Args> parse, RunFn<Args> run, Op op) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Args args = parse(info);
    Registry& reg = Registry::instance();
    run(reg.resolve(reg.active(), op), args);
    return info.Env().Undefined();
  });
}

/// Parses now, runs on the libuv pool. Every argument (and each element of an
/// array argument, e.g. concat's inputs) is held in a fresh array that only
/// the worker references, so nothing the work reads can be collected or
/// swapped out from under it until the promise settles.
template <typename Args>
Napi::Value run_async(const Napi::CallbackInfo& info, ParseFn<Args> parse, RunFn<Args> run, Op op,
                      const char* resource) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Args args = parse(info);
    Registry& reg = Registry::instance();
    // Resolve now: a setBackend() after queueing does not change a queued op.
    const Backend* backend = &reg.resolve(reg.active(), op);
    Napi::Env env = info.Env();
    Napi::Array keep = Napi::Array::New(env);
    uint32_t k = 0;
    for (size_t i = 0; i < info.Length(); ++i) {
      keep.Set(k++, info[i]);
      if (info[i].IsArray()) {
        const Napi::Array arr = info[i].As<Napi::Array>();
        for (uint32_t j = 0; j < arr.Length(); ++j) keep.Set(k++, arr.Get(j));
      }
    }
    auto* worker = new OpWorker(
        env, resource, [args = std::move(args), backend, run] { run(*backend, args); }, {keep});
    return OpWorker::Start(worker);
  });
}

/// Exports `<name>Sync` (runs now) and `<name>` (returns a Promise, runs on
/// the libuv pool), both parsing their arguments with `parse`.
template <typename Args>
void export_op(Napi::Env env, Napi::Object exports, const std::string& name, ParseFn<Args> parse,
               RunFn<Args> run, Op op) {
  const std::string sync_name = name + "Sync";
  exports.Set(sync_name, Napi::Function::New(
                             env,
                             [parse, run, op](const Napi::CallbackInfo& info) {
                               return run_sync<Args>(info, parse, run, op);
                             },
                             sync_name));
  const std::string resource = "neonn:" + name;
  exports.Set(name, Napi::Function::New(
                        env,
                        [parse, run, op, resource](const Napi::CallbackInfo& info) {
                          return run_async<Args>(info, parse, run, op, resource.c_str());
                        },
                        name));
}

}  // namespace binding
}  // namespace neonn
