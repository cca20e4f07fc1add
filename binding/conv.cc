// conv2d/conv2dSync and fullyConnected/fullyConnectedSync: one parser each,
// then the same core call sync or on the libuv pool.
#include <napi.h>

#include <string>

#include "../src/ops/conv.h"
#include "args.h"
#include "op_entry.h"

namespace neonn {
namespace binding {
namespace {

constexpr size_t kConv2dArgc = 21;
constexpr size_t kFullyConnectedArgc = 7;

FloatSpan input_arg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  const MutableFloatSpan s = float32_arg(info, i, op, name);
  return FloatSpan{s.data, s.size};
}

FloatSpan optional_input_arg(const Napi::CallbackInfo& info, size_t i, const char* op,
                             const char* name) {
  return is_nullish(info[i]) ? FloatSpan{} : input_arg(info, i, op, name);
}

void require_argc(const Napi::CallbackInfo& info, size_t argc, const char* op) {
  NEONN_THROW_TYPEERROR_IF(info.Length() != argc, std::string(op) + ": native binding expects " +
                                                      std::to_string(argc) + " arguments, got " +
                                                      std::to_string(info.Length()));
}

// Arguments, positional so the sync path does no property lookups:
// (x, w, bias | null, out, n, cIn, h, w, cOut, kH, kW, group, strideH, strideW,
//  dilationH, dilationW, padTop, padLeft, padBottom, padRight, activation)
// activation: 0 none, 1 relu.
Conv2dCall parse_conv2d_args(const Napi::CallbackInfo& info) {
  const char* op = "conv2d";
  require_argc(info, kConv2dArgc, op);
  Conv2dCall c;
  c.x = input_arg(info, 0, op, "x");
  c.w = input_arg(info, 1, op, "w");
  c.bias = optional_input_arg(info, 2, op, "bias");
  c.y = float32_arg(info, 3, op, "out");
  c.n = int_arg(info, 4, op, "x.shape[0]");
  c.c_in = int_arg(info, 5, op, "x.shape[1]");
  c.in_h = int_arg(info, 6, op, "x.shape[2]");
  c.in_w = int_arg(info, 7, op, "x.shape[3]");
  c.c_out = int_arg(info, 8, op, "w.shape[0]");
  c.k_h = int_arg(info, 9, op, "w.shape[2]");
  c.k_w = int_arg(info, 10, op, "w.shape[3]");
  c.group = int_arg(info, 11, op, "group");
  c.stride_h = int_arg(info, 12, op, "strides[0]");
  c.stride_w = int_arg(info, 13, op, "strides[1]");
  c.dilation_h = int_arg(info, 14, op, "dilations[0]");
  c.dilation_w = int_arg(info, 15, op, "dilations[1]");
  c.pad_top = int_arg(info, 16, op, "pads[0]");
  c.pad_left = int_arg(info, 17, op, "pads[1]");
  c.pad_bottom = int_arg(info, 18, op, "pads[2]");
  c.pad_right = int_arg(info, 19, op, "pads[3]");
  // Range-checked before the cast: a wide value must not truncate into a valid one.
  const int64_t activation = int_arg(info, 20, op, "activation");
  NEONN_THROW_RANGEERROR_IF(activation != 0 && activation != 1,
                            "conv2d: unknown activation " + std::to_string(activation));
  c.activation = static_cast<Activation>(activation);
  c.out_h = conv_output_size(op, "H", c.in_h, c.k_h, c.stride_h, c.dilation_h, c.pad_top,
                             c.pad_bottom);
  c.out_w = conv_output_size(op, "W", c.in_w, c.k_w, c.stride_w, c.dilation_w, c.pad_left,
                             c.pad_right);
  check_conv2d(c);
  return c;
}

// (x, w, bias | null, out, n, inFeatures, outFeatures)
FullyConnectedCall parse_fully_connected_args(const Napi::CallbackInfo& info) {
  const char* op = "fullyConnected";
  require_argc(info, kFullyConnectedArgc, op);
  FullyConnectedCall c;
  c.x = input_arg(info, 0, op, "x");
  c.w = input_arg(info, 1, op, "w");
  c.bias = optional_input_arg(info, 2, op, "bias");
  c.y = float32_arg(info, 3, op, "out");
  c.n = int_arg(info, 4, op, "n");
  c.in_features = int_arg(info, 5, op, "inFeatures");
  c.out_features = int_arg(info, 6, op, "outFeatures");
  check_fully_connected(c);
  return c;
}

// conv2dSync(x, w, bias, out, n, cIn, h, w, cOut, kH, kW, group, sH, sW, dH, dW, pT, pL, pB, pR, activation): void
Napi::Value Conv2dSync(const Napi::CallbackInfo& info) {
  return sync_entry(info, Op::kConv2d, parse_conv2d_args, run_conv2d);
}

// conv2d(x, w, bias, out, n, cIn, h, w, cOut, kH, kW, group, sH, sW, dH, dW, pT, pL, pB, pR, activation): Promise<void>
Napi::Value Conv2dAsync(const Napi::CallbackInfo& info) {
  return async_entry(info, Op::kConv2d, "neonn:conv2d", parse_conv2d_args, run_conv2d,
                     {info[0], info[1], info[2], info[3]});
}

// fullyConnectedSync(x, w, bias, out, n, inFeatures, outFeatures): void
Napi::Value FullyConnectedSync(const Napi::CallbackInfo& info) {
  return sync_entry(info, Op::kFullyConnected, parse_fully_connected_args, run_fully_connected);
}

// fullyConnected(x, w, bias, out, n, inFeatures, outFeatures): Promise<void>
Napi::Value FullyConnectedAsync(const Napi::CallbackInfo& info) {
  return async_entry(info, Op::kFullyConnected, "neonn:fullyConnected", parse_fully_connected_args,
                     run_fully_connected, {info[0], info[1], info[2], info[3]});
}

}  // namespace

void RegisterConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dSync", Napi::Function::New(env, Conv2dSync, "conv2dSync"));
  exports.Set("conv2d", Napi::Function::New(env, Conv2dAsync, "conv2d"));
  exports.Set("fullyConnectedSync", Napi::Function::New(env, FullyConnectedSync, "fullyConnectedSync"));
  exports.Set("fullyConnected", Napi::Function::New(env, FullyConnectedAsync, "fullyConnected"));
}

}  // namespace binding
}  // namespace neonn
