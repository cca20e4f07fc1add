// auto's choices, one line per measured conv: in memory for the process, and
// appended to a file so the next process starts with them. The file lives in
// NEONN_CACHE_DIR, else $XDG_CACHE_HOME/neonn, else $HOME/.cache/neonn, and is
// named auto-v2.tsv; NEONN_CACHE_DIR=off keeps choices in memory only.
//
// Each line is
//   key<TAB>backend<TAB>algorithm<TAB>micros<TAB>margin<TAB>samples<TAB>remeasured
// (a choice, see TunedChoice) or key<TAB>- (the key's choice was dropped:
// it ran far slower in use than measured). Later lines win. The key holds
// the machine (CPU model), the candidate backends and their versions, the
// thread count and the layer shape, so a changed machine or library measures
// anew. A line whose key starts with "region|" is an NHWC region's decision
// (model/program_regions.cc): backend "region" or "layers", algorithm
// "auto", micros the winner's time, margin how much the loser took more; a
// line whose key starts with "qdq|" is a quantized model's path (auto/choice.h:
// backend "integer" or "float"), in the same form.
// Lines of any other form are ignored, and so is the version-1 file
// (auto-v1.tsv: choices recorded without knowing how sure they were).
// A file that cannot be read or written only costs measurements, never an error.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "../backend.h"

namespace neonn {

/// A choice is sure when its winner beat the runner-up by this fraction of
/// its time, with at least kSureSamples clean samples behind both minimums.
constexpr double kSureMargin = 0.10;
constexpr int kSureSamples = 3;
/// A doubtful choice is re-measured on later loads until a re-measurement
/// agrees with it, or this many times (a near tie then costs < kSureMargin).
constexpr int kMaxRemeasures = 2;
/// The margin recorded when there was no runner-up.
constexpr double kNoRival = 99.0;

struct TunedChoice {
  std::string backend;
  ConvAlgorithm algorithm = ConvAlgorithm::kAuto;
  double micros = 0;  ///< the winner's minimum over its clean samples
  double margin = 0;  ///< (runner-up's minimum - winner's) / winner's; kNoRival alone
  int samples = 0;    ///< clean samples behind the minimums compared (the fewer of the two)
  int remeasured = 0; ///< later loads that re-measured it (kMaxRemeasures: settled)
  bool fresh = false; ///< measured (or re-measured) by this process; never written
  bool noisy = false; ///< measured while the cores were busy: kept in memory only; never written

  bool sure() const {
    return (margin >= kSureMargin && samples >= kSureSamples) || remeasured >= kMaxRemeasures;
  }
};

class TuningCache {
 public:
  static TuningCache& instance();

  /// false when the key has no choice (never measured, or dropped).
  bool find(const std::string& key, TunedChoice* out);
  /// Keeps `choice` for this process (marked fresh); with `persist`, also
  /// appends it to the file.
  void store(const std::string& key, const TunedChoice& choice, bool persist);
  /// Forgets the key's choice, here and in the file (a tombstone line), and
  /// remembers for this process that `backend`/`algorithm` ran `in_use_micros`
  /// there: a re-measurement counts it at least that slow (penalty()).
  /// Returns how many times the key was dropped in this process.
  int drop(const std::string& key, const std::string& backend, ConvAlgorithm algorithm, double in_use_micros);
  /// The in-use time recorded by drop() for this key and candidate, or 0.
  double penalty(const std::string& key, const std::string& backend, ConvAlgorithm algorithm);
  /// How many times drop() forgot this key in this process.
  int drops(const std::string& key);

  /// The file (empty when disk caching is off or no location could be found).
  const std::string& path() const { return path_; }
  /// "model name" of the CPU, for keys.
  const std::string& machine() const { return machine_; }

  /// The key of a decision about a whole structure (an NHWC region, a quantized model's path): `kind|machine|
  /// version|` an FNV-1a digest of `structure`, then every available backend with its version, so that a changed
  /// machine or library measures anew. `version` is bumped when a code change makes old decisions wrong.
  static std::string whole_key(const std::string& kind, const std::string& version, const std::string& structure);

  /// One line of the file for `key` (tests and the format's documentation).
  static std::string format_line(const std::string& key, const TunedChoice& choice);
  /// Parses a choice line; false for a tombstone or anything malformed.
  static bool parse_line(const std::string& line, std::string* key, TunedChoice* out, bool* tombstone);

 private:
  TuningCache();
  void load_locked();
  void append_locked(const std::string& text);

  std::mutex mutex_;
  bool loaded_ = false;
  std::string path_;
  std::string machine_;
  std::unordered_map<std::string, TunedChoice> choices_;
  std::unordered_map<std::string, double> penalties_;
  std::unordered_map<std::string, int> drops_;
};

}  // namespace neonn
