// Quantized (int8/uint8) reference kernels with ONNX's arithmetic: int32
// accumulation, round half to even, saturation to the output type's range.
// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear; the integer
// convolution and matmul (QLinearConv, ConvInteger, QLinearMatMul,
// MatMulInteger) live in quant_gemm.cc; onnxruntime's com.microsoft contrib
// ops (QLinearAdd, ...) in quant_contrib.cc.
#include "quant.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "../parallel.h"

namespace neonn {

bool is_q8(DType t) { return t == DType::kUint8 || t == DType::kInt8; }

int32_t q_lo(DType t) {
  switch (t) {
    case DType::kUint8: return 0;
    case DType::kInt8: return -128;
    default: return std::numeric_limits<int32_t>::min();
  }
}

int32_t q_hi(DType t) {
  switch (t) {
    case DType::kUint8: return 255;
    case DType::kInt8: return 127;
    default: return std::numeric_limits<int32_t>::max();
  }
}

int64_t int_at(const TensorRef& t, size_t i) {
  switch (t.dtype) {
    case DType::kUint8: return t.as<uint8_t>()[i];
    case DType::kInt8: return t.as<int8_t>()[i];
    case DType::kInt32: return t.as<int32_t>()[i];
    case DType::kInt64: return t.as<int64_t>()[i];
    default: return 0;
  }
}

float scale_value(const KernelCall& c, const TensorRef& s, size_t i, const char* what) {
  const float v = s.as<float>()[i];
  c.check(std::isfinite(v) && v > 0, std::string(what) + " must be positive and finite, got " + std::to_string(v));
  return v;
}

QuantParams quant_params(const KernelCall& c, const TensorRef& scale, const TensorRef* zp, DType qtype, const char* what) {
  c.expect_dtype(scale, DType::kFloat32, what);
  QuantParams q;
  const size_t n = scale.count();
  c.check(n >= 1, std::string(what) + " is empty");
  q.scale.resize(n);
  q.zp.assign(n, 0);
  for (size_t i = 0; i < n; ++i) q.scale[i] = scale_value(c, scale, i, what);
  if (zp) {
    c.check(zp->dtype == qtype, std::string(what) + ": zero point must be " + dtype_name(qtype) + ", got " + dtype_name(zp->dtype));
    c.check(zp->count() == n, std::string(what) + ": zero point has " + std::to_string(zp->count()) + " elements, scale has " + std::to_string(n));
    for (size_t i = 0; i < n; ++i) {
      const int64_t v = int_at(*zp, i);
      c.check(v >= q_lo(qtype) && v <= q_hi(qtype), std::string(what) + ": zero point out of range");
      q.zp[i] = static_cast<int32_t>(v);
    }
  }
  return q;
}

QuantParams scalar_params(const KernelCall& c, const TensorRef& scale, const TensorRef* zp, DType qtype, const char* what) {
  QuantParams q = quant_params(c, scale, zp, qtype, what);
  c.check(q.scale.size() == 1, std::string(what) + " must be a scalar (per-tensor), got " + std::to_string(q.scale.size()) + " elements");
  return q;
}

namespace {

/// Splits x's shape around `axis` for per-axis parameters: element i's
/// channel is (i / inner) % axis_len. Per-tensor parameters: one channel.
struct AxisSplit {
  size_t axis_len = 1, inner = 1;
};

AxisSplit axis_split(const KernelCall& c, const TensorRef& x, const QuantParams& q) {
  AxisSplit s;
  if (q.scale.size() == 1) return s;
  const int64_t rank = static_cast<int64_t>(x.rank());
  c.check(rank >= 1, "per-axis scale needs an input of rank >= 1");
  const int64_t axis = normalize_axis(c.attr_int("axis", 1), rank, c.op);
  c.check(static_cast<int64_t>(q.scale.size()) == x.shape[axis], "per-axis scale has " + std::to_string(q.scale.size()) + " elements, input dim " + std::to_string(axis) + " is " + std::to_string(x.shape[axis]));
  s.axis_len = q.scale.size();
  for (int64_t d = axis + 1; d < rank; ++d) s.inner *= static_cast<size_t>(x.shape[d]);
  return s;
}

void check_block_size(const KernelCall& c) {
  c.check(c.attr_int("block_size", 0) == 0, "blocked quantization (block_size) is not supported");
}

/// quantize_value over one tensor's values with one scale and zero point, in float: r = round(x / scale) clamped
/// to [lo - zp, hi - zp] is an exact small integer, so r + zp is quantize_value's result. No channel index and
/// restrict pointers: it vectorizes (the division stays a division, as ONNX's x / y_scale).
template <typename TX, typename TY>
NEONN_CLONES void quantize_per_tensor(const TX* __restrict x, TY* __restrict y, size_t n, float scale, int32_t zp, int32_t lo, int32_t hi) {
  const float rlo = static_cast<float>(lo - zp), rhi = static_cast<float>(hi - zp);
  for (size_t i = 0; i < n; ++i) {
    float r = std::nearbyint(static_cast<float>(x[i]) / scale);
    r = r != r ? 0.0f : r;
    r = r < rlo ? rlo : (r > rhi ? rhi : r);
    y[i] = static_cast<TY>(static_cast<int32_t>(r) + zp);
  }
}

template <typename TX>
NEONN_CLONES void dequantize_per_tensor(const TX* __restrict x, float* __restrict y, size_t n, float scale, float zp) {
  for (size_t i = 0; i < n; ++i) y[i] = (static_cast<float>(x[i]) - zp) * scale;
}

template <typename TX, typename TY>
void quantize_loop(const TX* x, TY* y, size_t n, const QuantParams& q, AxisSplit s, int32_t lo, int32_t hi) {
  if (s.axis_len == 1) {
    const float scale = q.scale[0];
    const int32_t zp = q.zp[0];
    parallel_for(n, parallel_grain(8), [&](size_t b, size_t e) { quantize_per_tensor(x + b, y + b, e - b, scale, zp, lo, hi); });
    return;
  }
  parallel_for(n, parallel_grain(8), [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const size_t ch = s.axis_len == 1 ? 0 : (i / s.inner) % s.axis_len;
      y[i] = static_cast<TY>(quantize_value(static_cast<float>(x[i]) / q.scale[ch], q.zp[ch], lo, hi));
    }
  });
}

void quantize_linear(const KernelCall& c) {
  check_block_size(c);
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  c.check(x.dtype == DType::kFloat32 || x.dtype == DType::kInt32, std::string("x must be float32 or int32, got ") + dtype_name(x.dtype));
  c.check(is_q8(y.dtype), std::string("output must be uint8 or int8, got ") + dtype_name(y.dtype));
  const TensorRef* zp = c.opt_in(2);
  const QuantParams q = quant_params(c, c.in(1), zp, y.dtype, "y_scale");
  c.expect_out_shape(0, x.shape);
  const AxisSplit s = axis_split(c, x, q);
  const int32_t lo = q_lo(y.dtype), hi = q_hi(y.dtype);
  const size_t n = x.count();
  auto run = [&](auto* py) {
    if (x.dtype == DType::kFloat32) {
      quantize_loop(x.as<float>(), py, n, q, s, lo, hi);
    } else {
      quantize_loop(x.as<int32_t>(), py, n, q, s, lo, hi);
    }
  };
  if (y.dtype == DType::kUint8) {
    run(y.as<uint8_t>());
  } else {
    run(y.as<int8_t>());
  }
}

/// quantize_per_tensor then dequantize_per_tensor in one pass: r is an exact small integer, so the pair's
/// (float(r + zp) − zp) · scale is r · scale (with +0 for -0). x and y may be one buffer (in place).
NEONN_CLONES void quantize_dequantize_per_tensor(const float* x, float* y, size_t n, float scale, float rlo, float rhi) {
  for (size_t i = 0; i < n; ++i) {
    float r = std::nearbyint(x[i] / scale);
    r = r != r ? 0.0f : r;
    r = r < rlo ? rlo : (r > rhi ? rhi : r);
    y[i] = (r + 0.0f) * scale;  // + 0: a -0 (x / scale in (-0.5, -0]) is the integer 0, dequantized to +0
  }
}

/// neonn's QuantizeDequantize (lib/ir/schema/quant.ts): a per-tensor QuantizeLinear → DequantizeLinear pair
/// the importer fused, bit for bit the pair's result.
void quantize_dequantize(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  c.check(x.dtype == DType::kFloat32 && y.dtype == DType::kFloat32, "x and y must be float32");
  c.expect_out_shape(0, x.shape);
  const int64_t to = c.attr_int("to");
  c.check(to == 2 || to == 3, "to must be 2 (uint8) or 3 (int8), got " + std::to_string(to));
  const DType q = to == 2 ? DType::kUint8 : DType::kInt8;
  const float scale = static_cast<float>(c.attr_float("scale"));
  c.check(std::isfinite(scale) && scale > 0.0f, "scale must be positive and finite");
  const int64_t zp = c.attr_int("zero_point");
  c.check(zp >= q_lo(q) && zp <= q_hi(q), "zero_point " + std::to_string(zp) + " is out of " + dtype_name(q) + "'s range");
  const float rlo = static_cast<float>(q_lo(q) - zp), rhi = static_cast<float>(q_hi(q) - zp);
  const float* px = x.as<float>();
  float* py = y.as<float>();
  parallel_for(x.count(), parallel_grain(8), [&](size_t b, size_t e) { quantize_dequantize_per_tensor(px + b, py + b, e - b, scale, rlo, rhi); });
}

template <typename TX>
void dequantize_loop(const TX* x, float* y, size_t n, const QuantParams& q, AxisSplit s) {
  if (s.axis_len == 1) {
    const float scale = q.scale[0], zp = static_cast<float>(q.zp[0]);
    parallel_for(n, parallel_grain(4), [&](size_t b, size_t e) { dequantize_per_tensor(x + b, y + b, e - b, scale, zp); });
    return;
  }
  parallel_for(n, parallel_grain(4), [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const size_t ch = s.axis_len == 1 ? 0 : (i / s.inner) % s.axis_len;
      y[i] = (static_cast<float>(x[i]) - static_cast<float>(q.zp[ch])) * q.scale[ch];
    }
  });
}

