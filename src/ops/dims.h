// Shapes of the non-GEMM ops as the core sees them: a rank (at most 8, as
// the facade's MAX_RANK) and positive dims, with overflow-checked sizes and
// the buffer/overlap checks every op repeats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../backend.h"
#include "../span.h"

namespace neonn {

constexpr int kMaxRank = 8;

struct Dims {
  int rank = 0;
  int64_t d[kMaxRank] = {};
};

/// Dims from a list, or a RangeError naming `what` when the rank is above kMaxRank.
Dims make_dims(const std::vector<int64_t>& v, const std::string& what);

/// "[2,3,4]" for messages.
std::string fmt_dims(const Dims& s);

/// Element count of `s`; RangeError unless every dim is >= 1 and the product fits.
int64_t dims_size(const Dims& s, const std::string& what);

/// RangeError unless `span` holds exactly the elements of `s` (and is not
/// detached); returns the element count.
size_t check_span(const Dims& s, const float* data, size_t size, const std::string& op,
                  const char* name);

/// RangeError when `out` shares memory with `in`, except that `out == in`
/// exactly (same start, same length) is allowed when `allow_same`: the
/// elementwise ops read each element before writing it.
void check_no_overlap(const float* out, size_t out_size, const float* in, size_t in_size,
                      bool allow_same, const std::string& op, const char* name);

/// An axis in [-rank, rank) made non-negative, or a RangeError.
int normalize_axis(int64_t axis, int rank, const std::string& op);

class ArgList;

/// Reads a shape passed positionally as `rank, d0, ..., d(rank-1)` starting
/// at argument *i, and advances *i past it. Rank is at most kMaxRank; the dims
/// are checked for positivity where the shape is used.
Dims decode_dims(const ArgList& args, size_t* i, const char* op, const char* name);

/// Reads `n` integers starting at argument *i and advances *i past them.
std::vector<int64_t> decode_ints(const ArgList& args, size_t* i, size_t n, const char* op,
                                 const char* name);

/// The body of every run_xxx: check the raw args into a call, run it on
/// `backend` (resolved by the caller) and count the op.
template <typename Args, typename Call>
void run_checked(const Backend& backend, const Args& args, Call (*check)(const Args&),
                 void (Backend::*entry)(const Call&) const) {
  (backend.*entry)(check(args));
  backend.count_op();
}

}  // namespace neonn
