// Elementwise ops: the unary activations (relu, leakyRelu, sigmoid, tanh,
// clip), prelu, softmax/logSoftmax along an axis, and add/mul/sub/div with numpy
// broadcasting. Each family has raw XxxArgs (what the binding read), a
// check_xxx() that validates them into the XxxCall a backend runs, and
// run_xxx() that checks, dispatches and counts the op.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../backend.h"
#include "dims.h"

namespace neonn {

enum class UnaryKind : int32_t { kRelu = 0, kLeakyRelu = 1, kSigmoid = 2, kTanh = 3, kClip = 4 };

struct UnaryArgs {
  int64_t kind = 0;  ///< a UnaryKind value
  double alpha = 0;  ///< leakyRelu slope
  double min = 0, max = 0;  ///< clip bounds (may be infinite)
  FloatSpan x;
  MutableFloatSpan y;  ///< may be x itself
};

struct UnaryCall {
  UnaryKind kind = UnaryKind::kRelu;
  float alpha = 0, min = 0, max = 0;
  const float* x = nullptr;
  float* y = nullptr;
  size_t size = 0;
};

/// Two operands broadcast to one output, as strides over a collapsed shape:
/// adjacent dims that both operands walk contiguously (or both skip) are
/// merged, so same-shape and scalar cases become one flat loop.
struct Broadcast {
  int rank = 1;  ///< >= 1 after collapsing
  int64_t dims[kMaxRank] = {1};
  int64_t a_strides[kMaxRank] = {};  ///< 0 where `a` is broadcast
  int64_t b_strides[kMaxRank] = {};
  size_t size = 1;  ///< output elements
};

enum class BinaryKind : int32_t { kAdd = 0, kMul = 1, kSub = 2, kDiv = 3 };

struct BinaryArgs {
  int64_t kind = 0;  ///< a BinaryKind value
  Dims a_shape, b_shape;
  FloatSpan a, b;
  MutableFloatSpan y;  ///< may be a or b when that one has the output shape
};

struct BinaryCall {
  BinaryKind kind = BinaryKind::kAdd;
  Broadcast bc;
  const float* a = nullptr;
  const float* b = nullptr;
  float* y = nullptr;
};

struct PreluArgs {
  Dims x_shape, slope_shape;  ///< slope broadcasts to x (unidirectional)
  FloatSpan x, slope;
  MutableFloatSpan y;  ///< may be x itself
};

struct PreluCall {
  Broadcast bc;  ///< a = x, b = slope
  const float* x = nullptr;
  const float* slope = nullptr;
  float* y = nullptr;
};

struct SoftmaxArgs {
  Dims shape;
  int64_t axis = -1;  ///< may be negative
  bool log = false;   ///< logSoftmax
  FloatSpan x;
  MutableFloatSpan y;  ///< may be x itself
};

/// x viewed as [outer, axis, inner]; softmax runs along the middle dimension.
struct SoftmaxCall {
  bool log = false;
  size_t outer = 1, axis = 1, inner = 1;
  const float* x = nullptr;
  float* y = nullptr;
};

/// Output shape and strides of a op b; RangeError naming both shapes when
/// they do not broadcast, or (unidirectional) when b does not broadcast to a.
Broadcast make_broadcast(const Dims& a, const Dims& b, bool unidirectional, const char* op);

UnaryCall check_unary(const UnaryArgs& args);
BinaryCall check_binary(const BinaryArgs& args);
PreluCall check_prelu(const PreluArgs& args);
SoftmaxCall check_softmax(const SoftmaxArgs& args);

/// Each re-checks its arguments, runs on `backend` (resolved by the caller) and counts the op.
void run_unary(const Backend& backend, const UnaryArgs& args);
void run_binary(const Backend& backend, const BinaryArgs& args);
void run_prelu(const Backend& backend, const PreluArgs& args);
void run_softmax(const Backend& backend, const SoftmaxArgs& args);

class ArgList;

/// Decoders from positional arguments (each re-checks through check_xxx, so
/// argument errors surface before any work is queued). Layouts:
///   unary   (x, out, kind, alpha, min, max)
///   binary  (a, b, out, kind, aRank, ...aDims, bRank, ...bDims)
///   prelu   (x, slope, out, xRank, ...xDims, slopeRank, ...slopeDims)
///   softmax (x, out, log 0|1, axis, rank, ...dims)
UnaryArgs decode_unary(const ArgList& args);
BinaryArgs decode_binary(const ArgList& args);
PreluArgs decode_prelu(const ArgList& args);
SoftmaxArgs decode_softmax(const ArgList& args);

}  // namespace neonn
