// unary, binary, prelu and softmax, each sync and async, parsed once.
#include <napi.h>

#include "../src/ops/elementwise.h"
#include "op_args.h"

namespace neonn {
namespace binding {
namespace {

// (x, out, kind, alpha, min, max); kind: 0 relu, 1 leakyRelu, 2 sigmoid, 3 tanh, 4 clip
UnaryArgs parse_unary(const Napi::CallbackInfo& info) {
  expect_argc(info, 6, "unary");
  UnaryArgs a;
  a.x = const_float32_arg(info, 0, "unary", "x");
  a.y = float32_arg(info, 1, "unary", "out");
  a.kind = int_arg(info, 2, "unary", "kind");
  a.alpha = number_arg(info, 3, "unary", "alpha");
  a.min = number_arg(info, 4, "unary", "min");
  a.max = number_arg(info, 5, "unary", "max");
  check_unary(a);
  return a;
}

// (a, b, out, aShape, bShape, kind); kind: 0 add, 1 mul
BinaryArgs parse_binary(const Napi::CallbackInfo& info) {
  expect_argc(info, 6, "binary");
  BinaryArgs a;
  a.a = const_float32_arg(info, 0, "binary", "a");
  a.b = const_float32_arg(info, 1, "binary", "b");
  a.y = float32_arg(info, 2, "binary", "out");
  a.a_shape = dims_arg(info, 3, "binary", "aShape");
  a.b_shape = dims_arg(info, 4, "binary", "bShape");
  a.kind = int_arg(info, 5, "binary", "kind");
  check_binary(a);
  return a;
}

// (x, slope, out, xShape, slopeShape)
PreluArgs parse_prelu(const Napi::CallbackInfo& info) {
  expect_argc(info, 5, "prelu");
  PreluArgs a;
  a.x = const_float32_arg(info, 0, "prelu", "x");
  a.slope = const_float32_arg(info, 1, "prelu", "slope");
  a.y = float32_arg(info, 2, "prelu", "out");
  a.x_shape = dims_arg(info, 3, "prelu", "xShape");
  a.slope_shape = dims_arg(info, 4, "prelu", "slopeShape");
  check_prelu(a);
  return a;
}

// (x, out, shape, axis, log)
SoftmaxArgs parse_softmax(const Napi::CallbackInfo& info) {
  expect_argc(info, 5, "softmax");
  SoftmaxArgs a;
  a.x = const_float32_arg(info, 0, "softmax", "x");
  a.y = float32_arg(info, 1, "softmax", "out");
  a.shape = dims_arg(info, 2, "softmax", "shape");
  a.axis = int_arg(info, 3, "softmax", "axis");
  a.log = bool_arg(info, 4, "softmax", "log");
  check_softmax(a);
  return a;
}

}  // namespace

void RegisterElementwise(Napi::Env env, Napi::Object exports) {
  // unarySync(x, out, kind, alpha, min, max): void; unary(...): Promise<void>
  export_op<UnaryArgs>(env, exports, "unary", parse_unary, run_unary, Op::kUnary);
  // binarySync(a, b, out, aShape, bShape, kind): void; binary(...): Promise<void>
  export_op<BinaryArgs>(env, exports, "binary", parse_binary, run_binary, Op::kBinary);
  // preluSync(x, slope, out, xShape, slopeShape): void; prelu(...): Promise<void>
  export_op<PreluArgs>(env, exports, "prelu", parse_prelu, run_prelu, Op::kPrelu);
  // softmaxSync(x, out, shape, axis, log): void; softmax(...): Promise<void>
  export_op<SoftmaxArgs>(env, exports, "softmax", parse_softmax, run_softmax, Op::kSoftmax);
}

}  // namespace binding
}  // namespace neonn
