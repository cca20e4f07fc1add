// concat, transpose and pad, each sync and async, parsed once.
#include <napi.h>

#include "../src/ops/layout.h"
#include "op_args.h"

namespace neonn {
namespace binding {
namespace {

// At most this many concat inputs: far above any network, and it bounds
// the work the parser does for a hostile array.
constexpr uint32_t kMaxConcatInputs = 1u << 16;

// (tensors: Float32Array[], shapes: number[][], out, axis)
ConcatArgs parse_concat(const Napi::CallbackInfo& info) {
  expect_argc(info, 4, "concat");
  NEONN_THROW_TYPEERROR_IF(!info[0].IsArray() || !info[1].IsArray(),
                           "concat: expected \"tensors\" and \"shapes\" to be arrays");
  const Napi::Array tensors = info[0].As<Napi::Array>();
  const Napi::Array shapes = info[1].As<Napi::Array>();
  const uint32_t n = tensors.Length();
  NEONN_THROW_RANGEERROR_IF(n == 0 || n > kMaxConcatInputs,
                            "concat: needs 1.." + std::to_string(kMaxConcatInputs) +
                                " tensors, got " + std::to_string(n));
  NEONN_THROW_RANGEERROR_IF(shapes.Length() != n, "concat: " + std::to_string(n) +
                                                      " tensors but " +
                                                      std::to_string(shapes.Length()) + " shapes");
  ConcatArgs a;
  for (uint32_t i = 0; i < n; ++i) {
    const std::string name = "tensors[" + std::to_string(i) + "]";
    const std::string shape_name = "shapes[" + std::to_string(i) + "]";
    const MutableFloatSpan x = float32_value(info.Env(), tensors.Get(i), "concat", name.c_str());
    a.xs.push_back(FloatSpan{x.data, x.size});
    a.shapes.push_back(make_dims(int_list_value(shapes.Get(i), "concat", shape_name.c_str(), kMaxRank),
                                 "concat: " + shape_name));
  }
  a.y = float32_arg(info, 2, "concat", "out");
  a.axis = int_arg(info, 3, "concat", "axis");
  check_concat(a);
  return a;
}

// (x, out, shape, perm)
TransposeArgs parse_transpose(const Napi::CallbackInfo& info) {
  expect_argc(info, 4, "transpose");
  TransposeArgs a;
  a.x = const_float32_arg(info, 0, "transpose", "x");
  a.y = float32_arg(info, 1, "transpose", "out");
  a.shape = dims_arg(info, 2, "transpose", "shape");
  a.perm = int_list_arg(info, 3, "transpose", "perm", kMaxRank);
  check_transpose(a);
  return a;
}

// (x, out, shape, pads, value)
PadArgs parse_pad(const Napi::CallbackInfo& info) {
  expect_argc(info, 5, "pad");
  PadArgs a;
  a.x = const_float32_arg(info, 0, "pad", "x");
  a.y = float32_arg(info, 1, "pad", "out");
  a.shape = dims_arg(info, 2, "pad", "shape");
  a.pads = int_list_arg(info, 3, "pad", "pads", 2 * kMaxRank);
  a.value = number_arg(info, 4, "pad", "value");
  check_pad(a);
  return a;
}

}  // namespace

void RegisterLayout(Napi::Env env, Napi::Object exports) {
  // concatSync(tensors, shapes, out, axis): void; concat(...): Promise<void>
  export_op<ConcatArgs>(env, exports, "concat", parse_concat, run_concat, Op::kConcat);
  // transposeSync(x, out, shape, perm): void; transpose(...): Promise<void>
  export_op<TransposeArgs>(env, exports, "transpose", parse_transpose, run_transpose, Op::kTranspose);
  // padSync(x, out, shape, pads, value): void; pad(...): Promise<void>
  export_op<PadArgs>(env, exports, "pad", parse_pad, run_pad, Op::kPad);
}

}  // namespace binding
}  // namespace neonn
