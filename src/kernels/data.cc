// Data-movement kernels, ONNX semantics, every dtype: the shared strided copy,
// and the ops that only reshape, broadcast or fill (Identity, Reshape,
// Flatten, Squeeze, Unsqueeze, Expand, Tile, Transpose, ConstantOfShape,
// Range). Each recomputes its output shape from its inputs and attributes and
// checks it against the one it was given.
#include "data.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "../checked.h"
#include "../parallel.h"

namespace neonn {
namespace data {

size_t elem_size(const KernelCall& c, const TensorRef& t, const char* what) {
  const size_t s = dtype_size(t.dtype);
  c.check(s != 0, std::string(what) + " has an unknown dtype");
  return s;
}

void expect_same_dtype(const KernelCall& c, const TensorRef& a, const TensorRef& b, const char* what) {
  if (a.dtype != b.dtype) {
    c.check(false, std::string(what) + " must be " + dtype_name(a.dtype) + ", got " + dtype_name(b.dtype));
  }
}

int64_t count_of(const KernelCall& c, const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    c.check(d >= 0, "shape " + fmt(shape) + " has a negative dimension");
    n = checked_mul(n, d, c.op.c_str());
  }
  return n;
}

std::string fmt(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

void expect_index_dtype(const KernelCall& c, const TensorRef& t, const char* what) {
  c.check(t.dtype == DType::kInt64 || t.dtype == DType::kInt32,
          std::string(what) + " must be int64 or int32, got " + dtype_name(t.dtype));
}

void copy_whole(const KernelCall& c, const TensorRef& in, const TensorRef& out) {
  expect_same_dtype(c, in, out, "output");
  const size_t es = elem_size(c, in, "input");
  c.check(in.count() == out.count(), "output has " + std::to_string(out.count()) + " elements, input " +
                                         std::to_string(in.count()));
  if (in.data == out.data) return;  // run in place
  const size_t bytes = in.count() * es;
  const size_t chunk = size_t{1} << 18;
  const char* s = static_cast<const char*>(in.data);
  char* d = static_cast<char*>(out.data);
  parallel_for((bytes + chunk - 1) / chunk, 4, [&](size_t b, size_t e) {
    const size_t lo = b * chunk, hi = std::min(bytes, e * chunk);
    std::memcpy(d + lo, s + lo, hi - lo);
  });
}

namespace {

template <typename T>
void strided_rows(T* dst, const T* src, const std::vector<int64_t>& shape, const std::vector<int64_t>& strides,
                  int64_t base) {
  const size_t r = shape.size();
  const int64_t n = shape[r - 1], s = strides[r - 1];
  size_t rows = 1;
  for (size_t k = 0; k + 1 < r; ++k) rows *= static_cast<size_t>(shape[k]);
  parallel_for(rows, parallel_grain(static_cast<size_t>(n)), [&](size_t b, size_t e) {
    std::vector<int64_t> idx(r, 0);
    int64_t off = base;
    size_t rem = b;
    for (size_t k = r - 1; k-- > 0;) {
      idx[k] = static_cast<int64_t>(rem % static_cast<size_t>(shape[k]));
      rem /= static_cast<size_t>(shape[k]);
      off += idx[k] * strides[k];
    }
    for (size_t row = b; row < e; ++row) {
      T* d = dst + row * static_cast<size_t>(n);
      const T* p = src + off;
      if (s == 1) {
        std::memcpy(d, p, static_cast<size_t>(n) * sizeof(T));
      } else if (s == 0) {
        std::fill(d, d + n, *p);
      } else {
        for (int64_t j = 0; j < n; ++j) d[j] = p[j * s];
      }
      for (size_t k = r - 1; k-- > 0;) {
        off += strides[k];
        if (++idx[k] < shape[k]) break;
        off -= strides[k] * shape[k];
        idx[k] = 0;
      }
    }
  });
}

/// The same copy when the innermost output dim is strided in the source but
/// another dim `p` is contiguous there (a transpose): 32x32 tiles of (p, last),
/// so each tile's source lines stay in cache while they are read across.
template <typename T>
void strided_tiles(T* dst, const T* src, const std::vector<int64_t>& shape, const std::vector<int64_t>& strides,
                   int64_t base, size_t p) {
  constexpr int64_t kTile = 32;
  const size_t r = shape.size(), last = r - 1;
  const std::vector<int64_t> ds = strides_of(shape);
  std::vector<int64_t> osh, ost, ods;  // the other dims
  for (size_t k = 0; k < last; ++k) {
    if (k == p) continue;
    osh.push_back(shape[k]);
    ost.push_back(strides[k]);
    ods.push_back(ds[k]);
  }
  size_t others = 1;
  for (int64_t d : osh) others *= static_cast<size_t>(d);
  const int64_t P = shape[p], N = shape[last], sn = strides[last], dp = ds[p];
  const size_t blocks = static_cast<size_t>((P + kTile - 1) / kTile);
  parallel_for(others * blocks, parallel_grain(static_cast<size_t>(kTile * N)), [&](size_t b, size_t e) {
    for (size_t t = b; t < e; ++t) {
      size_t o = t / blocks;
      const int64_t p0 = static_cast<int64_t>(t % blocks) * kTile, p1 = std::min(P, p0 + kTile);
      int64_t so = base, dof = 0;
      for (size_t k = osh.size(); k-- > 0;) {
        const int64_t m = static_cast<int64_t>(o % static_cast<size_t>(osh[k]));
        o /= static_cast<size_t>(osh[k]);
        so += m * ost[k];
        dof += m * ods[k];
      }
      for (int64_t n0 = 0; n0 < N; n0 += kTile) {
        const int64_t n1 = std::min(N, n0 + kTile);
        for (int64_t i = p0; i < p1; ++i) {
          T* d = dst + dof + i * dp;
          const T* sp = src + so + i;
          for (int64_t j = n0; j < n1; ++j) d[j] = sp[j * sn];
        }
      }
    }
  });
}

template <typename T>
void strided_any(T* dst, const T* src, const std::vector<int64_t>& shape, const std::vector<int64_t>& strides,
                 int64_t base) {
  const size_t last = shape.size() - 1;
  if (strides[last] != 1 && strides[last] != 0) {
    for (size_t p = 0; p < last; ++p) {
      if (strides[p] == 1) return strided_tiles(dst, src, shape, strides, base, p);
    }
  }
  strided_rows(dst, src, shape, strides, base);
}

}  // namespace

void strided_copy(const KernelCall& c, void* dst, const void* src, size_t src_count, size_t esize,
                  std::vector<int64_t> shape, std::vector<int64_t> strides, int64_t base) {
  c.check(shape.size() == strides.size(), "internal: strided copy of mismatched ranks");
  // Drop unit dims, then merge neighbours that are contiguous in the source.
  std::vector<int64_t> sh, st;
  for (size_t k = 0; k < shape.size(); ++k) {
    if (shape[k] == 0) return;
    if (shape[k] == 1) continue;
    if (!sh.empty() && st.back() == strides[k] * shape[k]) {
      sh.back() *= shape[k];
      st.back() = strides[k];
    } else {
      sh.push_back(shape[k]);
      st.push_back(strides[k]);
    }
  }
  if (sh.empty()) {
    sh.push_back(1);
    st.push_back(1);
  }
  // Every offset reached lies between these two.
  int64_t lo = base, hi = base;
  for (size_t k = 0; k < sh.size(); ++k) {
    const int64_t span = (sh[k] - 1) * st[k];
    (span < 0 ? lo : hi) += span;
  }
  c.check(lo >= 0 && hi < static_cast<int64_t>(src_count), "internal: strided copy reads outside its input");
  switch (esize) {
    case 1: strided_any(static_cast<uint8_t*>(dst), static_cast<const uint8_t*>(src), sh, st, base); break;
    case 2: strided_any(static_cast<uint16_t*>(dst), static_cast<const uint16_t*>(src), sh, st, base); break;
    case 4: strided_any(static_cast<uint32_t*>(dst), static_cast<const uint32_t*>(src), sh, st, base); break;
    case 8: strided_any(static_cast<uint64_t*>(dst), static_cast<const uint64_t*>(src), sh, st, base); break;
    default: c.check(false, "internal: element size " + std::to_string(esize));
  }
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: renormalize
      exp = 127 - 15 + 1;
      while ((man & 0x400) == 0) {
        man <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000 | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7fffffff;
  if (ax >= 0x7f800000) return static_cast<uint16_t>(sign | 0x7c00 | (ax > 0x7f800000 ? 0x200 : 0));
  if (ax >= 0x477ff000) return static_cast<uint16_t>(sign | 0x7c00);  // rounds to >= 65520: inf
  if (ax < 0x38800000) {  // below the smallest normal half: subnormal or zero
    if (ax < 0x33000000) return sign;  // < 2^-25 rounds to 0
    const uint32_t e = ax >> 23, m = (ax & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - e;  // value m * 2^(e-150) in units of 2^-24
    uint32_t v = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (v & 1))) ++v;
    return static_cast<uint16_t>(sign | v);
  }
  uint32_t v = ((ax - 0x38000000) >> 13);
  const uint32_t rest = ax & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (v & 1))) ++v;
  return static_cast<uint16_t>(sign | v);
}

