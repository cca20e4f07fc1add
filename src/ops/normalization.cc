#include "normalization.h"

#include <cmath>
#include <string>

#include "../args.h"
#include "../status.h"

namespace neonn {
namespace {

// [N, C, inner] of an x of rank >= 2, after checking x's buffer.
void channel_view(const Dims& shape, const FloatSpan& x, const char* op, size_t* n, size_t* c,
                  size_t* inner) {
  check_span(shape, x.data, x.size, op, "x");
  NEONN_THROW_RANGEERROR_IF(shape.rank < 2, std::string(op) + ": x must have rank >= 2 [N,C,...], got " +
                                                fmt_dims(shape));
  *n = static_cast<size_t>(shape.d[0]);
  *c = static_cast<size_t>(shape.d[1]);
  *inner = x.size / (*n * *c);
}

void check_channel_param(const FloatSpan& p, size_t c, const char* name) {
  NEONN_THROW_RANGEERROR_IF(p.size != c, std::string("batchNorm: ") + name + " has " +
                                             std::to_string(p.size) + " elements, expected C = " +
                                             std::to_string(c));
  NEONN_THROW_TYPEERROR_IF(p.data == nullptr, std::string("batchNorm: ") + name + " is detached or null");
}

void check_y(const MutableFloatSpan& y, const FloatSpan& x, bool allow_same, const char* op) {
  NEONN_THROW_RANGEERROR_IF(y.size != x.size, std::string(op) + ": out has " + std::to_string(y.size) +
                                                  " elements, expected " + std::to_string(x.size));
  NEONN_THROW_TYPEERROR_IF(y.data == nullptr, std::string(op) + ": out is detached or null");
  check_no_overlap(y.data, y.size, x.data, x.size, allow_same, op, "x");
}

}  // namespace

BatchNormCall check_batch_norm(const BatchNormArgs& args) {
  BatchNormCall call;
  channel_view(args.shape, args.x, "batchNorm", &call.n, &call.c, &call.inner);
  const FloatSpan* params[] = {&args.scale, &args.bias, &args.mean, &args.variance};
  const char* names[] = {"scale", "bias", "mean", "variance"};
  for (int i = 0; i < 4; ++i) check_channel_param(*params[i], call.c, names[i]);
  NEONN_THROW_RANGEERROR_IF(!std::isfinite(args.epsilon) || args.epsilon < 0,
                            "batchNorm: epsilon must be finite and >= 0, got " +
                                std::to_string(args.epsilon));
  check_y(args.y, args.x, true, "batchNorm");
  for (int i = 0; i < 4; ++i) {
    check_no_overlap(args.y.data, args.y.size, params[i]->data, params[i]->size, false,
                     "batchNorm", names[i]);
  }
  call.epsilon = static_cast<float>(args.epsilon);
  call.x = args.x.data;
  call.scale = args.scale.data;
  call.bias = args.bias.data;
  call.mean = args.mean.data;
  call.variance = args.variance.data;
  call.y = args.y.data;
  return call;
}

LrnCall check_lrn(const LrnArgs& args) {
  LrnCall call;
  channel_view(args.shape, args.x, "lrn", &call.n, &call.c, &call.inner);
  NEONN_THROW_RANGEERROR_IF(args.size < 1 || args.size > (int64_t{1} << 31),
                            "lrn: size must be a positive integer, got " + std::to_string(args.size));
  NEONN_THROW_RANGEERROR_IF(!std::isfinite(args.alpha) || !std::isfinite(args.beta) ||
                                !std::isfinite(args.bias),
                            "lrn: alpha, beta and bias must be finite");
  check_y(args.y, args.x, false, "lrn");
  call.size = args.size;
  call.alpha = static_cast<float>(args.alpha);
  call.beta = static_cast<float>(args.beta);
  call.bias = static_cast<float>(args.bias);
  call.x = args.x.data;
  call.y = args.y.data;
  return call;
}

void run_batch_norm(const Backend& backend, const BatchNormArgs& args) {
  run_checked(backend, args, check_batch_norm, &Backend::batch_norm);
}

void run_lrn(const Backend& backend, const LrnArgs& args) {
  run_checked(backend, args, check_lrn, &Backend::lrn);
}

BatchNormArgs decode_batch_norm(const ArgList& args) {
  const char* op = "batchNorm";
  BatchNormArgs a;
  size_t i = 7;
  a.shape = decode_dims(args, &i, op, "shape");
  args.require_size(i, op);
  a.x = args.input(0, op, "x");
  a.scale = args.input(1, op, "scale");
  a.bias = args.input(2, op, "bias");
  a.mean = args.input(3, op, "mean");
  a.variance = args.input(4, op, "variance");
  a.y = args.span(5, op, "out");
  a.epsilon = args.number(6, op, "epsilon");
  check_batch_norm(a);
  return a;
}

LrnArgs decode_lrn(const ArgList& args) {
  const char* op = "lrn";
  LrnArgs a;
  size_t i = 6;
  a.shape = decode_dims(args, &i, op, "shape");
  args.require_size(i, op);
  a.x = args.input(0, op, "x");
  a.y = args.span(1, op, "out");
  a.size = args.integer(2, op, "size");
  a.alpha = args.number(3, op, "alpha");
  a.beta = args.number(4, op, "beta");
  a.bias = args.number(5, op, "bias");
  check_lrn(a);
  return a;
}

}  // namespace neonn
