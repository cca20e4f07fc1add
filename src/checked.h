// Overflow-safe size arithmetic: every size the core derives from caller
// input goes through these, so a hostile shape cannot wrap into a small buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "status.h"

namespace neonn {

/// a * b, or a RangeError naming `what` when the product does not fit.
inline int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r)) {
    throw_range_error(std::string(what) + ": size overflows (" + std::to_string(a) +
                      " * " + std::to_string(b) + ")");
  }
  return r;
}

/// A dimension that must be a positive count usable as a 32-bit BLAS int.
inline int blas_dim(int64_t v, const char* what) {
  if (v <= 0 || v > std::numeric_limits<int>::max()) {
    throw_range_error(std::string(what) + " must be in [1, 2147483647], got " +
                      std::to_string(v));
  }
  return static_cast<int>(v);
}

}  // namespace neonn
