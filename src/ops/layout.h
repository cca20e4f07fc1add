// Layout ops that move data without arithmetic: concat along an axis,
// transpose by a permutation, constant pad (negative pads crop, as ONNX
// allows). None of them may write over an input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../backend.h"
#include "dims.h"

namespace neonn {

struct ConcatArgs {
  std::vector<Dims> shapes;  ///< one per input, same rank, equal except on `axis`
  std::vector<FloatSpan> xs;
  int64_t axis = 0;  ///< may be negative
  MutableFloatSpan y;
};

/// Inputs viewed as [outer, axis_i * inner]: y's row o is the inputs' rows o, in order.
/// With outer == 1 an input may already be its own slice of y (a model's
/// planner has its producer write there): a backend must not copy that one.
struct ConcatCall {
  size_t outer = 1;
  std::vector<const float*> xs;
  std::vector<size_t> row_sizes;  ///< axis_i * inner for each input
  size_t out_row = 0;             ///< sum of row_sizes
  float* y = nullptr;
};

struct TransposeArgs {
  Dims shape;  ///< of x
  std::vector<int64_t> perm;  ///< y.shape[i] = x.shape[perm[i]]
  FloatSpan x;
  MutableFloatSpan y;
};

struct TransposeCall {
  int rank = 0;
  int64_t out_dims[kMaxRank] = {};
  int64_t in_strides[kMaxRank] = {};  ///< x's stride for each output dim
  size_t size = 0;
  const float* x = nullptr;
  float* y = nullptr;
};

struct PadArgs {
  Dims shape;  ///< of x
  std::vector<int64_t> pads;  ///< ONNX layout: [x1_begin, x2_begin, ..., x1_end, x2_end, ...]
  double value = 0;
  FloatSpan x;
  MutableFloatSpan y;
};

struct PadCall {
  int rank = 0;
  int64_t in_dims[kMaxRank] = {};
  int64_t out_dims[kMaxRank] = {};
  int64_t begin[kMaxRank] = {};  ///< negative: crop
  float value = 0;
  const float* x = nullptr;
  float* y = nullptr;
};

ConcatCall check_concat(const ConcatArgs& args);
TransposeCall check_transpose(const TransposeArgs& args);
PadCall check_pad(const PadArgs& args);

void run_concat(const Backend& backend, const ConcatArgs& args);
void run_transpose(const Backend& backend, const TransposeArgs& args);
void run_pad(const Backend& backend, const PadArgs& args);

class ArgList;

/// Decoders from positional arguments (each re-checks). Layouts:
///   concat    (tensors[], out, axis, rank, ...dims of tensors[0], ..., ...dims of tensors[n-1])
///   transpose (x, out, rank, ...dims, ...perm)
///   pad       (x, out, value, rank, ...dims, ...pads (2 * rank))
ConcatArgs decode_concat(const ArgList& args);
TransposeArgs decode_transpose(const ArgList& args);
PadArgs decode_pad(const ArgList& args);

}  // namespace neonn
