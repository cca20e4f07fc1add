#include "choice.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>

#include "../status.h"
#include "../registry.h"
#include "measure.h"
#include "tuning_cache.h"

namespace neonn {

namespace {

std::mutex g_mutex;
/// Decisions of this process by key: a model loaded twice takes the same path (and so gives the same bits).
std::map<std::string, MeasuredChoice>& decided() {
  static auto* m = new std::map<std::string, MeasuredChoice>();
  return *m;
}

}  // namespace

MeasuredChoice choose_measured(const std::string& kind, const std::string& structure, const std::vector<std::string>& names,
                               const std::function<void(size_t)>& run) {
  if (names.empty()) throw Error(ErrorKind::kRange, "ERR_NEONN_INTERNAL", "choose_measured: no alternative");
  const int threads = Registry::instance().threads();
  std::string names_key;
  for (const std::string& n : names) names_key += n + ",";
  // v1: bump when a change to either path makes old decisions wrong.
  const std::string key = TuningCache::whole_key(kind, "v1", structure + "|threads=" + std::to_string(threads) + "|" + names_key);
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    const auto it = decided().find(key);
    if (it != decided().end()) {
      MeasuredChoice c = it->second;
      c.cached = true;
      c.note += " (decided earlier in this process)";
      return c;
    }
  }
  TunedChoice saved;
  if (TuningCache::instance().find(key, &saved)) {
    const auto it = std::find(names.begin(), names.end(), saved.backend);
    if (it != names.end()) {
      MeasuredChoice c;
      c.index = static_cast<size_t>(it - names.begin());
      char buf[160];
      std::snprintf(buf, sizeof buf, "measured: %s %.3f ms, %.0f%% faster than the next", saved.backend.c_str(), saved.micros / 1000.0,
                    saved.margin * 100.0);
      c.note = std::string(buf) + " (by an earlier process: " + TuningCache::instance().path() + ")";
      c.cached = true;
      std::lock_guard<std::mutex> lock(g_mutex);
      decided().emplace(key, c);
      return c;
    }
  }
  if (!run) {
    MeasuredChoice none;
    none.index = kNotDecided;
    return none;
  }
  for (size_t i = 0; i < names.size(); ++i) run(i);  // untimed: pools wake, scratch is faulted in
  std::vector<Measurement> ms;
  double best = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    ms.push_back(measure(kind + "/" + names[i], threads, best, [&] { run(i); }));
    const double f = ms.back().figure();
    best = best == 0 ? f : std::min(best, f);
  }
  size_t win = 0;
  for (size_t i = 1; i < names.size(); ++i) {
    if (ms[i].figure() < ms[win].figure() * (win == 0 ? kChoiceMargin : 1.0)) win = i;
  }
  MeasuredChoice c;
  c.index = win;
  c.note = "measured:";
  for (size_t i = 0; i < names.size(); ++i) {
    char buf[120];
    std::snprintf(buf, sizeof buf, "%s %s %s%.3f ms", i == 0 ? "" : ",", names[i].c_str(), ms[i].lost ? "> " : "", ms[i].figure() / 1000.0);
    c.note += buf;
  }
  c.note += " (" + names[win] + ")";
  bool clean = true;
  double runner_up = 0;
  int samples = kWantClean;
  for (size_t i = 0; i < names.size(); ++i) {
    clean = clean && !ms[i].noisy();
    samples = std::min(samples, ms[i].clean);
    if (i != win) runner_up = runner_up == 0 ? ms[i].figure() : std::min(runner_up, ms[i].figure());
  }
  const double winner = ms[win].figure();
  if (!clean) c.note += "; the cores were busy: not saved";
  if (clean && names.size() > 1 && winner > 0 && runner_up >= winner * (1.0 + kSureMargin)) {
    TunedChoice t;
    t.backend = names[win];
    t.algorithm = ConvAlgorithm::kAuto;
    t.micros = winner;
    t.margin = std::min(kNoRival, (runner_up - winner) / winner);
    t.samples = std::max(samples, 1);
    TuningCache::instance().store(key, t, true);
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  decided().emplace(key, c);
  return c;
}

}  // namespace neonn
