// Data-movement kernels that cut and join along axes, ONNX semantics, every
// dtype: Concat, Split, Slice, Pad, DepthToSpace, SpaceToDepth.
#include <algorithm>

#include "../checked.h"
#include "../parallel.h"
#include "data.h"

namespace neonn {
namespace {

using namespace data;  // NOLINT: this file is the data kernels

/// outer x axis x inner of a shape split at `axis`.
void split_dims(const std::vector<int64_t>& s, int64_t axis, int64_t* outer, int64_t* inner) {
  *outer = 1;
  *inner = 1;
  for (int64_t k = 0; k < static_cast<int64_t>(s.size()); ++k) {
    if (k < axis) *outer *= s[k];
    if (k > axis) *inner *= s[k];
  }
}

void concat(const KernelCall& c) {
  const TensorRef& x0 = c.in(0);
  const TensorRef& y = c.out(0);
  const int64_t r = static_cast<int64_t>(x0.rank());
  c.check(r > 0, "inputs must have rank >= 1");
  const int64_t axis = normalize_axis(c.attr_int("axis"), r, c.op);
  const size_t es = elem_size(c, x0, "input 0");
  std::vector<int64_t> shape = x0.shape;
  shape[axis] = 0;
  for (size_t i = 0; i < c.num_inputs(); ++i) {
    const TensorRef& x = c.in(i);
    expect_same_dtype(c, x0, x, "every input");
    bool ok = x.rank() == x0.rank();
    for (int64_t k = 0; ok && k < r; ++k) ok = k == axis || x.shape[k] == x0.shape[k];
    c.check(ok, "input " + std::to_string(i) + " " + fmt(x.shape) + " does not match input 0 " + fmt(x0.shape) +
                    " outside axis " + std::to_string(axis));
    shape[axis] += x.shape[axis];
  }
  expect_same_dtype(c, x0, y, "output");
  c.expect_out_shape(0, shape);
  int64_t outer, inner;
  split_dims(shape, axis, &outer, &inner);
  const size_t row = static_cast<size_t>(shape[axis] * inner) * es;
  std::vector<size_t> at, len;  // each input's byte offset and length within one output row
  size_t acc = 0;
  for (size_t i = 0; i < c.num_inputs(); ++i) {
    at.push_back(acc);
    len.push_back(static_cast<size_t>(c.in(i).shape[axis] * inner) * es);
    acc += len.back();
  }
  char* d = static_cast<char*>(y.data);
  parallel_for(static_cast<size_t>(outer), parallel_grain(row / 4 + 1), [&](size_t b, size_t e) {
    for (size_t o = b; o < e; ++o) {
      for (size_t i = 0; i < at.size(); ++i) {
        if (len[i] != 0) std::memcpy(d + o * row + at[i], static_cast<const char*>(c.inputs[i].data) + o * len[i], len[i]);
      }
    }
  });
}

void split(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const int64_t r = static_cast<int64_t>(x.rank());
  c.check(r > 0, "input must have rank >= 1");
  const int64_t axis = normalize_axis(c.attr_int("axis", 0), r, c.op);
  const int64_t dim = x.shape[axis];
  const int64_t n = static_cast<int64_t>(c.num_outputs());
  c.check(n >= 1, "needs at least one output");
  std::vector<int64_t> sizes;
  if (const TensorRef* sp = c.opt_in(1)) {
    sizes = c.int_values(*sp, "split");
    c.check(static_cast<int64_t>(sizes.size()) == n, "split " + fmt(sizes) + " must have one entry per output (" +
                                                        std::to_string(n) + ")");
    int64_t sum = 0;
    for (int64_t s : sizes) {
      c.check(s >= 0, "split " + fmt(sizes) + " must be non-negative");
      sum += s;
    }
    c.check(sum == dim, "split " + fmt(sizes) + " must sum to dimension " + std::to_string(axis) + " (" +
                            std::to_string(dim) + ")");
  } else {
    if (c.has_attr("num_outputs")) {
      c.check(c.attr_int("num_outputs") == n, "num_outputs (" + std::to_string(c.attr_int("num_outputs")) +
                                                  ") must equal the number of outputs (" + std::to_string(n) + ")");
    }
    // Equal parts; opset 18: when uneven, ceil(dim / n) each and a smaller last one.
    const int64_t part = (dim + n - 1) / n;
    c.check(part * (n - 1) <= dim, "cannot split dimension " + std::to_string(dim) + " into " + std::to_string(n) + " parts");
    for (int64_t i = 0; i < n; ++i) sizes.push_back(i + 1 < n ? part : dim - part * (n - 1));
  }
  const size_t es = elem_size(c, x, "input");
  int64_t outer, inner;
  split_dims(x.shape, axis, &outer, &inner);
  const size_t row = static_cast<size_t>(dim * inner) * es;
  std::vector<size_t> at, len;
  size_t acc = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int64_t> s = x.shape;
    s[axis] = sizes[i];
    c.expect_out_shape(i, s);
    expect_same_dtype(c, x, c.out(i), "every output");
    at.push_back(acc);
    len.push_back(static_cast<size_t>(sizes[i] * inner) * es);
    acc += len.back();
  }
  const char* src = static_cast<const char*>(x.data);
  parallel_for(static_cast<size_t>(outer), parallel_grain(row / 4 + 1), [&](size_t b, size_t e) {
    for (size_t o = b; o < e; ++o) {
      for (size_t i = 0; i < at.size(); ++i) {
        if (len[i] != 0) std::memcpy(static_cast<char*>(c.outputs[i].data) + o * len[i], src + o * row + at[i], len[i]);
      }
    }
  });
}

/// An index of a dim of size d, negative counting from the end, clamped to [lo, hi].
int64_t clamp_index(int64_t v, int64_t d, int64_t lo, int64_t hi) {
  if (v < 0) v = v < -d ? -1 : v + d;  // no overflow for INT64_MIN
  return std::max(lo, std::min(hi, v));
}

void slice(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  expect_same_dtype(c, x, y, "output");
  const int64_t r = static_cast<int64_t>(x.rank());
  const std::vector<int64_t> starts = c.int_values(c.in(1), "starts"), ends = c.int_values(c.in(2), "ends");
  const size_t n = starts.size();
  c.check(ends.size() == n, "starts " + fmt(starts) + " and ends " + fmt(ends) + " must have the same length");
  std::vector<int64_t> axes, steps(n, 1);
  if (const TensorRef* a = c.opt_in(3)) {
    axes = c.int_values(*a, "axes");
    c.check(axes.size() == n, "axes " + fmt(axes) + " must have one entry per start");
  } else {
    for (size_t i = 0; i < n; ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (const TensorRef* s = c.opt_in(4)) {
    steps = c.int_values(*s, "steps");
    c.check(steps.size() == n, "steps " + fmt(steps) + " must have one entry per start");
  }
  std::vector<int64_t> shape = x.shape, strides = strides_of(x.shape);
  std::vector<bool> seen(r, false);
  int64_t base = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t a = normalize_axis(axes[i], r, c.op);
    c.check(!seen[a], "axes " + fmt(axes) + " repeat an axis");
    seen[a] = true;
    const int64_t d = x.shape[a], st = steps[i];
    c.check(st != 0, "steps must not be 0");
    int64_t b, e, cnt;
    if (st > 0) {
      b = clamp_index(starts[i], d, 0, d);
      e = clamp_index(ends[i], d, 0, d);
      cnt = e > b ? (e - b - 1) / st + 1 : 0;
    } else {
      b = clamp_index(starts[i], d, 0, d - 1);
      e = clamp_index(ends[i], d, -1, d - 1);
      // -st fits: st > INT64_MIN unless someone passes it, and then cnt is 1 or 0 anyway.
      const int64_t nst = st == INT64_MIN ? INT64_MAX : -st;
      cnt = b > e ? (b - e - 1) / nst + 1 : 0;
    }
    shape[a] = cnt;
    if (cnt > 0) base += b * strides[a];
    strides[a] *= cnt > 1 ? st : 1;
  }
  c.expect_out_shape(0, shape);
  strided_copy(c, y.data, x.data, x.count(), elem_size(c, x, "input"), shape, strides, base);
}

/// Source index in [0, n) of position t (any integer) of a padded axis, or -1 for the constant.
int64_t pad_source(int64_t t, int64_t n, int mode) {
  if (t >= 0 && t < n) return t;
  switch (mode) {
    case 1: {  // reflect: period 2(n-1), mirrored without repeating the edge
      if (n == 1) return 0;
      const int64_t p = 2 * (n - 1);
      int64_t m = t % p;
      if (m < 0) m += p;
      return m < n ? m : p - m;
    }
    case 2: return t < 0 ? 0 : n - 1;  // edge
    case 3: {                          // wrap
      int64_t m = t % n;
      return m < 0 ? m + n : m;
    }
    default: return -1;  // constant
  }
}

void pad(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  expect_same_dtype(c, x, y, "output");
  const int64_t r = static_cast<int64_t>(x.rank());
  const std::string& mode_s = c.attr_string("mode");
  int mode;
  if (mode_s == "constant") {
    mode = 0;
  } else if (mode_s == "reflect") {
    mode = 1;
  } else if (mode_s == "edge") {
    mode = 2;
  } else if (mode_s == "wrap") {
    mode = 3;
  } else {
    c.check(false, "mode \"" + mode_s + "\" is not one of constant, reflect, edge, wrap");
    return;
  }
  const std::vector<int64_t> raw = c.int_values(c.in(1), "pads");
  std::vector<int64_t> axes;
  if (const TensorRef* a = c.opt_in(3)) {
    const std::vector<int64_t> given = c.int_values(*a, "axes");
    for (int64_t v : given) {
      const int64_t n = normalize_axis(v, r, c.op);
      c.check(std::find(axes.begin(), axes.end(), n) == axes.end(), "axes " + fmt(given) + " repeat an axis");
      axes.push_back(n);
    }
  } else {
    for (int64_t k = 0; k < r; ++k) axes.push_back(k);
  }
  c.check(raw.size() == 2 * axes.size(), "pads " + fmt(raw) + " must have 2 entries per padded axis (" +
                                             std::to_string(2 * axes.size()) + ")");
  for (int64_t v : raw) c.check(v >= -2147483647 && v <= 2147483647, "pads " + fmt(raw) + " are out of range");
  std::vector<int64_t> pb(r, 0), pe(r, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    pb[axes[i]] = raw[i];
    pe[axes[i]] = raw[i + axes.size()];
  }
  const size_t es = elem_size(c, x, "input");
  // The padding value, as one element of the data's dtype.
  unsigned char fill[8] = {0};
  if (const TensorRef* v = c.opt_in(2)) {
    c.check(v->count() == 1, "constant_value must have one element");
    if (v->dtype == x.dtype) {
      std::memcpy(fill, v->data, es);
    } else {
      c.check(v->dtype == DType::kFloat32, std::string("constant_value must be ") + dtype_name(x.dtype) + ", got " +
                                               dtype_name(v->dtype));
      store_number(x.dtype, load_number(*v, 0), fill);
    }
  }
  // Per axis: negative pads crop first, then the positive ones pad the cropped
  // window; map[j] is the source index of output position j, -1 for the fill.
  std::vector<int64_t> shape(r);
  std::vector<std::vector<int64_t>> map(r);
  for (int64_t k = 0; k < r; ++k) {
    const int64_t d = x.shape[k];
    const int64_t lo = std::max<int64_t>(0, -pb[k]), hi = d - std::max<int64_t>(0, -pe[k]);
    const int64_t cd = hi - lo, b = std::max<int64_t>(0, pb[k]), e = std::max<int64_t>(0, pe[k]);
    c.check(cd >= 0, "pads " + fmt(raw) + " crop more than dimension " + std::to_string(k) + " (" + std::to_string(d) + ")");
    shape[k] = cd + b + e;
    c.check(mode == 0 || cd > 0 || shape[k] == 0, "cannot pad an empty dimension " + std::to_string(k) + " in " + mode_s + " mode");
    c.check(shape[k] <= 2147483647, "padded dimension " + std::to_string(k) + " is too large");
    map[k].resize(static_cast<size_t>(shape[k]));
    for (int64_t j = 0; j < shape[k]; ++j) {
      const int64_t s = pad_source(j - b, cd, mode);
      map[k][j] = s < 0 ? -1 : s + lo;
    }
  }
  c.expect_out_shape(0, shape);
  if (y.count() == 0) return;
  const size_t rank = static_cast<size_t>(r);
  if (rank == 0) {
    std::memcpy(y.data, x.data, es);
    return;
  }
  // The last axis as runs: copies of consecutive source elements, fills, single elements.
  struct Run {
    int64_t at, len, src;  // src -1: fill
  };
  std::vector<Run> runs;
  const std::vector<int64_t>& last = map[rank - 1];
  for (int64_t j = 0; j < static_cast<int64_t>(last.size());) {
    int64_t k = j + 1;
    if (last[j] < 0) {
      while (k < static_cast<int64_t>(last.size()) && last[k] < 0) ++k;
    } else {
      while (k < static_cast<int64_t>(last.size()) && last[k] == last[k - 1] + 1) ++k;
    }
    runs.push_back({j, k - j, last[j]});
    j = k;
  }
  const std::vector<int64_t> xs = strides_of(x.shape);
  const int64_t n = shape[rank - 1];
  size_t rows = 1;
  for (size_t k = 0; k + 1 < rank; ++k) rows *= static_cast<size_t>(shape[k]);
  const char* src = static_cast<const char*>(x.data);
  char* dst = static_cast<char*>(y.data);
  parallel_for(rows, parallel_grain(static_cast<size_t>(n)), [&](size_t b, size_t e) {
    for (size_t row = b; row < e; ++row) {
      char* d = dst + row * static_cast<size_t>(n) * es;
      int64_t off = 0;
      bool filled = false;
      size_t rem = row;
      for (size_t k = rank - 1; k-- > 0;) {
        const int64_t j = static_cast<int64_t>(rem % static_cast<size_t>(shape[k]));
        rem /= static_cast<size_t>(shape[k]);
        const int64_t s = map[k][j];
        if (s < 0) filled = true;
        off += s * xs[k];
      }
      if (filled) {
        for (int64_t j = 0; j < n; ++j) std::memcpy(d + j * es, fill, es);
        continue;
      }
      for (const Run& u : runs) {
        if (u.src < 0) {
          for (int64_t j = 0; j < u.len; ++j) std::memcpy(d + (u.at + j) * es, fill, es);
        } else {
          std::memcpy(d + u.at * es, src + (off + u.src) * static_cast<int64_t>(es), static_cast<size_t>(u.len) * es);
        }
      }
    }
  });
}

/// [N, C, H, W] and the blocksize, checked.
void block_dims(const KernelCall& c, const TensorRef& x, int64_t* b) {
  c.check(x.rank() == 4, "input must be 4-D [N, C, H, W], got " + fmt(x.shape));
  *b = c.attr_int("blocksize");
  c.check(*b >= 1, "blocksize must be >= 1, got " + std::to_string(*b));
}

void depth_to_space(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  expect_same_dtype(c, x, y, "output");
  int64_t b;
  block_dims(c, x, &b);
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t bb = checked_mul(b, b, c.op.c_str());
  c.check(C % bb == 0, "channels (" + std::to_string(C) + ") must be a multiple of blocksize^2");
  const int64_t C2 = C / bb;
  const std::string mode = c.has_attr("mode") ? c.attr_string("mode") : "DCR";
  c.check(mode == "DCR" || mode == "CRD", "mode must be DCR or CRD, got \"" + mode + "\"");
  c.expect_out_shape(0, {N, C2, checked_mul(H, b, c.op.c_str()), checked_mul(W, b, c.op.c_str())});
  // Output as [N, C2, H, b1, W, b2]; the input is [N, b1, b2, C2, H, W] (DCR) or [N, C2, b1, b2, H, W] (CRD).
  const int64_t hw = H * W;
  const int64_t sb1 = mode == "DCR" ? b * C2 * hw : b * hw, sb2 = mode == "DCR" ? C2 * hw : hw;
  const int64_t sc = mode == "DCR" ? hw : b * b * hw;
  strided_copy(c, y.data, x.data, x.count(), elem_size(c, x, "input"), {N, C2, H, b, W, b},
               {C * hw, sc, W, sb1, 1, sb2}, 0);
}

void space_to_depth(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  expect_same_dtype(c, x, y, "output");
  int64_t b;
  block_dims(c, x, &b);
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  c.check(H % b == 0 && W % b == 0, "height and width " + fmt({H, W}) + " must be multiples of blocksize " + std::to_string(b));
  c.expect_out_shape(0, {N, checked_mul(C, checked_mul(b, b, c.op.c_str()), c.op.c_str()), H / b, W / b});
  // Output as [N, b1, b2, C, H/b, W/b]; the input is [N, C, H/b, b1, W/b, b2].
  strided_copy(c, y.data, x.data, x.count(), elem_size(c, x, "input"), {N, b, b, C, H / b, W / b},
               {C * H * W, W, 1, H * W, b * W, b}, 0);
}

}  // namespace

NEONN_KERNEL(Concat, concat);
NEONN_KERNEL(Split, split);
NEONN_KERNEL(Slice, slice);
NEONN_KERNEL(Pad, pad);
NEONN_KERNEL(DepthToSpace, depth_to_space);
NEONN_KERNEL(SpaceToDepth, space_to_depth);

}  // namespace neonn
