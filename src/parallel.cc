#include "parallel.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <new>

#if NEONN_HAVE_XNNPACK
#include <pthreadpool.h>
#else
#include <condition_variable>
#include <thread>
#include <vector>
#endif

#include "status.h"

namespace neonn {
namespace {

// Chunks per participating thread: more than one, so a thread the OS
// preempts (a shared board, OpenBLAS's own threads) leaves its share to the
// others instead of stalling the whole loop (pthreadpool's threads steal
// from each other's ranges once their own is done).
constexpr size_t kChunksPerThread = 4;

// The most threads one loop fans out to, as OpenBLAS's NUM_THREADS=64: a
// budget of 1024 (the largest setThreads takes) would otherwise reserve a
// thousand thread stacks, which a 32-bit board's address space cannot spare.
constexpr int kMaxThreads = 64;

std::atomic<int> g_threads{1};  // the budget, clamped

// Set while this thread runs a chunk of a loop on the pool: a parallel_for
// (or a PoolLease) from inside it runs inline instead of waiting on the pool
// it is part of.
thread_local bool t_in_chunk = false;

[[noreturn]] void rethrow(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (...) {
    detail::rethrow_as_error();
  }
}

// The whole range on the calling thread, errors as parallel_for documents.
void run_inline(size_t n, const detail::RangeTask& task) {
  try {
    task.run(task.fn, 0, n);
  } catch (...) {
    detail::rethrow_as_error();
  }
}

// [0, n) as `count` chunks of q or q + 1 items (the first r get q + 1):
// each at least n / count items long, so at least `grain` when count <= n / grain.
struct Job {
  const detail::RangeTask* task = nullptr;
  size_t n = 0, count = 0, q = 0, r = 0;
  std::atomic<bool> failed{false};
  std::exception_ptr error;  // the first exception, written once (failed)

  Job(const detail::RangeTask& t, size_t n_, size_t chunks) : task(&t), n(n_), count(chunks), q(n_ / chunks), r(n_ % chunks) {}

  // Runs chunk i unless a chunk failed. Never throws.
  void chunk(size_t i) {
    if (failed.load(std::memory_order_relaxed)) return;  // start no more chunks
    const size_t begin = i * q + std::min(i, r);
    const size_t end = begin + q + (i < r ? 1 : 0);
    const bool outer = t_in_chunk;
    t_in_chunk = true;
    try {
      task->run(task->fn, begin, end);
    } catch (...) {
      if (!failed.exchange(true, std::memory_order_acq_rel)) error = std::current_exception();
    }
    t_in_chunk = outer;
  }
};

#if NEONN_HAVE_XNNPACK

// --- the shared pthreadpool ---------------------------------------------------

// Set while this thread holds the pool (a PoolLease): nested leases get null.
thread_local bool t_holds_pool = false;

// Flags of neonn's own loops: the workers sleep (futex) right after the loop instead of spinning for the next
// job. Spinning workers took the cores OpenBLAS's threads needed next: measured at 2 threads on this machine's
// openblas backend, SqueezeNet 7.2 -> 10.2 ms and MobileNetV2 11.8 -> 14.2 ms without the flag, 7.4 and 11.7
// with it; auto's models (XNNPACK regions between the loops) kept their gain either way (NanoDet-m 22.7 ->
// 15.4 / 16.0 ms), and under a spinning second process openblas went from 2-3x its old time to within 20%.
constexpr uint32_t kLoopFlags = PTHREADPOOL_FLAG_YIELD_WORKERS;

// Set while this thread runs an NHWC region (SpinningWorkers): its loops sit between XNNPACK operators, whose
// workers spin for the next job, and a loop that put them to sleep made the next operator wake them (Teams
// background segmentation at 2 threads: 1.9 -> 2.1 ms when its depthwise convs moved onto neonn's loops).
thread_local bool t_spin = false;

class SharedPool {
 public:
  // One parallel call at a time: pthreadpool serializes its callers on a
  // mutex of its own, which a caller that cannot wait (a nested call, a loop
  // on another libuv thread) must never reach while another holds it.
  std::mutex gate;

