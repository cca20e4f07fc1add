// Broadcasting arithmetic, comparison and logic ops, Where, Abs/Neg/Sign, ONNX
// semantics (numpy multidirectional broadcasting; opset < 7's `broadcast` +
// `axis` form too: B's dims aligned at A's `axis`).
//
// Integers wrap on overflow (two's complement, as ONNX runtimes do); integer
// Div and Mod truncate toward zero as C does (Mod fmod=0: the result takes
// the divisor's sign, as Python's %), and an integer division by zero is a
// RangeError rather than a crash.
#include <limits>
#include <algorithm>
#include <cmath>
#include <string>

#include "data.h"
#include "elem_common.h"

namespace neonn {
namespace {

using namespace elem;
using data::half_to_float;

/// B's shape for the kernel: under opset < 7's broadcast=1 with `axis`, B's
/// dims sit at A's axis .. axis + rank(B) - 1 (ones elsewhere); otherwise B's own.
std::vector<int64_t> legacy_b_shape(const KernelCall& c, const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (!c.has_attr("broadcast") || c.attr_int("broadcast") == 0 || !c.has_attr("axis")) return b;
  const int64_t ra = static_cast<int64_t>(a.size()), rb = static_cast<int64_t>(b.size());
  int64_t axis = c.attr_int("axis");
  if (axis < 0) axis += ra;
  c.check(axis >= 0 && axis + rb <= ra, "legacy broadcast: B of rank " + std::to_string(rb) + " does not fit A of rank " +
                                            std::to_string(ra) + " at axis " + std::to_string(c.attr_int("axis")));
  std::vector<int64_t> s(a.size(), 1);
  for (int64_t i = 0; i < rb; ++i) s[axis + i] = b[i];
  return s;
}

/// Checks a binary op's inputs and output: same dtype (when `same`), the output's broadcast shape and dtype.
struct Binary {
  const TensorRef& a;
  const TensorRef& b;
  const TensorRef& y;
  std::vector<int64_t> sb;
};

Binary binary_args(const KernelCall& c, bool same_dtype, DType out_dtype) {
  const TensorRef& a = c.in(0);
  const TensorRef& b = c.in(1);
  const TensorRef& y = c.out(0);
  if (same_dtype) c.check(a.dtype == b.dtype, std::string("A and B must have one dtype, got ") + dtype_name(a.dtype) + " and " + dtype_name(b.dtype));
  c.expect_dtype(y, out_dtype == DType::kUndefined ? a.dtype : out_dtype, "output");
  std::vector<int64_t> sb = legacy_b_shape(c, a.shape, b.shape);
  c.expect_out_shape(0, broadcast_shapes(a.shape, sb, c.op));
  return Binary{a, b, y, std::move(sb)};
}

template <typename F>
void arith(const KernelCall& c, F make) {
  const Binary k = binary_args(c, true, DType::kUndefined);
  dispatch_numeric(c, k.a.dtype, [&](auto tag) {
    using T = decltype(tag);
    binary_loop<T, T, T>(c, k.a, k.a.shape, k.b, k.sb, k.y, make(T{}));
  });
}

void add(const KernelCall& c) {
  arith(c, [](auto t) { return [](decltype(t) x, decltype(t) y) { return wrap_add(x, y); }; });
}
void sub(const KernelCall& c) {
  arith(c, [](auto t) { return [](decltype(t) x, decltype(t) y) { return wrap_sub(x, y); }; });
}
void mul(const KernelCall& c) {
  arith(c, [](auto t) { return [](decltype(t) x, decltype(t) y) { return wrap_mul(x, y); }; });
}

template <typename T>
T int_div(const KernelCall& c, T x, T y) {
  if (y == 0) c.check(false, "integer division by zero");
  if constexpr (std::is_signed_v<T>) {
    if (y == -1) return wrap_sub(T{0}, x);  // INT_MIN / -1 overflows in C
  }
  return static_cast<T>(x / y);
}

void div(const KernelCall& c) {
  arith(c, [&c](auto t) {
    using T = decltype(t);
    return [&c](T x, T y) -> T {
      if constexpr (std::is_integral_v<T>) {
        return int_div(c, x, y);
      } else {
        return x / y;
      }
    };
  });
}

void mod(const KernelCall& c) {
  const bool fmod = c.attr_int("fmod", 0) != 0;
  arith(c, [&c, fmod](auto t) {
    using T = decltype(t);
    return [&c, fmod](T x, T y) -> T {
      if constexpr (std::is_integral_v<T>) {
        if (y == 0) c.check(false, "integer modulo by zero");
        if constexpr (std::is_signed_v<T>) {
          if (y == -1) return 0;
        }
        T r = static_cast<T>(x % y);
        if (!fmod && r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y);
        return r;
      } else {
        float r = std::fmod(x, y);
        if (!fmod && r != 0 && ((r < 0) != (y < 0))) r += y;
        return r;
      }
    };
  });
}

template <typename T>
T int_pow(T base, int64_t e) {
  if (e < 0) {  // 1 / base^-e truncated
    if (base == 1) return 1;
    if constexpr (std::is_signed_v<T>) {
      if (base == -1) return (e % 2 == 0) ? T{1} : T{-1};
    }
    return 0;
  }
  T r = 1, b = base;
  while (e > 0) {
    if (e & 1) r = wrap_mul(r, b);
    b = wrap_mul(b, b);
    e >>= 1;
  }
  return r;
}

void pow(const KernelCall& c) {
  const Binary k = binary_args(c, false, DType::kUndefined);
  dispatch_numeric(c, k.a.dtype, [&](auto ta) {
    using TA = decltype(ta);
    dispatch_numeric(c, k.b.dtype, [&](auto tb) {
      using TB = decltype(tb);
      binary_loop<TA, TB, TA>(c, k.a, k.a.shape, k.b, k.sb, k.y, [](TA x, TB e) -> TA {
        TA r;
        if constexpr (std::is_floating_point_v<TA>) {
          r = static_cast<TA>(std::pow(static_cast<double>(x), static_cast<double>(e)));
        } else if constexpr (std::is_integral_v<TB>) {
          r = int_pow(x, static_cast<int64_t>(e));
        } else {
          r = trunc_to_int<TA>(std::pow(static_cast<double>(x), static_cast<double>(e)));
        }
        return r;
      }, 8);
    });
  });
}

// --- variadic Sum, Mean, Min, Max ----------------------------------------

template <typename T>
T vmin(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    return (a < b || a != a) ? a : b;  // NaN propagates
  } else {
    return std::min(a, b);
  }
}
template <typename T>
T vmax(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    return (a > b || a != a) ? a : b;
  } else {
    return std::max(a, b);
  }
}

