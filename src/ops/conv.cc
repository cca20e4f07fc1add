#include "conv.h"

#include <algorithm>
#include <string>

#include "../args.h"
#include "../checked.h"
#include "../parallel.h"
#include "../status.h"
#include "overlap.h"

namespace neonn {
namespace {

using std::to_string;

void require_positive(int64_t v, const char* op, const char* what) {
  NEONN_THROW_RANGEERROR_IF(v <= 0, std::string(op) + ": " + what + " must be a positive integer, got " +
                                        to_string(v));
}

void require_size(const char* op, const char* name, size_t have, int64_t want) {
  NEONN_THROW_RANGEERROR_IF(static_cast<uint64_t>(want) != have,
                            std::string(op) + ": " + name + " has " + to_string(have) +
                                " elements, expected " + to_string(want));
}

void require_no_overlap(const char* op, const MutableFloatSpan& y, const FloatSpan& in,
                        const char* name) {
  NEONN_THROW_RANGEERROR_IF(float_ranges_overlap(y.data, y.size, in.data, in.size),
                            std::string(op) + ": out overlaps " + name);
}

}  // namespace

int64_t conv_output_size(const char* op, const char* axis, int64_t in, int64_t k, int64_t stride,
                         int64_t dilation, int64_t pad_begin, int64_t pad_end) {
  require_positive(in, op, axis);
  require_positive(k, op, "kernel size");
  require_positive(stride, op, "stride");
  require_positive(dilation, op, "dilation");
  NEONN_THROW_RANGEERROR_IF(pad_begin < 0 || pad_end < 0,
                            std::string(op) + ": pads must be >= 0, got " + to_string(pad_begin) +
                                " and " + to_string(pad_end) + " along " + axis);
  // Every operand is at most 2^53 (JS integers), so the sums cannot wrap int64.
  const int64_t extent = checked_mul(dilation, k - 1, op) + 1;
  const int64_t padded = in + pad_begin + pad_end;
  NEONN_THROW_RANGEERROR_IF(extent > padded,
                            std::string(op) + ": kernel extent along " + axis + " (" +
                                to_string(extent) + ") is larger than the padded input (" +
                                to_string(padded) + "): no output");
  return (padded - extent) / stride + 1;
}

void check_conv2d(const Conv2dCall& c) {
  const char* op = "conv2d";
  require_positive(c.n, op, "batch size");
  require_positive(c.c_in, op, "input channels");
  require_positive(c.c_out, op, "output channels");
  require_positive(c.group, op, "group");
  NEONN_THROW_RANGEERROR_IF(c.c_in % c.group != 0, "conv2d: input channels (" + to_string(c.c_in) +
                                                       ") are not divisible by group (" +
                                                       to_string(c.group) + ")");
  NEONN_THROW_RANGEERROR_IF(c.c_out % c.group != 0, "conv2d: output channels (" + to_string(c.c_out) +
                                                        ") are not divisible by group (" +
                                                        to_string(c.group) + ")");
  const int64_t oh = conv_output_size(op, "H", c.in_h, c.k_h, c.stride_h, c.dilation_h, c.pad_top,
                                      c.pad_bottom);
  const int64_t ow = conv_output_size(op, "W", c.in_w, c.k_w, c.stride_w, c.dilation_w, c.pad_left,
                                      c.pad_right);
  NEONN_THROW_RANGEERROR_IF(oh != c.out_h || ow != c.out_w,
                            "conv2d: output size " + to_string(c.out_h) + "x" + to_string(c.out_w) +
                                " does not match the computed " + to_string(oh) + "x" +
                                to_string(ow));
  const int64_t x_size = checked_mul(checked_mul(c.n, c.c_in, op), checked_mul(c.in_h, c.in_w, op), op);
  const int64_t w_size = checked_mul(checked_mul(c.c_out, c.c_in_per_group(), op),
                                     checked_mul(c.k_h, c.k_w, op), op);
  const int64_t y_size = checked_mul(checked_mul(c.n, c.c_out, op), checked_mul(oh, ow, op), op);
  require_size(op, "x", c.x.size, x_size);
  require_size(op, "w", c.w.size, w_size);
  require_size(op, "out", c.y.size, y_size);
  NEONN_THROW_TYPEERROR_IF(c.x.data == nullptr || c.w.data == nullptr || c.y.data == nullptr,
                           "conv2d: a buffer is detached or null");
  if (c.bias.data != nullptr) require_size(op, "bias", c.bias.size, c.c_out);
  NEONN_THROW_RANGEERROR_IF(
      c.activation != Activation::kNone && c.activation != Activation::kRelu,
      "conv2d: unknown activation " + to_string(static_cast<int32_t>(c.activation)));
  require_no_overlap(op, c.y, c.x, "x");
  require_no_overlap(op, c.y, c.w, "w");
  require_no_overlap(op, c.y, c.bias, "bias");
}

void check_fully_connected(const FullyConnectedCall& c) {
  const char* op = "fullyConnected";
  require_positive(c.n, op, "batch size");
  require_positive(c.in_features, op, "inFeatures");
  require_positive(c.out_features, op, "outFeatures");
  require_size(op, "x", c.x.size, checked_mul(c.n, c.in_features, op));
  require_size(op, "w", c.w.size, checked_mul(c.out_features, c.in_features, op));
  require_size(op, "out", c.y.size, checked_mul(c.n, c.out_features, op));
  NEONN_THROW_TYPEERROR_IF(c.x.data == nullptr || c.w.data == nullptr || c.y.data == nullptr,
                           "fullyConnected: a buffer is detached or null");
  if (c.bias.data != nullptr) require_size(op, "bias", c.bias.size, c.out_features);
  require_no_overlap(op, c.y, c.x, "x");
  require_no_overlap(op, c.y, c.w, "w");
  require_no_overlap(op, c.y, c.bias, "bias");
}

void run_conv2d(const Backend& backend, const Conv2dCall& c) {
  check_conv2d(c);
  check_conv_algorithm(backend, c);
  backend.conv2d(c);
  backend.count_op();
}

void run_fully_connected(const Backend& backend, const FullyConnectedCall& c) {
  check_fully_connected(c);
  backend.fully_connected(c);
  backend.count_op();
}

void apply_bias_activation(float* y, int64_t n, int64_t channels, int64_t plane, const float* bias,
                           Activation activation) {
  if (bias == nullptr && activation == Activation::kNone) return;
  const bool relu = activation == Activation::kRelu;
  parallel_for(static_cast<size_t>(n * channels), parallel_grain(static_cast<size_t>(plane)),
               [&](size_t q0, size_t q1) {
    for (size_t q = q0; q < q1; ++q) {
      float* p = y + static_cast<int64_t>(q) * plane;
      bias_activation_row(p, plane, bias != nullptr ? bias[static_cast<int64_t>(q) % channels] : 0.0f, relu);
    }
  });
}

// --- decoding from positional arguments (JS call, async worker, model step) ---

constexpr size_t kConv2dArgc = 22;
constexpr size_t kFullyConnectedArgc = 7;

// Arguments, positional so the sync path does no property lookups:
// (x, w, bias | null, out, n, cIn, h, w, cOut, kH, kW, group, strideH, strideW,
//  dilationH, dilationW, padTop, padLeft, padBottom, padRight, activation, algorithm)
// activation: 0 none, 1 relu. algorithm: a ConvAlgorithm value (0 auto).
Conv2dCall decode_conv2d(const ArgList& args) {
  const char* op = "conv2d";
  args.require_size(kConv2dArgc, op);
  Conv2dCall c;
  c.x = args.input(0, op, "x");
  c.w = args.input(1, op, "w");
  c.bias = args.optional_input(2, op, "bias");
  c.y = args.span(3, op, "out");
  c.n = args.integer(4, op, "x.shape[0]");
  c.c_in = args.integer(5, op, "x.shape[1]");
  c.in_h = args.integer(6, op, "x.shape[2]");
  c.in_w = args.integer(7, op, "x.shape[3]");
  c.c_out = args.integer(8, op, "w.shape[0]");
  c.k_h = args.integer(9, op, "w.shape[2]");
  c.k_w = args.integer(10, op, "w.shape[3]");
  c.group = args.integer(11, op, "group");
  c.stride_h = args.integer(12, op, "strides[0]");
  c.stride_w = args.integer(13, op, "strides[1]");
  c.dilation_h = args.integer(14, op, "dilations[0]");
  c.dilation_w = args.integer(15, op, "dilations[1]");
  c.pad_top = args.integer(16, op, "pads[0]");
  c.pad_left = args.integer(17, op, "pads[1]");
  c.pad_bottom = args.integer(18, op, "pads[2]");
  c.pad_right = args.integer(19, op, "pads[3]");
  // Range-checked before the cast: a wide value must not truncate into a valid one.
  const int64_t activation = args.integer(20, op, "activation");
  NEONN_THROW_RANGEERROR_IF(activation != 0 && activation != 1,
                            "conv2d: unknown activation " + std::to_string(activation));
  c.activation = static_cast<Activation>(activation);
  const int64_t algorithm = args.integer(21, op, "algorithm");
  NEONN_THROW_RANGEERROR_IF(algorithm < 0 || algorithm >= static_cast<int64_t>(ConvAlgorithm::kCount),
                            "conv2d: unknown algorithm " + std::to_string(algorithm));
  c.algorithm = static_cast<ConvAlgorithm>(algorithm);
  c.out_h = conv_output_size(op, "H", c.in_h, c.k_h, c.stride_h, c.dilation_h, c.pad_top,
                             c.pad_bottom);
  c.out_w = conv_output_size(op, "W", c.in_w, c.k_w, c.stride_w, c.dilation_w, c.pad_left,
                             c.pad_right);
  check_conv2d(c);
  return c;
}

// (x, w, bias | null, out, n, inFeatures, outFeatures)
FullyConnectedCall decode_fully_connected(const ArgList& args) {
  const char* op = "fullyConnected";
  args.require_size(kFullyConnectedArgc, op);
  FullyConnectedCall c;
  c.x = args.input(0, op, "x");
  c.w = args.input(1, op, "w");
  c.bias = args.optional_input(2, op, "bias");
  c.y = args.span(3, op, "out");
  c.n = args.integer(4, op, "n");
  c.in_features = args.integer(5, op, "inFeatures");
  c.out_features = args.integer(6, op, "outFeatures");
  check_fully_connected(c);
  return c;
}


}  // namespace neonn
