// Shared pieces of the quantized kernels (quant*.cc): the 8-bit ranges,
// checked scale/zero-point reading and ONNX's rounding.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernel.h"

namespace neonn {

bool is_q8(DType t);
/// The saturation range of a quantized type (uint8 [0, 255], int8 [-128, 127], int32).
int32_t q_lo(DType t);
int32_t q_hi(DType t);
/// Element i of an integer tensor (uint8, int8, int32, int64).
int64_t int_at(const TensorRef& t, size_t i);

/// Scales (checked finite and > 0) and zero points (0 when omitted), one per channel or one.
struct QuantParams {
  std::vector<float> scale;
  std::vector<int32_t> zp;
};
/// Reads a float32 scale tensor and an optional zero point of dtype `qtype`
/// with as many elements; RangeError naming `what` for a bad scale or zero point.
QuantParams quant_params(const KernelCall& c, const TensorRef& scale, const TensorRef* zp, DType qtype, const char* what);
/// Same, and the scale must have one element.
QuantParams scalar_params(const KernelCall& c, const TensorRef& scale, const TensorRef* zp, DType qtype, const char* what);
float scale_value(const KernelCall& c, const TensorRef& s, size_t i, const char* what);

/// A 2-D QLinearConv's geometry as its kernel computes it: pads from auto_pad or pads (the end pads as large as
/// the output needs), checked as the kernel checks them (RangeError). x and w: their dtypes and shapes only.
struct QConv2dGeometry {
  int64_t group = 1, k_h = 1, k_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0, out_h = 0, out_w = 0;
};
QConv2dGeometry qconv2d_geometry(const KernelCall& c, const TensorRef& x, const TensorRef& w);

/// QLinearSigmoid's (or QLinearLeakyRelu's, slope `alpha`) 256-entry table for 8-bit type t, as its kernel
/// computes it: entry x - q_lo(t) holds quantize(f(dequantize(x))).
std::vector<int32_t> qlinear_unary_table(bool sigmoid, float alpha, DType t, float xs, int32_t xzp, float ys, int32_t yzp);

// On x86-64 the 8-bit elementwise loops are also compiled for AVX2 and picked at load by the CPU (GCC's function
// multiversioning): the generic build's baseline is SSE2.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NEONN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NEONN_CLONES
#endif

/// saturate(round_half_even(v) + zp) into [lo, hi]; NaN counts as 0.
inline int32_t quantize_value(float v, int32_t zp, int32_t lo, int32_t hi) {
  float r = std::nearbyint(v);  // the default rounding mode: to nearest, ties to even
  if (r != r) r = 0.0f;
  double q = static_cast<double>(r) + zp;
  if (q < lo) q = lo;
  if (q > hi) q = hi;
  return static_cast<int32_t>(q);
}

}  // namespace neonn