enum class Fold { kSum, kMean, kMin, kMax };

/// y = x0 broadcast, then y = combine(y, x_i) for each further input.
template <typename T, typename Combine>
void fold_inputs(const KernelCall& c, const TensorRef& y, size_t n, Combine combine) {
  const TensorRef& x0 = c.in(0);
  // y = broadcast x0 (a 1-input plan), then y = f(y, x_i): y is read at the index it is written.
  const Plan<1> p = make_plan<1>(c, y.shape, {x0.shape});
  const T* px = x0.as<T>();
  T* py = y.as<T>();
  run_rows<1>(p, 1, [&](size_t o, const Offs& off, const Offs& st, int64_t m) {
    for (int64_t j = 0; j < m; ++j) py[o + j] = px[off[0] + j * st[0]];
  });
  for (size_t i = 1; i < n; ++i) binary_loop<T, T, T>(c, y, y.shape, c.in(i), c.in(i).shape, y, combine);
}

template <Fold F>
void variadic(const KernelCall& c) {
  const size_t n = c.num_inputs();
  c.check(n >= 1, "needs at least one input");
  const TensorRef& y = c.out(0);
  std::vector<int64_t> shape = c.in(0).shape;
  for (size_t i = 1; i < n; ++i) {
    c.check(c.in(i).dtype == c.in(0).dtype, "all inputs must have one dtype");
    shape = broadcast_shapes(shape, c.in(i).shape, c.op);
  }
  c.expect_dtype(y, c.in(0).dtype, "output");
  c.expect_out_shape(0, shape);
  if (F == Fold::kMean) c.expect_dtype(y, DType::kFloat32, "output");
  if (y.dtype == DType::kFloat16) {
    // Min and Max pick one of their inputs: compared as floats, the half bits are the result.
    c.check(F == Fold::kMin || F == Fold::kMax, "float16 inputs are taken by Min and Max only");
    fold_inputs<uint16_t>(c, y, n, [](uint16_t a, uint16_t b) -> uint16_t {
      const float fa = half_to_float(a), fb = half_to_float(b);
      const bool first = F == Fold::kMin ? fa < fb : fa > fb;
      return first || fa != fa ? a : b;  // NaN propagates, as vmin/vmax
    });
    return;
  }
  dispatch_numeric(c, y.dtype, [&](auto tag) {
    using T = decltype(tag);
    fold_inputs<T>(c, y, n, [](T a, T b) -> T {
      if constexpr (F == Fold::kMin) {
        return vmin(a, b);
      } else if constexpr (F == Fold::kMax) {
        return vmax(a, b);
      } else {
        return wrap_add(a, b);
      }
    });
    if constexpr (F == Fold::kMean && std::is_floating_point_v<T>) {
      T* py = y.as<T>();
      const T inv = static_cast<T>(n);
      parallel_for(y.count(), parallel_grain(1), [&](size_t b, size_t e) {
        for (size_t j = b; j < e; ++j) py[j] /= inv;
      });
    }
  });
}

