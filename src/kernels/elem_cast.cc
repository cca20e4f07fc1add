// Cast and CastLike: between float32, float16 (IEEE half bits in a
// uint16, rounded to nearest even), int32, int64, int8, uint8 and bool.
// Float to integer truncates toward zero; NaN gives 0 and values out of the
// target's range go through int64 (saturated) and keep its low bits, so the
// result does not depend on the CPU. Anything to bool: x != 0.
#include <cmath>
#include <cstring>

#include "elem_common.h"

namespace neonn {
namespace {

using namespace elem;

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  uint32_t bits;
  if (e == 0) {
    if (m == 0) {
      bits = sign;
    } else {
      const float f = static_cast<float>(m) * (1.0f / 16777216.0f);  // m * 2^-24, exact
      return sign ? -f : f;
    }
  } else if (e == 31) {
    bits = sign | 0x7f800000u | (m << 13);
  } else {
    bits = sign | ((e + 112) << 23) | (m << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return static_cast<uint16_t>(sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u));  // NaN, inf
  if (ax >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 rounds to inf
  if (ax < 0x38800000u) {  // below 2^-14: a subnormal half (or zero)
    float v;
    std::memcpy(&v, &ax, 4);
    const float q = v * 16777216.0f;  // in units of 2^-24, exact
    uint32_t m = static_cast<uint32_t>(q);
    const float frac = q - static_cast<float>(m);
    if (frac > 0.5f || (frac == 0.5f && (m & 1u))) ++m;  // 1024 is the smallest normal's encoding
    return static_cast<uint16_t>(sign | m);
  }
  uint32_t h = (((ax >> 23) - 112) << 10) | ((ax & 0x7fffffu) >> 13);
  const uint32_t rest = ax & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // a carry into the exponent is right
  return static_cast<uint16_t>(sign | h);
}

enum class Kind { kFloat, kHalf, kInt, kBool };

template <typename S, Kind SK, typename D, Kind DK>
D convert(S s) {
  if constexpr (SK == Kind::kFloat || SK == Kind::kHalf) {
    const float v = SK == Kind::kHalf ? half_to_float(static_cast<uint16_t>(s)) : static_cast<float>(s);
    if constexpr (DK == Kind::kFloat) {
      return static_cast<D>(v);
    } else if constexpr (DK == Kind::kHalf) {
      return float_to_half(v);
    } else if constexpr (DK == Kind::kBool) {
      return v != 0 ? 1 : 0;
    } else {
      return trunc_to_int<D>(v);
    }
  } else {
    const int64_t v = static_cast<int64_t>(s);
    if constexpr (DK == Kind::kFloat) {
      return static_cast<D>(v);
    } else if constexpr (DK == Kind::kHalf) {
      return float_to_half(static_cast<float>(v));
    } else if constexpr (DK == Kind::kBool) {
      return v != 0 ? 1 : 0;
    } else {
      using U = std::make_unsigned_t<D>;
      return static_cast<D>(static_cast<U>(static_cast<uint64_t>(v)));
    }
  }
}

/// Calls fn(T{}, kind tag) for dtype t.
template <typename Fn>
void dispatch_cast(const KernelCall& c, DType t, Fn&& fn) {
  switch (t) {
    case DType::kFloat32: fn(float{}, std::integral_constant<Kind, Kind::kFloat>{}); return;
    case DType::kFloat16: fn(uint16_t{}, std::integral_constant<Kind, Kind::kHalf>{}); return;
    case DType::kInt32: fn(int32_t{}, std::integral_constant<Kind, Kind::kInt>{}); return;
    case DType::kInt64: fn(int64_t{}, std::integral_constant<Kind, Kind::kInt>{}); return;
    case DType::kInt8: fn(int8_t{}, std::integral_constant<Kind, Kind::kInt>{}); return;
    case DType::kUint8: fn(uint8_t{}, std::integral_constant<Kind, Kind::kInt>{}); return;
    case DType::kBool: fn(uint8_t{}, std::integral_constant<Kind, Kind::kBool>{}); return;
    default: break;
  }
  c.check(false, std::string("cannot cast ") + dtype_name(t));
}

/// Cast (`to` checked against the output) and CastLike (the output's dtype is the target's).
void cast(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  if (c.has_attr("to")) {
    const int64_t to = c.attr_int("to");
    c.check(dtype_valid(to), "\"to\" = " + std::to_string(to) + " is not a supported dtype");
    c.expect_dtype(y, static_cast<DType>(to), "output");
  } else if (c.opt_in(1) != nullptr) {
    c.expect_dtype(y, c.in(1).dtype, "output");
  }
  c.expect_out_shape(0, x.shape);
  dispatch_cast(c, x.dtype, [&](auto st, auto sk) {
    using S = decltype(st);
    dispatch_cast(c, y.dtype, [&](auto dt, auto dk) {
      using D = decltype(dt);
      const S* px = x.as<S>();
      D* py = y.as<D>();
      parallel_for(x.count(), parallel_grain(2), [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) py[i] = convert<S, decltype(sk)::value, D, decltype(dk)::value>(px[i]);
      });
    });
  });
}

}  // namespace

NEONN_KERNEL(Cast, cast);

}  // namespace neonn
