// One async worker for every op: the work runs in Execute() on the libuv pool,
// every JS value it touches stays referenced until the promise settles, and any
// C++ exception becomes a rejection (never an abort).
#pragma once

#include <napi.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "args.h"

namespace neonn {
namespace binding {

class OpWorker final : public Napi::AsyncWorker {
 public:
  /// `keep_alive`: the typed arrays (or objects) the work reads or writes.
  OpWorker(Napi::Env env, const char* resource, std::function<void()> work,
           std::initializer_list<Napi::Value> keep_alive)
      : OpWorker(env, resource, std::move(work), std::vector<Napi::Value>(keep_alive)) {}

  /// Same, for a list of values known only at run time.
  OpWorker(Napi::Env env, const char* resource, std::function<void()> work,
           const std::vector<Napi::Value>& keep_alive)
      : Napi::AsyncWorker(env, resource),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)) {
    refs_.reserve(keep_alive.size());
    for (const Napi::Value& v : keep_alive) {
      if (v.IsObject()) refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    }
  }

  /// Queues the worker (which deletes itself when done) and returns its promise.
  static Napi::Promise Start(OpWorker* worker) {
    Napi::Promise promise = worker->deferred_.Promise();
    worker->Queue();
    return promise;
  }

 protected:
  void Execute() override {
    try {
      work_();
    } catch (const Error& e) {
      fail(e.kind(), e.code(), e.what());
    } catch (const std::bad_alloc&) {
      fail(ErrorKind::kInternal, "ERR_NEONN_NO_MEMORY", "out of memory");
    } catch (const std::exception& e) {
      fail(ErrorKind::kInternal, "ERR_NEONN_INTERNAL", e.what());
    } catch (...) {
      fail(ErrorKind::kInternal, "ERR_NEONN_INTERNAL", "unknown native error");
    }
  }

  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

  void OnError(const Napi::Error& /*unused*/) override {
    Napi::HandleScope scope(Env());
    deferred_.Reject(to_js_error(Env(), kind_, code_, message_).Value());
  }

 private:
  void fail(ErrorKind kind, const std::string& code, const std::string& message) {
    kind_ = kind;
    code_ = code;
    message_ = message;
    SetError(message);
  }

  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
  std::vector<Napi::ObjectReference> refs_;
  ErrorKind kind_ = ErrorKind::kInternal;
  std::string code_ = "ERR_NEONN_INTERNAL";
  std::string message_;
};

}  // namespace binding
}  // namespace neonn