// --- comparisons and logic -------------------------------------------------

template <typename Cmp>
void compare(const KernelCall& c, Cmp cmp) {
  const Binary k = binary_args(c, true, DType::kBool);
  dispatch_numeric(c, k.a.dtype, [&](auto tag) {
    using T = decltype(tag);
    binary_loop<T, T, uint8_t>(c, k.a, k.a.shape, k.b, k.sb, k.y, [&](T x, T y) -> uint8_t { return cmp(x, y) ? 1 : 0; });
  }, true);
}

void equal(const KernelCall& c) {
  compare(c, [](auto x, auto y) { return x == y; });
}
void greater(const KernelCall& c) {
  compare(c, [](auto x, auto y) { return x > y; });
}
void less(const KernelCall& c) {
  compare(c, [](auto x, auto y) { return x < y; });
}
void greater_equal(const KernelCall& c) {
  compare(c, [](auto x, auto y) { return x >= y; });
}
void less_equal(const KernelCall& c) {
  compare(c, [](auto x, auto y) { return x <= y; });
}

template <typename F>
void logic(const KernelCall& c, F f) {
  const Binary k = binary_args(c, true, DType::kBool);
  c.expect_dtype(k.a, DType::kBool, "A");
  binary_loop<uint8_t, uint8_t, uint8_t>(c, k.a, k.a.shape, k.b, k.sb, k.y,
                                         [&](uint8_t x, uint8_t y) -> uint8_t { return f(x != 0, y != 0) ? 1 : 0; });
}

void and_(const KernelCall& c) {
  logic(c, [](bool x, bool y) { return x && y; });
}
void or_(const KernelCall& c) {
  logic(c, [](bool x, bool y) { return x || y; });
}
void xor_(const KernelCall& c) {
  logic(c, [](bool x, bool y) { return x != y; });
}

void not_(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  c.expect_dtype(x, DType::kBool, "input");
  c.expect_dtype(y, DType::kBool, "output");
  c.expect_out_shape(0, x.shape);
  const uint8_t* px = x.as<uint8_t>();
  uint8_t* py = y.as<uint8_t>();
  parallel_for(x.count(), parallel_grain(1), [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) py[i] = px[i] ? 0 : 1;
  });
}

// --- Where -------------------------------------------------------------------

template <typename T>
void where_typed(const KernelCall& c, const TensorRef& cond, const TensorRef& x, const TensorRef& yv, const TensorRef& out) {
  const Plan<3> p = make_plan<3>(c, out.shape, {cond.shape, x.shape, yv.shape});
  const uint8_t* pc = cond.as<uint8_t>();
  const T* px = x.as<T>();
  const T* py = yv.as<T>();
  T* po = out.as<T>();
  run_rows<3>(p, 1, [&](size_t o, const Offs& off, const Offs& st, int64_t n) {
    for (int64_t j = 0; j < n; ++j) {
      po[o + j] = pc[off[0] + j * st[0]] ? px[off[1] + j * st[1]] : py[off[2] + j * st[2]];
    }
  });
}

void where(const KernelCall& c) {
  const TensorRef& cond = c.in(0);
  const TensorRef& x = c.in(1);
  const TensorRef& yv = c.in(2);
  const TensorRef& out = c.out(0);
  c.expect_dtype(cond, DType::kBool, "condition");
  c.check(x.dtype == yv.dtype, std::string("X and Y must have one dtype, got ") + dtype_name(x.dtype) + " and " + dtype_name(yv.dtype));
  c.expect_dtype(out, x.dtype, "output");
  c.expect_out_shape(0, broadcast_shapes(broadcast_shapes(cond.shape, x.shape, c.op), yv.shape, c.op));
  switch (dtype_size(x.dtype)) {
    case 1: where_typed<uint8_t>(c, cond, x, yv, out); break;
    case 2: where_typed<uint16_t>(c, cond, x, yv, out); break;
    case 4: where_typed<uint32_t>(c, cond, x, yv, out); break;
    case 8: where_typed<uint64_t>(c, cond, x, yv, out); break;
    default: c.check(false, "unsupported dtype");
  }
}

