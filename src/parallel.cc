#include "parallel.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "status.h"

namespace neonn {
namespace {

// Chunks per participating thread: more than one, so a thread the OS
// preempts (a shared board, OpenBLAS's own threads) leaves its share to the
// others instead of stalling the whole loop.
constexpr size_t kChunksPerThread = 4;

// The most threads one loop fans out to, as OpenBLAS's NUM_THREADS=64: a
// budget of 1024 (the largest setThreads takes) would otherwise reserve a
// thousand thread stacks, which a 32-bit board's address space cannot spare.
constexpr int kMaxThreads = 64;

// Workers sleep as soon as they are idle, and a caller sleeps while it
// waits for them: no polling. Measured on SqueezeNet, GoogLeNet and
// MobileNetV2 at 2 threads, polling for 20-200 us after a job was slower
// (50 us: ~8% on SqueezeNet, 200 us: ~35%), never faster: between neonn's
// loops OpenBLAS runs its GEMMs, whose own threads need the core a polling
// worker holds (and they spin between calls too).

// Set on pool workers and on a caller while it runs its share: a parallel_for
// from inside a chunk runs inline instead of waiting on the pool it is part of.
thread_local bool t_in_region = false;

struct Job {
  const detail::RangeTask* task = nullptr;
  size_t n = 0, chunk = 0, chunks = 0;
  size_t helpers = 0;                // workers with an index below this may join
  std::atomic<size_t> next{0};       // next chunk to claim
  std::atomic<size_t> refs{0};       // workers inside the job
  std::atomic<bool> failed{false};
  std::exception_ptr error;          // the first exception, written once (failed)

  // Runs chunks until none is left (or one failed). Never throws.
  void work() {
    for (;;) {
      const size_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks) return;
      const size_t begin = c * chunk;
      const size_t end = std::min(n, begin + chunk);
      try {
        task->run(task->fn, begin, end);
      } catch (...) {
        if (!failed.exchange(true, std::memory_order_acq_rel)) error = std::current_exception();
        next.store(chunks, std::memory_order_relaxed);  // start no more chunks
        return;
      }
    }
  }
};

class Pool {
 public:
  void set_threads(int n) { threads_.store(std::min(kMaxThreads, clamp_threads(n)), std::memory_order_relaxed); }
  int threads() const { return threads_.load(std::memory_order_relaxed); }

  void run(size_t n, size_t grain, const detail::RangeTask& task) {
    const size_t threads = static_cast<size_t>(this->threads());
    const size_t chunks = std::min(n / grain, threads * kChunksPerThread);
    // Inline: one chunk's worth, a budget of 1, a nested call, or the pool is
    // busy with another caller's loop (never wait for it: that caller might
    // be waiting for us one level up, and inline is what we would do alone).
    if (threads <= 1 || chunks <= 1 || t_in_region || busy_.exchange(true, std::memory_order_acquire)) {
      run_inline(n, task);
      return;
    }
    struct Release {
      std::atomic<bool>& busy;
      ~Release() { busy.store(false, std::memory_order_release); }
    } release{busy_};

    const size_t helpers = ensure_workers(threads - 1);
    if (helpers == 0) {
      run_inline(n, task);
      return;
    }
    Job job;
    job.task = &task;
    job.n = n;
    job.chunk = (n + chunks - 1) / chunks;
    job.chunks = (n + job.chunk - 1) / job.chunk;
    job.helpers = helpers;
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      current_ = &job;
      gen_.fetch_add(1, std::memory_order_release);
      wake = sleepers_ > 0;
    }
    if (wake) work_cv_.notify_all();

    t_in_region = true;
    job.work();
    t_in_region = false;

    {
      // No worker joins after this; wait for those that did.
      std::unique_lock<std::mutex> lock(mutex_);
      current_ = nullptr;
      done_cv_.wait(lock, [&] { return job.refs.load(std::memory_order_acquire) == 0; });
    }
    if (job.failed.load(std::memory_order_acquire)) rethrow(job.error);
  }

