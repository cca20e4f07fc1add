#include "auto_backend.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "../ops/conv.h"
#include "../registry.h"
#include "tuning_cache.h"

namespace neonn {
namespace {

using Clock = std::chrono::steady_clock;

// Microseconds of the fastest of a few runs. The first run also faults in
// scratch memory and wakes thread pools, so it counts alone only for a conv
// long enough (> 50 ms) for that to be noise; short convs are repeated so one
// preempted run on a shared machine does not decide.
double measure(const std::function<void()>& run) {
  auto timed = [&] {
    const auto t0 = Clock::now();
    run();
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  };
  const double first = timed();
  if (first > 50000.0) return first;
  double best = timed();
  double total = first + best;
  for (int i = 0; i < 4 && total < 20000.0; ++i) {
    const double us = timed();
    best = std::min(best, us);
    total += us;
  }
  return best;
}

struct Candidate {
  const Backend* backend;
  ConvAlgorithm algorithm;
};

std::string shape_key(const Conv2dCall& c) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%lld,%lld,%lld,%lld>%lld,%lldx%lld/g%lld/s%lld,%lld/d%lld,%lld/p%lld,%lld,%lld,%lld/a%d",
                static_cast<long long>(c.n), static_cast<long long>(c.c_in),
                static_cast<long long>(c.in_h), static_cast<long long>(c.in_w),
                static_cast<long long>(c.c_out), static_cast<long long>(c.k_h),
                static_cast<long long>(c.k_w), static_cast<long long>(c.group),
                static_cast<long long>(c.stride_h), static_cast<long long>(c.stride_w),
                static_cast<long long>(c.dilation_h), static_cast<long long>(c.dilation_w),
                static_cast<long long>(c.pad_top), static_cast<long long>(c.pad_left),
                static_cast<long long>(c.pad_bottom), static_cast<long long>(c.pad_right),
                static_cast<int>(c.activation));
  return buf;
}

// What auto chose for a layer: the winner's own plan, with how it was chosen.
class ChosenPlan final : public ConvPlan {
 public:
  ChosenPlan(const Backend& self, std::unique_ptr<ConvPlan> inner, std::string note)
      : self_(self), inner_(std::move(inner)), note_(std::move(note)) {}
  void run(const Conv2dCall& call) const override {
    inner_->run(call);
    self_.count_conv(inner_->algorithm());
  }
  const std::string& backend() const override { return inner_->backend(); }
  ConvAlgorithm algorithm() const override { return inner_->algorithm(); }
  size_t memory_bytes() const override { return inner_->memory_bytes(); }
  std::string note() const override { return note_; }

 private:
  const Backend& self_;
  std::unique_ptr<ConvPlan> inner_;
  std::string note_;
};

class AutoBackend final : public Backend {
 public:
  AutoBackend() : Backend("auto", "openblas"), status_(Status::Ok()) {}

  const Status& status() const override { return status_; }

  BackendInfo info() const override {
    BackendInfo i = Backend::info();
    const std::string& path = TuningCache::instance().path();
    i.config = "measures each conv shape on every available backend and keeps the fastest; choices cached in " +
               (path.empty() ? std::string("memory only (NEONN_CACHE_DIR=off)") : path);
    i.threads = Registry::instance().threads();
    return i;
  }

  bool provides(Op op) const override { return op == Op::kConv2d; }

  std::vector<ConvAlgorithm> conv_algorithms(const Conv2dCall& call) const override {
    std::vector<ConvAlgorithm> out;
    for (const Candidate& c : candidates(call, ConvAlgorithm::kAuto)) {
      bool seen = false;
      for (ConvAlgorithm a : out) seen = seen || a == c.algorithm;
      if (!seen) out.push_back(c.algorithm);
    }
    return out;
  }

  void conv2d(const Conv2dCall& call) const override {
    const std::vector<Candidate> cands = candidates(call, call.algorithm);
    const std::string key = cache_key(call, cands, "call");
    Candidate chosen{nullptr, ConvAlgorithm::kAuto};
    TunedChoice hit;
    if (TuningCache::instance().find(key, &hit)) chosen = lookup(cands, hit);
    if (chosen.backend == nullptr) {
      double best_us = 0;
      for (const Candidate& c : cands) {
        Conv2dCall pinned = call;
        pinned.algorithm = c.algorithm;
        double us = 0;
        try {
          us = measure([&] { c.backend->conv2d(pinned); });
        } catch (const Error&) {
          continue;  // a path that fails on this shape is no candidate
        }
        if (chosen.backend == nullptr || us < best_us) {
          chosen = c;
          best_us = us;
        }
      }
      if (chosen.backend == nullptr) return no_candidate(call);
      TuningCache::instance().store(key, TunedChoice{chosen.backend->name(), chosen.algorithm, best_us});
    }
    Conv2dCall pinned = call;
    pinned.algorithm = chosen.algorithm;
    chosen.backend->conv2d(pinned);
    count_conv(chosen.algorithm);
  }

