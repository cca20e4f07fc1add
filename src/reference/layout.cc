// Reference kernels for concat, transpose and pad.
#include <algorithm>
#include <cstring>

#include "../parallel.h"
#include "reference_ops.h"

namespace neonn {
namespace reference {

// Data movement is memory-bound: a chunk is worth a thread from this many floats.
constexpr size_t kCopyGrain = kParallelMinWork;

void concat(const ConcatCall& c) {
  // y is [outer, out_row]; each row o is the inputs' rows o back to back. The
  // output is split into element ranges; a range copies the pieces it overlaps.
  const size_t pieces = c.xs.size();
  parallel_for(c.outer * c.out_row, kCopyGrain, [&](size_t e0, size_t e1) {
    size_t o = e0 / c.out_row, off = e0 % c.out_row, i = 0;
    while (off >= c.row_sizes[i]) off -= c.row_sizes[i++];  // off < out_row: stops before `pieces`
    for (size_t e = e0; e < e1;) {
      const size_t len = std::min(c.row_sizes[i] - off, e1 - e);
      const float* src = c.xs[i] + o * c.row_sizes[i] + off;
      if (src != c.y + e) std::memcpy(c.y + e, src, len * sizeof(float));  // equal: already in place
      e += len;
      off += len;
      if (off == c.row_sizes[i]) {
        off = 0;
        if (++i == pieces) {
          i = 0;
          ++o;
        }
      }
    }
  });
}

void transpose(const TransposeCall& c) {
  // Walk y in order; an odometer keeps the matching offset into x. Ranges of
  // y go to threads, each starting its odometer at its first element.
  const int r = c.rank;
  parallel_for(c.size, parallel_grain(4), [&](size_t begin, size_t end) {
    int64_t idx[kMaxRank] = {};
    int64_t off = 0;
    size_t rest = begin;
    for (int k = r - 1; k >= 0; --k) {
      idx[k] = static_cast<int64_t>(rest % static_cast<size_t>(c.out_dims[k]));
      rest /= static_cast<size_t>(c.out_dims[k]);
      off += idx[k] * c.in_strides[k];
    }
    // A run of y's innermost dim at a time: one input stride, no odometer step per element (a stride of 1 is a
    // memcpy). The odometer moves once per run.
    const int last = r - 1;
    const int64_t inner = r > 0 ? c.out_dims[last] : 1, step = r > 0 ? c.in_strides[last] : 0;
    for (size_t i = begin; i < end;) {
      const size_t len = std::min<size_t>(static_cast<size_t>(inner - (r > 0 ? idx[last] : 0)), end - i);
      const float* src = c.x + off;
      float* dst = c.y + i;
      if (step == 1) {
        std::memcpy(dst, src, len * sizeof(float));
      } else {
        for (size_t j = 0; j < len; ++j) dst[j] = src[static_cast<int64_t>(j) * step];
      }
      i += len;
      if (r == 0) break;
      off += static_cast<int64_t>(len) * step;
      idx[last] += static_cast<int64_t>(len);
      if (idx[last] < inner) continue;
      off -= step * inner;
      idx[last] = 0;
      for (int k = last - 1; k >= 0; --k) {
        off += c.in_strides[k];
        if (++idx[k] < c.out_dims[k]) break;
        off -= c.in_strides[k] * c.out_dims[k];
        idx[k] = 0;
      }
    }
  });
}

void pad(const PadCall& c) {
  if (c.rank == 0) {
    c.y[0] = c.x[0];
    return;
  }
  const int r = c.rank;
  int64_t in_strides[kMaxRank];
  int64_t s = 1;
  for (int d = r - 1; d >= 0; --d) {
    in_strides[d] = s;
    s *= c.in_dims[d];
  }
  const int64_t row = c.out_dims[r - 1];
  const int64_t in_row = c.in_dims[r - 1];
  const int64_t b = c.begin[r - 1];
  // Columns of the output row that come from x: [j0, j1), reading x at j - b.
  const int64_t j0 = std::max<int64_t>(0, b);
  const int64_t j1 = std::max(j0, std::min(row, in_row + b));
  size_t rows = 1;
  for (int d = 0; d < r - 1; ++d) rows *= static_cast<size_t>(c.out_dims[d]);
  // Output rows go to threads; each row is filled from its own index.
  parallel_for(rows, parallel_grain(static_cast<size_t>(row)), [&](size_t q0, size_t q1) {
    for (size_t q = q0; q < q1; ++q) {
      int64_t off = 0;
      bool inside = true;
      size_t rest = q;
      for (int d = r - 2; d >= 0; --d) {  // output index of row q, last dim first
        const int64_t at = static_cast<int64_t>(rest % static_cast<size_t>(c.out_dims[d]));
        rest /= static_cast<size_t>(c.out_dims[d]);
        const int64_t src = at - c.begin[d];
        if (src < 0 || src >= c.in_dims[d]) inside = false;
        off += src * in_strides[d];
      }
      float* y = c.y + static_cast<int64_t>(q) * row;
      if (!inside || j0 == j1) {
        std::fill(y, y + row, c.value);
      } else {
        std::fill(y, y + j0, c.value);
        std::memcpy(y + j0, c.x + off + (j0 - b), static_cast<size_t>(j1 - j0) * sizeof(float));
        std::fill(y + j1, y + row, c.value);
      }
    }
  });
}

}  // namespace reference
}  // namespace neonn
