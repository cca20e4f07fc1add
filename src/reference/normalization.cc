// Reference kernels for batchNorm and LRN.
#include <cmath>

#include "reference_ops.h"

namespace neonn {
namespace reference {

void batch_norm(const BatchNormCall& c) {
  for (size_t ch = 0; ch < c.c; ++ch) {
    // Fold into y = x * k + m once per channel, in double.
    const double k = static_cast<double>(c.scale[ch]) /
                     std::sqrt(static_cast<double>(c.variance[ch]) + c.epsilon);
    const double m = c.bias[ch] - c.mean[ch] * k;
    for (size_t b = 0; b < c.n; ++b) {
      const size_t base = (b * c.c + ch) * c.inner;
      for (size_t i = 0; i < c.inner; ++i) {
        c.y[base + i] = static_cast<float>(c.x[base + i] * k + m);
      }
    }
  }
}

void lrn(const LrnCall& c) {
  // ONNX LRN window: channels [ch - floor((size-1)/2), ch + ceil((size-1)/2)].
  const int64_t before = (c.size - 1) / 2;
  const int64_t after = c.size - 1 - before;
  const int64_t channels = static_cast<int64_t>(c.c);
  const double scale = static_cast<double>(c.alpha) / static_cast<double>(c.size);
  for (size_t b = 0; b < c.n; ++b) {
    const float* x = c.x + b * c.c * c.inner;
    float* y = c.y + b * c.c * c.inner;
    for (int64_t ch = 0; ch < channels; ++ch) {
      const int64_t lo = ch - before < 0 ? 0 : ch - before;
      const int64_t hi = ch + after >= channels ? channels - 1 : ch + after;
      for (size_t i = 0; i < c.inner; ++i) {
        double sq = 0.0;
        for (int64_t k = lo; k <= hi; ++k) {
          const double v = x[static_cast<size_t>(k) * c.inner + i];
          sq += v * v;
        }
        const size_t at = static_cast<size_t>(ch) * c.inner + i;
        y[at] = static_cast<float>(x[at] / std::pow(c.bias + scale * sq, static_cast<double>(c.beta)));
      }
    }
  }
}

}  // namespace reference
}  // namespace neonn