  // Joins the workers: at process exit, or when the addon is unloaded while
  // its code is still mapped. The pool itself is never destroyed, so a late
  // caller finds a valid (stopped) pool and runs inline.
  void shutdown() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return;
      stop_ = true;
    }
    work_cv_.notify_all();
    std::vector<std::thread> workers;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      workers.swap(workers_);
    }
    for (std::thread& t : workers) {
      if (t.joinable()) t.join();
    }
  }

 private:
  [[noreturn]] static void rethrow(const std::exception_ptr& error) {
    try {
      std::rethrow_exception(error);
    } catch (...) {
      detail::rethrow_as_error();
    }
  }

  // The whole range on the calling thread, errors as parallel_for documents.
  static void run_inline(size_t n, const detail::RangeTask& task) {
    try {
      task.run(task.fn, 0, n);
    } catch (...) {
      detail::rethrow_as_error();
    }
  }

  // Starts workers up to `wanted` (on first use, not at load: a process that
  // never runs a big enough loop never gets them). Returns how many exist,
  // at most `wanted`; fewer when the system refuses threads.
  size_t ensure_workers(size_t wanted) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_) return 0;
    while (workers_.size() < wanted && !spawn_failed_) {
      try {
        const size_t index = workers_.size();
        workers_.emplace_back([this, index] { worker(index); });
      } catch (...) {  // std::system_error from the thread, bad_alloc from the vector
        spawn_failed_ = true;  // run with what we have
      }
    }
    return std::min(wanted, workers_.size());
  }

  void worker(size_t index) {
    t_in_region = true;
    uint64_t seen = gen_.load(std::memory_order_acquire);
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (stop_) return;
      if (gen_.load(std::memory_order_relaxed) == seen) {
        ++sleepers_;
        work_cv_.wait(lock, [&] { return stop_ || gen_.load(std::memory_order_relaxed) != seen; });
        --sleepers_;
        if (stop_) return;
      }
      seen = gen_.load(std::memory_order_relaxed);
      Job* job = current_;
      if (job == nullptr || index >= job->helpers) continue;
      job->refs.fetch_add(1, std::memory_order_relaxed);
      lock.unlock();
      job->work();
      // The job may be gone once refs reaches 0: touch only the pool after.
      if (job->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        lock.lock();
        done_cv_.notify_all();
      } else {
        lock.lock();
      }
    }
  }

  std::atomic<int> threads_{1};
  std::atomic<bool> busy_{false};  // one caller fans out at a time
  std::mutex mutex_;
  std::condition_variable work_cv_;  // workers: a new job, or stop
  std::condition_variable done_cv_;  // the caller: the last worker left its job
  std::atomic<uint64_t> gen_{0};     // bumped per published job (written under mutex_)
  Job* current_ = nullptr;           // under mutex_
  size_t sleepers_ = 0;              // under mutex_
  bool stop_ = false;                // under mutex_
  bool spawn_failed_ = false;        // under mutex_
  std::vector<std::thread> workers_; // under mutex_
};

// Never destroyed (a libuv thread may still be in an op while the process
// exits); only its workers are joined, by the guard's destructor.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

struct ShutdownGuard {
  ~ShutdownGuard() { pool().shutdown(); }
} g_shutdown_guard;

}  // namespace

void set_parallel_threads(int n) { pool().set_threads(n); }

int online_cores() {
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

int clamp_threads(int n) { return std::min(online_cores(), std::max(1, n)); }

int parallel_threads() { return pool().threads(); }

namespace detail {

void parallel_run(size_t n, size_t grain, const RangeTask& task) { pool().run(n, grain, task); }

void rethrow_as_error() {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;  // the binding reports it as out of memory
  } catch (const std::exception& e) {
    throw Error(ErrorKind::kInternal, "ERR_NEONN_INTERNAL", e.what());
  } catch (...) {
    throw Error(ErrorKind::kInternal, "ERR_NEONN_INTERNAL", "unknown error in a parallel loop");
  }
}

}  // namespace detail

}  // namespace neonn
