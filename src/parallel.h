// The process-wide thread pool, shared by neonn's own loops (pooling,
// elementwise, im2col, depthwise conv, ...) and XNNPACK (its operators, the
// NHWC regions, their transposes): one pthreadpool of budget - 1 workers plus
// the calling thread, sized by the registry's thread budget (setThreads),
// made on first use and remade on the first use after the budget changes.
// OpenBLAS keeps its own threads, at the same count, for the GEMMs it runs;
// NNPACK (loaded at run time) brings its own pthreadpool. A model that
// alternates XNNPACK regions with neonn's kernels wakes one set of threads,
// and the workers still spinning after a region pick up the next loop.
//
// parallel_for(n, grain, fn) calls fn(begin, end) over disjoint ranges that
// cover [0, n) exactly once, each at least `grain` items long, on the caller
// and up to budget - 1 pool workers. Callers make each item's result depend
// on nothing but the item, so output does not depend on the thread count.
//
//  - n <= grain, or a budget of 1: fn(0, n) inline, no synchronization at all.
//  - One parallel call holds the pool at a time (a PoolLease: a try-lock,
//    never a wait). Nested calls (from inside fn, or from inside an XNNPACK
//    operator's task) and calls made while another thread holds the pool
//    (several libuv threads running ops at once) run inline: the budget is
//    exceeded by at most one thread per extra concurrent caller, and nothing
//    ever waits for the pool (pthreadpool would serialize its callers on a
//    mutex, and a nested call would deadlock on it).
//  - An exception thrown by fn stops further chunks from starting and is
//    rethrown in the caller once every running chunk has finished: a
//    neonn::Error (or std::bad_alloc) as it was, anything else as an
//    internal neonn::Error. It never reaches pthreadpool's C code or a
//    worker's top level.
//  - Idle workers do not burn a core for long: pthreadpool's workers spin
//    (up to 10^6 pause/yield instructions: about a millisecond on ARM, tens
//    of milliseconds on recent x86) for the next job, then sleep on a futex.
//  - A build without XNNPACK (NEONN_XNNPACK=OFF) has no pthreadpool: neonn's
//    loops then run on their own condition-variable pool (parallel.cc),
//    whose workers sleep as soon as they are idle, and PoolLease gives null.
#pragma once

#include <cstddef>
#include <type_traits>

namespace neonn {

/// Threads neonn's own loops may use, the caller included; n < 1 counts as 1
/// and more than the online cores (or 64) as that many. Registry::set_threads
/// calls it with the one process-wide budget.
void set_parallel_threads(int n);
/// The online cores (sysconf(_SC_NPROCESSORS_ONLN), at least 1).
int online_cores();
/// n limited to [1, online_cores()]: more threads than cores only queue on
/// them, and a pool of a thousand threads (NEONN_THREADS=999) makes every op
/// wait for the scheduler. Every place that sizes a thread pool applies it.
int clamp_threads(int n);
/// The current budget for neonn's own loops (>= 1).
int parallel_threads();

/// The shared pool held for one parallel call, for code that calls XNNPACK
/// or pthreadpool itself: get() is the pthreadpool_t to pass, or null (run on
/// the calling thread alone) when the budget is 1, when this thread already
/// holds the pool or another thread does (without waiting, unless kWait),
/// in a build without XNNPACK, or when the pool's threads cannot be made.
/// Held until destroyed: hold it around the XNNPACK calls only, not around
/// neonn kernels (their parallel_for would run inline).
class PoolLease {
 public:
  enum Mode {
    kTry,   ///< never wait: null when another thread holds the pool
    kWait,  ///< wait for another thread's call to end (planning: XNNPACK sizes its tiles by the pool's threads);
            ///< never from inside a pool task
  };
  explicit PoolLease(Mode mode = kTry);
  ~PoolLease();
  PoolLease(const PoolLease&) = delete;
  PoolLease& operator=(const PoolLease&) = delete;
  /// A pthreadpool_t, or null.
  void* get() const { return pool_; }

 private:
  void* pool_ = nullptr;
};

/// While alive, the loops this thread starts leave the pool's workers spinning for the next job, as XNNPACK's
/// operators do, instead of putting them to sleep: for loops between XNNPACK operators (an NHWC region's own
/// kernels), where the next operator would otherwise wake them again.
class SpinningWorkers {
 public:
  SpinningWorkers();
  ~SpinningWorkers();
  SpinningWorkers(const SpinningWorkers&) = delete;
  SpinningWorkers& operator=(const SpinningWorkers&) = delete;

 private:
  bool was_ = false;
};

/// Items of the cheapest kind of work (a float copied or compared) worth
/// handing to another thread: waking one and sharing cache lines costs about
/// this much. Callers divide by the work per item to get a grain.
constexpr size_t kParallelMinWork = size_t{1} << 15;

/// A grain for items that each cost about `work_per_item` cheap operations.
constexpr size_t parallel_grain(size_t work_per_item) {
  return work_per_item >= kParallelMinWork ? 1 : kParallelMinWork / (work_per_item == 0 ? 1 : work_per_item);
}

namespace detail {
/// A non-owning reference to the caller's fn: no allocation per call.
struct RangeTask {
  void* fn;
  void (*run)(void* fn, size_t begin, size_t end);
};
void parallel_run(size_t n, size_t grain, const RangeTask& task);
/// Inside a catch handler: rethrows the exception being handled as parallel_for documents.
[[noreturn]] void rethrow_as_error();
}  // namespace detail

template <typename F>
void parallel_for(size_t n, size_t grain, F&& fn) {
  if (n == 0) return;
  if (n <= grain) {
    try {  // free unless something throws
      fn(size_t{0}, n);
    } catch (...) {
      detail::rethrow_as_error();
    }
    return;
  }
  using Fn = std::remove_reference_t<F>;
  const detail::RangeTask task{const_cast<void*>(static_cast<const void*>(&fn)),
                               [](void* f, size_t begin, size_t end) { (*static_cast<Fn*>(f))(begin, end); }};
  detail::parallel_run(n, grain == 0 ? 1 : grain, task);
}

}  // namespace neonn