void store_number(DType t, double v, void* dst) {
  switch (t) {
    case DType::kFloat32: *static_cast<float*>(dst) = static_cast<float>(v); break;
    case DType::kFloat16: *static_cast<uint16_t*>(dst) = float_to_half(static_cast<float>(v)); break;
    case DType::kInt32: *static_cast<int32_t*>(dst) = static_cast<int32_t>(v); break;
    case DType::kInt64: *static_cast<int64_t*>(dst) = static_cast<int64_t>(v); break;
    case DType::kInt8: *static_cast<int8_t*>(dst) = static_cast<int8_t>(v); break;
    case DType::kUint8: *static_cast<uint8_t*>(dst) = static_cast<uint8_t>(v); break;
    case DType::kBool: *static_cast<uint8_t*>(dst) = v != 0 ? 1 : 0; break;
    default: break;
  }
}

double load_number(const TensorRef& t, size_t i) {
  switch (t.dtype) {
    case DType::kFloat32: return t.as<const float>()[i];
    case DType::kFloat16: return half_to_float(t.as<const uint16_t>()[i]);
    case DType::kInt32: return t.as<const int32_t>()[i];
    case DType::kInt64: return static_cast<double>(t.as<const int64_t>()[i]);
    case DType::kInt8: return t.as<const int8_t>()[i];
    case DType::kUint8: return t.as<const uint8_t>()[i];
    case DType::kBool: return t.as<const uint8_t>()[i] != 0 ? 1 : 0;
    default: return 0;
  }
}

}  // namespace data

