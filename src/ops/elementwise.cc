#include "elementwise.h"

#include <cmath>
#include <string>

#include "../args.h"
#include "../checked.h"
#include "../status.h"

namespace neonn {
namespace {

const char* unary_name(int64_t kind) {
  switch (kind) {
    case 0: return "relu";
    case 1: return "leakyRelu";
    case 2: return "sigmoid";
    case 3: return "tanh";
    case 4: return "clip";
    default: return "unary";
  }
}

// out has `size` elements and may be exactly `in` (elementwise in place).
void check_out(const MutableFloatSpan& y, size_t size, const FloatSpan& in, const std::string& op,
               const char* name) {
  NEONN_THROW_RANGEERROR_IF(y.size != size, op + ": out has " + std::to_string(y.size) +
                                                " elements, expected " + std::to_string(size));
  NEONN_THROW_TYPEERROR_IF(y.data == nullptr, op + ": out is detached or null");
  check_no_overlap(y.data, y.size, in.data, in.size, true, op, name);
}

}  // namespace

Broadcast make_broadcast(const Dims& a, const Dims& b, bool unidirectional, const char* op) {
  const std::string what = op;
  dims_size(a, what + ": first operand");
  dims_size(b, what + ": second operand");
  const int rank = a.rank > b.rank ? a.rank : b.rank;
  int64_t out[kMaxRank], sa[kMaxRank], sb[kMaxRank];
  int64_t stride_a = 1, stride_b = 1;
  for (int i = rank - 1; i >= 0; --i) {
    // Align from the right; missing leading dims are 1.
    const int ia = i - (rank - a.rank), ib = i - (rank - b.rank);
    const int64_t da = ia >= 0 ? a.d[ia] : 1, db = ib >= 0 ? b.d[ib] : 1;
    NEONN_THROW_RANGEERROR_IF(da != db && da != 1 && db != 1,
                              what + ": shapes " + fmt_dims(a) + " and " + fmt_dims(b) +
                                  " do not broadcast");
    out[i] = da > db ? da : db;
    NEONN_THROW_RANGEERROR_IF(unidirectional && out[i] != da,
                              what + ": shape " + fmt_dims(b) + " does not broadcast to " +
                                  fmt_dims(a));
    sa[i] = da == 1 ? 0 : stride_a;
    sb[i] = db == 1 ? 0 : stride_b;
    stride_a *= da;  // no overflow: dims_size checked each product
    stride_b *= db;
  }
  Broadcast bc;
  bc.rank = 0;
  int64_t size = 1;
  for (int i = 0; i < rank; ++i) {
    if (out[i] == 1) continue;  // size-1 dims move nothing
    size = checked_mul(size, out[i], op);
    const int r = bc.rank;
    // Merge into the previous dim when both operands step through the pair
    // as one run (stride_outer == stride_inner * dim_inner; 0 == 0 too).
    if (r > 0 && bc.a_strides[r - 1] == sa[i] * out[i] && bc.b_strides[r - 1] == sb[i] * out[i]) {
      bc.dims[r - 1] *= out[i];
      bc.a_strides[r - 1] = sa[i];
      bc.b_strides[r - 1] = sb[i];
      continue;
    }
    bc.dims[r] = out[i];
    bc.a_strides[r] = sa[i];
    bc.b_strides[r] = sb[i];
    bc.rank = r + 1;
  }
  if (bc.rank == 0) {  // a scalar result
    bc.rank = 1;
    bc.dims[0] = 1;
    bc.a_strides[0] = bc.b_strides[0] = 0;
  }
  bc.size = static_cast<size_t>(size);
  return bc;
}

UnaryCall check_unary(const UnaryArgs& args) {
  NEONN_THROW_RANGEERROR_IF(args.kind < 0 || args.kind > 4,
                            "unary: unknown kind " + std::to_string(args.kind));
  const std::string op = unary_name(args.kind);
  NEONN_THROW_TYPEERROR_IF(args.x.data == nullptr, op + ": x is detached or null");
  check_out(args.y, args.x.size, args.x, op, "x");
  UnaryCall call;
  call.kind = static_cast<UnaryKind>(args.kind);
  if (call.kind == UnaryKind::kLeakyRelu) {
    NEONN_THROW_RANGEERROR_IF(!std::isfinite(args.alpha),
                              op + ": alpha must be finite, got " + std::to_string(args.alpha));
  }
  if (call.kind == UnaryKind::kClip) {
    NEONN_THROW_RANGEERROR_IF(std::isnan(args.min) || std::isnan(args.max),
                              op + ": min and max must not be NaN");
    NEONN_THROW_RANGEERROR_IF(args.min > args.max, op + ": min (" + std::to_string(args.min) +
                                                       ") must not exceed max (" +
                                                       std::to_string(args.max) + ")");
  }
  call.alpha = static_cast<float>(args.alpha);
  call.min = static_cast<float>(args.min);
  call.max = static_cast<float>(args.max);
  call.x = args.x.data;
  call.y = args.y.data;
  call.size = args.x.size;
  return call;
}

BinaryCall check_binary(const BinaryArgs& args) {
  NEONN_THROW_RANGEERROR_IF(args.kind < 0 || args.kind > 3,
                            "binary: unknown kind " + std::to_string(args.kind));
  static const char* const kNames[] = {"add", "mul", "sub", "div"};
  const std::string op = kNames[args.kind];
  BinaryCall call;
  call.kind = static_cast<BinaryKind>(args.kind);
  call.bc = make_broadcast(args.a_shape, args.b_shape, false, op.c_str());
  check_span(args.a_shape, args.a.data, args.a.size, op, "a");
  check_span(args.b_shape, args.b.data, args.b.size, op, "b");
  check_out(args.y, call.bc.size, args.a, op, "a");
  check_no_overlap(args.y.data, args.y.size, args.b.data, args.b.size, true, op, "b");
  call.a = args.a.data;
  call.b = args.b.data;
  call.y = args.y.data;
  return call;
}

PreluCall check_prelu(const PreluArgs& args) {
  PreluCall call;
  call.bc = make_broadcast(args.x_shape, args.slope_shape, true, "prelu");
  check_span(args.x_shape, args.x.data, args.x.size, "prelu", "x");
  check_span(args.slope_shape, args.slope.data, args.slope.size, "prelu", "slope");
  check_out(args.y, args.x.size, args.x, "prelu", "x");
  check_no_overlap(args.y.data, args.y.size, args.slope.data, args.slope.size, false, "prelu",
                   "slope");
  call.x = args.x.data;
  call.slope = args.slope.data;
  call.y = args.y.data;
  return call;
}

SoftmaxCall check_softmax(const SoftmaxArgs& args) {
  const std::string op = args.log ? "logSoftmax" : "softmax";
  check_span(args.shape, args.x.data, args.x.size, op, "x");
  NEONN_THROW_RANGEERROR_IF(args.shape.rank < 1, op + ": x must have rank >= 1");
  const int axis = normalize_axis(args.axis, args.shape.rank, op);
  check_out(args.y, args.x.size, args.x, op, "x");
  SoftmaxCall call;
  call.log = args.log;
  for (int i = 0; i < args.shape.rank; ++i) {
    const size_t d = static_cast<size_t>(args.shape.d[i]);
    if (i < axis) call.outer *= d;
    else if (i == axis) call.axis = d;
    else call.inner *= d;
  }
  call.x = args.x.data;
  call.y = args.y.data;
  return call;
}

void run_unary(const Backend& backend, const UnaryArgs& args) {
  run_checked(backend, args, check_unary, &Backend::unary);
}

void run_binary(const Backend& backend, const BinaryArgs& args) {
  run_checked(backend, args, check_binary, &Backend::binary);
}

void run_prelu(const Backend& backend, const PreluArgs& args) {
  run_checked(backend, args, check_prelu, &Backend::prelu);
}

void run_softmax(const Backend& backend, const SoftmaxArgs& args) {
  run_checked(backend, args, check_softmax, &Backend::softmax);
}

UnaryArgs decode_unary(const ArgList& args) {
  const char* op = "unary";
  args.require_size(6, op);
  UnaryArgs a;
  a.x = args.input(0, op, "x");
  a.y = args.span(1, op, "out");
  a.kind = args.integer(2, op, "kind");
  a.alpha = args.number(3, op, "alpha");
  a.min = args.number(4, op, "min");
  a.max = args.number(5, op, "max");
  check_unary(a);
  return a;
}

BinaryArgs decode_binary(const ArgList& args) {
  const char* op = "binary";
  BinaryArgs a;
  size_t i = 4;
  a.a_shape = decode_dims(args, &i, op, "aShape");
  a.b_shape = decode_dims(args, &i, op, "bShape");
  args.require_size(i, op);
  a.a = args.input(0, op, "a");
  a.b = args.input(1, op, "b");
  a.y = args.span(2, op, "out");
  a.kind = args.integer(3, op, "kind");
  check_binary(a);
  return a;
}

PreluArgs decode_prelu(const ArgList& args) {
  const char* op = "prelu";
  PreluArgs a;
  size_t i = 3;
  a.x_shape = decode_dims(args, &i, op, "xShape");
  a.slope_shape = decode_dims(args, &i, op, "slopeShape");
  args.require_size(i, op);
  a.x = args.input(0, op, "x");
  a.slope = args.input(1, op, "slope");
  a.y = args.span(2, op, "out");
  check_prelu(a);
  return a;
}

SoftmaxArgs decode_softmax(const ArgList& args) {
  const char* op = "softmax";
  SoftmaxArgs a;
  size_t i = 4;
  a.shape = decode_dims(args, &i, op, "shape");
  args.require_size(i, op);
  a.x = args.input(0, op, "x");
  a.y = args.span(1, op, "out");
  const int64_t log = args.integer(2, op, "log");
  NEONN_THROW_RANGEERROR_IF(log != 0 && log != 1, "softmax: log must be 0 or 1, got " + std::to_string(log));
  a.log = log == 1;
  a.axis = args.integer(3, op, "axis");
  check_softmax(a);
  return a;
}

}  // namespace neonn
