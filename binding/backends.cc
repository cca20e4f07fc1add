// backends(), setBackend(), getBackend(), setThreads(), getThreads().
#include <napi.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <exception>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#if NEONN_HAVE_XNNPACK
#include <pthreadpool.h>
#endif

#include "../src/auto/choice.h"
#include "../src/cpu.h"
#include "../src/parallel.h"
#include "../src/registry.h"
#include "args.h"
#include "op_worker.h"

namespace neonn {
namespace binding {
namespace {

Napi::Object info_to_js(Napi::Env env, const BackendInfo& i) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", i.name);
  o.Set("available", i.available);
  if (!i.reason.empty()) o.Set("reason", i.reason);
  if (!i.version.empty()) o.Set("version", i.version);
  if (!i.config.empty()) o.Set("config", i.config);
  if (!i.core.empty()) o.Set("core", i.core);
  if (!i.fallback.empty()) o.Set("fallback", i.fallback);
  if (!i.library.empty()) o.Set("library", i.library);
  o.Set("threads", i.threads);
  o.Set("opsRun", static_cast<double>(i.ops_run));
  Napi::Object conv = Napi::Object::New(env);
  for (const auto& r : i.conv_runs) conv.Set(r.first, static_cast<double>(r.second));
  o.Set("convRuns", conv);
  return o;
}

// backends(): BackendInfo[]
Napi::Value Backends(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto& all = Registry::instance().all();
    Napi::Array out = Napi::Array::New(info.Env(), all.size());
    for (size_t i = 0; i < all.size(); ++i) {
      out.Set(static_cast<uint32_t>(i), info_to_js(info.Env(), all[i]->info()));
    }
    return out;
  });
}

// setBackend(name: string): void
Napi::Value SetBackend(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    NEONN_THROW_TYPEERROR_IF(info.Length() < 1 || !info[0].IsString(),
                             "setBackend: expected \"name\" to be a string");
    Registry::instance().set_active(info[0].As<Napi::String>().Utf8Value());
    return info.Env().Undefined();
  });
}

// getBackend(): string
Napi::Value GetBackend(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), Registry::instance().active().name());
}

// setThreads(n: number): number (the count set: n clamped to the online cores)
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    NEONN_THROW_TYPEERROR_IF(info.Length() < 1, "setThreads: expected \"n\"");
    const int64_t n = int_arg(info, 0, "setThreads", "n");
    NEONN_THROW_RANGEERROR_IF(n < 1 || n > 1024,
                              "setThreads: n must be in [1, 1024], got " + std::to_string(n));
    return Napi::Number::New(info.Env(), Registry::instance().set_threads(static_cast<int>(n)));
  });
}

// getThreads(): number
Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), Registry::instance().threads());
}

// onlineCores(): number
Napi::Value OnlineCores(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), Registry::online_cores());
}

// mallocInUse(): number — bytes the C heap has handed out and not had back
// (glibc's mallinfo2: uordblks + hblkhd), or -1 without glibc 2.33+. Unlike RSS
// it does not move when malloc's arenas keep freed pages, so a leak shows as
// steady growth (test/onnx/memory.test.ts).
Napi::Value MallocInUse(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  return Napi::Number::New(info.Env(), static_cast<double>(mi.uordblks + mi.hblkhd));
#else
  return Napi::Number::New(info.Env(), -1);
#endif
}

// buildInfo(): { flavour, target, compiler }
Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("flavour", NEONN_FLAVOUR);
#if defined(__x86_64__)
  o.Set("target", "x86_64");
#elif defined(__aarch64__)
  o.Set("target", "aarch64 (ARMv8-A)");
#elif defined(__arm__) && defined(__ARM_NEON)
  o.Set("target", "arm (ARMv7-A, NEON)");
#elif defined(__arm__)
  o.Set("target", "arm");
#else
  o.Set("target", "unknown");
#endif
#if defined(__VERSION__)
  o.Set("compiler", __VERSION__);