namespace {

using namespace data;  // NOLINT: this file is the data kernels

void identity(const KernelCall& c) {
  c.expect_out_shape(0, c.in(0).shape);
  copy_whole(c, c.in(0), c.out(0));
}

void reshape(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const std::vector<int64_t> spec = c.int_values(c.in(1), "shape");
  const bool allowzero = c.attr_int("allowzero", 0) != 0;
  std::vector<int64_t> out(spec.size());
  int64_t known = 1, infer_at = -1;
  bool any_zero = false;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == -1) {
      c.check(infer_at < 0, "shape " + fmt(spec) + " has more than one -1");
      infer_at = static_cast<int64_t>(i);
      continue;
    }
    c.check(d >= 0, "shape " + fmt(spec) + " has a dimension below -1");
    if (d == 0 && !allowzero) {
      c.check(i < x.rank(), "shape " + fmt(spec) + " copies dimension " + std::to_string(i) + " (0) of a rank-" +
                                std::to_string(x.rank()) + " input");
      d = x.shape[i];
    }
    any_zero = any_zero || spec[i] == 0;
    out[i] = d;
    known = checked_mul(known, d, c.op.c_str());
  }
  const int64_t n = static_cast<int64_t>(x.count());
  if (infer_at >= 0) {
    c.check(!(allowzero && any_zero), "shape " + fmt(spec) + " has both -1 and 0 with allowzero=1");
    c.check(known != 0 && n % known == 0, "cannot reshape " + fmt(x.shape) + " into " + fmt(spec));
    out[infer_at] = n / known;
  } else {
    c.check(known == n, "cannot reshape " + fmt(x.shape) + " into " + fmt(spec));
  }
  c.expect_out_shape(0, out);
  copy_whole(c, x, c.out(0));
}

