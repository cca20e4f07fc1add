// Reductions (ReduceSum, ReduceMean, ... over a set of axes), ArgMax/ArgMin
// and TopK, ONNX semantics. Float32 reductions accumulate in double; int32
// and int64 in int64 (sums and products wrap), their Mean, L2, LogSum and
// LogSumExp computed in double and truncated toward zero. A reduction over
// an empty set gives the op's identity (Sum 0, Prod 1, Max -inf or the
// type's lowest, Min +inf or its highest, LogSum(Exp) -inf, Mean NaN).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "elem_common.h"

namespace neonn {
namespace {

using namespace elem;

enum class Red { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

/// The reduced axes (sorted, unique) from the optional axes input; empty
/// means all axes unless `noop_with_empty_axes` (then none).
std::vector<bool> reduced_axes(const KernelCall& c, size_t rank, bool* noop) {
  std::vector<bool> red(rank, false);
  std::vector<int64_t> axes;
  if (const TensorRef* t = c.opt_in(1)) axes = c.int_values(*t, "axes");
  *noop = false;
  if (axes.empty()) {
    if (c.attr_int("noop_with_empty_axes", 0) != 0) {
      *noop = true;
    } else {
      std::fill(red.begin(), red.end(), true);
    }
    return red;
  }
  for (int64_t a : axes) {
    const int64_t n = normalize_axis(a, static_cast<int64_t>(rank), c.op);
    c.check(!red[n], "axis " + std::to_string(a) + " appears twice");
    red[n] = true;
  }
  return red;
}

template <typename T, Red R>
struct Acc {
  using A = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  A v;
  bool nan = false;
  static constexpr bool kFloat = std::is_floating_point_v<T>;
  Acc() {
    if constexpr (R == Red::kProd) {
      v = 1;
    } else if constexpr (R == Red::kMax || R == Red::kLogSumExp) {
      v = kFloat ? static_cast<A>(-std::numeric_limits<double>::infinity()) : static_cast<A>(std::numeric_limits<T>::lowest());
    } else if constexpr (R == Red::kMin) {
      v = kFloat ? static_cast<A>(std::numeric_limits<double>::infinity()) : static_cast<A>(std::numeric_limits<T>::max());
    } else {
      v = 0;
    }
  }
  void add(T x) {
    const A a = static_cast<A>(x);
    if constexpr (R == Red::kMax || R == Red::kLogSumExp) {
      if constexpr (kFloat) {
        if (a != a) nan = true;
      }
      v = std::max(v, a);
    } else if constexpr (R == Red::kMin) {
      if constexpr (kFloat) {
        if (a != a) nan = true;
      }
      v = std::min(v, a);
    } else if constexpr (R == Red::kProd) {
      v = wrap_mul<A>(v, a);
    } else if constexpr (R == Red::kL1) {
      v = wrap_add<A>(v, a < 0 ? wrap_sub<A>(0, a) : a);
    } else if constexpr (R == Red::kL2 || R == Red::kSumSquare) {
      v = wrap_add<A>(v, wrap_mul<A>(a, a));
    } else {
      v = wrap_add<A>(v, a);
    }
  }
};

template <typename T>
T from_double(double d) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(d);
  } else {
    return trunc_to_int<T>(d);
  }
}

template <typename T, Red R>
void reduce_typed(const TensorRef& x, const std::vector<bool>& red, const TensorRef& y) {
  // Collapse adjacent dims of the same kind (size-1 dims dropped).
  std::vector<int64_t> dims, strides;
  std::vector<bool> kind;
  const std::vector<int64_t> own = strides_of(x.shape);
  for (size_t i = 0; i < x.shape.size(); ++i) {
    if (x.shape[i] == 1) continue;
    if (!dims.empty() && kind.back() == red[i]) {
      dims.back() *= x.shape[i];
      strides.back() = own[i];
      continue;
    }
    dims.push_back(x.shape[i]);
    strides.push_back(own[i]);
    kind.push_back(red[i]);
  }
  std::vector<int64_t> kd, ks, rd, rs;  // kept / reduced dims and strides
  for (size_t i = 0; i < dims.size(); ++i) {
    (kind[i] ? rd : kd).push_back(dims[i]);
    (kind[i] ? rs : ks).push_back(strides[i]);
  }
  size_t nred = 1;
  for (int64_t d : rd) nred *= static_cast<size_t>(d);
  if (x.count() == 0) {  // a zero-size reduced dim (or an empty output)
    for (int64_t d : x.shape) {
      if (d == 0) nred = 0;
    }
  }
  const T* px = x.as<T>();
  T* py = y.as<T>();
  const size_t nout = y.count();
  parallel_for(nout, parallel_grain(nred + 1), [&](size_t b, size_t e) {
    std::vector<int64_t> idx(rd.size());
    for (size_t o = b; o < e; ++o) {
      int64_t base = 0;
      size_t q = o;
      for (size_t d = kd.size(); d-- > 0;) {
        base += static_cast<int64_t>(q % static_cast<size_t>(kd[d])) * ks[d];
        q /= static_cast<size_t>(kd[d]);
      }
      Acc<T, R> acc;
      double lse = 0;
      if (nred > 0) {
        if constexpr (R == Red::kLogSumExp) {  // two passes: the max, then sum of exp(x - max)
          const T* p0 = px + base;
          std::fill(idx.begin(), idx.end(), 0);
          for (size_t n = 0; n < nred; ++n) {
            int64_t off = 0;
            for (size_t d = 0; d < rd.size(); ++d) off += idx[d] * rs[d];
            acc.add(p0[off]);
            for (size_t d = rd.size(); d-- > 0;) {
              if (++idx[d] < rd[d]) break;
              idx[d] = 0;
            }
          }
          const double m = static_cast<double>(acc.v);
          if (std::isfinite(m)) {
            std::fill(idx.begin(), idx.end(), 0);
            for (size_t n = 0; n < nred; ++n) {
              int64_t off = 0;
              for (size_t d = 0; d < rd.size(); ++d) off += idx[d] * rs[d];
              lse += std::exp(static_cast<double>(p0[off]) - m);
              for (size_t d = rd.size(); d-- > 0;) {
                if (++idx[d] < rd[d]) break;
                idx[d] = 0;
              }
            }
          }
        } else if (rd.empty()) {  // only size-1 dims reduced
          acc.add(px[base]);
        } else if (rd.size() == 1 && rs[0] == 1) {  // contiguous
          const T* p0 = px + base;
          for (size_t n = 0; n < nred; ++n) acc.add(p0[n]);
        } else {
          const T* p0 = px + base;
          std::fill(idx.begin(), idx.end(), 0);
          const size_t inner = static_cast<size_t>(rd.back());
          const int64_t is = rs.back();
          for (size_t n = 0; n < nred; n += inner) {
            int64_t off = 0;
            for (size_t d = 0; d + 1 < rd.size(); ++d) off += idx[d] * rs[d];
            for (size_t j = 0; j < inner; ++j) acc.add(p0[off + static_cast<int64_t>(j) * is]);
            for (size_t d = rd.size() - 1; d-- > 0;) {
              if (++idx[d] < rd[d]) break;
              idx[d] = 0;
            }
          }
        }
      }
      double r;
      const double v = static_cast<double>(acc.v);
      if constexpr (R == Red::kMean) {
        r = v / static_cast<double>(nred);
      } else if constexpr (R == Red::kL2) {
        r = std::sqrt(v);
      } else if constexpr (R == Red::kLogSum) {
        r = std::log(v);
      } else if constexpr (R == Red::kLogSumExp) {
        r = std::isfinite(v) ? v + std::log(lse) : (v > 0 ? v : (acc.nan ? v : -std::numeric_limits<double>::infinity()));
      } else {
        if constexpr (std::is_floating_point_v<T>) {
          py[o] = acc.nan ? std::numeric_limits<T>::quiet_NaN() : static_cast<T>(acc.v);
        } else {
          py[o] = static_cast<T>(acc.v);
        }
        continue;
      }
      if constexpr (std::is_floating_point_v<T>) {
        if (acc.nan) r = std::numeric_limits<double>::quiet_NaN();
      }
      py[o] = from_double<T>(r);
    }
  });
}

template <Red R>
void reduce(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  c.expect_dtype(y, x.dtype, "output");
  bool noop = false;
  const std::vector<bool> red = reduced_axes(c, x.rank(), &noop);
  const bool keep = c.attr_int("keepdims", 1) != 0;
  std::vector<int64_t> shape;
  for (size_t i = 0; i < x.rank(); ++i) {
    if (!red[i]) {
      shape.push_back(x.shape[i]);
    } else if (keep) {
      shape.push_back(1);
    }
  }
  c.expect_out_shape(0, shape);
  if (noop) {  // noop_with_empty_axes and no axes: the output is the input (ONNX: "equivalent to the input")
    c.check(x.dtype == DType::kFloat32 || x.dtype == DType::kInt32 || x.dtype == DType::kInt64,
            std::string("inputs of type ") + dtype_name(x.dtype) + " are not supported");
    if (y.data != x.data && x.count() > 0) std::memmove(y.data, x.data, x.count() * dtype_size(x.dtype));
    return;
  }
  switch (x.dtype) {
    case DType::kFloat32: reduce_typed<float, R>(x, red, y); break;
    case DType::kInt32: reduce_typed<int32_t, R>(x, red, y); break;
    case DType::kInt64: reduce_typed<int64_t, R>(x, red, y); break;
    default: c.check(false, std::string("inputs of type ") + dtype_name(x.dtype) + " are not supported");
  }
}

// --- ArgMax / ArgMin -------------------------------------------------------

template <typename T>
bool nan_of(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return v != v;
  } else {
    (void)v;
    return false;
  }
}

