// The sync and async entry points of an op, built from its decoder and its
// core run function: decode (which re-checks everything) on the JS thread,
// then run here or on the libuv pool. A new op family needs only a decoder in
// src/ops/ and two lines in its Register function.
#pragma once

#include <napi.h>

#include <initializer_list>

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

/// Decodes now (argument errors throw synchronously), runs on the libuv pool;
/// `keep_alive`: the JS values whose buffers the work reads or writes.
template <typename Call>
Napi::Value async_entry(const Napi::CallbackInfo& info, Op op, const char* resource,
                        DecodeFn<Call> decode, RunFn<Call> run,
                        std::initializer_list<Napi::Value> keep_alive) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Call call = decode(NapiArgs(info));
    // Resolved now: a setBackend() after queueing does not change a queued op.
    const Backend* backend = &resolve_active(op);
    auto* worker = new OpWorker(
        info.Env(), resource, [call, backend, run] { run(*backend, call); }, keep_alive);
    return OpWorker::Start(worker);
  });
}

}  // namespace binding
}  // namespace neonn
