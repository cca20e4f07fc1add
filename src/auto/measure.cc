#include "measure.h"

#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace neonn {
namespace {

double now_us(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

struct FakeSample {
  double wall_us = 0;
  double share = 1;
};

struct TestClock {
  std::map<std::string, std::vector<FakeSample>> samples;
  std::map<std::string, std::vector<double>> in_use;
  bool active = false;

  // "openblas/im2col" matches "openblas/im2col", then "openblas", then "*";
  // with `call` >= 0 first "openblas/im2col#<call>" and "openblas#<call>".
  template <typename T>
  static const T* rule(const std::map<std::string, T>& rules, const std::string& label, int call = -1) {
    const std::string backend = label.substr(0, label.find('/'));
    std::vector<std::string> keys;
    if (call >= 0) keys = {label + "#" + std::to_string(call), backend + "#" + std::to_string(call)};
    keys.insert(keys.end(), {label, backend, std::string("*")});
    for (const std::string& k : keys) {
      auto it = rules.find(k);
      if (it != rules.end()) return &it->second;
    }
    return nullptr;
  }
};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t from = 0;
  for (;;) {
    const size_t at = text.find(sep, from);
    out.push_back(text.substr(from, at == std::string::npos ? std::string::npos : at - from));
    if (at == std::string::npos) return out;
    from = at + 1;
  }
}

// Malformed rules are skipped: the hook serves tests, which check its effect.
TestClock parse_test_clock() {
  TestClock c;
  const char* env = std::getenv("NEONN_TEST_AUTO_CLOCK");
  if (env == nullptr) return c;
  for (const std::string& r : split(env, ';')) {
    const size_t eq = r.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    const std::string sel = r.substr(0, eq);
    const std::string value = r.substr(eq + 1);
    if (sel.rfind("run:", 0) == 0) {
      std::vector<double> list;
      for (const std::string& item : split(value, ',')) {
        const double us = std::strtod(item.c_str(), nullptr);
        if (us > 0) list.push_back(us);
      }
      if (!list.empty()) c.in_use[sel.substr(4)] = list;
      continue;
    }
    std::vector<FakeSample> list;
    for (const std::string& item : split(value, ',')) {
      FakeSample s;
      const size_t at = item.find('@');
      s.wall_us = std::strtod(item.substr(0, at).c_str(), nullptr);
      if (at != std::string::npos) s.share = std::strtod(item.substr(at + 1).c_str(), nullptr);
      if (s.wall_us > 0 && s.share >= 0) list.push_back(s);
    }
    if (!list.empty()) c.samples[sel] = list;
  }
  c.active = !c.samples.empty() || !c.in_use.empty();
  return c;
}

const TestClock& test_clock() {
  static const TestClock clock = parse_test_clock();
  return clock;
}

// The CPU clocks are read outside the wall clock: their own cost (system
// calls) then adds to CPU time, never to wall time alone, so a short run on
// an idle core is never taken for a busy one.
Sample take(const std::function<void()>& run) {
  Sample s;
  const double cpu0 = now_us(CLOCK_PROCESS_CPUTIME_ID);
  const double thread0 = now_us(CLOCK_THREAD_CPUTIME_ID);
  const double wall0 = now_us(CLOCK_MONOTONIC);
  run();
  s.wall_us = now_us(CLOCK_MONOTONIC) - wall0;
  s.thread_cpu_us = now_us(CLOCK_THREAD_CPUTIME_ID) - thread0;
  s.cpu_us = now_us(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  return s;
}

}  // namespace

bool test_clock_active() { return test_clock().active; }

Sample take_sample(const std::function<void()>& run) { return take(run); }

Measurement measure(const std::string& label, int threads, double best_us, const std::function<void()>& run) {
  const std::vector<FakeSample>* fake = nullptr;
  if (test_clock().active) {
    // Which measurement of this label it is in the process (for "<sel>#<n>" rules).
    static std::mutex mutex;
    static std::map<std::string, int> calls;
    int call = 0;
    {
      std::lock_guard<std::mutex> lock(mutex);
      call = calls[label]++;
    }
    fake = TestClock::rule(test_clock().samples, label, call);
  }
  Measurement m;
  std::vector<double> walls;
  double min_clean = 0;
  int want = kWantClean, max_taken = kMaxSamples;
  while (m.clean < want && m.taken < max_taken) {
    Sample s = take(run);
    if (fake != nullptr) {
      const FakeSample& f = (*fake)[static_cast<size_t>(m.taken) % fake->size()];
      s.wall_us = f.wall_us;
      s.thread_cpu_us = f.share * f.wall_us;
      s.cpu_us = f.share * f.wall_us * std::max(threads, 1);
    }
    if (m.taken == 0 && s.wall_us > kLongRunMicros) {
      want = kMinClean;  // a long conv: two clean samples are enough
      max_taken = kMaxLongSamples;
    }
    walls.push_back(s.wall_us);
    ++m.taken;
    if (!s.busy()) {
      min_clean = m.clean == 0 ? s.wall_us : std::min(min_clean, s.wall_us);
      ++m.clean;
    }
    if (best_us > 0 && m.taken >= kMinClean && *std::min_element(walls.begin(), walls.end()) > kLoserFactor * best_us) {
      m.lost = true;
      break;
    }
  }
  std::sort(walls.begin(), walls.end());
  m.min_us = m.clean > 0 ? min_clean : walls.front();
  const size_t n = walls.size();
  m.median_us = n % 2 == 1 ? walls[n / 2] : (walls[n / 2 - 1] + walls[n / 2]) / 2;
  return m;
}

double time_in_use(const std::string& label, const std::function<void()>& run) {
  const std::vector<double>* fake = label.empty() ? nullptr : TestClock::rule(test_clock().in_use, label);
  const double t0 = now_us(CLOCK_MONOTONIC);
  run();
  const double us = now_us(CLOCK_MONOTONIC) - t0;
  if (fake == nullptr) return us;
  // The rule's list in turn, one counter per label.
  static std::mutex mutex;
  static std::map<std::string, size_t> next;
  std::lock_guard<std::mutex> lock(mutex);
  return (*fake)[next[label]++ % fake->size()];
}

}  // namespace neonn
