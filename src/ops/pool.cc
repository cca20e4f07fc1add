#include "pool.h"

#include <algorithm>
#include <limits>
#include <string>

#include "../args.h"
#include "../checked.h"
#include "../parallel.h"
#include "../status.h"
#include "overlap.h"
#include "taps.h"

namespace neonn {
namespace {

using std::to_string;

const char* pool_op(PoolKind kind) {
  switch (kind) {
    case PoolKind::kMax: return "maxPool2d";
    case PoolKind::kAvg: return "avgPool2d";
    case PoolKind::kGlobalAvg: return "globalAvgPool";
  }
  return "pool2d";
}

// One output element of max/avg pooling by the general rule: any window
// position, padding and dilation, valid taps in (kh, kw) order.
float pool_element(const Pool2dCall& c, const float* x, int64_t oh, int64_t ow) {
  const bool is_max = c.kind == PoolKind::kMax;
  const int64_t h0 = oh * c.stride_h - c.pad_top;
  const int64_t w0 = ow * c.stride_w - c.pad_left;
  // The window's columns inside the input, and inside the padded input.
  const Taps cols = taps_within(w0, c.dilation_w, c.k_w, 0, c.in_w);
  const Taps cols_padded = taps_within(w0, c.dilation_w, c.k_w, -c.pad_left, c.in_w + c.pad_right);
  float best = -std::numeric_limits<float>::infinity();
  double sum = 0.0;
  int64_t inside = 0;  // input cells in the window
  int64_t padded = 0;  // cells inside the padded input (count_include_pad)
  for (int64_t kh = 0; kh < c.k_h; ++kh) {
    const int64_t ih = h0 + kh * c.dilation_h;
    if (ih >= -c.pad_top && ih < c.in_h + c.pad_bottom) padded += cols_padded.end - cols_padded.first;
    if (ih < 0 || ih >= c.in_h) continue;
    const int64_t row = ih * c.in_w + w0;  // + kw * dilation >= ih * in_w for valid taps
    inside += cols.end - cols.first;
    for (int64_t kw = cols.first; kw < cols.end; ++kw) {
      const float v = x[row + kw * c.dilation_w];
      if (is_max) {
        // NaN propagates: once best is NaN no comparison replaces it.
        if (v > best || v != v) best = v;
      } else {
        sum += v;
      }
    }
  }
  if (is_max) return best;  // -Infinity only for a dilated window that skips every input cell
  const int64_t count = c.count_include_pad ? padded : inside;
  return count == 0 ? 0.0f : static_cast<float>(sum / static_cast<double>(count));
}

// Output columns [lo, hi) whose window columns all lie inside the input.
struct Cols {
  int64_t lo, hi;
};
Cols interior_cols(const Pool2dCall& c) {
  const int64_t extent = (c.k_w - 1) * c.dilation_w;
  const int64_t lo = std::min(c.out_w, (c.pad_left + c.stride_w - 1) / c.stride_w);
  const int64_t last = c.in_w - 1 - extent + c.pad_left;  // the largest window start, shifted by the pad
  const int64_t hi = last < 0 ? 0 : std::min(c.out_w, last / c.stride_w + 1);
  return Cols{lo, std::max(lo, hi)};
}

// Columns an average-pooling row sums at a time, in doubles on the stack:
// pool workers then allocate nothing (a thread that mallocs gets its own
// malloc arena, megabytes of resident memory for a few bytes of scratch).
constexpr int64_t kRowTile = 512;

// Output row oh, columns [lo, hi) (interior ones, at most kRowTile): the same
// taps in the same (kh, kw) order as pool_element, so the same bits, but as
// loops over the row with no bounds checks, which the compiler can vectorize.
// kStride is the column stride when it is 1 or 2 (the common cases), else 0.
template <bool kMax, int kStride>
void pool_row(const Pool2dCall& c, const float* x, int64_t oh, Cols cols, float* y) {
  double acc[kMax ? 1 : kRowTile];
  const int64_t sw = kStride != 0 ? kStride : c.stride_w;
  const int64_t n = cols.hi - cols.lo;
  const int64_t h0 = oh * c.stride_h - c.pad_top;
  float* yr = y + oh * c.out_w + cols.lo;
  int64_t rows_in = 0, rows_padded = 0;
  if (kMax) {
    for (int64_t j = 0; j < n; ++j) yr[j] = -std::numeric_limits<float>::infinity();
  } else {
    for (int64_t j = 0; j < n; ++j) acc[j] = 0.0;
  }
  for (int64_t kh = 0; kh < c.k_h; ++kh) {
    const int64_t ih = h0 + kh * c.dilation_h;
    if (ih >= -c.pad_top && ih < c.in_h + c.pad_bottom) ++rows_padded;
    if (ih < 0 || ih >= c.in_h) continue;
    ++rows_in;
    const float* row = x + ih * c.in_w + cols.lo * sw - c.pad_left;  // >= x: interior columns
    for (int64_t kw = 0; kw < c.k_w; ++kw) {
      const float* s = row + kw * c.dilation_w;
      if (kMax) {
        for (int64_t j = 0; j < n; ++j) {
          const float v = s[j * sw];
          yr[j] = (v > yr[j] || v != v) ? v : yr[j];
        }
      } else {
        for (int64_t j = 0; j < n; ++j) acc[j] += s[j * sw];
      }
    }
  }
  if (kMax) return;
  const int64_t count = (c.count_include_pad ? rows_padded : rows_in) * c.k_w;
  for (int64_t j = 0; j < n; ++j) yr[j] = count == 0 ? 0.0f : static_cast<float>(acc[j] / static_cast<double>(count));
}

template <bool kMax>
void pool_row_any_stride(const Pool2dCall& c, const float* x, int64_t oh, Cols cols, float* y) {
  for (int64_t lo = cols.lo; lo < cols.hi; lo += kRowTile) {
    const Cols tile{lo, std::min(cols.hi, lo + kRowTile)};
    if (c.stride_w == 1) pool_row<kMax, 1>(c, x, oh, tile, y);
    else if (c.stride_w == 2) pool_row<kMax, 2>(c, x, oh, tile, y);
    else pool_row<kMax, 0>(c, x, oh, tile, y);
  }
}

// One output plane of max/avg pooling over one input plane: the interior
// columns of each row as row loops, the border ones element by element.
void pool_plane(const Pool2dCall& c, const float* x, float* y) {
  const Cols cols = interior_cols(c);
  const bool is_max = c.kind == PoolKind::kMax;
  for (int64_t oh = 0; oh < c.out_h; ++oh) {
    float* yr = y + oh * c.out_w;
    for (int64_t ow = 0; ow < cols.lo; ++ow) yr[ow] = pool_element(c, x, oh, ow);
    if (cols.hi > cols.lo) {
      if (is_max) pool_row_any_stride<true>(c, x, oh, cols, y);
      else pool_row_any_stride<false>(c, x, oh, cols, y);
    }
    for (int64_t ow = cols.hi; ow < c.out_w; ++ow) yr[ow] = pool_element(c, x, oh, ow);
  }
}

}  // namespace

int64_t pool_output_size(const char* op, const char* axis, int64_t in, int64_t k, int64_t stride,
                         int64_t dilation, int64_t pad_begin, int64_t pad_end, bool ceil_mode) {
  const std::string o(op);
  NEONN_THROW_RANGEERROR_IF(in <= 0, o + ": input " + axis + " must be positive, got " + to_string(in));
  NEONN_THROW_RANGEERROR_IF(k <= 0, o + ": kernel must be a positive integer, got " + to_string(k));
  NEONN_THROW_RANGEERROR_IF(stride <= 0,
                            o + ": strides must be positive integers, got " + to_string(stride));
  NEONN_THROW_RANGEERROR_IF(dilation <= 0, o + ": dilations must be positive integers, got " +
                                               to_string(dilation));
  NEONN_THROW_RANGEERROR_IF(pad_begin < 0 || pad_end < 0,
                            o + ": pads must be >= 0, got " + to_string(pad_begin) + " and " +
                                to_string(pad_end) + " along " + axis);
  const int64_t extent = checked_mul(dilation, k - 1, op) + 1;
  // A pad as wide as the window would make windows of padding only.
  NEONN_THROW_RANGEERROR_IF(pad_begin >= extent || pad_end >= extent,
                            o + ": pads along " + axis + " (" + to_string(pad_begin) + ", " +
                                to_string(pad_end) + ") must be smaller than the kernel extent (" +
                                to_string(extent) + ")");
  const int64_t padded = in + pad_begin + pad_end;
  NEONN_THROW_RANGEERROR_IF(extent > padded, o + ": kernel extent along " + axis + " (" +
                                                 to_string(extent) +
                                                 ") is larger than the padded input (" +
                                                 to_string(padded) + "): no output");
  const int64_t span = padded - extent;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // ceil mode: the last window must start inside the input or the begin padding.
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

void check_pool2d(const Pool2dCall& c) {
  NEONN_THROW_RANGEERROR_IF(c.kind != PoolKind::kMax && c.kind != PoolKind::kAvg &&
                                c.kind != PoolKind::kGlobalAvg,
                            "pool2d: unknown kind " + to_string(static_cast<int32_t>(c.kind)));
  const char* op = pool_op(c.kind);
  const std::string o(op);
  NEONN_THROW_RANGEERROR_IF(c.n <= 0 || c.c <= 0 || c.in_h <= 0 || c.in_w <= 0,
                            o + ": x dimensions must be positive, got [" + to_string(c.n) + "," +
                                to_string(c.c) + "," + to_string(c.in_h) + "," + to_string(c.in_w) + "]");
  int64_t oh = 1, ow = 1;
  if (c.kind != PoolKind::kGlobalAvg) {
    oh = pool_output_size(op, "H", c.in_h, c.k_h, c.stride_h, c.dilation_h, c.pad_top, c.pad_bottom,
                          c.ceil_mode);
    ow = pool_output_size(op, "W", c.in_w, c.k_w, c.stride_w, c.dilation_w, c.pad_left, c.pad_right,
                          c.ceil_mode);
  }
  NEONN_THROW_RANGEERROR_IF(oh != c.out_h || ow != c.out_w,
                            o + ": output size " + to_string(c.out_h) + "x" + to_string(c.out_w) +
                                " does not match the computed " + to_string(oh) + "x" +
                                to_string(ow));
  const int64_t planes = checked_mul(c.n, c.c, op);
  const int64_t x_size = checked_mul(planes, checked_mul(c.in_h, c.in_w, op), op);
  const int64_t y_size = checked_mul(planes, checked_mul(oh, ow, op), op);
  NEONN_THROW_RANGEERROR_IF(static_cast<uint64_t>(x_size) != c.x.size,
                            o + ": x has " + to_string(c.x.size) + " elements, expected " +
                                to_string(x_size));
  NEONN_THROW_RANGEERROR_IF(static_cast<uint64_t>(y_size) != c.y.size,
                            o + ": out has " + to_string(c.y.size) + " elements, expected " +
                                to_string(y_size));
  NEONN_THROW_TYPEERROR_IF(c.x.data == nullptr || c.y.data == nullptr,
                           o + ": a buffer is detached or null");
  NEONN_THROW_RANGEERROR_IF(float_ranges_overlap(c.y.data, c.y.size, c.x.data, c.x.size),
                            o + ": out overlaps x");
}

void run_pool2d(const Backend& backend, const Pool2dCall& c) {
  check_pool2d(c);
  backend.pool2d(c);
  backend.count_op();
}

void pool2d_loops(const Pool2dCall& c) {
  // Planes (N*C of them) are independent: split among threads.
  const size_t planes = static_cast<size_t>(c.n * c.c);
  const int64_t in_plane = c.in_h * c.in_w;
  if (c.kind == PoolKind::kGlobalAvg) {
    parallel_for(planes, parallel_grain(static_cast<size_t>(in_plane)), [&](size_t p0, size_t p1) {
      for (size_t p = p0; p < p1; ++p) {
        const float* x = c.x.data + static_cast<int64_t>(p) * in_plane;
        double sum = 0.0;
        for (int64_t i = 0; i < in_plane; ++i) sum += x[i];
        c.y.data[p] = static_cast<float>(sum / static_cast<double>(in_plane));
      }
    });
    return;
  }
  const int64_t out_plane = c.out_h * c.out_w;
  parallel_for(planes, parallel_grain(static_cast<size_t>(out_plane * c.k_h * c.k_w)), [&](size_t p0, size_t p1) {
    for (size_t p = p0; p < p1; ++p) {
      const int64_t q = static_cast<int64_t>(p);
      pool_plane(c, c.x.data + q * in_plane, c.y.data + q * out_plane);
    }
  });
}

// --- decoding from positional arguments (JS call, async worker, model step) ---

constexpr size_t kPool2dArgc = 18;

// Arguments, positional so the sync path does no property lookups:
// (x, out, kind, n, c, h, w, kH, kW, strideH, strideW, dilationH, dilationW,
//  padTop, padLeft, padBottom, padRight, flags)
// kind: 0 max, 1 avg, 2 global avg. flags: bit 0 ceil, bit 1 countIncludePad.
Pool2dCall decode_pool2d(const ArgList& args) {
  const char* op = "pool2d";
  args.require_size(kPool2dArgc, op);
  Pool2dCall c;
  const MutableFloatSpan x = args.span(0, op, "x");
  c.x = FloatSpan{x.data, x.size};
  c.y = args.span(1, op, "out");
  // Range-checked before the cast: a wide value must not truncate into a valid one.
  const int64_t kind = args.integer(2, op, "kind");
  NEONN_THROW_RANGEERROR_IF(kind < 0 || kind > 2, "pool2d: unknown kind " + std::to_string(kind));
  c.kind = static_cast<PoolKind>(kind);
  c.n = args.integer(3, op, "x.shape[0]");
  c.c = args.integer(4, op, "x.shape[1]");
  c.in_h = args.integer(5, op, "x.shape[2]");
  c.in_w = args.integer(6, op, "x.shape[3]");
  c.k_h = args.integer(7, op, "kernel[0]");
  c.k_w = args.integer(8, op, "kernel[1]");
  c.stride_h = args.integer(9, op, "strides[0]");
  c.stride_w = args.integer(10, op, "strides[1]");
  c.dilation_h = args.integer(11, op, "dilations[0]");
  c.dilation_w = args.integer(12, op, "dilations[1]");
  c.pad_top = args.integer(13, op, "pads[0]");
  c.pad_left = args.integer(14, op, "pads[1]");
  c.pad_bottom = args.integer(15, op, "pads[2]");
  c.pad_right = args.integer(16, op, "pads[3]");
  const int64_t flags = args.integer(17, op, "flags");
  c.ceil_mode = (flags & 1) != 0;
  c.count_include_pad = (flags & 2) != 0;
  if (c.kind == PoolKind::kMax || c.kind == PoolKind::kAvg) {
    const char* name = c.kind == PoolKind::kMax ? "maxPool2d" : "avgPool2d";
    c.out_h = pool_output_size(name, "H", c.in_h, c.k_h, c.stride_h, c.dilation_h, c.pad_top,
                               c.pad_bottom, c.ceil_mode);
    c.out_w = pool_output_size(name, "W", c.in_w, c.k_w, c.stride_w, c.dilation_w, c.pad_left,
                               c.pad_right, c.ceil_mode);
  } else {
    c.out_h = c.out_w = 1;
  }
  check_pool2d(c);
  return c;
}


}  // namespace neonn
