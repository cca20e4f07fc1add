#include "auto_backend.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <unordered_map>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "../ops/conv.h"
#include "../registry.h"
#include "measure.h"
#include "tuning_cache.h"

namespace neonn {
namespace {

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

std::string label_of(const std::string& backend, ConvAlgorithm a) {
  return backend + "/" + conv_algorithm_name(a);
}

std::string ms(double us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", us / 1000.0);
  return buf;
}

std::string percent(double margin) {
  if (margin >= kNoRival) return "no rival";
  char buf[32];
  std::snprintf(buf, sizeof buf, "margin %.0f%%", margin * 100.0);
  return buf;
}

// A choice's time in use against its measured figure (kPracticeRuns, kSlowFactor).
class PracticeWatch {
 public:
  /// Adds one run; returns the window's median run when a full window was
  /// far slower than `expected` (kSlowFactor, kSlowMinExcessMicros), else 0.
  double add(double us, double expected) {
    window_[runs_] = us;
    if (++runs_ < kPracticeRuns) return 0;
    runs_ = 0;
    std::array<double, kPracticeRuns> sorted = window_;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[kPracticeRuns / 2];
    const bool slow = median > kSlowFactor * expected && median - expected > kSlowMinExcessMicros;
    return slow ? median : 0;
  }

 private:
  int runs_ = 0;
  std::array<double, kPracticeRuns> window_{};
};

// Runs `run` as the choice (backend/algorithm) for `key`, expected to take
// `expected` us; drops the key's cached choice when it proves far slower.
// True when it was dropped (the caller measures again next time).
bool run_watched(PracticeWatch* watch, std::mutex* mutex, const std::string& key, const std::string& backend,
                 ConvAlgorithm algorithm, double expected, const std::function<void()>& run) {
  // The label only serves the test clock: no string is built per run otherwise.
  const double us = time_in_use(test_clock_active() ? label_of(backend, algorithm) : std::string(), run);
  if (key.empty() || expected <= 0) return false;
  double slow = 0;
  {
    std::lock_guard<std::mutex> lock(*mutex);
    slow = watch->add(us, expected);
  }
  if (slow <= 0 || TuningCache::instance().drops(key) >= kMaxDrops) return false;
  TuningCache::instance().drop(key, backend, algorithm, slow);
  return true;
}

// What auto chose for a layer: the winner's own plan, with how it was chosen,
// watched in use. `chosen` is the candidate as measured (the plan itself may
// report its fallback's name, e.g. NNPACK handing a shape to openblas).
class ChosenPlan final : public ConvPlan {
 public:
  ChosenPlan(const Backend& self, const Candidate& chosen, std::unique_ptr<ConvPlan> inner, std::string note,
             std::string key, double expected, bool clean)
      : self_(self), chosen_(chosen), inner_(std::move(inner)), note_(std::move(note)), key_(std::move(key)),
        expected_(expected), clean_(clean) {}
  void run(const Conv2dCall& call) const override {
    // Once stale, the plan runs unwatched until the model replaces it.
    const bool watched = !stale_.load(std::memory_order_relaxed);
    if (run_watched(&watch_, &mutex_, watched ? key_ : kNoKey, chosen_.backend->name(), chosen_.algorithm, expected_,
                    [&] { inner_->run(call); })) {
      stale_.store(true, std::memory_order_relaxed);
    }
    self_.count_conv(inner_->algorithm());
  }
  const std::string& backend() const override { return inner_->backend(); }
  ConvAlgorithm algorithm() const override { return inner_->algorithm(); }
  size_t memory_bytes() const override { return inner_->memory_bytes(); }
  std::string note() const override { return note_; }
  bool stale() const override { return stale_.load(std::memory_order_relaxed); }
  double measured_us() const override { return clean_ ? expected_ : 0.0; }

 private:
  static const std::string kNoKey;
  const Backend& self_;
  Candidate chosen_;
  std::unique_ptr<ConvPlan> inner_;
  std::string note_;
  std::string key_;
  double expected_;
  bool clean_;
  mutable std::mutex mutex_;
  mutable PracticeWatch watch_;
  mutable std::atomic<bool> stale_{false};
};

const std::string ChosenPlan::kNoKey;

// The candidates' measurements for one layer, as they come: the winner (the
// least minimum), the runner-up, whether any was noisy, and the note.
class Tally {
 public:
  explicit Tally(std::string key) : key_(std::move(key)) {}

