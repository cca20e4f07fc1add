// Elementwise float32 unary kernels from a scalar function: the loop, the
// checks and the threading written once. A kernel with attributes reads them
// once, before the loop, in its `make` function.
#pragma once

#include "../parallel.h"
#include "kernel.h"

namespace neonn {

/// y = f(x) over float32 tensors of one shape (y may be x: in place).
template <typename F>
void unary_float(const KernelCall& c, F f) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  c.expect_dtype(x, DType::kFloat32, "input");
  c.expect_dtype(y, DType::kFloat32, "output");
  c.expect_out_shape(0, x.shape);
  const float* px = x.as<float>();
  float* py = y.as<float>();
  parallel_for(x.count(), parallel_grain(8), [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) py[i] = f(px[i]);
  });
}

}  // namespace neonn

/// A float unary kernel NAME: the rest is `make`, a `(const KernelCall& c) ->
/// scalar function` (variadic: a lambda's commas are not the macro's).
#define NEONN_UNARY(NAME, ...)                                         \
  static void neonn_unary_##NAME(const ::neonn::KernelCall& c) {       \
    ::neonn::unary_float(c, (__VA_ARGS__)(c));                         \
  }                                                                    \
  NEONN_KERNEL(NAME, neonn_unary_##NAME)