// --- Abs, Neg, Sign (typed) ----------------------------------------------------------

template <typename F>
void unary_typed(const KernelCall& c, F make) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  c.expect_dtype(y, x.dtype, "output");
  c.expect_out_shape(0, x.shape);
  dispatch_numeric(c, x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto f = make(T{});
    const T* px = x.as<T>();
    T* py = y.as<T>();
    parallel_for(x.count(), parallel_grain(1), [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) py[i] = f(px[i]);
    });
  });
}

void abs_(const KernelCall& c) {
  unary_typed(c, [](auto t) {
    using T = decltype(t);
    return [](T v) -> T {
      if constexpr (std::is_floating_point_v<T>) {
        return std::fabs(v);
      } else if constexpr (std::is_signed_v<T>) {
        return v < 0 ? wrap_sub(T{0}, v) : v;
      } else {
        return v;
      }
    };
  });
}

void neg(const KernelCall& c) {
  unary_typed(c, [](auto t) {
    using T = decltype(t);
    return [](T v) -> T { return wrap_sub(T{0}, v); };
  });
}

void sign(const KernelCall& c) {
  unary_typed(c, [](auto t) {
    using T = decltype(t);
    return [](T v) -> T {
      if constexpr (std::is_floating_point_v<T>) {
        return v > 0 ? T{1} : v < 0 ? T{-1} : v;  // 0 and NaN as they are
      } else {
        return static_cast<T>((T{0} < v) - (v < T{0}));
      }
    };
  });
}

// --- Clip (every numeric dtype; bounds read when the kernel runs) ------------------

void clip(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef* lo = c.opt_in(1);
  const TensorRef* hi = c.opt_in(2);
  const TensorRef& y = c.out(0);
  c.expect_dtype(y, x.dtype, "output");
  c.expect_out_shape(0, x.shape);
  for (const TensorRef* b : {lo, hi}) {
    if (b == nullptr) continue;
    c.expect_dtype(*b, x.dtype, b == lo ? "min" : "max");
    c.check(b->count() == 1, std::string(b == lo ? "min" : "max") + " must hold one value");
  }
  dispatch_numeric(c, x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T low = lo ? lo->as<T>()[0] : std::numeric_limits<T>::lowest();
    const T high = hi ? hi->as<T>()[0] : std::numeric_limits<T>::max();
    const T* px = x.as<T>();
    T* py = y.as<T>();
    // min(max(x, low), high): all `high` when low > high, as ONNX says; NaN stays NaN.
    parallel_for(x.count(), parallel_grain(1), [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        T v = px[i];
        if (v < low) v = low;
        if (v > high) v = high;
        py[i] = v;
      }
    });
  });
}

}  // namespace

NEONN_KERNEL(Add, add);
NEONN_KERNEL(Sub, sub);
NEONN_KERNEL(Mul, mul);
NEONN_KERNEL(Div, div);
NEONN_KERNEL(Mod, mod);
NEONN_KERNEL(Pow, pow);
NEONN_KERNEL(Sum, variadic<Fold::kSum>);
NEONN_KERNEL(Mean, variadic<Fold::kMean>);
NEONN_KERNEL(Min, variadic<Fold::kMin>);
NEONN_KERNEL(Max, variadic<Fold::kMax>);
NEONN_KERNEL(Equal, equal);
NEONN_KERNEL(Greater, greater);
NEONN_KERNEL(Less, less);
NEONN_KERNEL(GreaterOrEqual, greater_equal);
NEONN_KERNEL(LessOrEqual, less_equal);
NEONN_KERNEL(And, and_);
NEONN_KERNEL(Or, or_);
NEONN_KERNEL(Xor, xor_);
NEONN_KERNEL(Not, not_);
NEONN_KERNEL(Where, where);
NEONN_KERNEL(Abs, abs_);
NEONN_KERNEL(Neg, neg);
NEONN_KERNEL(Sign, sign);
NEONN_KERNEL(Clip, clip);

}  // namespace neonn
