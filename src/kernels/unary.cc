// Float32 elementwise activations and math functions, ONNX semantics.
#include "unary.h"

#include <algorithm>
#include <cmath>

namespace neonn {
namespace {

using C = const KernelCall&;

NEONN_UNARY(Exp, [](C) { return [](float x) { return std::exp(x); }; });
NEONN_UNARY(HardSigmoid, [](C c) {
  // One declaration each: a comma outside parentheses would split the macro's arguments.
  const float a = static_cast<float>(c.attr_float("alpha"));
  const float b = static_cast<float>(c.attr_float("beta"));
  return [=](float x) { return std::max(0.0f, std::min(1.0f, a * x + b)); };
});
NEONN_UNARY(HardSwish, [](C) {
  return [](float x) { return x * std::max(0.0f, std::min(1.0f, x / 6.0f + 0.5f)); };
});

// --- math ---
NEONN_UNARY(Log, [](C) { return [](float x) { return std::log(x); }; });
NEONN_UNARY(Sqrt, [](C) { return [](float x) { return std::sqrt(x); }; });
NEONN_UNARY(Reciprocal, [](C) { return [](float x) { return 1.0f / x; }; });
NEONN_UNARY(Floor, [](C) { return [](float x) { return std::floor(x); }; });
NEONN_UNARY(Ceil, [](C) { return [](float x) { return std::ceil(x); }; });
// Half to even, whatever the FPU's rounding mode.
NEONN_UNARY(Round, [](C) {
  return [](float x) {
    const float r = std::round(x);  // half away from zero
    return std::fabs(x - std::trunc(x)) == 0.5f ? 2.0f * std::round(x * 0.5f) : r;
  };
});
NEONN_UNARY(Erf, [](C) { return [](float x) { return std::erf(x); }; });
NEONN_UNARY(Sin, [](C) { return [](float x) { return std::sin(x); }; });
NEONN_UNARY(Cos, [](C) { return [](float x) { return std::cos(x); }; });
NEONN_UNARY(Tanh, [](C) { return [](float x) { return std::tanh(x); }; });
NEONN_UNARY(Tan, [](C) { return [](float x) { return std::tan(x); }; });
NEONN_UNARY(Asin, [](C) { return [](float x) { return std::asin(x); }; });
NEONN_UNARY(Acos, [](C) { return [](float x) { return std::acos(x); }; });
NEONN_UNARY(Atan, [](C) { return [](float x) { return std::atan(x); }; });
NEONN_UNARY(Sinh, [](C) { return [](float x) { return std::sinh(x); }; });
NEONN_UNARY(Cosh, [](C) { return [](float x) { return std::cosh(x); }; });
NEONN_UNARY(Asinh, [](C) { return [](float x) { return std::asinh(x); }; });
NEONN_UNARY(Acosh, [](C) { return [](float x) { return std::acosh(x); }; });
NEONN_UNARY(Atanh, [](C) { return [](float x) { return std::atanh(x); }; });

// --- activations ---
inline float softplus(float x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
NEONN_UNARY(Softplus, [](C) { return [](float x) { return softplus(x); }; });
NEONN_UNARY(Softsign, [](C) { return [](float x) { return x / (1.0f + std::fabs(x)); }; });
NEONN_UNARY(Mish, [](C) { return [](float x) { return x * std::tanh(softplus(x)); }; });
NEONN_UNARY(Sigmoid, [](C) {
  return [](float x) {
    if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
    const float e = std::exp(x);
    return e / (1.0f + e);
  };
});
NEONN_UNARY(Relu, [](C) { return [](float x) { return x > 0 ? x : (x == x ? 0.0f : x); }; });
NEONN_UNARY(LeakyRelu, [](C c) {
  const float a = static_cast<float>(c.attr_float("alpha", 0.01));
  return [=](float x) { return x >= 0 ? x : a * x; };
});
NEONN_UNARY(Elu, [](C c) {
  const float a = static_cast<float>(c.attr_float("alpha", 1.0));
  return [=](float x) { return x >= 0 ? x : a * std::expm1(x); };
});
NEONN_UNARY(Selu, [](C c) {
  const float a = static_cast<float>(c.attr_float("alpha", 1.67326319217681884765625));
  const float g = static_cast<float>(c.attr_float("gamma", 1.05070102214813232421875));
  return [=](float x) { return x > 0 ? g * x : g * a * std::expm1(x); };
});
NEONN_UNARY(Celu, [](C c) {
  const float a = static_cast<float>(c.attr_float("alpha", 1.0));
  c.check(a != 0.0f, "alpha must not be 0");
  return [=](float x) { return std::max(0.0f, x) + std::min(0.0f, a * std::expm1(x / a)); };
});
NEONN_UNARY(Gelu, [](C c) {
  const bool tanh_form = c.has_attr("approximate") && c.attr_string("approximate") == "tanh";
  c.check(!c.has_attr("approximate") || tanh_form || c.attr_string("approximate") == "none",
          "approximate must be \"none\" or \"tanh\"");
  return [=](float x) {
    if (tanh_form) {
      const float k = 0.7978845608028654f;  // sqrt(2 / pi)
      return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
    }
    return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
  };
});

}  // namespace
}  // namespace neonn
