// Integer convolution and matmul: QLinearConv and ConvInteger (1-D, 2-D and
// 3-D, groups, depthwise), QLinearMatMul and MatMulInteger (N-D batch
// broadcasting). Inputs minus their zero points are widened to int16 (they
// fit: [-255, 255]) and multiplied into int32 accumulators, which wrap on
// overflow as ONNX's int32 arithmetic does (unsigned adds: no UB). The conv is
// an im2col over tiles of output pixels so each tile's columns stay in cache;
// tiles (and groups) are the parallel items, so results do not depend on the
// thread count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "../parallel.h"
#include "quant.h"

namespace neonn {
namespace {

constexpr int kMaxSpatial = 3;

/// A conv's geometry with the spatial dims padded to 3 (leading 1s).
struct ConvGeom {
  int64_t N = 0, C = 0, M = 0, G = 1, Cg = 0, Mg = 0;
  int64_t in[kMaxSpatial], k[kMaxSpatial], out[kMaxSpatial], stride[kMaxSpatial], dil[kMaxSpatial], pad[kMaxSpatial];
  int64_t K() const { return Cg * k[0] * k[1] * k[2]; }
  int64_t P() const { return out[0] * out[1] * out[2]; }
  int64_t Pin() const { return in[0] * in[1] * in[2]; }
  std::vector<int64_t> out_shape(size_t r) const {
    std::vector<int64_t> s = {N, M};
    for (size_t i = kMaxSpatial - r; i < kMaxSpatial; ++i) s.push_back(out[i]);
    return s;
  }
};

std::vector<int64_t> ints_or(const KernelCall& c, const char* name, size_t r, int64_t dflt) {
  if (!c.has_attr(name)) return std::vector<int64_t>(r, dflt);
  std::vector<int64_t> v = c.attr_ints(name);
  return v;
}

ConvGeom conv_geom(const KernelCall& c, const TensorRef& x, const TensorRef& w) {
  c.check(x.rank() >= 3 && x.rank() <= 5, "x must have rank 3, 4 or 5 (N, C and 1-3 spatial dims), got " + std::to_string(x.rank()));
  c.check(w.rank() == x.rank(), "w must have the rank of x");
  const size_t r = x.rank() - 2;
  ConvGeom g;
  g.N = x.shape[0];
  g.C = x.shape[1];
  g.M = w.shape[0];
  g.G = c.attr_int("group", 1);
  c.check(g.G >= 1 && g.C % g.G == 0 && g.M % g.G == 0, "group must divide the input and output channels");
  g.Cg = g.C / g.G;
  g.Mg = g.M / g.G;
  c.check(w.shape[1] == g.Cg, "w has " + std::to_string(w.shape[1]) + " input channels per group, x has " + std::to_string(g.Cg));
  std::vector<int64_t> ks = ints_or(c, "kernel_shape", r, 0);
  std::vector<int64_t> st = ints_or(c, "strides", r, 1);
  std::vector<int64_t> dl = ints_or(c, "dilations", r, 1);
  std::vector<int64_t> pd = ints_or(c, "pads", 2 * r, 0);
  c.check(ks.size() == r && st.size() == r && dl.size() == r && pd.size() == 2 * r, "kernel_shape, strides, dilations and pads must match the spatial rank");
  const std::string autopad = c.has_attr("auto_pad") ? c.attr_string("auto_pad") : "NOTSET";
  for (size_t i = 0; i < kMaxSpatial; ++i) {
    g.in[i] = g.k[i] = g.out[i] = g.stride[i] = g.dil[i] = 1;
    g.pad[i] = 0;
  }
  for (size_t i = 0; i < r; ++i) {
    const size_t j = kMaxSpatial - r + i;
    const int64_t kk = w.shape[2 + i];
    c.check(ks[i] == 0 || ks[i] == kk, "kernel_shape does not match w");
    c.check(kk >= 1 && st[i] >= 1 && dl[i] >= 1 && st[i] <= (1 << 20) && dl[i] <= (1 << 20), "kernel dims, strides and dilations must be positive");
    const int64_t in = x.shape[2 + i];
    const int64_t ext = dl[i] * (kk - 1) + 1;
    int64_t out, pb;
    if (autopad == "NOTSET") {
      c.check(pd[i] >= 0 && pd[r + i] >= 0 && pd[i] <= (1 << 20) && pd[r + i] <= (1 << 20), "pads must be non-negative");
      out = (in + pd[i] + pd[r + i] - ext) < 0 ? 0 : (in + pd[i] + pd[r + i] - ext) / st[i] + 1;
      pb = pd[i];
    } else if (autopad == "VALID") {
      out = in < ext ? 0 : (in - ext) / st[i] + 1;
      pb = 0;
    } else if (autopad == "SAME_UPPER" || autopad == "SAME_LOWER") {
      out = (in + st[i] - 1) / st[i];
      const int64_t total = std::max<int64_t>(0, (out - 1) * st[i] + ext - in);
      pb = autopad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else {
      throw_range_error(c.op + ": auto_pad \"" + autopad + "\" is not supported");
    }
    c.check(out >= 1, "the kernel is larger than the padded input");
    g.in[j] = in;
    g.k[j] = kk;
    g.out[j] = out;
    g.stride[j] = st[i];
    g.dil[j] = dl[i];
    g.pad[j] = pb;
  }
  return g;
}

/// Output pixels per tile: the tile's im2col columns (K x tile int16) stay in L2.
constexpr int64_t kTile = 256;

/// Computes every output (n, oc, pixel tile) of an integer conv and hands the
/// int32 accumulators to `emit(n, oc, p0, count, acc)`. wq is (w - w_zp) as
/// int16, M x K; bias (M values) or nullptr.
template <typename TX, typename Emit>
void conv_int(const ConvGeom& g, const TX* x, int32_t xzp, const int16_t* wq, const int32_t* bias, Emit emit) {
  const int64_t K = g.K(), P = g.P(), Pin = g.Pin();
  const int64_t tiles = (P + kTile - 1) / kTile;
  const size_t items = static_cast<size_t>(g.N * g.G * tiles);
  const size_t work = static_cast<size_t>(std::max<int64_t>(1, K * kTile * g.Mg));
  parallel_for(items, parallel_grain(work), [&](size_t b, size_t e) {
    std::vector<int16_t> col(static_cast<size_t>(K * kTile));
    std::vector<uint32_t> acc(kTile);
    std::vector<int64_t> base(3 * kTile);
    for (size_t item = b; item < e; ++item) {
      const int64_t tile = static_cast<int64_t>(item) % tiles;
      const int64_t ng = static_cast<int64_t>(item) / tiles;
      const int64_t n = ng / g.G, grp = ng % g.G;
      const int64_t p0 = tile * kTile, cnt = std::min(kTile, P - p0);
      // Each output pixel's window origin.
      for (int64_t t = 0; t < cnt; ++t) {
        int64_t p = p0 + t;
        const int64_t o2 = p % g.out[2];
        p /= g.out[2];
        const int64_t o1 = p % g.out[1];
        const int64_t o0 = p / g.out[1];
        base[3 * t] = o0 * g.stride[0] - g.pad[0];
        base[3 * t + 1] = o1 * g.stride[1] - g.pad[1];
        base[3 * t + 2] = o2 * g.stride[2] - g.pad[2];
      }
      // im2col of (x - x_zp); padding contributes 0 (x = x_zp).
      const TX* xg = x + (n * g.C + grp * g.Cg) * Pin;
      int64_t row = 0;
      for (int64_t ci = 0; ci < g.Cg; ++ci) {
        const TX* xc = xg + ci * Pin;
        for (int64_t k0 = 0; k0 < g.k[0]; ++k0) {
          for (int64_t k1 = 0; k1 < g.k[1]; ++k1) {
            for (int64_t k2 = 0; k2 < g.k[2]; ++k2, ++row) {
              int16_t* dst = col.data() + row * kTile;
              const int64_t d0 = k0 * g.dil[0], d1 = k1 * g.dil[1], d2 = k2 * g.dil[2];
              for (int64_t t = 0; t < cnt; ++t) {
                const int64_t i0 = base[3 * t] + d0, i1 = base[3 * t + 1] + d1, i2 = base[3 * t + 2] + d2;
                const bool inside = i0 >= 0 && i0 < g.in[0] && i1 >= 0 && i1 < g.in[1] && i2 >= 0 && i2 < g.in[2];
                dst[t] = inside ? static_cast<int16_t>(static_cast<int32_t>(xc[(i0 * g.in[1] + i1) * g.in[2] + i2]) - xzp) : 0;
              }
            }
          }
        }
      }
      for (int64_t m = 0; m < g.Mg; ++m) {
        const int64_t oc = grp * g.Mg + m;
        const uint32_t b0 = bias ? static_cast<uint32_t>(bias[oc]) : 0u;
        uint32_t* a = acc.data();
        for (int64_t t = 0; t < kTile; ++t) a[t] = b0;
        const int16_t* wrow = wq + oc * K;
        // A fixed trip count and int16 x int16 -> int32 products: the compiler
        // vectorizes this as widening multiply-adds (SSE2 pmullw/pmulhw, NEON
        // vmlal). Columns past `cnt` hold zeros and are not emitted.
        int64_t kk = 0;
        for (; kk + 1 < K; kk += 2) {
          const int16_t w0 = wrow[kk], w1 = wrow[kk + 1];
          const int16_t* c0 = col.data() + kk * kTile;
          const int16_t* c1 = c0 + kTile;
          for (int64_t t = 0; t < kTile; ++t) {
            a[t] += static_cast<uint32_t>(static_cast<int32_t>(w0) * static_cast<int32_t>(c0[t])) + static_cast<uint32_t>(static_cast<int32_t>(w1) * static_cast<int32_t>(c1[t]));
          }
        }
        if (kk < K) {
          const int16_t w0 = wrow[kk];
          const int16_t* c0 = col.data() + kk * kTile;
          for (int64_t t = 0; t < kTile; ++t) a[t] += static_cast<uint32_t>(static_cast<int32_t>(w0) * static_cast<int32_t>(c0[t]));
        }
        emit(n, oc, p0, cnt, reinterpret_cast<const int32_t*>(a));
      }
    }
  });
}

/// w minus its zero point (per tensor or per output channel) as int16, M x K.
std::vector<int16_t> weights_minus_zp(const KernelCall& c, const TensorRef& w, const QuantParams* wq, int64_t M) {
  const size_t n = w.count();
  const size_t K = M == 0 ? 0 : n / static_cast<size_t>(M);
  std::vector<int16_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const int32_t z = wq ? wq->zp[wq->zp.size() == 1 ? 0 : i / K] : 0;
    out[i] = static_cast<int16_t>(static_cast<int32_t>(int_at(w, i)) - z);
  }
  (void)c;
  return out;
}

/// Zero points only (ConvInteger / MatMulInteger): int8/uint8 values of dtype `qtype`, one or `n`.
std::vector<int32_t> zero_points(const KernelCall& c, const TensorRef* zp, DType qtype, size_t n, const char* what) {
  if (!zp) return {0};
  c.check(zp->dtype == qtype, std::string(what) + " must be " + dtype_name(qtype) + ", got " + dtype_name(zp->dtype));
  const size_t k = zp->count();
  c.check(k == 1 || k == n, std::string(what) + " must have 1 or " + std::to_string(n) + " elements, got " + std::to_string(k));
  std::vector<int32_t> v(k);
  for (size_t i = 0; i < k; ++i) v[i] = static_cast<int32_t>(int_at(*zp, i));
  return v;
}

template <typename F>
void with_q8_in(DType t, F f) {
  if (t == DType::kUint8) {
    f(static_cast<const uint8_t*>(nullptr));
  } else {
    f(static_cast<const int8_t*>(nullptr));
  }
}

void check_q8(const KernelCall& c, const TensorRef& t, const char* what) {
  c.check(is_q8(t.dtype), std::string(what) + " must be uint8 or int8, got " + dtype_name(t.dtype));
}

// QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B?):
// y = saturate(round((sum (x - x_zp)(w - w_zp) + B) * x_scale * w_scale / y_scale) + y_zp).
void qlinear_conv(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& w = c.in(3);
  const TensorRef& y = c.out(0);
  check_q8(c, x, "x");
  check_q8(c, w, "w");
  const QuantParams xq = scalar_params(c, c.in(1), c.opt_in(2), x.dtype, "x_scale");
  const ConvGeom g = conv_geom(c, x, w);
  const QuantParams wq = quant_params(c, c.in(4), c.opt_in(5), w.dtype, "w_scale");
  c.check(wq.scale.size() == 1 || static_cast<int64_t>(wq.scale.size()) == g.M, "w_scale must have 1 or " + std::to_string(g.M) + " (output channels) elements");
  check_q8(c, y, "output");
  const QuantParams yq = scalar_params(c, c.in(6), c.opt_in(7), y.dtype, "y_scale");
  c.expect_out_shape(0, g.out_shape(x.rank() - 2));
  std::vector<int32_t> bias;
  if (const TensorRef* b = c.opt_in(8)) {
    c.check(b->dtype == DType::kInt32 || b->dtype == DType::kInt64, std::string("B must be int32, got ") + dtype_name(b->dtype));
    c.check(b->rank() == 1 && b->shape[0] == g.M, "B must have shape [" + std::to_string(g.M) + "]");
    bias.resize(static_cast<size_t>(g.M));
    for (size_t i = 0; i < bias.size(); ++i) bias[i] = static_cast<int32_t>(int_at(*b, i));
  }
  if (g.N * g.M * g.P() == 0) return;
  std::vector<float> mult(static_cast<size_t>(g.M));
  for (size_t m = 0; m < mult.size(); ++m) mult[m] = (xq.scale[0] * wq.scale[wq.scale.size() == 1 ? 0 : m]) / yq.scale[0];
  const std::vector<int16_t> wv = weights_minus_zp(c, w, &wq, g.M);
  const int32_t yzp = yq.zp[0], lo = q_lo(y.dtype), hi = q_hi(y.dtype);
  const int64_t P = g.P(), M = g.M;
  auto run = [&](auto* py) {
    using TY = std::remove_pointer_t<decltype(py)>;
    with_q8_in(x.dtype, [&](auto xt) {
      using TX = std::remove_const_t<std::remove_pointer_t<decltype(xt)>>;
      conv_int(g, x.as<TX>(), xq.zp[0], wv.data(), bias.empty() ? nullptr : bias.data(), [&](int64_t n, int64_t oc, int64_t p0, int64_t cnt, const int32_t* acc) {
        TY* dst = py + (n * M + oc) * P + p0;
        const float s = mult[static_cast<size_t>(oc)];
        for (int64_t t = 0; t < cnt; ++t) dst[t] = static_cast<TY>(quantize_value(static_cast<float>(acc[t]) * s, yzp, lo, hi));
      });
    });
  };
  if (y.dtype == DType::kUint8) {
    run(y.as<uint8_t>());
  } else {
    run(y.as<int8_t>());
  }
}

// ConvInteger(x, w, x_zp?, w_zp?) -> int32: sum (x - x_zp)(w - w_zp).
void conv_integer(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& w = c.in(1);
  const TensorRef& y = c.out(0);
  check_q8(c, x, "x");
  check_q8(c, w, "w");
  const ConvGeom g = conv_geom(c, x, w);
  c.expect_dtype(y, DType::kInt32, "output");
  c.expect_out_shape(0, g.out_shape(x.rank() - 2));
  const std::vector<int32_t> xz = zero_points(c, c.opt_in(2), x.dtype, 1, "x_zero_point");
  QuantParams wq;
  wq.zp = zero_points(c, c.opt_in(3), w.dtype, static_cast<size_t>(g.M), "w_zero_point");
  if (g.N * g.M * g.P() == 0) return;
  const std::vector<int16_t> wv = weights_minus_zp(c, w, &wq, g.M);
  const int64_t P = g.P(), M = g.M;
  int32_t* py = y.as<int32_t>();
  with_q8_in(x.dtype, [&](auto xt) {
    using TX = std::remove_const_t<std::remove_pointer_t<decltype(xt)>>;
    conv_int(g, x.as<TX>(), xz[0], wv.data(), nullptr, [&](int64_t n, int64_t oc, int64_t p0, int64_t cnt, const int32_t* acc) {
      std::memcpy(py + (n * M + oc) * P + p0, acc, static_cast<size_t>(cnt) * sizeof(int32_t));
    });
  });
}

/// A matmul's shapes: batch dims broadcast, 1-D operands promoted as MatMul does.
struct MatGeom {
  int64_t M = 1, K = 1, N = 1;
  std::vector<int64_t> batch, a_batch_strides, b_batch_strides;  // strides in matrices
  std::vector<int64_t> out_shape;
  size_t batches = 1;
};

MatGeom mat_geom(const KernelCall& c, const TensorRef& a, const TensorRef& b) {
  c.check(a.rank() >= 1 && b.rank() >= 1, "a and b must have rank >= 1");
  std::vector<int64_t> as = a.shape, bs = b.shape;
  const bool a1 = as.size() == 1, b1 = bs.size() == 1;
  if (a1) as.insert(as.begin(), 1);
  if (b1) bs.push_back(1);
  MatGeom g;
  g.M = as[as.size() - 2];
  g.K = as.back();
  g.N = bs.back();
  c.check(bs[bs.size() - 2] == g.K, "a's last dim (" + std::to_string(g.K) + ") must equal b's second to last (" + std::to_string(bs[bs.size() - 2]) + ")");
  const std::vector<int64_t> ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  g.batch = broadcast_shapes(ab, bb, c.op);
  g.a_batch_strides = broadcast_strides(ab, g.batch);
  g.b_batch_strides = broadcast_strides(bb, g.batch);
  for (int64_t d : g.batch) g.batches *= static_cast<size_t>(d);
  g.out_shape = g.batch;
  if (!a1) g.out_shape.push_back(g.M);
  if (!b1) g.out_shape.push_back(g.N);
  return g;
}

/// Every output row (batch, m) of an integer matmul: emit(row index, m, acc[N]).
/// azp: 1 or M values; bzp: 1 or N values.
template <typename TA, typename TB, typename Emit>
void matmul_int(const MatGeom& g, const TA* a, const std::vector<int32_t>& azp, const TB* b, const std::vector<int32_t>& bzp, Emit emit) {
  const int64_t M = g.M, K = g.K, N = g.N;
  std::vector<int64_t> bcoord(g.batch.size(), 0);
  std::vector<int16_t> bq(static_cast<size_t>(K * N));
  for (size_t bi = 0; bi < g.batches; ++bi) {
    int64_t aoff = 0, boff = 0;
    {
      size_t rem = bi;
      for (size_t d = g.batch.size(); d-- > 0;) {
        const int64_t idx = static_cast<int64_t>(rem % static_cast<size_t>(g.batch[d]));
        rem /= static_cast<size_t>(g.batch[d]);
        aoff += idx * g.a_batch_strides[d];
        boff += idx * g.b_batch_strides[d];
      }
    }
    const TA* am = a + aoff * M * K;
    const TB* bm = b + boff * K * N;
    for (int64_t k = 0; k < K; ++k) {
      for (int64_t n = 0; n < N; ++n) bq[k * N + n] = static_cast<int16_t>(static_cast<int32_t>(bm[k * N + n]) - bzp[bzp.size() == 1 ? 0 : n]);
    }
    parallel_for(static_cast<size_t>(M), parallel_grain(static_cast<size_t>(K * N)), [&](size_t mb, size_t me) {
      std::vector<uint32_t> acc(static_cast<size_t>(N));
      for (size_t m = mb; m < me; ++m) {
        std::fill(acc.begin(), acc.end(), 0u);
        const int32_t z = azp[azp.size() == 1 ? 0 : m];
        for (int64_t k = 0; k < K; ++k) {
          const int32_t av = static_cast<int32_t>(am[static_cast<int64_t>(m) * K + k]) - z;
          if (av == 0) continue;
          const int16_t* br = bq.data() + k * N;
          for (int64_t n = 0; n < N; ++n) acc[n] += static_cast<uint32_t>(av * static_cast<int32_t>(br[n]));
        }
        emit(bi * static_cast<size_t>(M) + m, reinterpret_cast<const int32_t*>(acc.data()));
      }
    });
  }
}

template <typename F>
void with_two_q8(DType ta, DType tb, F f) {
  with_q8_in(ta, [&](auto pa) { with_q8_in(tb, [&](auto pb) { f(pa, pb); }); });
}

// QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp): a per
// tensor, b per tensor or per column, y per tensor.
void qlinear_matmul(const KernelCall& c) {
  const TensorRef& a = c.in(0);
  const TensorRef& b = c.in(3);
  const TensorRef& y = c.out(0);
  check_q8(c, a, "a");
  check_q8(c, b, "b");
  check_q8(c, y, "output");
  const MatGeom g = mat_geom(c, a, b);
  c.expect_out_shape(0, g.out_shape);
  const QuantParams aq = scalar_params(c, c.in(1), c.opt_in(2), a.dtype, "a_scale");
  const QuantParams bq = quant_params(c, c.in(4), c.opt_in(5), b.dtype, "b_scale");
  c.check(bq.scale.size() == 1 || static_cast<int64_t>(bq.scale.size()) == g.N, "b_scale must have 1 or " + std::to_string(g.N) + " (columns) elements");
  const QuantParams yq = scalar_params(c, c.in(6), c.opt_in(7), y.dtype, "y_scale");
  if (y.count() == 0) return;
  const int64_t N = g.N;
  std::vector<float> mult(static_cast<size_t>(N));
  for (size_t n = 0; n < mult.size(); ++n) mult[n] = (aq.scale[0] * bq.scale[bq.scale.size() == 1 ? 0 : n]) / yq.scale[0];
  const int32_t yzp = yq.zp[0], lo = q_lo(y.dtype), hi = q_hi(y.dtype);
  auto run = [&](auto* py) {
    using TY = std::remove_pointer_t<decltype(py)>;
    with_two_q8(a.dtype, b.dtype, [&](auto pa, auto pb) {
      using TA = std::remove_const_t<std::remove_pointer_t<decltype(pa)>>;
      using TB = std::remove_const_t<std::remove_pointer_t<decltype(pb)>>;
      matmul_int(g, a.as<TA>(), aq.zp, b.as<TB>(), bq.zp, [&](size_t row, const int32_t* acc) {
        TY* dst = py + row * static_cast<size_t>(N);
        for (int64_t n = 0; n < N; ++n) dst[n] = static_cast<TY>(quantize_value(static_cast<float>(acc[n]) * mult[static_cast<size_t>(n)], yzp, lo, hi));
      });
    });
  };
  if (y.dtype == DType::kUint8) {
    run(y.as<uint8_t>());
  } else {
    run(y.as<int8_t>());
  }
}

// MatMulInteger(A, B, a_zp?, b_zp?) -> int32; a_zp per tensor or per row (M), b_zp per tensor or per column (N).
void matmul_integer(const KernelCall& c) {
  const TensorRef& a = c.in(0);
  const TensorRef& b = c.in(1);
  const TensorRef& y = c.out(0);
  check_q8(c, a, "A");
  check_q8(c, b, "B");
  c.expect_dtype(y, DType::kInt32, "output");
  const MatGeom g = mat_geom(c, a, b);
  c.expect_out_shape(0, g.out_shape);
  const std::vector<int32_t> az = zero_points(c, c.opt_in(2), a.dtype, static_cast<size_t>(g.M), "a_zero_point");
  const std::vector<int32_t> bz = zero_points(c, c.opt_in(3), b.dtype, static_cast<size_t>(g.N), "b_zero_point");
  if (y.count() == 0) return;
  int32_t* py = y.as<int32_t>();
  const size_t N = static_cast<size_t>(g.N);
  with_two_q8(a.dtype, b.dtype, [&](auto pa, auto pb) {
    using TA = std::remove_const_t<std::remove_pointer_t<decltype(pa)>>;
    using TB = std::remove_const_t<std::remove_pointer_t<decltype(pb)>>;
    matmul_int(g, a.as<TA>(), az, b.as<TB>(), bz, [&](size_t row, const int32_t* acc) { std::memcpy(py + row * N, acc, N * sizeof(int32_t)); });
  });
}

}  // namespace

QConv2dGeometry qconv2d_geometry(const KernelCall& c, const TensorRef& x, const TensorRef& w) {
  c.check(x.rank() == 4, "x must have rank 4");
  const ConvGeom g = conv_geom(c, x, w);
  QConv2dGeometry q;
  q.group = g.G;
  q.k_h = g.k[kMaxSpatial - 2], q.k_w = g.k[kMaxSpatial - 1];
  q.stride_h = g.stride[kMaxSpatial - 2], q.stride_w = g.stride[kMaxSpatial - 1];
  q.dilation_h = g.dil[kMaxSpatial - 2], q.dilation_w = g.dil[kMaxSpatial - 1];
  q.pad_top = g.pad[kMaxSpatial - 2], q.pad_left = g.pad[kMaxSpatial - 1];
  q.out_h = g.out[kMaxSpatial - 2], q.out_w = g.out[kMaxSpatial - 1];
  // The window of the last output pixel may reach past the input (padding, or rows ONNX's floor leaves out).
  q.pad_bottom = std::max<int64_t>(0, (q.out_h - 1) * q.stride_h + q.dilation_h * (q.k_h - 1) + 1 - g.in[kMaxSpatial - 2] - q.pad_top);
  q.pad_right = std::max<int64_t>(0, (q.out_w - 1) * q.stride_w + q.dilation_w * (q.k_w - 1) + 1 - g.in[kMaxSpatial - 1] - q.pad_left);
  return q;
}

NEONN_KERNEL(QLinearConv, qlinear_conv);
NEONN_KERNEL(ConvInteger, conv_integer);
NEONN_KERNEL(QLinearMatMul, qlinear_matmul);
NEONN_KERNEL(MatMulInteger, matmul_integer);

}  // namespace neonn