  // The pool at the current budget, made or remade now if needed; null at a
  // budget of 1, after stop(), or when its threads cannot be made (tried
  // again only at another budget). Under gate.
  pthreadpool_t current() {
    const size_t want = static_cast<size_t>(g_threads.load(std::memory_order_relaxed));
    if (stopped_) return nullptr;
    if (pool_ != nullptr && threads_ == want) return pool_;
    if (pool_ == nullptr && failed_at_ == want) return nullptr;
    drop();
    if (want <= 1) return nullptr;
    pool_ = pthreadpool_create(want);
    if (pool_ == nullptr) {
      failed_at_ = want;
      return nullptr;
    }
    threads_ = want;
    failed_at_ = 0;
    return pool_;
  }

  // Joins the workers of a pool sized for another budget. Under gate.
  void trim() {
    if (pool_ != nullptr && threads_ != static_cast<size_t>(g_threads.load(std::memory_order_relaxed))) drop();
  }

  // Joins the workers for good: at process exit, or when the addon is
  // unloaded while its code is still mapped. Waits for a call in progress on
  // another (libuv) thread; later leases get null and loops run inline.
  void stop() {
    std::lock_guard<std::mutex> lock(gate);
    stopped_ = true;
    drop();
  }

 private:
  void drop() {
    if (pool_ != nullptr) pthreadpool_destroy(pool_);
    pool_ = nullptr;
    threads_ = 0;
  }

  pthreadpool_t pool_ = nullptr;  // under gate
  size_t threads_ = 0;            // pool_'s threads, the caller's included
  size_t failed_at_ = 0;          // the budget pthreadpool_create last failed at
  bool stopped_ = false;
};

// Never destroyed (a libuv thread may still be in an op while the process
// exits); only its workers are joined, by the guard's destructor.
SharedPool& shared() {
  static SharedPool* p = new SharedPool();
  return *p;
}

void run_chunk(void* job, size_t i) { static_cast<Job*>(job)->chunk(i); }

void run_pool(size_t n, size_t chunks, const detail::RangeTask& task) {
  // Inline when another thread holds the pool: never wait for it (that caller
  // might be waiting for us one level up, and inline is what we would do alone).
  PoolLease lease;
  if (lease.get() == nullptr) return run_inline(n, task);
  Job job(task, n, chunks);
  pthreadpool_parallelize_1d(static_cast<pthreadpool_t>(lease.get()), &run_chunk, &job, chunks, t_spin ? 0 : kLoopFlags);
  if (job.failed.load(std::memory_order_acquire)) rethrow(job.error);
}

void set_pool_threads() {
  // Drop a pool of the old size now if nobody holds it (else the next lease does).
  SharedPool& s = shared();
  if (t_holds_pool || t_in_chunk || !s.gate.try_lock()) return;
  s.trim();
  s.gate.unlock();
}

#else  // !NEONN_HAVE_XNNPACK

// --- neonn's own pool: no pthreadpool in this build ----------------------------

// Workers sleep as soon as they are idle, and a caller sleeps while it
// waits for them: no polling. Measured on SqueezeNet, GoogLeNet and
// MobileNetV2 at 2 threads, polling for 20-200 us after a job was slower
// (50 us: ~8% on SqueezeNet, 200 us: ~35%), never faster: between neonn's
// loops OpenBLAS runs its GEMMs, whose own threads need the core a polling
// worker holds (and they spin between calls too).
struct CvJob {
  Job* job = nullptr;
  size_t helpers = 0;              // workers with an index below this may join
  std::atomic<size_t> next{0};     // next chunk to claim
  std::atomic<size_t> refs{0};     // workers inside the job

