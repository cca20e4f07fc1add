// Byte-range overlap of two float buffers: an op's output must not alias its
// inputs (a kernel would read what it already overwrote).
#pragma once

#include <cstddef>
#include <cstdint>

namespace neonn {

/// True when [p, p + n) and [q, q + m) (counts of floats) share any byte.
inline bool float_ranges_overlap(const float* p, size_t n, const float* q, size_t m) {
  if (p == nullptr || q == nullptr || n == 0 || m == 0) return false;
  const auto a = reinterpret_cast<uintptr_t>(p);
  const auto b = reinterpret_cast<uintptr_t>(q);
  return a < b + m * sizeof(float) && b < a + n * sizeof(float);
}

}  // namespace neonn