template <bool Max>
void arg(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  c.expect_dtype(y, DType::kInt64, "output");
  c.check(x.rank() >= 1, "input must have rank >= 1");
  const int64_t axis = normalize_axis(c.attr_int("axis", 0), static_cast<int64_t>(x.rank()), c.op);
  const bool keep = c.attr_int("keepdims", 1) != 0;
  const bool last = c.attr_int("select_last_index", 0) != 0;
  std::vector<int64_t> shape;
  for (size_t i = 0; i < x.rank(); ++i) {
    if (static_cast<int64_t>(i) != axis) {
      shape.push_back(x.shape[i]);
    } else if (keep) {
      shape.push_back(1);
    }
  }
  c.expect_out_shape(0, shape);
  const int64_t n = x.shape[axis];
  c.check(n > 0 || y.count() == 0, "cannot take the arg of an empty axis");
  size_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= static_cast<size_t>(x.shape[i]);
  for (size_t i = static_cast<size_t>(axis) + 1; i < x.rank(); ++i) inner *= static_cast<size_t>(x.shape[i]);
  int64_t* py = y.as<int64_t>();
  dispatch_numeric(c, x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.as<T>();
    parallel_for(outer * inner, parallel_grain(static_cast<size_t>(n) + 1), [&](size_t b, size_t e) {
      for (size_t o = b; o < e; ++o) {
        const size_t oi = o / inner, ii = o % inner;
        const T* p = px + oi * static_cast<size_t>(n) * inner + ii;
        int64_t best = 0;
        T bv = p[0];
        for (int64_t k = 1; k < n; ++k) {
          const T v = p[static_cast<size_t>(k) * inner];
          if (nan_of(bv)) break;  // the first NaN wins, as numpy's
          const bool better = nan_of(v) || (Max ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv));
          if (better) {
            best = k;
            bv = v;
          }
        }
        py[o] = best;
      }
    });
  });
}

