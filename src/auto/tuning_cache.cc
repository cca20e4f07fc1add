#include "tuning_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "../registry.h"

namespace neonn {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

// mkdir -p; false when some component cannot be created.
bool make_dirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    const std::string part = dir.substr(0, i);
    if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) return false;
  }
  return true;
}

std::string cache_dir() {
  const std::string configured = env("NEONN_CACHE_DIR");
  if (configured == "off") return std::string();
  if (!configured.empty()) return configured;
  const std::string xdg = env("XDG_CACHE_HOME");
  if (!xdg.empty()) return xdg + "/neonn";
  const std::string home = env("HOME");
  if (!home.empty()) return home + "/.cache/neonn";
  return std::string();
}

// The CPU's name as /proc/cpuinfo gives it: "model name" on x86, the
// implementer/part pair on ARM (the part identifies the core, e.g. 0xd03 = Cortex-A53).
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, implementer, part;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (key == "model name") return value;
    if (key == "CPU implementer" && implementer.empty()) implementer = value;
    if (key == "CPU part" && part.empty()) part = value;
  }
  return implementer.empty() && part.empty() ? "unknown" : implementer + "/" + part;
}

// A number written by format_line: finite and >= 0.
bool parse_number(const std::string& text, double* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v) || v < 0) return false;
  *out = v;
  return true;
}

std::string penalty_key(const std::string& key, const std::string& backend, ConvAlgorithm algorithm) {
  return key + "|" + backend + "/" + conv_algorithm_name(algorithm);
}

}  // namespace

TuningCache& TuningCache::instance() {
  static TuningCache cache;
  return cache;
}

TuningCache::TuningCache() : machine_(cpu_model()) {
  const std::string dir = cache_dir();
  if (!dir.empty()) path_ = dir + "/auto-v2.tsv";
}

std::string TuningCache::whole_key(const std::string& kind, const std::string& version, const std::string& structure) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a, 64 bits
  for (unsigned char c : structure) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char digest[17];
  std::snprintf(digest, sizeof digest, "%016llx", static_cast<unsigned long long>(h));
  std::string k = kind + "|" + instance().machine() + "|" + version + "|" + digest + "|";
  for (const Backend* b : Registry::instance().all()) {
    if (!b->status().ok) continue;
    k += b->name();
    if (!b->info().version.empty()) k += "@" + b->info().version;
    k += ";";
  }
  return k;
}

std::string TuningCache::format_line(const std::string& key, const TunedChoice& c) {
  std::ostringstream line;
  line << key << '\t' << c.backend << '\t' << conv_algorithm_name(c.algorithm) << '\t'
       << static_cast<long long>(c.micros + 0.5) << '\t';
  char margin[32];
  std::snprintf(margin, sizeof margin, "%.3f", std::min(std::max(c.margin, 0.0), kNoRival));
  line << margin << '\t' << std::max(c.samples, 0) << '\t' << std::max(c.remeasured, 0) << '\n';
  return line.str();
}

bool TuningCache::parse_line(const std::string& line, std::string* key, TunedChoice* c, bool* tombstone) {
  std::vector<std::string> f;
  size_t from = 0;
  for (;;) {
    const size_t tab = line.find('\t', from);
    f.push_back(line.substr(from, tab == std::string::npos ? std::string::npos : tab - from));
    if (tab == std::string::npos) break;
    from = tab + 1;
  }
  *tombstone = f.size() == 2 && !f[0].empty() && f[1] == "-";
  if (*tombstone) {
    *key = f[0];
    return false;
  }
  if (f.size() != 7 || f[0].empty() || f[1].empty()) return false;
  TunedChoice out;
  out.backend = f[1];
  for (int a = 1; a < static_cast<int>(ConvAlgorithm::kCount); ++a) {
    if (f[2] == conv_algorithm_name(static_cast<ConvAlgorithm>(a))) out.algorithm = static_cast<ConvAlgorithm>(a);
  }
  double samples = 0, remeasured = 0;
  // A whole structure's decision (key "region|..." or "qdq|...") names no conv algorithm.
  const bool whole = f[0].compare(0, 7, "region|") == 0 || f[0].compare(0, 4, "qdq|") == 0;
  if ((out.algorithm == ConvAlgorithm::kAuto) != whole || !parse_number(f[3], &out.micros) || !parse_number(f[4], &out.margin) ||
      !parse_number(f[5], &samples) || !parse_number(f[6], &remeasured) || samples > 1e6 || remeasured > 1e6) {
    return false;
  }
  out.samples = static_cast<int>(samples);
  out.remeasured = static_cast<int>(remeasured);
  *key = f[0];
  *c = out;
  return true;
}

void TuningCache::load_locked() {
  if (loaded_) return;
  loaded_ = true;
  if (path_.empty()) return;
  std::ifstream in(path_);
  std::string line, key;
  while (std::getline(in, line)) {
    TunedChoice c;
    bool tombstone = false;
    // Later lines win: a re-measured key was appended after the old one.
    if (parse_line(line, &key, &c, &tombstone)) {
      choices_[key] = c;
    } else if (tombstone) {
      choices_.erase(key);
    }
  }
}

bool TuningCache::find(const std::string& key, TunedChoice* out) {
  std::lock_guard<std::mutex> lock(mutex_);
  load_locked();
  auto it = choices_.find(key);
  if (it == choices_.end()) return false;
  *out = it->second;
  return true;
}

void TuningCache::store(const std::string& key, const TunedChoice& choice, bool persist) {
  std::lock_guard<std::mutex> lock(mutex_);
  load_locked();
  TunedChoice kept = choice;
  kept.fresh = true;
  kept.noisy = !persist;
  choices_[key] = kept;
  if (persist) append_locked(format_line(key, choice));
}

int TuningCache::drop(const std::string& key, const std::string& backend, ConvAlgorithm algorithm, double in_use_micros) {
  std::lock_guard<std::mutex> lock(mutex_);
  load_locked();
  choices_.erase(key);
  double& p = penalties_[penalty_key(key, backend, algorithm)];
  p = std::max(p, in_use_micros);
  append_locked(key + "\t-\n");
  return ++drops_[key];
}

double TuningCache::penalty(const std::string& key, const std::string& backend, ConvAlgorithm algorithm) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = penalties_.find(penalty_key(key, backend, algorithm));
  return it == penalties_.end() ? 0.0 : it->second;
}

int TuningCache::drops(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = drops_.find(key);
  return it == drops_.end() ? 0 : it->second;
}

void TuningCache::append_locked(const std::string& text) {
  if (path_.empty()) return;
  const size_t slash = path_.rfind('/');
  if (slash != std::string::npos && !make_dirs(path_.substr(0, slash))) return;
  // One write() of a short line with O_APPEND: processes sharing the file do
  // not interleave their lines.
  const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const ssize_t written = write(fd, text.data(), text.size());
  (void)written;  // a failed write only costs a measurement next time
  close(fd);
}

}  // namespace neonn