  /// Adds a measured candidate; true when it is now the winner.
  bool add(const Candidate& c, const Measurement& m) {
    double figure = m.figure();
    const double in_use = TuningCache::instance().penalty(key_, c.backend->name(), c.algorithm);
    // A choice dropped for running slowly in use counts at least that slow.
    figure = std::max(figure, in_use);
    note_ += " " + label_of(c.backend->name(), c.algorithm) + " " + ms(figure);
    if (in_use > 0) note_ += " (ran " + ms(in_use) + " in use)";
    if (m.taken > m.clean) {
      note_ += " (" + std::to_string(m.taken - m.clean) + " of " + std::to_string(m.taken) + " samples busy" +
               (m.noisy() ? ", median" : "") + ")";
    }
    if (m.lost) note_ += " (stopped: " + std::to_string(static_cast<int>(kLoserFactor)) + "x slower)";
    noisy_ = noisy_ || m.noisy();
    entries_.push_back(Scored{c, figure, m.clean, m.lost});
    if (best_ < 0 || figure < entries_[static_cast<size_t>(best_)].figure) {
      second_ = best_;
      best_ = static_cast<int>(entries_.size()) - 1;
      return true;
    }
    if (second_ < 0 || figure < entries_[static_cast<size_t>(second_)].figure) second_ = static_cast<int>(entries_.size()) - 1;
    return false;
  }

  bool empty() const { return best_ < 0; }
  /// The best figure so far (0: none yet), for measure()'s early stop.
  double best_us() const { return best_ < 0 ? 0.0 : entries_[static_cast<size_t>(best_)].figure; }
  bool noisy() const { return noisy_; }
  const Candidate& winner() const { return entries_[static_cast<size_t>(best_)].c; }

  /// The choice to keep; `previous` is the doubtful cached one being re-measured.
  TunedChoice choice(const TunedChoice* previous) const {
    const Scored& w = entries_[static_cast<size_t>(best_)];
    TunedChoice t{w.c.backend->name(), w.c.algorithm, w.figure, kNoRival, w.clean, 0, false};
    if (second_ >= 0) {
      const Scored& r = entries_[static_cast<size_t>(second_)];
      t.margin = w.figure > 0 ? std::min(kNoRival, (r.figure - w.figure) / w.figure) : 0.0;
      // A runner-up stopped early lost by kLoserFactor: its few samples decide nothing closer.
      t.samples = r.lost ? w.clean : std::min(w.clean, r.clean);
    }
    if (previous != nullptr) {
      // Two measurements that agree settle the choice; a disagreement counts
      // towards kMaxRemeasures (a near tie, where either choice will do).
      const bool agrees = previous->backend == t.backend && previous->algorithm == t.algorithm;
      t.remeasured = agrees ? kMaxRemeasures : previous->remeasured + 1;
      if (agrees) t.samples += previous->samples;
    }
    return t;
  }

  /// Each candidate backend's best (key + "|backend"), for choose_one_pool.
  void store_per_backend(bool persist) const {
    std::vector<const Scored*> best;
    for (const Scored& e : entries_) {
      auto it = std::find_if(best.begin(), best.end(), [&](const Scored* b) { return b->c.backend == e.c.backend; });
      if (it == best.end()) {
        best.push_back(&e);
      } else if (e.figure < (*it)->figure) {
        *it = &e;
      }
    }
    for (const Scored* e : best) {
      TuningCache::instance().store(key_ + "|" + e->c.backend->name(),
                                    TunedChoice{e->c.backend->name(), e->c.algorithm, e->figure, 0, e->clean, 0, false},
                                    persist);
    }
  }

  /// "measured: openblas/im2col 1.071 ms ..." with what became of the choice.
  std::string note(const TunedChoice& kept, const TunedChoice* previous) const {
    std::string n = "measured:" + note_;
    if (previous != nullptr) {
      n += "; re-measured a doubtful cached choice (" + label_of(previous->backend, previous->algorithm) + ", " +
           percent(previous->margin) + ", " + std::to_string(previous->samples) + " samples)";
    }
    if (noisy_) {
      n += "; cores busy while measuring: used by this process, not saved";
    } else if (!kept.sure()) {
      n += "; saved as doubtful (" + percent(kept.margin) + ", " + std::to_string(kept.samples) +
           " samples): re-measured on a later load";
    }
    return n;
  }

 private:
  struct Scored {
    Candidate c;
    double figure;
    int clean;
    bool lost;
  };
  std::string key_;
  std::vector<Scored> entries_;
  int best_ = -1, second_ = -1;
  bool noisy_ = false;
  std::string note_;
};

class AutoBackend final : public Backend {
 public:
  AutoBackend() : Backend("auto", "openblas"), status_(Status::Ok()) {}

  const Status& status() const override { return status_; }

