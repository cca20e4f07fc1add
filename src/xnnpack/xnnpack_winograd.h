// A 3x3 stride-1 convolution of an NHWC region computed with Winograd's
// minimal filtering, F(4x4, 3x3) (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016): each 4x4 block of outputs takes
// 36 multiplications per input and output channel pair instead of 144.
//
// The weights are transformed once (U = G g Gᵀ, a 6x6 matrix per channel
// pair) and handed to XNNPACK as the constant B of a batched matrix multiply,
// one [Cin][Cout] matrix per position of the 6x6 tile, packed by XNNPACK for
// its GEMM micro-kernels (AVX-512, AVX2, NEON: XNNPACK picks them). A run
// walks the output tiles in blocks: transforms each 6x6 input patch
// (V = Bᵀ d B, every input channel), multiplies the 36 [tiles][Cin] matrices
// by U, and transforms each 6x6 product back (Aᵀ m A), adding the bias and
// clamping as the conv's fused activation does. The transforms are neonn's
// loops, vectorized across channels (NHWC keeps a pixel's channels together).
//
// The result differs from a direct convolution by rounding only: the
// transforms' constants (1/4, 1/6, 1/12, 1/24, 2, 4, 5, 8) scale partial sums,
// so the error is a few times a direct sum's, about 1e-6 of the output's
// magnitude per input channel summed (test/xnnpack/winograd.test.ts bounds it).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "../ops/conv.h"
#include "xnnpack_api.h"
#include "xnnpack_util.h"

namespace neonn {
namespace xnn {

class WinogradConv {
 public:
  /// Whether this conv (fp32) is one F(4x4, 3x3) computes: 3x3, stride 1, no dilation, one group; and, unless
  /// NEONN_WINOGRAD=on, one where it pays: channels enough for the GEMM to dominate the transforms and an output
  /// whose 4x4 tiles do not waste much. NEONN_WINOGRAD=off: never.
  /// `direct_gemm`: a direct conv runs on neonn's GEMM here (xnnpack_gemm_conv.cc), which beats Winograd on few
  /// tiles as XNNPACK's direct conv does not.
  static bool wanted(const Conv2dCall& c, bool direct_gemm = false);
  /// Transforms and packs the weights. `out_stride`: the output's pixel stride (c_out, or a concat's channels).
  WinogradConv(const Api& api, const Conv2dCall& c, float lo, float hi, size_t out_stride, ThreadpoolHandle pool);
  /// x: NHWC input, pixel stride c_in; y: NHWC output, pixel stride out_stride. `scratch`: scratch_floats() floats.
  void run(const float* x, float* y, float* scratch) const;
  /// The scratch a run needs (the transformed inputs and products of one block of tiles).
  size_t scratch_floats() const { return block_ * 36 * (c_in_ + c_out_) + kExtraFloats; }
  /// The packed weights.
  size_t bytes() const { return packed_bytes_; }

 private:
  const Api& api_;
  OperatorPtr gemm_;
  size_t n_, c_in_, c_out_, in_h_, in_w_, out_h_, out_w_, pad_top_, pad_left_, out_stride_;
  size_t tiles_h_, tiles_w_, tiles_;
  size_t block_;  // tiles per block
  float lo_, hi_;
  std::unique_ptr<float[]> bias_;  // c_out values (zeros without a bias)
  std::unique_ptr<float[]> zeros_;  // c_in zeros: the padding's pixels
  size_t packed_bytes_ = 0;
};

}  // namespace xnn
}  // namespace neonn