void dequantize_linear(const KernelCall& c) {
  check_block_size(c);
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  c.check(is_q8(x.dtype) || x.dtype == DType::kInt32 || x.dtype == DType::kInt64, std::string("x must be uint8, int8 or int32, got ") + dtype_name(x.dtype));
  c.expect_dtype(y, DType::kFloat32, "output");
  c.expect_out_shape(0, x.shape);
  const TensorRef* zp = c.opt_in(2);
  QuantParams q = quant_params(c, c.in(1), zp, x.dtype, "x_scale");
  if (!is_q8(x.dtype)) {
    for (int32_t z : q.zp) c.check(z == 0, "an int32 x takes a zero point of 0");
  }
  const AxisSplit s = axis_split(c, x, q);
  const size_t n = x.count();
  float* py = y.as<float>();
  switch (x.dtype) {
    case DType::kUint8: dequantize_loop(x.as<uint8_t>(), py, n, q, s); break;
    case DType::kInt8: dequantize_loop(x.as<int8_t>(), py, n, q, s); break;
    case DType::kInt32: dequantize_loop(x.as<int32_t>(), py, n, q, s); break;
    default: {
      const int64_t* px = x.as<int64_t>();
      for (size_t i = 0; i < n; ++i) {
        c.check(px[i] >= std::numeric_limits<int32_t>::min() && px[i] <= std::numeric_limits<int32_t>::max(), "x value out of int32 range");
      }
      dequantize_loop(px, py, n, q, s);
    }
  }
}

