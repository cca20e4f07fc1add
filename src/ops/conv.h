// nn.conv2d and nn.fullyConnected (ONNX Conv / Caffe InnerProduct semantics).
// The call structs hold sizes, hyperparameters and raw buffers; check_*()
// re-validates every size with overflow-safe arithmetic before any backend
// touches memory, and run_*() checks, runs on the given backend and counts it.
#pragma once

#include <algorithm>
#include <cstdint>

#include "../backend.h"
#include "../span.h"

namespace neonn {

/// Activation fused into an op's output. Values are part of the binding's ABI.
enum class Activation : int32_t {
  kNone = 0,
  kRelu = 1,
};

/// y[N, Cout, OH, OW] = conv(x[N, Cin, H, W], w[Cout, Cin/group, kH, kW]) + bias[Cout],
/// then the activation. Output size per axis:
/// floor((in + pad_begin + pad_end - dilation * (k - 1) - 1) / stride) + 1.
struct Conv2dCall {
  int64_t n = 0, c_in = 0, in_h = 0, in_w = 0;  ///< x shape
  int64_t c_out = 0, k_h = 0, k_w = 0;    ///< w shape is [c_out, c_in / group, k_h, k_w]
  int64_t group = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t out_h = 0, out_w = 0;  ///< set from conv_output_size(); check_conv2d verifies
  Activation activation = Activation::kNone;
  ConvAlgorithm algorithm = ConvAlgorithm::kAuto;  ///< the caller's pin, or kAuto
  FloatSpan x, w;
  FloatSpan bias;  ///< bias.data == nullptr: no bias
  MutableFloatSpan y;

  int64_t c_in_per_group() const { return c_in / group; }
  int64_t c_out_per_group() const { return c_out / group; }
};

/// y[N, outFeatures] = x[N, inFeatures] · wᵀ + bias, w being [outFeatures, inFeatures].
struct FullyConnectedCall {
  int64_t n = 0, in_features = 0, out_features = 0;
  FloatSpan x, w;
  FloatSpan bias;  ///< bias.data == nullptr: no bias
  MutableFloatSpan y;
};

/// Output length of one spatial axis of a sliding window, or a RangeError
/// (naming `op` and `axis`) when the window does not fit in the padded input.
int64_t conv_output_size(const char* op, const char* axis, int64_t in, int64_t k,
                         int64_t stride, int64_t dilation, int64_t pad_begin, int64_t pad_end);

/// Throws neonn::Error (RangeError/TypeError kind) on any inconsistency.
void check_conv2d(const Conv2dCall& c);
void check_fully_connected(const FullyConnectedCall& c);

/// RangeError unless `call.algorithm` is kAuto or one `backend` can run for this shape.
void check_conv_algorithm(const Backend& backend, const Conv2dCall& call);

/// Runs on `backend` (resolved for the op by the caller). Checks first.
void run_conv2d(const Backend& backend, const Conv2dCall& c);
void run_fully_connected(const Backend& backend, const FullyConnectedCall& c);

/// Applies bias (per output channel, `plane` pixels each) and the activation
/// to y in place: shared by the backends that compute the plain product first.
void apply_bias_activation(float* y, int64_t n, int64_t channels, int64_t plane,
                           const float* bias, Activation activation);

/// The same step on n values of one channel (bias 0 when the conv has none),
/// for loops that fuse it into their own pass: y + bias, then max(., 0) for relu.
inline void bias_activation_row(float* y, int64_t n, float bias, bool relu) {
  if (relu) {
    for (int64_t j = 0; j < n; ++j) y[j] = std::max(y[j] + bias, 0.0f);
  } else {
    for (int64_t j = 0; j < n; ++j) y[j] += bias;
  }
}

class ArgList;

/// Decoders from positional arguments (see binding/conv.cc for the layouts);
/// they compute output sizes and check everything.
Conv2dCall decode_conv2d(const ArgList& args);
FullyConnectedCall decode_fully_connected(const ArgList& args);

}  // namespace neonn
