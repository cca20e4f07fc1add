// Cast and CastLike: between float32, float16 (IEEE half bits in a
// uint16, rounded to nearest even), int32, int64, int8, uint8 and bool.
// Float to integer truncates toward zero; NaN gives 0 and values out of the
// target's range go through int64 (saturated) and keep its low bits, so the
// result does not depend on the CPU. Anything to bool: x != 0.
//
// A cast to a type neonn holds in a wider one (lib/onnx/edge.ts: int16 and
// uint16 in int32, uint32 and uint64 in int64, double, bfloat16 and string in
// float32) writes the holder and then gives each value the target's range:
// integers keep their low 16 or 32 bits, bfloat16 keeps 8 bits of mantissa
// (rounded to nearest even, or truncated as Cast before opset 19 did in
// ONNX's own reference; attribute `bfloat16_rounding`).
#include <cmath>
#include <cstring>

#include "data.h"
#include "elem_common.h"

namespace neonn {
namespace {

using namespace elem;
using data::float_to_half;
using data::half_to_float;

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

// ONNX TensorProto.DataType codes of the types held in a wider dtype.
constexpr int64_t kToUint16 = 4, kToInt16 = 5, kToString = 8, kToDouble = 11, kToUint32 = 12, kToUint64 = 13, kToBfloat16 = 16;

/// The dtype a cast to ONNX type `to` writes (kUndefined for a type neonn cannot hold).
DType holder_of(int64_t to) {
  switch (to) {
    case kToUint16: case kToInt16: return DType::kInt32;
    case kToUint32: case kToUint64: return DType::kInt64;
    case kToString: case kToDouble: case kToBfloat16: return DType::kFloat32;
    default: return dtype_valid(to) ? static_cast<DType>(to) : DType::kUndefined;
  }
}

/// float32 rounded to bfloat16 (its upper 16 bits) and widened back.
float to_bfloat16(float v, bool truncate) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) {
    u = (u | 0x00400000u) & 0xffff0000u;  // a NaN stays a (quiet) NaN
  } else if (truncate) {
    u &= 0xffff0000u;
  } else {
    u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  }
  std::memcpy(&v, &u, 4);
  return v;
}

/// Gives the holder's values the range of ONNX type `to` (in place).
void narrow(const KernelCall& c, const TensorRef& y, int64_t to) {
  const size_t n = y.count();
  if (to == kToInt16 || to == kToUint16) {
    int32_t* p = y.as<int32_t>();
    for (size_t i = 0; i < n; ++i) p[i] = to == kToInt16 ? static_cast<int16_t>(p[i]) : static_cast<uint16_t>(p[i]);
  } else if (to == kToUint32) {
    int64_t* p = y.as<int64_t>();
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint32_t>(p[i]);
  } else if (to == kToBfloat16) {
    const std::string& mode = c.attr_string("bfloat16_rounding");
    c.check(mode == "nearest_even" || mode == "truncate", "bfloat16_rounding must be nearest_even or truncate, got " + mode);
    const bool truncate = mode == "truncate";
    float* p = y.as<float>();
    for (size_t i = 0; i < n; ++i) p[i] = to_bfloat16(p[i], truncate);
  }
}

/// Cast (`to` checked against the output) and CastLike (the output's dtype is the target's).
void cast(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  int64_t to = 0;
  if (c.has_attr("to")) {
    to = c.attr_int("to");
    const DType held = holder_of(to);
    c.check(held != DType::kUndefined, "\"to\" = " + std::to_string(to) + " is not a supported dtype");
    c.expect_dtype(y, held, "output");
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
  narrow(c, y, to);
}

}  // namespace

NEONN_KERNEL(Cast, cast);

}  // namespace neonn
