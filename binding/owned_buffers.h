// Native copies of the JS buffers an async op or model run uses. JS can
// detach an ArrayBuffer at any time (structuredClone/postMessage transfer),
// and a reference to the typed array does not stop that: the backing store is
// freed under the worker. So at call time (JS thread) every buffer the work
// reads is copied into memory owned here, results are written into owned
// memory too, and copy_out() (JS thread, after the work) copies them into the
// caller's buffers, or fails with ERR_NEONN_DETACHED when one was detached.
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "args.h"

namespace neonn {
namespace binding {

/// Copy buffers freed by finished work, kept for the next call of the same
/// JS environment: fresh memory for a 600 KB model input costs page faults
/// (1.6 ms on a small VM, a tenth of a SqueezeNet run), reused memory only
/// the memcpy. Bounded; shared by the environment and its pending work.
class BufferPool {
 public:
  using Words = std::unique_ptr<uint64_t[]>;

  /// The pool of `env`'s addon instance (made on first use).
  static std::shared_ptr<BufferPool> of(napi_env env) {
    Napi::Env e(env);
    auto* holder = e.GetInstanceData<std::shared_ptr<BufferPool>>();
    if (holder == nullptr) {
      holder = new std::shared_ptr<BufferPool>(std::make_shared<BufferPool>());
      e.SetInstanceData(holder);  // deleted at environment teardown
    }
    return *holder;
  }

  /// A buffer of at least `words` 8-byte words (its real size in `*capacity`).
  Words take(size_t words, size_t* capacity) {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t best = free_.size();
    for (size_t i = 0; i < free_.size(); ++i) {
      // Big enough, and not wasting more than half of it.
      if (free_[i].words >= words && free_[i].words / 2 <= words &&
          (best == free_.size() || free_[i].words < free_[best].words)) {
        best = i;
      }
    }
    if (best == free_.size()) {
      *capacity = words;
      return Words(new uint64_t[words]);
    }
    Entry e = std::move(free_[best]);
    free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(best));
    held_ -= e.words;
    *capacity = e.words;
    return std::move(e.data);
  }

  /// Returns a buffer; the oldest go when the pool is over its bounds.
  void give(Words data, size_t words) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (words > kMaxWords) return;
    free_.push_back(Entry{words, std::move(data)});
    held_ += words;
    while (free_.size() > kMaxEntries || held_ > kMaxWords) {
      held_ -= free_.front().words;
      free_.erase(free_.begin());
    }
  }

 private:
  static constexpr size_t kMaxEntries = 16;
  static constexpr size_t kMaxWords = (size_t{64} << 20) / 8;  // 64 MiB
  struct Entry {
    size_t words;
    Words data;
  };
  std::mutex mutex_;
  std::vector<Entry> free_;
  size_t held_ = 0;
};

class OwnedBuffers {
 public:
  /// `op`: the name errors start with ("conv2d"); `env`: whose buffer pool to use.
  OwnedBuffers(napi_env env, std::string op) : op_(std::move(op)), pool_(BufferPool::of(env)) {}
  OwnedBuffers(const OwnedBuffers&) = delete;
  OwnedBuffers& operator=(const OwnedBuffers&) = delete;
  ~OwnedBuffers() {
    for (Copy& c : copies_) pool_->give(std::move(c.data), c.words);
  }

  /// A native copy of typed array `v`'s bytes (ERR_NEONN_DETACHED when its
  /// buffer is detached). The same view passed twice (out === x) gets one
  /// copy, so an in-place op stays in place. Never null, even for 0 bytes.
  void* copy(napi_env env, napi_value v, const std::string& what) {
    const TypedView view = typed_view(env, v, op_, what);
    if (view.bytes > 0) {
      for (const Copy& c : copies_) {
        if (c.source == view.data && c.bytes == view.bytes) return c.data.get();
      }
    }
    Copy c;
    c.source = view.data;
    c.bytes = view.bytes;
    // Whole 8-byte words: aligned for every dtype, and never a null pointer.
    c.data = pool_->take(view.bytes / 8 + 1, &c.words);
    if (view.bytes > 0) std::memcpy(c.data.get(), view.data, view.bytes);
    copies_.push_back(std::move(c));
    total_ += view.bytes;
    return copies_.back().data.get();
  }

  /// Same as copy(), and copy_out() writes the copy back into `v`.
  void* copy_result(napi_env env, napi_value v, const std::string& what) {
    void* native = copy(env, v, what);
    Result r;
    r.target = Napi::Persistent(Napi::Value(env, v).As<Napi::Object>());
    r.native = native;
    r.bytes = typed_view(env, v, op_, what).bytes;
    r.what = what;
    results_.push_back(std::move(r));
    return native;
  }

  /// JS thread, after the work: writes every result into its typed array.
  /// When any of them was detached meanwhile, writes none and throws
  /// ERR_NEONN_DETACHED (a detached `out` is an error, never an empty result).
  void copy_out(napi_env env) {
    for (const Result& r : results_) {
      const Napi::Value v = r.target.Value();
      if (attached_bytes(env, v) < r.bytes) {
        throw Error(ErrorKind::kInternal, "ERR_NEONN_DETACHED",
                    op_ + ": \"" + r.what + "\" was detached (transferred) while the op ran; no result was written");
      }
    }
    for (const Result& r : results_) {
      const TypedView view = typed_view(env, r.target.Value(), op_, r.what);
      if (r.bytes > 0) std::memcpy(view.data, r.native, r.bytes);
    }
  }

  /// Bytes copied in (for the cost measurements).
  size_t bytes() const { return total_; }

 private:
  struct Copy {
    const void* source = nullptr;
    size_t bytes = 0;
    size_t words = 0;  ///< capacity of `data`
    BufferPool::Words data;
  };
  struct Result {
    Napi::ObjectReference target;
    void* native = nullptr;
    size_t bytes = 0;
    std::string what;
  };

  /// The typed array's byte length now, 0 when its buffer is detached.
  static size_t attached_bytes(napi_env env, const Napi::Value& v) {
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    napi_value buffer = nullptr;
    if (napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, nullptr) != napi_ok) return 0;
    bool detached = true;
    if (napi_is_detached_arraybuffer(env, buffer, &detached) != napi_ok || detached || data == nullptr) return 0;
    return length * typed_array_element_size(type);
  }

  std::string op_;
  std::shared_ptr<BufferPool> pool_;
  std::vector<Copy> copies_;
  std::vector<Result> results_;
  size_t total_ = 0;
};

}  // namespace binding
}  // namespace neonn
