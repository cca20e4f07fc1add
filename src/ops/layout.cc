#include "layout.h"

#include <string>

#include "../args.h"
#include "../checked.h"
#include "../status.h"

namespace neonn {
namespace {

void check_y(const MutableFloatSpan& y, int64_t size, const char* op) {
  NEONN_THROW_RANGEERROR_IF(static_cast<uint64_t>(size) != y.size,
                            std::string(op) + ": out has " + std::to_string(y.size) +
                                " elements, expected " + std::to_string(size));
  NEONN_THROW_TYPEERROR_IF(y.data == nullptr, std::string(op) + ": out is detached or null");
}

}  // namespace

ConcatCall check_concat(const ConcatArgs& args) {
  const size_t n = args.xs.size();
  NEONN_THROW_RANGEERROR_IF(n == 0, "concat: needs at least one tensor");
  NEONN_THROW_RANGEERROR_IF(args.shapes.size() != n,
                            "concat: " + std::to_string(n) + " tensors but " +
                                std::to_string(args.shapes.size()) + " shapes");
  const Dims& first = args.shapes[0];
  NEONN_THROW_RANGEERROR_IF(first.rank < 1, "concat: tensors must have rank >= 1");
  const int axis = normalize_axis(args.axis, first.rank, "concat");
  ConcatCall call;
  int64_t out_axis = 0;
  for (size_t i = 0; i < n; ++i) {
    const Dims& s = args.shapes[i];
    const std::string name = "tensors[" + std::to_string(i) + "]";
    check_span(s, args.xs[i].data, args.xs[i].size, "concat", name.c_str());
    NEONN_THROW_RANGEERROR_IF(s.rank != first.rank,
                              "concat: " + name + " has rank " + std::to_string(s.rank) +
                                  ", tensors[0] has rank " + std::to_string(first.rank));
    for (int d = 0; d < s.rank; ++d) {
      NEONN_THROW_RANGEERROR_IF(d != axis && s.d[d] != first.d[d],
                                "concat: " + name + " " + fmt_dims(s) + " differs from tensors[0] " +
                                    fmt_dims(first) + " outside axis " + std::to_string(axis));
    }
    out_axis += s.d[axis];  // each <= 2^53 and at most 2^32 inputs: no overflow
    call.xs.push_back(args.xs[i].data);
  }
  int64_t inner = 1;
  for (int d = axis + 1; d < first.rank; ++d) inner *= first.d[d];  // within a checked size
  for (int d = 0; d < axis; ++d) call.outer *= static_cast<size_t>(first.d[d]);
  const int64_t out_row = checked_mul(out_axis, inner, "concat: out");
  check_y(args.y, checked_mul(static_cast<int64_t>(call.outer), out_row, "concat: out"), "concat");
  size_t at = 0;  // where tensors[i] starts in y when outer == 1
  for (size_t i = 0; i < n; ++i) {
    const std::string name = "tensors[" + std::to_string(i) + "]";
    const size_t row = static_cast<size_t>(args.shapes[i].d[axis] * inner);
    // With outer == 1 each input goes to one contiguous slice of y. An input
    // that already is exactly that slice is in place (a model's planner has
    // its producer write there) and is not copied; any other overlap is refused.
    const bool in_place = call.outer == 1 && args.xs[i].data == args.y.data + at && args.xs[i].size == row;
    if (!in_place) {
      check_no_overlap(args.y.data, args.y.size, args.xs[i].data, args.xs[i].size, false, "concat",
                       name.c_str());
    }
    call.row_sizes.push_back(row);
    at += row;
  }
  call.out_row = static_cast<size_t>(out_row);
  call.y = args.y.data;
  return call;
}

TransposeCall check_transpose(const TransposeArgs& args) {
  const Dims& s = args.shape;
  check_span(s, args.x.data, args.x.size, "transpose", "x");
  NEONN_THROW_RANGEERROR_IF(args.perm.size() != static_cast<size_t>(s.rank),
                            "transpose: perm has " + std::to_string(args.perm.size()) +
                                " entries, x has rank " + std::to_string(s.rank));
  TransposeCall call;
  call.rank = s.rank;
  int64_t strides[kMaxRank];
  int64_t stride = 1;
  for (int d = s.rank - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= s.d[d];
  }
  bool seen[kMaxRank] = {};
  for (int i = 0; i < s.rank; ++i) {
    const int64_t p = args.perm[static_cast<size_t>(i)];
    NEONN_THROW_RANGEERROR_IF(p < 0 || p >= s.rank || seen[p],
                              "transpose: perm is not a permutation of 0.." +
                                  std::to_string(s.rank - 1));
    seen[p] = true;
    call.out_dims[i] = s.d[p];
    call.in_strides[i] = strides[p];
  }
  check_y(args.y, static_cast<int64_t>(args.x.size), "transpose");
  check_no_overlap(args.y.data, args.y.size, args.x.data, args.x.size, false, "transpose", "x");
  call.size = args.x.size;
  call.x = args.x.data;
  call.y = args.y.data;
  return call;
}

PadCall check_pad(const PadArgs& args) {
  const Dims& s = args.shape;
  check_span(s, args.x.data, args.x.size, "pad", "x");
  NEONN_THROW_RANGEERROR_IF(args.pads.size() != 2 * static_cast<size_t>(s.rank),
                            "pad: pads has " + std::to_string(args.pads.size()) +
                                " entries, expected 2 * rank = " + std::to_string(2 * s.rank));
  PadCall call;
  call.rank = s.rank;
  Dims out;
  out.rank = s.rank;
  for (int d = 0; d < s.rank; ++d) {
    const int64_t b = args.pads[static_cast<size_t>(d)];
    const int64_t e = args.pads[static_cast<size_t>(d + s.rank)];
    const int64_t lim = int64_t{1} << 53;  // what the binding's integers can hold
    NEONN_THROW_RANGEERROR_IF(b < -lim || b > lim || e < -lim || e > lim,
                              "pad: pads out of range");
    out.d[d] = s.d[d] + b + e;
    NEONN_THROW_RANGEERROR_IF(out.d[d] < 1, "pad: dimension " + std::to_string(d) + " of x " +
                                                fmt_dims(s) + " would become " +
                                                std::to_string(out.d[d]));
    call.in_dims[d] = s.d[d];
    call.out_dims[d] = out.d[d];
    call.begin[d] = b;
  }
  check_y(args.y, dims_size(out, "pad: out"), "pad");
  check_no_overlap(args.y.data, args.y.size, args.x.data, args.x.size, false, "pad", "x");
  call.value = static_cast<float>(args.value);
  call.x = args.x.data;
  call.y = args.y.data;
  return call;
}

void run_concat(const Backend& backend, const ConcatArgs& args) {
  run_checked(backend, args, check_concat, &Backend::concat);
}

void run_transpose(const Backend& backend, const TransposeArgs& args) {
  run_checked(backend, args, check_transpose, &Backend::transpose);
}

void run_pad(const Backend& backend, const PadArgs& args) {
  run_checked(backend, args, check_pad, &Backend::pad);
}

// At most this many concat inputs: far above any network, and it bounds the
// arguments a hostile call can make the decoder read.
constexpr size_t kMaxConcatInputs = size_t{1} << 16;

ConcatArgs decode_concat(const ArgList& args) {
  const char* op = "concat";
  ConcatArgs a;
  a.xs = args.span_list(0, op, "tensors");
  const size_t n = a.xs.size();
  NEONN_THROW_RANGEERROR_IF(n == 0 || n > kMaxConcatInputs,
                            "concat: needs 1.." + std::to_string(kMaxConcatInputs) +
                                " tensors, got " + std::to_string(n));
  size_t i = 3;
  const Dims first = decode_dims(args, &i, op, "shape");
  a.shapes.assign(n, first);
  for (size_t t = 1; t < n; ++t) {
    const std::string name = "tensors[" + std::to_string(t) + "] dims";
    const std::vector<int64_t> d =
        decode_ints(args, &i, static_cast<size_t>(first.rank), op, name.c_str());
    for (int k = 0; k < first.rank; ++k) a.shapes[t].d[k] = d[static_cast<size_t>(k)];
  }
  args.require_size(i, op);
  a.y = args.span(1, op, "out");
  a.axis = args.integer(2, op, "axis");
  check_concat(a);
  return a;
}

TransposeArgs decode_transpose(const ArgList& args) {
  const char* op = "transpose";
  TransposeArgs a;
  size_t i = 2;
  a.shape = decode_dims(args, &i, op, "shape");
  a.perm = decode_ints(args, &i, static_cast<size_t>(a.shape.rank), op, "perm");
  args.require_size(i, op);
  a.x = args.input(0, op, "x");
  a.y = args.span(1, op, "out");
  check_transpose(a);
  return a;
}

PadArgs decode_pad(const ArgList& args) {
  const char* op = "pad";
  PadArgs a;
  size_t i = 3;
  a.shape = decode_dims(args, &i, op, "shape");
  a.pads = decode_ints(args, &i, 2 * static_cast<size_t>(a.shape.rank), op, "pads");
  args.require_size(i, op);
  a.x = args.input(0, op, "x");
  a.y = args.span(1, op, "out");
  a.value = args.number(2, op, "value");
  check_pad(a);
  return a;
}

}  // namespace neonn
