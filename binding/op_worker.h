// One async worker for every op: the work runs in Execute() on the libuv pool
// on native copies of its buffers (owned_buffers.h: a referenced typed array
// can still be detached and freed), results are copied out in OnOK, and any
// C++ exception becomes a rejection (never an abort).
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "owned_buffers.h"

namespace neonn {
namespace binding {

class OpWorker final : public Napi::AsyncWorker {
 public:
  /// `buffers`: the native copies the work reads and writes (may be null
  /// when it touches no JS memory); their results are copied out in OnOK.
  OpWorker(Napi::Env env, const char* resource, std::function<void()> work,
           std::unique_ptr<OwnedBuffers> buffers)
      : Napi::AsyncWorker(env, resource),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        buffers_(std::move(buffers)) {}

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

  void OnOK() override {
    if (buffers_) {
      try {
        buffers_->copy_out(Env());
      } catch (const Error& e) {
        deferred_.Reject(to_js_error(Env(), e.kind(), e.code(), e.what()).Value());
        return;
      }
    }
    deferred_.Resolve(Env().Undefined());
  }

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
  std::unique_ptr<OwnedBuffers> buffers_;
  ErrorKind kind_ = ErrorKind::kInternal;
  std::string code_ = "ERR_NEONN_INTERNAL";
  std::string message_;
};

}  // namespace binding
}  // namespace neonn