// y = saturate(round(x / scale) + zp) with scale = (max(0, max x) - min(0, min x)) / 255
// and zp = saturate(round(-min / scale)) (uint8). A tensor of zeros gets scale 1
// (onnxruntime's choice; ONNX would divide by zero).
void dynamic_quantize_linear(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  c.expect_dtype(x, DType::kFloat32, "x");
  const TensorRef& y = c.out(0);
  c.expect_dtype(y, DType::kUint8, "y");
  c.expect_out_shape(0, x.shape);
  const TensorRef& ys = c.out(1);
  const TensorRef& yz = c.out(2);
  c.expect_dtype(ys, DType::kFloat32, "y_scale");
  c.expect_dtype(yz, DType::kUint8, "y_zero_point");
  c.expect_out_shape(1, {});
  c.expect_out_shape(2, {});
  const float* px = x.as<float>();
  const size_t n = x.count();
  // The range, and whether every value is finite, in one pass (the message is made only for a bad value).
  float lo = 0, hi = 0;
  bool finite = true;
  for (size_t i = 0; i < n; ++i) {
    const float v = px[i];
    finite = finite && std::isfinite(v);
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  if (!finite) {
    size_t at = 0;
    while (at < n && std::isfinite(px[at])) ++at;
    c.check(false, "x must be finite (NaN or infinity at " + std::to_string(at) + ")");
  }
  const float scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  const float z = std::max(0.0f, std::min(255.0f, 0.0f - lo / scale));
  const int32_t zp = static_cast<int32_t>(std::nearbyint(z));
  ys.as<float>()[0] = scale;
  yz.as<uint8_t>()[0] = static_cast<uint8_t>(zp);
  QuantParams q;
  q.scale = {scale};
  q.zp = {zp};
  quantize_loop(px, y.as<uint8_t>(), n, q, AxisSplit{}, 0, 255);
}

}  // namespace

NEONN_KERNEL(QuantizeLinear, quantize_linear);
NEONN_KERNEL(DequantizeLinear, dequantize_linear);
NEONN_KERNEL(QuantizeDequantize, quantize_dequantize);
NEONN_KERNEL(DynamicQuantizeLinear, dynamic_quantize_linear);

}  // namespace neonn
