// onnxruntime's com.microsoft quantized contrib ops: QLinearAdd, QLinearMul,
// QLinearSigmoid, QLinearLeakyRelu, QLinearConcat, QLinearGlobalAveragePool,
// QLinearAveragePool. Their definition: dequantize the inputs, compute in
// float, quantize the output (round half to even, saturate). The formulas
// below fold the scales the way onnxruntime's kernels do (A_scale / C_scale
// and B_scale / C_scale for Add, A_scale * B_scale / C_scale for Mul,
// x_scale / (y_scale * count) for the pools), so results agree with
// onnxruntime's; unary ops and concat requantization go through a 256-entry
// table.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "../parallel.h"
#include "quant.h"

namespace neonn {
namespace {

void check_q8(const KernelCall& c, const TensorRef& t, const char* what) {
  c.check(is_q8(t.dtype), std::string(what) + " must be uint8 or int8, got " + dtype_name(t.dtype));
}

template <typename F>
void with_q8(DType t, F f) {
  if (t == DType::kUint8) {
    f(static_cast<uint8_t*>(nullptr));
  } else {
    f(static_cast<int8_t*>(nullptr));
  }
}

/// Runs f(a_offset, b_offset, out_offset, count, a_step, b_step) over rows of
/// the broadcast output's last dim.
template <typename F>
void broadcast_rows(const std::vector<int64_t>& as, const std::vector<int64_t>& bs, const std::vector<int64_t>& out, F f) {
  const std::vector<int64_t> sa = broadcast_strides(as, out), sb = broadcast_strides(bs, out);
  const size_t r = out.size();
  const int64_t inner = r == 0 ? 1 : out[r - 1];
  size_t rows = 1;
  for (size_t d = 0; d + 1 < r; ++d) rows *= static_cast<size_t>(out[d]);
  if (inner == 0) return;
  const int64_t la = r == 0 ? 0 : sa[r - 1], lb = r == 0 ? 0 : sb[r - 1];
  parallel_for(rows, parallel_grain(static_cast<size_t>(inner) * 4), [&](size_t b, size_t e) {
    for (size_t row = b; row < e; ++row) {
      int64_t ao = 0, bo = 0;
      size_t rem = row;
      for (size_t d = r - 1; d-- > 0;) {
        const int64_t idx = static_cast<int64_t>(rem % static_cast<size_t>(out[d]));
        rem /= static_cast<size_t>(out[d]);
        ao += idx * sa[d];
        bo += idx * sb[d];
      }
      f(ao, bo, static_cast<int64_t>(row) * inner, inner, la, lb);
    }
  });
}

// QLinearAdd / QLinearMul(A, A_scale, A_zp?, B, B_scale, B_zp?, C_scale, C_zp?).
template <bool kMul>
void qlinear_binary(const KernelCall& c) {
  const TensorRef& a = c.in(0);
  const TensorRef& b = c.in(3);
  const TensorRef& y = c.out(0);
  check_q8(c, a, "A");
  c.check(b.dtype == a.dtype, std::string("B must have A's type ") + dtype_name(a.dtype) + ", got " + dtype_name(b.dtype));
  c.check(y.dtype == a.dtype, std::string("C must have A's type ") + dtype_name(a.dtype) + ", got " + dtype_name(y.dtype));
  const QuantParams aq = scalar_params(c, c.in(1), c.opt_in(2), a.dtype, "A_scale");
  const QuantParams bq = scalar_params(c, c.in(4), c.opt_in(5), a.dtype, "B_scale");
  const QuantParams cq = scalar_params(c, c.in(6), c.opt_in(7), a.dtype, "C_scale");
  const std::vector<int64_t> out = broadcast_shapes(a.shape, b.shape, c.op);
  c.expect_out_shape(0, out);
  const int32_t azp = aq.zp[0], bzp = bq.zp[0], czp = cq.zp[0], lo = q_lo(y.dtype), hi = q_hi(y.dtype);
  const float ra = aq.scale[0] / cq.scale[0], rb = bq.scale[0] / cq.scale[0];
  const float rm = aq.scale[0] * bq.scale[0] / cq.scale[0];
  with_q8(a.dtype, [&](auto tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* pa = a.as<T>();
    const T* pb = b.as<T>();
    T* py = y.as<T>();
    broadcast_rows(a.shape, b.shape, out, [&](int64_t ao, int64_t bo, int64_t oo, int64_t n, int64_t la, int64_t lb) {
      for (int64_t i = 0; i < n; ++i) {
        const int32_t va = static_cast<int32_t>(pa[ao + i * la]) - azp, vb = static_cast<int32_t>(pb[bo + i * lb]) - bzp;
        const float v = kMul ? static_cast<float>(va * vb) * rm : static_cast<float>(va) * ra + static_cast<float>(vb) * rb;
        py[oo + i] = static_cast<T>(quantize_value(v, czp, lo, hi));
      }
    });
  });
}

/// A 256-entry table: quantize(f(dequantize(x))) for every x of type `t`.
template <typename F>
std::vector<int32_t> lookup_table(DType t, float xs, int32_t xzp, float ys, int32_t yzp, F f) {
  std::vector<int32_t> lut(256);
  const int32_t lo = q_lo(t), hi = q_hi(t);
  for (int32_t v = lo; v <= hi; ++v) {
    const float real = static_cast<float>(v - xzp) * xs;
    lut[static_cast<size_t>(v - lo)] = quantize_value(f(real) / ys, yzp, lo, hi);
  }
  return lut;
}

template <typename T>
void apply_table(const T* x, T* y, size_t n, const std::vector<int32_t>& lut, int32_t lo) {
  parallel_for(n, parallel_grain(2), [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) y[i] = static_cast<T>(lut[static_cast<size_t>(static_cast<int32_t>(x[i]) - lo)]);
  });
}

// QLinearSigmoid / QLinearLeakyRelu(X, X_scale, X_zp?, Y_scale, Y_zp?).
template <typename Make>
void qlinear_unary(const KernelCall& c, Make make) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  check_q8(c, x, "X");
  c.check(y.dtype == x.dtype, std::string("Y must have X's type ") + dtype_name(x.dtype) + ", got " + dtype_name(y.dtype));
  c.expect_out_shape(0, x.shape);
  const QuantParams xq = scalar_params(c, c.in(1), c.opt_in(2), x.dtype, "X_scale");
  const QuantParams yq = scalar_params(c, c.in(3), c.opt_in(4), x.dtype, "Y_scale");
  const std::vector<int32_t> lut = lookup_table(x.dtype, xq.scale[0], xq.zp[0], yq.scale[0], yq.zp[0], make(c));
  with_q8(x.dtype, [&](auto tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    apply_table(x.as<T>(), y.as<T>(), x.count(), lut, q_lo(x.dtype));
  });
}

