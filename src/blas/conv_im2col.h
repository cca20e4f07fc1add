// conv2d and fullyConnected on top of any backend's sgemm: shared by every
// BLAS-backed backend (both OpenBLAS builds, and later blas:<path>).
#pragma once

#include "../backend.h"
#include "../ops/conv.h"

namespace neonn {

/// conv2d as im2col + one sgemm per group per image, laid out so that the
/// pixel count OH*OW is GEMM's N (the dimension openblas-dl threads over):
///   Y[Cout/g, OH*OW] = W[Cout/g, Cin/g*kH*kW] · col[Cin/g*kH*kW, OH*OW].
/// 1x1 stride-1 unpadded convs skip im2col (x already is col); convs with one
/// input channel per group (depthwise) use a direct loop instead of a GEMM.
/// `gemm` must provide Op::kGemm; `c` is already checked.
void blas_conv2d(const Backend& gemm, const Conv2dCall& c);

/// Y[N, out] = X[N, in] · Wᵀ + bias, one sgemm with transB.
void blas_fully_connected(const Backend& gemm, const FullyConnectedCall& c);

}  // namespace neonn
