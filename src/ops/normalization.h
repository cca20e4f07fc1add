// Inference-time normalization: batchNorm (per channel, axis 1) and LRN
// across channels (ONNX LRN). x is [N, C, ...] viewed as [N, C, inner].
#pragma once

#include <cstddef>
#include <cstdint>

#include "../backend.h"
#include "dims.h"

namespace neonn {

struct BatchNormArgs {
  Dims shape;  ///< of x; rank >= 2
  FloatSpan x, scale, bias, mean, variance;  ///< the last four have C elements
  MutableFloatSpan y;  ///< may be x itself
  double epsilon = 1e-5;
};

/// y = scale * (x - mean) / sqrt(variance + epsilon) + bias, per channel.
struct BatchNormCall {
  size_t n = 1, c = 1, inner = 1;
  float epsilon = 1e-5f;
  const float* x = nullptr;
  const float* scale = nullptr;
  const float* bias = nullptr;
  const float* mean = nullptr;
  const float* variance = nullptr;
  float* y = nullptr;
};

struct LrnArgs {
  Dims shape;  ///< of x; rank >= 2
  int64_t size = 1;
  double alpha = 1e-4, beta = 0.75, bias = 1.0;
  FloatSpan x;
  MutableFloatSpan y;  ///< must not overlap x (each output reads its neighbours)
};

/// y = x / (bias + alpha / size * sum of x^2 over channels
///      c - floor((size-1)/2) .. c + ceil((size-1)/2))^beta
struct LrnCall {
  size_t n = 1, c = 1, inner = 1;
  int64_t size = 1;
  float alpha = 1e-4f, beta = 0.75f, bias = 1.0f;
  const float* x = nullptr;
  float* y = nullptr;
};

BatchNormCall check_batch_norm(const BatchNormArgs& args);
LrnCall check_lrn(const LrnArgs& args);

void run_batch_norm(const Backend& backend, const BatchNormArgs& args);
void run_lrn(const Backend& backend, const LrnArgs& args);

class ArgList;

/// Decoders from positional arguments (each re-checks). Layouts:
///   batchNorm (x, scale, bias, mean, variance, out, epsilon, rank, ...dims)
///   lrn       (x, out, size, alpha, beta, bias, rank, ...dims)
BatchNormArgs decode_batch_norm(const ArgList& args);
LrnArgs decode_lrn(const ArgList& args);

}  // namespace neonn
