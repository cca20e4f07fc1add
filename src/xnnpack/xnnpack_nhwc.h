// neonn's own NHWC kernels for the ops of a region where XNNPACK's are slow on
// a CPU: its x86 max pooling is SSE-only (four channels a step), while a 2x2
// pooling of 16 to 64 channels is a few vector maxima per output pixel; its
// depthwise convs load each tap's weights and an input pointer per output pixel
// (an indirection buffer), where a row of pixels can keep one channel block's
// nine weights in registers; its f32 GEMMs on AVX-512 compute 32 output
// channels a step, so that a conv with 16 or fewer wastes half or more of each.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "../model/region.h"
#include "../ops/conv.h"

namespace neonn {
namespace xnn {

/// The generation of neonn's own kernels and choice rules in NHWC regions (this file, xnnpack_gemm_conv.cc,
/// xnnpack_amx.cc, the region's planning): part of the xnnpack backend's version, so a tuning cache written against
/// older ones is measured again. Bump it when they change what runs or how fast.
constexpr int kRegionKernels = 2;

/// A max pooling of an NHWC buffer (no dilation): the window's taps inside the input only (ONNX's padding never
/// wins a maximum), then clamped to [lo, hi]. Output pixels `y_stride` floats apart (a concat's channels).
struct MaxPoolNhwc {
  size_t n = 0, in_h = 0, in_w = 0, channels = 0, out_h = 0, out_w = 0;
  size_t k_h = 1, k_w = 1, stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0, y_stride = 0;
  float lo = 0, hi = 0;
};

/// Whether `p` is one max_pool_nhwc computes: every window holds an input pixel.
bool max_pool_nhwc_fits(const MaxPoolNhwc& p);

/// Runs it on neonn's thread pool (over output rows).
void max_pool_nhwc(const MaxPoolNhwc& p, const float* x, float* y);

/// A depthwise 3x3 conv of an NHWC buffer (one input channel per group, one output channel per input channel),
/// stride 1 or 2, no dilation; the bias added, then clamped to [lo, hi]. Output pixels `y_stride` floats apart.
struct DwConvNhwc {
  size_t n = 0, in_h = 0, in_w = 0, channels = 0, out_h = 0, out_w = 0, stride = 1, pad_top = 0, pad_left = 0, y_stride = 0;
  float lo = 0, hi = 0;
  std::vector<float> w;     ///< [channels rounded up to 16 / 16][9 taps][16], zero past the channels
  std::vector<float> bias;  ///< [channels rounded up to 16], zero past the channels (and without a bias)
  /// The kernel this CPU runs (AVX-512 with FMA on x86-64), or null: then XNNPACK's.
  void (*rows)(const DwConvNhwc& p, const float* x, float* y, size_t begin, size_t end) = nullptr;
};

/// The plan of `c` on neonn's kernel, or null when it is not one (or this CPU has no kernel for it).
std::unique_ptr<DwConvNhwc> make_dw_conv_nhwc(const Conv2dCall& c, float lo, float hi, size_t y_stride);

/// Runs it on neonn's thread pool (over output rows).
void dw_conv_nhwc(const DwConvNhwc& p, const float* x, float* y);

/// A conv's geometry as neonn's NHWC conv kernels read it (a Conv2dCall's, checked and as size_t).
struct ConvGeometry {
  size_t n = 0, in_h = 0, in_w = 0, c_in = 0, c_out = 0, out_h = 0, out_w = 0, k_h = 1, k_w = 1;
  size_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1, pad_top = 0, pad_left = 0;
  /// `c`'s, which its maker has checked (every field positive, the pads not negative).
  static ConvGeometry of(const Conv2dCall& c);
};

/// A conv of one group with at most 16 output channels (a stem's, a detector head's): each output pixel's channels as
/// one vector, eight pixels at a time; any kernel size, stride and padding, no dilation.
struct NarrowConvNhwc : ConvGeometry {
  size_t y_stride = 0;
  float lo = 0, hi = 0;
  std::vector<float> w;     ///< [k_h][k_w][c_in][16], zero past c_out
  std::vector<float> bias;  ///< [16], zero past c_out (and without a bias)
  void (*rows)(const NarrowConvNhwc& p, const float* x, float* y, size_t begin, size_t end) = nullptr;
};

/// The plan of `c` on neonn's kernel, or null when it is not one (or this CPU has no kernel for it).
std::unique_ptr<NarrowConvNhwc> make_narrow_conv_nhwc(const Conv2dCall& c, float lo, float hi, size_t y_stride);

/// A conv of one group (any kernel, stride, dilation and padding) as a GEMM of its output pixels against its weights,
/// each tap's input pixels read where they lie in the NHWC buffer (a row of zeros past the edges), blocked for the
/// caches (xnnpack_gemm_conv.cc); the bias added, then clamped to [lo, hi]. Output pixels `y_stride` floats apart.
struct GemmConvNhwc : ConvGeometry {
  size_t y_stride = 0;
  /// A pass over the sums takes `chunk_taps` taps of all c_in inputs (c_in <= 256), or `chunk_inputs` of one tap's.
  size_t chunk_taps = 1, chunk_inputs = 0;
  float lo = 0, hi = 0;
  std::vector<float> w;      ///< per panel of 32 output channels: [k_h * k_w][c_in][32], zero past c_out
  std::vector<float> bias;   ///< [c_out rounded up to 32], zero past c_out (and without a bias)
  std::vector<float> zeros;  ///< [c_in]: a tap's input past the edges
  /// An add folded into the conv (null: none): its other value, NHWC, pixels `residual_stride` floats apart, added to
  /// the conv's output (bias included) before the clamp.
  const float* residual = nullptr;
  size_t residual_stride = 0;
  /// Pixels [m_begin, m_end) against panels [p_begin, p_end): the kernel this CPU runs (AVX-512 with FMA on x86-64).
  void (*block)(const GemmConvNhwc& p, const float* x, float* y, size_t m_begin, size_t m_end, size_t p_begin, size_t p_end) = nullptr;
};

/// Whether `c` is a conv neonn's GEMM computes on this CPU: one group, at most 7x7 taps, under 2^31 elements each.
bool gemm_conv_fits(const Conv2dCall& c);

/// The plan of `c` on neonn's GEMM, or null when it does not fit.
std::unique_ptr<GemmConvNhwc> make_gemm_conv_nhwc(const Conv2dCall& c, float lo, float hi, size_t y_stride);

/// Runs it on neonn's thread pool (over blocks of pixels and groups of output channels).
void gemm_conv_nhwc(const GemmConvNhwc& p, const float* x, float* y);

/// Makes `p` read its input as NCHW (a region's entry where it lies, no transpose in); false when it cannot.
bool narrow_conv_read_nchw(NarrowConvNhwc& p);

/// Output channel `o` of a quantized region's conv `c` as XNNPACK's qs8 operator packs it: its multiplier
/// (x_scale * w_scale) / y_scale in float32, in that order, and its bias less x_zp times the sum of its `per` weights
/// (int32, wrapping as XNNPACK's sums do). False when XNNPACK would refuse the multiplier (>= 256).
bool qs8_channel(const QuantConv& c, size_t o, size_t per, int32_t x_zp, float x_scale, float y_scale, float* multiplier, int32_t* bias);

/// A quantized region's depthwise 3x3 conv (one channel per group) of an NHWC int8 buffer, stride 1 or 2, no
/// dilation: the int32 sum of (x - x_zp) * w over the taps inside the input plus the bias, times the channel's float32
/// multiplier (x_scale * w_scale) / y_scale, rounded half to even, plus y_zp, saturated to int8: XNNPACK's qs8
/// arithmetic (and ONNX's), so the same bits as its operator. Output pixels are `channels` bytes apart.
struct QDwConvNhwc {
  size_t n = 0, in_h = 0, in_w = 0, channels = 0, out_h = 0, out_w = 0, stride = 1, pad_top = 0, pad_left = 0;
  int32_t x_zp = 0, y_zp = 0;
  /// Per block of 32 channels: [9 taps][32] int16 weights, zero past the channels.
  std::vector<int16_t> w;
  /// Per block of 32 channels, its even channels then its odd ones (16 each): bias - x_zp * (the sum of the nine
  /// weights), and the multiplier; zero past the channels.
  std::vector<int32_t> bias;
  std::vector<float> scale;
  /// The kernel this CPU runs (AVX-512 with BW, VL and DQ on x86-64), or null: then XNNPACK's.
  void (*rows)(const QDwConvNhwc& p, const int8_t* x, int8_t* y, size_t begin, size_t end) = nullptr;
};

/// The plan of `c` (its input and output as the region holds them: int8, zero points shifted for uint8) on neonn's
/// kernel, or null when it is not one, when XNNPACK would refuse a multiplier (>= 256), or when this CPU has no
/// kernel for it.
std::unique_ptr<QDwConvNhwc> make_qdw_conv_nhwc(const QuantConv& c, int32_t x_zp, float x_scale, int32_t y_zp, float y_scale);

/// A quantized region's 1x1 conv of stride 1 (one group) as a GEMM over the pixels of an NHWC int8 buffer, on Intel
/// AMX's int8 tiles (xnnpack_amx.cc), with XNNPACK's qs8 arithmetic as QDwConvNhwc has it.
struct QPointwiseNhwc {
  size_t pixels = 0, c_in = 0, c_out = 0, k_chunk = 0;  ///< k_chunk: inputs per tile (a multiple of 4 dividing c_in)
  int32_t y_zp = 0;
  /// Per block of 16 output channels: c_in / 4 rows of 16 x 4 bytes (AMX's layout), zero past c_out; blocks in pairs.
  std::vector<int8_t> w;
  /// Per output channel (zero past c_out, to a multiple of 32): bias - x_zp * (the weights' sum), the multiplier.
  std::vector<int32_t> bias;
  std::vector<float> scale;
  void (*rows)(const QPointwiseNhwc& p, const int8_t* x, int8_t* y, size_t begin, size_t end) = nullptr;
};

/// The plan of `c` on AMX, or null when it is not such a conv (or c_in is not a multiple of 4), when XNNPACK would
/// refuse a multiplier (>= 256), or when this CPU (or the kernel) offers no AMX.
std::unique_ptr<QPointwiseNhwc> make_qpointwise_nhwc(const QuantConv& c, int32_t x_zp, float x_scale, int32_t y_zp, float y_scale);

/// Whether none of x[0, n) is NaN or infinite (on neonn's thread pool).
bool all_finite(const float* x, size_t n);

/// Runs it on neonn's thread pool (over output rows).
void narrow_conv_nhwc(const NarrowConvNhwc& p, const float* x, float* y);

}  // namespace xnn
}  // namespace neonn