// --- TopK ------------------------------------------------------------------

/// NaN ranks above every number (numpy's sort order).
template <typename T>
bool num_less(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (b != b) return a == a;
    if (a != a) return false;
  }
  return a < b;
}

void topk(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const std::vector<int64_t> kv = c.int_values(c.in(1), "K");
  c.check(kv.size() == 1, "K must hold one value");
  const TensorRef& vals = c.out(0);
  const TensorRef& inds = c.out(1);
  c.check(x.rank() >= 1, "input must have rank >= 1");
  const int64_t axis = normalize_axis(c.attr_int("axis", -1), static_cast<int64_t>(x.rank()), c.op);
  const int64_t n = x.shape[axis], k = kv[0];
  c.check(k >= 0 && k <= n, "K = " + std::to_string(k) + " must be in [0, " + std::to_string(n) + "]");
  const bool largest = c.attr_int("largest", 1) != 0;
  std::vector<int64_t> shape = x.shape;
  shape[axis] = k;
  c.expect_dtype(vals, x.dtype, "Values");
  // int64 as ONNX has it; int32 for nn.vision.topK's Int32Array (a direct call).
  if (inds.dtype != DType::kInt32) c.expect_dtype(inds, DType::kInt64, "Indices");
  c.expect_out_shape(0, shape);
  c.expect_out_shape(1, shape);
  size_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= static_cast<size_t>(x.shape[i]);
  for (size_t i = static_cast<size_t>(axis) + 1; i < x.rank(); ++i) inner *= static_cast<size_t>(x.shape[i]);
  const bool i32 = inds.dtype == DType::kInt32;
  if (k == 0) return;
  dispatch_numeric(c, x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.as<T>();
    T* pv = vals.as<T>();
    parallel_for(outer * inner, parallel_grain(static_cast<size_t>(n) * 8 + 1), [&](size_t b, size_t e) {
      std::vector<int64_t> order(static_cast<size_t>(n));
      for (size_t o = b; o < e; ++o) {
        const size_t oi = o / inner, ii = o % inner;
        const T* p = px + oi * static_cast<size_t>(n) * inner + ii;
        std::iota(order.begin(), order.end(), 0);
        // A strict weak order: by value (NaN highest), ties by the lower index first.
        auto before = [&](int64_t i, int64_t j) {
          const T a = p[static_cast<size_t>(i) * inner], bb = p[static_cast<size_t>(j) * inner];
          if (largest ? num_less(bb, a) : num_less(a, bb)) return true;
          if (largest ? num_less(a, bb) : num_less(bb, a)) return false;
          return i < j;
        };
        std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
        const size_t ob = oi * static_cast<size_t>(k) * inner + ii;
        for (int64_t j = 0; j < k; ++j) {
          pv[ob + static_cast<size_t>(j) * inner] = p[static_cast<size_t>(order[j]) * inner];
          const size_t at = ob + static_cast<size_t>(j) * inner;
          if (i32) inds.as<int32_t>()[at] = static_cast<int32_t>(order[j]);  // n < 2^31 (a shape dim)
          else inds.as<int64_t>()[at] = order[j];
        }
      }
    });
  });
}

