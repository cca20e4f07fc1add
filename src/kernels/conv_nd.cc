// Conv and ConvTranspose over 1-3 spatial dims, float32 NC[D][H]W, ONNX
// semantics. Both are a GEMM on the active backend's sgemm (resolved for
// Op::kGemm like the conv family's im2col path) around a column matrix:
//  - Conv: im2col of one group's input, Y_g = W_g · col.
//  - ConvTranspose: col = W_gᵀ · X_g ([Cout_g·K, P_in]), then col2im adds
//    every column into the output; for ppocr's 2x2 stride-2 layers the
//    windows do not overlap and col2im is a permutation.
// The 2-D Conv the planner sends to the hand-tuned family; this one must be
// right for every rank, not fast.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../checked.h"
#include "../parallel.h"
#include "../registry.h"
#include "kernel.h"
#include "spatial_geom.h"

namespace neonn {
namespace {

using spatial::Geom;

int gemm_dim(const KernelCall& c, int64_t v, const char* what) {
  c.check(v >= 0 && v <= 0x7fffffff, std::string(what) + " is too large for the GEMM");
  return static_cast<int>(v);
}

/// C[m,n] = op(A)·B on the active backend (beta 0).
void sgemm(const KernelCall& c, bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* out, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i) std::fill(out + i * ldc, out + i * ldc + n, 0.0f);
    return;
  }
  Registry& r = Registry::instance();
  const Backend& be = r.resolve(r.active(), Op::kGemm);
  SgemmArgs s;
  s.trans_a = trans_a;
  s.m = gemm_dim(c, m, "M");
  s.n = gemm_dim(c, n, "N");
  s.k = gemm_dim(c, k, "K");
  s.a = a;
  s.lda = gemm_dim(c, lda, "lda");
  s.b = b;
  s.ldb = gemm_dim(c, ldb, "ldb");
  s.c = out;
  s.ldc = gemm_dim(c, ldc, "ldc");
  s.alpha = 1.0f;
  s.beta = 0.0f;
  s.on_shared_pool = shares_pool_with_xnnpack(r.active());
  be.sgemm(s);
}

struct ConvShapes {
  int64_t n = 0, c_in = 0, c_out = 0, group = 1;
  std::vector<int64_t> spatial_in, kernel;
};

/// X [N, C, s...], W [.., .., k...]: rank, dtypes, kernel_shape against W.
ConvShapes conv_shapes(const KernelCall& c, bool transpose) {
  const TensorRef& x = c.in(0);
  const TensorRef& w = c.in(1);
  c.expect_dtype(x, DType::kFloat32, "X");
  c.expect_dtype(w, DType::kFloat32, "W");
  c.expect_dtype(c.out(0), DType::kFloat32, "Y");
  c.check(x.rank() >= 3 && x.rank() <= 5, "X must have 3 to 5 dims (N, C and 1-3 spatial), got " + std::to_string(x.rank()));
  c.check(w.rank() == x.rank(), "W must have the rank of X (" + std::to_string(x.rank()) + "), got " + std::to_string(w.rank()));
  ConvShapes s;
  s.n = x.shape[0];
  s.c_in = x.shape[1];
  s.group = c.attr_int("group", 1);
  c.check(s.group >= 1, "group must be positive");
  const size_t r = x.rank() - 2;
  s.spatial_in.assign(x.shape.begin() + 2, x.shape.end());
  s.kernel.assign(w.shape.begin() + 2, w.shape.end());
  if (c.has_attr("kernel_shape") && !c.attr_ints("kernel_shape").empty()) {
    c.check(c.attr_ints("kernel_shape") == s.kernel, "kernel_shape must equal W's spatial dims");
  }
  (void)r;
  c.check(s.c_in % s.group == 0, "input channels (" + std::to_string(s.c_in) + ") must be divisible by group (" + std::to_string(s.group) + ")");
  if (transpose) {
    c.check(w.shape[0] == s.c_in, "W.shape[0] (" + std::to_string(w.shape[0]) + ") must equal the input channels (" + std::to_string(s.c_in) + ")");
    s.c_out = checked_mul(w.shape[1], s.group, "ConvTranspose: output channels");
  } else {
    s.c_out = w.shape[0];
    const int64_t wc = checked_mul(w.shape[1], s.group, "Conv: W.shape[1] * group");
    c.check(wc == s.c_in, "input channels (" + std::to_string(s.c_in) + ") must equal W.shape[1] * group (" + std::to_string(wc) + ")");
    c.check(s.c_out % s.group == 0, "output channels (" + std::to_string(s.c_out) + ") must be divisible by group");
  }
  if (const TensorRef* b = c.opt_in(2)) {
    c.expect_dtype(*b, DType::kFloat32, "B");
    c.check(b->rank() == 1 && b->shape[0] == s.c_out, "B must have shape [" + std::to_string(s.c_out) + "]");
  }
  return s;
}

