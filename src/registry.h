// The process-wide set of backends, the active one, and the thread budget.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"

namespace neonn {

class Registry {
 public:
  /// The registry with every built-in backend, created on first use.
  static Registry& instance();

  const std::vector<std::unique_ptr<Backend>>& all() const { return backends_; }
  /// nullptr when no backend has that name.
  const Backend* find(const std::string& name) const;

  const Backend& active() const { return *active_.load(std::memory_order_acquire); }
  /// Throws a RangeError for an unknown name and an Unavailable error for a
  /// backend that cannot run here; both list the available backends.
  void set_active(const std::string& name);

  /// The backend that runs `op` when `from` is selected: `from` itself, or the
  /// first backend on its fallback chain that provides the op.
  const Backend& resolve(const Backend& from, Op op) const;

  int threads() const { return threads_.load(std::memory_order_relaxed); }
  /// One budget for every backend: each is told the same count.
  void set_threads(int n);
  static int online_cores();

  /// "openblas, openblas-dl, reference" (available ones, registration order).
  std::string available_names() const;

 private:
  Registry();
  void add(std::unique_ptr<Backend> backend);

  std::vector<std::unique_ptr<Backend>> backends_;
  std::atomic<const Backend*> active_{nullptr};
  std::atomic<int> threads_{1};
};

}  // namespace neonn