// CumSum: y[..., k, ...] = Σ x[..., j, ...] over j ≤ k (j < k exclusive; j ≥ k, j > k reversed),
// accumulated in the element type (integers wrap), as onnxruntime does.
void cumsum(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  c.check(x.dtype == DType::kFloat32 || x.dtype == DType::kInt32 || x.dtype == DType::kInt64, std::string("x of type ") + dtype_name(x.dtype) + " is not supported");
  c.expect_dtype(y, x.dtype, "y");
  c.expect_out_shape(0, x.shape);
  const std::vector<int64_t> av = c.int_values(c.in(1), "axis");
  c.check(av.size() == 1, "axis must hold one value");
  const int64_t axis = normalize_axis(av[0], static_cast<int64_t>(x.rank()), c.op);
  const bool exclusive = c.attr_int("exclusive", 0) != 0, reverse = c.attr_int("reverse", 0) != 0;
  size_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= static_cast<size_t>(x.shape[static_cast<size_t>(i)]);
  for (size_t i = static_cast<size_t>(axis) + 1; i < x.rank(); ++i) inner *= static_cast<size_t>(x.shape[i]);
  const size_t n = static_cast<size_t>(x.shape[static_cast<size_t>(axis)]);
  dispatch_numeric(c, x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.as<T>();
    T* py = y.as<T>();
    parallel_for(outer * inner, parallel_grain(n), [&](size_t b, size_t e) {
      for (size_t line = b; line < e; ++line) {
        const size_t base = (line / inner) * n * inner + line % inner;
        T acc{0};
        for (size_t s = 0; s < n; ++s) {
          const size_t at = base + (reverse ? n - 1 - s : s) * inner;
          const T v = px[at];  // read before the write: y may be x
          if (exclusive) {
            py[at] = acc;
            acc = wrap_add(acc, v);
          } else {
            acc = wrap_add(acc, v);
            py[at] = acc;
          }
        }
      }
    });
  });
}

}  // namespace

NEONN_KERNEL(CumSum, cumsum);
NEONN_KERNEL(ReduceSum, reduce<Red::kSum>);
NEONN_KERNEL(ReduceMean, reduce<Red::kMean>);
NEONN_KERNEL(ReduceMax, reduce<Red::kMax>);
NEONN_KERNEL(ReduceMin, reduce<Red::kMin>);
NEONN_KERNEL(ReduceProd, reduce<Red::kProd>);
NEONN_KERNEL(ReduceL1, reduce<Red::kL1>);
NEONN_KERNEL(ReduceL2, reduce<Red::kL2>);
NEONN_KERNEL(ReduceLogSum, reduce<Red::kLogSum>);
NEONN_KERNEL(ReduceLogSumExp, reduce<Red::kLogSumExp>);
NEONN_KERNEL(ReduceSumSquare, reduce<Red::kSumSquare>);
NEONN_KERNEL(ArgMax, arg<true>);
NEONN_KERNEL(ArgMin, arg<false>);
NEONN_KERNEL(TopK, topk);

}  // namespace neonn