void add_bias(const KernelCall& c, float* y, int64_t n, int64_t c_out, int64_t plane) {
  const TensorRef* b = c.opt_in(2);
  if (!b) return;
  const float* pb = b->as<float>();
  parallel_for(static_cast<size_t>(n * c_out), parallel_grain(static_cast<size_t>(plane)), [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; ++i) {
      const float v = pb[i % static_cast<size_t>(c_out)];
      float* p = y + i * static_cast<size_t>(plane);
      for (int64_t j = 0; j < plane; ++j) p[j] += v;
    }
  });
}

void conv(const KernelCall& c) {
  const ConvShapes s = conv_shapes(c, false);
  const Geom g = spatial::forward_geom(c, s.spatial_in, s.kernel, false);
  std::vector<int64_t> out_shape{s.n, s.c_out};
  for (size_t i = 3 - g.rank; i < 3; ++i) out_shape.push_back(g.out[i]);
  c.expect_out_shape(0, out_shape);
  const int64_t cig = s.c_in / s.group, cog = s.c_out / s.group;
  const int64_t ks = g.k_size(), p_in = g.in_size(), p_out = g.out_size();
  const int64_t rows = checked_mul(cig, ks, "Conv: im2col rows");
  // im2col a band of output rows ((d, h) pairs) at a time, about
  // kColumnTileFloats: a 3-D layer's whole column matrix is hundreds of MB.
  constexpr int64_t kColumnTileFloats = int64_t{1} << 19;
  const int64_t out_rows = g.out[0] * g.out[1], row_len = g.out[2];
  const int64_t band = std::max<int64_t>(1, std::min<int64_t>(out_rows, kColumnTileFloats / std::max<int64_t>(1, checked_mul(rows, row_len, "Conv"))));
  std::vector<float> col(static_cast<size_t>(checked_mul(rows, checked_mul(band, row_len, "Conv"), "Conv: im2col buffer")));
  const float* x = c.in(0).as<float>();
  const float* w = c.in(1).as<float>();
  float* y = c.out(0).as<float>();
  for (int64_t n = 0; n < s.n; ++n) {
    for (int64_t gi = 0; gi < s.group; ++gi) {
      const float* xg = x + (n * s.c_in + gi * cig) * p_in;
      for (int64_t r0 = 0; r0 < out_rows; r0 += band) {
        const int64_t r1 = std::min(out_rows, r0 + band);
        const int64_t cols_n = (r1 - r0) * row_len;
        // col[(ci, kd, kh, kw), band of (od, oh, ow)]
        parallel_for(static_cast<size_t>(rows), parallel_grain(static_cast<size_t>(cols_n)), [&](size_t lo, size_t hi) {
          for (size_t row = lo; row < hi; ++row) {
            int64_t rem = static_cast<int64_t>(row);
            const int64_t kw = rem % g.k[2];
            rem /= g.k[2];
            const int64_t kh = rem % g.k[1];
            rem /= g.k[1];
            const int64_t kd = rem % g.k[0];
            const int64_t ci = rem / g.k[0];
            const float* xc = xg + ci * p_in;
            float* dst = col.data() + row * static_cast<size_t>(cols_n);
            for (int64_t rr = r0; rr < r1; ++rr) {
              const int64_t od = rr / g.out[1], oh = rr % g.out[1];
              const int64_t id = od * g.s[0] - g.pb[0] + kd * g.d[0];
              const int64_t ih = oh * g.s[1] - g.pb[1] + kh * g.d[1];
              if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1]) {
                std::fill(dst, dst + row_len, 0.0f);
                dst += row_len;
                continue;
              }
              const float* src = xc + (id * g.in[1] + ih) * g.in[2];
              for (int64_t ow = 0; ow < row_len; ++ow) {
                const int64_t iw = ow * g.s[2] - g.pb[2] + kw * g.d[2];
                *dst++ = iw >= 0 && iw < g.in[2] ? src[iw] : 0.0f;
              }
            }
          }
        });
        float* yb = y + (n * s.c_out + gi * cog) * p_out + r0 * row_len;
        sgemm(c, false, cog, cols_n, rows, w + gi * cog * rows, rows, col.data(), cols_n, yb, p_out);
      }
    }
  }
  add_bias(c, y, s.n, s.c_out, p_out);
}