  std::unique_ptr<ConvPlan> plan_conv2d(const Conv2dCall& call, ConvAlgorithm algorithm) const override {
    const std::vector<Candidate> cands = candidates(call, algorithm);
    const std::string key = cache_key(call, cands, "plan");
    MeasuredLayer* record = AutoPlanningScope::current() != nullptr ? AutoPlanningScope::current()->layer : nullptr;
    TunedChoice hit;
    if (TuningCache::instance().find(key, &hit)) {
      const Candidate c = lookup(cands, hit);
      if (c.backend != nullptr) {
        if (record != nullptr) {
          // Each backend's best, as stored when the layer was measured.
          *record = MeasuredLayer{};
          for (const Candidate& other : cands) {
            TunedChoice best;
            if (TuningCache::instance().find(key + "|" + other.backend->name(), &best)) {
              add_entry(record, MeasuredLayer::Entry{other.backend, best.algorithm, best.micros});
            }
          }
          record->winner = c.backend;
          record->planned = true;
        }
        return std::make_unique<ChosenPlan>(*this, c.backend->plan_conv2d(call, c.algorithm),
                                            "cached choice (" + std::to_string(static_cast<long long>(hit.micros)) + " us)");
      }
    }
    // Plans are made and timed one at a time; only the best so far is kept,
    // so at most two sets of transformed weights exist at once.
    std::unique_ptr<ConvPlan> best;
    double best_us = 0;
    std::string note = "measured:";
    MeasuredLayer measured;
    for (const Candidate& c : cands) {
      std::unique_ptr<ConvPlan> plan;
      double us = 0;
      try {
        plan = c.backend->plan_conv2d(call, c.algorithm);
        us = measure([&] { plan->run(call); });
      } catch (const Error&) {
        continue;
      }
      add_entry(&measured, MeasuredLayer::Entry{c.backend, c.algorithm, us});
      char buf[96];
      std::snprintf(buf, sizeof buf, " %s/%s %.3f ms", c.backend->name().c_str(),
                    conv_algorithm_name(c.algorithm), us / 1000.0);
      note += buf;
      if (!best || us < best_us) {
        best = std::move(plan);
        best_us = us;
      }
    }
    if (!best) no_candidate(call);
    TuningCache::instance().store(key, TunedChoice{best->backend(), best->algorithm(), best_us});
    for (const MeasuredLayer::Entry& e : measured.entries) {
      TuningCache::instance().store(key + "|" + e.backend->name(), TunedChoice{e.backend->name(), e.algorithm, e.micros});
    }
    if (record != nullptr) {
      measured.winner = Registry::instance().find(best->backend());
      measured.planned = true;
      *record = std::move(measured);
    }
    return std::make_unique<ChosenPlan>(*this, std::move(best), note);
  }

  /// Keeps each backend's fastest algorithm only.
  static void add_entry(MeasuredLayer* m, const MeasuredLayer::Entry& e) {
    for (MeasuredLayer::Entry& have : m->entries) {
      if (have.backend == e.backend) {
        if (e.micros < have.micros) have = e;
        return;
      }
    }
    m->entries.push_back(e);
  }