  BackendInfo info() const override {
    BackendInfo i = Backend::info();
    const std::string& path = TuningCache::instance().path();
    i.config = "measures each conv shape on every available backend and keeps the fastest (minimum of clean runs); "
               "choices cached in " +
               (path.empty() ? std::string("memory only (NEONN_CACHE_DIR=off)") : path);
    if (test_clock_active()) i.config += "; NEONN_TEST_AUTO_CLOCK is set: measurements read a test clock";
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
    double expected = 0;
    TunedChoice hit;
    const bool cached = TuningCache::instance().find(key, &hit);
    if (cached && (hit.fresh || hit.sure())) {
      chosen = lookup(cands, hit);
      expected = hit.micros;
    }
    if (chosen.backend == nullptr) {
      const TunedChoice* previous = cached && lookup(cands, hit).backend != nullptr ? &hit : nullptr;
      Tally tally(key);
      for (const Candidate& c : cands) {
        Conv2dCall pinned = call;
        pinned.algorithm = c.algorithm;
        Measurement m;
        try {
          m = measure(label_of(c.backend->name(), c.algorithm), Registry::instance().threads(), tally.best_us(),
                      [&] { c.backend->conv2d(pinned); });
        } catch (const Error&) {
          continue;  // a path that fails on this shape is no candidate
        }
        tally.add(c, m);
      }
      if (tally.empty()) return no_candidate(call);
      const TunedChoice kept = tally.choice(previous);
      TuningCache::instance().store(key, kept, !tally.noisy());
      chosen = tally.winner();
      expected = kept.micros;
    }
    Conv2dCall pinned = call;
    pinned.algorithm = chosen.algorithm;
    PracticeWatch* watch = nullptr;
    {
      std::lock_guard<std::mutex> lock(watch_mutex_);
      watch = &watches_[key];  // node-based map: the pointer stays valid
    }
    run_watched(watch, &watch_mutex_, key, chosen.backend->name(), chosen.algorithm, expected,
                [&] { chosen.backend->conv2d(pinned); });
    count_conv(chosen.algorithm);
  }

  std::unique_ptr<ConvPlan> plan_conv2d(const Conv2dCall& call, ConvAlgorithm algorithm) const override {
    const std::vector<Candidate> cands = candidates(call, algorithm);
    const std::string key = cache_key(call, cands, "plan");
    MeasuredLayer* record = AutoPlanningScope::current() != nullptr ? AutoPlanningScope::current()->layer : nullptr;
    TunedChoice hit;
    const TunedChoice* previous = nullptr;
    if (TuningCache::instance().find(key, &hit)) {
      const Candidate c = lookup(cands, hit);
      if (c.backend != nullptr && !hit.fresh && !hit.sure()) {
        previous = &hit;  // doubtful: measured again below
      } else if (c.backend != nullptr) {
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
          record->key = key;
          record->noisy = hit.noisy;
        }
        std::string note = "cached choice (" + std::to_string(static_cast<long long>(hit.micros)) + " us, " +
                           percent(hit.margin) + ", " + std::to_string(hit.samples) + " samples" +
                           (hit.fresh ? ", measured by this process" : "") + ")";
        return std::make_unique<ChosenPlan>(*this, c, c.backend->plan_conv2d(call, c.algorithm), note, key, hit.micros,
                                            !hit.noisy);
      }
    }
    // Plans are made and timed one at a time; only the best so far is kept,
    // so at most two sets of transformed weights exist at once.
    std::unique_ptr<ConvPlan> best;
    Tally tally(key);
    MeasuredLayer measured;
    for (const Candidate& c : cands) {
      std::unique_ptr<ConvPlan> plan;
      Measurement m;
      try {
        plan = c.backend->plan_conv2d(call, c.algorithm);
        m = measure(label_of(c.backend->name(), c.algorithm), Registry::instance().threads(), tally.best_us(),
                    [&] { plan->run(call); });
      } catch (const Error&) {
        continue;
      }
      if (tally.add(c, m)) best = std::move(plan);
    }
    if (!best) no_candidate(call);
    const TunedChoice kept = tally.choice(previous);
    TuningCache::instance().store(key, kept, !tally.noisy());
    tally.store_per_backend(!tally.noisy());
    for (const Candidate& c : cands) {
      TunedChoice per;
      if (TuningCache::instance().find(key + "|" + c.backend->name(), &per) && per.fresh) {
        add_entry(&measured, MeasuredLayer::Entry{c.backend, per.algorithm, per.micros});
      }
    }
    if (record != nullptr) {
      measured.winner = tally.winner().backend;  // as measured (the plan may name its fallback)
      measured.planned = true;
      measured.key = key;
      measured.noisy = tally.noisy();
      *record = std::move(measured);
    }
    return std::make_unique<ChosenPlan>(*this, tally.winner(), std::move(best), tally.note(kept, previous), key,
                                        kept.micros, !tally.noisy());
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
  mutable std::mutex watch_mutex_;
  mutable std::unordered_map<std::string, PracticeWatch> watches_;  ///< per-call choices in use, by key
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
  const bool busy = std::any_of(layers.begin(), layers.end(), [](const MeasuredLayer* l) { return l->noisy; });
  return busy || best_total <= kOnePoolSlack * mixed ? best : nullptr;
}

std::unique_ptr<ConvPlan> auto_plan_on(const Backend& auto_backend, const Conv2dCall& call, const MeasuredLayer& layer,
                                       const MeasuredLayer::Entry& entry, const std::string& note) {
  return std::make_unique<ChosenPlan>(auto_backend, Candidate{entry.backend, entry.algorithm},
                                      entry.backend->plan_conv2d(call, entry.algorithm), note, layer.key, entry.micros,
                                      !layer.noisy);
}

}  // namespace neonn
