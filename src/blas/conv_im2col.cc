#include "conv_im2col.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "../checked.h"
#include "../parallel.h"

namespace neonn {
namespace {

// Output positions o in [lo, hi) whose input index begin + o * stride lies in
// [0, in): the taps of one kernel offset that read real input, not padding.
struct Span {
  int64_t lo, hi;
};
Span valid_outputs(int64_t begin, int64_t stride, int64_t in, int64_t out) {
  const int64_t lo = begin >= 0 ? 0 : (-begin + stride - 1) / stride;
  const int64_t hi = in - 1 - begin < 0 ? 0 : (in - 1 - begin) / stride + 1;
  return Span{std::min(lo, out), std::min(hi, out)};
}

// Output rows [oh0, oh1) of the column matrix:
// col[(ci*kH + kh)*kW + kw][(oh - oh0)*OW + ow] = x[ci][ih][iw], 0 where (ih, iw) is padding.
// Each column-matrix row is independent: the rows are split among threads.
void im2col(const Conv2dCall& c, const float* x, int64_t channels, int64_t oh0, int64_t oh1,
            float* col) {
  const int64_t plane = (oh1 - oh0) * c.out_w;
  const int64_t taps = c.k_h * c.k_w;
  parallel_for(static_cast<size_t>(channels * taps), parallel_grain(static_cast<size_t>(plane)),
               [&](size_t r0, size_t r1) {
    for (int64_t r = static_cast<int64_t>(r0); r < static_cast<int64_t>(r1); ++r) {
      const int64_t ci = r / taps, kh = r % taps / c.k_w, kw = r % c.k_w;
      const float* xc = x + ci * c.in_h * c.in_w;
      const int64_t h0 = kh * c.dilation_h - c.pad_top;
      const int64_t w0 = kw * c.dilation_w - c.pad_left;
      const Span cols = valid_outputs(w0, c.stride_w, c.in_w, c.out_w);
      float* row = col + r * plane;
      for (int64_t oh = oh0; oh < oh1; ++oh) {
        float* dst = row + (oh - oh0) * c.out_w;
        const int64_t ih = h0 + oh * c.stride_h;
        if (ih < 0 || ih >= c.in_h || cols.lo >= cols.hi) {
          std::fill(dst, dst + c.out_w, 0.0f);
          continue;
        }
        // Indexed from the row start: w0 may be negative (left padding).
        const float* src = xc + ih * c.in_w;
        std::fill(dst, dst + cols.lo, 0.0f);
        if (c.stride_w == 1) {
          std::memcpy(dst + cols.lo, src + w0 + cols.lo, (cols.hi - cols.lo) * sizeof(float));
        } else {
          for (int64_t ow = cols.lo; ow < cols.hi; ++ow) dst[ow] = src[w0 + ow * c.stride_w];
        }
        std::fill(dst + cols.hi, dst + c.out_w, 0.0f);
      }
    }
  });
}

// The bias and activation step of one output channel, fused into a loop's own pass.
struct Epilogue {
  bool active;  // bias or relu: otherwise values are left as they are
  bool relu;
  float bias;
  void operator()(float* v, int64_t n) const {
    if (active) bias_activation_row(v, n, bias, relu);
  }
};

// n interior columns of one depthwise 3x3 output row: the nine taps (each a
// pointer to the tap's input at the first column) summed onto 0 in (kh, kw) order. dst never overlaps the input
// (check_conv2d), and saying so (__restrict) lets the compiler vectorize
// without a run-time alias check per tap.
template <int kStride>
void depthwise_row_3x3(float* __restrict dst, const float* const* taps, const float* wk, int64_t n, int64_t stride) {
  const int64_t sw = kStride != 0 ? kStride : stride;
  const float *t0 = taps[0], *t1 = taps[1], *t2 = taps[2], *t3 = taps[3], *t4 = taps[4];
  const float *t5 = taps[5], *t6 = taps[6], *t7 = taps[7], *t8 = taps[8];
  const float w0 = wk[0], w1 = wk[1], w2 = wk[2], w3 = wk[3], w4 = wk[4], w5 = wk[5], w6 = wk[6];
  const float w7 = wk[7], w8 = wk[8];
  for (int64_t ow = 0; ow < n; ++ow) {
    const int64_t i = ow * sw;
    float acc = 0.0f;
    acc += w0 * t0[i];
    acc += w1 * t1[i];
    acc += w2 * t2[i];
    acc += w3 * t3[i];
    acc += w4 * t4[i];
    acc += w5 * t5[i];
    acc += w6 * t6[i];
    acc += w7 * t7[i];
    acc += w8 * t8[i];
    dst[ow] = acc;
  }
}

// One output plane of a depthwise conv. Every output element accumulates its
// valid taps in (kh, kw) order onto 0, then gets the epilogue (per row). Rows whose
// three kernel rows all lie inside the input run a fused 3x3 loop over the
// interior columns (all taps of a column valid): one pass, nine taps in
// registers, which the compiler vectorizes. Other rows accumulate one tap at
// a time over the row, which stays in L1; the border columns element by element.
template <int kStride>
void depthwise_plane(const Conv2dCall& c, const float* x, const float* wk, float* y, Epilogue epi,
                     const std::vector<Span>& cols, Span inner) {
  const int64_t sw = kStride != 0 ? kStride : c.stride_w;
  const int64_t dw = c.dilation_w;
  const bool k3x3 = c.k_h == 3 && c.k_w == 3;
  auto element = [&](int64_t oh, int64_t ow) {
    float acc = 0.0f;
    for (int64_t kh = 0; kh < c.k_h; ++kh) {
      const int64_t ih = oh * c.stride_h - c.pad_top + kh * c.dilation_h;
      if (ih < 0 || ih >= c.in_h) continue;
      for (int64_t kw = 0; kw < c.k_w; ++kw) {
        const int64_t iw = ow * sw - c.pad_left + kw * dw;
        if (iw < 0 || iw >= c.in_w) continue;
        acc += wk[kh * c.k_w + kw] * x[ih * c.in_w + iw];
      }
    }
    return acc;
  };
  for (int64_t oh = 0; oh < c.out_h; ++oh) {
    float* dst = y + oh * c.out_w;
    const int64_t ih0 = oh * c.stride_h - c.pad_top;
    const bool rows_inside = ih0 >= 0 && ih0 + (c.k_h - 1) * c.dilation_h < c.in_h;
    if (k3x3 && rows_inside && inner.lo < inner.hi) {
      for (int64_t ow = 0; ow < inner.lo; ++ow) dst[ow] = element(oh, ow);
      // Each tap's input for the first inner column (never left of its row: inner columns).
      const float* taps[9];
      for (int kh = 0; kh < 3; ++kh) {
        for (int kw = 0; kw < 3; ++kw) {
          taps[kh * 3 + kw] = x + (ih0 + kh * c.dilation_h) * c.in_w + inner.lo * sw - c.pad_left + kw * dw;
        }
      }
      depthwise_row_3x3<kStride>(dst + inner.lo, taps, wk, inner.hi - inner.lo, sw);
      for (int64_t ow = inner.hi; ow < c.out_w; ++ow) dst[ow] = element(oh, ow);
      epi(dst, c.out_w);
      continue;
    }
    std::fill(dst, dst + c.out_w, 0.0f);
    for (int64_t kh = 0; kh < c.k_h; ++kh) {
      const int64_t ih = ih0 + kh * c.dilation_h;
      if (ih < 0 || ih >= c.in_h) continue;
      const float* src = x + ih * c.in_w;
      for (int64_t kw = 0; kw < c.k_w; ++kw) {
        const int64_t w0 = kw * dw - c.pad_left;
        const float wv = wk[kh * c.k_w + kw];
        for (int64_t ow = cols[kw].lo; ow < cols[kw].hi; ++ow) dst[ow] += wv * src[w0 + ow * sw];
      }
    }
    epi(dst, c.out_w);
  }
}

// One input channel per group: each output channel is a 2-D correlation of
// one input plane, cheaper as a direct loop than as a 1-row GEMM. Planes are
// split among threads; bias and relu are applied in the same pass.
void depthwise(const Conv2dCall& c) {
  const int64_t cog = c.c_out_per_group();
  const int64_t plane = c.out_h * c.out_w;
  // Valid output columns of each kernel column, and of all of them at once.
  std::vector<Span> cols(static_cast<size_t>(c.k_w));
  Span inner{0, c.out_w};
  for (int64_t kw = 0; kw < c.k_w; ++kw) {
    cols[kw] = valid_outputs(kw * c.dilation_w - c.pad_left, c.stride_w, c.in_w, c.out_w);
    inner.lo = std::max(inner.lo, cols[kw].lo);
    inner.hi = std::min(inner.hi, cols[kw].hi);
  }
  const bool relu = c.activation == Activation::kRelu;
  parallel_for(static_cast<size_t>(c.n * c.c_out), parallel_grain(static_cast<size_t>(plane * c.k_h * c.k_w)),
               [&](size_t p0, size_t p1) {
    for (int64_t p = static_cast<int64_t>(p0); p < static_cast<int64_t>(p1); ++p) {
      const int64_t n = p / c.c_out, co = p % c.c_out;
      const float* x = c.x.data + (n * c.c_in + co / cog) * c.in_h * c.in_w;
      const float* wk = c.w.data + co * c.k_h * c.k_w;
      float* y = c.y.data + p * plane;
      const Epilogue epi{c.bias.data != nullptr || relu, relu, c.bias.data != nullptr ? c.bias.data[co] : 0.0f};
      if (c.stride_w == 1) depthwise_plane<1>(c, x, wk, y, epi, cols, inner);
      else if (c.stride_w == 2) depthwise_plane<2>(c, x, wk, y, epi, cols, inner);
      else depthwise_plane<0>(c, x, wk, y, epi, cols, inner);
    }
  });
}

}  // namespace

void blas_conv2d(const Backend& gemm, const Conv2dCall& c) {
  if (c.c_in_per_group() == 1 && c.group > 1) {
    depthwise(c);  // bias and relu included
    return;
  }
  const int64_t cig = c.c_in_per_group();
  const int64_t cog = c.c_out_per_group();
  const int64_t k_size = checked_mul(cig, checked_mul(c.k_h, c.k_w, "conv2d"), "conv2d: im2col rows");
  const int64_t plane = checked_mul(c.out_h, c.out_w, "conv2d: output plane");
  SgemmArgs s;
  s.m = blas_dim(cog, "conv2d: GEMM M (output channels per group)");
  s.n = blas_dim(plane, "conv2d: GEMM N (output pixels)");
  s.k = blas_dim(k_size, "conv2d: GEMM K (input channels per group * kernel area)");
  s.lda = s.k;
  s.ldb = s.n;
  s.ldc = s.n;
  s.beta = 0.0f;  // y is output only: whatever `out` held must not leak in

  const bool pointwise = c.k_h == 1 && c.k_w == 1 && c.stride_h == 1 && c.stride_w == 1 &&
                         c.pad_top == 0 && c.pad_left == 0 && c.pad_bottom == 0 && c.pad_right == 0;
  // The column matrix is built a band of output rows at a time, each band
  // about kColumnTileFloats: it stays in cache between im2col and the GEMM
  // that reads it, and the scratch is megabytes, not the 100+ MB a whole
  // VGG-sized layer would take (which matters on a 1 GB board). Per call,
  // not thread_local, so nothing stays pinned to a libuv thread afterwards.
  constexpr int64_t kColumnTileFloats = int64_t{1} << 19;  // 2 MB: an L2 on this class of CPU
  const int64_t band_rows =
      pointwise ? c.out_h
                : std::max<int64_t>(1, std::min<int64_t>(c.out_h, kColumnTileFloats / std::max<int64_t>(1, k_size * c.out_w)));
  std::unique_ptr<float[]> col;
  if (!pointwise) {
    col.reset(new float[static_cast<size_t>(
        checked_mul(k_size, checked_mul(band_rows, c.out_w, "conv2d: band"), "conv2d: im2col buffer"))]);
  }

  for (int64_t n = 0; n < c.n; ++n) {
    for (int64_t g = 0; g < c.group; ++g) {
      const float* x = c.x.data + (n * c.c_in + g * cig) * c.in_h * c.in_w;
      float* y = c.y.data + (n * c.c_out + g * cog) * plane;
      s.a = c.w.data + g * cog * k_size;
      if (pointwise) {
        s.b = x;  // [Cin/g, H*W] is already the column matrix
        s.c = y;
        gemm.sgemm(s);
        continue;
      }
      for (int64_t oh0 = 0; oh0 < c.out_h; oh0 += band_rows) {
        const int64_t oh1 = std::min(c.out_h, oh0 + band_rows);
        im2col(c, x, cig, oh0, oh1, col.get());
        // Y[:, band] = W · col_band; ldc stays the whole plane.
        s.n = static_cast<int>((oh1 - oh0) * c.out_w);
        s.ldb = s.n;
        s.b = col.get();
        s.c = y + oh0 * c.out_w;
        gemm.sgemm(s);
      }
    }
  }
  apply_bias_activation(c.y.data, c.n, c.c_out, plane, c.bias.data, c.activation);
}

void blas_fully_connected(const Backend& gemm, const FullyConnectedCall& c) {
  if (c.n == 1) {
    // Batch 1 (the case on a board): y = W·x is memory-bound on W, and a
    // GEMV reads W once where a 1-row GEMM would first pack (copy) it.
    SgemvArgs v;
    v.m = blas_dim(c.out_features, "fullyConnected: outFeatures");
    v.n = blas_dim(c.in_features, "fullyConnected: inFeatures");
    v.a = c.w.data;
    v.lda = v.n;
    v.x = c.x.data;
    v.y = c.y.data;
    v.beta = 0.0f;
    gemm.sgemv(v);
    apply_bias_activation(c.y.data, c.n, c.out_features, 1, c.bias.data, Activation::kNone);
    return;
  }
  SgemmArgs s;
  s.trans_b = true;
  s.m = blas_dim(c.n, "fullyConnected: batch size");
  s.n = blas_dim(c.out_features, "fullyConnected: outFeatures");
  s.k = blas_dim(c.in_features, "fullyConnected: inFeatures");
  s.a = c.x.data;
  s.lda = s.k;
  s.b = c.w.data;
  s.ldb = s.k;
  s.c = c.y.data;
  s.ldc = s.n;
  s.beta = 0.0f;
  gemm.sgemm(s);
  apply_bias_activation(c.y.data, c.n, c.out_features, 1, c.bias.data, Activation::kNone);
}

}  // namespace neonn