 private:
  // Every (backend, algorithm) that may run this conv, `pinned` restricting the
  // algorithm. The reference backend is left out while anything else can run it,
  // and so are blas:<path> libraries: a user picks those by name, and auto must
  // not hand layers to a library merely because it was loaded.
  std::vector<Candidate> candidates(const Conv2dCall& call, ConvAlgorithm pinned) const {
    std::vector<Candidate> out;
    const Backend* reference = nullptr;
    for (const Backend* b : Registry::instance().all()) {
      if (b == this || !b->status().ok || !b->provides(Op::kConv2d)) continue;
      if (b->name().rfind("blas:", 0) == 0) continue;
      if (b->name() == "reference") {
        reference = b;
        continue;
      }
      for (ConvAlgorithm a : b->conv_algorithms(call)) {
        // A backend without a GEMM of its own (nnpack, xnnpack) offers im2col
        // only by handing the conv to its BLAS fallback, measured already.
        if (a == ConvAlgorithm::kIm2col && !b->provides(Op::kGemm)) continue;
        if (pinned == ConvAlgorithm::kAuto || a == pinned) out.push_back(Candidate{b, a});
      }
    }
    if (out.empty() && reference != nullptr) {
      for (ConvAlgorithm a : reference->conv_algorithms(call)) {
        if (pinned == ConvAlgorithm::kAuto || a == pinned) out.push_back(Candidate{reference, a});
      }
    }
    return out;
  }

  // The machine, the candidates (with versions), the threads and the shape.
  static std::string cache_key(const Conv2dCall& call, const std::vector<Candidate>& cands, const char* mode) {
    std::string key = TuningCache::instance().machine() + "|" + mode + "|t" +
                      std::to_string(Registry::instance().threads()) + "|" + shape_key(call) + "|";
    for (const Candidate& c : cands) {
      key += c.backend->name();
      const std::string version = c.backend->info().version;
      if (!version.empty()) key += "@" + version;
      key += std::string(":") + conv_algorithm_name(c.algorithm) + ";";
    }
    return key;
  }

  static Candidate lookup(const std::vector<Candidate>& cands, const TunedChoice& hit) {
    for (const Candidate& c : cands) {
      if (c.backend->name() == hit.backend && c.algorithm == hit.algorithm) return c;
    }
    return Candidate{nullptr, ConvAlgorithm::kAuto};
  }

  [[noreturn]] static void no_candidate(const Conv2dCall& call) {
    throw_range_error(std::string("conv2d: no available backend can run this conv") +
                      (call.algorithm != ConvAlgorithm::kAuto
                           ? std::string(" with algorithm \"") + conv_algorithm_name(call.algorithm) + "\""
                           : std::string()));
  }

  Status status_;
};

thread_local AutoPlanningScope* t_scope = nullptr;

}  // namespace

std::unique_ptr<Backend> make_auto_backend() { return std::make_unique<AutoBackend>(); }

AutoPlanningScope::AutoPlanningScope() : outer_(t_scope) { t_scope = this; }
AutoPlanningScope::~AutoPlanningScope() { t_scope = outer_; }
AutoPlanningScope* AutoPlanningScope::current() { return t_scope; }

const Backend* choose_one_pool(const std::vector<const MeasuredLayer*>& layers) {
  auto winner_us = [](const MeasuredLayer& l) {
    for (const MeasuredLayer::Entry& e : l.entries) {
      if (e.backend == l.winner) return e.micros;
    }
    return 0.0;
  };
  std::vector<const Backend*> winners;
  double mixed = 0;
  for (const MeasuredLayer* l : layers) {
    mixed += winner_us(*l);
    if (std::find(winners.begin(), winners.end(), l->winner) == winners.end()) winners.push_back(l->winner);
  }
  if (winners.size() < 2) return nullptr;  // one pool already
  // A pool that runs every layer ends the mixing; one that cannot (NNPACK
  // has no depthwise convs) only reduces it, so complete ones come first.
  const Backend* best = nullptr;
  double best_total = 0;
  bool best_complete = false;
  for (const Backend* b : winners) {
    double total = 0;
    bool complete = true;
    for (const MeasuredLayer* l : layers) {
      double us = -1;
      for (const MeasuredLayer::Entry& e : l->entries) {
        if (e.backend == b) us = e.micros;
      }
      if (us < 0) {
        complete = false;
        us = winner_us(*l);
      }
      total += us;
    }
    if (best == nullptr || (complete && !best_complete) || (complete == best_complete && total < best_total)) {
      best = b;
      best_total = total;
      best_complete = complete;
    }
  }
  return best_total <= kOnePoolSlack * mixed ? best : nullptr;
}

std::unique_ptr<ConvPlan> auto_plan_on(const Backend& auto_backend, const Conv2dCall& call,
                                       const MeasuredLayer::Entry& entry, const std::string& note) {
  return std::make_unique<ChosenPlan>(auto_backend, entry.backend->plan_conv2d(call, entry.algorithm), note);
}

}  // namespace neonn