void flatten(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const int64_t r = static_cast<int64_t>(x.rank());
  int64_t axis = c.attr_int("axis", 1);
  c.check(axis >= -r && axis <= r, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
  if (axis < 0) axis += r;
  int64_t a = 1, b = 1;
  for (int64_t k = 0; k < r; ++k) (k < axis ? a : b) *= x.shape[k];
  c.expect_out_shape(0, {a, b});
  copy_whole(c, x, c.out(0));
}

/// Normalized, duplicate-free axes for a rank.
std::vector<int64_t> unique_axes(const KernelCall& c, const std::vector<int64_t>& axes, int64_t rank) {
  std::vector<int64_t> out;
  for (int64_t a : axes) {
    const int64_t n = normalize_axis(a, rank, c.op);
    c.check(std::find(out.begin(), out.end(), n) == out.end(), "axes " + fmt(axes) + " repeat an axis");
    out.push_back(n);
  }
  return out;
}

void squeeze(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef* ax = c.opt_in(1);
  std::vector<int64_t> out;
  if (ax == nullptr) {
    for (int64_t d : x.shape) {
      if (d != 1) out.push_back(d);
    }
  } else {
    const std::vector<int64_t> axes = unique_axes(c, c.int_values(*ax, "axes"), static_cast<int64_t>(x.rank()));
    for (int64_t k = 0; k < static_cast<int64_t>(x.rank()); ++k) {
      if (std::find(axes.begin(), axes.end(), k) != axes.end()) {
        c.check(x.shape[k] == 1, "cannot squeeze axis " + std::to_string(k) + " of " + fmt(x.shape) + " (not 1)");
      } else {
        out.push_back(x.shape[k]);
      }
    }
  }
  c.expect_out_shape(0, out);
  copy_whole(c, x, c.out(0));
}

void unsqueeze(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const std::vector<int64_t> raw = c.int_values(c.in(1), "axes");
  const int64_t r = static_cast<int64_t>(x.rank() + raw.size());
  const std::vector<int64_t> axes = unique_axes(c, raw, r);
  std::vector<int64_t> out;
  size_t j = 0;
  for (int64_t k = 0; k < r; ++k) {
    out.push_back(std::find(axes.begin(), axes.end(), k) != axes.end() ? 1 : x.shape[j++]);
  }
  c.expect_out_shape(0, out);
  copy_whole(c, x, c.out(0));
}

void transpose(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  expect_same_dtype(c, x, y, "output");
  const size_t r = x.rank();
  std::vector<int64_t> perm;
  if (c.has_attr("perm")) {
    perm = c.attr_ints("perm");
  } else {
    for (size_t k = r; k-- > 0;) perm.push_back(static_cast<int64_t>(k));
  }
  c.check(perm.size() == r, "perm " + fmt(perm) + " must have " + std::to_string(r) + " entries");
  std::vector<bool> seen(r, false);
  std::vector<int64_t> shape(r), strides(r);
  const std::vector<int64_t> xs = strides_of(x.shape);
  for (size_t k = 0; k < r; ++k) {
    c.check(perm[k] >= 0 && perm[k] < static_cast<int64_t>(r) && !seen[perm[k]], "perm " + fmt(perm) + " is not a permutation");
    seen[perm[k]] = true;
    shape[k] = x.shape[perm[k]];
    strides[k] = xs[perm[k]];
  }
  c.expect_out_shape(0, shape);
  strided_copy(c, y.data, x.data, x.count(), elem_size(c, x, "input"), shape, strides, 0);
}

void expand(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  expect_same_dtype(c, x, y, "output");
  const std::vector<int64_t> want = c.int_values(c.in(1), "shape");
  for (int64_t d : want) c.check(d >= 0, "shape " + fmt(want) + " has a negative dimension");
  const std::vector<int64_t> shape = broadcast_shapes(x.shape, want, c.op);
  c.expect_out_shape(0, shape);
  strided_copy(c, y.data, x.data, x.count(), elem_size(c, x, "input"), shape, broadcast_strides(x.shape, shape), 0);
}

void tile(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  expect_same_dtype(c, x, y, "output");
  const std::vector<int64_t> reps = c.int_values(c.in(1), "repeats");
  c.check(reps.size() == x.rank(), "repeats " + fmt(reps) + " must have one entry per input dimension (" +
                                       std::to_string(x.rank()) + ")");
  // The output as [r0, d0, r1, d1, ...]: the repeat dims read with stride 0.
  std::vector<int64_t> out, shape, strides;
  const std::vector<int64_t> xs = strides_of(x.shape);
  for (size_t k = 0; k < reps.size(); ++k) {
    c.check(reps[k] >= 0, "repeats " + fmt(reps) + " must be non-negative");
    out.push_back(checked_mul(x.shape[k], reps[k], c.op.c_str()));
    shape.insert(shape.end(), {reps[k], x.shape[k]});
    strides.insert(strides.end(), {0, xs[k]});
  }
  c.expect_out_shape(0, out);
  strided_copy(c, y.data, x.data, x.count(), elem_size(c, x, "input"), shape, strides, 0);
}

void constant_of_shape(const KernelCall& c) {
  const std::vector<int64_t> shape = c.int_values(c.in(0), "shape");
  const int64_t code = c.attr_int("dtype", 1);
  c.check(dtype_valid(code), "dtype " + std::to_string(code) + " is not supported");
  const TensorRef& y = c.out(0);
  c.expect_dtype(y, static_cast<DType>(code), "output");
  c.expect_out_shape(0, shape);
  const size_t es = elem_size(c, y, "output");
  unsigned char one[8] = {0};
  store_number(y.dtype, c.attr_float("value", 0), one);
  char* d = static_cast<char*>(y.data);
  parallel_for(y.count(), parallel_grain(1), [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) std::memcpy(d + i * es, one, es);
  });
}