float sigmoid_of(float v) { return 1.0f / (1.0f + std::exp(-v)); }

void qlinear_sigmoid(const KernelCall& c) {
  qlinear_unary(c, [](const KernelCall&) { return sigmoid_of; });
}

float leaky_of(float v, float alpha) { return v >= 0 ? v : v * alpha; }

void qlinear_leaky_relu(const KernelCall& c) {
  qlinear_unary(c, [](const KernelCall& k) {
    const float alpha = static_cast<float>(k.attr_float("alpha", 0.01));
    return [alpha](float v) { return leaky_of(v, alpha); };
  });
}

// QLinearConcat(Y_scale, Y_zp, X0, X0_scale, X0_zp, X1, ...): each input
// requantized to Y's scale and zero point (copied when they are the same).
void qlinear_concat(const KernelCall& c) {
  const TensorRef& y = c.out(0);
  check_q8(c, y, "Y");
  const QuantParams yq = scalar_params(c, c.in(0), c.opt_in(1), y.dtype, "Y_scale");
  const size_t ni = c.num_inputs();
  c.check(ni >= 5 && (ni - 2) % 3 == 0, "takes Y_scale, Y_zero_point and then (tensor, scale, zero point) triples");
  const size_t k = (ni - 2) / 3;
  const TensorRef& x0 = c.in(2);
  const int64_t rank = static_cast<int64_t>(x0.rank());
  c.check(rank >= 1, "inputs must have rank >= 1");
  const int64_t axis = normalize_axis(c.attr_int("axis"), rank, c.op);
  std::vector<int64_t> out = x0.shape;
  out[axis] = 0;
  for (size_t j = 0; j < k; ++j) {
    const TensorRef& x = c.in(2 + 3 * j);
    c.check(x.dtype == y.dtype, "input " + std::to_string(j) + " must be " + dtype_name(y.dtype) + ", got " + dtype_name(x.dtype));
    c.check(static_cast<int64_t>(x.rank()) == rank, "inputs must have the same rank");
    for (int64_t d = 0; d < rank; ++d) c.check(d == axis || x.shape[d] == x0.shape[d], "input shapes differ off the concat axis");
    out[axis] += x.shape[axis];
  }
  c.expect_out_shape(0, out);
  size_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= static_cast<size_t>(out[d]);
  for (int64_t d = axis + 1; d < rank; ++d) inner *= static_cast<size_t>(out[d]);
  const size_t out_row = static_cast<size_t>(out[axis]) * inner;
  const int32_t lo = q_lo(y.dtype);
  with_q8(y.dtype, [&](auto tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    T* py = y.as<T>();
    size_t off = 0;
    for (size_t j = 0; j < k; ++j) {
      const TensorRef& x = c.in(2 + 3 * j);
      const QuantParams xq = scalar_params(c, c.in(3 + 3 * j), c.opt_in(4 + 3 * j), y.dtype, "input scale");
      const bool same = xq.scale[0] == yq.scale[0] && xq.zp[0] == yq.zp[0];
      const std::vector<int32_t> lut = same ? std::vector<int32_t>() : lookup_table(y.dtype, xq.scale[0], xq.zp[0], yq.scale[0], yq.zp[0], [](float v) { return v; });
      const size_t row = static_cast<size_t>(x.shape[axis]) * inner;
      const T* px = x.as<T>();
      parallel_for(outer, parallel_grain(row + 1), [&](size_t b, size_t e) {
        for (size_t o = b; o < e; ++o) {
          const T* src = px + o * row;
          T* dst = py + o * out_row + off;
          if (same) {
            if (row) std::memcpy(dst, src, row * sizeof(T));
          } else {
            for (size_t i = 0; i < row; ++i) dst[i] = static_cast<T>(lut[static_cast<size_t>(static_cast<int32_t>(src[i]) - lo)]);
          }
        }
      });
      off += row;
    }
  });
}

