// Data-movement kernels driven by index tensors, ONNX semantics, every dtype:
// Gather, GatherElements, GatherND, ScatterND, ScatterElements, OneHot, and
// Trilu. Every index is checked before anything is read or written: an index
// out of range is a RangeError, never a stray access.
#include <algorithm>
#include <array>
#include <cmath>

#include "../checked.h"
#include "../parallel.h"
#include "data.h"

namespace neonn {
namespace {

using namespace data;  // NOLINT: this file is the data kernels

/// Index v of a dim of size d, negative counting from the end; RangeError when outside [-d, d).
inline int64_t checked_index(const KernelCall& c, int64_t v, int64_t d, const char* what) {
  if (v < -d || v >= d) {
    c.check(false, std::string(what) + " " + std::to_string(v) + " is out of range for a dimension of " + std::to_string(d));
  }
  return v < 0 ? v + d : v;
}

void gather(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& idx = c.in(1);
  const TensorRef& y = c.out(0);
  expect_same_dtype(c, x, y, "output");
  expect_index_dtype(c, idx, "indices");
  const int64_t r = static_cast<int64_t>(x.rank());
  c.check(r >= 1, "data must have rank >= 1");
  const int64_t axis = normalize_axis(c.attr_int("axis", 0), r, c.op);
  std::vector<int64_t> shape(x.shape.begin(), x.shape.begin() + axis);
  shape.insert(shape.end(), idx.shape.begin(), idx.shape.end());
  shape.insert(shape.end(), x.shape.begin() + axis + 1, x.shape.end());
  c.expect_out_shape(0, shape);
  const int64_t d = x.shape[axis];
  const size_t ni = idx.count();
  std::vector<int64_t> at(ni);
  for (size_t i = 0; i < ni; ++i) at[i] = checked_index(c, index_at(idx, i), d, "index");
  size_t outer = 1, inner = 1;
  for (int64_t k = 0; k < r; ++k) {
    if (k < axis) outer *= static_cast<size_t>(x.shape[k]);
    if (k > axis) inner *= static_cast<size_t>(x.shape[k]);
  }
  const size_t es = elem_size(c, x, "data"), row = inner * es;
  const char* src = static_cast<const char*>(x.data);
  char* dst = static_cast<char*>(y.data);
  if (row == 0) return;
  parallel_for(outer * ni, parallel_grain(inner / 2 + 1), [&](size_t b, size_t e) {
    for (size_t t = b; t < e; ++t) {
      const size_t o = t / ni, i = t % ni;
      std::memcpy(dst + t * row, src + (o * static_cast<size_t>(d) + static_cast<size_t>(at[i])) * row, row);
    }
  });
}

void gather_elements(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& idx = c.in(1);
  const TensorRef& y = c.out(0);
  expect_same_dtype(c, x, y, "output");
  expect_index_dtype(c, idx, "indices");
  const int64_t r = static_cast<int64_t>(x.rank());
  c.check(r >= 1, "data must have rank >= 1");
  const int64_t axis = normalize_axis(c.attr_int("axis", 0), r, c.op);
  c.check(idx.rank() == x.rank(), "indices " + fmt(idx.shape) + " must have the rank of data " + fmt(x.shape));
  for (int64_t k = 0; k < r; ++k) {
    c.check(k == axis || idx.shape[k] <= x.shape[k], "indices " + fmt(idx.shape) + " exceed data " + fmt(x.shape) +
                                                         " outside axis " + std::to_string(axis));
  }
  c.expect_out_shape(0, idx.shape);
  const size_t n = idx.count();
  const int64_t d = x.shape[axis];
  for (size_t i = 0; i < n; ++i) checked_index(c, index_at(idx, i), d, "index");
  if (n == 0) return;
  const std::vector<int64_t> xs = strides_of(x.shape);
  const int64_t last = idx.shape[r - 1];
  const size_t es = elem_size(c, x, "data");
  const char* src = static_cast<const char*>(x.data);
  char* dst = static_cast<char*>(y.data);
  parallel_for(n / static_cast<size_t>(last), parallel_grain(static_cast<size_t>(last) * 2), [&](size_t b, size_t e) {
    for (size_t row = b; row < e; ++row) {
      // Offset of this row in data, leaving out the axis (whose index comes from `indices`).
      int64_t off = 0;
      size_t rem = row;
      for (int64_t k = r - 2; k >= 0; --k) {
        const int64_t m = static_cast<int64_t>(rem % static_cast<size_t>(idx.shape[k]));
        rem /= static_cast<size_t>(idx.shape[k]);
        if (k != axis) off += m * xs[k];
      }
      for (int64_t j = 0; j < last; ++j) {
        const size_t i = row * static_cast<size_t>(last) + static_cast<size_t>(j);
        int64_t v = index_at(idx, i);
        if (v < 0) v += d;
        const int64_t at = axis == r - 1 ? off + v : off + v * xs[axis] + j;
        std::memcpy(dst + i * es, src + static_cast<size_t>(at) * es, es);
      }
    }
  });
}

/// The offsets (in elements) into a tensor of shape `s` of GatherND/ScatterND's
/// index tuples (indices' last dim, >= 1) addressing dims from `from` on; each
/// run of `rows_per_batch` tuples is in the next batch (0: no batch dims). Checked.
std::vector<int64_t> tuple_offsets(const KernelCall& c, const TensorRef& idx, const std::vector<int64_t>& s, int64_t from,
                                   int64_t batch_stride, int64_t rows_per_batch) {
  const int64_t k = idx.shape.back();
  const std::vector<int64_t> st = strides_of(s);
  std::vector<int64_t> off(idx.count() / static_cast<size_t>(k), 0);
  for (size_t t = 0; t < off.size(); ++t) {
    int64_t o = rows_per_batch == 0 ? 0 : static_cast<int64_t>(t) / rows_per_batch * batch_stride;
    for (int64_t j = 0; j < k; ++j) {
      o += checked_index(c, index_at(idx, t * static_cast<size_t>(k) + static_cast<size_t>(j)), s[from + j], "index") * st[from + j];
    }
    off[t] = o;
  }
  return off;
}

void gather_nd(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& idx = c.in(1);
  const TensorRef& y = c.out(0);
  expect_same_dtype(c, x, y, "output");
  expect_index_dtype(c, idx, "indices");
  const int64_t r = static_cast<int64_t>(x.rank()), q = static_cast<int64_t>(idx.rank());
  const int64_t b = c.attr_int("batch_dims", 0);
  c.check(r >= 1 && q >= 1, "data and indices must have rank >= 1");
  c.check(b >= 0 && b < std::min(r, q), "batch_dims " + std::to_string(b) + " must be in [0, min(rank(data), rank(indices)))");
  const int64_t k = idx.shape[q - 1];
  c.check(k >= 1 && k <= r - b, "indices' last dimension (" + std::to_string(k) + ") must be in [1, rank(data) - batch_dims]");
  for (int64_t i = 0; i < b; ++i) {
    c.check(idx.shape[i] == x.shape[i], "batch dims of indices " + fmt(idx.shape) + " and data " + fmt(x.shape) + " differ");
  }
  std::vector<int64_t> shape(idx.shape.begin(), idx.shape.end() - 1);
  shape.insert(shape.end(), x.shape.begin() + b + k, x.shape.end());
  c.expect_out_shape(0, shape);
  int64_t rows = 1, slice = 1, batch_stride = 1;
  for (int64_t i = b; i < q - 1; ++i) rows *= idx.shape[i];
  for (int64_t i = b + k; i < r; ++i) slice *= x.shape[i];
  for (int64_t i = b; i < r; ++i) batch_stride *= x.shape[i];
  const std::vector<int64_t> off = tuple_offsets(c, idx, x.shape, b, batch_stride, rows);
  const size_t es = elem_size(c, x, "data"), row = static_cast<size_t>(slice) * es;
  const char* src = static_cast<const char*>(x.data);
  char* dst = static_cast<char*>(y.data);
  if (row == 0) return;
  parallel_for(off.size(), parallel_grain(static_cast<size_t>(slice) / 2 + 1), [&](size_t lo, size_t hi) {
    for (size_t t = lo; t < hi; ++t) std::memcpy(dst + t * row, src + static_cast<size_t>(off[t]) * es, row);
  });
}

enum class Red { kNone, kAdd, kMul, kMax, kMin };

Red reduction(const KernelCall& c) {
  const std::string s = c.has_attr("reduction") ? c.attr_string("reduction") : "none";
  if (s == "none") return Red::kNone;
  if (s == "add") return Red::kAdd;
  if (s == "mul") return Red::kMul;
  if (s == "max") return Red::kMax;
  if (s == "min") return Red::kMin;
  c.check(false, "reduction \"" + s + "\" is not one of none, add, mul, max, min");
  return Red::kNone;
}

template <typename T>
void reduce_t(T* d, const T* s, size_t n, Red r) {
  for (size_t i = 0; i < n; ++i) {
    switch (r) {
      case Red::kAdd: d[i] = static_cast<T>(d[i] + s[i]); break;
      case Red::kMul: d[i] = static_cast<T>(d[i] * s[i]); break;
      case Red::kMax: d[i] = std::max(d[i], s[i]); break;
      case Red::kMin: d[i] = std::min(d[i], s[i]); break;
      case Red::kNone: d[i] = s[i]; break;
    }
  }
}

/// d[0..n) = d op s, in the dtype's own arithmetic (float16 through float, bool as or/and).
void reduce_into(DType t, void* d, const void* s, size_t n, Red r) {
  switch (t) {
    case DType::kFloat32: reduce_t(static_cast<float*>(d), static_cast<const float*>(s), n, r); break;
    case DType::kInt32: reduce_t(static_cast<int32_t*>(d), static_cast<const int32_t*>(s), n, r); break;
    case DType::kInt64: reduce_t(static_cast<int64_t*>(d), static_cast<const int64_t*>(s), n, r); break;
    case DType::kInt8: reduce_t(static_cast<int8_t*>(d), static_cast<const int8_t*>(s), n, r); break;
    case DType::kUint8: reduce_t(static_cast<uint8_t*>(d), static_cast<const uint8_t*>(s), n, r); break;
    case DType::kFloat16: {
      uint16_t* dd = static_cast<uint16_t*>(d);
      const uint16_t* ss = static_cast<const uint16_t*>(s);
      for (size_t i = 0; i < n; ++i) {
        float a = half_to_float(dd[i]);
        reduce_t(&a, std::array<float, 1>{half_to_float(ss[i])}.data(), 1, r);
        dd[i] = float_to_half(a);
      }
      break;
    }
    case DType::kBool: {
      uint8_t* dd = static_cast<uint8_t*>(d);
      const uint8_t* ss = static_cast<const uint8_t*>(s);
      for (size_t i = 0; i < n; ++i) {
        const bool a = dd[i] != 0, b = ss[i] != 0;
        dd[i] = r == Red::kNone ? b : (r == Red::kAdd || r == Red::kMax) ? (a || b) : (a && b);
      }
      break;
    }
    default: break;
  }
}

void scatter_nd(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& idx = c.in(1);
  const TensorRef& u = c.in(2);
  const TensorRef& y = c.out(0);
  expect_same_dtype(c, x, y, "output");
  expect_same_dtype(c, x, u, "updates");
  expect_index_dtype(c, idx, "indices");
  const int64_t r = static_cast<int64_t>(x.rank()), q = static_cast<int64_t>(idx.rank());
  c.check(r >= 1 && q >= 1, "data and indices must have rank >= 1");
  const int64_t k = idx.shape[q - 1];
  c.check(k >= 1 && k <= r, "indices' last dimension (" + std::to_string(k) + ") must be in [1, rank(data)]");
  std::vector<int64_t> ushape(idx.shape.begin(), idx.shape.end() - 1);
  ushape.insert(ushape.end(), x.shape.begin() + k, x.shape.end());
  c.check(u.shape == ushape, "updates must have shape " + fmt(ushape) + ", got " + fmt(u.shape));
  c.expect_out_shape(0, x.shape);
  const Red red = reduction(c);
  int64_t slice = 1;
  for (int64_t i = k; i < r; ++i) slice *= x.shape[i];
  const std::vector<int64_t> off = tuple_offsets(c, idx, x.shape, 0, 0, 0);
  copy_whole(c, x, y);
  const size_t es = elem_size(c, x, "data"), row = static_cast<size_t>(slice) * es;
  char* dst = static_cast<char*>(y.data);
  const char* src = static_cast<const char*>(u.data);
  // In order: with repeated indices, later updates win (none) or accumulate.
  for (size_t t = 0; t < off.size(); ++t) {
    reduce_into(x.dtype, dst + static_cast<size_t>(off[t]) * es, src + t * row, static_cast<size_t>(slice), red);
  }
}

void scatter_elements(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& idx = c.in(1);
  const TensorRef& u = c.in(2);
  const TensorRef& y = c.out(0);
  expect_same_dtype(c, x, y, "output");
  expect_same_dtype(c, x, u, "updates");
  expect_index_dtype(c, idx, "indices");
  const int64_t r = static_cast<int64_t>(x.rank());
  c.check(r >= 1, "data must have rank >= 1");
  const int64_t axis = normalize_axis(c.attr_int("axis", 0), r, c.op);
  c.check(idx.shape == u.shape, "updates " + fmt(u.shape) + " must have the shape of indices " + fmt(idx.shape));
  c.check(idx.rank() == x.rank(), "indices " + fmt(idx.shape) + " must have the rank of data " + fmt(x.shape));
  for (int64_t k = 0; k < r; ++k) {
    c.check(k == axis || idx.shape[k] <= x.shape[k], "indices " + fmt(idx.shape) + " exceed data " + fmt(x.shape) +
                                                         " outside axis " + std::to_string(axis));
  }
  c.expect_out_shape(0, x.shape);
  const Red red = reduction(c);
  const size_t n = idx.count();
  const int64_t d = x.shape[axis];
  for (size_t i = 0; i < n; ++i) checked_index(c, index_at(idx, i), d, "index");
  copy_whole(c, x, y);
  const std::vector<int64_t> xs = strides_of(x.shape);
  const size_t es = elem_size(c, x, "data");
  char* dst = static_cast<char*>(y.data);
  const char* src = static_cast<const char*>(u.data);
  std::vector<int64_t> m(r, 0);
  for (size_t i = 0; i < n; ++i) {
    int64_t off = 0;
    for (int64_t k = 0; k < r; ++k) off += (k == axis ? 0 : m[k]) * xs[k];
    int64_t v = index_at(idx, i);
    if (v < 0) v += d;
    off += v * xs[axis];
    reduce_into(x.dtype, dst + static_cast<size_t>(off) * es, src + i * es, 1, red);
    for (int64_t k = r - 1; k >= 0; --k) {
      if (++m[k] < idx.shape[k]) break;
      m[k] = 0;
    }
  }
}

void one_hot(const KernelCall& c) {
  const TensorRef& idx = c.in(0);
  const TensorRef& depth_t = c.in(1);
  const TensorRef& vals = c.in(2);
  const TensorRef& y = c.out(0);
  expect_same_dtype(c, vals, y, "output");
  for (const TensorRef* t : {&idx, &depth_t}) {
    c.check(t->dtype != DType::kBool && dtype_size(t->dtype) != 0,
            std::string("indices and depth must be numeric, got ") + dtype_name(t->dtype));
  }
  c.check(depth_t.count() == 1, "depth must have one element");
  c.check(vals.count() == 2, "values must have two elements [off, on]");
  const double dd = load_number(depth_t, 0);
  c.check(dd >= 1 && dd <= 2147483647.0, "depth must be in [1, 2^31), got " + std::to_string(dd));
  const int64_t depth = static_cast<int64_t>(dd);
  const int64_t r = static_cast<int64_t>(idx.rank());
  int64_t axis = c.attr_int("axis", -1);
  c.check(axis >= -r - 1 && axis <= r, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r + 1));
  if (axis < 0) axis += r + 1;
  std::vector<int64_t> shape = idx.shape;
  shape.insert(shape.begin() + axis, depth);
  c.expect_out_shape(0, shape);
  const size_t es = elem_size(c, vals, "values");
  const char* off_on = static_cast<const char*>(vals.data);
  char* dst = static_cast<char*>(y.data);
  size_t outer = 1, inner = 1;
  for (int64_t k = 0; k < r; ++k) (k < axis ? outer : inner) *= static_cast<size_t>(idx.shape[k]);
  const size_t dep = static_cast<size_t>(depth);
  parallel_for(outer, parallel_grain(dep * inner + 1), [&](size_t b, size_t e) {
    for (size_t o = b; o < e; ++o) {
      for (size_t j = 0; j < dep * inner; ++j) std::memcpy(dst + (o * dep * inner + j) * es, off_on, es);
      for (size_t i = 0; i < inner; ++i) {
        const double v = load_number(idx, o * inner + i);
        if (!std::isfinite(v)) continue;
        int64_t h = static_cast<int64_t>(std::trunc(std::max(-4e18, std::min(4e18, v))));
        if (h < 0) h += depth;
        if (h < 0 || h >= depth) continue;  // out of range: all "off", as the spec says
        std::memcpy(dst + ((o * dep + static_cast<size_t>(h)) * inner + i) * es, off_on + es, es);
      }
    }
  });
}

void trilu(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  expect_same_dtype(c, x, y, "output");
  c.check(x.rank() >= 2, "input must have rank >= 2, got " + fmt(x.shape));
  int64_t k = 0;
  if (const TensorRef* kt = c.opt_in(1)) {
    c.expect_dtype(*kt, DType::kInt64, "k");
    c.check(kt->count() == 1, "k must have one element");
    k = kt->as<const int64_t>()[0];
  }
  k = std::max<int64_t>(-(int64_t{1} << 40), std::min<int64_t>(int64_t{1} << 40, k));
  const bool upper = c.attr_int("upper", 1) != 0;
  c.expect_out_shape(0, x.shape);
  const int64_t N = x.shape[x.rank() - 2], M = x.shape[x.rank() - 1];
  const size_t es = elem_size(c, x, "input"), row = static_cast<size_t>(M) * es;
  const size_t rows = N == 0 ? 0 : x.count() / static_cast<size_t>(M == 0 ? 1 : M);
  if (M == 0) return;
  const char* src = static_cast<const char*>(x.data);
  char* dst = static_cast<char*>(y.data);
  parallel_for(rows, parallel_grain(static_cast<size_t>(M)), [&](size_t b, size_t e) {
    for (size_t t = b; t < e; ++t) {
      const int64_t i = static_cast<int64_t>(t % static_cast<size_t>(N));
      // Kept columns: [i + k, M) (upper) or [0, i + k] (lower).
      const int64_t lo = upper ? std::max<int64_t>(0, std::min<int64_t>(M, i + k)) : 0;
      const int64_t hi = upper ? M : std::max<int64_t>(0, std::min<int64_t>(M, i + k + 1));
      char* d = dst + t * row;
      const char* s = src + t * row;
      if (d != s) std::memcpy(d + lo * static_cast<int64_t>(es), s + lo * static_cast<int64_t>(es), static_cast<size_t>(hi - lo) * es);
      std::memset(d, 0, static_cast<size_t>(lo) * es);
      std::memset(d + hi * static_cast<int64_t>(es), 0, static_cast<size_t>(M - hi) * es);
    }
  });
}

}  // namespace

NEONN_KERNEL(Gather, gather);
NEONN_KERNEL(GatherElements, gather_elements);
NEONN_KERNEL(GatherND, gather_nd);
NEONN_KERNEL(ScatterND, scatter_nd);
NEONN_KERNEL(ScatterElements, scatter_elements);
NEONN_KERNEL(OneHot, one_hot);
NEONN_KERNEL(Trilu, trilu);

}  // namespace neonn
