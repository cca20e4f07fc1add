// Shared machinery of the broadcasting elementwise kernels (elementwise.cc,
// elem_*.cc): a plan that collapses the broadcast output into rows whose
// inputs advance by 0 or 1 element, the loop that runs those rows in
// parallel, dtype dispatch and overflow-safe integer arithmetic.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "../parallel.h"
#include "kernel.h"

namespace neonn {
namespace elem {

/// The output's dims with size-1 dims dropped and adjacent dims merged where
/// every input steps through them alike; str[k] are input k's strides over them.
template <size_t N>
struct Plan {
  std::vector<int64_t> dims;
  std::array<std::vector<int64_t>, N> str;
};

/// `shapes[k]` must broadcast to `out` (the caller checked it with broadcast_shapes).
template <size_t N>
Plan<N> make_plan(const KernelCall& c, const std::vector<int64_t>& out, const std::array<std::vector<int64_t>, N>& shapes) {
  std::array<std::vector<int64_t>, N> full;
  for (size_t k = 0; k < N; ++k) {
    c.check(shapes[k].size() <= out.size(), "input rank exceeds the output's");
    for (size_t i = 0; i < shapes[k].size(); ++i) {
      const int64_t d = shapes[k][i], o = out[out.size() - shapes[k].size() + i];
      c.check(d == o || d == 1, "an input does not broadcast to the output shape");
    }
    full[k] = broadcast_strides(shapes[k], out);
  }
  Plan<N> p;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 1) continue;
    if (!p.dims.empty()) {
      bool merge = true;
      for (size_t k = 0; k < N; ++k) merge = merge && p.str[k].back() == full[k][i] * out[i];
      if (merge) {
        p.dims.back() *= out[i];
        for (size_t k = 0; k < N; ++k) p.str[k].back() = full[k][i];
        continue;
      }
    }
    p.dims.push_back(out[i]);
    for (size_t k = 0; k < N; ++k) p.str[k].push_back(full[k][i]);
  }
  if (p.dims.empty()) {
    p.dims.push_back(1);
    for (size_t k = 0; k < N; ++k) p.str[k].push_back(0);
  }
  return p;
}

using Offs = std::array<int64_t, 4>;

/// Calls row(out_offset, in_offsets, in_inner_strides, n) over rows covering
/// the output once; `work` is the cost of one element in cheap operations.
template <size_t N, typename Row>
void run_rows(const Plan<N>& p, size_t work, Row&& row) {
  static_assert(N <= 4, "at most 4 inputs");
  const size_t r = p.dims.size();
  const int64_t inner = p.dims[r - 1];
  size_t rows = 1;
  for (size_t i = 0; i + 1 < r; ++i) rows *= static_cast<size_t>(p.dims[i]);
  Offs is{};
  for (size_t k = 0; k < N; ++k) is[k] = p.str[k][r - 1];
  if (rows * static_cast<size_t>(inner) == 0) return;
  if (rows == 1) {  // one long row: split it
    parallel_for(static_cast<size_t>(inner), parallel_grain(work), [&](size_t b, size_t e) {
      Offs off{};
      for (size_t k = 0; k < N; ++k) off[k] = static_cast<int64_t>(b) * is[k];
      row(b, off, is, static_cast<int64_t>(e - b));
    });
    return;
  }
  parallel_for(rows, parallel_grain(work * static_cast<size_t>(inner)), [&](size_t b, size_t e) {
    for (size_t ri = b; ri < e; ++ri) {
      Offs off{};
      size_t q = ri;
      for (size_t d = r - 1; d-- > 0;) {
        const int64_t idx = static_cast<int64_t>(q % static_cast<size_t>(p.dims[d]));
        q /= static_cast<size_t>(p.dims[d]);
        for (size_t k = 0; k < N; ++k) off[k] += idx * p.str[k][d];
      }
      row(ri * static_cast<size_t>(inner), off, is, inner);
    }
  });
}

/// y = f(a, b) over broadcast a, b (shapes given separately: legacy broadcast reshapes B).
template <typename TA, typename TB, typename TO, typename F>
void binary_loop(const KernelCall& c, const TensorRef& a, const std::vector<int64_t>& sa, const TensorRef& b,
                 const std::vector<int64_t>& sb, const TensorRef& y, F f, size_t work = 1) {
  const Plan<2> p = make_plan<2>(c, y.shape, {sa, sb});
  const TA* pa = a.as<TA>();
  const TB* pb = b.as<TB>();
  TO* py = y.as<TO>();
  run_rows<2>(p, work, [&](size_t o, const Offs& off, const Offs& st, int64_t n) {
    const TA* x = pa + off[0];
    const TB* z = pb + off[1];
    TO* out = py + o;
    if (st[0] == 1 && st[1] == 1) {
      for (int64_t j = 0; j < n; ++j) out[j] = f(x[j], z[j]);
    } else if (st[0] == 1 && st[1] == 0) {
      const TB v = z[0];
      for (int64_t j = 0; j < n; ++j) out[j] = f(x[j], v);
    } else if (st[0] == 0 && st[1] == 1) {
      const TA v = x[0];
      for (int64_t j = 0; j < n; ++j) out[j] = f(v, z[j]);
    } else {
      for (int64_t j = 0; j < n; ++j) out[j] = f(x[j * st[0]], z[j * st[1]]);
    }
  });
}

/// Calls fn(T{}) with the C++ type of `t` among float32, int32, int64, int8, uint8 (and bool as uint8 when `with_bool`).
template <typename Fn>
void dispatch_numeric(const KernelCall& c, DType t, Fn&& fn, bool with_bool = false) {
  switch (t) {
    case DType::kFloat32: fn(float{}); return;
    case DType::kInt32: fn(int32_t{}); return;
    case DType::kInt64: fn(int64_t{}); return;
    case DType::kInt8: fn(int8_t{}); return;
    case DType::kUint8: fn(uint8_t{}); return;
    case DType::kBool:
      if (with_bool) {
        fn(uint8_t{});
        return;
      }
      break;
    default: break;
  }
  c.check(false, std::string("inputs of type ") + dtype_name(t) + " are not supported");
}

/// Wrapping integer arithmetic (signed overflow is undefined in C++); plain for floats.
template <typename T>
T wrap_add(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else {
    return a + b;
  }
}
template <typename T>
T wrap_sub(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
  } else {
    return a - b;
  }
}
template <typename T>
T wrap_mul(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    using W = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, U>;  // no promotion to signed int
    return static_cast<T>(static_cast<U>(static_cast<W>(static_cast<U>(a)) * static_cast<W>(static_cast<U>(b))));
  } else {
    return a * b;
  }
}

/// A double truncated toward zero into an integer type: NaN gives 0, values
/// beyond int64 saturate, then narrower types keep the low bits (as a C cast
/// through int64 does).
template <typename T>
T trunc_to_int(double v) {
  if (!(v == v)) return 0;
  int64_t w;
  if (v >= 9223372036854775807.0) {
    w = std::numeric_limits<int64_t>::max();
  } else if (v <= -9223372036854775808.0) {
    w = std::numeric_limits<int64_t>::min();
  } else {
    w = static_cast<int64_t>(v);
  }
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<uint64_t>(w)));
}

}  // namespace elem
}  // namespace neonn
