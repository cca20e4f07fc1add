// auto's measured choice between whole alternatives that compute the same
// result: a quantized model's integer path and its exact float form (the
// trap where quantizing made a model slower must not be taken blindly). The
// alternatives are run by the caller; measuring, comparing and caching are
// auto's own (measure.h, tuning_cache.h), as for a conv's backend or an NHWC
// region.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace neonn {

struct MeasuredChoice {
  size_t index = 0;  ///< the chosen alternative
  std::string note;  ///< what was measured ("measured: integer 3.100 ms, float 2.500 ms (float)") or where it came from
  bool cached = false;  ///< taken from an earlier decision (this process or the cache file), not measured now
};

/// An alternative other than the first must be this much faster to be chosen (the first is the default path).
constexpr double kChoiceMargin = 0.95;

/// Chooses among `names` (at least one) for the structure `structure` of kind `kind` ("qdq": the cache file's
/// parser knows the kinds, tuning_cache.cc): an earlier
/// decision of this process or of the cache file for the same key when there is one; else each alternative is run
/// once untimed (thread pools, scratch memory, lazily planned steps), then measured with `run(i)` as auto measures
/// a conv (clean samples, minimum). A clear decision (kSureMargin apart, clean samples) is saved to the cache file.
/// With an empty `run`, only looks the decision up: index kNotDecided when there is none.
MeasuredChoice choose_measured(const std::string& kind, const std::string& structure, const std::vector<std::string>& names,
                               const std::function<void(size_t)>& run);

constexpr size_t kNotDecided = static_cast<size_t>(-1);

}  // namespace neonn
