// Raw float buffers with their element counts, as read from typed arrays.
#pragma once

#include <cstddef>

namespace neonn {

struct FloatSpan {
  const float* data = nullptr;
  size_t size = 0;
};

struct MutableFloatSpan {
  float* data = nullptr;
  size_t size = 0;
};

}  // namespace neonn