/// Shared by the pools: the input's (N, C, spatial...) view in NCHW or NHWC.
struct PoolLayout {
  int64_t N = 0, C = 0;
  std::vector<int64_t> spatial;
  bool channels_last = false;
};

PoolLayout pool_layout(const KernelCall& c, const TensorRef& x) {
  c.check(x.rank() >= 3, "X must have rank >= 3 (N, C and spatial dims)");
  PoolLayout l;
  l.channels_last = c.attr_int("channels_last", 0) != 0;
  l.N = x.shape[0];
  l.C = l.channels_last ? x.shape.back() : x.shape[1];
  for (size_t d = 0; d + 2 < x.rank(); ++d) l.spatial.push_back(x.shape[l.channels_last ? d + 1 : d + 2]);
  return l;
}

std::vector<int64_t> pool_shape(const PoolLayout& l, const std::vector<int64_t>& spatial) {
  std::vector<int64_t> s = {l.N};
  if (!l.channels_last) s.push_back(l.C);
  s.insert(s.end(), spatial.begin(), spatial.end());
  if (l.channels_last) s.push_back(l.C);
  return s;
}

// QLinearGlobalAveragePool(X, x_scale, x_zp?, y_scale, y_zp?): y = round(sum(x - x_zp) * x_scale / (y_scale * count)) + y_zp.
void qlinear_global_average_pool(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  check_q8(c, x, "X");
  c.check(y.dtype == x.dtype, std::string("Y must have X's type ") + dtype_name(x.dtype));
  const QuantParams xq = scalar_params(c, c.in(1), c.opt_in(2), x.dtype, "x_scale");
  const QuantParams yq = scalar_params(c, c.in(3), c.opt_in(4), x.dtype, "y_scale");
  const PoolLayout l = pool_layout(c, x);
  int64_t img = 1;
  for (int64_t d : l.spatial) img *= d;
  c.expect_out_shape(0, pool_shape(l, std::vector<int64_t>(l.spatial.size(), 1)));
  c.check(img >= 1, "X has an empty spatial extent");
  const float s = xq.scale[0] / (yq.scale[0] * static_cast<float>(img));
  const int32_t xzp = xq.zp[0], yzp = yq.zp[0], lo = q_lo(y.dtype), hi = q_hi(y.dtype);
  const int64_t C = l.C;
  with_q8(x.dtype, [&](auto tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = x.as<T>();
    T* py = y.as<T>();
    parallel_for(static_cast<size_t>(l.N * C), parallel_grain(static_cast<size_t>(img)), [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        const int64_t n = static_cast<int64_t>(i) / C, ch = static_cast<int64_t>(i) % C;
        int64_t sum = 0;
        if (l.channels_last) {
          const T* base = px + n * img * C + ch;
          for (int64_t p = 0; p < img; ++p) sum += base[p * C];
        } else {
          const T* base = px + static_cast<int64_t>(i) * img;
          for (int64_t p = 0; p < img; ++p) sum += base[p];
        }
        sum -= static_cast<int64_t>(xzp) * img;
        py[i] = static_cast<T>(quantize_value(static_cast<float>(sum) * s, yzp, lo, hi));
      }
    });
  });
}

