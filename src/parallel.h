// neonn's own worker pool for its plain loops (pooling, elementwise, im2col,
// depthwise conv, ...): one process-wide pool sized by the registry's thread
// budget, so neonn's loops, OpenBLAS and pthreadpool share one count.
//
// parallel_for(n, grain, fn) calls fn(begin, end) over disjoint ranges that
// cover [0, n) exactly once, each at least `grain` items long, on the caller
// and up to budget - 1 pool workers. Callers make each item's result depend
// on nothing but the item, so output does not depend on the thread count.
//
//  - n <= grain, or a budget of 1: fn(0, n) inline, no synchronization at all.
//  - Nested calls (from inside fn) and calls made while another thread holds
//    the pool (several libuv threads running ops at once) run inline: one
//    caller at a time fans out, so the budget is exceeded by at most one
//    thread per extra concurrent caller, and nothing ever waits for the pool.
//  - An exception thrown by fn stops further chunks from starting and is
//    rethrown in the caller once every running chunk has finished: a
//    neonn::Error (or std::bad_alloc) as it was, anything else as an
//    internal neonn::Error. It never reaches a worker's top level.
//  - Workers sleep on a condition variable whenever they are idle (no
//    polling, see parallel.cc): an idle service burns no core.
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
