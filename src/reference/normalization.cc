// Reference kernels for batchNorm and LRN.
#include <algorithm>
#include <cmath>

#include "../parallel.h"
#include "reference_ops.h"

namespace neonn {
namespace reference {

void batch_norm(const BatchNormCall& c) {
  // Planes (N*C of them) go to threads; each folds its channel's parameters
  // the same way, so which thread runs it does not matter.
  parallel_for(c.n * c.c, parallel_grain(c.inner), [&](size_t p0, size_t p1) {
    for (size_t p = p0; p < p1; ++p) {
      const size_t ch = p % c.c;
      // Fold into y = x * k + m once per channel, in double.
      const double k = static_cast<double>(c.scale[ch]) /
                       std::sqrt(static_cast<double>(c.variance[ch]) + c.epsilon);
      const double m = c.bias[ch] - c.mean[ch] * k;
      const size_t base = p * c.inner;
      for (size_t i = 0; i < c.inner; ++i) {
        c.y[base + i] = static_cast<float>(c.x[base + i] * k + m);
      }
    }
  });
}

void lrn(const LrnCall& c) {
  // ONNX LRN window: channels [ch - floor((size-1)/2), ch + ceil((size-1)/2)].
  const int64_t before = (c.size - 1) / 2;
  const int64_t after = c.size - 1 - before;
  const int64_t channels = static_cast<int64_t>(c.c);
  const double scale = static_cast<double>(c.alpha) / static_cast<double>(c.size);
  // x^-beta for beta = 3/4 (AlexNet's and GoogLeNet's LRN) as two square
  // roots: pow() was 15% of GoogLeNet's forward pass. Both are within a few
  // double ulps of the exact power, far below float rounding.
  const bool three_quarters = c.beta == 0.75f;
  const double beta = c.beta;
  // Output planes (N*C of them) go to threads; each sums the squares of its
  // window of input planes a plane at a time (k ascending, as before), so the
  // loops run along contiguous rows, kTile elements at a time in doubles on
  // the stack: pool workers allocate nothing (a thread that mallocs gets its
  // own malloc arena, megabytes of resident memory for a few bytes of scratch).
  constexpr size_t kTile = 512;
  parallel_for(c.n * c.c, parallel_grain(c.inner * (std::min(static_cast<size_t>(c.size), c.c) + 40)), [&](size_t p0, size_t p1) {
    double sq[kTile];
    for (size_t p = p0; p < p1; ++p) {
      const size_t b = p / c.c;
      const int64_t ch = static_cast<int64_t>(p % c.c);
      const float* x = c.x + b * c.c * c.inner;
      const int64_t lo = ch - before < 0 ? 0 : ch - before;
      const int64_t hi = ch + after >= channels ? channels - 1 : ch + after;
      for (size_t i0 = 0; i0 < c.inner; i0 += kTile) {
        const size_t n = std::min(kTile, c.inner - i0);
        std::fill(sq, sq + n, 0.0);
        for (int64_t k = lo; k <= hi; ++k) {
          const float* xk = x + static_cast<size_t>(k) * c.inner + i0;
          for (size_t i = 0; i < n; ++i) {
            const double v = xk[i];
            sq[i] += v * v;
          }
        }
        const float* xc = x + static_cast<size_t>(ch) * c.inner + i0;
        float* yc = c.y + p * c.inner + i0;
        if (three_quarters) {
          for (size_t i = 0; i < n; ++i) {
            const double r = std::sqrt(c.bias + scale * sq[i]);
            yc[i] = static_cast<float>(xc[i] / (r * std::sqrt(r)));
          }
        } else {
          for (size_t i = 0; i < n; ++i) yc[i] = static_cast<float>(xc[i] / std::pow(c.bias + scale * sq[i], beta));
        }
      }
    }
  });
}

}  // namespace reference
}  // namespace neonn
