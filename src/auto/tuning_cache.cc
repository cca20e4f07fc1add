#include "tuning_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

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

bool parse_line(const std::string& line, std::string* key, TunedChoice* c) {
  std::istringstream s(line);
  std::string algorithm, micros;
  if (!std::getline(s, *key, '\t') || !std::getline(s, c->backend, '\t') ||
      !std::getline(s, algorithm, '\t') || !std::getline(s, micros)) {
    return false;
  }
  for (int a = 1; a < static_cast<int>(ConvAlgorithm::kCount); ++a) {
    if (algorithm == conv_algorithm_name(static_cast<ConvAlgorithm>(a))) {
      c->algorithm = static_cast<ConvAlgorithm>(a);
      c->micros = std::strtod(micros.c_str(), nullptr);
      return !key->empty() && !c->backend.empty();
    }
  }
  return false;
}

}  // namespace

TuningCache& TuningCache::instance() {
  static TuningCache cache;
  return cache;
}

TuningCache::TuningCache() : machine_(cpu_model()) {
  const std::string dir = cache_dir();
  if (!dir.empty()) path_ = dir + "/auto-v1.tsv";
}

void TuningCache::load_locked() {
  if (loaded_) return;
  loaded_ = true;
  if (path_.empty()) return;
  std::ifstream in(path_);
  std::string line, key;
  while (std::getline(in, line)) {
    TunedChoice c;
    // Later lines win: a re-measured key was appended after the old one.
    if (parse_line(line, &key, &c)) choices_[key] = c;
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

void TuningCache::store(const std::string& key, const TunedChoice& choice) {
  std::lock_guard<std::mutex> lock(mutex_);
  load_locked();
  choices_[key] = choice;
  if (path_.empty()) return;
  const size_t slash = path_.rfind('/');
  if (slash != std::string::npos && !make_dirs(path_.substr(0, slash))) return;
  std::ostringstream line;
  line << key << '\t' << choice.backend << '\t' << conv_algorithm_name(choice.algorithm) << '\t'
       << static_cast<long long>(choice.micros) << '\n';
  const std::string text = line.str();
  // One write() of a short line with O_APPEND: processes sharing the file do
  // not interleave their lines.
  const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const ssize_t written = write(fd, text.data(), text.size());
  (void)written;  // a failed write only costs a measurement next time
  close(fd);
}

}  // namespace neonn
