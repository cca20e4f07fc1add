// pool2d/pool2dSync: maxPool2d, avgPool2d and globalAvgPool through one parser.
#include <napi.h>

#include <string>

#include "../src/ops/pool.h"
#include "args.h"
#include "op_entry.h"

namespace neonn {
namespace binding {
namespace {

constexpr size_t kPool2dArgc = 18;

// Arguments, positional so the sync path does no property lookups:
// (x, out, kind, n, c, h, w, kH, kW, strideH, strideW, dilationH, dilationW,
//  padTop, padLeft, padBottom, padRight, flags)
// kind: 0 max, 1 avg, 2 global avg. flags: bit 0 ceil, bit 1 countIncludePad.
Pool2dCall parse_pool2d_args(const Napi::CallbackInfo& info) {
  const char* op = "pool2d";
  NEONN_THROW_TYPEERROR_IF(info.Length() != kPool2dArgc,
                           "pool2d: native binding expects 18 arguments, got " +
                               std::to_string(info.Length()));
  Pool2dCall c;
  const MutableFloatSpan x = float32_arg(info, 0, op, "x");
  c.x = FloatSpan{x.data, x.size};
  c.y = float32_arg(info, 1, op, "out");
  // Range-checked before the cast: a wide value must not truncate into a valid one.
  const int64_t kind = int_arg(info, 2, op, "kind");
  NEONN_THROW_RANGEERROR_IF(kind < 0 || kind > 2, "pool2d: unknown kind " + std::to_string(kind));
  c.kind = static_cast<PoolKind>(kind);
  c.n = int_arg(info, 3, op, "x.shape[0]");
  c.c = int_arg(info, 4, op, "x.shape[1]");
  c.in_h = int_arg(info, 5, op, "x.shape[2]");
  c.in_w = int_arg(info, 6, op, "x.shape[3]");
  c.k_h = int_arg(info, 7, op, "kernel[0]");
  c.k_w = int_arg(info, 8, op, "kernel[1]");
  c.stride_h = int_arg(info, 9, op, "strides[0]");
  c.stride_w = int_arg(info, 10, op, "strides[1]");
  c.dilation_h = int_arg(info, 11, op, "dilations[0]");
  c.dilation_w = int_arg(info, 12, op, "dilations[1]");
  c.pad_top = int_arg(info, 13, op, "pads[0]");
  c.pad_left = int_arg(info, 14, op, "pads[1]");
  c.pad_bottom = int_arg(info, 15, op, "pads[2]");
  c.pad_right = int_arg(info, 16, op, "pads[3]");
  const int64_t flags = int_arg(info, 17, op, "flags");
  c.ceil_mode = (flags & 1) != 0;
  c.count_include_pad = (flags & 2) != 0;
  if (c.kind == PoolKind::kMax || c.kind == PoolKind::kAvg) {
    const char* name = c.kind == PoolKind::kMax ? "maxPool2d" : "avgPool2d";
    c.out_h = pool_output_size(name, "H", c.in_h, c.k_h, c.stride_h, c.dilation_h, c.pad_top,
                               c.pad_bottom, c.ceil_mode);
    c.out_w = pool_output_size(name, "W", c.in_w, c.k_w, c.stride_w, c.dilation_w, c.pad_left,
                               c.pad_right, c.ceil_mode);
  } else {
    c.out_h = c.out_w = 1;
  }
  check_pool2d(c);
  return c;
}

// pool2dSync(x, out, kind, n, c, h, w, kH, kW, sH, sW, dH, dW, pT, pL, pB, pR, flags): void
Napi::Value Pool2dSync(const Napi::CallbackInfo& info) {
  return sync_entry(info, Op::kPool2d, parse_pool2d_args, run_pool2d);
}

// pool2d(x, out, kind, n, c, h, w, kH, kW, sH, sW, dH, dW, pT, pL, pB, pR, flags): Promise<void>
Napi::Value Pool2dAsync(const Napi::CallbackInfo& info) {
  return async_entry(info, Op::kPool2d, "neonn:pool2d", parse_pool2d_args, run_pool2d,
                     {info[0], info[1]});
}

}  // namespace

void RegisterPool(Napi::Env env, Napi::Object exports) {
  exports.Set("pool2dSync", Napi::Function::New(env, Pool2dSync, "pool2dSync"));
  exports.Set("pool2d", Napi::Function::New(env, Pool2dAsync, "pool2d"));
}

}  // namespace binding
}  // namespace neonn
