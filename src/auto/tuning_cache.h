// auto's choices, one line per measured conv: in memory for the process, and
// appended to a file so the next process starts with them. The file lives in
// NEONN_CACHE_DIR, else $XDG_CACHE_HOME/neonn, else $HOME/.cache/neonn, and is
// named auto-v1.tsv; NEONN_CACHE_DIR=off keeps choices in memory only. Each
// line is "key<TAB>backend<TAB>algorithm<TAB>microseconds"; the key holds the
// machine (CPU model), the candidate backends and their versions, the thread
// count and the layer shape, so a changed machine or library measures anew.
// A file that cannot be read or written only costs measurements, never an error.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "../backend.h"

namespace neonn {

struct TunedChoice {
  std::string backend;
  ConvAlgorithm algorithm = ConvAlgorithm::kAuto;
  double micros = 0;
};

class TuningCache {
 public:
  static TuningCache& instance();

  /// false when the key was never measured (here or in the file).
  bool find(const std::string& key, TunedChoice* out);
  void store(const std::string& key, const TunedChoice& choice);

  /// The file (empty when disk caching is off or no location could be found).
  const std::string& path() const { return path_; }
  /// "model name" of the CPU, for keys.
  const std::string& machine() const { return machine_; }

 private:
  TuningCache();
  void load_locked();

  std::mutex mutex_;
  bool loaded_ = false;
  std::string path_;
  std::string machine_;
  std::unordered_map<std::string, TunedChoice> choices_;
};

}  // namespace neonn