#endif
  const std::vector<std::string> features = cpu_features();
  Napi::Array f = Napi::Array::New(info.Env(), features.size());
  for (size_t i = 0; i < features.size(); ++i) f.Set(static_cast<uint32_t>(i), features[i]);
  o.Set("cpuFeatures", f);
  return o;
}

// --- parallelCheck: a test hook for src/parallel (not part of the facade) ---

struct ParallelCheck {
  MutableFloatSpan counts;
  size_t grain = 1;
  int64_t throw_at = -1;  ///< the item that throws, or -1
  int64_t throw_kind = 0;  ///< 0 a neonn RangeError, 1 a std::runtime_error, 2 a non-std exception
  bool nested = false;     ///< each chunk runs its items through a nested parallel_for
  bool slow = false;       ///< each item takes a few microseconds, so workers surely join
  /// The outer loop runs as pthreadpool tasks on the shared pool, as XNNPACK's operators do, each task's items
  /// through a parallel_for (which must run inline: the pool is held). Without XNNPACK: a plain outer loop.
  bool in_pool_task = false;

  // counts[i] += 1 for every item, so an item run twice or never shows.
  // Returns how many threads ran chunks.
  size_t run() const {
    std::mutex mutex;
    std::set<std::thread::id> threads;
    auto item = [&](size_t i) {
      if (static_cast<int64_t>(i) == throw_at) {
        const std::string what = "parallelCheck: item " + std::to_string(i) + " failed";
        if (throw_kind == 0) throw_range_error(what);
        if (throw_kind == 1) throw std::runtime_error(what);
        throw 42;
      }
      if (slow) {
        volatile float sink = 0.0f;
        for (int k = 0; k < 2000; ++k) sink = sink + 1.0f;
      }
      counts.data[i] += 1.0f;
    };
    auto chunk = [&](size_t begin, size_t end) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        threads.insert(std::this_thread::get_id());
      }
      if (!nested) {
        for (size_t i = begin; i < end; ++i) item(i);
        return;
      }
      parallel_for(end - begin, 1, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) item(begin + i);
      });
    };
    if (in_pool_task) {
      run_in_pool_tasks(chunk);
    } else {
      parallel_for(counts.size, grain, chunk);
    }
    return threads.size();
  }

  // chunk over [0, counts.size) in `grain`-item tasks of pthreadpool_parallelize_1d on the shared pool; the first
  // exception a task throws is rethrown here (it must not unwind through pthreadpool's C code).
  template <typename F>
  void run_in_pool_tasks(F& chunk) const {
    struct Ctx {
      F* chunk;
      size_t n, grain;
      std::mutex mutex;
      std::exception_ptr error;
    } ctx{&chunk, counts.size, grain, {}, nullptr};
    const size_t tasks = (counts.size + grain - 1) / grain;
    auto task = [](void* p, size_t t) {
      Ctx& c = *static_cast<Ctx*>(p);
      try {
        (*c.chunk)(t * c.grain, std::min(c.n, (t + 1) * c.grain));
      } catch (...) {
        std::lock_guard<std::mutex> lock(c.mutex);
        if (!c.error) c.error = std::current_exception();
      }
    };
#if NEONN_HAVE_XNNPACK
    const PoolLease lease;
    pthreadpool_parallelize_1d(static_cast<pthreadpool_t>(lease.get()), task, &ctx, tasks, 0);
#else
    for (size_t t = 0; t < tasks; ++t) task(&ctx, t);
#endif
    if (ctx.error) std::rethrow_exception(ctx.error);
  }
};