void conv_transpose(const KernelCall& c) {
  const ConvShapes s = conv_shapes(c, true);
  const size_t r = s.spatial_in.size();
  c.check(r >= 1 && r <= 3, "spatial rank must be 1, 2 or 3");
  const std::vector<int64_t> st = spatial::ints_attr(c, "strides", r, 1, 1);
  const std::vector<int64_t> dl = spatial::ints_attr(c, "dilations", r, 1, 1);
  const std::vector<int64_t> op = spatial::ints_attr(c, "output_padding", r, 0, 0);
  std::vector<int64_t> pads = spatial::ints_attr(c, "pads", 2 * r, 0, 0);
  const std::string ap = spatial::auto_pad_of(c);
  std::vector<int64_t> oshape;
  if (c.has_attr("output_shape")) oshape = c.attr_ints("output_shape");
  if (oshape.size() == r + 2) oshape.erase(oshape.begin(), oshape.begin() + 2);
  c.check(oshape.empty() || oshape.size() == r, "output_shape must have " + std::to_string(r) + " values");
  Geom g;
  g.rank = r;
  const size_t o = 3 - r;
  for (size_t i = 0; i < r; ++i) {
    const int64_t in = s.spatial_in[i], k = s.kernel[i];
    c.check(op[i] < std::max(st[i], dl[i]), "output_padding must be smaller than the stride or the dilation");
    c.check(k >= 1 && k < spatial::kMaxDim, "kernel dims must be positive");
    // (k - 1) * dilation < 2^62 (both below 2^31); the sum is checked.
    int64_t full = checked_mul(st[i], std::max<int64_t>(in - 1, 0), "ConvTranspose");
    c.check(!__builtin_add_overflow(full, op[i] + (k - 1) * dl[i] + 1, &full), "the output size overflows");
    int64_t out = 0, pb = 0, pe = 0;
    if (!oshape.empty() || ap == "SAME_UPPER" || ap == "SAME_LOWER") {
      out = !oshape.empty() ? oshape[i] : in * st[i];
      c.check(out >= 0 && out < spatial::kMaxDim, "output_shape values must be non-negative");
      // Negative when output_shape asks for more than the full output: the
      // extra lands as zeros (ONNX's reference floors the halves).
      const int64_t total = full - out;
      const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      if (ap == "SAME_UPPER") {
        pb = half;
        pe = total - half;
      } else {
        pe = half;
        pb = total - half;
      }
    } else {
      if (ap != "VALID") {
        pb = pads[i];
        pe = pads[r + i];
      }
      out = full - pb - pe;
      c.check(out >= 0, "the pads are larger than the output");
    }
    g.in[o + i] = in;
    g.out[o + i] = out;
    g.k[o + i] = k;
    g.s[o + i] = st[i];
    g.d[o + i] = dl[i];
    g.pb[o + i] = pb;
    g.pe[o + i] = pe;
  }
  std::vector<int64_t> out_shape{s.n, s.c_out};
  for (size_t i = o; i < 3; ++i) out_shape.push_back(g.out[i]);
  c.expect_out_shape(0, out_shape);
  const int64_t cig = s.c_in / s.group, cog = s.c_out / s.group;
  const int64_t ks = g.k_size(), p_in = g.in_size(), p_out = g.out_size();
  const int64_t rows = checked_mul(cog, ks, "ConvTranspose: column rows");
  // The column matrix is made a band of input rows ((d, h) pairs) at a time,
  // about kColumnTileFloats, as the conv family's im2col: it stays in cache
  // between the GEMM and col2im, and a big layer needs megabytes of scratch,
  // not rows x pixels (50+ MB for ppocr's last upsampling at 640x640).
  constexpr int64_t kColumnTileFloats = int64_t{1} << 19;
  const int64_t in_rows = g.in[0] * g.in[1], row_len = g.in[2];
  const int64_t band = std::max<int64_t>(1, std::min<int64_t>(in_rows, kColumnTileFloats / std::max<int64_t>(1, checked_mul(rows, row_len, "ConvTranspose"))));
  std::vector<float> col(static_cast<size_t>(checked_mul(rows, checked_mul(band, row_len, "ConvTranspose"), "ConvTranspose: column buffer")));
  const float* x = c.in(0).as<float>();
  const float* w = c.in(1).as<float>();
  float* y = c.out(0).as<float>();
  // The output starts as the bias (or zero); col2im adds into it.
  const float* bias = c.opt_in(2) ? c.opt_in(2)->as<float>() : nullptr;
  parallel_for(static_cast<size_t>(s.n * s.c_out), parallel_grain(static_cast<size_t>(p_out)), [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; ++i) {
      float* p = y + i * static_cast<size_t>(p_out);
      std::fill(p, p + p_out, bias ? bias[i % static_cast<size_t>(s.c_out)] : 0.0f);
    }
  });
  for (int64_t n = 0; n < s.n; ++n) {
    for (int64_t gi = 0; gi < s.group; ++gi) {
      const float* xg = x + (n * s.c_in + gi * cig) * p_in;
      float* yg = y + (n * s.c_out + gi * cog) * p_out;
      for (int64_t r0 = 0; r0 < in_rows; r0 += band) {
        const int64_t r1 = std::min(in_rows, r0 + band);
        const int64_t cols_n = (r1 - r0) * row_len;
        // col[(co, k), band] = W_gᵀ · X_g[:, band]; W_g is [cig, cog·K] at W[gi·cig].
        sgemm(c, true, rows, cols_n, cig, w + gi * cig * rows, rows, xg + r0 * row_len, p_in, col.data(), cols_n);
        // col2im: one output channel per item, so no two threads add into one value.
        parallel_for(static_cast<size_t>(cog), parallel_grain(static_cast<size_t>(ks * cols_n)), [&](size_t lo, size_t hi) {
          for (size_t co = lo; co < hi; ++co) {
            float* yc = yg + co * static_cast<size_t>(p_out);
            for (int64_t kd = 0; kd < g.k[0]; ++kd) {
              for (int64_t kh = 0; kh < g.k[1]; ++kh) {
                for (int64_t kw = 0; kw < g.k[2]; ++kw) {
                  const float* src = col.data() + (((co * g.k[0] + kd) * g.k[1] + kh) * g.k[2] + kw) * cols_n;
                  const int64_t off = kw * g.d[2] - g.pb[2];
                  // ow = iw·s + off in [0, out): iw from lo_w to hi_w.
                  const int64_t lo_w = off >= 0 ? 0 : (-off + g.s[2] - 1) / g.s[2];
                  const int64_t hi_w = g.out[2] - off <= 0 ? 0 : std::min<int64_t>(g.in[2], (g.out[2] - off - 1) / g.s[2] + 1);
                  for (int64_t rr = r0; rr < r1; ++rr) {
                    const int64_t id = rr / g.in[1], ih = rr % g.in[1];
                    const int64_t od = id * g.s[0] - g.pb[0] + kd * g.d[0];
                    const int64_t oh = ih * g.s[1] - g.pb[1] + kh * g.d[1];
                    if (od < 0 || od >= g.out[0] || oh < 0 || oh >= g.out[1]) continue;
                    const float* s_row = src + (rr - r0) * row_len;
                    float* d_row = yc + (od * g.out[1] + oh) * g.out[2];
                    if (g.s[2] == 1) {
                      for (int64_t iw = lo_w; iw < hi_w; ++iw) d_row[iw + off] += s_row[iw];
                    } else {
                      for (int64_t iw = lo_w; iw < hi_w; ++iw) d_row[iw * g.s[2] + off] += s_row[iw];
                    }
                  }
                }
              }
            }
          }
        });
      }
    }
  }
}

}  // namespace

NEONN_KERNEL(Conv, conv);
NEONN_KERNEL(ConvTranspose, conv_transpose);

}  // namespace neonn