/// Elements of a float Range: max(ceil((limit - start) / delta), 0), in double as the planner computes it.
int64_t range_count_float(const KernelCall& c, double start, double limit, double delta) {
  c.check(delta != 0, "delta must not be 0");
  const double n = std::ceil((limit - start) / delta);
  c.check(!(n > 2147483647.0) && !std::isnan(n), "the range has too many elements");
  return n > 0 ? static_cast<int64_t>(n) : 0;
}

/// Elements of an integer Range, exact for every int64 input.
int64_t range_count_int(const KernelCall& c, int64_t start, int64_t limit, int64_t delta) {
  c.check(delta != 0, "delta must not be 0");
  if ((delta > 0 && limit <= start) || (delta < 0 && limit >= start)) return 0;
  // |limit - start| as unsigned: never overflows.
  const uint64_t span = delta > 0 ? static_cast<uint64_t>(limit) - static_cast<uint64_t>(start)
                                  : static_cast<uint64_t>(start) - static_cast<uint64_t>(limit);
  const uint64_t step = delta > 0 ? static_cast<uint64_t>(delta) : uint64_t{0} - static_cast<uint64_t>(delta);
  const uint64_t n = span / step + (span % step != 0 ? 1 : 0);
  c.check(n <= 2147483647u, "the range has too many elements");
  return static_cast<int64_t>(n);
}

void range(const KernelCall& c) {
  const TensorRef &a = c.in(0), &l = c.in(1), &d = c.in(2);
  const TensorRef& y = c.out(0);
  c.check(a.dtype == DType::kFloat32 || a.dtype == DType::kInt32 || a.dtype == DType::kInt64,
          std::string("start must be float32, int32 or int64, got ") + dtype_name(a.dtype));
  expect_same_dtype(c, a, l, "limit");
  expect_same_dtype(c, a, d, "delta");
  expect_same_dtype(c, a, y, "output");
  c.check(a.count() == 1 && l.count() == 1 && d.count() == 1, "start, limit and delta must be scalars");
  if (a.dtype == DType::kFloat32) {
    const double s = a.as<const float>()[0], dl = d.as<const float>()[0];
    const int64_t n = range_count_float(c, s, l.as<const float>()[0], dl);
    c.expect_out_shape(0, {n});
    float* p = y.as<float>();
    // In double, rounded once: the same values as the planner's JS evaluation.
    parallel_for(static_cast<size_t>(n), parallel_grain(2), [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) p[i] = static_cast<float>(s + static_cast<double>(i) * dl);
    });
    return;
  }
  const int64_t s = index_at(a, 0), lim = index_at(l, 0), dl = index_at(d, 0);
  const int64_t n = range_count_int(c, s, lim, dl);
  c.expect_out_shape(0, {n});
  parallel_for(static_cast<size_t>(n), parallel_grain(2), [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      // Every value lies in [start, limit): unsigned arithmetic only keeps the compiler from assuming more.
      const int64_t v = static_cast<int64_t>(static_cast<uint64_t>(s) + static_cast<uint64_t>(i) * static_cast<uint64_t>(dl));
      if (a.dtype == DType::kInt64) {
        y.as<int64_t>()[i] = v;
      } else {
        y.as<int32_t>()[i] = static_cast<int32_t>(v);
      }
    }
  });
}

}  // namespace

NEONN_KERNEL(Identity, identity);
NEONN_KERNEL(Reshape, reshape);
NEONN_KERNEL(Flatten, flatten);
NEONN_KERNEL(Squeeze, squeeze);
NEONN_KERNEL(Unsqueeze, unsqueeze);
NEONN_KERNEL(Transpose, transpose);
NEONN_KERNEL(Expand, expand);
NEONN_KERNEL(Tile, tile);
NEONN_KERNEL(ConstantOfShape, constant_of_shape);
NEONN_KERNEL(Range, range);

}  // namespace neonn