ParallelCheck parse_parallel_check(const Napi::CallbackInfo& info) {
  const char* op = "parallelCheck";
  NEONN_THROW_TYPEERROR_IF(info.Length() != 5, "parallelCheck: expects 5 arguments");
  ParallelCheck c;
  c.counts = float32_arg(info, 0, op, "counts");
  NEONN_THROW_TYPEERROR_IF(c.counts.data == nullptr && c.counts.size != 0, "parallelCheck: counts is detached");
  const int64_t grain = int_arg(info, 1, op, "grain");
  NEONN_THROW_RANGEERROR_IF(grain < 1, "parallelCheck: grain must be >= 1");
  c.grain = static_cast<size_t>(grain);
  c.throw_at = int_arg(info, 2, op, "throwAt");
  c.throw_kind = int_arg(info, 3, op, "throwKind");
  const int64_t flags = int_arg(info, 4, op, "flags");
  c.nested = (flags & 1) != 0;
  c.slow = (flags & 2) != 0;
  c.in_pool_task = (flags & 4) != 0;
  return c;
}

// parallelCheckSync(counts, grain, throwAt, throwKind, flags): number (threads that ran chunks)
// flags: bit 0 nested parallel_for per chunk, bit 1 slow items, bit 2 the outer loop as tasks on the shared pthreadpool.
Napi::Value ParallelCheckSync(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const ParallelCheck c = parse_parallel_check(info);
    return Napi::Number::New(info.Env(), static_cast<double>(c.run()));
  });
}

// parallelCheck(counts, grain, throwAt, throwKind, flags): Promise<void>
Napi::Value ParallelCheckAsync(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    ParallelCheck c = parse_parallel_check(info);
    auto owned = std::make_unique<OwnedBuffers>(info.Env(), "parallelCheck");
    c.counts.data = static_cast<float*>(owned->copy_result(info.Env(), info[0], "counts"));
    return OpWorker::Start(new OpWorker(info.Env(), "neonn:parallelCheck", [c] { c.run(); }, std::move(owned)));
  });
}

/// chooseMeasured(kind, structure, names, run): auto's measured choice among alternatives that `run(i)` runs
/// (src/auto/choice.h); returns { index, note, cached }. An exception `run` throws ends the choice and propagates.
/// With `run` null it only looks the decision up (index -1 when there is none).
Napi::Value ChooseMeasured(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsString() || !info[1].IsString() || !info[2].IsArray() || !(info[3].IsFunction() || info[3].IsNull())) {
      throw_type_error("chooseMeasured(kind, structure, names, run): wrong arguments");
    }
    const Napi::Array arr = info[2].As<Napi::Array>();
    std::vector<std::string> names;
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      const Napi::Value v = arr.Get(i);
      if (!v.IsString()) throw_type_error("chooseMeasured: names must be strings");
      names.push_back(v.As<Napi::String>().Utf8Value());
    }
    if (names.empty()) throw_range_error("chooseMeasured: no alternative");
    std::function<void(size_t)> run;
    if (info[3].IsFunction()) {
      const Napi::Function fn = info[3].As<Napi::Function>();
      run = [env, fn](size_t i) { fn.Call({Napi::Number::New(env, static_cast<double>(i))}); };
    }
    const MeasuredChoice c = choose_measured(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value(), names, run);
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", Napi::Number::New(env, c.index == kNotDecided ? -1.0 : static_cast<double>(c.index)));
    o.Set("note", Napi::String::New(env, c.note));
    o.Set("cached", Napi::Boolean::New(env, c.cached));
    return o;
  });
}

}  // namespace

void RegisterBackends(Napi::Env env, Napi::Object exports) {
  exports.Set("chooseMeasured", Napi::Function::New(env, ChooseMeasured, "chooseMeasured"));
  exports.Set("backends", Napi::Function::New(env, Backends, "backends"));
  exports.Set("setBackend", Napi::Function::New(env, SetBackend, "setBackend"));
  exports.Set("getBackend", Napi::Function::New(env, GetBackend, "getBackend"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads, "getThreads"));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("onlineCores", Napi::Function::New(env, OnlineCores, "onlineCores"));
  exports.Set("mallocInUse", Napi::Function::New(env, MallocInUse, "mallocInUse"));
  exports.Set("parallelCheckSync", Napi::Function::New(env, ParallelCheckSync, "parallelCheckSync"));
  exports.Set("parallelCheck", Napi::Function::New(env, ParallelCheckAsync, "parallelCheck"));
}

}  // namespace binding
}  // namespace neonn
