// Window arithmetic shared by the conv and pooling loops.
#pragma once

#include <algorithm>
#include <cstdint>

namespace neonn {

/// Kernel taps t in [first, end) of a window starting at `begin` whose
/// positions begin + t * step (t in [0, k)) lie in [lo, hi): the taps of one
/// output element that read real input (lo = 0, hi = the input size) or that
/// lie inside the padded input.
struct Taps {
  int64_t first, end;
};
inline Taps taps_within(int64_t begin, int64_t step, int64_t k, int64_t lo, int64_t hi) {
  if (step == 1) {  // no dilation, the usual case: no divisions (this runs per border element)
    const int64_t first = std::min(k, std::max<int64_t>(0, lo - begin));
    return Taps{first, std::max(first, std::min(k, hi - begin))};
  }
  const int64_t first = std::min(k, begin >= lo ? 0 : (lo - begin + step - 1) / step);
  const int64_t end = begin >= hi ? 0 : std::min(k, (hi - 1 - begin) / step + 1);
  return Taps{first, std::max(first, end)};
}

}  // namespace neonn
