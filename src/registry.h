// The process-wide set of backends, the active one, and the thread budget.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend.h"

namespace neonn {

class Registry {
 public:
  /// The registry with every built-in backend, created on first use.
  static Registry& instance();

  /// Every backend, registration order (built-in ones, then blas:<path> ones as loaded).
  std::vector<const Backend*> all() const;
  /// nullptr when no backend has that name.
  const Backend* find(const std::string& name) const;

  const Backend& active() const { return *active_.load(std::memory_order_acquire); }
  /// Throws a RangeError for an unknown name and an Unavailable error for a
  /// backend that cannot run here; both list the available backends. A
  /// "blas:<path>" name loads that CBLAS library first (see load_blas).
  void set_active(const std::string& name);

  /// The "blas:<path>" backend: the CBLAS library at <path>, dlopen'd with
  /// local symbols, registered on first use and kept for the process's life.
  /// Throws an Unavailable error (with dlopen's reason) when it cannot load.
  const Backend& load_blas(const std::string& name);

  /// The backend that runs `op` when `from` is selected: `from` itself, or the
  /// first backend on its fallback chain that provides the op.
  const Backend& resolve(const Backend& from, Op op) const;

  int threads() const { return threads_.load(std::memory_order_relaxed); }
  /// One budget for every backend: each is told the same count, clamped to
  /// [1, online cores] (clamp_threads); returns the count set.
  int set_threads(int n);
  static int online_cores();

  /// "openblas, openblas-dl, reference" (available ones, registration order).
  std::string available_names() const;

 private:
  Registry();
  void add(std::unique_ptr<Backend> backend);

  // Backends are only ever added, never removed: readers walk the first
  // count_ slots without a lock while a blas:<path> load appends under add_mutex_.
  static constexpr size_t kMaxBackends = 32;
  std::array<std::unique_ptr<Backend>, kMaxBackends> backends_;
  std::atomic<size_t> count_{0};
  std::mutex add_mutex_;
  std::atomic<const Backend*> active_{nullptr};
  std::atomic<int> threads_{1};
};

}  // namespace neonn
