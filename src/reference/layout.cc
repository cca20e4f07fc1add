// Reference kernels for concat, transpose and pad.
#include <algorithm>
#include <cstring>

#include "reference_ops.h"

namespace neonn {
namespace reference {

void concat(const ConcatCall& c) {
  float* y = c.y;
  for (size_t o = 0; o < c.outer; ++o) {
    for (size_t i = 0; i < c.xs.size(); ++i) {
      const size_t n = c.row_sizes[i];
      std::memcpy(y, c.xs[i] + o * n, n * sizeof(float));
      y += n;
    }
  }
}

void transpose(const TransposeCall& c) {
  // Walk y in order; an odometer keeps the matching offset into x.
  int64_t idx[kMaxRank] = {};
  int64_t off = 0;
  const int r = c.rank;
  for (size_t i = 0; i < c.size; ++i) {
    c.y[i] = c.x[off];
    for (int k = r - 1; k >= 0; --k) {
      off += c.in_strides[k];
      if (++idx[k] < c.out_dims[k]) break;
      off -= c.in_strides[k] * c.out_dims[k];
      idx[k] = 0;
    }
  }
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
  int64_t idx[kMaxRank] = {};  // output index over dims 0..r-2
  float* y = c.y;
  for (;;) {
    int64_t off = 0;
    bool inside = true;
    for (int d = 0; d < r - 1; ++d) {
      const int64_t src = idx[d] - c.begin[d];
      if (src < 0 || src >= c.in_dims[d]) {
        inside = false;
        break;
      }
      off += src * in_strides[d];
    }
    if (!inside || j0 == j1) {
      std::fill(y, y + row, c.value);
    } else {
      std::fill(y, y + j0, c.value);
      std::memcpy(y + j0, c.x + off + (j0 - b), static_cast<size_t>(j1 - j0) * sizeof(float));
      std::fill(y + j1, y + row, c.value);
    }
    y += row;
    int k = r - 2;
    for (; k >= 0; --k) {
      if (++idx[k] < c.out_dims[k]) break;
      idx[k] = 0;
    }
    if (k < 0) break;
  }
}

}  // namespace reference
}  // namespace neonn
