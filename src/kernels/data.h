// Shared pieces of the data-movement kernels (data*.cc): they move elements
// without looking at them, so they work on element sizes (1, 2, 4, 8 bytes)
// rather than dtypes, and most of them are one strided copy.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernel.h"

namespace neonn {
namespace data {

/// Bytes per element of t; RangeError for an undefined dtype.
size_t elem_size(const KernelCall& c, const TensorRef& t, const char* what);
/// RangeError unless b has a's dtype.
void expect_same_dtype(const KernelCall& c, const TensorRef& a, const TensorRef& b, const char* what);
/// Product of dims, RangeError on overflow or a negative dim.
int64_t count_of(const KernelCall& c, const std::vector<int64_t>& shape);
/// "[2,3,4]".
std::string fmt(const std::vector<int64_t>& s);

/// Copies all of `in` into `out` (same dtype and element count checked): Identity, Reshape, ...
void copy_whole(const KernelCall& c, const TensorRef& in, const TensorRef& out);

/**
 * dst (contiguous, shape `shape`) [i0, i1, ...] = src[base + sum_k i_k * strides[k]]
 * for elements of `esize` bytes. Strides (in elements) may be 0 (broadcast)
 * or negative (reversed slices). Every source offset reached is checked to lie
 * in [0, src_count) before anything is copied. Rows whose innermost stride is
 * 1 are memcpy'd; outer rows run in parallel.
 */
void strided_copy(const KernelCall& c, void* dst, const void* src, size_t src_count, size_t esize,
                  std::vector<int64_t> shape, std::vector<int64_t> strides, int64_t base);

/// Indices of an int32/int64 tensor, element i.
inline int64_t index_at(const TensorRef& t, size_t i) {
  return t.dtype == DType::kInt64 ? t.as<const int64_t>()[i] : static_cast<int64_t>(t.as<const int32_t>()[i]);
}
/// RangeError unless t is int32 or int64.
void expect_index_dtype(const KernelCall& c, const TensorRef& t, const char* what);

/// IEEE half <-> float (round to nearest even).
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);

/// Writes `v` converted to `t` (float32, float16, ints, bool: v != 0) into `dst` (one element).
void store_number(DType t, double v, void* dst);
/// Element i of a numeric tensor as a double (float16 decoded, bool 0/1).
double load_number(const TensorRef& t, size_t i);

}  // namespace data
}  // namespace neonn
