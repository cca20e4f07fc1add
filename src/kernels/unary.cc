// Float32 elementwise activations and math functions, ONNX semantics.
#include "unary.h"

#include <algorithm>
#include <cmath>

namespace neonn {
namespace {

using C = const KernelCall&;

NEONN_UNARY(Exp, [](C) { return [](float x) { return std::exp(x); }; });
NEONN_UNARY(HardSigmoid, [](C c) {
  const float a = static_cast<float>(c.attr_float("alpha")), b = static_cast<float>(c.attr_float("beta"));
  return [=](float x) { return std::max(0.0f, std::min(1.0f, a * x + b)); };
});
NEONN_UNARY(HardSwish, [](C) {
  return [](float x) { return x * std::max(0.0f, std::min(1.0f, x / 6.0f + 0.5f)); };
});

}  // namespace
}  // namespace neonn