// QLinearAveragePool(X, x_scale, x_zp?, y_scale, y_zp?): AveragePool on the
// dequantized input (padding counts as 0 when count_include_pad), quantized.
void qlinear_average_pool(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  check_q8(c, x, "X");
  c.check(y.dtype == x.dtype, std::string("Y must have X's type ") + dtype_name(x.dtype));
  const QuantParams xq = scalar_params(c, c.in(1), c.opt_in(2), x.dtype, "x_scale");
  const QuantParams yq = scalar_params(c, c.in(3), c.opt_in(4), x.dtype, "y_scale");
  const PoolLayout l = pool_layout(c, x);
  const size_t r = l.spatial.size();
  c.check(r <= 3, "1-3 spatial dims are supported");
  const std::vector<int64_t> ks = c.attr_ints("kernel_shape");
  const std::vector<int64_t> st = c.has_attr("strides") ? c.attr_ints("strides") : std::vector<int64_t>(r, 1);
  const std::vector<int64_t> pd = c.has_attr("pads") ? c.attr_ints("pads") : std::vector<int64_t>(2 * r, 0);
  c.check(ks.size() == r && st.size() == r && pd.size() == 2 * r, "kernel_shape, strides and pads must match the spatial rank");
  const std::string autopad = c.has_attr("auto_pad") ? c.attr_string("auto_pad") : "NOTSET";
  const bool ceil_mode = c.attr_int("ceil_mode", 0) != 0;
  const bool include_pad = c.attr_int("count_include_pad", 0) != 0;
  // Padded to 3 dims.
  int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, pb[3] = {0, 0, 0}, pe[3] = {0, 0, 0}, out[3] = {1, 1, 1};
  std::vector<int64_t> out_sp;
  for (size_t i = 0; i < r; ++i) {
    const size_t j = 3 - r + i;
    in[j] = l.spatial[i];
    k[j] = ks[i];
    s[j] = st[i];
    c.check(k[j] >= 1 && s[j] >= 1 && k[j] <= (1 << 20) && s[j] <= (1 << 20), "kernel_shape and strides must be positive");
    int64_t o;
    if (autopad == "NOTSET") {
      c.check(pd[i] >= 0 && pd[r + i] >= 0 && pd[i] <= (1 << 20) && pd[r + i] <= (1 << 20), "pads must be non-negative");
      pb[j] = pd[i];
      pe[j] = pd[r + i];
      const int64_t span = in[j] + pb[j] + pe[j] - k[j];
      c.check(span >= 0, "the kernel is larger than the padded input");
      o = (ceil_mode ? (span + s[j] - 1) / s[j] : span / s[j]) + 1;
      if (ceil_mode && (o - 1) * s[j] >= in[j] + pb[j]) --o;
    } else if (autopad == "VALID") {
      c.check(in[j] >= k[j], "the kernel is larger than the input");
      o = (in[j] - k[j]) / s[j] + 1;
    } else if (autopad == "SAME_UPPER" || autopad == "SAME_LOWER") {
      o = (in[j] + s[j] - 1) / s[j];
      const int64_t total = std::max<int64_t>(0, (o - 1) * s[j] + k[j] - in[j]);
      pb[j] = autopad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe[j] = total - pb[j];
    } else {
      throw_range_error(c.op + ": auto_pad \"" + autopad + "\" is not supported");
    }
    out[j] = o;
    out_sp.push_back(o);
  }
  c.expect_out_shape(0, pool_shape(l, out_sp));
  const int64_t C = l.C, Pin = in[0] * in[1] * in[2], Pout = out[0] * out[1] * out[2];
  const float xs = xq.scale[0], ys = yq.scale[0];
  const int32_t xzp = xq.zp[0], yzp = yq.zp[0], lo = q_lo(y.dtype), hi = q_hi(y.dtype);
  // Element (n, ch, p) at n * C * P + ch * P + p (NCHW) or (n * P + p) * C + ch (NHWC).
  const int64_t cs_in = l.channels_last ? 1 : Pin, ps_in = l.channels_last ? C : 1;
  const int64_t cs_out = l.channels_last ? 1 : Pout, ps_out = l.channels_last ? C : 1;
  with_q8(x.dtype, [&](auto tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = x.as<T>();
    T* py = y.as<T>();
    parallel_for(static_cast<size_t>(l.N * C), parallel_grain(static_cast<size_t>(Pout * k[0] * k[1] * k[2])), [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        const int64_t n = static_cast<int64_t>(i) / C, ch = static_cast<int64_t>(i) % C;
        const T* xb = px + n * C * Pin + ch * cs_in;
        T* yb = py + n * C * Pout + ch * cs_out;
        int64_t p = 0;
        for (int64_t o0 = 0; o0 < out[0]; ++o0) {
          for (int64_t o1 = 0; o1 < out[1]; ++o1) {
            for (int64_t o2 = 0; o2 < out[2]; ++o2, ++p) {
              const int64_t st0 = o0 * s[0] - pb[0], st1 = o1 * s[1] - pb[1], st2 = o2 * s[2] - pb[2];
              const int64_t a0 = std::max<int64_t>(st0, 0), e0 = std::min(st0 + k[0], in[0]);
              const int64_t a1 = std::max<int64_t>(st1, 0), e1 = std::min(st1 + k[1], in[1]);
              const int64_t a2 = std::max<int64_t>(st2, 0), e2 = std::min(st2 + k[2], in[2]);
              int64_t sum = 0, cnt = 0;
              for (int64_t i0 = a0; i0 < e0; ++i0) {
                for (int64_t i1 = a1; i1 < e1; ++i1) {
                  for (int64_t i2 = a2; i2 < e2; ++i2) {
                    sum += static_cast<int32_t>(xb[((i0 * in[1] + i1) * in[2] + i2) * ps_in]) - xzp;
                    ++cnt;
                  }
                }
              }
              if (include_pad) {
                // The window clipped to the padded input.
                cnt = (std::min(st0 + k[0], in[0] + pe[0]) - st0) * (std::min(st1 + k[1], in[1] + pe[1]) - st1) * (std::min(st2 + k[2], in[2] + pe[2]) - st2);
              }
              const float avg = cnt > 0 ? static_cast<float>(sum) * xs / static_cast<float>(cnt) : 0.0f;
              yb[p * ps_out] = static_cast<T>(quantize_value(avg / ys, yzp, lo, hi));
            }
          }
        }
      }
    });
  });
}

}  // namespace

std::vector<int32_t> qlinear_unary_table(bool sigmoid, float alpha, DType t, float xs, int32_t xzp, float ys, int32_t yzp) {
  if (sigmoid) return lookup_table(t, xs, xzp, ys, yzp, sigmoid_of);
  return lookup_table(t, xs, xzp, ys, yzp, [alpha](float v) { return leaky_of(v, alpha); });
}

NEONN_KERNEL(QLinearAdd, qlinear_binary<false>);
NEONN_KERNEL(QLinearMul, qlinear_binary<true>);
NEONN_KERNEL(QLinearSigmoid, qlinear_sigmoid);
NEONN_KERNEL(QLinearLeakyRelu, qlinear_leaky_relu);
NEONN_KERNEL(QLinearConcat, qlinear_concat);
NEONN_KERNEL(QLinearGlobalAveragePool, qlinear_global_average_pool);
NEONN_KERNEL(QLinearAveragePool, qlinear_average_pool);

}  // namespace neonn