  // Runs chunks until none is left (or one failed). Never throws.
  void work() {
    for (;;) {
      const size_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= job->count || job->failed.load(std::memory_order_relaxed)) return;
      job->chunk(c);
    }
  }
};

class Pool {
 public:
  void run(size_t n, size_t chunks, const detail::RangeTask& task) {
    // Inline: a nested call, or the pool is busy with another caller's loop.
    if (t_in_chunk || busy_.exchange(true, std::memory_order_acquire)) return run_inline(n, task);
    struct Release {
      std::atomic<bool>& busy;
      ~Release() { busy.store(false, std::memory_order_release); }
    } release{busy_};

    const size_t helpers = ensure_workers(static_cast<size_t>(g_threads.load(std::memory_order_relaxed)) - 1);
    if (helpers == 0) return run_inline(n, task);
    Job job(task, n, chunks);
    CvJob cv;
    cv.job = &job;
    cv.helpers = helpers;
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      current_ = &cv;
      gen_.fetch_add(1, std::memory_order_release);
      wake = sleepers_ > 0;
    }
    if (wake) work_cv_.notify_all();

    cv.work();

    {
      // No worker joins after this; wait for those that did.
      std::unique_lock<std::mutex> lock(mutex_);
      current_ = nullptr;
      done_cv_.wait(lock, [&] { return cv.refs.load(std::memory_order_acquire) == 0; });
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
      CvJob* job = current_;
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

  std::atomic<bool> busy_{false};  // one caller fans out at a time
  std::mutex mutex_;
  std::condition_variable work_cv_;  // workers: a new job, or stop
  std::condition_variable done_cv_;  // the caller: the last worker left its job
  std::atomic<uint64_t> gen_{0};     // bumped per published job (written under mutex_)
  CvJob* current_ = nullptr;         // under mutex_
  size_t sleepers_ = 0;              // under mutex_
  bool stop_ = false;                // under mutex_
  bool spawn_failed_ = false;        // under mutex_
  std::vector<std::thread> workers_; // under mutex_
};

Pool& cv_pool() {
  static Pool* p = new Pool();
  return *p;
}

void run_pool(size_t n, size_t chunks, const detail::RangeTask& task) { cv_pool().run(n, chunks, task); }

void set_pool_threads() {}

#endif  // NEONN_HAVE_XNNPACK

struct ShutdownGuard {
#if NEONN_HAVE_XNNPACK
  ~ShutdownGuard() { shared().stop(); }
#else
  ~ShutdownGuard() { cv_pool().shutdown(); }
#endif
} g_shutdown_guard;

}  // namespace

PoolLease::PoolLease(Mode mode) {
#if NEONN_HAVE_XNNPACK
  if (t_holds_pool || t_in_chunk || g_threads.load(std::memory_order_relaxed) <= 1) return;
  SharedPool& s = shared();
  if (mode == kWait) {
    s.gate.lock();
  } else if (!s.gate.try_lock()) {
    return;
  }
  pool_ = s.current();
  if (pool_ == nullptr) {
    s.gate.unlock();
    return;
  }
  t_holds_pool = true;
#else
  (void)mode;
#endif
}

PoolLease::~PoolLease() {
#if NEONN_HAVE_XNNPACK
  if (pool_ == nullptr) return;
  t_holds_pool = false;
  shared().gate.unlock();
#endif
}

SpinningWorkers::SpinningWorkers() {
#if NEONN_HAVE_XNNPACK
  was_ = t_spin;
  t_spin = true;
#endif
}

SpinningWorkers::~SpinningWorkers() {
#if NEONN_HAVE_XNNPACK
  t_spin = was_;
#endif
}

void set_parallel_threads(int n) {
  g_threads.store(std::min(kMaxThreads, clamp_threads(n)), std::memory_order_relaxed);
  set_pool_threads();
}

int online_cores() {
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

int clamp_threads(int n) { return std::min(online_cores(), std::max(1, n)); }

int parallel_threads() { return g_threads.load(std::memory_order_relaxed); }

namespace detail {

void parallel_run(size_t n, size_t grain, const RangeTask& task) {
  const size_t threads = static_cast<size_t>(parallel_threads());
  const size_t chunks = std::min(n / grain, threads * kChunksPerThread);
  // Inline: one chunk's worth, or a budget of 1.
  if (threads <= 1 || chunks <= 1) return run_inline(n, task);
  run_pool(n, chunks, task);
}

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
